// The runbook file through the real binary ($DBRUNBOOK_BINARY): `config check` validates the
// runbook (the built-in one, or --runbook FILE) beside the configuration, with file:line:col
// diagnostics and exit statuses 0 / 1 / 2; `runbook show` and `runbook print-default`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "support/cli_fixture.h"

namespace dbrunbook::runbook {
namespace {

using testing::RunResult;

constexpr const char* kConfig =
    "targets:\n"
    "  - name: primary\n"
    "    host: 127.0.0.1\n"
    "    user: monitor\n";

constexpr const char* kGoodRunbook =
    "runbook:\n"
    "  name: orders\n"
    "  version: 2\n"
    "  owner: dba-team\n"
    "triggers:\n"
    "  - name: slow\n"
    "    signal: longest_query_seconds\n"
    "    op: \">\"\n"
    "    threshold: 5\n"
    "    targets: [primary]\n";

class RunbookCliTest : public testing::CliFixture {
 protected:
  RunbookCliTest() : CliFixture("runbook-cli") {}
  void SetUp() override {
    CliFixture::SetUp();
    config_ = Write("dbrunbook.yaml", kConfig);
  }
  // `config check --offline CONFIG ARGS`.
  RunResult Check(const std::string& args) {
    return Shell("$B config check --offline '" + config_ + "' " + args);
  }
  std::string config_;
};

TEST_F(RunbookCliTest, ConfigCheckValidatesTheBuiltInRunbookByDefault) {
  const RunResult r = Check("");
  EXPECT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.out.find(config_ + ": ok, 1 target (primary)"), std::string::npos) << r.Describe();
  EXPECT_NE(r.out.find("(built-in runbook): ok, runbook database-performance version 1, 11 "
                       "triggers"),
            std::string::npos)
      << r.Describe();
}

TEST_F(RunbookCliTest, ConfigCheckAcceptsAGoodRunbook) {
  const std::string file = Write("good.yaml", kGoodRunbook);
  const RunResult r = Check("--runbook '" + file + "'");
  EXPECT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.out.find(file + ": ok, runbook orders version 2, 1 trigger\n"), std::string::npos)
      << r.Describe();
  EXPECT_EQ(r.err, "") << r.Describe();
}

TEST_F(RunbookCliTest, ConfigCheckReportsABadRunbookWithPositions) {
  const std::string file = Write("bad.yaml",
                                 "runbook:\n"
                                 "  name: orders\n"
                                 "  version: 2\n"
                                 "  owner: dba-team\n"
                                 "triggers:\n"
                                 "  - name: slow\n"
                                 "    signal: longest_query_second\n"
                                 "    threshold: 5\n"
                                 "    for: 5\n");
  const RunResult r = Check("--runbook '" + file + "'");
  EXPECT_EQ(r.status, 1) << r.Describe();
  EXPECT_NE(r.err.find(file + ":7:13: triggers[0] (slow).signal: unknown signal "
                              "'longest_query_second' — did you mean longest_query_seconds?"),
            std::string::npos)
      << r.Describe();
  EXPECT_NE(r.err.find(file + ":9:10: triggers[0] (slow).for: duration '5' has no unit"),
            std::string::npos)
      << r.Describe();
  EXPECT_NE(r.err.find(file + ": 2 errors"), std::string::npos) << r.Describe();
  // The configuration itself is still checked and reported valid.
  EXPECT_NE(r.out.find(config_ + ": ok, 1 target"), std::string::npos) << r.Describe();
}

