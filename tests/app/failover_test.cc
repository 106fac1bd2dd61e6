// The failover without servers: pre-checks from facts (what --force lifts and what it never
// does), the statements per flavor, execution and rollback on fake sessions, the cloud
// pre-checks from a provider's status, the cluster name and replica candidates from a
// configuration, and the hook runner (environment, exit status, timeout).
#include "app/failover.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/clock.h"
#include "core/environment.h"
#include "steps/mitigate_failover.h"
#include "support/fake_session.h"

namespace dbrunbook::app {
namespace {

using dialect::Flavor;
using dialect::Platform;
using dialect::Product;
using steps::PreCheck;
using ::testing::ElementsAre;
using testing::FakeSession;
using ::testing::HasSubstr;

Flavor Make(Product product, Platform platform, dialect::Version version) {
  Flavor f;
  f.product = product;
  f.platform = platform;
  f.version = version;
  f.version_string = version.ToString();
  return f;
}
const Flavor kMariaDb = Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19});
const Flavor kMySql = Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36});
const Flavor kMySql57 = Make(Product::kMySQL, Platform::kSelfManaged, {5, 7, 44});

steps::PrimaryFacts Primary() {
  steps::PrimaryFacts p;
  p.reachable = true;
  p.flavor = kMariaDb;
  p.server_id = 1;
  p.read_only = false;
  p.gtid_position = "0-1-100";
  p.binlog_file = "bin.000003";
  p.binlog_pos = 5000;
  return p;
}

steps::ReplicaFacts Replica() {
  steps::ReplicaFacts r;
  r.reachable = true;
  r.flavor = kMariaDb;
  r.server_id = 2;
  r.read_only = true;
  r.log_bin = true;
  r.channel_count = 1;
  r.channel.source_host = "10.0.0.1";
  r.channel.source_port = 3306;
  r.channel.io = collect::ThreadState::kRunning;
  r.channel.sql = collect::ThreadState::kRunning;
  r.channel.seconds_behind = 0;
  r.source_server_id = 1;
  r.read_file = r.exec_file = "bin.000003";
  r.read_pos = r.exec_pos = 5000;
  r.using_gtid = "Slave_Pos";
  r.executed_gtid = r.retrieved_gtid = "0-1-100";
  return r;
}

steps::FailoverCheckSettings Settings(bool force = false) {
  steps::FailoverCheckSettings s;
  s.force = force;
  s.target_host = "10.0.0.1";
  s.target_port = 3306;
  return s;
}

