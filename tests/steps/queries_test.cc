// Unit tests of the investigation runner and the "queries" step over a fake session. The
// processlist and INNODB_TRX answers are built with the dialect's column aliases; the end-to-
// end proof on a real server is queries_integration_test.cc.
#include <gtest/gtest.h>

#include "steps/investigate.h"
#include "steps/investigate_queries.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";

mysql::ResultSet Active(std::vector<std::vector<std::optional<std::string>>> rows) {
  return mysql::MakeResultSet({"id", "user", "host", "db", "command", "state", "time_seconds",
                               "info", "progress", "query_id"},
                              rows);
}

mysql::ResultSet Transactions(std::vector<std::vector<std::optional<std::string>>> rows) {
  return mysql::MakeResultSet(
      {"trx_id", "thread_id", "age_seconds", "state", "rows_locked", "rows_modified", "query",
       "user", "host", "command", "session_seconds"},
      rows);
}

class QueriesStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto text = testing::ReadSourceFile(kMariaDbVariables);
    ASSERT_TRUE(text) << text.error().ToString();
    variables_ = testing::ParseVariables(*text);
    flavor_ = dialect::DetectFlavor(variables_);
    ASSERT_TRUE(flavor_.detected());
  }

  // A target whose fake session answers the step's statements.
  collect::TargetSession Target(mysql::ResultSet active, mysql::ResultSet transactions) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    dialect::Dialect d(flavor_);
    fake->On(d.ActiveStatements(50), std::move(active));
    fake->On(d.OldestTransactions(20), std::move(transactions));
    fake->On(dialect::Dialect::StatusVariable("Innodb_history_list_length"),
             mysql::MakeResultSet({"Variable_name", "Value"},
                                  {{"Innodb_history_list_length", "1500000"}}));
    return collect::TargetSession{std::move(fake), d, variables_, {}, {}};
  }

  std::vector<Finding> Run(collect::TargetSession& target, InvestigateOptions options = {}) {
    QueriesStep step;
    StepContext context{target, clock_, options, clock_.MonotonicNow() + std::chrono::seconds(20)};
    auto findings = step.Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  static const Finding* FindCode(const std::vector<Finding>& findings, std::string_view code) {
    for (const auto& f : findings) {
      if (f.code == code) return &f;
    }
    return nullptr;
  }

  core::SimulatedClock clock_;
  dialect::VariableMap variables_;
  dialect::Flavor flavor_;
  FakeSession* fake_ = nullptr;
};

TEST_F(QueriesStepTest, LongRunnerGetsKillQueryForThisFlavor) {
  auto target = Target(Active({{"41", "report", "10.0.0.7:5000", "shop", "Query", "Sending data",
                                "400.5", "SELECT *\n FROM orders", "12.5", "9001"},
                               {"42", "app", "10.0.0.8:5001", "shop", "Query", "executing", "3",
                                "SELECT 1", std::nullopt, "9002"}}),
                       Transactions({}));
  const auto findings = Run(target);
  const Finding* longest = FindCode(findings, "query.long_running");
  ASSERT_NE(longest, nullptr);
  EXPECT_EQ(longest->severity, Severity::kCritical);  // 400 s >= 5 x 60 s
  EXPECT_NE(longest->title.find("connection 41 (report@10.0.0.7:5000)"), std::string::npos);
  ASSERT_EQ(longest->evidence.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(*longest->evidence[0].Find("connection_id")), 41);
  EXPECT_EQ(std::get<std::string>(*longest->evidence[0].Find("statement")), "SELECT * FROM orders");
  EXPECT_DOUBLE_EQ(std::get<double>(*longest->evidence[0].Find("progress_percent")), 12.5);
  ASSERT_EQ(longest->suggestions.size(), 2u);
  EXPECT_EQ(longest->suggestions[1].sql, "KILL QUERY 41");
  // Only one long runner; the active list has both.
  EXPECT_EQ(std::count_if(findings.begin(), findings.end(),
                          [](const Finding& f) { return f.code == "query.long_running"; }),
            1);
  const Finding* active = FindCode(findings, "query.active");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->evidence.size(), 2u);
}

TEST_F(QueriesStepTest, RdsLongRunnerIsKilledThroughRdsKill) {
  variables_["basedir"] = "/rdsdbbin/mysql-8.0.35.R2/";  // constructed: RDS keeps basedir there
  variables_["version"] = "8.0.35";
  variables_["version_comment"] = "Source distribution";
  flavor_ = dialect::DetectFlavor(variables_);
  ASSERT_EQ(flavor_.platform, dialect::Platform::kRds);
  auto target = Target(
      Active({{"7", "app", "h", "db", "Query", "x", "90", "SELECT 2", std::nullopt, std::nullopt}}),
      Transactions({}));
  // MySQL 8.0.35 reads the history list from INNODB_METRICS, not a status variable.
  fake_->On(target.dialect.HistoryListLength(),
            mysql::MakeResultSet({"history_list_length"}, {{"10"}}));
  const auto findings = Run(target);
  const Finding* longest = FindCode(findings, "query.long_running");
  ASSERT_NE(longest, nullptr);
  EXPECT_EQ(longest->severity, Severity::kWarning);
  EXPECT_EQ(longest->suggestions[1].sql, "CALL mysql.rds_kill_query(7)");
}

