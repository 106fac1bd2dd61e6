// `dbrunbook mitigate failover` as a process against a real replication pair of its own (the
// sandboxes fo_primary and fo_replica, started --fresh for this test only: the failover
// destroys the pair, so the shared primary/replica are never used). In declaration order:
// usage errors (exit 2 and JSON), a dry run that changes nothing, a stopped replica refused
// without --force, a failed apply (an account without RELOAD: RESET SLAVE ALL is refused) rolled
// back and audited, a held lock refused and a dead holder's lock broken, then the real failover
// (the replica a writable primary without replication, the old primary read-only, the hook's
// environment) and anti-flapping refusing a second one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mysql/connector_session.h"
#include "store/store.h"
#include "support/cli_fixture.h"
#include "support/sandbox.h"

namespace dbrunbook::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPassword = "fo-test-pw-9f2c";

std::string Sql(const std::string& server, const std::string& sql) {
  const bool vertical = sql.ends_with("\\G");
  auto out = testing::SandboxSql(
      server, sql,
      vertical ? std::vector<std::string>{} : std::vector<std::string>{"--skip-column-names"});
  EXPECT_TRUE(out) << out.error().ToString();
  return out.value_or("");
}

class FailoverCliTest : public testing::CliFixture {
 protected:
  FailoverCliTest() : CliFixture("failover-cli") {}

