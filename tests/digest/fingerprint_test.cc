// Fingerprints and query IDs against pt-query-digest 3.5.7: every upstream test case
// (../shared/conformance/fingerprints), our own cases (hostile input included; the expected
// values were produced by Percona's 3.5.7 QueryRewriter rules and checked by hand), and the
// query IDs printed in pt-query-digest's expected reports for the shared slow logs.
#include "digest/fingerprint.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "digest/fingerprint_corpus.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

using nlohmann::json;

// --- upstream's cases ------------------------------------------------------------------------

// The JSON lists t/lib/QueryRewriter.t's fingerprint() cases in the test's order but not the
// options of the QueryRewriter object each one ran with. Upstream replaces the object three
// times, so the options follow from the case where each new object is first used:
// match_md5_checksums from "Fingerprint db.MD5_tbl", both options from "... (with
// match_embedded_numbers)", and match_embedded_numbers alone from "Fingerprint
// db.tbl<number>name (preserve number)" to the end.
TEST(FingerprintConformanceTest, EveryUpstreamCase) {
  auto text = dbrunbook::testing::ReadSharedFile(
      "conformance/fingerprints/pt-3.5.7-fingerprint-cases.json");
  ASSERT_TRUE(text) << text.error().ToString();
  const json doc = json::parse(*text);
  FingerprintOptions options;
  size_t checked = 0;
  for (const json& c : doc.at("cases")) {
    const std::string name = c.at("name");
    if (name == "Fingerprint db.MD5_tbl") {
      options = {.match_md5_checksums = true, .match_embedded_numbers = false};
    } else if (name == "Fingerprint db.MD5_tbl (with match_embedded_numbers)") {
      options = {.match_md5_checksums = true, .match_embedded_numbers = true};
    } else if (name.starts_with("Fingerprint db.tbl<number>name")) {
      options = {.match_md5_checksums = false, .match_embedded_numbers = true};
    }
    EXPECT_EQ(Fingerprint(c.at("input").get<std::string>(), options),
              c.at("expected").get<std::string>())
        << name;
    ++checked;
  }
  EXPECT_EQ(checked, 51U);
}

// Options matter exactly where upstream says they do.
TEST(FingerprintConformanceTest, OptionsChangeOnlyTheirCases) {
  EXPECT_EQ(Fingerprint("SELECT * FROM db.fbc5e685a5d3d45aa1d0347fdb7c4d35_temp where id=1"),
            "select * from db.fbc?_temp where id=?");
  EXPECT_EQ(Fingerprint("SELECT * FROM prices.rt_5min where id=1"),
            "select * from prices.rt_?min where id=?");
  EXPECT_EQ(Fingerprint("SELECT * FROM prices2.t1 where id=1"),
            "select * from prices?t? where id=?");  // '.' continues a number
}

// --- our own cases ---------------------------------------------------------------------------

struct Case {
  const char* name;
  std::string input;
  std::string expected;
  bool md5;
  bool embedded;
};

