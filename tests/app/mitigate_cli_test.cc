// `dbrunbook mitigate kill-queries` as a process against the sandbox servers: the dry run
// changes nothing, --apply kills a real SELECT SLEEP(600) and verifies it, --kill-query keeps
// the connection, the guardrails hold with everything matching (the replica's IO/SQL threads,
// the primary's Binlog Dump, a protected user, dbrunbook's own session), a kill the account may
// not make is reported and audited, and every attempt is in the audit store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mysql/connector_session.h"
#include "store/store.h"
#include "support/audit_trail.h"
#include "support/cli_fixture.h"
#include "support/sandbox.h"

namespace dbrunbook::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A statement running in the background on its own connection until it ends or is killed.
class Background {
 public:
  Background(mysql::SessionFactory& factory, const mysql::ConnectOptions& options,
             std::string sql) {
    auto session = factory.Connect(options);
    EXPECT_TRUE(session) << session.error().ToString();
    if (!session) return;
    session_ = std::move(*session);
    id_ = session_->info().connection_id;
    thread_ = std::thread([this, sql = std::move(sql)] { (void)session_->Query(sql); });
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() {
    if (!thread_.joinable()) return;
    (void)testing::SandboxSql("primary", "KILL " + std::to_string(id_));
    thread_.join();
  }
  uint64_t id() const { return id_; }
  mysql::Session& session() { return *session_; }
  void Join() { thread_.join(); }

 private:
  std::unique_ptr<mysql::Session> session_;
  uint64_t id_ = 0;
  std::thread thread_;
};

class MitigateCliTest : public testing::CliFixture {
 protected:
  MitigateCliTest() : CliFixture("mitigate-cli") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto replica = testing::LoadSandbox("replica");
    ASSERT_TRUE(replica) << replica.error().ToString();
    replica_ = std::move(*replica);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "audit.db").string();
    config_ = Write("dbrunbook.yaml",
                    "targets:\n"
                    "  - name: primary-root\n"
                    "    socket: " +
                        primary_.socket +
                        "\n"
                        "    user: root\n"
                        "    protected_users: [mitigate_protected]\n"
                        "  - name: replica-root\n"
                        "    socket: " +
                        replica_.socket +
                        "\n"
                        "    user: root\n"
                        "  - name: primary\n"
                        "    host: 127.0.0.1\n"
                        "    port: " +
                        std::to_string(primary_.port) +
                        "\n"
                        "    user: monitor\n"
                        "    password_file: " +
                        primary_.monitor_password_file +
                        "\n"
                        "protected_users: [backup]\n");
  }

  // Runs the binary with a private HOME and the test's configuration and store.
  testing::RunResult Kill(const std::string& args) {
    return Shell("HOME='" + (dir_ / "home").string() + "' XDG_STATE_HOME= \"$B\" --config '" +
                 config_ + "' mitigate kill-queries " + args + " --store '" + store_ + "'");
  }
  static json Json(const testing::RunResult& r) {
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Describe();
    return j;
  }
  // The processlist row of `id` on the primary ("" when the connection is gone).
  static std::string Row(uint64_t id, const std::string& server = "primary") {
    auto out = testing::SandboxSql(
        server,
        "SELECT COMMAND, IFNULL(INFO, '') FROM information_schema.PROCESSLIST WHERE ID = " +
            std::to_string(id),
        {"--skip-column-names"});
    EXPECT_TRUE(out) << out.error().ToString();
    return out.value_or("");
  }
  void WaitRunning(uint64_t id) {
    for (int i = 0; i < 100 && Row(id).find("SLEEP") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_THAT(Row(id), HasSubstr("SLEEP"));
  }
  std::vector<store::AuditRecord> Audit() { return testing::ReadAuditTrail(store_); }
  static std::vector<std::string> Phases(const std::vector<store::AuditRecord>& records) {
    return testing::AuditPhases(records);
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
  testing::SandboxServer replica_;
  std::string store_;
  std::string config_;
};

TEST_F(MitigateCliTest, DryRunShowsThePlanAndChangesNothing) {
  Background victim(factory_, primary_.RootOptions(),
                    "SELECT SLEEP(600) AS mitigate_dry /* 'secret-literal' */");
  WaitRunning(victim.id());
  const auto r = Kill("primary-root --busy-time 0 --match-info mitigate_dry --format json");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["schema"], "dbrunbook.mitigation");
  EXPECT_EQ(j["status"], "planned");
  EXPECT_EQ(j["apply"], false);
  ASSERT_EQ(j["victims"].size(), 1u) << j.dump(2);
  const json& v = j["victims"][0];
  EXPECT_EQ(v["connection_id"], victim.id());
  EXPECT_EQ(v["sql"], "KILL CONNECTION " + std::to_string(victim.id()));
  EXPECT_EQ(v["user"], "root");
  EXPECT_EQ(v["statement"], "select sleep(?) as mitigate_dry");
  EXPECT_THAT(v["why"].get<std::string>(), HasSubstr("statement ~ /mitigate_dry/"));
  EXPECT_TRUE(v["outcome"].is_null());
  EXPECT_EQ(r.out.find("secret-literal"), std::string::npos);
  // Nothing changed: the victim still runs.
  EXPECT_THAT(Row(victim.id()), HasSubstr("SLEEP(600)"));

  const auto audit = Audit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].entry.phase, store::Phase::kPlanned);
  EXPECT_EQ(audit[0].entry.target, "primary-root");
  EXPECT_EQ(audit[0].entry.action, "kill-queries");
  EXPECT_THAT(audit[0].entry.result, HasSubstr("dry run"));
  EXPECT_EQ(audit[0].entry.plan.find("secret-literal"), std::string::npos);

  // The table says the same, and that nothing was changed.
  const auto table = Kill("primary-root --busy-time 0 --match-info mitigate_dry");
  ASSERT_EQ(table.status, 0) << table.Describe();
  EXPECT_THAT(table.out, HasSubstr("nothing was changed"));
  EXPECT_THAT(table.out, HasSubstr("sql: KILL CONNECTION " + std::to_string(victim.id())));
  EXPECT_THAT(Row(victim.id()), HasSubstr("SLEEP(600)"));
}

