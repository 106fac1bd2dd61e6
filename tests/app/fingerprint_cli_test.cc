// `dbrunbook fingerprint` as a process ($DBRUNBOOK_BINARY): input modes, output format, exit
// statuses, errors naming the file, and (when pt-fingerprint is installed) byte-identical
// output with pt-fingerprint on the shared slow logs read as raw --multi input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/cli_fixture.h"
#include "support/recorded_output.h"

namespace dbrunbook::app {
namespace {

namespace fs = std::filesystem;

using testing::RunResult;

class FingerprintCliTest : public testing::CliFixture {
 protected:
  FingerprintCliTest() : CliFixture("fp-cli") {}
};

TEST_F(FingerprintCliTest, OneStatementPerLineFromStdin) {
  const RunResult run = Shell("$B fingerprint",
                              "SELECT * FROM t WHERE id = 42;\n\n   \nselect 'a', 0x1F\r\n"
                              "INSERT INTO t VALUES (1,'x'),(2,'y')");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "select * from t where id = ?\n"
            "select ?, ?f\n"
            "insert into t values(?+)\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(FingerprintCliTest, QueryIdAndOptions) {
  RunResult run = Shell("$B fingerprint --query-id --query 'select sleep(2) from test.n'");
  EXPECT_EQ(run.status, 0);
  EXPECT_EQ(run.out, "A853B50CDEB4866B3A99CC42AEDCCFCD\tselect sleep(?) from test.n\n");
  run = Shell("$B fingerprint --match-embedded-numbers -",
              "SELECT * FROM prices.rt_5min where id=1\n");
  EXPECT_EQ(run.out, "select * from prices.rt_5min where id=?\n");
  run = Shell("$B fingerprint --match-md5-checksums",
              "SELECT * FROM db.fbc5e685a5d3d45aa1d0347fdb7c4d35_temp where id=1\n");
  EXPECT_EQ(run.out, "select * from db.?_temp where id=?\n");
}

// --abstract: dbrunbook's own fingerprint (digest/fingerprint.cc, rules A1-A17), with every
// input mode; the query ID is the MD5 of the abstract text. Without the flag nothing changes.
TEST_F(FingerprintCliTest, AbstractFingerprints) {
  const std::string input =
      "SELECT * FROM t WHERE id=0x1F;\n"
      "select `a` from tbl_2009 where x IN (1) and y = -5 limit 1, 2\n"
      "INSERT INTO t VALUES (1),(2) ON DUPLICATE KEY UPDATE a=1\n";
  RunResult run = Shell("$B fingerprint --abstract", input);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "select * from t where id = ?\n"
            "select a from tbl_2009 where x in(?+) and y = ? limit ?\n"
            "insert into t values(?+) on duplicate key update a = ?\n");
  EXPECT_EQ(run.err, "");
  run = Shell("$B fingerprint", input);
  EXPECT_EQ(run.out,
            "select * from t where id=?f\n"
            "select `a` from tbl_? where x in(?+) and y = ? limit ?\n"
            "insert into t values(?+)\n");

  run = Shell("$B fingerprint --abstract --query-id --query 'select * from t where id = 0x1F'");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "86A4FD498C70095E35FC3906162972DA\tselect * from t where id = ?\n");
  run = Shell("$B fingerprint --query-id --query 'select * from t where id=0x1F'");
  EXPECT_EQ(run.out, "322DAB89E3EFAD3118AE82882F63BE66\tselect * from t where id=?f\n");

  const std::string file =
      Write("abstract.sql",
            "# comment line\n"
            "SELECT a\n  FROM `db`.`t`\n WHERE c IN (1, 2)\n LIMIT 5 OFFSET 10;\n"
            "use `my db`;\n");
  run = Shell("$B fingerprint --multi --abstract --match-embedded-numbers '" + file + "'");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "select a from db.t where c in(?+) limit ?\nuse ?\n");

  run = Shell("$B fingerprint --help");
  EXPECT_EQ(run.status, 0);
  EXPECT_NE(run.out.find("--abstract"), std::string::npos) << run.out;
}

TEST_F(FingerprintCliTest, MultiReadsPtFingerprintRecords) {
  const std::string file = Write("q.sql",
                                 "# a comment line\n"
                                 "SELECT a,\n  b FROM t\n WHERE c IN (1, 2);\n"
                                 "use sakila;\n"
                                 "  -- not starting with a word character: skipped;\n"
                                 "select 1");
  const RunResult run = Shell("$B fingerprint --multi '" + file + "'");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "select a, b from t where c in(?+)\nuse ?\nselect ?\n");
}

TEST_F(FingerprintCliTest, UnreadableFilesAreNamedAndTheOthersStillRead) {
  const std::string good = Write("good.sql", "select 1\n");
  const std::string missing = (dir_ / "missing.sql").string();
  const RunResult run =
      Shell("$B fingerprint '" + missing + "' '" + good + "' '" + dir_.string() + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "select ?\n");
  EXPECT_NE(run.err.find("cannot open " + missing + ": No such file or directory"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("cannot read " + dir_.string() + ": Is a directory"), std::string::npos)
      << run.err;
}

TEST_F(FingerprintCliTest, UsageErrorIsTwo) {
  const RunResult run = Shell("$B fingerprint --no-such-flag");
  EXPECT_EQ(run.status, 2);
}

TEST_F(FingerprintCliTest, SameBytesAsPtFingerprintOnTheSharedSlowLogs) {
  if (std::system("command -v pt-fingerprint > /dev/null 2>&1") != 0) {  // NOLINT
    GTEST_SKIP() << "pt-fingerprint is not installed";
  }
  const fs::path logs = dbrunbook::testing::SharedPath("conformance/slowlogs");
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(logs)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".gz") continue;
    const std::string path = entry.path().string();
    const RunResult ours = Shell("$B fingerprint --multi '" + path + "'");
    const RunResult theirs = Shell("pt-fingerprint '" + path + "'");
    EXPECT_EQ(ours.status, 0) << path;
    EXPECT_EQ(ours.out, theirs.out) << path;
    ++compared;
  }
  EXPECT_GE(compared, 40);
}

}  // namespace
}  // namespace dbrunbook::app
