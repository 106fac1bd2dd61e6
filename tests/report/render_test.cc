// Unit tests of the renderers (src/report/render.h): the aligned terminal table, Markdown and
// the stable JSON schemas of `assess` and `check`, on Assessment and ConnectivityResult values
// built by hand. No server, no clock: the inputs are fixed, so the outputs are exact.
#include "report/render.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "mysql/connect_options.h"

namespace dbrunbook::report {
namespace {

using nlohmann::json;
using steps::Level;

// 2026-01-02T03:04:05.678Z
core::WallTime FixedTime() {
  using namespace std::chrono;
  return core::WallTime{} + sys_days{year{2026} / January / 2}.time_since_epoch() + hours(3) +
         minutes(4) + seconds(5) + milliseconds(678);
}

dialect::Flavor MariaDbFlavor() {
  dialect::Flavor f;
  f.product = dialect::Product::kMariaDB;
  f.version = {10, 11, 6};
  f.version_string = "10.11.6-MariaDB-0+deb12u1-log";
  f.version_comment = "Debian 12";
  return f;
}

dialect::Flavor AuroraFlavor() {
  dialect::Flavor f;
  f.product = dialect::Product::kMySQL;
  f.platform = dialect::Platform::kAurora;
  f.version = {8, 0, 28};
  f.version_string = "8.0.28";
  f.aurora_version = "3.04.0";
  return f;
}

steps::Check MakeCheck(std::string id, std::string title, Level level, std::optional<double> value,
                       std::string unit, std::string display, std::string detail,
                       steps::Threshold threshold = {}, std::string channel = {}) {
  steps::Check c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.level = level;
  c.value = value;
  c.unit = std::move(unit);
  c.display = std::move(display);
  c.detail = std::move(detail);
  c.threshold = threshold;
  c.channel = std::move(channel);
  return c;
}

constexpr const char* kLongQuery =
    "id 42 app@10.0.0.7:51234 db=orders state='Sending data': SELECT o.id, o.total FROM orders "
    "o JOIN customers c ON c.id = o.customer_id WHERE c.note = 'café — naïve 𝔸 €5' AND "
    "o.created_at > NOW() - INTERVAL 1 DAY";

// A representative assessment: every level, a per-channel check, values and no value,
// thresholds in both directions and none, multi-byte text, a note.
steps::Assessment SampleAssessment() {
  steps::Assessment a;
  a.target = "orders-primary";
  a.endpoint = "tcp 10.0.0.5:3306";
  a.assessed_at = FixedTime();
  a.interval = std::chrono::milliseconds(1500);
  a.flavor = MariaDbFlavor();
  a.server_version = "10.11.6-MariaDB-0+deb12u1-log";
  a.statements_sent = 11;
  a.notes = {"session protections refused: max_statement_time"};
  a.checks = {
      MakeCheck("connect_latency_ms", "Connect + authenticate", Level::kOk, 1.8, "ms", "1.8ms",
                "tcp 10.0.0.5:3306, TLSv1.3 TLS_AES_256_GCM_SHA384",
                {200, 1000, steps::Direction::kAbove}),
      MakeCheck("threads_running", "Threads running", Level::kWarn, 25, "", "25", "",
                {20, 50, steps::Direction::kAbove}),
      MakeCheck("buffer_pool_hit_ratio", "Buffer pool hit ratio", Level::kOk, 0.9993, "ratio",
                "99.9%", "120034 logical reads, 84 from disk",
                {0.99, 0.95, steps::Direction::kBelow}),
      MakeCheck("longest_query_seconds", "Longest running query", Level::kCritical, 75, "s",
                "1m 15s", kLongQuery, {5, 60, steps::Direction::kAbove}),
      MakeCheck("replication_role", "Replication role", Level::kOk, std::nullopt, "", "primary",
                ""),
      MakeCheck("replication_sql_thread", "Replica SQL thread", Level::kUnknown, std::nullopt, "",
                "unknown", "SHOW SLAVE STATUS: access denied (needs SLAVE MONITOR)", {}, "eu-west"),
  };
  a.overall = Level::kCritical;
  return a;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Decodes UTF-8 strictly; nullopt for any malformed, overlong or truncated sequence.
std::optional<std::u32string> DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      n = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      n = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + n > s.size()) return std::nullopt;
    for (int k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return std::nullopt;
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::u32string U32(std::string_view s) {
  auto decoded = DecodeUtf8(s);
  EXPECT_TRUE(decoded) << "not valid UTF-8: " << s;
  return decoded.value_or(U"");
}

// Removes ANSI SGR sequences (ESC [ ... m).
std::string StripAnsi(const std::string& s) {
  static const std::regex kSgr("\033\\[[0-9;]*m");
  return std::regex_replace(s, kSgr, "");
}

// Terminal columns of a code point: 2 for East Asian wide characters (CJK ideographs, kana,
// Hangul, fullwidth forms), 1 otherwise. Enough for the characters these tests use.
int Columns(char32_t cp) {
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) ||
                    (cp >= 0x1F300 && cp <= 0x1F64F);
  return wide ? 2 : 1;
}

int TerminalColumns(std::string_view s) {
  int n = 0;
  for (char32_t cp : U32(s)) n += Columns(cp);
  return n;
}

std::set<std::string> Keys(const json& j) {
  std::set<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.insert(key);
  return keys;
}

std::string TitleOf(const steps::Check& c) {
  return c.channel.empty() ? c.title : c.title + " [" + c.channel + "]";
}

// Column offsets (in characters) of a rendered assessment table, read from its header.
struct TableLayout {
  size_t header = 0;  // line index of the header
  size_t check_col = 0;
  size_t value_col = 0;
  size_t detail_col = 0;
};

std::optional<TableLayout> FindLayout(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("  STATUS", 0) != 0) continue;
    const std::u32string h = U32(lines[i]);
    TableLayout layout;
    layout.header = i;
    layout.check_col = h.find(U"CHECK");
    layout.value_col = h.find(U"VALUE");
    layout.detail_col = h.find(U"DETAIL");
    if (layout.check_col == std::u32string::npos || layout.value_col == std::u32string::npos ||
        layout.detail_col == std::u32string::npos) {
      return std::nullopt;
    }
    return layout;
  }
  return std::nullopt;
}