TEST_F(MitigateCliTest, ApplyKillsTheConnectionAndVerifiesIt) {
  Background victim(factory_, primary_.RootOptions(), "SELECT SLEEP(600) AS mitigate_apply");
  WaitRunning(victim.id());
  const auto r =
      Kill("primary-root --busy-time 0 --match-info mitigate_apply --apply --format json");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["status"], "done");
  ASSERT_EQ(j["victims"].size(), 1u);
  EXPECT_EQ(j["victims"][0]["outcome"]["status"], "killed") << j.dump(2);
  EXPECT_EQ(j["victims"][0]["outcome"]["detail"], "the connection is gone");
  victim.Join();
  EXPECT_EQ(Row(victim.id()), "");
  EXPECT_THAT(Phases(Audit()), ::testing::ElementsAre("planned", "applied", "verified"));
  EXPECT_EQ(Audit()[2].entry.subject, "connection " + std::to_string(victim.id()));
}

TEST_F(MitigateCliTest, KillQueryStopsTheStatementAndKeepsTheConnection) {
  Background victim(factory_, primary_.RootOptions(), "SELECT SLEEP(600) AS mitigate_query");
  WaitRunning(victim.id());
  const auto r = Kill(
      "primary-root --busy-time 0 --match-info mitigate_query --kill-query --apply --format json");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  ASSERT_EQ(j["victims"].size(), 1u);
  // MariaDB: the statement by its query id.
  EXPECT_THAT(j["victims"][0]["sql"].get<std::string>(), HasSubstr("KILL QUERY ID "));
  EXPECT_EQ(j["victims"][0]["outcome"]["status"], "killed") << j.dump(2);
  victim.Join();
  EXPECT_THAT(Row(victim.id()), HasSubstr("Sleep"));
  // The connection still works.
  EXPECT_TRUE(victim.session().Query("SELECT 1"));
}

