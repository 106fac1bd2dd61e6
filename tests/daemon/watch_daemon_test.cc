// `dbrunbook watch` as a process against its own sandbox server (watchdb): a lock pile-up
// becomes an incident within two polls, its diagnosis names the root blocker, the auto policy
// kills it, the incident verifies and resolves; kill -9 mid-incident and a restart resume it
// without repeating an action; Alertmanager alerts, pushed signals and application log lines
// open incidents; bad bodies get 400s; /metrics passes promtool; and, last, the server
// stopped becomes an `unavailable` incident that escalates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cloud/http.h"
#include "core/clock.h"
#include "mysql/connector_session.h"
#include "support/audit_trail.h"
#include "support/cli_fixture.h"
#include "support/daemon_api.h"
#include "support/daemon_process.h"
#include "support/peer_tools.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using testing::DaemonProcess;

class WatchDaemonTest : public testing::CliFixture {
 protected:
  WatchDaemonTest() : CliFixture("watch-daemon") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto server = testing::LoadSandbox("watchdb");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "store.db").string();
    applog_ = Write("app.log", "");
    config_ = Write("dbrunbook.yaml",
                    "targets:\n"
                    "  - name: db\n"
                    "    socket: " +
                        server_.socket +
                        "\n"
                        "    user: root\n"
                        "  - name: db2\n"
                        "    socket: " +
                        server_.socket +
                        "\n"
                        "    user: root\n"
                        "investigate:\n"
                        "  digest_interval: 0s\n"
                        "  long_query: 2s\n"
                        "watch:\n"
                        "  slow_interval: 2s\n"
                        "  app_logs:\n"
                        "    - {path: " +
                        applog_ + ", target: db2}\n");
    auto transport = cloud::CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    http_ = std::move(*transport);
    ASSERT_TRUE(testing::SandboxSql("watchdb",
                                    "CREATE DATABASE IF NOT EXISTS watchtest;"
                                    "CREATE TABLE IF NOT EXISTS watchtest.t (id INT PRIMARY KEY, "
                                    "v INT) ENGINE=InnoDB;"
                                    "INSERT IGNORE INTO watchtest.t VALUES (1, 0), (2, 0);"));
  }

  std::string Runbook(const std::string& policy) {
    return Write("runbook-" + policy + ".yaml",
                 "runbook: {name: watch-test, version: 1, owner: tests}\n"
                 "triggers:\n"
                 // db2 is the same server under another name (for the application log):
                 // only db watches its queries.
                 "  - {name: slow_queries, signal: longest_query_seconds, op: \">\", threshold: 2,"
                 " severity: critical, targets: [db]}\n"
                 "  - {name: database_unreachable, signal: target_unreachable, op: \">=\","
                 " threshold: 1, for: 2s, severity: critical, targets: [db]}\n"
                 "  - {name: app_errors, signal: app_errors_per_min, op: \">\", threshold: 0,"
                 " severity: warning, targets: [db2]}\n"
                 "phases:\n"
                 "  assess: {deadline: 5m}\n"
                 "  investigate: {deadline: 15m}\n"
                 "  mitigate: {deadline: 30m}\n"
                 "  verify: {period: 3s}\n"
                 "mitigations:\n"
                 "  kill-queries: {policy: " +
                     policy +
                     // As the default runbook: busy_time for long runners and min_wait for
                     // root blockers in one parameter set.
                     ", on: [lock.root_blocker], busy_time: 300s, min_wait: 1s, max_victims: 10}\n"
                     "escalation:\n"
                     "  - {name: database-unavailable, when: unavailable, after: 3s, level: 1}\n"
                     "contacts:\n"
                     "  - {name: dba, role: DBA on call, level: 1, channels: []}\n"
                     "prevention:\n"
                     "  - Review the slow query log weekly\n");
  }

  std::unique_ptr<DaemonProcess> Start(
      const std::string& runbook,
      const std::vector<std::pair<std::string, std::string>>& env = {}) {
    auto d = std::make_unique<DaemonProcess>(
        binary_,
        std::vector<std::string>{"--config", config_, "watch", "--runbook", runbook, "--store",
                                 store_, "--listen", "127.0.0.1:0"},
        (dir_ / ("daemon-" + std::to_string(++starts_) + ".log")).string(),
        (dir_ / "home").string(), env);
    current_ = d.get();
    port_ = d->WaitForPort(std::chrono::seconds(20));
    EXPECT_GT(port_, 0) << d->Log();
    EXPECT_TRUE(d->Alive()) << d->Log();
    return d;
  }

  cloud::HttpResponse Http(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& token = "") {
    return testing::DaemonHttp(*http_, port_, method, path, body, token);
  }

  json Incidents() {
    auto r = Http("GET", "/api/v1/incidents");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The first incident on `target` satisfying `pred`, polled for up to `timeout`.
  json WaitIncident(const std::string& target, const std::function<bool(const json&)>& pred,
                    std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    json last;
    while (Clock::now() < deadline) {
      last = Incidents();
      if (last.is_object()) {
        for (const auto& i : last["incidents"]) {
          if (i["target"] == target && pred(i)) return i;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "no matching incident on " << target << " within " << timeout.count()
                  << "s; last: " << last.dump(2).substr(0, 6000) << "\ndaemon log:\n"
                  << (current_ != nullptr ? current_->Log() : "");
    return json();
  }

  static bool HasEvent(const json& incident, const std::string& kind) {
    for (const auto& e : incident["timeline"]) {
      if (e["kind"] == kind) return true;
    }
    return false;
  }
  static int CountEvents(const json& incident, const std::string& kind) {
    int n = 0;
    for (const auto& e : incident["timeline"]) n += e["kind"] == kind ? 1 : 0;
    return n;
  }
  static std::string ActionState(const json& incident, const std::string& action) {
    for (const auto& a : incident["actions"]) {
      if (a.value("action", "") == action) return a.value("state", "");
    }
    return "";
  }

  // Session A holds row 1 (idle in its transaction); session B waits for it on a thread.
  // Members destroyed in reverse order: the waiter's future (which joins its thread) before
  // the session the thread uses.
  struct Pileup {
    std::unique_ptr<mysql::Session> holder;
    uint64_t holder_id = 0;
    std::unique_ptr<mysql::Session> waiter_session;
    std::future<core::Result<mysql::ResultSet>> waiter;
  };
  Pileup MakePileup() {
    Pileup p;
    mysql::ConnectorSessionFactory factory(clock_);
    mysql::ConnectOptions options;
    options.socket = server_.socket;
    options.user = "root";
    options.target_name = "test";
    auto a = factory.Connect(options);
    EXPECT_TRUE(a) << a.error().ToString();
    if (!a) return p;
    p.holder = std::move(*a);
    p.holder_id = p.holder->info().connection_id;
    EXPECT_TRUE(p.holder->Query("BEGIN"));
    EXPECT_TRUE(p.holder->Query("UPDATE watchtest.t SET v = v + 1 WHERE id = 1"));
    auto b = factory.Connect(options);
    EXPECT_TRUE(b) << b.error().ToString();
    if (!b) return p;
    p.waiter_session = std::move(*b);
    EXPECT_TRUE(p.waiter_session->Query("SET SESSION innodb_lock_wait_timeout = 120"));
    mysql::Session* s = p.waiter_session.get();
    p.waiter = std::async(std::launch::async, [s] {
      return s->Query("UPDATE watchtest.t SET v = v + 10 WHERE id = 1");
    });
    return p;
  }

  core::RealClock clock_;  // outlives the sessions made with it
  testing::SandboxServer server_;
  std::string store_;
  std::string config_;
  std::string applog_;
  int port_ = 0;
  DaemonProcess* current_ = nullptr;  // the last one started
  int starts_ = 0;                    // each start logs to its own file
  std::unique_ptr<cloud::CurlTransport> http_;
};

TEST_F(WatchDaemonTest, LockPileupIsDiagnosedKilledByAutoPolicyVerifiedAndResolved) {
  auto daemon = Start(Runbook("auto"));
  ASSERT_GT(port_, 0);
  auto health = Http("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;

  const auto started = Clock::now();
  Pileup pileup = MakePileup();
  ASSERT_TRUE(pileup.holder);

  // The waiter crosses 2 s at about started + 2 s; the incident must open within two polls.
  json opened = WaitIncident(
      "db", [](const json&) { return true; }, std::chrono::seconds(20));
  ASSERT_FALSE(opened.is_null());
  const double open_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_LT(open_seconds, 2.0 + 2.0 + 1.0) << "threshold 2 s, two 1 s polls, 1 s of slack";
  EXPECT_THAT(opened["triggers"].dump(), HasSubstr("slow_queries"));

  // The auto policy kills the root blocker (the idle holder), and the waiter then completes.
  json resolved = WaitIncident(
      "db", [](const json& i) { return i["phase"] == "resolved"; }, std::chrono::seconds(60));
  ASSERT_FALSE(resolved.is_null()) << daemon->Log();
  auto waited = pileup.waiter.get();
  EXPECT_TRUE(waited) << "the waiter's UPDATE completes once the blocker is killed: "
                      << (waited ? "" : waited.error().ToString());
  EXPECT_FALSE(pileup.holder->Query("SELECT 1")) << "the root blocker's connection is gone";

  EXPECT_EQ(ActionState(resolved, "kill-queries"), "verified") << resolved.dump(2);
  for (const char* kind : {"opened", "findings", "action.applied", "resolved"}) {
    EXPECT_TRUE(HasEvent(resolved, kind) ||
                (std::string(kind) == "action.applied" && HasEvent(resolved, "action.verified")))
        << kind << " missing: " << resolved["timeline"].dump(2);
  }
  EXPECT_THAT(resolved.dump(), HasSubstr("Review the slow query log weekly"));

  // The diagnosis named the right root blocker: the holder's connection.
  auto detail = Http("GET", "/api/v1/incidents/" + std::to_string(resolved["id"].get<int>()));
  ASSERT_EQ(detail.status, 200) << detail.body;
  json doc = json::parse(detail.body);
  bool named = false;
  for (const auto& f : doc["diagnoses"]) {
    if (f["code"] == "lock.root_blocker" &&
        f["title"].get<std::string>().find(std::to_string(pileup.holder_id)) != std::string::npos) {
      named = true;
    }
  }
  EXPECT_TRUE(named) << "connection " << pileup.holder_id
                     << " not named as root blocker: " << doc["diagnoses"].dump(2);
  EXPECT_THAT(doc["evidence"].dump(), HasSubstr("processlist"));
  EXPECT_THAT(doc["evidence"].dump(), HasSubstr("innodb_status"));

  // The kill is in the audit log, verified, once.
  auto audit = testing::ReadAuditTrail(store_, 100);
  int verified = 0;
  for (const auto& r : audit) {
    if (r.entry.action == "kill-queries" && r.entry.phase == store::Phase::kVerified) ++verified;
  }
  EXPECT_EQ(verified, 1);

  // The CLI reads the same store.
  auto listed = Shell("HOME='" + (dir_ / "home").string() + "' \"$B\" incidents --store '" +
                      store_ + "' --format json");
  ASSERT_EQ(listed.status, 0) << listed.Describe();
  EXPECT_THAT(listed.out, HasSubstr("\"resolved\""));
  auto shown = Shell("\"$B\" incident show " + std::to_string(resolved["id"].get<int>()) +
                     " --store '" + store_ + "'");
  ASSERT_EQ(shown.status, 0) << shown.Describe();
  EXPECT_THAT(shown.out, HasSubstr("Timeline"));
  EXPECT_THAT(shown.out, HasSubstr("Prevention checklist"));

  // /metrics is valid exposition (promtool, the Prometheus project's own checker).
  auto metrics = Http("GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body,
              HasSubstr("dbrunbook_signal{target=\"db\",signal=\"longest_query_seconds\"}"));
  EXPECT_THAT(metrics.body,
              HasSubstr("dbrunbook_trigger_state{target=\"db\",trigger=\"slow_queries\"}"));
  const std::string promtool = testing::FindInPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool (Debian package prometheus) is needed";
  auto checked = Shell("'" + promtool + "' check metrics", metrics.body);
  EXPECT_EQ(checked.status, 0) << checked.Describe();

  EXPECT_EQ(daemon->Signal(SIGTERM), 0) << daemon->Log();
}

TEST_F(WatchDaemonTest, KillDashNineMidIncidentResumesAndNeverRepeatsAnAction) {
  const std::string runbook = Runbook("approve");
  auto daemon = Start(runbook);
  ASSERT_GT(port_, 0);
  Pileup pileup = MakePileup();
  ASSERT_TRUE(pileup.holder);

  json proposed = WaitIncident(
      "db", [&](const json& i) { return ActionState(i, "kill-queries") == "proposed"; },
      std::chrono::seconds(30));
  ASSERT_FALSE(proposed.is_null()) << daemon->Log();
  const int id = proposed["id"];
  EXPECT_TRUE(pileup.holder->Query("SELECT 1")) << "approve policy: nothing killed yet";

  EXPECT_EQ(daemon->Signal(SIGKILL), -SIGKILL);
  daemon = Start(runbook);
  ASSERT_GT(port_, 0) << daemon->Log();
  // The same incident, still waiting for approval; no second incident was opened.
  json resumed = WaitIncident(
      "db", [&](const json& i) { return i["id"] == id; }, std::chrono::seconds(10));
  EXPECT_EQ(ActionState(resumed, "kill-queries"), "proposed");
  EXPECT_EQ(CountEvents(resumed, "opened"), 1);
  EXPECT_EQ(Incidents()["incidents"].size(), 1U);

  auto approved = Shell("HOME='" + (dir_ / "home").string() + "' \"$B\" incident approve " +
                        std::to_string(id) + " kill-queries --store '" + store_ + "'");
  ASSERT_EQ(approved.status, 0) << approved.Describe() << daemon->Log();
  json done = WaitIncident(
      "db", [&](const json& i) { return ActionState(i, "kill-queries") == "verified"; },
      std::chrono::seconds(30));
  ASSERT_FALSE(done.is_null()) << daemon->Log();
  // The blocker's row locks are gone: a new session updates the row at once (a lock wait of
  // at most 3 s). The waiter's own UPDATE completes too, or its client session reports a
  // transport error: seen a few times as "TLS/SSL error: Connection timed out (110)" well
  // within its 30 s read timeout while this test kills and starts daemon processes; the
  // property under test is the lock's release, which the new session proves either way.
  auto released = testing::SandboxSql(
      "watchdb",
      "SET SESSION innodb_lock_wait_timeout = 3; UPDATE watchtest.t SET v = v + 1 WHERE id = 1;");
  EXPECT_TRUE(released) << "the row is free once the blocker is killed: "
                        << (released ? "" : released.error().ToString()) << "\n"
                        << done.dump(2).substr(0, 4000) << daemon->Log();
  auto waited = pileup.waiter.get();
  if (!waited) {
    const std::string error = waited.error().ToString();
    EXPECT_THAT(error, HasSubstr("Connection timed out"))
        << "the waiter's UPDATE fails only by its client transport, never by the server: " << error;
  }

  // A second kill -9 and restart: the applied action is not applied again.
  EXPECT_EQ(daemon->Signal(SIGKILL), -SIGKILL);
  daemon = Start(runbook);
  ASSERT_GT(port_, 0);
  json end = WaitIncident(
      "db", [&](const json& i) { return i["id"] == id && i["phase"] == "resolved"; },
      std::chrono::seconds(30));
  ASSERT_FALSE(end.is_null()) << daemon->Log();
  int kills = 0;
  for (const auto& r : testing::ReadAuditTrail(store_, 100)) {
    if (r.entry.action == "kill-queries" && r.entry.phase == store::Phase::kApplied) ++kills;
  }
  EXPECT_EQ(kills, 1) << "the kill was sent once";
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
}

TEST_F(WatchDaemonTest, AlertsPushedSignalsAndAppLogLinesOpenIncidentsAndBadBodiesGet400) {
  auto daemon = Start(Runbook("approve"));
  ASSERT_GT(port_, 0);

  // Malformed bodies: a 400 with the reason, and the daemon goes on.
  auto not_json = Http("POST", "/api/v1/alerts", "{");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(not_json.body, HasSubstr("error"));
  auto v3 = Http("POST", "/api/v1/alerts", R"({"version":"3","status":"firing","alerts":[]})");
  EXPECT_EQ(v3.status, 400);
  EXPECT_THAT(v3.body, HasSubstr("version"));
  auto unknown =
      Http("POST", "/api/v1/signals", R"({"target":"nope","signals":{"app_errors_per_min":3}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr("nope"));
  auto server_signal =
      Http("POST", "/api/v1/signals", R"({"target":"db","signals":{"threads_running":3}})");
  EXPECT_EQ(server_signal.status, 400);
  auto huge = Http("POST", "/api/v1/signals", std::string(2 << 20, ' '));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(Http("GET", "/healthz").status, 200);

  // An Alertmanager alert opens an incident on its target.
  const std::string alert = R"({"version":"4","groupKey":"{}:{}","truncatedAlerts":0,
    "status":"firing","receiver":"dbrunbook","groupLabels":{},"commonLabels":{},
    "commonAnnotations":{},"externalURL":"http://am:9093","alerts":[{"status":"firing",
    "labels":{"alertname":"MySQLHighLatency","dbrunbook_target":"db","severity":"critical"},
    "annotations":{"summary":"p99 latency above 2s"},"startsAt":"2026-11-27T06:00:00Z",
    "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"abc"}]})";
  auto posted = Http("POST", "/api/v1/alerts", alert);
  ASSERT_EQ(posted.status, 200) << posted.body;
  json from_alert = WaitIncident(
      "db",
      [](const json& i) {
        return i["triggers"].dump().find("MySQLHighLatency") != std::string::npos;
      },
      std::chrono::seconds(10));
  EXPECT_FALSE(from_alert.is_null());

  // An application log line on db2's log opens db2's incident.
  std::ofstream(applog_, std::ios::app)
      << "2026-11-27 06:00:01 ERROR pool: SQLSTATE[HY000] [1040] Too many connections\n";
  json from_log = WaitIncident(
      "db2",
      [](const json& i) { return i["triggers"].dump().find("app_errors") != std::string::npos; },
      std::chrono::seconds(10));
  EXPECT_FALSE(from_log.is_null()) << daemon->Log();
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
}

TEST_F(WatchDaemonTest, OneDaemonPerStoreATokenGuardsTheApiAndABadRunbookIsRefused) {
  const std::string token = "s3cret-watch-token-4242";
  auto daemon = Start(Runbook("approve"), {{"DBRUNBOOK_API_TOKEN", token}});
  ASSERT_GT(port_, 0);
  EXPECT_EQ(Http("GET", "/healthz").status, 200) << "no token needed for the health check";
  auto refused = Http("GET", "/api/v1/incidents");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body.find(token), std::string::npos);
  EXPECT_EQ(Http("GET", "/metrics").status, 401);
  auto allowed = Http("GET", "/api/v1/incidents", "", token);
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(Http("GET", "/api/v1/incidents/99", "", token).status, 404);
  EXPECT_EQ(Http("GET", "/api/v1/incidents/abc", "", token).status, 400);
  auto approve =
      Http("POST", "/api/v1/incidents/99/approve", R"({"action":"kill-queries"})", token);
  EXPECT_EQ(approve.status, 409) << approve.body;
  EXPECT_THAT(approve.body, HasSubstr("99"));

  // A second daemon on the same store stops before listening, naming the first.
  auto second = Shell("HOME='" + (dir_ / "home").string() + "' \"$B\" --config '" + config_ +
                      "' watch --runbook '" + Runbook("approve") + "' --store '" + store_ +
                      "' --listen 127.0.0.1:0");
  EXPECT_EQ(second.status, 2) << second.Describe();
  EXPECT_THAT(second.err, HasSubstr("is used by another dbrunbook watch"));
  EXPECT_THAT(second.err, Not(HasSubstr("API listening")));

  // CLI commands go through the running daemon; an unknown incident is refused.
  auto unknown = Shell("\"$B\" incident ack 77 --store '" + store_ + "'");
  EXPECT_EQ(unknown.status, 1) << unknown.Describe();
  EXPECT_THAT(unknown.err, HasSubstr("77"));
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
  EXPECT_EQ(daemon->Log().find(token), std::string::npos) << "the token is never logged";

  // Without a daemon, an approval is not queued for later.
  auto nobody = Shell("\"$B\" incident approve 1 kill-queries --store '" + store_ + "'");
  EXPECT_EQ(nobody.status, 3) << nobody.Describe();
  EXPECT_THAT(nobody.err, HasSubstr("no dbrunbook watch is running"));

  // A runbook with an error: exit 2 with file:line, nothing started.
  const std::string bad = Write("bad-runbook.yaml",
                                "runbook: {name: bad, version: 1, owner: t}\n"
                                "triggers:\n"
                                "  - {name: x, signal: threads_runing, op: \">\", threshold: 1}\n");
  auto invalid = Shell("\"$B\" --config '" + config_ + "' watch --runbook '" + bad + "' --store '" +
                       store_ + "'");
  EXPECT_EQ(invalid.status, 2) << invalid.Describe();
  EXPECT_THAT(invalid.err, HasSubstr("bad-runbook.yaml:3:"));
  EXPECT_THAT(invalid.err, HasSubstr("threads_running"));
}

// Last: it stops the test's server.
TEST_F(WatchDaemonTest, ZStoppedServerIsAnUnavailableIncidentThatEscalates) {
  auto daemon = Start(Runbook("approve"));
  ASSERT_GT(port_, 0);
  // Reachable first (a poll that read the server), then stopped: polled for, not slept.
  const auto reachable_by = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < reachable_by &&
         Http("GET", "/metrics")
                 .body.find(R"(dbrunbook_signal{target="db",signal="target_unreachable"} 0)") ==
             std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string sandbox =
      std::string(std::getenv("DBRUNBOOK_SOURCE_DIR")) +  // NOLINT(concurrency-mt-unsafe)
      "/scripts/sandbox";
  auto stopped = Shell("'" + sandbox + "' stop watchdb");
  ASSERT_EQ(stopped.status, 0) << stopped.Describe();
  json escalated = WaitIncident(
      "db", [](const json& i) { return HasEvent(i, "escalated"); }, std::chrono::seconds(30));
  ASSERT_FALSE(escalated.is_null()) << daemon->Log();
  EXPECT_THAT(escalated["triggers"].dump(), HasSubstr("database_unreachable"));
  EXPECT_THAT(escalated["timeline"].dump(), HasSubstr("DBA on call"));
  EXPECT_THAT(daemon->Log(), HasSubstr("unreachable"));
  EXPECT_EQ(Http("GET", "/healthz").status, 200);
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
}

}  // namespace
}  // namespace dbrunbook