// Asserts that every check row puts status, title, value and detail at the header's column
// offsets (counted in characters, so multi-byte text counts once), with at least two spaces
// between columns. `detail_max` > 0: the detail may be cut to that many characters with "...".
void ExpectAligned(const std::string& table, const steps::Assessment& a, size_t detail_max = 0) {
  const std::vector<std::string> lines = Lines(table);
  const auto layout = FindLayout(lines);
  ASSERT_TRUE(layout) << "no header line in:\n" << table;
  ASSERT_GE(lines.size(), layout->header + 1 + a.checks.size()) << table;
  for (size_t i = 0; i < a.checks.size(); ++i) {
    const steps::Check& c = a.checks[i];
    const std::string& raw = lines[layout->header + 1 + i];
    SCOPED_TRACE("row " + std::to_string(i) + ": '" + raw + "'");
    const std::u32string row = U32(raw);
    const std::u32string level = U32(steps::LevelName(c.level));
    const std::u32string title = U32(TitleOf(c));
    const std::u32string display = U32(c.display);
    const std::u32string detail = U32(c.detail);
    EXPECT_EQ(row.substr(0, 2), U"  ");
    EXPECT_EQ(row.substr(2, level.size()), level);
    EXPECT_EQ(row.substr(layout->check_col - 2, 2), U"  ");
    EXPECT_EQ(row.substr(layout->check_col, title.size()), title);
    EXPECT_EQ(row.substr(layout->value_col - 2, 2), U"  ");
    EXPECT_EQ(row.substr(layout->value_col, display.size()), display);
    if (detail.empty()) {
      // Trailing blanks are trimmed: the row ends after the value column's text.
      EXPECT_LE(row.size(), layout->detail_col);
      EXPECT_NE(row.back(), U' ');
      continue;
    }
    EXPECT_EQ(row.substr(layout->detail_col - 2, 2), U"  ");
    const std::u32string shown = row.substr(layout->detail_col);
    if (detail_max == 0 || detail.size() <= detail_max) {
      EXPECT_EQ(shown, detail);
    } else {
      ASSERT_GE(detail_max, 4u);
      EXPECT_EQ(shown.size(), detail_max);
      EXPECT_EQ(shown.substr(shown.size() - 3), U"...");
      EXPECT_EQ(shown.substr(0, shown.size() - 3), detail.substr(0, shown.size() - 3));
    }
  }
}

// --- assessment table -------------------------------------------------------------------------

TEST(AssessmentTableTest, ColumnsAlignAndTheHeadingSaysWhatWasAssessed) {
  const steps::Assessment a = SampleAssessment();
  const std::string table = RenderAssessmentTable(a, TableStyle{});
  ExpectAligned(table, a);
  const std::vector<std::string> lines = Lines(table);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "Assessment of orders-primary (tcp 10.0.0.5:3306)");
  EXPECT_EQ(lines[1],
            "MariaDB 10.11.6 (10.11.6-MariaDB-0+deb12u1-log) · 2026-01-02T03:04:05.678Z · sampled "
            "over 1.5s · 11 statements");
  EXPECT_NE(table.find("  note: session protections refused: max_statement_time\n"),
            std::string::npos);
  EXPECT_NE(table.find("\nOverall: CRITICAL (1 warn, 1 critical, 1 unknown)\n"), std::string::npos)
      << table;
  EXPECT_EQ(table.find('\033'), std::string::npos) << "colour without TableStyle.color";
  // The channel is part of the check's title.
  EXPECT_NE(table.find("Replica SQL thread [eu-west]"), std::string::npos);
}