TEST_F(MitigateCliTest, GuardrailsHoldWhenEverythingMatches) {
  ASSERT_TRUE(
      testing::SandboxSql("primary", "CREATE USER IF NOT EXISTS 'mitigate_protected'@'localhost'"));
  mysql::ConnectOptions protected_options = primary_.RootOptions();
  protected_options.user = "mitigate_protected";
  Background protected_session(factory_, protected_options, "SELECT SLEEP(600) AS mitigate_prot");
  Background killable(factory_, primary_.RootOptions(), "SELECT SLEEP(600) AS mitigate_all");
  WaitRunning(protected_session.id());
  WaitRunning(killable.id());

  const auto r =
      Kill("primary-root --busy-time 0 --match-user '.*' --victims all --apply --format json");
  const json j = Json(r);
  ASSERT_TRUE(j.is_object()) << r.Describe();
  std::set<uint64_t> victims;
  for (const auto& v : j["victims"]) victims.insert(v["connection_id"].get<uint64_t>());
  EXPECT_TRUE(victims.contains(killable.id())) << j.dump(2);
  EXPECT_FALSE(victims.contains(protected_session.id())) << j.dump(2);
  bool saw_protected = false, saw_dump = false, saw_own = false;
  for (const auto& e : j["excluded"]) {
    const std::string reason = e["reason"];
    if (e["connection_id"] == protected_session.id()) {
      saw_protected = true;
      EXPECT_THAT(reason, HasSubstr("protected user"));
      EXPECT_TRUE(e["guardrail"].get<bool>());
    }
    if (e["command"] == "Binlog Dump GTID" || e["command"] == "Binlog Dump") {
      saw_dump = true;
      EXPECT_THAT(reason, HasSubstr("replication"));
    }
    if (reason == "dbrunbook's own connection") saw_own = true;
  }
  EXPECT_TRUE(saw_protected) << j.dump(2);
  EXPECT_TRUE(saw_dump) << j.dump(2);
  EXPECT_TRUE(saw_own) << j.dump(2);
  for (const auto& v : j["victims"]) {
    EXPECT_NE(v["command"], "Binlog Dump GTID");
    EXPECT_NE(v["user"], "mitigate_protected");
  }
  EXPECT_THAT(Row(protected_session.id()), HasSubstr("SLEEP(600)"));
  // The replica is still connected.
  auto dumps = testing::SandboxSql(
      "primary",
      "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'",
      {"--skip-column-names"});
  ASSERT_TRUE(dumps);
  EXPECT_EQ(*dumps, "1\n");

  // On the replica: its IO and SQL threads match and are never killed.
  const auto replica =
      Kill("replica-root --busy-time 0 --match-user '.*' --victims all --apply --format json");
  const json rj = Json(replica);
  ASSERT_TRUE(rj.is_object()) << replica.Describe();
  std::set<std::string> spared;
  for (const auto& e : rj["excluded"]) {
    if (e["guardrail"].get<bool>()) spared.insert(e["command"].get<std::string>());
  }
  EXPECT_TRUE(spared.contains("Slave_IO")) << rj.dump(2);
  EXPECT_TRUE(spared.contains("Slave_SQL")) << rj.dump(2);
  for (const auto& v : rj["victims"]) EXPECT_NE(v["user"], "system user") << rj.dump(2);
  auto status = testing::SandboxSql("replica", "SHOW SLAVE STATUS\\G");
  ASSERT_TRUE(status);
  EXPECT_THAT(*status, HasSubstr("Slave_IO_Running: Yes"));
  EXPECT_THAT(*status, HasSubstr("Slave_SQL_Running: Yes"));
  (void)testing::SandboxSql("primary", "DROP USER IF EXISTS 'mitigate_protected'@'localhost'");
}

TEST_F(MitigateCliTest, AKillTheAccountMayNotMakeIsReportedAndAudited) {
  Background victim(factory_, primary_.RootOptions(), "SELECT SLEEP(600) AS mitigate_denied");
  WaitRunning(victim.id());
  const auto r = Kill("primary --busy-time 0 --match-info mitigate_denied --apply --format json");
  ASSERT_EQ(r.status, 1) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["status"], "incomplete");
  ASSERT_EQ(j["victims"].size(), 1u);
  const json& outcome = j["victims"][0]["outcome"];
  EXPECT_EQ(outcome["status"], "failed") << j.dump(2);
  EXPECT_THAT(outcome["error"]["message"].get<std::string>(), HasSubstr("not owner of thread"));
  EXPECT_THAT(outcome["error"]["hint"].get<std::string>(),
              HasSubstr("GRANT CONNECTION ADMIN ON *.* TO 'monitor'@'%'"));
  EXPECT_THAT(Row(victim.id()), HasSubstr("SLEEP(600)"));
  const auto audit = Audit();
  EXPECT_THAT(Phases(audit), ::testing::ElementsAre("planned", "failed"));
  EXPECT_THAT(audit.back().entry.error, HasSubstr("not owner of thread"));
  EXPECT_EQ(audit.back().entry.error.find(primary_.monitor_password.Reveal()), std::string::npos);
}

TEST_F(MitigateCliTest, NoAuditStoreNoKill) {
  Background victim(factory_, primary_.RootOptions(), "SELECT SLEEP(600) AS mitigate_nostore");
  WaitRunning(victim.id());
  const auto r = Shell("HOME='" + (dir_ / "home").string() + "' \"$B\" --config '" + config_ +
                       "' mitigate kill-queries primary-root --busy-time 0 --match-info "
                       "mitigate_nostore --apply --store /dev/null/audit.db");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("refusing to act without the audit log"));
  EXPECT_THAT(Row(victim.id()), HasSubstr("SLEEP(600)"));
}

TEST_F(MitigateCliTest, UsageErrors) {
  EXPECT_EQ(Kill("primary-root --match-info '(unclosed'").status, 2);
  EXPECT_EQ(Kill("primary-root --busy-time -3").status, 2);
  EXPECT_EQ(Kill("primary-root --idle-time 5 --kill-query").status, 2);
  EXPECT_EQ(Kill("no-such-target").status, 2);
  const auto bad = Shell("\"$B\" --config '" +
                         Write("bad.yaml", "targets: []\nprotected_users: [\"'app'@'%'\"]\n") +
                         "' config check --offline");
  EXPECT_EQ(bad.status, 1) << bad.Describe();
  EXPECT_THAT(bad.out + bad.err, HasSubstr("protected_users[0]: ''app'@'%'' is not a user name"));
}

}  // namespace
}  // namespace dbrunbook::app
