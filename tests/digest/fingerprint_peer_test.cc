// Differential test against the real peer: Debian's percona-toolkit `pt-fingerprint` (3.2.1)
// on every statement of the shared slow logs and on our own tricky statements. 3.2.1 predates
// two fingerprint changes that pt-query-digest 3.5.7 has (and so do we):
//   * issue 965553 (pt 3.0.x, after 3.2.1's QueryRewriter copy): `true`/`false` become `?`;
//   * PT-1900 (pt 3.3.2): backslash escapes and quoted strings are handled by new rules
//     (an escaped backslash no longer leaves a stray quote behind, '' and "" become ?).
// A statement may differ from 3.2.1 only if it is listed in kKnownDifferences with the reason;
// any other difference is a failure. The test is skipped when pt-fingerprint is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "digest/fingerprint.h"
#include "digest/fingerprint_corpus.h"
#include "support/peer_tools.h"

namespace dbrunbook::digest {
namespace {

namespace fs = std::filesystem;

struct KnownDifference {
  const char* statement;  // exact statement text
  const char* reason;
};

// Filled from the first run of this test and checked by hand against the two changes above.
const std::vector<KnownDifference>& KnownDifferences() {
  static const std::vector<KnownDifference> known = {
      {"select ''' from t",
       "PT-1900: a string needs a non-backslash character before its opening quote and may end "
       "with [^\\\\]?' so ''' is one string (3.5.7: ?); 3.2.1 matched '' and left a quote"},
      {"select 'it''s' from t",
       "PT-1900: 'it' is a string and 's' then follows the ? (3.5.7: ?'s'); 3.2.1 took 'it' and "
       "'s' as two strings, giving two ?"},
      {"select 'e\\\\' from t",
       "PT-1900: escaped backslashes are removed before strings are matched (3.5.7: ?); 3.2.1 "
       "removed the \\' and left 'e\\ unmatched (upstream's 'Does not handle all quoted "
       "strings' case changed its expectation with PT-1900)"},
      {"select true, FALSE, True1, is_true from t where x = -false",
       "issue 965553: the words true and false become ? (3.5.7), so -false is -? and then two ?; "
       "3.2.1 keeps the words and reads -f as a number (?lse)"},
  };
  return known;
}

// Our own statements: hostile and unusual input that pt-fingerprint's reader passes through
// unchanged (it starts with a word character, has no ";\n" and no line starting with '#').
const std::vector<std::string>& OwnStatements() {
  static const std::vector<std::string> statements = {
      "select * from t where a = 'abc",
      "select 1 /* never closed",
      "select /**/ 1 /* x */ 2",
      "select /*!40101 SQL_NO_CACHE */ a from t",
      "select a -- it's here\nfrom t",
      "select 'a /* b */ c' from t",
      "select ''' from t",
      "select 'it''s' from t",
      "select 'a\\'b', \"c\\\"d\" from t",
      "select 'e\\\\' from t",
      "select a\\b from t",
      "select \"a'b\" , 'c\"d' from t",
      "select '\x01\x02\xff' from t where b = 0x00ff",
      "SELECT nom FROM clients WHERE ville = 'Z\xc3\xbcrich'",
      "select 0x1F, 0XFF, 1E5, 1e5, 1.5E-3 from t",
      "select -1, +2, 3-4, a-5 from t",
      "select c1, t_2009, 2fast from db3.tbl_42",
      "select true, FALSE, True1, is_true from t where x = -false",
      "select NULL, nullable, isnull(a), null_x from t where b is not null",
      "select * from t where a in (1,2,3) and b IN ('x', 'y') and c in(select d from u)",
      "INSERT INTO t (a,b) VALUES (1,2),(3,4) ON DUPLICATE KEY UPDATE b=VALUES(b)",
      "INSERT LOW_PRIORITY INTO t VALUES (1),(2)",
      "INSERT INTO t VALUES ('a)b', 1), ('c', 2)",
      "select * from (select * from t limit 1, 2) x limit 3 offset 4",
      "SELECT * FROM t ORDER BY a ASC, b DESC, c  asc LIMIT 5",
      "select * from t order by a ascending",
      "select a from t union select b from u",
      "SELECT a FROM t WHERE id=1 UNION SELECT a FROM t WHERE id=2 UNION ALL SELECT a FROM t",
      "CALL db.proc(1, 'a')",
      "call p(f(1))",
      "USE Sakila",
      "administrator command: Quit",
      "SELECT /*db.tbl:1/5*/ COUNT(*) FROM db.tbl",
      "SELECT a,\n       b\n  FROM t\n WHERE c = 1\n   AND d = 'x'",
      "select * from t where a = ? and b = -? and c = x?",
      "SHOW /*!50002 GLOBAL */ STATUS LIKE 'Threads%'",
      "select `a 1`, `b-2` from `db`.`t_3`",
  };
  return statements;
}

// pt-fingerprint's reader leaves these statements alone, and the output stays one line each.
bool Usable(const std::string& s) {
  if (s.empty() || s.find(";\n") != std::string::npos || s.back() == '\n') return false;
  const char c = s[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
    return false;
  }
  for (size_t k = 0; k + 1 < s.size(); ++k) {
    if (s[k] == '\n' && s[k + 1] == '#') return false;
  }
  return Fingerprint(s).find('\n') == std::string::npos;
}

TEST(FingerprintPeerTest, SameAsPtFingerprint321ExceptKnownChanges) {
  const std::string tool = dbrunbook::testing::FindInPath("pt-fingerprint");
  if (tool.empty()) GTEST_SKIP() << "pt-fingerprint is not installed";

  std::vector<std::string> statements;
  for (auto& s : testing::AllSlowLogStatements()) {
    if (Usable(s)) statements.push_back(std::move(s));
  }
  const size_t from_logs = statements.size();
  for (const auto& s : OwnStatements()) {
    if (Usable(s)) statements.push_back(s);
  }
  ASSERT_GE(from_logs, 200U);

  const fs::path dir =
      fs::temp_directory_path() / ("dbrunbook-fp-peer-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path input = dir / "statements.sql";
  const fs::path output = dir / "fingerprints.txt";
  {
    std::ofstream out(input, std::ios::binary);
    for (const auto& s : statements) out << s << ";\n";
  }
  const std::string command = "'" + tool + "' '" + input.string() + "' > '" + output.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;  // NOLINT(concurrency-mt-unsafe)
  std::vector<std::string> theirs;
  {
    std::ifstream in(output, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) theirs.push_back(line);
  }
  fs::remove_all(dir);
  ASSERT_EQ(theirs.size(), statements.size());

  std::map<std::string, std::string> known;
  for (const auto& k : KnownDifferences()) known[k.statement] = k.reason;
  size_t same = 0;
  size_t explained = 0;
  for (size_t k = 0; k < statements.size(); ++k) {
    const std::string ours = Fingerprint(statements[k]);
    if (ours == theirs[k]) {
      ++same;
      EXPECT_EQ(known.count(statements[k]), 0U)
          << "listed as a known difference but equal: " << statements[k];
      continue;
    }
    if (known.count(statements[k]) != 0) {
      ++explained;
      continue;
    }
    ADD_FAILURE() << "differs from pt-fingerprint 3.2.1:\n  statement: " << statements[k]
                  << "\n  ours:      " << ours << "\n  3.2.1:     " << theirs[k];
  }
  std::printf(
      "compared %zu statements (%zu from the slow logs): %zu identical, %zu known 3.5.7 "
      "changes\n",
      statements.size(), from_logs, same, explained);
}

}  // namespace
}  // namespace dbrunbook::digest