const PreCheck* Find(const std::vector<PreCheck>& checks, const std::string& name) {
  for (const auto& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(FailoverPreChecks, AHealthyPairPasses) {
  auto checks = steps::EvaluatePreChecks(Primary(), Replica(), Settings());
  EXPECT_TRUE(steps::PreChecksAllow(checks));
  EXPECT_TRUE(steps::BlockingChecks(checks).empty());
  for (const auto* name :
       {"primary_reachable", "target_is_primary", "replica_reachable", "replica_of_target",
        "io_thread_running", "sql_thread_running", "lag", "relay_log_applied"}) {
    ASSERT_NE(Find(checks, name), nullptr) << name;
    EXPECT_TRUE(Find(checks, name)->passed) << name;
  }
}

TEST(FailoverPreChecks, ForceLiftsHealthChecksOnly) {
  auto r = Replica();
  r.channel.sql = collect::ThreadState::kStopped;
  r.channel.seconds_behind.reset();
  r.exec_pos = 4000;
  auto checks = steps::EvaluatePreChecks(Primary(), r, Settings());
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  const auto blocking = steps::BlockingChecks(checks);
  ASSERT_EQ(blocking.size(), 3u);
  EXPECT_THAT(blocking[0], HasSubstr("sql_thread_running"));
  EXPECT_THAT(blocking[0], HasSubstr("--force lifts this check"));
  EXPECT_THAT(blocking[1], HasSubstr("lag: the lag is unknown"));
  EXPECT_THAT(blocking[2], HasSubstr("relay_log_applied: executed bin.000003:4000 of read "
                                     "bin.000003:5000"));
  checks = steps::EvaluatePreChecks(Primary(), r, Settings(/*force=*/true));
  EXPECT_TRUE(steps::PreChecksAllow(checks));
  EXPECT_TRUE(Find(checks, "sql_thread_running")->forced);

  // Lag above the bound.
  r = Replica();
  r.channel.seconds_behind = 30;
  checks = steps::EvaluatePreChecks(Primary(), r, Settings());
  EXPECT_FALSE(Find(checks, "lag")->passed);
  EXPECT_THAT(Find(checks, "lag")->detail, HasSubstr("30 s behind, the bound is 10 s"));
}

TEST(FailoverPreChecks, NeverFailOverToAServerThatIsNotAReplicaOfTheTarget) {
  auto r = Replica();
  r.source_server_id = 7;  // replicates from someone else
  auto checks = steps::EvaluatePreChecks(Primary(), r, Settings(/*force=*/true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  EXPECT_FALSE(Find(checks, "replica_of_target")->forceable);
  EXPECT_THAT(steps::BlockingChecks(checks)[0], HasSubstr("never lifted"));

  r = Replica();
  r.channel_count = 0;  // not a replica at all
  checks = steps::EvaluatePreChecks(Primary(), r, Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));

  r = Replica();
  r.channel_count = 2;  // multi-source
  checks = steps::EvaluatePreChecks(Primary(), r, Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  EXPECT_NE(Find(checks, "single_channel"), nullptr);

  r = Replica();
  r.reachable = false;
  r.error = core::Error{core::ErrorCode::kUnavailable, "connection refused"};
  checks = steps::EvaluatePreChecks(Primary(), r, Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));

  // A target that is itself a replica of a third server.
  auto p = Primary();
  p.channels.push_back(collect::ReplicaChannel{});
  p.channels.back().source_host = "10.0.0.9";
  p.channel_source_server_ids.push_back(9);
  checks = steps::EvaluatePreChecks(p, Replica(), Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  EXPECT_FALSE(Find(checks, "target_is_primary")->passed);
  // ... but replicating from the chosen replica (co-primaries) is allowed.
  p.channel_source_server_ids.back() = 2;
  checks = steps::EvaluatePreChecks(p, Replica(), Settings());
  EXPECT_TRUE(Find(checks, "target_is_primary")->passed);

  // Different families.
  p = Primary();
  p.flavor = kMySql;
  checks = steps::EvaluatePreChecks(p, Replica(), Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));
}

TEST(FailoverPreChecks, ADownPrimaryNeedsForceAndIsRecognisedByItsEndpoint) {
  steps::PrimaryFacts down;
  down.error = core::Error{core::ErrorCode::kUnavailable, "connection refused"};
  auto r = Replica();
  r.channel.io = collect::ThreadState::kConnecting;
  auto checks = steps::EvaluatePreChecks(down, r, Settings());
  EXPECT_FALSE(Find(checks, "primary_reachable")->passed);
  EXPECT_THAT(Find(checks, "primary_reachable")->detail, HasSubstr("cannot be fenced"));
  EXPECT_TRUE(Find(checks, "replica_of_target")->passed);  // 10.0.0.1:3306, as configured
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  checks = steps::EvaluatePreChecks(down, r, Settings(true));
  EXPECT_TRUE(steps::PreChecksAllow(checks));
  // A primary that answers but refuses the account is alive: never lifted.
  steps::PrimaryFacts refusing;
  refusing.error = core::Error{core::ErrorCode::kAccessDenied, "access denied"};
  checks = steps::EvaluatePreChecks(refusing, r, Settings(true));
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  EXPECT_FALSE(Find(checks, "primary_reachable")->forceable);
  // Another endpoint cannot be proven to be the target: --force only.
  auto s = Settings();
  s.target_host = "db.example";
  checks = steps::EvaluatePreChecks(down, r, s);
  EXPECT_FALSE(Find(checks, "replica_of_target")->passed);
  EXPECT_TRUE(Find(checks, "replica_of_target")->forceable);
}

TEST(FailoverStatements, PerFlavor) {
  EXPECT_THAT(steps::FenceStatements(kMariaDb), ElementsAre("SET GLOBAL read_only = ON"));
  EXPECT_THAT(steps::FenceStatements(kMySql),
              ElementsAre("SET GLOBAL read_only = ON", "SET GLOBAL super_read_only = ON"));
  EXPECT_THAT(steps::FenceStatements(kMySql57),
              ElementsAre("SET GLOBAL read_only = ON", "SET GLOBAL super_read_only = ON"));
  EXPECT_EQ(steps::UnfenceStatement(kMySql), "SET GLOBAL read_only = OFF");
  EXPECT_EQ(steps::ResetReplicaAll(kMariaDb, ""), "RESET SLAVE ALL");
  EXPECT_EQ(steps::ResetReplicaAll(kMariaDb, "east"), "RESET SLAVE 'east' ALL");
  EXPECT_EQ(steps::ResetReplicaAll(kMySql, ""), "RESET REPLICA ALL");
  EXPECT_EQ(steps::ResetReplicaAll(kMySql, "c1"), "RESET REPLICA ALL FOR CHANNEL 'c1'");
  EXPECT_EQ(steps::ResetReplicaAll(kMySql57, ""), "RESET SLAVE ALL");
  EXPECT_EQ(steps::WaitStatement(kMariaDb, steps::WaitKind::kMariaDbGtid, "0-1-100", "", 0, "", 1),
            "SELECT MASTER_GTID_WAIT('0-1-100', 1) AS result");
  EXPECT_EQ(steps::WaitStatement(kMySql, steps::WaitKind::kMySqlGtid, "uuid:1-5", "", 0, "", 1),
            "SELECT WAIT_FOR_EXECUTED_GTID_SET('uuid:1-5', 1) AS result");
  EXPECT_EQ(steps::WaitStatement(kMySql, steps::WaitKind::kPosition, "", "bin.000002", 77, "", 1),
            "SELECT SOURCE_POS_WAIT('bin.000002', 77, 1) AS result");
  EXPECT_EQ(steps::WaitStatement(kMySql57, steps::WaitKind::kPosition, "", "b.1", 4, "c", 1),
            "SELECT MASTER_POS_WAIT('b.1', 4, 1, 'c') AS result");
  using steps::ReadWaitResult;
  using steps::WaitKind;
  using steps::WaitResult;
  EXPECT_EQ(ReadWaitResult(WaitKind::kMariaDbGtid, 0), WaitResult::kDone);
  EXPECT_EQ(ReadWaitResult(WaitKind::kMariaDbGtid, -1), WaitResult::kTimedOut);
  EXPECT_EQ(ReadWaitResult(WaitKind::kMySqlGtid, 1), WaitResult::kTimedOut);
  EXPECT_EQ(ReadWaitResult(WaitKind::kPosition, 3), WaitResult::kDone);
  EXPECT_EQ(ReadWaitResult(WaitKind::kPosition, -1), WaitResult::kTimedOut);
  EXPECT_EQ(ReadWaitResult(WaitKind::kPosition, std::nullopt), WaitResult::kError);
  // GTID when the channel uses it and the primary's position is known.
  EXPECT_EQ(steps::ChooseWaitKind(Replica(), Primary()), WaitKind::kMariaDbGtid);
  auto r = Replica();
  r.using_gtid = "No";
  EXPECT_EQ(steps::ChooseWaitKind(r, Primary()), WaitKind::kPosition);
  EXPECT_EQ(steps::ChooseWaitKind(Replica(), steps::PrimaryFacts{}), WaitKind::kPosition);
}

// --- execution on fakes ----------------------------------------------------------------

mysql::ResultSet Empty() { return mysql::MakeResultSet({}, {}); }

class FailoverExecuteTest : public ::testing::Test {
 protected:
  collect::TargetSession Target(FakeSession*& fake) {
    auto owned = std::make_unique<FakeSession>();
    fake = owned.get();
    return collect::TargetSession{std::move(owned), dialect::Dialect(kMariaDb), {}, {}, {}};
  }
  void PrimaryAnswers(FakeSession& f, const std::string& read_only) {
    f.OnPrefix("SELECT @@GLOBAL.server_id",
               mysql::MakeResultSet({"server_id", "read_only", "gtid_binlog_pos"},
                                    {{"1", read_only, "0-1-100"}}));
    f.On("SHOW MASTER STATUS",
         mysql::MakeResultSet({"File", "Position"}, {{"bin.000003", "5000"}}));
    f.On("SHOW ALL SLAVES STATUS", Empty());
  }
  core::SimulatedClock clock_;
};

TEST_F(FailoverExecuteTest, PromotesInOrderAndVerifies) {
  FakeSession* p = nullptr;
  FakeSession* r = nullptr;
  auto primary = Target(p);
  auto replica = Target(r);
  p->On("SET GLOBAL read_only = ON", Empty());
  PrimaryAnswers(*p, "1");
  p->On("START TRANSACTION READ WRITE",
        FakeSession::ServerError(core::ErrorCode::kServerError, 1290, "HY000",
                                 "running with the --read-only option"));
  r->On("SELECT MASTER_GTID_WAIT('0-1-100', 1) AS result",
        mysql::MakeResultSet({"result"}, {{"0"}}));
  r->On("STOP SLAVE", Empty());
  r->On("RESET SLAVE ALL", Empty());
  r->On("SET GLOBAL read_only = OFF", Empty());
  r->OnPrefix("SELECT @@GLOBAL.server_id",
              mysql::MakeResultSet({"server_id", "read_only", "log_bin"}, {{"2", "0", "1"}}));
  r->On("SHOW ALL SLAVES STATUS", Empty());
  r->On("START TRANSACTION READ WRITE", Empty());
  r->On("ROLLBACK", Empty());
  std::vector<std::string> seen;
  steps::FailoverExecuteOptions options;
  options.on_step = [&](const steps::FailoverStep& s) {
    seen.push_back(s.server + " " + s.name + " " +
                   std::string(steps::FailoverStepStatusName(s.status)));
  };
  auto out = steps::ExecuteFailover(&primary, replica, Primary(), Replica(), clock_, options);
  EXPECT_TRUE(out.fenced);
  EXPECT_TRUE(out.promoted);
  EXPECT_TRUE(out.verified);
  EXPECT_FALSE(out.rolled_back);
  EXPECT_THAT(seen, ElementsAre("old primary fence done", "old primary read_position done",
                                "new primary wait done", "new primary stop_replica done",
                                "new primary reset_replica done", "new primary unfence done",
                                "new primary verify done", "old primary verify done"));
  EXPECT_THAT(out.steps.back().detail, HasSubstr("a read-write transaction is refused"));
}

TEST_F(FailoverExecuteTest, AWaitThatTimesOutIsRolledBack) {
  FakeSession* p = nullptr;
  FakeSession* r = nullptr;
  auto primary = Target(p);
  auto replica = Target(r);
  p->On("SET GLOBAL read_only = ON", Empty());
  p->On("SET GLOBAL read_only = OFF", Empty());
  PrimaryAnswers(*p, "1");
  r->On("SELECT MASTER_GTID_WAIT('0-1-100', 1) AS result",
        mysql::MakeResultSet({"result"}, {{"-1"}}));
  steps::FailoverExecuteOptions options;
  options.wait_timeout = std::chrono::seconds(3);
  auto out = steps::ExecuteFailover(&primary, replica, Primary(), Replica(), clock_, options);
  EXPECT_FALSE(out.promoted);
  EXPECT_TRUE(out.rolled_back);
  EXPECT_FALSE(out.fenced);
  ASSERT_GE(out.steps.size(), 2u);
  EXPECT_EQ(out.steps[2].name, "wait");
  EXPECT_THAT(out.steps[2].detail, HasSubstr("after 3 s"));
  EXPECT_EQ(out.steps.back().name, "rollback_unfence");
  // Three one-second waits, no STOP SLAVE.
  int waits = 0;
  for (const auto& s : r->statements()) waits += s.starts_with("SELECT MASTER_GTID_WAIT") ? 1 : 0;
  EXPECT_EQ(waits, 4);
  EXPECT_EQ(std::count(r->statements().begin(), r->statements().end(), "STOP SLAVE"), 0);
}

TEST_F(FailoverExecuteTest, AFenceRefusedStopsWithoutForce) {
  FakeSession* p = nullptr;
  FakeSession* r = nullptr;
  auto primary = Target(p);
  auto replica = Target(r);
  p->On("SET GLOBAL read_only = ON",
        FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                 "Access denied; you need READ_ONLY ADMIN"));
  auto out = steps::ExecuteFailover(&primary, replica, Primary(), Replica(), clock_, {});
  EXPECT_FALSE(out.promoted);
  EXPECT_FALSE(out.fenced);
  ASSERT_EQ(out.steps.size(), 1u);
  EXPECT_EQ(out.steps[0].status, steps::FailoverStepStatus::kFailed);
  EXPECT_TRUE(r->statements().empty());  // the replica was not touched
}

// --- cloud pre-checks ------------------------------------------------------------------

cloud::rds::DBInstance Instance(const std::string& id, const std::string& status,
                                const std::string& source = "") {
  cloud::rds::DBInstance i;
  i.db_instance_identifier = id;
  i.status = status;
  i.read_replica_source_db_instance_identifier = source;
  return i;
}

TEST(FailoverCloudPreChecks, Rds) {
  cloud::CloudStatus s;
  s.instance = Instance("db", "available");
  s.replicas = {Instance("db-r", "available", "db"), Instance("other", "available", "x")};
  s.replica_lag_seconds["db-r"] = 2;
  auto checks = CloudPreChecks(s, false, "db", "db-r", 10, false);
  EXPECT_TRUE(steps::PreChecksAllow(checks)) << steps::BlockingChecks(checks).size();
  s.replica_lag_seconds["db-r"] = 60;
  checks = CloudPreChecks(s, false, "db", "db-r", 10, false);
  EXPECT_FALSE(steps::PreChecksAllow(checks));
  EXPECT_TRUE(steps::PreChecksAllow(CloudPreChecks(s, false, "db", "db-r", 10, true)));
  s.replica_lag_seconds.clear();
  EXPECT_FALSE(Find(CloudPreChecks(s, false, "db", "db-r", 10, false), "lag")->passed);
  // Not its replica: never.
  checks = CloudPreChecks(s, false, "db", "other", 10, true);
  EXPECT_FALSE(steps::PreChecksAllow(checks));
}

TEST(FailoverCloudPreChecks, Aurora) {
  cloud::CloudStatus s;
  s.cluster = cloud::rds::DBCluster{};
  s.cluster->db_cluster_identifier = "c";
  s.cluster->status = "available";
  s.cluster->members = {{"c-1", true, "", 1}, {"c-2", false, "", 1}};
  s.instance = Instance("c-1", "available");
  s.replicas = {Instance("c-2", "available")};
  s.replica_lag_seconds["c-2"] = 0.02;
  EXPECT_TRUE(steps::PreChecksAllow(CloudPreChecks(s, true, "", "c-2", 10, false)));
  EXPECT_TRUE(steps::PreChecksAllow(CloudPreChecks(s, true, "", "", 10, false)));
  EXPECT_FALSE(steps::PreChecksAllow(CloudPreChecks(s, true, "", "c-1", 10, true)));  // writer
  EXPECT_FALSE(steps::PreChecksAllow(CloudPreChecks(s, true, "", "zz", 10, true)));
  s.cluster->status = "failing-over";
  EXPECT_FALSE(steps::PreChecksAllow(CloudPreChecks(s, true, "", "c-2", 10, true)));
}

// --- configuration, hook ---------------------------------------------------------------

TEST(FailoverConfig, ClusterNameAndCandidates) {
  core::MapEnvironment env;
  auto config = config::ParseConfig(
      "targets:\n"
      "  - {name: orders-b, host: b, replica_of: orders-a}\n"
      "  - {name: orders-a, host: a, replicas: [orders-c]}\n"
      "  - {name: orders-c, host: c}\n"
      "  - {name: billing, host: d, tags: {cluster: billing-main}}\n"
      "  - {name: billing-r, host: e, replica_of: billing}\n"
      "failover_hook: /bin/true\n"
      "failover_block_period: 30m\n",
      "t.yaml", env);
  ASSERT_TRUE(config) << config.error().front().message;
  EXPECT_EQ(ClusterName(*config, *config->Find("orders-a")), "orders-a");
  EXPECT_EQ(ClusterName(*config, *config->Find("orders-b")), "orders-a");
  EXPECT_EQ(ClusterName(*config, *config->Find("orders-c")), "orders-a");
  EXPECT_EQ(ClusterName(*config, *config->Find("billing-r")), "billing-main");
  EXPECT_THAT(ReplicaCandidates(*config, *config->Find("orders-a")),
              ElementsAre("orders-c", "orders-b"));
  EXPECT_TRUE(ReplicaCandidates(*config, *config->Find("orders-c")).empty());
  EXPECT_EQ(config->failover_hook, "/bin/true");
  EXPECT_EQ(config->failover_block_period, std::chrono::minutes(30));
  auto bad = config::ParseConfig("targets: []\nfailover_block_period: forever\n", "t.yaml", env);
  EXPECT_FALSE(bad);
}

TEST(FailoverHook, EnvironmentExitStatusAndTimeout) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("dbrunbook-hook-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "env").string();
  setenv("FAILOVER_TEST_SECRET", "s3cret", 1);  // NOLINT(concurrency-mt-unsafe)
  auto ok = RunHook("env > " + file, {{"DBRUNBOOK_NEW_PRIMARY", "10.0.0.2:3306"}},
                    {"FAILOVER_TEST_SECRET"}, std::chrono::seconds(10));
  EXPECT_TRUE(ok.ok) << ok.detail;
  std::ifstream in(file);
  const std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(env, HasSubstr("DBRUNBOOK_NEW_PRIMARY=10.0.0.2:3306"));
  EXPECT_THAT(env, ::testing::Not(HasSubstr("s3cret")));
  auto failed = RunHook("exit 3", {}, {}, std::chrono::seconds(10));
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.exit_status, 3);
  auto slow = RunHook("sleep 30", {}, {}, std::chrono::milliseconds(300));
  EXPECT_FALSE(slow.ok);
  EXPECT_THAT(slow.detail, HasSubstr("killed"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dbrunbook::app
