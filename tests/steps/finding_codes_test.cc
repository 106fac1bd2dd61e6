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

#include "steps/assess.h"

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
  // The assessment's codes are checked by AssessmentChecksAreFindingCodes.
  auto assess = [](const std::string& code) { return code.rfind("assess.", 0) == 0; };
  for (const auto& [code, file] : emitted) {
    EXPECT_EQ(listed.count(code), 1U)
        << "src/steps/" << file << " emits '" << code
        << "', which is not in steps::FindingCodes() (src/steps/finding_codes.cc): add it";
  }
  for (const auto& code : catalogue) {
    if (assess(code)) continue;
    EXPECT_EQ(emitted.count(code), 1U)
        << "'" << code << "' is in steps::FindingCodes() but no step emits it: remove it";
  }
  EXPECT_EQ(listed.size(), catalogue.size()) << "a code is listed twice";
  EXPECT_TRUE(std::is_sorted(catalogue.begin(), catalogue.end()));
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The watch daemon's diagnosis turns each assessment check at warn or critical into a finding
// `assess.<check id>`: every check id the assessment (src/steps/assess.cc) and its cloud
// source (src/app/cloud_checks.cc) produce is in AssessChecks(), so that a runbook `on:` can
// name it, and the catalogue lists exactly those.
TEST(FindingCodesTest, AssessmentChecksAreFindingCodes) {
  const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(source, nullptr) << "run through CTest (DBRUNBOOK_SOURCE_DIR)";
  const fs::path root(source);
  ASSERT_THAT(Slurp(root / "src" / "daemon" / "diagnose.cc"),
              ::testing::HasSubstr(R"("assess." + check.id)"))
      << "the diagnosis no longer names its assessment findings assess.<check id>: update "
         "FindingCodes() and this test";

  std::set<std::string> specs;
  for (const CheckSpec& spec : AssessChecks()) specs.emplace(spec.id);
  const std::vector<std::string> catalogue = FindingCodes();
  std::set<std::string> listed;
  for (const auto& code : catalogue) {
    if (code.rfind("assess.", 0) == 0) listed.insert(code.substr(7));
  }
  EXPECT_EQ(listed, specs) << "FindingCodes() lists assess.<id> for each of AssessChecks()";

  // Check ids as the sources create them: a first argument that is a string literal.
  const std::regex creation(
      R"re(\b(?:Measured|Unknown|Judged|Add|RateCheck|NewCheck|metric_check)\(\s*(?:b,\s*)?"([a-z0-9_]+)")re");
  std::set<std::string> created;
  for (const fs::path& file :
       {root / "src" / "steps" / "assess.cc", root / "src" / "app" / "cloud_checks.cc"}) {
    const std::string text = Slurp(file);
    for (std::sregex_iterator it(text.begin(), text.end(), creation), end; it != end; ++it) {
      const std::string id = (*it)[1].str();
      created.insert(id);
      EXPECT_EQ(specs.count(id), 1U)
          << file.filename().string() << " creates check '" << id
          << "', which is not in steps::AssessChecks(): its finding assess." << id
          << " would not be a known code";
    }
  }
  // The scan itself works (the assessment's and the cloud's checks are found).
  EXPECT_GT(created.size(), 20U);
  EXPECT_EQ(created.count("connect_latency_ms"), 1U);
  EXPECT_EQ(created.count("cloud_cpu_percent"), 1U);
}

}  // namespace
}  // namespace dbrunbook::steps
