// Unit tests of the initial assessment's logic: rates, thresholds, roles and degraded reads.
//
// The server answers are real recordings where they exist (the Percona Server 8.0.32
// variables and status captured by pt-mysql-summary, MariaDB's SHOW SLAVE STATUS from its
// documentation, the live-captured MariaDB 10.11 variables); the second status sample of a
// pair is the first with chosen counters moved, which is what the test is about. The real
// end-to-end proof is tests/app/assess_integration_test.cc against a sandbox server.
#include "steps/assess.h"

#include <gtest/gtest.h>

#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;

constexpr const char* kPerconaVariables =
    "conformance/server-outputs/variables/"
    "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kPerconaStatus =
    "conformance/server-outputs/status/"
    "status--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kMariaDbReplicaStatus =
    "conformance/server-outputs/replica-status/"
    "replica-status--mariadb-11.6-11.8--mariadb-docs-show-slave-status.txt";

mysql::ResultSet NameValue(const dialect::VariableMap& values) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& [name, value] : values) rows.push_back({name, value});
  return mysql::MakeResultSet({"Variable_name", "Value"}, rows);
}

const Check* Find(const Assessment& a, std::string_view id) {
  for (const auto& c : a.checks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

class AssessTest : public ::testing::Test {
 protected:
  // A Percona Server 8.0.32 target whose second status sample moved by `moves`.
  void SetUpPercona(const std::map<std::string, double>& moves) {
    auto variables_text = testing::ReadSharedFile(kPerconaVariables);
    auto status_text = testing::ReadSharedFile(kPerconaStatus);
    ASSERT_TRUE(variables_text && status_text);
    variables_ = testing::ParseVariables(*variables_text);
    status1_ = testing::ParseVariables(*status_text);
    ASSERT_GT(status1_.size(), 400u);
    status2_ = status1_;
    for (const auto& [name, delta] : moves) {
      const double before = core::ParseDouble(status1_[name]).value_or(0);
      status2_[name] = fmt::format("{}", static_cast<int64_t>(before + delta));
    }
    MakeTarget();
  }

  void SetUpMariaDb() {
    auto variables_text = testing::ReadSourceFile(kMariaDbVariables);
    auto status_text = testing::ReadSharedFile(kPerconaStatus);
    ASSERT_TRUE(variables_text && status_text);
    variables_ = testing::ParseVariables(*variables_text);
    // Status counters are the same names on both; only the flavor matters for these tests.
    status1_ = testing::ParseVariables(*status_text);
    status2_ = status1_;
    MakeTarget();
  }

  void MakeTarget() {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    const dialect::Flavor flavor = dialect::DetectFlavor(variables_);
    ASSERT_TRUE(flavor.detected());
    target_.emplace(
        collect::TargetSession{std::move(fake), dialect::Dialect(flavor), variables_, {}, {}});
    const auto& d = target_->dialect;
    fake_->On(d.GlobalStatus(), NameValue(status1_));
    fake_->On(d.GlobalStatus(), NameValue(status2_));
    fake_->On(d.ActiveStatements(10), active_.value_or(mysql::MakeResultSet({"id"}, {})));
    fake_->On(d.OldestTransactions(1),
              transactions_.value_or(mysql::MakeResultSet({"trx_id"}, {})));
    fake_->On(d.ConnectedReplicaCount(), mysql::MakeResultSet({"replicas"}, {{"0"}}));
    if (!d.HistoryListLength().empty()) {
      fake_->On(d.HistoryListLength(), mysql::MakeResultSet({"history_list_length"}, {{"1234"}}));
    }
  }

  void ReplyReplicaStatus(FakeSession::Reply reply) {
    fake_->On(target_->dialect.ReplicaStatus(), std::move(reply));
  }

  Assessment Run(const AssessOptions& options = {}) {
    return RunAssessment(*target_, clock_, options);
  }

  core::SimulatedClock clock_;
  dialect::VariableMap variables_;
  dialect::VariableMap status1_;
  dialect::VariableMap status2_;
  // Answers to the processlist and INNODB_TRX reads; empty results when not set.
  std::optional<mysql::ResultSet> active_;
  std::optional<mysql::ResultSet> transactions_;
  FakeSession* fake_ = nullptr;
  std::optional<collect::TargetSession> target_;
};

TEST_F(AssessTest, RatesAreDeltasOverTheMeasuredInterval) {
  SetUpPercona({{"Questions", 201},
                {"Slow_queries", 6},
                {"Created_tmp_disk_tables", 120},
                {"Innodb_row_lock_waits", 30},
                {"Aborted_connects", 4}});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  AssessOptions options;
  options.interval = std::chrono::seconds(2);
  const Assessment a = Run(options);

  EXPECT_DOUBLE_EQ(core::ToSeconds(a.interval), 2.0);
  // 201 Questions, one of them our own second SHOW GLOBAL STATUS.
  EXPECT_DOUBLE_EQ(*Find(a, "queries_per_sec")->value, 100.0);
  EXPECT_DOUBLE_EQ(*Find(a, "slow_queries_per_sec")->value, 3.0);
  EXPECT_EQ(Find(a, "slow_queries_per_sec")->level, Level::kWarn);  // default warn 1/s
  EXPECT_DOUBLE_EQ(*Find(a, "tmp_disk_tables_per_sec")->value, 60.0);
  EXPECT_EQ(Find(a, "tmp_disk_tables_per_sec")->level, Level::kCritical);  // critical 50/s
  EXPECT_DOUBLE_EQ(*Find(a, "row_lock_waits_per_sec")->value, 15.0);
  EXPECT_DOUBLE_EQ(*Find(a, "aborted_connects_per_sec")->value, 2.0);
  EXPECT_EQ(a.overall, Level::kCritical);
  EXPECT_EQ(ExitCodeFor(a.overall), 2);
}

TEST_F(AssessTest, CounterThatWentBackwardsIsUnknownNotNegative) {
  SetUpPercona({{"Innodb_row_lock_waits", -5}});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  const Assessment a = Run();
  const Check* waits = Find(a, "row_lock_waits_per_sec");
  ASSERT_NE(waits, nullptr);
  EXPECT_EQ(waits->level, Level::kUnknown);
  EXPECT_FALSE(waits->value.has_value());
}

TEST_F(AssessTest, IdleServerIsOkWithRecordedCounters) {
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  const Assessment a = Run();
  // Values straight from the recording: Threads_running and Threads_connected.
  EXPECT_DOUBLE_EQ(*Find(a, "threads_running")->value,
                   *core::ParseDouble(status1_["Threads_running"]));
  EXPECT_EQ(Find(a, "buffer_pool_hit_ratio")->display, "idle");
  EXPECT_EQ(Find(a, "replication_role")->display, "standalone");
  EXPECT_DOUBLE_EQ(*Find(a, "history_list_length")->value, 1234);
  EXPECT_EQ(Find(a, "longest_query_seconds")->display, "none running");
  for (const auto& c : a.checks) {
    EXPECT_NE(c.level, Level::kUnknown) << c.id << ": " << c.detail;
  }
}

TEST_F(AssessTest, ThresholdOverridesReplaceOnlyWhatTheyName) {
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  AssessOptions options;
  options.thresholds["threads_running"] = ThresholdOverride{0.0, std::nullopt};
  const Assessment a = Run(options);
  const Check* running = Find(a, "threads_running");
  EXPECT_EQ(running->level, Level::kWarn);
  EXPECT_EQ(running->threshold.warn, 0.0);
  EXPECT_EQ(running->threshold.critical, 50.0);  // the default stays
}

TEST_F(AssessTest, LongestQueryAndTransactionComeWithEvidence) {
  active_ = mysql::MakeResultSet(
      {"id", "user", "host", "db", "command", "state", "time_seconds", "info", "progress",
       "query_id"},
      {{"77", "app", "10.0.0.9:5123", "shop", "Query", "Sending data", "75.5",
        "SELECT *\n  FROM orders WHERE total > 10", std::nullopt, std::nullopt},
       {"78", "app", "10.0.0.9:5124", "shop", "Query", "executing", "12", "SELECT 1", std::nullopt,
        std::nullopt}});
  transactions_ = mysql::MakeResultSet(
      {"trx_id", "thread_id", "age_seconds", "state", "rows_locked", "rows_modified", "query",
       "user", "command"},
      {{"4211", "91", "400", "RUNNING", "12", "3", std::nullopt, "app", "Sleep"}});
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  const Assessment a = Run();
  const Check* query = Find(a, "longest_query_seconds");
  EXPECT_EQ(query->level, Level::kCritical);  // 75.5 s >= 60 s
  EXPECT_NE(query->detail.find("id 77 app@10.0.0.9:5123 db=shop"), std::string::npos);
  EXPECT_NE(query->detail.find("SELECT * FROM orders WHERE total > 10"), std::string::npos);
  EXPECT_NE(query->detail.find("2 statements running"), std::string::npos);
  const Check* trx = Find(a, "longest_transaction_seconds");
  EXPECT_EQ(trx->level, Level::kCritical);  // 400 s >= 300 s
  EXPECT_NE(trx->detail.find("idle in transaction"), std::string::npos);
  EXPECT_NE(trx->detail.find("connection 91 (app)"), std::string::npos);
}

TEST_F(AssessTest, AnApplierBetweenEventsIsNotIdleInTransaction) {
  transactions_ = mysql::MakeResultSet(
      {"trx_id", "thread_id", "age_seconds", "state", "rows_locked", "rows_modified", "query",
       "user", "command"},
      {{"17519", "8", "95", "RUNNING", "3", "5", std::nullopt, "system user", "Slave_SQL"}});
  SetUpMariaDb();
  ReplyReplicaStatus(mysql::MakeResultSet({"Slave_IO_Running"}, {}));
  const Assessment a = Run();
  const Check* trx = Find(a, "longest_transaction_seconds");
  EXPECT_EQ(trx->level, Level::kWarn);  // 95 s >= 60 s
  EXPECT_EQ(trx->detail.find("idle in transaction"), std::string::npos) << trx->detail;
  EXPECT_NE(trx->detail.find("between statements (Slave_SQL)"), std::string::npos) << trx->detail;
}

TEST_F(AssessTest, ReplicaFromRecordedStatusIsHealthy) {
  SetUpMariaDb();
  auto text = testing::ReadSharedFile(kMariaDbReplicaStatus);
  ASSERT_TRUE(text);
  auto blocks = testing::ParseRecordedOutput(*text);
  ASSERT_FALSE(blocks.empty());
  ReplyReplicaStatus(blocks.front());
  AssessOptions options;
  options.expected_role = ExpectedRole::kReplica;
  const Assessment a = Run(options);
  EXPECT_EQ(Find(a, "replication_role")->display, "replica of db01.example.com:3306");
  EXPECT_EQ(Find(a, "replication_role")->level, Level::kOk);
  EXPECT_EQ(Find(a, "replication_io_thread")->level, Level::kOk);
  EXPECT_EQ(Find(a, "replication_sql_thread")->level, Level::kOk);
  EXPECT_DOUBLE_EQ(*Find(a, "replication_lag_seconds")->value, 6);
  EXPECT_EQ(Find(a, "replication_lag_seconds")->level, Level::kOk);
}

TEST_F(AssessTest, BrokenReplicationIsCritical) {
  SetUpMariaDb();
  const auto& c = target_->dialect.replica_columns();
  ReplyReplicaStatus(mysql::MakeResultSet(
      {c.channel, c.source_host, c.source_port, c.io_running, c.sql_running, c.seconds_behind,
       c.last_io_errno, c.last_io_error, c.last_sql_errno, c.last_sql_error},
      {{"", "10.0.0.1", "3306", "Yes", "No", std::nullopt, "0", "", "1062",
        "Duplicate entry '7' for key 'PRIMARY'"}}));
  const Assessment a = Run();
  EXPECT_EQ(Find(a, "replication_sql_thread")->level, Level::kCritical);
  EXPECT_NE(Find(a, "replication_sql_thread")->detail.find("error 1062"), std::string::npos);
  // The lag cannot be measured; it takes the thread's level rather than "unknown".
  EXPECT_EQ(Find(a, "replication_lag_seconds")->level, Level::kCritical);
  EXPECT_EQ(Find(a, "replication_lag_seconds")->display, "n/a");
  EXPECT_EQ(a.overall, Level::kCritical);
}

TEST_F(AssessTest, ConfiguredReplicaWithoutReplicationIsCritical) {
  SetUpMariaDb();
  ReplyReplicaStatus(mysql::MakeResultSet({"Slave_IO_Running"}, {}));
  AssessOptions options;
  options.expected_role = ExpectedRole::kReplica;
  const Assessment a = Run(options);
  EXPECT_EQ(Find(a, "replication_role")->level, Level::kCritical);
  EXPECT_EQ(Find(a, "replication_lag_seconds"), nullptr);
}

TEST_F(AssessTest, MissingPrivilegeMakesOnlyThatCheckUnknown) {
  SetUpMariaDb();
  ReplyReplicaStatus(FakeSession::ServerError(
      core::ErrorCode::kPrivilege, 1227, "42000",
      "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s)"));
  const Assessment a = Run();
  const Check* role = Find(a, "replication_role");
  EXPECT_EQ(role->level, Level::kUnknown);
  EXPECT_NE(role->detail.find("SLAVE MONITOR"), std::string::npos);
  EXPECT_EQ(Find(a, "threads_running")->level, Level::kOk);
  EXPECT_EQ(a.overall, Level::kUnknown);
  EXPECT_EQ(ExitCodeFor(a.overall), 1);
}

TEST_F(AssessTest, MissingReplicaWarnsAndReadOnlyPrimaryIsCritical) {
  SetUpPercona({});
  variables_["read_only"] = "ON";
  target_->variables = variables_;
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  AssessOptions options;
  options.expected_role = ExpectedRole::kPrimary;
  options.expected_replicas = 2;
  const Assessment a = Run(options);
  EXPECT_EQ(Find(a, "replicas_connected")->level, Level::kWarn);
  EXPECT_EQ(Find(a, "replicas_connected")->display, "0 of 2 configured");
  EXPECT_EQ(Find(a, "read_only")->level, Level::kCritical);
}

TEST_F(AssessTest, SendsOnlyTheStatementsItNeeds) {
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  Run();
  // Two status samples, processlist, INNODB_TRX, replica status, connected replicas, and the
  // history list from INNODB_METRICS (Percona 8.0 has no status variable for it).
  EXPECT_EQ(fake_->statements().size(), 7u);
  EXPECT_EQ(fake_->statements()[0], "SHOW GLOBAL STATUS");
  EXPECT_EQ(fake_->statements()[1], "SHOW GLOBAL STATUS");
}

// A stand-in for the cloud provider's checks (CPU, instance status).
class FakeSource final : public CheckSource {
 public:
  explicit FakeSource(core::Result<std::vector<Check>> checks) : checks_(std::move(checks)) {}
  std::string_view name() const override { return "cloud"; }
  core::Result<std::vector<Check>> Collect() override { return checks_; }

 private:
  core::Result<std::vector<Check>> checks_;
};

TEST_F(AssessTest, ExtraSourcesJoinTheAssessment) {
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  Check cpu;
  cpu.id = "cpu_percent";
  cpu.title = "CPU";
  cpu.value = 85;
  cpu.display = "85%";
  cpu.threshold = Threshold{80, 95, Direction::kAbove};
  Check status;
  status.id = "instance_status";
  status.title = "Instance status";
  status.level = Level::kCritical;
  status.display = "storage-full";
  FakeSource source(std::vector<Check>{cpu, status});
  AssessOptions options;
  options.extra_sources = {&source};
  options.thresholds["cpu_percent"] = ThresholdOverride{90.0, std::nullopt};
  const Assessment a = Run(options);
  EXPECT_EQ(Find(a, "cpu_percent")->level, Level::kOk);  // 85 < overridden warn 90
  EXPECT_EQ(Find(a, "instance_status")->level, Level::kCritical);
  EXPECT_EQ(a.overall, Level::kCritical);
  EXPECT_EQ(a.checks.back().id, "instance_status");  // other sources come last
}

TEST_F(AssessTest, FailingSourceIsOneUnknownCheck) {
  SetUpPercona({});
  ReplyReplicaStatus(mysql::MakeResultSet({"Replica_IO_Running"}, {}));
  FakeSource source(core::MakeError(core::ErrorCode::kThrottled, "CloudWatch throttled"));
  AssessOptions options;
  options.extra_sources = {&source};
  const Assessment a = Run(options);
  const Check* cloud = Find(a, "cloud");
  ASSERT_NE(cloud, nullptr);
  EXPECT_EQ(cloud->level, Level::kUnknown);
  EXPECT_NE(cloud->detail.find("throttled"), std::string::npos);
  EXPECT_NE(Find(a, "threads_running"), nullptr);
}

TEST(LevelTest, ThresholdDirections) {
  Threshold above{10, 20, Direction::kAbove};
  EXPECT_EQ(above.Evaluate(9.9), Level::kOk);
  EXPECT_EQ(above.Evaluate(10), Level::kWarn);
  EXPECT_EQ(above.Evaluate(25), Level::kCritical);
  Threshold below{0.99, 0.95, Direction::kBelow};
  EXPECT_EQ(below.Evaluate(0.999), Level::kOk);
  EXPECT_EQ(below.Evaluate(0.97), Level::kWarn);
  EXPECT_EQ(below.Evaluate(0.5), Level::kCritical);
  EXPECT_EQ(Threshold{}.Evaluate(1e9), Level::kOk);
  EXPECT_EQ(Worse(Level::kWarn, Level::kUnknown), Level::kUnknown);
  EXPECT_EQ(Worse(Level::kCritical, Level::kUnknown), Level::kCritical);
}

TEST(AssessChecksTest, IdsAreUniqueAndFindable) {
  std::set<std::string_view> ids;
  for (const auto& spec : AssessChecks()) {
    EXPECT_TRUE(ids.insert(spec.id).second) << spec.id;
    EXPECT_EQ(FindAssessCheck(spec.id), &spec);
    EXPECT_FALSE(spec.description.empty());
  }
  EXPECT_EQ(FindAssessCheck("no_such_check"), nullptr);
}

}  // namespace
}  // namespace dbrunbook::steps
