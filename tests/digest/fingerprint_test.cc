// Fingerprints and query IDs against pt-query-digest 3.5.7: every upstream test case
// (../shared/conformance/fingerprints), our own cases (hostile input included; the expected
// values were produced by Percona's 3.5.7 QueryRewriter rules and checked by hand), and the
// query IDs printed in pt-query-digest's expected reports for the shared slow logs.
#include "digest/fingerprint.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
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

}  // namespace
}  // namespace dbrunbook::digest