TEST(AssessmentTableTest, ColourOnlyWhenAskedAndItDoesNotShiftColumns) {
  const steps::Assessment a = SampleAssessment();
  const std::string plain = RenderAssessmentTable(a, TableStyle{false, 0});
  const std::string colored = RenderAssessmentTable(a, TableStyle{true, 0});
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  EXPECT_NE(colored.find("\033[32mok"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\033[33mwarn"), std::string::npos);
  EXPECT_NE(colored.find("\033[1;31mcritical"), std::string::npos);
  EXPECT_NE(colored.find("\033[35munknown"), std::string::npos);
  EXPECT_NE(colored.find("\033[1mAssessment of orders-primary"), std::string::npos);
  EXPECT_NE(colored.find("Overall: \033[1;31mCRITICAL\033[0m"), std::string::npos);
  // Same text once the colour codes are removed: colour never changes the layout.
  EXPECT_EQ(StripAnsi(colored), plain);
  ExpectAligned(StripAnsi(colored), a);
}

TEST(AssessmentTableTest, DetailIsCutToTheTerminalWidth) {
  const steps::Assessment a = SampleAssessment();
  const std::string unlimited = RenderAssessmentTable(a, TableStyle{false, 0});
  // Width 0: nothing is cut.
  EXPECT_NE(unlimited.find(kLongQuery), std::string::npos);
  const auto layout = FindLayout(Lines(unlimited));
  ASSERT_TRUE(layout);

  for (const int width : {80, 100, 120}) {
    SCOPED_TRACE("width " + std::to_string(width));
    ASSERT_GT(static_cast<size_t>(width), layout->detail_col + 10);
    const std::string table = RenderAssessmentTable(a, TableStyle{false, width});
    const size_t detail_max = width - layout->detail_col;
    ExpectAligned(table, a, detail_max);
    const std::vector<std::string> lines = Lines(table);
    for (size_t i = 0; i < a.checks.size(); ++i) {
      const std::string& row = lines[layout->header + 1 + i];
      EXPECT_LE(U32(row).size(), static_cast<size_t>(width)) << row;
    }
    EXPECT_EQ(table.find(kLongQuery), std::string::npos);
    EXPECT_NE(table.find("..."), std::string::npos);
  }
}

TEST(AssessmentTableTest, DetailThatFitsExactlyIsNotCut) {
  steps::Assessment a = SampleAssessment();
  const auto layout = FindLayout(Lines(RenderAssessmentTable(a, TableStyle{})));
  ASSERT_TRUE(layout);
  const int width = static_cast<int>(layout->detail_col) + 30;
  a.checks[1].detail = std::string(29, 'x') + "é";  // 30 characters, 31 bytes
  std::string table = RenderAssessmentTable(a, TableStyle{false, width});
  EXPECT_NE(table.find(a.checks[1].detail + "\n"), std::string::npos) << table;
  a.checks[1].detail += "y";  // 31 characters: 27 kept, then "..."
  table = RenderAssessmentTable(a, TableStyle{false, width});
  EXPECT_NE(table.find(std::string(27, 'x') + "...\n"), std::string::npos) << table;
}

// Multi-byte characters (2, 3 and 4 bytes) at every possible cut position: the cut is always
// between characters, the row never exceeds the width, and the columns stay aligned.
TEST(AssessmentTableTest, MultiByteDetailIsNeverCutInsideACharacter) {
  steps::Assessment a = SampleAssessment();
  a.checks[0].detail = "é€𝔸ü—ñ𝔹ö…ß€é𝔸";  // narrow characters of 2, 3, 4 bytes
  for (int i = 0; i < 4; ++i) a.checks[0].detail += a.checks[0].detail;
  a.checks[2].title = "Bufferpool-Trefferquote (Größe)";  // multi-byte in the title column
  a.checks[2].display = "99,9 %·ø";                       // and in the value column
  const auto layout = FindLayout(Lines(RenderAssessmentTable(a, TableStyle{})));
  ASSERT_TRUE(layout);
  ExpectAligned(RenderAssessmentTable(a, TableStyle{}), a);
  for (int width = static_cast<int>(layout->detail_col) + 11;
       width < static_cast<int>(layout->detail_col) + 60; ++width) {
    SCOPED_TRACE("width " + std::to_string(width));
    const std::string table = RenderAssessmentTable(a, TableStyle{false, width});
    ASSERT_TRUE(DecodeUtf8(table)) << "invalid UTF-8 at width " << width;
    ExpectAligned(table, a, width - layout->detail_col);
    for (const auto& line : Lines(table)) {
      if (line.rfind("  ", 0) == 0 && line.rfind("  note:", 0) != 0) {
        EXPECT_LE(U32(line).size(), static_cast<size_t>(width)) << line;
      }
    }
  }
}

// Regression: every code point counted as one column, so CJK text in a detail overflowed
// the terminal; widths now follow East Asian Width.
TEST(AssessmentTableTest, WideCharactersInADetailStillFitTheTerminal) {
  steps::Assessment a = SampleAssessment();
  a.checks[3].detail =
      "id 7 app@10.0.0.9 db=注文: SELECT * FROM 注文明細 WHERE 顧客名 = '山田太郎' AND 備考 LIKE "
      "'%至急%' ORDER BY 作成日時 DESC";
  const int width = 100;
  const std::string table = RenderAssessmentTable(a, TableStyle{false, width});
  ASSERT_TRUE(DecodeUtf8(table));
  const std::vector<std::string> lines = Lines(table);
  const auto layout = FindLayout(lines);
  ASSERT_TRUE(layout);
  const std::string& row = lines[layout->header + 1 + 3];
  EXPECT_LE(TerminalColumns(row), width)
      << "row takes " << TerminalColumns(row) << " terminal columns of " << width << ": " << row;
}

// Regression: details carry server text (queries, replication errors); newlines broke the
// table and ESC/BEL sequences reached the terminal. Control characters are now neutralised.
TEST(AssessmentTableTest, ControlCharactersInADetailAreNeutralised) {
  steps::Assessment a = SampleAssessment();
  a.checks[3].detail =
      "id 9 evil@10.0.0.66: SELECT SLEEP(100), '\033]0;pwned\007\033[2J\033[31mfake'\nFROM "
      "dual\twhere\r1";
  const std::string table = RenderAssessmentTable(a, TableStyle{false, 0});
  EXPECT_EQ(table.find('\033'), std::string::npos) << "ESC reached the terminal";
  EXPECT_EQ(table.find('\007'), std::string::npos) << "BEL reached the terminal";
  EXPECT_EQ(table.find('\r'), std::string::npos);
  EXPECT_EQ(table.find('\t'), std::string::npos);
  // Every check is exactly one line.
  const std::vector<std::string> lines = Lines(table);
  const auto layout = FindLayout(lines);
  ASSERT_TRUE(layout);
  EXPECT_EQ(lines[layout->header + 1 + 4].rfind("  ok        Replication role", 0), 0u)
      << "the next check's row was pushed down by a line break in the detail";
}

// --- assessment markdown ------------------------------------------------------------------------

// Cells of a Markdown table row: split on '|' not preceded by a backslash.
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size()) {
      cell += row.substr(i, 2);
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  cells.push_back(cell);
  // "| a | b |" splits into "", " a ", " b ", "": drop the outer empties.
  if (!cells.empty() && cells.front().empty()) cells.erase(cells.begin());
  if (!cells.empty() && cells.back().empty()) cells.pop_back();
  return cells;
}

TEST(AssessmentMarkdownTest, IsATableWithOneRowPerCheck) {
  const steps::Assessment a = SampleAssessment();
  const std::string md = RenderAssessmentMarkdown(a);
  const std::vector<std::string> lines = Lines(md);
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0], "### Assessment of orders-primary — CRITICAL");
  EXPECT_NE(md.find("`tcp 10.0.0.5:3306`"), std::string::npos);
  EXPECT_NE(md.find("2026-01-02T03:04:05.678Z"), std::string::npos);
  size_t header = 0;
  while (header < lines.size() && lines[header] != "| Status | Check | Value | Detail |") ++header;
  ASSERT_LT(header + 1 + a.checks.size(), lines.size()) << md;
  EXPECT_EQ(lines[header + 1], "|---|---|---|---|");
  for (size_t i = 0; i < a.checks.size(); ++i) {
    const std::string& row = lines[header + 2 + i];
    SCOPED_TRACE(row);
    const auto cells = Cells(row);
    ASSERT_EQ(cells.size(), 4u);
    const std::string level(steps::LevelName(a.checks[i].level));
    EXPECT_EQ(cells[0],
              a.checks[i].level == Level::kOk ? " " + level + " " : " **" + level + "** ");
  }
  EXPECT_EQ(md.find('\033'), std::string::npos);
  EXPECT_NE(md.find("> note: session protections refused: max\\_statement\\_time"),
            std::string::npos)
      << md;
}