const std::vector<Case>& OwnCases() {
  static const std::vector<Case> cases = {
      {"empty", "", "", false, false},
      {"only whitespace", " \t\r\n\x0c ", "", false, false},
      {"only a newline", "\n", "", false, false},
      {"vertical tab is whitespace for \\s but not collapsed",
       "select\x0b"
       "1",
       "select\x0b?", false, false},
      {"unterminated single quote", "select * from t where a = 'abc",
       "select * from t where a = 'abc", false, false},
      {"unterminated double quote", "select * from t where a = \"abc",
       "select * from t where a = \"abc", false, false},
      {"unterminated block comment", "select 1 /* never closed", "select ? /* never closed", false,
       false},
      {"block comment needs a later close", "select /**/ 1 /* x */ 2", "select ?", false, false},
      {"version comment kept", "select /*!40101 SQL_NO_CACHE */ a from t",
       "select /*!? sql_no_cache */ a from t", false, false},
      {"line comment with a quote is kept", "select a -- it's here\nfrom t",
       "select a ? it's here from t", false, false},
      {"hash comment", "select a # note\nfrom t", "select a from t", false, false},
      {"comment markers inside a string", "select '-- not a comment' from t", "select ? from t",
       false, false},
      {"block comment inside a string is removed", "select 'a /* b */ c' from t", "select ? from t",
       false, false},
      {"string at the very start is not a string", "'abc' , 'def'", "'abc?def'", false, false},
      {"empty strings", "select '', \"\" from t", "select ?, ? from t", false, false},
      {"three quotes", "select ''' from t", "select ? from t", false, false},
      {"doubled quote escape", "select 'it''s' from t", "select ?'s' from t", false, false},
      {"backslash escapes", "select 'a\\'b', \"c\\\"d\", 'e\\\\' from t", "select ?, ?, ? from t",
       false, false},
      {"backslash at end", "select 'abc\\", "select 'abc\\", false, false},
      {"lone backslashes", "select a\\b from t", "select a\\b from t", false, false},
      {"mixed quotes", "select \"a'b\" , 'c\"d' from t", "select ? , ? from t", false, false},
      {"binary bytes", "select '\x01\x02\xff' from t where b = 0x00ff",
       "select ? from t where b = ?", false, false},
      {"utf-8 text",
       "SELECT nom FROM clients WHERE ville = 'Z\xfcrich' AND pr\xe9nom = '\xc9lodie'",
       "select nom from clients where ville = ? and pr\xe9nom = ?", false, false},
      {"utf-8 identifiers are not lower-cased",
       "SELECT \xdcn\xef"
       "code FROM T\xe0"
       "ble",
       "select \xdcn\xef"
       "code from t\xe0"
       "ble",
       false, false},
      {"hex and exponent case sensitivity", "select 0x1F, 0XFF, 1E5, 1e5, 1.5E-3 from t",
       "select ?f, ?xff, ?e?, ?, ?e? from t", false, false},
      {"negative and signed numbers", "select -1, +2, 3-4, a-5 from t", "select ?, ?, ?, a? from t",
       false, false},
      {"numbers in identifiers", "select c1, t_2009, 2fast from db3.tbl_42",
       "select c?, t_?, ?st from d?tbl_?", false, false},
      {"numbers in identifiers (embedded)",
       "select c1, t_2009, 2fast from db3.tbl_42 where x=-1 and y = 7",
       "select c1, t_2009, ?st from db3.tbl_42 where x=? and y = ?", false, true},
      {"md5 checksum option",
       "select * from a.1234567890abcdef1234567890abcdef_x where "
       "b-0123456789abcdef0123456789abcdefff",
       "select * from a.?_x where ??ff", true, false},
      {"md5 checksum uppercase is not matched", "select * from a.1234567890ABCDEF1234567890ABCDEF",
       "select * from a.?abcdef?abcdef", true, false},
      {"booleans", "select true, FALSE, True1, is_true from t where x = -false",
       "select ?, ?, true?, is_true from t where x = ??", false, false},
      {"null", "select NULL, nullable, isnull(a), null_x from t where b is not null",
       "select ?, nullable, isnull(a), null_x from t where b is not ?", false, false},
      {"in lists",
       "select * from t where a in (1,2,3) and b IN ('x', 'y') and c in(select d from u) and e not "
       "in ( )",
       "select * from t where a in(?+) and b in(?+) and c in(select d from u) and e not in(?+)",
       false, false},
      {"in list with null", "select * from t where a in (NULL, 1)",
       "select * from t where a in(?+)", false, false},
      {"join is not in", "select * from t join (select 1) x", "select * from t join (select ?) x",
       false, false},
      {"values and value",
       "INSERT INTO t (a,b) VALUES (1,2),(3,4) ON DUPLICATE KEY UPDATE b=VALUES(b)",
       "insert into t (a,b) values(?+)", false, false},
      {"insert low_priority is not shortened early", "INSERT LOW_PRIORITY INTO t VALUES (1),(2)",
       "insert low_priority into t values(?+)", false, false},
      {"insert two spaces before ignore", "INSERT  IGNORE INTO t VALUES (1),(2)",
       "insert ignore into t values(?+)", false, false},
      {"insert set", "insert into t set a=1, b='x'", "insert into t set a=?, b=?", false, false},
      {"replace select", "REPLACE INTO t SELECT * FROM u WHERE id = 5",
       "replace into t select * from u where id = ?", false, false},
      {"insert with paren in string", "INSERT INTO t VALUES ('a)b', 1), ('c', 2)",
       "insert into t values(?+)", false, false},
      {"limit forms", "select * from t limit 10", "select * from t limit ?", false, false},
      {"limit comma no space", "select * from t limit 10,20", "select * from t limit ?", false,
       false},
      {"only the first limit", "select * from (select * from t limit 1, 2) x limit 3 offset 4",
       "select * from (select * from t limit ?) x limit ? offset ?", false, false},
      {"limit inside word", "select * from t where xlimit 5", "select * from t where xlimit ?",
       false, false},
      {"order by asc variants", "SELECT * FROM t ORDER BY a ASC, b DESC, c  asc LIMIT 5",
       "select * from t order by a, b desc, c limit ?", false, false},
      {"asc without boundary", "select * from t order by a ascending",
       "select * from t order by aending", false, false},
      {"asc before order by kept", "select a asc from t order by b asc",
       "select a asc from t order by b", false, false},
      {"order by across lines", "select * from t order\nby a asc", "select * from t order by a",
       false, false},
      {"union distinct", "select a from t union select b from u",
       "select a from t union select b from u", false, false},
      {"union same",
       "SELECT a FROM t WHERE id=1 UNION SELECT a FROM t WHERE id=2 UNION ALL SELECT a FROM t "
       "WHERE id=3",
       "select a from t where id=? /*repeat union all*/", false, false},
      {"union all then union", "select 1 union all select 2 union select 3",
       "select ? /*repeat union*/", false, false},
      {"call", "CALL db.proc(1, 'a')", "call db.proc", false, false},
      {"call with spaces keeps them", "  call\tFoo.Bar(1)", "call\tfoo.bar", false, false},
      {"call with nested parens", "call p(f(1))", "call p(f", false, false},
      {"call without parens", "call p", "call p", false, false},
      {"use", "USE Sakila", "use ?", false, false},
      {"use with trailing newline keeps it", "use sakila\n", "use ?\n", false, false},
      {"use with comment", "use sakila -- x", "use sakila ", false, false},
      {"use with backquoted spaces", "use `my db`", "use `my db`", false, false},
      {"administrator command", "administrator command: Quit", "administrator command: Quit", false,
       false},
      {"administrator command needs exact prefix", "Administrator command: Quit",
       "administrator command: quit", false, false},
      {"mysqldump needs exact prefix", "select /*!40001 SQL_NO_CACHE */ * FROM `t`",
       "select /*!? sql_no_cache */ * from `t`", false, false},
      {"pt-table-checksum comment anywhere", "SELECT /*db.tbl:1/5*/ COUNT(*) FROM db.tbl",
       "percona-toolkit", false, false},
      {"multi-line", "SELECT a,\n       b\n  FROM t\n WHERE c = 1\n   AND d = 'x'\n",
       "select a, b from t where c = ? and d = ?", false, false},
      {"crlf", "SELECT a\r\nFROM t\r\nWHERE b = 2\r\n", "select a from t where b = ? ", false,
       false},
      {"trailing two newlines", "select 1\n\n", "select ? ", false, false},
      {"placeholders", "select * from t where a = ? and b = -? and c = x?",
       "select * from t where a = ? and b = ?? and c = ?", false, false},
      {"set timestamp", "SET timestamp=1234567890", "set timestamp=?", false, false},
      {"show", "SHOW /*!50002 GLOBAL */ STATUS LIKE 'Threads%'",
       "show /*!? global */ status like ?", false, false},
      {"semicolon kept", "select 1;", "select ?;", false, false},
      {"dates", "select * from t where d between '2024-01-01' and \"2024-12-31\" and t > 20240101",
       "select * from t where d between ? and ? and t > ?", false, false},
      {"ip and version-like", "select inet_aton('10.0.0.1'), 1.2.3, v1.2",
       "select inet_aton(?), ?, v?", false, false},
      {"backticks", "select `a 1`, `b-2` from `db`.`t_3`", "select `a ?`, `?` from `db`.`t_?`",
       false, false},
  };
  return cases;
}

TEST(FingerprintTest, OwnCases) {
  for (const Case& c : OwnCases()) {
    const FingerprintOptions options{.match_md5_checksums = c.md5,
                                     .match_embedded_numbers = c.embedded};
    EXPECT_EQ(Fingerprint(c.input, options), c.expected) << c.name;
  }
}

TEST(FingerprintTest, NulBytesAreOrdinaryCharacters) {
  const std::string query("select 1\0 from t", 16);
  EXPECT_EQ(Fingerprint(query), std::string("select ?\0 from t", 16));
}

