// The watch daemon's messages end to end (issue 8): a real incident on the sandbox server
// daemondb (read only: the cause is a long SELECT SLEEP of the test's own session) makes the
// daemon queue the runbook's alert, status updates and resolution for a signed webhook and a
// PagerDuty channel, both pointed at a real HTTP receiver on loopback. The receiver is down
// while the incident opens (messages stay queued), the daemon is killed with SIGKILL in the
// middle of the incident, the receiver comes back, and a new daemon on the same store delivers
// everything: every message exactly once per key and channel, PagerDuty's trigger and resolve
// on one dedup_key, in order, nothing lost; /metrics counts them and the incident report lists
// them as sent. No message carries the monitor password or the statement's literal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/store.h"
#include "support/cli_fixture.h"
#include "support/daemon_process.h"
#include "support/http_test_server.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

constexpr const char* kRoutingKey = "R0UT1NGKEY0123456789abcdef012345";
constexpr const char* kHookSecret = "hook-secret-for-tests";

class WatchNotifyTest : public testing::CliFixture {
 protected:
  WatchNotifyTest() : CliFixture("watch-notify") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto server = testing::LoadSandbox("daemondb");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "store.db").string();
  }

  // The outbox rows of `incident`, read through a fresh connection.
  std::vector<store::OutboxRow> Outbox(int64_t incident) {
    auto store = store::Store::Open(store_);
    EXPECT_TRUE(store) << store.error().ToString();
    if (!store) return {};
    auto rows = (*store)->OutboxMessagesOf(std::to_string(incident));
    EXPECT_TRUE(rows) << rows.error().ToString();
    return rows ? *rows : std::vector<store::OutboxRow>{};
  }

  std::optional<store::IncidentRecord> Incident(
      const std::function<bool(const store::IncidentRecord&)>& pred) {
    auto store = store::Store::Open(store_);
    if (!store) return std::nullopt;
    auto list = (*store)->Incidents(false, 5);
    if (!list) return std::nullopt;
    for (const auto& i : *list) {
      if (i.target == "db" && pred(i)) return i;
    }
    return std::nullopt;
  }

  testing::SandboxServer server_;
  std::string store_;
};