TEST(AssessmentMarkdownTest, EscapesMarkupAndNewlinesInCells) {
  steps::Assessment a = SampleAssessment();
  a.target = "orders_primary";
  a.checks[3].detail = "SELECT a|b, `x`, *y*, _z_ FROM t\nWHERE c = '<b>'";
  const std::string md = RenderAssessmentMarkdown(a);
  EXPECT_NE(md.find("### Assessment of orders\\_primary"), std::string::npos) << md;
  EXPECT_NE(md.find("| SELECT a\\|b, \\`x\\`, \\*y\\*, \\_z\\_ FROM t WHERE c = '\\<b\\>' |\n"),
            std::string::npos)
      << md;
  // Still one row per check: the newline did not end the row.
  size_t rows = 0;
  for (const auto& line : Lines(md)) rows += line.rfind("| ", 0) == 0;
  EXPECT_EQ(rows, 1 + a.checks.size());  // header + checks
  for (const auto& line : Lines(md)) {
    if (line.rfind("| ", 0) == 0) {
      EXPECT_EQ(Cells(line).size(), 4u) << line;
    }
  }
}

// Regression: a lone CR (a CommonMark line ending) split the Markdown row.
TEST(AssessmentMarkdownTest, CarriageReturnDoesNotEndTheRow) {
  steps::Assessment a = SampleAssessment();
  a.checks[3].detail = "Error 'Duplicate entry' on query: INSERT INTO t\r\nVALUES (1)\rx";
  const std::string md = RenderAssessmentMarkdown(a);
  EXPECT_EQ(md.find('\r'), std::string::npos) << md;
}