TEST_F(QueriesStepTest, IdleTransactionAndTheHistoryItPins) {
  auto target =
      Target(Active({}), Transactions({{"7001", "55", "900", "RUNNING", "4", "2", std::nullopt,
                                        "app", "10.0.0.9:4100", "Sleep", "850"},
                                       {"7002", "56", "20", "RUNNING", "0", "0", std::nullopt,
                                        "system user", "", "Slave_SQL", "20"}}));
  const auto findings = Run(target);
  const Finding* idle = FindCode(findings, "transaction.idle");
  ASSERT_NE(idle, nullptr);
  EXPECT_EQ(idle->severity, Severity::kCritical);  // holds row locks, idle >= 300 s
  EXPECT_NE(idle->title.find("connection 55 (app@10.0.0.9:4100) sits idle for 14m 10s"),
            std::string::npos)
      << idle->title;
  EXPECT_EQ(idle->suggestions.back().sql, "KILL CONNECTION 55");
  // The applier between events is not idle in transaction.
  EXPECT_EQ(std::count_if(findings.begin(), findings.end(),
                          [](const Finding& f) { return f.code == "transaction.idle"; }),
            1);
  const Finding* oldest = FindCode(findings, "transaction.long");
  ASSERT_NE(oldest, nullptr);
  EXPECT_EQ(oldest->severity, Severity::kCritical);  // history list 1.5 M
  EXPECT_EQ(std::get<int64_t>(*oldest->evidence[0].Find("history_list_length")), 1500000);
  EXPECT_EQ(FindCode(findings, "query.active"), nullptr);  // nothing running
}

TEST_F(QueriesStepTest, ThresholdsComeFromTheOptions) {
  auto target = Target(
      Active({{"9", "a", "h", "d", "Query", "s", "15", "SELECT 3", std::nullopt, std::nullopt}}),
      Transactions({{"1", "9", "15", "RUNNING", "0", "0", "SELECT 3", "a", "h", "Query", "15"}}));
  InvestigateOptions options;
  options.long_query_seconds = 10;
  const auto findings = Run(target, options);
  EXPECT_NE(FindCode(findings, "query.long_running"), nullptr);
  EXPECT_NE(FindCode(findings, "transaction.long"), nullptr);
  EXPECT_EQ(FindCode(findings, "transaction.idle"), nullptr);  // running, not idle
}

// A step that always fails with a privilege error, to test the runner.
class RefusedStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.refused"; }
  std::string_view group() const override { return "refused"; }
  std::string_view description() const override { return "a step the account may not run"; }
  std::string RequiredGrant(const dialect::Flavor&, std::string_view account) const override {
    return fmt::format("GRANT PROCESS ON *.* TO {}", account);
  }
  core::Result<std::vector<Finding>> Run(StepContext&) override {
    core::Error e{core::ErrorCode::kPrivilege,
                  "user 'monitor' lacks a privilege on target 'fake-target' for SHOW ENGINE "
                  "INNODB STATUS",
                  "grant it", 1227, "42000"};
    return core::Fail(e);
  }
};

TEST_F(QueriesStepTest, RunnerTurnsARefusedStepIntoAFindingAndRunsTheRest) {
  auto target = Target(Active({{"41", "report", "h", "shop", "Query", "s", "100", "SELECT 9",
                                std::nullopt, std::nullopt}}),
                       Transactions({}));
  fake_->On(dialect::Dialect::CurrentAccount(),
            mysql::MakeResultSet({"account"}, {{"monitor@10.%"}}));
  std::vector<std::unique_ptr<Step>> steps;
  steps.push_back(std::make_unique<RefusedStep>());
  steps.push_back(std::make_unique<QueriesStep>());
  const Investigation inv = RunInvestigation(target, clock_, {}, steps);
  ASSERT_EQ(inv.steps.size(), 2u);
  EXPECT_TRUE(inv.steps[0].failed);
  EXPECT_FALSE(inv.steps[1].failed);
  const Finding* incomplete = FindCode(inv.findings, "check.incomplete");
  ASSERT_NE(incomplete, nullptr);
  EXPECT_EQ(incomplete->severity, Severity::kWarning);
  EXPECT_NE(incomplete->title.find("could not check refused"), std::string::npos);
  EXPECT_EQ(incomplete->suggestions[0].sql, "GRANT PROCESS ON *.* TO 'monitor'@'10.%'");
  EXPECT_NE(FindCode(inv.findings, "query.long_running"), nullptr);
  // Most severe first.
  for (size_t i = 1; i < inv.findings.size(); ++i) {
    EXPECT_GE(static_cast<int>(inv.findings[i - 1].severity),
              static_cast<int>(inv.findings[i].severity));
  }
  EXPECT_EQ(ExitCodeFor(inv), 1);
}

TEST_F(QueriesStepTest, OnlySelectsGroups) {
  auto target = Target(Active({}), Transactions({}));
  std::vector<std::unique_ptr<Step>> steps;
  steps.push_back(std::make_unique<RefusedStep>());
  steps.push_back(std::make_unique<QueriesStep>());
  InvestigateOptions options;
  options.only = {"queries"};
  const Investigation inv = RunInvestigation(target, clock_, options, steps);
  EXPECT_FALSE(inv.steps[0].ran);
  EXPECT_TRUE(inv.steps[1].ran);
  EXPECT_TRUE(inv.findings.empty());
  EXPECT_EQ(ExitCodeFor(inv), 0);
}

TEST(InvestigationGroupsTest, EveryStepHasAUniqueGroup) {
  const auto groups = InvestigationGroups();
  EXPECT_EQ(std::set<std::string>(groups.begin(), groups.end()).size(), groups.size());
  EXPECT_EQ(groups.front(), "queries");
  EXPECT_EQ(groups.back(), "digest");  // waits between snapshots: last
}

}  // namespace
}  // namespace dbrunbook::steps