TEST_F(WatchNotifyTest, MessagesQueuedWhileTheReceiverIsDownSurviveKillNineAndArriveOnce) {
  const uint16_t port = testing::ClosedLoopbackPort();
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string config =
      Write("dbrunbook.yaml",
            "targets:\n"
            "  - name: db\n"
            "    host: 127.0.0.1\n"
            "    port: " +
                std::to_string(server_.port) + "\n    user: " + server_.monitor_user +
                "\n    password_file: " + server_.monitor_password_file +
                "\n"
                "    tags: {service: checkout}\n"
                "investigate:\n"
                "  digest_interval: 0s\n"
                "  long_query: 1s\n"
                "notify:\n"
                "  delivery: {backoff_base: 100ms, backoff_cap: 400ms, max_attempts: 1000}\n"
                "  channels:\n"
                "    - {name: hook, type: webhook, url: " +
                base + "/hook, hmac_secret_env: HOOK_SECRET, timeout: 2s}\n" +
                "    - {name: pager, type: pagerduty, url: " + base +
                "/pd, routing_key_env: PD_ROUTING_KEY, timeout: 2s}\n");
  const std::string runbook =
      Write("runbook.yaml",
            "runbook: {name: notify-test, version: 1, owner: tests}\n"
            "triggers:\n"
            "  - {name: slow_queries, signal: longest_query_seconds, op: \">\", threshold: 1.5,"
            " severity: critical, summary: A query has run for more than 1.5 s}\n"
            "phases:\n"
            "  verify: {period: 2s}\n"
            "contacts:\n"
            "  - {name: dba-on-call, role: DBA on call, level: 1, channels: [hook, pager]}\n"
            "messages:\n"
            "  update_every: 2s\n");
  const std::vector<std::pair<std::string, std::string>> env = {{"HOOK_SECRET", kHookSecret},
                                                                {"PD_ROUTING_KEY", kRoutingKey}};
  const std::vector<std::string> args = {"--config",    config,       "watch", "--runbook",
                                         runbook,       "--store",    store_,  "--listen",
                                         "127.0.0.1:0", "--interval", "500ms"};

  auto first = std::make_unique<testing::DaemonProcess>(
      binary_, args, (dir_ / "daemon1.log").string(), (dir_ / "home").string(), env);
  ASSERT_GT(first->WaitForPort(std::chrono::seconds(20)), 0) << first->Log();

  // The cause: 9 s of the test's own session, with a literal no message may carry.
  auto sleeper = std::async(std::launch::async, [] {
    return testing::SandboxSql("daemondb", "SELECT SLEEP(9), 'alice@example.com' AS contact;");
  });

  // The incident opens; its alert is queued for both channels and, the receiver being down,
  // stays queued (attempted, not sent); a status update comes 2 s later.
  std::optional<store::IncidentRecord> incident;
  std::vector<store::OutboxRow> rows;
  const auto opened_by = Clock::now() + std::chrono::seconds(30);
  bool queued_update = false;
  while (Clock::now() < opened_by) {
    if (!incident) incident = Incident([](const auto&) { return true; });
    if (incident) {
      rows = Outbox(incident->id);
      queued_update = std::any_of(rows.begin(), rows.end(),
                                  [](const store::OutboxRow& r) { return r.kind == "update"; });
      if (queued_update) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(incident) << first->Log();
  ASSERT_TRUE(queued_update) << "no status update queued\n" << first->Log();
  const std::string id = std::to_string(incident->id);
  std::set<std::string> attempted;
  for (const auto& r : rows) {
    EXPECT_NE(r.state, "sent") << r.key << " on " << r.channel << ": the receiver is down";
    if (r.kind == "alert") {
      EXPECT_EQ(r.key, id + ":alert:1");
      if (r.attempts > 0) attempted.insert(r.channel);
    }
  }
  EXPECT_FALSE(attempted.empty()) << "the alert was tried while the receiver was down";
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [](const store::OutboxRow& r) { return r.kind == "alert"; }),
            2)
      << "one alert row per channel";

  // A crash in the middle of the incident, with messages queued.
  EXPECT_EQ(first->Signal(SIGKILL), -SIGKILL);

  // The receiver comes back where the channels point; PagerDuty answers 202 as its Events API
  // does, the webhook 200.
  testing::HttpTestServer receiver(port, [](const testing::RecordedRequest& r) {
    return testing::ScriptedResponse::Text(r.Path() == "/pd" ? 202 : 200,
                                           r.Path() == "/pd" ? R"({"status":"success"})" : "ok");
  });
  testing::DaemonProcess second(binary_, args, (dir_ / "daemon2.log").string(),
                                (dir_ / "home").string(), env);
  const int api = second.WaitForPort(std::chrono::seconds(20));
  ASSERT_GT(api, 0) << second.Log();

  // The query ends, the incident verifies for 2 s and resolves; every message of it is sent.
  const auto done_by = Clock::now() + std::chrono::seconds(40);
  bool all_sent = false;
  while (Clock::now() < done_by && !all_sent) {
    auto resolved =
        Incident([&](const auto& i) { return i.id == incident->id && i.phase == "resolved"; });
    if (resolved) {
      rows = Outbox(incident->id);
      all_sent = std::any_of(rows.begin(), rows.end(),
                             [](const store::OutboxRow& r) { return r.kind == "resolution"; }) &&
                 std::all_of(rows.begin(), rows.end(),
                             [](const store::OutboxRow& r) { return r.state == "sent"; });
    }
    if (!all_sent) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto slept = sleeper.get();
  ASSERT_TRUE(slept) << slept.error().ToString();
  std::string states;
  for (const auto& r : rows) {
    states += r.key + " " + r.channel + " " + r.state + " attempts " + std::to_string(r.attempts) +
              " " + r.last_error + "\n";
  }
  ASSERT_TRUE(all_sent) << "not every message sent within 40 s\n" << states << second.Log();

  // /metrics counts them per channel.
  const testing::RunResult metrics =
      Shell("curl -sS http://127.0.0.1:" + std::to_string(api) + "/metrics");
  ASSERT_EQ(metrics.status, 0) << metrics.Describe();
  EXPECT_THAT(metrics.out, HasSubstr("dbrunbook_notify_messages{channel=\"hook\",state=\"sent\"}"));
  EXPECT_THAT(metrics.out,
              HasSubstr("dbrunbook_notify_messages{channel=\"pager\",state=\"sent\"}"));
  EXPECT_EQ(second.Signal(SIGTERM), 0) << second.Log();
  receiver.Stop();

  // Every outbox row arrived exactly once.
  std::map<std::string, int> hook_keys;
  std::vector<json> pager;
  const std::string secret = server_.monitor_password.Reveal();
  ASSERT_FALSE(secret.empty());
  for (const auto& r : receiver.Requests()) {
    EXPECT_THAT(r.body, Not(HasSubstr(secret)));
    EXPECT_THAT(r.body, Not(HasSubstr("alice@example.com")));
    if (r.Path() == "/hook") {
      const json doc = json::parse(r.body, nullptr, false);
      ASSERT_TRUE(doc.is_object()) << r.body;
      EXPECT_EQ(doc["id"], r.Header("X-Dbrunbook-Delivery").value_or(""));
      EXPECT_TRUE(r.Header("X-Dbrunbook-Signature").has_value());
      ++hook_keys[doc["id"].get<std::string>()];
    } else if (r.Path() == "/pd") {
      pager.push_back(json::parse(r.body, nullptr, false));
    } else {
      ADD_FAILURE() << "unexpected request " << r.method << " " << r.target;
    }
  }
  std::map<std::string, int> expected_hook;
  size_t pager_rows = 0;
  for (const auto& r : rows) {
    if (r.channel == "hook") ++expected_hook[r.key];
    if (r.channel == "pager") ++pager_rows;
  }
  EXPECT_EQ(hook_keys, expected_hook) << "each message once on the webhook";
  EXPECT_EQ(hook_keys.count(id + ":alert:1"), 1U);
  EXPECT_EQ(hook_keys.count(id + ":update:1"), 1U);
  EXPECT_EQ(hook_keys.count(id + ":resolution:1"), 1U);
  ASSERT_EQ(pager.size(), pager_rows) << "each message once on PagerDuty";
  ASSERT_GE(pager.size(), 3U);
  for (const auto& p : pager) {
    EXPECT_EQ(p["dedup_key"], "dbrunbook-" + id) << p.dump();
    EXPECT_EQ(p["routing_key"], kRoutingKey);
  }
  EXPECT_EQ(pager.front()["event_action"], "trigger") << pager.front().dump();
  EXPECT_EQ(pager.front()["payload"]["severity"], "critical") << pager.front().dump();
  EXPECT_THAT(pager.front()["payload"]["summary"].get<std::string>(), HasSubstr("🚨"));
  EXPECT_EQ(pager.back()["event_action"], "resolve") << pager.back().dump();

  // The report lists them as sent; the timeline has the status updates.
  const testing::RunResult report =
      Shell("\"$B\" --config " + config + " report " + id + " --store " + store_ + " --runbook " +
            runbook + " --format json");
  ASSERT_EQ(report.status, 0) << report.Describe();
  const json doc = json::parse(report.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << report.out.substr(0, 2000);
  ASSERT_EQ(doc["messages"].size(), rows.size()) << doc["messages"].dump();
  for (const auto& m : doc["messages"]) EXPECT_EQ(m["state"], "sent") << m.dump();
  EXPECT_THAT(doc["timeline"].dump(), HasSubstr("message.update"));
  EXPECT_THAT(first->Log() + second.Log(), Not(HasSubstr(kRoutingKey)));
  EXPECT_THAT(first->Log() + second.Log(), Not(HasSubstr(kHookSecret)));
}

}  // namespace
}  // namespace dbrunbook