// --- assessment JSON ---------------------------------------------------------------------------

void ExpectFlavorJson(const json& f) {
  EXPECT_EQ(Keys(f), (std::set<std::string>{"id", "name", "product", "platform", "version",
                                            "aurora_version"}));
  EXPECT_TRUE(f["id"].is_string());
  EXPECT_TRUE(f["name"].is_string());
  EXPECT_TRUE(f["product"].is_string());
  EXPECT_TRUE(f["platform"].is_string());
  EXPECT_TRUE(f["version"].is_string());
  EXPECT_TRUE(f["aurora_version"].is_null() || f["aurora_version"].is_string());
}

TEST(AssessmentJsonTest, HasExactlyTheDocumentedFieldsAndTypes) {
  const steps::Assessment a = SampleAssessment();
  const json j = AssessmentJson(a);
  EXPECT_EQ(Keys(j),
            (std::set<std::string>{"schema", "schema_version", "target", "endpoint", "assessed_at",
                                   "interval_seconds", "server", "status", "exit_code", "checks",
                                   "notes", "statements_sent", "error"}));
  EXPECT_EQ(j["schema"], "dbrunbook.assessment");
  ASSERT_TRUE(j["schema_version"].is_number_integer());
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["target"], "orders-primary");
  EXPECT_EQ(j["endpoint"], "tcp 10.0.0.5:3306");
  ASSERT_TRUE(j["assessed_at"].is_string());
  EXPECT_EQ(j["assessed_at"], "2026-01-02T03:04:05.678Z");
  EXPECT_TRUE(std::regex_match(j["assessed_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)")));
  ASSERT_TRUE(j["interval_seconds"].is_number());
  EXPECT_DOUBLE_EQ(j["interval_seconds"].get<double>(), 1.5);

  EXPECT_EQ(Keys(j["server"]), (std::set<std::string>{"version", "flavor"}));
  EXPECT_EQ(j["server"]["version"], "10.11.6-MariaDB-0+deb12u1-log");
  ExpectFlavorJson(j["server"]["flavor"]);
  EXPECT_EQ(j["server"]["flavor"]["id"], "mariadb-10.11");
  EXPECT_EQ(j["server"]["flavor"]["name"], "MariaDB 10.11.6");
  EXPECT_EQ(j["server"]["flavor"]["version"], "10.11.6");
  EXPECT_TRUE(j["server"]["flavor"]["aurora_version"].is_null());

  EXPECT_EQ(j["status"], "critical");
  ASSERT_TRUE(j["exit_code"].is_number_integer());
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_EQ(j["notes"], json::array({"session protections refused: max_statement_time"}));
  ASSERT_TRUE(j["statements_sent"].is_number_unsigned());
  EXPECT_EQ(j["statements_sent"], 11);
  EXPECT_TRUE(j["error"].is_null());

  ASSERT_TRUE(j["checks"].is_array());
  ASSERT_EQ(j["checks"].size(), a.checks.size());
  const std::set<std::string> check_keys = {"id",      "title",  "status",  "value",     "unit",
                                            "display", "detail", "channel", "thresholds"};
  for (size_t i = 0; i < a.checks.size(); ++i) {
    const json& c = j["checks"][i];
    const steps::Check& want = a.checks[i];
    SCOPED_TRACE(want.id);
    EXPECT_EQ(Keys(c), check_keys);
    EXPECT_EQ(c["id"], want.id);
    EXPECT_EQ(c["title"], want.title);  // the title without the channel
    EXPECT_EQ(c["status"], std::string(steps::LevelName(want.level)));
    if (want.value) {
      ASSERT_TRUE(c["value"].is_number());
      EXPECT_DOUBLE_EQ(c["value"].get<double>(), *want.value);
    } else {
      EXPECT_TRUE(c["value"].is_null());
    }
    EXPECT_EQ(c["unit"], want.unit);
    EXPECT_EQ(c["display"], want.display);
    EXPECT_EQ(c["detail"], want.detail);  // as given: cut nowhere, escaped nowhere
    if (want.channel.empty()) {
      EXPECT_TRUE(c["channel"].is_null());
    } else {
      EXPECT_EQ(c["channel"], want.channel);
    }
    if (want.threshold.empty()) {
      EXPECT_TRUE(c["thresholds"].is_null());
    } else {
      const json& t = c["thresholds"];
      EXPECT_EQ(Keys(t), (std::set<std::string>{"warn", "critical", "direction"}));
      EXPECT_DOUBLE_EQ(t["warn"].get<double>(), *want.threshold.warn);
      EXPECT_DOUBLE_EQ(t["critical"].get<double>(), *want.threshold.critical);
      EXPECT_EQ(t["direction"], std::string(steps::DirectionName(want.threshold.direction)));
    }
  }
  EXPECT_EQ(j["checks"][2]["thresholds"]["direction"], "below");
  EXPECT_EQ(j["checks"][0]["thresholds"]["direction"], "above");
  EXPECT_EQ(j["checks"][5]["channel"], "eu-west");
  // It survives serialisation, multi-byte text included.
  const json parsed = json::parse(j.dump(2));
  EXPECT_EQ(parsed, j);
  EXPECT_EQ(parsed["checks"][3]["detail"], kLongQuery);
}

