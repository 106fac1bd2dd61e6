// Opening monitoring sessions and reading activity on real servers: the sandbox primary and
// its replica. Scenarios are created for real (a long statement, an idle open transaction,
// a held table lock, a running replica).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "collect/activity.h"
#include "collect/status.h"
#include "collect/target_session.h"
#include "mysql/connector_session.h"
#include "support/sandbox.h"

namespace dbrunbook::collect {
namespace {

using core::ErrorCode;

class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto replica = testing::LoadSandbox("replica");
    ASSERT_TRUE(replica) << replica.error().ToString();
    replica_ = std::move(*replica);
    auto setup = testing::SandboxSql(
        "primary",
        "CREATE DATABASE IF NOT EXISTS collect_test; "
        "CREATE TABLE IF NOT EXISTS collect_test.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
        "INSERT IGNORE INTO collect_test.t VALUES (1, 1), (2, 2);");
    ASSERT_TRUE(setup) << setup.error().ToString();
  }

  TargetSession Open(const mysql::ConnectOptions& options) {
    auto target = OpenTargetSession(factory_, options, clock_);
    EXPECT_TRUE(target) << target.error().ToString();
    return std::move(*target);
  }

  // A root session used to create scenarios (never the code under test's monitor account).
  std::unique_ptr<mysql::Session> RootSession() {
    auto session = factory_.Connect(primary_.RootOptions());
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
  testing::SandboxServer replica_;
};

TEST_F(CollectTest, DetectsTheSandboxAndProtectsTheSession) {
  TargetSession target = Open(primary_.MonitorOptions());
  const dialect::Flavor& flavor = target.flavor();
  EXPECT_EQ(flavor.product, dialect::Product::kMariaDB);
  EXPECT_EQ(flavor.platform, dialect::Platform::kSelfManaged);
  EXPECT_EQ(flavor.version.major, 10);
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  EXPECT_EQ(flavor.capabilities.mdl_instrument, true);
  EXPECT_EQ(flavor.capabilities.sys_schema, true);
  EXPECT_EQ(flavor.capabilities.statement_digests, true);
  EXPECT_EQ(flavor.capabilities.userstat, true);
  EXPECT_TRUE(target.setup_notes.empty());

  auto rs = target.session->Query(
      "SELECT @@session.lock_wait_timeout AS lwt, @@session.slow_query_log AS slow, "
      "@@session.max_statement_time AS mst, @@session.long_query_time AS lqt");
  ASSERT_TRUE(rs) << rs.error().ToString();
  EXPECT_EQ(rs->rows[0]["lwt"].AsInt64(), 2);
  EXPECT_EQ(rs->rows[0]["slow"].AsInt64(), 0);
  EXPECT_DOUBLE_EQ(*rs->rows[0]["mst"].AsDouble(), 10.0);
  EXPECT_DOUBLE_EQ(*rs->rows[0]["lqt"].AsDouble(), 31536000.0);
}

TEST_F(CollectTest, MonitorNeverWaitsLongOnAMetadataLock) {
  auto holder = RootSession();
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Query("LOCK TABLES collect_test.t WRITE"));
  // The monitoring session setup (lock_wait_timeout = 2) on an account that could read t.
  TargetSession target = Open(primary_.RootOptions());
  const auto start = std::chrono::steady_clock::now();
  auto rs = target.session->Query("SELECT COUNT(*) FROM collect_test.t");
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().code, ErrorCode::kLockWaitTimeout) << rs.error().ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(1900));
  EXPECT_LT(waited, std::chrono::seconds(5));
  ASSERT_TRUE(holder->Query("UNLOCK TABLES"));
}

TEST_F(CollectTest, MonitorStaysOutOfTheSlowLog) {
  auto root = RootSession();
  ASSERT_NE(root, nullptr);
  ASSERT_TRUE(root->Query("SET GLOBAL long_query_time = 0, GLOBAL slow_query_log = ON"));
  TargetSession target = Open(primary_.MonitorOptions());
  ASSERT_TRUE(target.session->Query("SELECT 'dbrunbook-monitor-marker' AS m"));
  // Sessions copy long_query_time at connect: a new one sees the global 0.
  auto logged = RootSession();
  ASSERT_NE(logged, nullptr);
  ASSERT_TRUE(logged->Query("SELECT 'root-marker' AS m"));
  ASSERT_TRUE(root->Query("SET GLOBAL slow_query_log = OFF, GLOBAL long_query_time = 2"));
  std::ifstream log(primary_.slow_log);
  std::stringstream text;
  text << log.rdbuf();
  // The root session proves the log was on and written; the monitor is absent from it.
  EXPECT_NE(text.str().find("root-marker"), std::string::npos);
  EXPECT_EQ(text.str().find("dbrunbook-monitor-marker"), std::string::npos);
}