  static void SetUpTestSuite() {
    // Two accounts, created on the primary and replicated: one with every privilege the
    // README lists for a MariaDB 10.11 failover, one without RELOAD (RESET SLAVE ALL fails).
    const std::string grants =
        "READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, BINLOG MONITOR, SLAVE MONITOR";
    auto created = testing::SandboxSql(
        "fo_primary", std::string("CREATE USER IF NOT EXISTS 'fo_admin'@'%' IDENTIFIED BY '") +
                          kPassword + "'; GRANT " + grants +
                          ", RELOAD ON *.* TO 'fo_admin'@'%'; "
                          "CREATE USER IF NOT EXISTS 'fo_norld'@'%' IDENTIFIED BY '" +
                          kPassword + "'; GRANT " + grants + " ON *.* TO 'fo_norld'@'%';");
    ASSERT_TRUE(created) << created.error().ToString();
    for (int i = 0; i < 100; ++i) {
      if (Sql("fo_replica", "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'fo\\_%'") == "2\n") {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the accounts did not replicate";
  }

  void SetUp() override {
    CliFixture::SetUp();
    auto primary = testing::LoadSandbox("fo_primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto replica = testing::LoadSandbox("fo_replica");
    ASSERT_TRUE(replica) << replica.error().ToString();
    replica_ = std::move(*replica);
    std::filesystem::create_directories(dir_ / "home");
    Configure("fo_admin");
  }

  void Configure(const std::string& user) {
    config_ = Write("dbrunbook.yaml", "defaults:\n  host: 127.0.0.1\n  user: " + user +
                                          "\n  password_env: FO_TEST_PW\n"
                                          "targets:\n"
                                          "  - name: fo-a\n    port: " +
                                          std::to_string(primary_.port) +
                                          "\n    replicas: [fo-b]\n"
                                          "  - name: fo-b\n    port: " +
                                          std::to_string(replica_.port) +
                                          "\n    replica_of: fo-a\n"
                                          "  - name: fo-other\n    port: " +
                                          std::to_string(primary_.port) + "\n");
  }

  testing::RunResult Failover(const std::string& args, const std::string& store = "audit.db") {
    return Shell("HOME='" + (dir_ / "home").string() + "' XDG_STATE_HOME= FO_TEST_PW='" +
                 kPassword + "' \"$B\" --config '" + config_ + "' mitigate failover " + args +
                 " --store '" + (dir_ / store).string() + "'");
  }
  static json Json(const testing::RunResult& r) {
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Describe();
    return j;
  }
  static const json* Check(const json& j, const std::string& name) {
    for (const auto& c : j["checks"]) {
      if (c["name"] == name) return &c;
    }
    return nullptr;
  }
  // read_only of each server and whether the replica replicates with both threads running.
  void ExpectUnchanged() {
    EXPECT_EQ(Sql("fo_primary", "SELECT @@read_only"), "0\n");
    EXPECT_EQ(Sql("fo_replica", "SELECT @@read_only"), "1\n");
    const std::string status = Sql("fo_replica", "SHOW SLAVE STATUS\\G");
    EXPECT_THAT(status, HasSubstr("Slave_IO_Running: Yes"));
    EXPECT_THAT(status, HasSubstr("Slave_SQL_Running: Yes"));
  }
  std::vector<store::AuditRecord> Audit(const std::string& store = "audit.db") {
    auto s = store::Store::Open((dir_ / store).string());
    EXPECT_TRUE(s) << s.error().ToString();
    if (!s) return {};
    auto records = (*s)->Recent(200);
    EXPECT_TRUE(records);
    auto out = records.value_or(std::vector<store::AuditRecord>{});
    std::reverse(out.begin(), out.end());
    return out;
  }

  core::RealClock clock_;
  testing::SandboxServer primary_;
  testing::SandboxServer replica_;
  std::string config_;
};

TEST_F(FailoverCliTest, UsageErrorsAreExit2WithJson) {
  // Not a configured replica of the target: never a failover target.
  auto run = Failover("fo-a --to fo-other --format json");
  EXPECT_EQ(run.status, 2) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["status"], "error");
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_THAT(j["error"]["message"].get<std::string>(), HasSubstr("not a configured replica"));
  // A target with no replica.
  run = Failover("fo-other");
  EXPECT_EQ(run.status, 2) << run.Describe();
  EXPECT_THAT(run.err, HasSubstr("no configured replica"));
  // Unknown target, bad option values.
  EXPECT_EQ(Failover("nope").status, 2);
  EXPECT_EQ(Failover("fo-a --max-lag -1").status, 2);
  EXPECT_EQ(Failover("fo-a --wait-timeout 0s").status, 2);
  EXPECT_EQ(Failover("").status, 2);
  // The other way round: fo-a is no replica of fo-b, whatever --force says.
  run = Failover("fo-b --to fo-a --format json --force");
  EXPECT_EQ(run.status, 2) << run.Describe();
  ExpectUnchanged();
}

TEST_F(FailoverCliTest, DryRunChangesNothing) {
  const std::string gtid_before = Sql("fo_replica", "SELECT @@gtid_slave_pos");
  auto run = Failover("fo-a --format json");
  ASSERT_EQ(run.status, 0) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["schema"], "dbrunbook.mitigation");
  EXPECT_EQ(j["action"], "failover");
  EXPECT_EQ(j["kind"], "replication");
  EXPECT_EQ(j["status"], "planned");
  EXPECT_EQ(j["apply"], false);
  EXPECT_EQ(j["new_primary"]["target"], "fo-b");
  EXPECT_EQ(j["new_primary"]["endpoint"], "127.0.0.1:" + std::to_string(replica_.port));
  EXPECT_EQ(j["old_primary"]["endpoint"], "127.0.0.1:" + std::to_string(primary_.port));
  for (const auto& c : j["checks"]) EXPECT_TRUE(c["passed"].get<bool>()) << c.dump();
  ASSERT_NE(Check(j, "replica_of_target"), nullptr);
  EXPECT_THAT((*Check(j, "replica_of_target"))["detail"].get<std::string>(),
              HasSubstr("server_id " + std::to_string(primary_.server_id)));
  EXPECT_TRUE(j["steps"].empty());
  ExpectUnchanged();
  EXPECT_EQ(Sql("fo_replica", "SELECT @@gtid_slave_pos"), gtid_before);
  // The table output says it is a plan, and lists the steps in order.
  run = Failover("fo-a");
  ASSERT_EQ(run.status, 0) << run.Describe();
  EXPECT_THAT(run.out, HasSubstr("plan — nothing was changed"));
  EXPECT_THAT(run.out, HasSubstr("1. fence the old primary: SET GLOBAL read_only = ON"));
  EXPECT_THAT(run.out, HasSubstr("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF"));
  auto audit = Audit();
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().entry.action, "failover");
  EXPECT_EQ(audit.back().entry.phase, store::Phase::kPlanned);
  EXPECT_THAT(audit.back().entry.result, HasSubstr("dry run"));
}