TEST(AssessmentJsonTest, OneSidedThresholdHasANullSide) {
  steps::Assessment a = SampleAssessment();
  a.checks = {MakeCheck("uptime_seconds", "Uptime", Level::kWarn, 53, "s", "53.0s",
                        "the server restarted recently",
                        {600, std::nullopt, steps::Direction::kBelow})};
  a.overall = Level::kWarn;
  const json j = AssessmentJson(a);
  const json& t = j["checks"][0]["thresholds"];
  EXPECT_DOUBLE_EQ(t["warn"].get<double>(), 600);
  EXPECT_TRUE(t["critical"].is_null());
  EXPECT_EQ(t["direction"], "below");
  EXPECT_EQ(j["status"], "warn");
  EXPECT_EQ(j["exit_code"], 1);
}

TEST(AssessmentJsonTest, ExitCodeFollowsTheOverallLevel) {
  steps::Assessment a = SampleAssessment();
  for (const auto& [level, name, code] :
       std::vector<std::tuple<Level, std::string, int>>{{Level::kOk, "ok", 0},
                                                        {Level::kWarn, "warn", 1},
                                                        {Level::kUnknown, "unknown", 1},
                                                        {Level::kCritical, "critical", 2}}) {
    a.overall = level;
    const json j = AssessmentJson(a);
    EXPECT_EQ(j["status"], name);
    EXPECT_EQ(j["exit_code"], code) << name;
    EXPECT_EQ(j["exit_code"], steps::ExitCodeFor(level));
  }
}

TEST(AssessmentJsonTest, AuroraFlavorHasItsVersion) {
  steps::Assessment a = SampleAssessment();
  a.flavor = AuroraFlavor();
  const json f = AssessmentJson(a)["server"]["flavor"];
  ExpectFlavorJson(f);
  EXPECT_EQ(f["id"], "aurora-mysql-3");
  EXPECT_EQ(f["aurora_version"], "3.04.0");
  EXPECT_EQ(f["version"], "8.0.28");
}

// Regression: JSON carried display names ("MariaDB", "Amazon Aurora") where the schema
// promises machine ids ("mariadb", "aurora").
TEST(AssessmentJsonTest, FlavorUsesTheDocumentedMachineIds) {
  const json f = AssessmentJson(SampleAssessment())["server"]["flavor"];
  EXPECT_EQ(f["product"], "mariadb");
  EXPECT_EQ(f["platform"], "self-managed");
  const json aurora = FlavorJson(AuroraFlavor());
  EXPECT_EQ(aurora["product"], "mysql");
  EXPECT_EQ(aurora["platform"], "aurora");
}

TEST(AssessmentJsonTest, ErrorFormSaysUnknownWithExitCodeThree) {
  core::Error error{core::ErrorCode::kUnavailable,
                    "cannot connect to target 'orders-primary' at tcp 10.0.0.5:3306: Can't "
                    "connect to server on '10.0.0.5' (111)",
                    "is the server running and listening on that address? check host and port",
                    2002, "HY000"};
  const json j = AssessmentErrorJson("orders-primary", "tcp 10.0.0.5:3306", error);
  EXPECT_EQ(Keys(j), (std::set<std::string>{"schema", "schema_version", "target", "endpoint",
                                            "status", "exit_code", "checks", "error"}));
  EXPECT_EQ(j["endpoint"], "tcp 10.0.0.5:3306");
  EXPECT_EQ(j["schema"], "dbrunbook.assessment");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["target"], "orders-primary");
  EXPECT_EQ(j["status"], "unknown");
  ASSERT_TRUE(j["exit_code"].is_number_integer());
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["checks"], json::array());
  const json& e = j["error"];
  EXPECT_EQ(Keys(e),
            (std::set<std::string>{"code", "message", "hint", "server_errno", "sqlstate"}));
  EXPECT_EQ(e["code"], "unavailable");
  EXPECT_EQ(e["message"], error.message);  // rendered as given
  EXPECT_EQ(e["hint"], error.hint);
  EXPECT_EQ(e["server_errno"], 2002);
  EXPECT_EQ(e["sqlstate"], "HY000");

  // Without a server error: exactly code, message, hint.
  const json local =
      AssessmentErrorJson("orders-primary", "",
                          core::Error{core::ErrorCode::kInvalidConfig,
                                      "target 'orders-primary': environment variable "
                                      "ORDERS_DB_PASSWORD is not set",
                                      "export it or change password_env", 0, ""});
  EXPECT_EQ(Keys(local["error"]), (std::set<std::string>{"code", "message", "hint"}));
  EXPECT_TRUE(local["endpoint"].is_null());  // not known
  EXPECT_EQ(local["error"]["code"], "invalid_config");
  EXPECT_EQ(local["error"]["message"],
            "target 'orders-primary': environment variable ORDERS_DB_PASSWORD is not set");
}