TEST_F(RunbookCliTest, ConfigCheckWarnsOfAnOverdueReviewButPasses) {
  const std::string text =
      "runbook:\n"
      "  name: orders\n"
      "  version: 2\n"
      "  owner: dba-team\n"
      "  last_reviewed: 2020-01-01\n"
      "  review_interval: 30d\n"
      "triggers:\n"
      "  - {name: slow, signal: longest_query_seconds, threshold: 5}\n";
  const std::string old = Write("old.yaml", text);
  const RunResult r = Check("--runbook '" + old + "'");
  EXPECT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.err.find(old + ":5:18: warning: runbook.last_reviewed: runbook review overdue "
                             "since 2020-01-31 (last_reviewed + review_interval) — review it "
                             "and update last_reviewed"),
            std::string::npos)
      << r.Describe();
  EXPECT_NE(r.out.find("1 warning(s) above"), std::string::npos) << r.Describe();
}

TEST_F(RunbookCliTest, ConfigCheckRefusesTriggerTargetsNotConfigured) {
  std::string text = kGoodRunbook;
  text.replace(text.find("[primary]"), 9, "[primry]");
  const std::string file = Write("targets.yaml", text);
  const RunResult r = Check("--runbook '" + file + "'");
  EXPECT_EQ(r.status, 1) << r.Describe();
  EXPECT_NE(r.err.find(file + ":6:5: triggers (slow).targets: no target is named 'primry' in " +
                       config_ + " — did you mean primary?"),
            std::string::npos)
      << r.Describe();
}

TEST_F(RunbookCliTest, AMissingRunbookFileIsAUsageError) {
  const RunResult r = Check("--runbook '" + (dir_ / "nope.yaml").string() + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_NE(r.err.find("runbook file " + (dir_ / "nope.yaml").string() +
                       " (from --runbook) does not exist"),
            std::string::npos)
      << r.Describe();
}

TEST_F(RunbookCliTest, ShowPrintsTheEffectiveRunbook) {
  const RunResult r = Shell("$B runbook show");
  EXPECT_EQ(r.status, 0) << r.Describe();
  for (const char* expected :
       {"Runbook database-performance version 1, from (built-in runbook)",
        "slow_queries             critical  longest_query_seconds > 5 for 0s",
        "replication_lag_seconds > 60 for 30s, clears past 30", "mitigate     by 30m",
        "kill-queries  approve  on lock.root_blocker, query.long_running; block 1h",
        "level 1  database-unavailable", "unavailable for 10m  -> dba-on-call",
        "level 3  management", "Prevention checklist", "Messages (a status update every 30m;",
        "  alert         \xF0\x9F\x9A\xA8 Database performance alert: {target}\n",
        "  resolution    \xE2\x9C\x85 Resolved: database performance issue on {target}\n"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.Describe();
  }
  const std::string file = Write("good.yaml", kGoodRunbook);
  const RunResult mine = Shell("$B runbook show --runbook '" + file + "'");
  EXPECT_EQ(mine.status, 0) << mine.Describe();
  EXPECT_NE(mine.out.find("slow  warning   longest_query_seconds > 5 for 0s  primary"),
            std::string::npos)
      << mine.Describe();
  const std::string bad = Write("bad.yaml", "runbook: {name: x}\n");
  const RunResult invalid = Shell("$B runbook show --runbook '" + bad + "'");
  EXPECT_EQ(invalid.status, 1) << invalid.Describe();
  EXPECT_NE(invalid.err.find(bad + ":1:10: runbook.version: missing"), std::string::npos)
      << invalid.Describe();
}

TEST_F(RunbookCliTest, PrintDefaultWritesTheShippedFile) {
  const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(source, nullptr);
  const RunResult r = Shell("$B runbook print-default");
  EXPECT_EQ(r.status, 0) << r.Describe();
  EXPECT_EQ(r.out, Slurp(std::string(source) + "/runbooks/database-performance.yaml"));
  // What it prints is a valid runbook to start from.
  const std::string copy = Write("copy.yaml", r.out);
  const RunResult check = Check("--runbook '" + copy + "'");
  EXPECT_EQ(check.status, 0) << check.Describe();
  EXPECT_NE(check.out.find(copy + ": ok, runbook database-performance version 1"),
            std::string::npos)
      << check.Describe();
}

}  // namespace
}  // namespace dbrunbook::runbook
