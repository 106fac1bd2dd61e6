#include "digest/fingerprint_corpus.h"

#include <algorithm>
#include <filesystem>
#include <string_view>

#include "core/strings.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest::testing {
namespace {

bool IsHeader(std::string_view line) {
  return line.starts_with("# ") || line == "#" || line.starts_with("/usr/") ||
         line.starts_with("Tcp port:") || line.starts_with("Time ") ||
         line.find(", Version: ") != std::string_view::npos;
}

bool IsAttributeLine(std::string_view line) {
  return (core::StartsWithIgnoreCase(line, "use ") && line.ends_with(";")) ||
         (core::StartsWithIgnoreCase(line, "SET timestamp=") && line.ends_with(";")) ||
         (core::StartsWithIgnoreCase(line, "SET insert_id=") && line.ends_with(";")) ||
         (core::StartsWithIgnoreCase(line, "SET last_insert_id=") && line.ends_with(";"));
}

void Close(std::vector<std::string_view>& lines, std::vector<std::string>& out) {
  size_t first = 0;
  while (first + 1 < lines.size() && IsAttributeLine(lines[first])) ++first;
  std::string statement;
  for (size_t k = first; k < lines.size(); ++k) {
    if (k > first) statement.push_back('\n');
    statement.append(lines[k]);
  }
  while (!statement.empty() && (statement.back() == ' ' || statement.back() == '\n' ||
                                statement.back() == '\r' || statement.back() == '\t')) {
    statement.pop_back();
  }
  if (!statement.empty() && statement.back() == ';') statement.pop_back();
  if (!statement.empty()) out.push_back(std::move(statement));
  lines.clear();
}

}  // namespace

std::vector<std::string> SlowLogStatements(const std::string& relative) {
  std::vector<std::string> out;
  auto text = dbrunbook::testing::ReadSharedFile(relative);
  if (!text) return out;
  std::vector<std::string_view> lines;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (IsHeader(line)) {
      Close(lines, out);
      constexpr std::string_view kAdmin = "# administrator command: ";
      if (line.starts_with(kAdmin)) {
        std::string admin(line.substr(2));
        if (!admin.empty() && admin.back() == ';') admin.pop_back();
        out.push_back(std::move(admin));
      }
      continue;
    }
    lines.push_back(line);
  }
  Close(lines, out);
  return out;
}

std::vector<std::string> AllSlowLogStatements() {
  std::vector<std::string> files;
  const std::filesystem::path dir = dbrunbook::testing::SharedPath("conformance/slowlogs");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.is_regular_file() && entry.path().extension() != ".gz") {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& name : files) {
    for (auto& s : SlowLogStatements("conformance/slowlogs/" + name)) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace dbrunbook::digest::testing