TEST(FingerprintTest, HugeInListAndValues) {
  std::string in = "select * from t where id in (";
  for (int i = 0; i < 100000; ++i) in += (i ? "," : "") + std::to_string(i);
  in += ") and b = 'x'";
  EXPECT_EQ(Fingerprint(in), "select * from t where id in(?+) and b = ?");

  std::string values = "INSERT INTO t (a, b) VALUES ";
  for (int i = 0; i < 100000; ++i) values += (i ? ",(" : "(") + std::to_string(i) + ", 'v')";
  EXPECT_EQ(Fingerprint(values), "insert into t (a, b) values(?+)");
}

// Pathological inputs: the expected values are pt 3.5.7's (which needs minutes for the first
// one: its one-line-comment regex restarts at every '#'); here every pass is linear.
TEST(FingerprintTest, HostileInputsFinish) {
  const std::string hashes = std::string(200000, '#') + "'";
  EXPECT_EQ(Fingerprint(hashes), hashes);
  EXPECT_EQ(Fingerprint(std::string(200000, '-') + "'x"), "?'x");
  std::string opens;
  for (int i = 0; i < 10000; ++i) opens += "/*";
  const std::string folded = Fingerprint(opens);  // "/*/*/" is a whole comment
  EXPECT_EQ(folded.size(), 3335U);
  EXPECT_EQ(folded.substr(folded.size() - 5), "***/*");
  std::string quotes;  // a quote cannot open a string at the start, so they pair up as '?
  for (int i = 0; i < 5000; ++i) quotes += "'?";
  EXPECT_TRUE(Fingerprint(std::string(20001, '\'')) == quotes + "'");
  std::string unions = "select 1";
  for (int i = 0; i < 2000; ++i) unions += " union select " + std::to_string(i % 7);
  EXPECT_EQ(Fingerprint(unions), "select ? /*repeat union*/");
  std::string asc = "select * from t order by a";
  std::string asc_expected = asc;
  for (int i = 0; i < 20000; ++i) {
    asc += ", c asc";
    asc_expected += ", c";
  }
  EXPECT_EQ(Fingerprint(asc), asc_expected);
}

TEST(FingerprintTest, OutputIsCollapsedAndLowerCase) {
  for (const Case& c : OwnCases()) {
    const std::string fp = Fingerprint(c.input);
    if (fp.starts_with("administrator command: ") || fp.starts_with("use ?") ||
        fp.starts_with("call")) {
      continue;  // returned before whitespace is collapsed
    }
    EXPECT_EQ(fp.find("  "), std::string::npos) << c.name;
    EXPECT_EQ(fp.find_first_of("\n\t\r\f"), std::string::npos) << c.name;
    for (char ch : fp) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << c.name;
  }
}

TEST(FingerprintTest, IntoReusesTheBuffer) {
  std::string out = "previous content";
  FingerprintInto("SELECT 1", {}, out);
  EXPECT_EQ(out, "select ?");
  FingerprintInto("", {}, out);
  EXPECT_EQ(out, "");
}

// --- DigitRunKey: statements that differ only in their digits ---------------------------------

// `query` with its i-th run of digits replaced by `with(i, run)`.
std::string RespellDigitRuns(
    const std::string& query,
    const std::function<std::string(std::size_t, std::string_view)>& with) {
  std::string out;
  std::size_t run = 0;
  for (std::size_t i = 0; i < query.size();) {
    if (!std::isdigit(static_cast<unsigned char>(query[i]))) {
      out += query[i++];
      continue;
    }
    std::size_t j = i;
    while (j < query.size() && std::isdigit(static_cast<unsigned char>(query[j]))) ++j;
    out += with(run++, std::string_view(query).substr(i, j - i));
    i = j;
  }
  return out;
}