// --- check (connectivity) ----------------------------------------------------------------------

constexpr const char* kFakePassword = "Zq7!fake-PASSWORD-never-rendered";

steps::ConnectivityResult Reachable() {
  steps::ConnectivityResult r;
  r.target = "orders-primary";
  r.endpoint = "tcp 10.0.0.5:3306";
  r.user = "monitor";
  r.tls = true;
  r.tls_version = "TLSv1.3";
  r.tls_cipher = "TLS_AES_256_GCM_SHA384";
  r.connect_time = std::chrono::microseconds(12345);
  r.detect_time = std::chrono::microseconds(2500);
  r.round_trips = {std::chrono::microseconds(300), std::chrono::microseconds(250),
                   std::chrono::microseconds(900)};
  r.median_round_trip = std::chrono::microseconds(300);
  r.server_version = "10.11.6-MariaDB-0+deb12u1-log";
  r.flavor = MariaDbFlavor();
  return r;
}

steps::ConnectivityResult Unreachable() {
  // The password lives in the options the check used, and nowhere else.
  mysql::ConnectOptions options;
  options.target_name = "orders_replica";
  options.host = "10.0.0.12";
  options.user = "monitor";
  options.password = core::Secret(kFakePassword);
  options.password_source = "password_env ORDERS_DB_PASSWORD";
  steps::ConnectivityResult r;
  r.target = options.target_name;
  r.endpoint = options.Endpoint();
  r.user = options.user;
  r.error = core::Error{core::ErrorCode::kAccessDenied,
                        "access denied for user 'monitor' on target 'orders_replica' (Access "
                        "denied for user 'monitor'@'10.0.0.1' (using password: YES))",
                        "check the user name and the password from " + options.password_source,
                        1045, "28000"};
  return r;
}

TEST(ConnectivityJsonTest, HasTheDocumentedFieldsForReachableAndUnreachableTargets) {
  const json j = ConnectivityJson({Reachable(), Unreachable()});
  EXPECT_EQ(Keys(j),
            (std::set<std::string>{"schema", "schema_version", "all_reachable", "targets"}));
  EXPECT_EQ(j["schema"], "dbrunbook.check");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["all_reachable"], false);
  ASSERT_EQ(j["targets"].size(), 2u);

  const json& ok = j["targets"][0];
  EXPECT_EQ(Keys(ok), (std::set<std::string>{"target", "endpoint", "user", "reachable", "tls",
                                             "connect_ms", "detect_ms", "round_trip_ms",
                                             "server_version", "flavor", "error"}));
  EXPECT_EQ(ok["target"], "orders-primary");
  EXPECT_EQ(ok["endpoint"], "tcp 10.0.0.5:3306");
  EXPECT_EQ(ok["user"], "monitor");
  EXPECT_EQ(ok["reachable"], true);
  EXPECT_EQ(ok["tls"], (json{{"version", "TLSv1.3"}, {"cipher", "TLS_AES_256_GCM_SHA384"}}));
  ASSERT_TRUE(ok["connect_ms"].is_number());
  EXPECT_NEAR(ok["connect_ms"].get<double>(), 12.345, 1e-9);
  EXPECT_NEAR(ok["detect_ms"].get<double>(), 2.5, 1e-9);
  EXPECT_EQ(Keys(ok["round_trip_ms"]), (std::set<std::string>{"median", "samples"}));
  EXPECT_NEAR(ok["round_trip_ms"]["median"].get<double>(), 0.3, 1e-9);
  ASSERT_EQ(ok["round_trip_ms"]["samples"].size(), 3u);
  EXPECT_NEAR(ok["round_trip_ms"]["samples"][1].get<double>(), 0.25, 1e-9);
  EXPECT_EQ(ok["server_version"], "10.11.6-MariaDB-0+deb12u1-log");
  ExpectFlavorJson(ok["flavor"]);
  EXPECT_EQ(ok["flavor"]["name"], "MariaDB 10.11.6");
  EXPECT_TRUE(ok["error"].is_null());

  const json& bad = j["targets"][1];
  EXPECT_EQ(Keys(bad), (std::set<std::string>{"target", "endpoint", "user", "reachable", "error"}));
  EXPECT_EQ(bad["reachable"], false);
  EXPECT_EQ(bad["endpoint"], "tcp 10.0.0.12:3306");
  EXPECT_EQ(bad["error"]["code"], "access_denied");
  EXPECT_EQ(bad["error"]["message"], Unreachable().error->message);
  EXPECT_EQ(bad["error"]["hint"],
            "check the user name and the password from password_env ORDERS_DB_PASSWORD");
  EXPECT_EQ(bad["error"]["server_errno"], 1045);
  EXPECT_EQ(bad["error"]["sqlstate"], "28000");
}

