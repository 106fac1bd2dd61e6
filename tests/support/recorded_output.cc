#include "support/recorded_output.h"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "core/environment.h"
#include "core/strings.h"

namespace dbrunbook::testing {
namespace {

using Values = std::vector<std::optional<std::string>>;

// The source root, from this file's own path (<root>/tests/support/recorded_output.cc).
std::string CompiledSourceRoot() {
  std::string_view self = __FILE__;
  constexpr std::string_view kSuffix = "tests/support/recorded_output.cc";
  if (self.size() >= kSuffix.size() && self.substr(self.size() - kSuffix.size()) == kSuffix) {
    return std::string(self.substr(0, self.size() - kSuffix.size()));
  }
  return "./";
}

core::Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::MakeError(core::ErrorCode::kIo, "cannot open recorded output file '" + path + "'",
                           "check DBRUNBOOK_SHARED_DIR / DBRUNBOOK_SOURCE_DIR");
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string JoinPath(std::string dir, const std::string& relative) {
  if (!dir.empty() && dir.back() != '/') dir += '/';
  return dir + relative;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string_view RightTrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

// Trims ASCII blanks and UTF-8 non-breaking spaces (C2 A0) on both ends.
std::string_view TrimCell(std::string_view s) {
  constexpr std::string_view kNbsp = "\xC2\xA0";
  bool changed = true;
  while (changed && !s.empty()) {
    changed = false;
    if (std::isspace(static_cast<unsigned char>(s.front())) != 0) {
      s.remove_prefix(1);
      changed = true;
    } else if (s.substr(0, kNbsp.size()) == kNbsp) {
      s.remove_prefix(kNbsp.size());
      changed = true;
    }
    if (s.empty()) break;
    if (std::isspace(static_cast<unsigned char>(s.back())) != 0) {
      s.remove_suffix(1);
      changed = true;
    } else if (s.size() >= kNbsp.size() && s.substr(s.size() - kNbsp.size()) == kNbsp) {
      s.remove_suffix(kNbsp.size());
      changed = true;
    }
  }
  return s;
}

std::optional<std::string> ToValue(std::string_view text) {
  if (text == "NULL") return std::nullopt;
  return std::string(text);
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// "*************************** 12. row ***************************"
bool IsRowSeparator(std::string_view line) {
  line = RightTrim(line);
  const size_t first = line.find_first_not_of('*');
  if (first == 0 || first == std::string_view::npos || line[first] != ' ') return false;
  const size_t last = line.find_last_not_of('*');
  if (last == line.size() - 1 || line[last] != ' ') return false;
  std::string_view middle = line.substr(first + 1, last - first - 1);  // "12. row"
  constexpr std::string_view kRow = ". row";
  if (middle.size() <= kRow.size() || middle.substr(middle.size() - kRow.size()) != kRow) {
    return false;
  }
  return AllDigits(middle.substr(0, middle.size() - kRow.size()));
}

// "+-----+-----+" (only '+' and '-', starting and ending with '+').
bool IsBoxBorder(std::string_view line) {
  line = RightTrim(line);
  if (line.size() < 3 || line.front() != '+' || line.back() != '+') return false;
  return line.find_first_not_of("+-") == std::string_view::npos &&
         line.find('-') != std::string_view::npos;
}

// "1 row in set (0.01 sec)", "18 rows in set, 1 warning (0.00 sec)", "Empty set (0.00 sec)",
// "Query OK, 0 rows affected (0.000 sec)".
bool IsTrailer(std::string_view line) {
  line = core::Trim(line);
  if (line.starts_with("Empty set") || line.starts_with("Query OK")) return true;
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || !AllDigits(line.substr(0, space))) return false;
  std::string_view rest = line.substr(space + 1);
  return rest.starts_with("row in set") || rest.starts_with("rows in set");
}

// "mysql> ...", "MySQL [(none)]> ...", "MariaDB [test]> ..."
bool IsPrompt(std::string_view line) {
  if (line.starts_with("mysql>")) return true;
  for (std::string_view product : {"MySQL [", "MariaDB ["}) {
    if (line.starts_with(product)) {
      const size_t close = line.find("]>");
      return close != std::string_view::npos;
    }
  }
  return false;
}

bool IsMtrWarningLine(std::string_view line) {
  return line.starts_with("Note\t") || line.starts_with("Warning\t") || line.starts_with("Error\t");
}

// Unescapes what mysql -B escapes: \n \t \\ \0 (anything else stays as it is).
std::string UnescapeBatch(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char next = s[i + 1];
      if (next == 'n') {
        out += '\n';
        ++i;
        continue;
      }
      if (next == 't') {
        out += '\t';
        ++i;
        continue;
      }
      if (next == '\\') {
        out += '\\';
        ++i;
        continue;
      }
      if (next == '0') {
        out += '\0';
        ++i;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// Parses the TAB block lines[begin, end).
mysql::ResultSet ParseTabBlock(const std::vector<std::string_view>& lines, size_t begin,
                               size_t end) {
  std::vector<std::string> names;
  size_t first_row = begin;
  const auto first = SplitTabs(lines[begin]);
  const bool variables_header = first.size() == 2 &&
                                core::EqualsIgnoreCase(first[0], "Variable_name") &&
                                core::EqualsIgnoreCase(first[1], "Value");
  if (first.size() > 2 || variables_header) {
    for (auto name : first) names.emplace_back(name);
    first_row = begin + 1;
  } else {
    names = {"Variable_name", "Value"};
  }
  std::vector<Values> rows;
  for (size_t i = first_row; i < end; ++i) {
    Values row;
    for (auto field : SplitTabs(lines[i])) {
      if (field == "NULL") {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(UnescapeBatch(field));
      }
    }
    row.resize(names.size());
    rows.push_back(std::move(row));
  }
  return mysql::MakeResultSet(names, rows);
}

// A field line of a \G block: `colon` is where the ':' after the right-aligned name sits.
std::optional<std::string_view> FieldName(std::string_view line, size_t colon) {
  if (line.size() <= colon || line[colon] != ':') return std::nullopt;
  if (line.size() > colon + 1 && line[colon + 1] != ' ') return std::nullopt;
  std::string_view prefix = line.substr(0, colon);
  const size_t name_start = prefix.find_first_not_of(' ');
  if (name_start == std::string_view::npos) return std::nullopt;
  return prefix.substr(name_start);
}

// Column of the ':' on the first line of a \G row ("   Variable_name: x").
std::optional<size_t> ColonColumn(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ':' && (i + 1 == line.size() || line[i + 1] == ' ')) {
      if (FieldName(line, i)) return i;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool EndsVerticalBlock(std::string_view line) {
  return IsRowSeparator(line) || IsTrailer(line) || IsPrompt(line) || IsBoxBorder(line) ||
         core::Trim(line) == "...";
}

// "name: value" with the name flush left (no alignment): the column of its ':'.
std::optional<size_t> FlushLeftColon(std::string_view line) {
  if (line.empty() || line.front() == ' ') return std::nullopt;
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  if (colon + 1 < line.size() && line[colon + 1] != ' ') return std::nullopt;
  if (line.substr(0, colon).find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return colon;
}

// Parses \G rows starting at the separator line `*pos`; leaves `*pos` after the block.
//
// The client right-aligns names, so every field line has its ':' in one column; a line that
// does not is the continuation of a multi-line value. Two exceptions seen in recordings:
// documentation that lost the alignment (every name flush left, colons in different columns;
// then any flush-left "name:" starts a field), and SHOW ENGINE ... STATUS\G, whose Status text
// may contain "Locked: ..." lines in the field column (after Type and Name, Status takes every
// remaining line of the row).
mysql::ResultSet ParseVerticalBlock(const std::vector<std::string_view>& lines, size_t* pos) {
  std::vector<std::string> names;
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  size_t i = *pos;
  while (i < lines.size() && IsRowSeparator(lines[i])) {
    ++i;
    std::vector<std::pair<std::string, std::string>> fields;
    std::optional<size_t> colon;
    const bool unaligned = i + 1 < lines.size() && !EndsVerticalBlock(lines[i]) &&
                           !EndsVerticalBlock(lines[i + 1]) && FlushLeftColon(lines[i]) &&
                           FlushLeftColon(lines[i + 1]) &&
                           *FlushLeftColon(lines[i]) != *FlushLeftColon(lines[i + 1]);
    bool rest_is_value = false;
    size_t trailing_blank = 0;
    while (i < lines.size() && !EndsVerticalBlock(lines[i])) {
      const std::string_view line = lines[i];
      std::optional<size_t> field_colon;
      std::optional<std::string_view> name;
      if (rest_is_value) {
        // continuation only
      } else if (unaligned) {
        field_colon = FlushLeftColon(line);
        if (field_colon) name = line.substr(0, *field_colon);
      } else {
        if (!colon) colon = ColonColumn(line);
        field_colon = colon;
        if (colon) name = FieldName(line, *colon);
      }
      // A name with blanks inside is only accepted where the first row had that name, so
      // continuation text that happens to carry a ':' at the same column stays text.
      const bool is_field =
          name && (name->find(' ') == std::string_view::npos ||
                   (rows.empty() ? fields.empty()
                                 : fields.size() < names.size() && names[fields.size()] == *name));
      if (is_field) {
        std::string_view value =
            line.size() > *field_colon + 1 ? line.substr(*field_colon + 2) : "";
        rest_is_value = *name == "Status" && fields.size() == 2 && fields[0].first == "Type" &&
                        fields[1].first == "Name";
        fields.emplace_back(std::string(*name), std::string(value));
        trailing_blank = 0;
      } else if (!fields.empty()) {
        fields.back().second += '\n';
        fields.back().second += line;
        trailing_blank = core::Trim(line).empty() ? trailing_blank + 1 : 0;
      }
      ++i;
    }
    // Blank lines between the last value and whatever follows the block belong to neither.
    while (trailing_blank > 0 && !fields.empty()) {
      auto& value = fields.back().second;
      value.erase(value.rfind('\n'));
      --trailing_blank;
    }
    if (rows.empty()) {
      for (const auto& field : fields) names.push_back(field.first);
    }
    rows.push_back(std::move(fields));
  }
  *pos = i;
  std::vector<Values> table;
  for (const auto& fields : rows) {
    Values row(names.size());
    for (const auto& [name, value] : fields) {
      for (size_t c = 0; c < names.size(); ++c) {
        if (names[c] == name && !row[c]) {
          row[c] = ToValue(value);
          break;
        }
      }
    }
    table.push_back(std::move(row));
  }
  return mysql::MakeResultSet(names, table);
}

std::vector<std::string_view> SplitBoxLine(std::string_view line, std::string_view border) {
  line = RightTrim(line);
  std::vector<size_t> plus;
  for (size_t i = 0; i < border.size(); ++i) {
    if (border[i] == '+') plus.push_back(i);
  }
  bool aligned = line.size() == border.size() && plus.size() >= 2;
  for (size_t p : plus) {
    if (!aligned) break;
    aligned = line[p] == '|';
  }
  std::vector<std::string_view> cells;
  if (aligned) {
    for (size_t k = 0; k + 1 < plus.size(); ++k) {
      cells.push_back(TrimCell(line.substr(plus[k] + 1, plus[k + 1] - plus[k] - 1)));
    }
    return cells;
  }
  // Misaligned (malformed border, multi-byte text): split on '|' between the outer bars.
  if (!line.empty() && line.front() == '|') line.remove_prefix(1);
  if (!line.empty() && line.back() == '|') line.remove_suffix(1);
  size_t start = 0;
  while (true) {
    const size_t bar = line.find('|', start);
    if (bar == std::string_view::npos) {
      cells.push_back(TrimCell(line.substr(start)));
      return cells;
    }
    cells.push_back(TrimCell(line.substr(start, bar - start)));
    start = bar + 1;
  }
}

// Parses a BOX table whose top border is `*pos`; leaves `*pos` after it.
mysql::ResultSet ParseBox(const std::vector<std::string_view>& lines, size_t* pos) {
  const std::string_view border = RightTrim(lines[*pos]);
  size_t i = *pos + 1;
  std::vector<std::string> names;
  for (auto cell : SplitBoxLine(lines[i], border)) names.emplace_back(cell);
  ++i;
  if (i < lines.size() && !lines[i].empty() && lines[i].front() == '+') ++i;  // header rule
  std::vector<Values> rows;
  while (i < lines.size() && !lines[i].empty() && lines[i].front() == '|') {
    Values row;
    for (auto cell : SplitBoxLine(lines[i], border)) row.push_back(ToValue(cell));
    row.resize(names.size());
    rows.push_back(std::move(row));
    ++i;
  }
  if (i < lines.size() && IsBoxBorder(lines[i])) ++i;
  *pos = i;
  return mysql::MakeResultSet(names, rows);
}

std::string VariableNameFromColumn(std::string_view column) {
  column.remove_prefix(2);  // "@@"
  for (std::string_view scope : {"global.", "session.", "local."}) {
    if (core::StartsWithIgnoreCase(column, scope)) column.remove_prefix(scope.size());
  }
  return std::string(column);
}

}  // namespace

std::string SharedPath(const std::string& relative) {
  core::ProcessEnvironment env;
  std::string dir = env.Get("DBRUNBOOK_SHARED_DIR").value_or("");
  if (dir.empty()) dir = CompiledSourceRoot() + "../shared";
  return JoinPath(dir, relative);
}

core::Result<std::string> ReadSharedFile(const std::string& relative) {
  return ReadWholeFile(SharedPath(relative));
}

core::Result<std::string> ReadSourceFile(const std::string& relative) {
  core::ProcessEnvironment env;
  std::string dir = env.Get("DBRUNBOOK_SOURCE_DIR").value_or("");
  if (dir.empty()) dir = CompiledSourceRoot();
  return ReadWholeFile(JoinPath(dir, relative));
}

std::vector<mysql::ResultSet> ParseRecordedOutput(std::string_view text) {
  const std::vector<std::string_view> lines = SplitLines(text);
  std::vector<mysql::ResultSet> blocks;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string_view line = lines[i];
    if (IsRowSeparator(line)) {
      blocks.push_back(ParseVerticalBlock(lines, &i));
    } else if (IsBoxBorder(line) && i + 1 < lines.size() && !lines[i + 1].empty() &&
               lines[i + 1].front() == '|') {
      blocks.push_back(ParseBox(lines, &i));
    } else if (core::Trim(line) == "Warnings:") {
      ++i;
      while (i < lines.size() && IsMtrWarningLine(lines[i])) ++i;
    } else if (line.find('\t') != std::string_view::npos) {
      size_t end = i;
      while (end < lines.size() && lines[end].find('\t') != std::string_view::npos) ++end;
      blocks.push_back(ParseTabBlock(lines, i, end));
      i = end;
    } else {
      ++i;  // prompt, query text, trailer, pt-summary internal line, prose
    }
  }
  return blocks;
}

dialect::VariableMap ParseVariables(std::string_view text) {
  dialect::VariableMap variables;
  for (const auto& block : ParseRecordedOutput(text)) {
    const auto& columns = *block.columns;
    const auto name_column = columns.IndexOf("Variable_name");
    const auto value_column = columns.IndexOf("Value");
    if (name_column && value_column) {
      for (const auto& row : block.rows) {
        auto name = row.at(*name_column).AsString();
        if (!name) continue;
        variables.insert_or_assign(std::string(*name), row.at(*value_column).StringOr(""));
      }
      continue;
    }
    if (block.rows.size() != 1) continue;
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string& column = columns.list()[c].name;
      if (!column.starts_with("@@")) continue;
      variables.insert_or_assign(VariableNameFromColumn(column),
                                 block.rows.front().at(c).StringOr(""));
    }
  }
  return variables;
}

mysql::ResultSet PivotNameValue(const mysql::ResultSet& name_value) {
  std::vector<std::string> names;
  Values values;
  for (const auto& row : name_value.rows) {
    auto name = row.at(0).AsString();
    if (!name) continue;
    names.emplace_back(*name);
    auto value = row.at(1).AsString();
    values.push_back(value ? std::optional<std::string>(std::string(*value)) : std::nullopt);
  }
  return mysql::MakeResultSet(names, {values});
}

}  // namespace dbrunbook::testing