// DigitRunKey reads 16-byte blocks (packing them with PSHUFB where the processor has SSSE3):
// its key must be the one read character by character — each run of digits one '0', refused
// at "/*", at "call" and at administrator commands — for texts of every length and alignment
// with digits, '*' and '/' anywhere, runs across block boundaries included.
TEST(FingerprintTest, DigitRunKeyEqualsTheKeyReadCharacterByCharacter) {
  auto reference = [](std::string_view q, std::string& key) {
    key.clear();
    char prev = 0;
    for (const char c : q) {
      const bool digit = c >= '0' && c <= '9';
      if (digit) {
        if (!(prev >= '0' && prev <= '9')) key += '0';
      } else {
        if (c == '*' && prev == '/') return false;
        key += c;
      }
      prev = c;
    }
    std::size_t k = 0;
    while (k < key.size() && std::isspace(static_cast<unsigned char>(key[k]))) ++k;
    if (key.size() - k >= 4 && std::tolower(static_cast<unsigned char>(key[k])) == 'c' &&
        std::tolower(static_cast<unsigned char>(key[k + 1])) == 'a' &&
        std::tolower(static_cast<unsigned char>(key[k + 2])) == 'l' &&
        std::tolower(static_cast<unsigned char>(key[k + 3])) == 'l') {
      return false;
    }
    return !std::string_view(key).starts_with("administrator command:") && !key.empty();
  };
  std::mt19937 rng(5);
  const std::string alphabet = "0123456789012345 abcXYZ_=(),'*/.\n\t";
  std::string key, want;
  std::size_t checked = 0, refused = 0;
  for (int t = 0; t < 20000; ++t) {
    std::string q;
    const std::size_t len = rng() % 90;
    const int style = t % 3;  // digit-heavy, statement-like, or long runs of digits
    for (std::size_t i = 0; i < len; ++i) {
      if (style == 2 && rng() % 2 == 0) {
        q += std::string(rng() % 20 + 1, static_cast<char>('0' + rng() % 10));
      } else if (style == 1 && rng() % 4 != 0) {
        q += "SELECT c FROM sbtest WHERE id="[rng() % 30];
      } else {
        q += alphabet[rng() % alphabet.size()];
      }
    }
    const bool ok = DigitRunKey(q, key);
    ASSERT_EQ(ok, reference(q, want)) << q;
    if (ok) {
      ASSERT_EQ(key, want) << q;
      ++checked;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(checked, 10000U);
  EXPECT_GT(refused, 300U);
}

// The aggregator takes the class of a statement from an earlier one with the same DigitRunKey:
// on every statement of the corpora (pt's cases, ours, the shared slow logs) whose key it
// gives, respelling the runs of digits (shorter, longer, other digits, a single 0) must keep
// the key and the fingerprint; and the statements it refuses are refused for a reason (two
// statements whose fingerprints differ only by digits exist among them).
TEST(FingerprintTest, DigitRunKeyStatementsShareTheFingerprint) {
  std::vector<std::string> queries = testing::AllSlowLogStatements();
  for (const Case& c : OwnCases()) queries.push_back(c.input);
  auto text = dbrunbook::testing::ReadSharedFile(
      "conformance/fingerprints/pt-3.5.7-fingerprint-cases.json");
  ASSERT_TRUE(text) << text.error().ToString();
  const json doc = json::parse(*text);
  for (const json& c : doc.at("cases")) queries.push_back(c.at("input"));
  const std::vector<std::function<std::string(std::size_t, std::string_view)>> respellings = {
      [](std::size_t, std::string_view) { return std::string("0"); },
      [](std::size_t i, std::string_view) { return std::to_string(9876543210ULL + i * 7); },
      [](std::size_t, std::string_view run) {
        std::string r(run);
        for (char& c : r) c = static_cast<char>('0' + (c - '0' + 3) % 10);
        return r;
      },
      [](std::size_t i, std::string_view run) {
        return i % 2 == 0 ? std::string(run) + "1" : std::string(run.substr(0, 1));
      },
  };
  std::size_t keyed = 0, respelled = 0;
  std::string key, other_key;
  for (const std::string& q : queries) {
    if (!DigitRunKey(q, key)) continue;
    ++keyed;
    const std::string fp = Fingerprint(q);
    for (const auto& respell : respellings) {
      const std::string r = RespellDigitRuns(q, respell);
      if (r == q) continue;
      ASSERT_TRUE(DigitRunKey(r, other_key)) << r;
      EXPECT_EQ(other_key, key) << r;
      EXPECT_EQ(Fingerprint(r), fp) << q << "\n respelled: " << r;
      ++respelled;
    }
  }
  EXPECT_GT(keyed, 500U);
  EXPECT_GT(respelled, 400U);
  // What it refuses: the rules that do look at digits.
  for (const char* q :
       {"SELECT /*!40001 SQL_NO_CACHE */ * FROM `t1`", "select * from t /*db.tbl:1/2*/ where a=1",
        "CALL proc1(1)", "  call p2 (3)", "administrator command: Ping", "/* req 12 */ select 1"}) {
    EXPECT_FALSE(DigitRunKey(q, key)) << q;
  }
  EXPECT_NE(Fingerprint("CALL proc1(1)"), Fingerprint("CALL proc2(1)"));
  EXPECT_NE(Fingerprint("select * from t /*db.tbl:1/2*/"),
            Fingerprint("select * from t /*db.tbl:12/2*/"));
  // Multi-line, quoted, hexadecimal and exponent numbers keep their class.
  ASSERT_TRUE(DigitRunKey("SELECT 0x1F, 1e5, 'a1', \"2\" FROM t3\nWHERE id IN (1,22,333)", key));
  ASSERT_TRUE(
      DigitRunKey("SELECT 0x9F, 12e7, 'a7', \"555\" FROM t1\nWHERE id IN (4,5,6)", other_key));
  EXPECT_EQ(key, other_key);
  EXPECT_EQ(Fingerprint("SELECT 0x1F, 1e5, 'a1', \"2\" FROM t3\nWHERE id IN (1,22,333)"),
            Fingerprint("SELECT 0x9F, 12e7, 'a7', \"555\" FROM t1\nWHERE id IN (4,5,6)"));
}

// --- query IDs -------------------------------------------------------------------------------

TEST(QueryIdTest, UpperCaseHexMd5OfTheFingerprint) {
  EXPECT_EQ(QueryId("select sleep(?) from test.n"), "A853B50CDEB4866B3A99CC42AEDCCFCD");
  EXPECT_EQ(QueryId(""), "D41D8CD98F00B204E9800998ECF8427E");
  // Old reports (pt 2.x) print the last 16 digits of the same MD5.
  EXPECT_EQ(QueryIdShort("select sleep(?) from test.n"), "3A99CC42AEDCCFCD");
}

// Every "ID 0x..." of pt-query-digest's expected reports is the ID of a statement of the
// report's input log(s): 32 digits in 3.x reports, the last 16 in the few older ones.
TEST(QueryIdTest, ReportedIdsOfTheSharedReports) {
  auto manifest_text =
      dbrunbook::testing::ReadSharedFile("conformance/pt-query-digest-expected/manifest.json");
  ASSERT_TRUE(manifest_text) << manifest_text.error().ToString();
  const json manifest = json::parse(*manifest_text);
  const std::regex id_re("ID 0x([0-9A-F]{16,32}) ");
  size_t reports = 0;
  size_t ids = 0;
  for (const json& c : manifest.at("cases")) {
    const std::string expected = c.at("expected");
    auto report =
        dbrunbook::testing::ReadSharedFile("conformance/pt-query-digest-expected/" + expected);
    if (!report) continue;  // e.g. the json/ reports, checked elsewhere
    // Reports grouped by something else (--group-by user, tables, db, ...) show the MD5 of
    // that value instead: only the fingerprint-grouped ones are checked here.
    bool preserve = false;
    bool by_fingerprint = true;
    const json& argv = c.at("argv");
    for (size_t k = 0; k < argv.size(); ++k) {
      preserve |= argv[k] == "--preserve-embedded-numbers";
      if (argv[k] == "--group-by" && k + 1 < argv.size()) {
        by_fingerprint &= argv[k + 1] == "fingerprint";
      }
    }
    if (!by_fingerprint) continue;
    std::set<std::string> known;
    for (const json& input : c.at("input")) {
      for (const std::string& s :
           testing::SlowLogStatements("conformance/slowlogs/" + input.get<std::string>())) {
        known.insert(QueryId(Fingerprint(s, {.match_embedded_numbers = preserve})));
      }
    }
    bool counted = false;
    for (std::sregex_iterator it(report->begin(), report->end(), id_re), end; it != end; ++it) {
      const std::string id = (*it)[1];
      bool found = false;
      for (const std::string& k : known) found |= k == id || k.ends_with(id);
      EXPECT_TRUE(found) << expected << ": ID " << id << " is no statement's of its log";
      ++ids;
      counted = true;
    }
    reports += counted ? 1 : 0;
  }
  EXPECT_GE(reports, 40U);
  EXPECT_GE(ids, 100U);
}

// --- abstract fingerprints (FingerprintOptions::abstract, rules A1-A17 in fingerprint.cc) -----

std::string Abstract(std::string_view query, bool md5 = false) {
  return Fingerprint(query, {.match_md5_checksums = md5, .abstract = true});
}

struct AbstractCase {
  const char* rule;
  std::string input;
  std::string expected;
};

const std::vector<AbstractCase>& AbstractCases() {
  static const std::vector<AbstractCase> cases = {
      // A1: pt's special statements.
      {"A1", "SELECT /*!40001 SQL_NO_CACHE */ * FROM `film`", "mysqldump"},
      {"A1", "SELECT /*db.tbl:1/5*/ COUNT(*) FROM db.tbl", "percona-toolkit"},
      {"A1", "administrator command: Quit", "administrator command: Quit"},
      {"A1", "", ""},
      // A2: comments.
      {"A2", "select /**/ 1 /* x */ , 2", "select ?, ?"},
      {"A2", "select a -- it's here\nfrom t", "select a from t"},
      {"A2", "select a # don't\nfrom t", "select a from t"},
      {"A2", "select 5--1", "select ? - ?"},
      {"A2", "select '/*' from t where a = 1 /* x */", "select ? from t where a = ?"},
      {"A2", "select '-- x', \"# y\" from t", "select ?, ? from t"},
      {"A2", "select 1 /* never closed", "select ?"},
      {"A2", "SELECT /*!40001 SQL_NO_CACHE */ a FROM t", "select sql_no_cache a from t"},
      {"A2", "SELECT /*M!100301 STRAIGHT_JOIN */ a FROM t", "select straight_join a from t"},
      {"A2", "SELECT /*+ BKA(t) */ a FROM t", "select a from t"},
      // A3: strings.
      {"A3", "select 'it''s', \"a\\\"b\", 'e\\\\' from t", "select ?, ?, ? from t"},
      {"A3", "'abc' , 'def'", "?, ?"},
      {"A3", "select * from t where a = 'abc", "select * from t where a = ?"},
      {"A3", "select 'a' 'b' \"c\" from t", "select ? from t"},
      {"A3", "select N'x', X'1F', x'1f', B'01', b'01', _utf8mb4'x', _latin1\"y\" from t",
       "select ?, ?, ?, ?, ?, ?, ? from t"},
      {"A3", "select _utf8mb4 'x' from t", "select _utf8mb4 ? from t"},
      {"A3", "select date '2024-01-01', timestamp '2024-01-01 00:00:00'",
       "select date ?, timestamp ?"},
      // A4: numbers.
      {"A4", "select 0x1F, 0b0101, 1e5, 1E5, 1.5E-3, 1.5e+3, .5, 5., 42 from t",
       "select ?, ?, ?, ?, ?, ?, ?, ?, ? from t"},
      {"A4", "select 2fast, 123abc, 0XFF, 0x1G from t", "select 2fast, 123abc, 0xff, 0x1g from t"},
      {"A4", "select * from t where a = ? and b = ?", "select * from t where a = ? and b = ?"},
      // A5: signs.
      {"A5", "select -1, +2, - 3, -?, -'x' from t where a = -5 and b in (-1, +2)",
       "select ?, ?, ?, ?, ? from t where a = ? and b in(?+)"},
      {"A5", "select a-5, a - 5, a+5, a*5, a/-5, (a)-5 from t",
       "select a - ?, a - ?, a + ?, a * ?, a / ?, (a) - ? from t"},
      {"A5", "select * from t where d > now() - interval -1 day",
       "select * from t where d > now() - interval ? day"},
      {"A5", "select case when a then -1 else -2 end - 3 from t",
       "select case when a then ? else ? end - ? from t"},
      {"A5", "select -a, - -b, ~1, !c from t", "select -a, --b, ~?, !c from t"},
      {"A5", "select current_timestamp - 1, @x-1, `a`-1",
       "select current_timestamp - ?, @x - ?, a - ?"},
      // A6: identifiers.
      {"A6", "select c1, t_2009 from db3.tbl_42 join prices2.t1",
       "select c1, t_2009 from db3.tbl_42 join prices2.t1"},
      {"A6", "select * from db.2019_sales s where s.1e5 = 1",
       "select * from db.2019_sales s where s.1e5 = ?"},
      {"A6",
       "SELECT \xdcn\xef"
       "code FROM T\xe0"
       "ble",
       "select \xdcn\xef"
       "code from t\xe0"
       "ble"},
      // A7: backticks.
      {"A7", "select `a`, `B_2`, `$x`, `\xc3\xa9t\xc3\xa9` from `db`.`t_3`",
       "select a, b_2, $x, \xc3\xa9t\xc3\xa9 from db.t_3"},
      {"A7", "select `a 1`, `b-2`, `order`, `123`, `` from `my db`.t",
       "select `a 1`, `b-2`, `order`, `123`, `` from `my db`.t"},
      // A8: spacing.
      {"A8", "SELECT a,b FROM t WHERE id=1 AND (x>=2 OR y<>3)",
       "select a, b from t where id = ? and (x >= ? or y <> ?)"},
      {"A8", "select count( * ), COUNT(*), f ( a , b ) from t",
       "select count(*), count(*), f(a, b) from t"},
      {"A8", "insert into t (a,b) select * from (select 1, 2) x where exists(select 1)",
       "insert into t(a, b) select * from (select ?, ?) x where exists(select ?)"},
      {"A8",
       "select\x0b"
       "1\r\n",
       "select ?"},
      {"A8", "select t.*, t . a, @@session.sql_mode, @v := 1 from t",
       "select t.*, t.a, @@session.sql_mode, @v := ? from t"},
      {"A8", "select j->'$.a', j->>'$.b' from t", "select j -> ?, j ->> ? from t"},
      // A9: case and <>.
      {"A9", "SELECT A FROM T WHERE B != 1 AND C <> 2", "select a from t where b <> ? and c <> ?"},
      // A10: NULL, TRUE, FALSE.
      {"A10", "select null, true, FALSE from t where a is null and b is not NULL and c = null",
       "select ?, ?, ? from t where a is null and b is not null and c = ?"},
      {"A10", "select * from t where a is true and b is not false and c = true and not null",
       "select * from t where a is true and b is not false and c = ? and not null"},
      // A11: IN lists.
      {"A11",
       "select * from t where a in (1) and b IN (1, 2, 3) and c in () and d not in ('x', NULL)",
       "select * from t where a in(?+) and b in(?+) and c in(?+) and d not in(?+)"},
      {"A11", "select * from t where (a, b) in ((1, 2), (3, 4)) and c in (select d from u)",
       "select * from t where (a, b) in(?+) and c in(select d from u)"},
      {"A11", "select * from t where a in (1, b)", "select * from t where a in(?, b)"},
      // A12: VALUES rows.
      {"A12", "INSERT INTO t (a,b) VALUES (1,2)", "insert into t(a, b) values(?+)"},
      {"A12", "INSERT INTO t (a,b) VALUES (1,2),(3,4) ON DUPLICATE KEY UPDATE b=VALUES(b)",
       "insert into t(a, b) values(?+) on duplicate key update b = values(b)"},
      {"A12",
       "insert into t values (1, now()), (2, now()) as new on duplicate key update a = new.a",
       "insert into t values(?, now()) as new on duplicate key update a = new.a"},
      {"A12", "replace into t value (1), (2)", "replace into t value(?+)"},
      {"A12", "values row(1, 2), row(3, 4)", "values row(?+)"},
      {"A12", "insert into t values (1), (2), (3", "insert into t values(?+), (?"},
      // A13: LIMIT.
      {"A13", "select * from t limit 10", "select * from t limit ?"},
      {"A13", "select * from (select * from t limit 1, 2) x limit 3 offset 4",
       "select * from (select * from t limit ?) x limit ?"},
      {"A13", "select * from t limit 10 , 20", "select * from t limit ?"},
      // A14: ASC.
      {"A14", "SELECT * FROM t ORDER BY a ASC, b DESC, c  asc LIMIT 5",
       "select * from t order by a, b desc, c limit ?"},
      {"A14", "select * from t order by ascending, ascii(a)",
       "select * from t order by ascending, ascii(a)"},
      {"A14", "select a from t group by a asc", "select a from t group by a"},
      // A15: UNION.
      {"A15",
       "SELECT a FROM t WHERE id=1 UNION SELECT a FROM t WHERE id = 2 UNION ALL SELECT a FROM t "
       "WHERE id=3",
       "select a from t where id = ? /*repeat union all*/"},
      {"A15", "select a from t union select a from t2", "select a from t union select a from t2"},
      {"A15", "select a from t where id=1 union select a from t where id=2 and x=3",
       "select a from t where id = ? union select a from t where id = ? and x = ?"},
      {"A15", "select * from (select a from t where id = 1 union select a from t where id = 2) x",
       "select * from (select a from t where id = ? /*repeat union*/) x"},
      {"A15", "select a from t union select a from t order by a limit 5",
       "select a from t /*repeat union*/ order by a limit ?"},
      // A16: CALL, USE, the end of the statement.
      {"A16", "CALL db.proc(1, 'a')", "call db.proc"},
      {"A16", "call p(f(1))", "call p"},
      {"A16", "  call\tFoo.Bar (1)", "call foo.bar"},
      {"A16", "CALL `db`.`proc`", "call db.proc"},
      {"A16", "call", "call"},
      {"A16", "USE Sakila", "use ?"},
      {"A16", "use `my db`;\n", "use ?"},
      {"A16", "use sakila -- x", "use ?"},
      {"A16", "use a b", "use a b"},
      {"A16", "select 1;", "select ?"},
      {"A16", "select 1; select 2;;", "select ?; select ?"},
      // A17: positions in ORDER BY / GROUP BY.
      {"A17", "select a, count(*) from t group by 1 order by 2 desc, 3 limit 5",
       "select a, count(*) from t group by 1 order by 2 desc, 3 limit ?"},
      {"A17", "select a from t order by a + 1, 2 = 2, f(3), 4",
       "select a from t order by a + ?, ? = ?, f(?), 4"},
      {"A17", "select a from t group by 1 with rollup", "select a from t group by 1 with rollup"},
      // match_md5_checksums still applies, inside identifiers only.
      {"md5", "SELECT * FROM db.fbc5e685a5d3d45aa1d0347fdb7c4d35_temp where id=1",
       "select * from db.?_temp where id = ?"},
  };
  return cases;
}

TEST(AbstractFingerprintTest, Cases) {
  size_t checked = 0;
  for (const AbstractCase& c : AbstractCases()) {
    EXPECT_EQ(Abstract(c.input, std::string_view(c.rule) == "md5"), c.expected)
        << c.rule << ": " << c.input;
    ++checked;
  }
  EXPECT_GE(checked, 40U);
}

// Fingerprints are pure functions of the statement's tokens: pt mode is unchanged by the new
// option's default, and match_embedded_numbers has no effect in abstract mode.
TEST(AbstractFingerprintTest, OptionsCombine) {
  const std::string q = "SELECT * FROM prices2.rt_5min WHERE id=0x1F";
  EXPECT_EQ(Fingerprint(q), "select * from prices?rt_?min where id=?f");
  EXPECT_EQ(Fingerprint(q, {.abstract = false}), Fingerprint(q));
  EXPECT_EQ(Fingerprint(q, {.match_embedded_numbers = true, .abstract = true}), Abstract(q));
  EXPECT_EQ(Abstract(q), "select * from prices2.rt_5min where id = ?");
}

// Every spelling of one literal is one class; pt mode splits them (the quirks fixed).
TEST(AbstractFingerprintTest, EveryLiteralSpellingIsOneClass) {
  const std::vector<std::string> literals = {
      "5",           "-5",      "+5",      "- 5",  "0x1F",  "X'1F'", "x'1f'",   "b'0101'", "0b0101",
      "1e5",         "1.5E-3",  "-1.5e+3", ".5",   "'s'",   "\"s\"", "'it''s'", "'a\\'b'", "N'x'",
      "_utf8mb4'x'", "'a' 'b'", "NULL",    "true", "FALSE", "?",     "-?"};
  const std::vector<std::string> templates = {
      "SELECT * FROM t WHERE a = {}",
      "select * from t where a > {} and b < {} order by c",
      "UPDATE t SET a = {}, b = {} WHERE id = {}",
      "select {}, f({}), {} from t",
      "select * from t where a between {} and {}",
      "insert into t (a, b) values ({}, {})",
  };
  for (const std::string& tmpl : templates) {
    std::set<std::string> pt_classes;
    std::set<std::string> abstract_classes;
    for (const std::string& lit : literals) {
      std::string q = tmpl;
      for (size_t at = q.find("{}"); at != std::string::npos; at = q.find("{}", at)) {
        q.replace(at, 2, lit);
        at += lit.size();
      }
      pt_classes.insert(Fingerprint(q));
      abstract_classes.insert(Abstract(q));
    }
    EXPECT_EQ(abstract_classes.size(), 1U)
        << tmpl << ": " << *abstract_classes.begin() << " / " << *abstract_classes.rbegin();
    EXPECT_GT(pt_classes.size(), 3U) << tmpl;
  }
}

// Groups of spellings of one statement: each group is one abstract class; `pt_splits` says
// whether pt mode gives it several (it always does here but for the two pt already handles).
TEST(AbstractFingerprintTest, EverySpellingOfAShapeIsOneClass) {
  struct Group {
    const char* what;
    std::vector<std::string> spellings;
    bool pt_splits;
  };
  const std::vector<Group> groups = {
      {"spacing",
       {"select a from t where id=1", "select a from t where id = 1",
        "SELECT a\n  FROM t\n WHERE id =\t1", "select a from t where id= 1 "},
       true},
      {"parentheses",
       {"select count(*) from t where (a=1)", "select count( * ) from t where ( a = 1 )",
        "select COUNT (*) from t where (a =1)"},
       true},
      {"comments",
       {"select a from t where b = 1", "/* app:orders */ select a from t where b = 1",
        "select a from t -- it's a comment\nwhere b = 1",
        "select a /**/ from t where /* x */ b = 1", "select a from t where b = 1 # done"},
       true},
      {"backticks",
       {"select a from db.t where b = 1", "select `a` from `db`.`t` where `b` = 1",
        "SELECT `A` FROM db.`T` WHERE b = 1"},
       true},
      {"trailing ;", {"select a from t", "select a from t;", "select a from t ;\r\n"}, true},
      {"IN list length",
       {"select * from t where id in (1)", "select * from t where id IN (1,2,3)",
        "select * from t where id in ( 1 , 2 )", "select * from t where id in (?)",
        "select * from t where id in (-1, NULL, 'x', 0x1F)"},
       true},
      {"tuple IN list length",
       {"select * from t where (a, b) in ((1, 2))",
        "select * from t where (a, b) in ((1, 2), (3, 4), (5, 6))"},
       true},
      {"VALUES rows with ON DUPLICATE KEY UPDATE",
       {"insert into t (a, b) values (1, 2) on duplicate key update b = values(b)",
        "insert into t (a, b) values (1, 2), (3, 4) on duplicate key update b = values(b)",
        "INSERT INTO t(a,b) VALUES(1,2),(3,4),(5,6) ON DUPLICATE KEY UPDATE b=VALUES(b)"},
       true},
      {"LIMIT forms",
       {"select * from t order by a limit 10", "select * from t order by a limit 10, 20",
        "select * from t order by a limit 20 offset 10", "select * from t order by a limit ?, ?"},
       false},
      {"<> and !=", {"select * from t where a <> 1", "select * from t where a != 1"}, true},
      {"ASC", {"select * from t order by a", "select * from t order by a asc"}, false},
      {"CALL", {"call p(1)", "CALL p (1, 2)", "call `p`(f(1))", "call p"}, true},
      {"USE", {"use db", "USE `db`;", "use db -- x"}, true},
      {"version comment",
       {"select sql_no_cache a from t", "select /*!40001 sql_no_cache */ a from t",
        "select /*!40001 SQL_NO_CACHE*/ a from t"},
       true},
  };
  for (const Group& g : groups) {
    std::set<std::string> pt_classes;
    std::set<std::string> abstract_classes;
    for (const std::string& q : g.spellings) {
      pt_classes.insert(Fingerprint(q));
      abstract_classes.insert(Abstract(q));
    }
    EXPECT_EQ(abstract_classes.size(), 1U)
        << g.what << ": " << *abstract_classes.begin() << " / " << *abstract_classes.rbegin();
    EXPECT_EQ(pt_classes.size() > 1, g.pt_splits) << g.what;
  }
}

// Statements that differ in shape stay apart; pt merges each pair (`pt_merges`) or not.
TEST(AbstractFingerprintTest, DifferentShapesStayApart) {
  struct Pair {
    const char* what;
    std::string a;
    std::string b;
    bool pt_merges;
  };
  const std::vector<Pair> pairs = {
      {"tables", "select * from users_2009", "select * from users_2010", true},
      {"columns", "select c1 from t", "select c2 from t", true},
      {"minus and plus", "update t set a = a - 1", "update t set a = a + 1", true},
      {"IS NOT NULL and IS NOT FALSE", "select * from t where a is not null",
       "select * from t where a is not false", true},
      {"IS TRUE and IS NULL", "select * from t where a is true", "select * from t where a is null",
       true},
      {"positions", "select a, b from t order by 1", "select a, b from t order by 2", true},
      {"group by positions", "select a, b, count(*) from t group by 1",
       "select a, b, count(*) from t group by 2", true},
      {"ORDER BY ascii()", "select * from t order by x, ascii(a)",
       "select * from t order by x,ii(a)", true},
      {"a longer union", "select a from t where id=1 union select a from t where id=2 and x=3",
       "select a from t where id=1 union select a from t where id=2", false},
      {"union of another table", "select a from t union select a from t2",
       "select a from t union select a from t", false},
      {"ON DUPLICATE KEY UPDATE", "insert into t values (1), (2) on duplicate key update a = 1",
       "insert into t values (1), (2) on duplicate key update b = 1", true},
      {"IN list with a column", "select * from t where a in (1, 2)",
       "select * from t where a in (1, b)", false},
      {"DESC", "select * from t order by a", "select * from t order by a desc", false},
      {"UNION ALL", "select a from t union select b from t",
       "select a from t union all select b from t", false},
      {"quoted names with spaces", "select `a b` from t", "select a b from t", false},
      {"reserved names", "select `order` from t", "select order from t", false},
  };
  for (const Pair& p : pairs) {
    EXPECT_NE(Abstract(p.a), Abstract(p.b)) << p.what;
    EXPECT_EQ(Fingerprint(p.a) == Fingerprint(p.b), p.pt_merges) << p.what;
  }
}

// On the shared slow logs the abstract classes refine nothing away that pt keeps apart with
// --preserve-embedded-numbers (pt's mode closest to ours): every such pt class is one abstract
// class, except multi-row INSERTs with ON DUPLICATE KEY UPDATE, which pt cuts after the first
// row (A12); and abstract classes merge pt classes only where those differ by backticks (A7)
// or trailing whitespace (A16).
TEST(AbstractFingerprintTest, ClassesOnTheSharedSlowLogs) {
  const std::vector<std::string> statements = testing::AllSlowLogStatements();
  ASSERT_GE(statements.size(), 500U);
  std::map<std::string, std::set<std::string>> by_pt;
  std::map<std::string, std::set<std::string>> by_abstract;
  for (const std::string& s : statements) {
    const std::string pt = Fingerprint(s, {.match_embedded_numbers = true});
    const std::string abstract = Abstract(s);
    by_pt[pt].insert(abstract);
    by_abstract[abstract].insert(pt);
  }
  size_t splits = 0;
  for (const auto& [pt, abstracts] : by_pt) {
    if (abstracts.size() == 1) continue;
    ++splits;
    size_t with_odku = 0;
    for (const std::string& a : abstracts) {
      with_odku += a.find(" on duplicate key update ") != std::string::npos ? 1 : 0;
    }
    EXPECT_TRUE(pt.starts_with("insert ") && with_odku + 1 == abstracts.size()) << pt;
  }
  EXPECT_EQ(splits, 1U);
  auto plain = [](std::string fp) {
    std::erase(fp, '`');
    while (fp.ends_with(' ')) fp.pop_back();
    return fp;
  };
  for (const auto& [abstract, pts] : by_abstract) {
    for (const std::string& pt : pts) EXPECT_EQ(plain(pt), plain(*pts.begin())) << abstract;
  }
  EXPECT_LT(by_abstract.size(), by_pt.size());
  EXPECT_GE(by_abstract.size(), 60U);
}

// Respelling a statement (case, spacing around operators and parentheses, comments, a final
// `;`) never changes its abstract fingerprint. Checked on every slow-log statement without
// quotes, comments or hex (whose text the respelling would change).
TEST(AbstractFingerprintTest, RespellingTheSharedSlowLogs) {
  size_t checked = 0;
  for (const std::string& s : testing::AllSlowLogStatements()) {
    if (s.find_first_of("'\"`#") != std::string::npos || s.find("/*") != std::string::npos ||
        s.find("--") != std::string::npos || s.find("0x") != std::string::npos ||
        s.starts_with("administrator command: ")) {
      continue;
    }
    std::string respelled = "/* respelled */ ";
    for (size_t k = 0; k < s.size(); ++k) {
      const char c = s[k];
      const char prev = k > 0 ? s[k - 1] : ' ';
      const char next = k + 1 < s.size() ? s[k + 1] : ' ';
      const bool compound =
          (c == '=' && std::string_view("<>!:").find(prev) != std::string_view::npos) ||
          (c != '=' && next == '=') || (c == '<' && next == '>') || (c == '>' && prev == '<');
      if (c == ' ') {
        respelled += " \n\t ";
      } else if (!compound && std::string_view("=,()<>").find(c) != std::string_view::npos) {
        respelled += ' ';
        respelled += c;
        respelled += ' ';
      } else {
        respelled += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    respelled += " ;";
    EXPECT_EQ(Abstract(respelled), Abstract(s)) << s;
    ++checked;
  }
  EXPECT_GE(checked, 100U);
}

TEST(AbstractFingerprintTest, OutputIsCanonical) {
  for (const AbstractCase& c : AbstractCases()) {
    const std::string fp = Abstract(c.input);
    if (fp.starts_with("administrator command: ")) continue;
    EXPECT_EQ(fp.find("  "), std::string::npos) << c.input;
    EXPECT_EQ(fp.find_first_of("\n\t\r\f\v"), std::string::npos) << c.input;
    EXPECT_FALSE(fp.starts_with(' ') || fp.ends_with(' ') || fp.ends_with(';')) << c.input;
    for (char ch : fp) EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << c.input;
  }
}

// Pathological inputs finish (every rule is linear) and give the obvious answers.
TEST(AbstractFingerprintTest, HostileInputsFinish) {
  std::string in = "select * from t where id in (";
  for (int i = 0; i < 100000; ++i) in += (i ? ", -" : "") + std::to_string(i);
  EXPECT_EQ(Abstract(in + ")"), "select * from t where id in(?+)");
  std::string values = "INSERT INTO t (a, b) VALUES ";
  for (int i = 0; i < 100000; ++i) values += (i ? ",(" : "(") + std::to_string(i) + ", now())";
  EXPECT_EQ(Abstract(values + " ON DUPLICATE KEY UPDATE a = 1"),
            "insert into t(a, b) values(?, now()) on duplicate key update a = ?");
  std::string nested;
  for (int i = 0; i < 50000; ++i) nested += "values(";
  EXPECT_EQ(Abstract(nested).size(), 50000U * 7);
  EXPECT_EQ(Abstract(std::string(200000, '-') + "a"), std::string(200000, '-') + "a");
  EXPECT_EQ(Abstract(std::string(200000, '#') + "'"), "");
  std::string opens;  // "/*/*/" is a whole comment, as for MySQL; the `*` between them stay
  for (int i = 0; i < 10000; ++i) opens += "/*";
  const std::string folded = Abstract(opens);
  EXPECT_EQ(folded.find_first_not_of("* "), std::string::npos);
  EXPECT_EQ(folded.size(), 2U * 3333 - 1);
  EXPECT_EQ(Abstract(std::string(20001, '\'')), "?");
  EXPECT_EQ(Abstract(std::string(20001, '(')), std::string(20001, '('));
  std::string unions = "select 1";
  for (int i = 0; i < 2000; ++i) unions += " union select " + std::to_string(i % 7);
  EXPECT_EQ(Abstract(unions), "select ? /*repeat union*/");
  const std::string nul("select 1\0 from t", 16);
  EXPECT_EQ(Abstract(nul), std::string("select ? \0 from t", 17));
}

// The query ID is the same MD5 over the abstract text: equal to pt's only when both
// fingerprints happen to be the same text.
TEST(AbstractFingerprintTest, QueryIdIsTheMd5OfTheAbstractFingerprint) {
  const std::string q = "SELECT sleep(2) FROM test.n";
  EXPECT_EQ(QueryId(Abstract(q)), "A853B50CDEB4866B3A99CC42AEDCCFCD");  // same text as pt's
  const std::string quirk = "select * from t where id=0x1F";
  EXPECT_NE(Abstract(quirk), Fingerprint(quirk));
  EXPECT_NE(QueryId(Abstract(quirk)), QueryId(Fingerprint(quirk)));
  EXPECT_EQ(QueryId(Abstract(quirk)), QueryId("select * from t where id = ?"));
}

}  // namespace
}  // namespace dbrunbook::digest