TEST(ConnectivityJsonTest, AllReachableOnlyWhenEveryTargetIs) {
  EXPECT_EQ(ConnectivityJson({Reachable(), Reachable()})["all_reachable"], true);
  EXPECT_EQ(ConnectivityJson({Unreachable()})["all_reachable"], false);
  steps::ConnectivityResult plain = Reachable();
  plain.tls = false;
  const json j = ConnectivityJson({plain});
  EXPECT_TRUE(j["targets"][0]["tls"].is_null());
  EXPECT_TRUE(j["targets"][0].contains("tls"));
}

TEST(ConnectivityTableTest, ShowsEachTargetAndTheErrorAsGiven) {
  const std::string table = RenderConnectivityTable({Reachable(), Unreachable()}, TableStyle{});
  EXPECT_EQ(table.find('\033'), std::string::npos);
  EXPECT_NE(table.find("reachable    orders-primary (tcp 10.0.0.5:3306)\n"), std::string::npos)
      << table;
  EXPECT_NE(table.find("    tls:        on (TLSv1.3, TLS_AES_256_GCM_SHA384)\n"),
            std::string::npos);
  EXPECT_NE(table.find("    connect:    12.3 ms"), std::string::npos);
  EXPECT_NE(table.find("    round trip: 0.30 ms median of 3 (SELECT 1)\n"), std::string::npos);
  EXPECT_NE(table.find("    server:     10.11.6-MariaDB-0+deb12u1-log\n"), std::string::npos);
  EXPECT_NE(table.find("    flavor:     MariaDB 10.11.6\n"), std::string::npos);
  EXPECT_NE(table.find("UNREACHABLE  orders_replica (tcp 10.0.0.12:3306)\n"), std::string::npos);
  EXPECT_NE(table.find("    error:      " + Unreachable().error->message + "\n"),
            std::string::npos);
  EXPECT_NE(table.find("    what to do: check the user name and the password from password_env "
                       "ORDERS_DB_PASSWORD\n"),
            std::string::npos);
  EXPECT_NE(table.find("\n1 of 2 targets reachable\n"), std::string::npos);

  const std::string colored = RenderConnectivityTable({Reachable(), Unreachable()}, {true, 0});
  EXPECT_NE(colored.find("\033[32mreachable  \033[0m"), std::string::npos) << colored;
  EXPECT_NE(colored.find("\033[1;31mUNREACHABLE\033[0m"), std::string::npos);
  EXPECT_EQ(StripAnsi(colored), table);
}

TEST(ConnectivityMarkdownTest, OneEscapedRowPerTarget) {
  const std::string md = RenderConnectivityMarkdown({Reachable(), Unreachable()});
  const std::vector<std::string> lines = Lines(md);
  ASSERT_EQ(lines.size(), 4u) << md;
  EXPECT_EQ(lines[0],
            "| Target | Endpoint | Reachable | TLS | Connect | Round trip | Flavor | Error |");
  for (const auto& line : lines) EXPECT_EQ(Cells(line).size(), 8u) << line;
  EXPECT_EQ(lines[2],
            "| orders-primary | `tcp 10.0.0.5:3306` | yes | TLSv1.3 | 12.3 ms | 0.30 ms | "
            "MariaDB 10.11.6 | |");
  EXPECT_NE(lines[3].find("| orders\\_replica | `tcp 10.0.0.12:3306` | **no** |"),
            std::string::npos)
      << lines[3];
  EXPECT_NE(lines[3].find("password\\_env ORDERS\\_DB\\_PASSWORD"), std::string::npos);
}

TEST(RenderTest, NoPasswordInAnyOutput) {
  const std::vector<steps::ConnectivityResult> results = {Reachable(), Unreachable()};
  steps::Assessment a = SampleAssessment();
  a.notes.push_back("password source: password_env ORDERS_DB_PASSWORD");
  const core::Error error = *Unreachable().error;
  const std::vector<std::string> outputs = {
      RenderConnectivityTable(results, {true, 80}),
      RenderConnectivityMarkdown(results),
      ConnectivityJson(results).dump(),
      RenderAssessmentTable(a, {true, 80}),
      RenderAssessmentMarkdown(a),
      AssessmentJson(a).dump(),
      AssessmentErrorJson("orders_replica", "tcp 10.0.0.12:3306", error).dump(),
  };
  for (const auto& out : outputs) {
    EXPECT_EQ(out.find(kFakePassword), std::string::npos) << out;
    EXPECT_EQ(out.find("PASSWORD-never"), std::string::npos) << out;
  }
}

TEST(RenderTest, ParseFormat) {
  EXPECT_EQ(ParseFormat("table"), Format::kTable);
  EXPECT_EQ(ParseFormat("JSON"), Format::kJson);
  EXPECT_EQ(ParseFormat("markdown"), Format::kMarkdown);
  EXPECT_EQ(ParseFormat("md"), Format::kMarkdown);
  EXPECT_EQ(ParseFormat("html"), std::nullopt);
  EXPECT_EQ(ParseFormat(""), std::nullopt);
}

}  // namespace
}  // namespace dbrunbook::report