TEST_F(FailoverCliTest, AStoppedReplicaIsRefusedWithoutForce) {
  Sql("fo_replica", "STOP SLAVE SQL_THREAD");
  auto run = Failover("fo-a --apply --format json");
  Sql("fo_replica", "START SLAVE SQL_THREAD");
  EXPECT_EQ(run.status, 1) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["status"], "refused");
  ASSERT_NE(Check(j, "sql_thread_running"), nullptr);
  EXPECT_FALSE((*Check(j, "sql_thread_running"))["passed"].get<bool>());
  EXPECT_TRUE((*Check(j, "sql_thread_running"))["forceable"].get<bool>());
  EXPECT_FALSE((*Check(j, "lag"))["passed"].get<bool>());  // unknown while stopped
  std::string reasons = j["reasons"].dump();
  EXPECT_THAT(reasons, HasSubstr("sql_thread_running"));
  EXPECT_THAT(reasons, HasSubstr("--force lifts this check"));
  EXPECT_TRUE(j["steps"].empty());
  for (int i = 0;
       i < 50 && Sql("fo_replica", "SHOW SLAVE STATUS\\G").find("Slave_SQL_Running: Yes") ==
                     std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ExpectUnchanged();
  auto audit = Audit();
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().entry.phase, store::Phase::kRefused);
  EXPECT_THAT(audit.back().entry.error, HasSubstr("sql_thread_running"));
  // A refusal is no recovery: nothing blocks the next run.
  auto s = store::Store::Open((dir_ / "audit.db").string());
  ASSERT_TRUE(s);
  auto last = (*s)->LastRecovery("fo-a");
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->has_value());
}

TEST_F(FailoverCliTest, AFailedApplyIsRolledBackReportedAndAudited) {
  Configure("fo_norld");  // no RELOAD: RESET SLAVE ALL is refused after STOP SLAVE
  auto run = Failover("fo-a --apply --format json", "failed.db");
  EXPECT_EQ(run.status, 1) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["status"], "rolled_back");
  EXPECT_EQ(j["promoted"], false);
  EXPECT_EQ(j["rolled_back"], true);
  EXPECT_EQ(j["fenced"], false);
  std::vector<std::string> names;
  for (const auto& s : j["steps"]) {
    names.push_back(s["name"].get<std::string>() + ":" + s["status"].get<std::string>());
  }
  EXPECT_THAT(names,
              ::testing::ElementsAre("fence:done", "read_position:done", "wait:done",
                                     "stop_replica:done", "reset_replica:failed",
                                     "rollback_start_replica:done", "rollback_unfence:done"));
  const json& failed = j["steps"][4];
  EXPECT_EQ(failed["error"]["code"], "privilege");
  EXPECT_THAT(failed["error"]["message"].get<std::string>(), HasSubstr("RELOAD"));
  // Rolled back: the primary writable, the replica replicating again.
  for (int i = 0;
       i < 50 &&
       Sql("fo_replica", "SHOW SLAVE STATUS\\G").find("Slave_IO_Running: Yes") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ExpectUnchanged();
  // Audited: the plan, each step, the failure with its error.
  auto audit = Audit("failed.db");
  bool saw_failure = false;
  for (const auto& r : audit) {
    if (r.entry.phase == store::Phase::kFailed && r.entry.subject == "new primary reset_replica") {
      saw_failure = true;
      EXPECT_EQ(r.entry.plan, "RESET SLAVE ALL");
      EXPECT_THAT(r.entry.error, HasSubstr("RELOAD"));
    }
  }
  EXPECT_TRUE(saw_failure);
  // A failed recovery counts for the block period.
  run = Failover("fo-a --format json", "failed.db");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(), HasSubstr("within the block period"));
}

TEST_F(FailoverCliTest, OneRecoveryPerClusterAtATime) {
  auto s = store::Store::Open((dir_ / "lock.db").string());
  ASSERT_TRUE(s);
  store::Recovery held;
  held.cluster = "fo-a";
  held.action = "failover";
  held.run_id = "held-run";
  held.os_user = "someone";
  held.pid = getpid();  // alive: this test process
  held.started_at = "2026-11-27T03:00:00.000Z";
  held.started_epoch = 1;
  held.old_primary = "fo-a";
  held.new_primary = "fo-b";
  auto lock = (*s)->BeginRecovery(held);
  ASSERT_TRUE(lock && lock->id);
  auto run = Failover("fo-a --apply --acknowledge --format json", "lock.db");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(),
              HasSubstr("another recovery of cluster 'fo-a' is running"));
  ExpectUnchanged();
  // A holder whose process is gone: its lock is broken (and said), the dry run goes on.
  ASSERT_TRUE((*s)->EndRecovery(*lock->id, "done", "test", "2026-11-27T03:00:01.000Z"));
  held.pid = 999999999;  // no such process
  held.started_epoch = 2;
  held.run_id = "dead-run";
  ASSERT_TRUE((*s)->BeginRecovery(held));
  run = Failover("fo-a --acknowledge --format json", "lock.db");
  EXPECT_EQ(run.status, 0) << run.Describe();
  EXPECT_THAT(Json(run)["warnings"].dump(), HasSubstr("dead-run"));
}

