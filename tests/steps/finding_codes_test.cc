// The finding-code catalogue against the steps' sources: every code a step assigns
// (`code = "..."`, string literals up to the `;`, ternaries included) is in FindingCodes(),
// and every catalogue entry is assigned somewhere, so the list the runbook file is checked
// against cannot drift from what the steps emit.
#include "steps/finding_codes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace dbrunbook::steps {
namespace {

namespace fs = std::filesystem;

// code -> the file that assigns it.
std::map<std::string, std::string> CodesInSources(const fs::path& dir) {
  std::map<std::string, std::string> out;
  // `code =` not followed by another `=`, up to the end of the statement.
  const std::regex assignment(R"(\bcode\s*=(?!=)([^;]*);)");
  const std::regex literal(R"re("([^"\\]*)")re");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream in(entry.path());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), assignment), end; it != end; ++it) {
      const std::string rhs = (*it)[1].str();
      for (std::sregex_iterator lit(rhs.begin(), rhs.end(), literal); lit != end; ++lit) {
        out.emplace((*lit)[1].str(), entry.path().filename().string());
      }
    }
  }
  return out;
}

TEST(FindingCodesTest, MatchesWhatTheStepsEmit) {
  const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(source, nullptr) << "run through CTest (DBRUNBOOK_SOURCE_DIR)";
  const auto emitted = CodesInSources(fs::path(source) / "src" / "steps");
  // The scan itself works: it finds codes assigned plainly and in a ternary.
  ASSERT_GT(emitted.size(), 20U);
  EXPECT_EQ(emitted.count("lock.root_blocker"), 1U);
  EXPECT_EQ(emitted.count("replication.connecting"), 1U);

  const std::vector<std::string> catalogue = FindingCodes();
  const std::set<std::string> listed(catalogue.begin(), catalogue.end());
  for (const auto& [code, file] : emitted) {
    EXPECT_EQ(listed.count(code), 1U)
        << "src/steps/" << file << " emits '" << code
        << "', which is not in steps::FindingCodes() (src/steps/finding_codes.cc): add it";
  }
  for (const auto& code : catalogue) {
    EXPECT_EQ(emitted.count(code), 1U)
        << "'" << code << "' is in steps::FindingCodes() but no step emits it: remove it";
  }
  EXPECT_EQ(listed.size(), catalogue.size()) << "a code is listed twice";
  EXPECT_TRUE(std::is_sorted(catalogue.begin(), catalogue.end()));
}

}  // namespace
}  // namespace dbrunbook::steps