TEST_F(CollectTest, SeesLongStatementsAndIdleTransactions) {
  // A long statement in the background, and a session idle inside a transaction.
  std::thread sleeper([this] {
    auto session = factory_.Connect(primary_.RootOptions());
    if (session) (void)(*session)->Query("SELECT SLEEP(3) AS long_one /* collect-test */");
  });
  auto idle = RootSession();
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->Query("BEGIN"));
  ASSERT_TRUE(idle->Query("UPDATE collect_test.t SET v = v + 1 WHERE id = 1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  TargetSession target = Open(primary_.MonitorOptions());
  auto statements = ReadActiveStatements(target, 10);
  ASSERT_TRUE(statements) << statements.error().ToString();
  const ActiveStatement* sleeping = nullptr;
  for (const auto& s : *statements) {
    EXPECT_NE(s.id, target.session->info().connection_id);  // never ourselves
    EXPECT_NE(s.command, "Sleep");
    EXPECT_NE(s.command, "Binlog Dump");
    if (s.info && s.info->find("collect-test") != std::string::npos) sleeping = &s;
  }
  ASSERT_NE(sleeping, nullptr);
  EXPECT_GE(sleeping->time_seconds, 1.0);
  EXPECT_LT(sleeping->time_seconds, 4.0);
  EXPECT_EQ(sleeping->user, "root");
  EXPECT_TRUE(sleeping->progress.has_value());  // MariaDB reports PROGRESS

  auto transactions = ReadOldestTransactions(target, 5);
  ASSERT_TRUE(transactions) << transactions.error().ToString();
  const OpenTransaction* open = nullptr;
  for (const auto& t : *transactions) {
    if (t.thread_id == idle->info().connection_id) open = &t;
  }
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->idle_in_transaction());
  EXPECT_GE(open->age_seconds, 1.0);
  EXPECT_GE(open->rows_locked, 1);
  EXPECT_EQ(open->rows_modified, 1);

  ASSERT_TRUE(idle->Query("ROLLBACK"));
  sleeper.join();
}

TEST_F(CollectTest, StatusRatesComeFromTwoSamples) {
  TargetSession target = Open(primary_.MonitorOptions());
  auto first = SampleStatus(target, clock_);
  ASSERT_TRUE(first) << first.error().ToString();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(target.session->Query("SELECT 1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto second = SampleStatus(target, clock_);
  ASSERT_TRUE(second);
  auto delta = Delta(*first, *second, "Questions");
  ASSERT_TRUE(delta);
  EXPECT_GE(*delta, 21.0);  // our 20 statements and the second SHOW GLOBAL STATUS
  auto rate = Rate(*first, *second, "Questions");
  ASSERT_TRUE(rate);
  EXPECT_GT(*rate, 0.0);
  EXPECT_FALSE(Rate(*first, *second, "No_such_counter"));
  auto history = ReadHistoryListLength(target, *second);
  ASSERT_TRUE(history) << history.error().ToString();
  EXPECT_TRUE(history->has_value());  // MariaDB: Innodb_history_list_length status variable
}

TEST_F(CollectTest, AFilteredStatusSampleHasOnlyTheCountersAsked) {
  TargetSession target = Open(primary_.MonitorOptions());
  auto sample = SampleStatus(target, clock_, {"Questions", "Threads_running", "No_such_counter"},
                             {"Connection_errors_"});
  ASSERT_TRUE(sample) << sample.error().ToString();
  EXPECT_TRUE(sample->Get("Questions"));
  EXPECT_TRUE(sample->Get("Threads_running"));
  EXPECT_TRUE(sample->Get("Connection_errors_max_connections"));
  EXPECT_FALSE(sample->Get("Threads_connected"));  // not asked
  for (const auto& [name, value] : sample->values) {
    EXPECT_TRUE(name == "Questions" || name == "Threads_running" ||
                name.rfind("Connection_errors_", 0) == 0)
        << name;
  }
}

TEST_F(CollectTest, ReplicationFromBothSides) {
  TargetSession primary = Open(primary_.MonitorOptions());
  auto channels = ReadReplicaStatus(primary);
  ASSERT_TRUE(channels) << channels.error().ToString();
  EXPECT_TRUE(channels->empty());
  auto connected = ReadConnectedReplicas(primary);
  ASSERT_TRUE(connected) << connected.error().ToString();
  EXPECT_EQ(*connected, 1);

  TargetSession replica = Open(replica_.MonitorOptions());
  auto replica_channels = ReadReplicaStatus(replica);
  ASSERT_TRUE(replica_channels) << replica_channels.error().ToString();
  ASSERT_EQ(replica_channels->size(), 1u);
  const ReplicaChannel& ch = replica_channels->front();
  EXPECT_EQ(ch.io, ThreadState::kRunning);
  EXPECT_EQ(ch.sql, ThreadState::kRunning);
  EXPECT_EQ(ch.source_host, "127.0.0.1");
  EXPECT_EQ(ch.source_port, primary_.port);
  ASSERT_TRUE(ch.seconds_behind.has_value());
  EXPECT_LT(*ch.seconds_behind, 60);
  EXPECT_EQ(ch.last_io_errno, 0);
  EXPECT_EQ(ch.last_sql_errno, 0);
  EXPECT_FALSE(ch.gtid_position.empty());
}

TEST_F(CollectTest, UndetectableFlavorIsRefused) {
  // Detection needs the server's answer; a wrong account is rejected before it.
  mysql::ConnectOptions options = primary_.MonitorOptions();
  options.password = core::Secret("not-the-password");
  auto target = OpenTargetSession(factory_, options, clock_);
  ASSERT_FALSE(target);
  EXPECT_EQ(target.error().code, ErrorCode::kAccessDenied);
}

}  // namespace
}  // namespace dbrunbook::collect