TEST_F(FailoverCliTest, FailsOverThenRefusesToFlap) {
  // A write on the primary just before: it must be on the new primary after.
  Sql("fo_primary",
      "CREATE DATABASE IF NOT EXISTS fo_app; CREATE TABLE IF NOT EXISTS fo_app.t (id INT "
      "PRIMARY KEY); INSERT INTO fo_app.t VALUES (1)");
  const std::string hook_out = (dir_ / "hook.env").string();
  auto run = Failover("fo-a --apply --format json --hook 'env > " + hook_out + "'");
  ASSERT_EQ(run.status, 0) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["fenced"], true);
  EXPECT_EQ(j["promoted"], true);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["hook"]["ok"], true);
  EXPECT_THAT(j["application_change"].get<std::string>(),
              HasSubstr("127.0.0.1:" + std::to_string(replica_.port)));
  // The replica: a writable primary, replication reset, the primary's last write applied.
  EXPECT_EQ(Sql("fo_replica", "SELECT @@read_only"), "0\n");
  EXPECT_EQ(Sql("fo_replica", "SHOW ALL SLAVES STATUS"), "");
  EXPECT_EQ(Sql("fo_replica", "SELECT id FROM fo_app.t"), "1\n");
  Sql("fo_replica", "INSERT INTO fo_app.t VALUES (2)");
  // The old primary: read-only; an account without READ_ONLY ADMIN cannot write.
  EXPECT_EQ(Sql("fo_primary", "SELECT @@read_only"), "1\n");
  mysql::ConnectorSessionFactory factory(clock_);
  auto monitor = factory.Connect(primary_.MonitorOptions());
  ASSERT_TRUE(monitor) << monitor.error().ToString();
  auto refused = (*monitor)->Query("START TRANSACTION READ WRITE");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().server_errno, 1290);
  auto new_primary = factory.Connect(replica_.MonitorOptions());
  ASSERT_TRUE(new_primary);
  EXPECT_TRUE((*new_primary)->Query("START TRANSACTION READ WRITE"));
  // The hook: host:port of both, never a password.
  const std::string env = Slurp(hook_out);
  EXPECT_THAT(env, HasSubstr("DBRUNBOOK_OLD_PRIMARY=127.0.0.1:" + std::to_string(primary_.port)));
  EXPECT_THAT(env, HasSubstr("DBRUNBOOK_NEW_PRIMARY=127.0.0.1:" + std::to_string(replica_.port)));
  EXPECT_THAT(env, HasSubstr("DBRUNBOOK_CLUSTER=fo-a"));
  EXPECT_THAT(env, Not(HasSubstr(kPassword)));
  EXPECT_THAT(env, Not(HasSubstr("FO_TEST_PW")));
  // Audited: plan, steps, both verifications, the hook.
  auto audit = Audit();
  int verified = 0;
  bool hook = false;
  for (const auto& r : audit) {
    if (r.entry.phase == store::Phase::kVerified) ++verified;
    if (r.entry.subject == "hook") hook = true;
  }
  EXPECT_EQ(verified, 2);
  EXPECT_TRUE(hook);

  // Anti-flapping: a second failover of the cluster (back to the old primary, named from the
  // other side) is refused within the block period, with the previous one's time.
  run = Failover("fo-b --to fo-a --apply --format json");
  EXPECT_EQ(run.status, 2) << run.Describe();  // fo-a is not configured as fo-b's replica
  run = Failover("fo-a --apply --format json");
  EXPECT_EQ(run.status, 1) << run.Describe();
  j = Json(run);
  EXPECT_EQ(j["status"], "refused");
  EXPECT_THAT(j["reasons"].dump(), HasSubstr("within the block period of 3600 s"));
  EXPECT_THAT(j["reasons"].dump(), HasSubstr("--acknowledge"));
  EXPECT_EQ(j["previous_recovery"]["outcome"], "done");
  EXPECT_FALSE(j["previous_recovery"]["started_at"].get<std::string>().empty());
  // And the pre-checks still guard it: fo-b is no replica any more.
  run = Failover("fo-a --apply --acknowledge --format json");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(), HasSubstr("not a replica"));
}

}  // namespace
}  // namespace dbrunbook::app
