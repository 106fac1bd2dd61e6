// Delivery through the outbox to real receivers: HTTP servers on loopback ports (the test's
// HttpTestServer) reached with the real libcurl transport, the store on a temporary file.
// What arrives (Slack, PagerDuty and webhook shapes, the HMAC checked with OpenSSL here),
// retries after 5xx, Retry-After, no retry after 400, a receiver down then back (each key once,
// in order per incident), a restart on the same store, a hung channel not delaying another,
// and /metrics passing promtool.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api/prometheus.h"
#include "notify/dispatcher.h"
#include "support/http_test_server.h"
#include "support/peer_tools.h"

namespace dbrunbook::notify {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpTestServer;
using testing::RecordedRequest;
using testing::ScriptedResponse;
using Clock = std::chrono::steady_clock;

std::string Hmac(const std::string& secret, const std::string& content) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &size);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

Message Msg(std::string key, std::vector<std::string> channels, const std::string& incident = "42",
            MessageKind kind = MessageKind::kAlert) {
  Message m;
  m.kind = kind;
  m.severity = Severity::kCritical;
  m.incident_id = incident;
  m.target = "orders-primary";
  m.key = std::move(key);
  m.dedup_key = incident.empty() ? "" : "dbrunbook-" + incident;
  m.title = "🚨 Database performance alert: orders-primary";
  m.text = "Queries > 5 s";
  m.fields = {{"Database", "orders-primary"}};
  m.channels = std::move(channels);
  return m;
}

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dbrunbook-delivery-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_path_ = dir_ + "/store.db";
    policy_.backoff_base = milliseconds(20);
    policy_.backoff_cap = milliseconds(200);
    policy_.max_attempts = 8;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ChannelSpec Spec(std::string name, ChannelType type, const std::string& url) {
    ChannelSpec s;
    s.name = std::move(name);
    s.type = type;
    s.url = core::Secret(url);
    s.timeout = seconds(5);
    return s;
  }

  std::unique_ptr<Dispatcher> Start(std::vector<ChannelSpec> specs) {
    std::vector<std::unique_ptr<Channel>> channels;
    for (auto& spec : specs) {
      auto channel = MakeChannel(std::move(spec), ChannelDeps{clock_, out_, {}});
      EXPECT_TRUE(channel) << channel.error().ToString();
      if (channel) channels.push_back(std::move(*channel));
    }
    DispatcherOptions options;
    options.store_path = store_path_;
    options.policy = policy_;
    options.idle_poll = milliseconds(50);
    auto d = Dispatcher::Start(std::move(channels), options, clock_, nullptr);
    EXPECT_TRUE(d) << d.error().ToString();
    return d ? std::move(*d) : nullptr;
  }

  std::vector<store::OutboxRow> Rows(const std::string& incident = "42") {
    auto store = store::Store::Open(store_path_);
    EXPECT_TRUE(store);
    auto rows = (*store)->OutboxMessagesOf(incident);
    EXPECT_TRUE(rows);
    return rows ? *rows : std::vector<store::OutboxRow>{};
  }

  // Waits until `pred` holds (polling), at most `timeout`.
  template <typename Pred>
  static bool Eventually(Pred pred, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return pred();
  }

  std::string dir_;
  std::string store_path_;
  DeliveryPolicy policy_;
  core::RealClock clock_;
  std::ostringstream out_;
};

TEST_F(DeliveryTest, SlackPagerDutyAndSignedWebhookArriveAsSpecified) {
  HttpTestServer server([](const RecordedRequest& r) {
    if (r.Path() == "/v2/enqueue") {
      return ScriptedResponse::Text(
          202, R"({"status":"success","message":"Event processed","dedup_key":"dbrunbook-42"})");
    }
    return ScriptedResponse::Text(200, "ok");
  });
  ChannelSpec slack =
      Spec("dba-slack", ChannelType::kSlack, server.BaseUrl() + "/services/T000/B000/XXXXSECRET");
  ChannelSpec pager = Spec("pager", ChannelType::kPagerDuty, server.BaseUrl() + "/v2/enqueue");
  pager.routing_key = core::Secret("R0UT1NGKEY0000000000000000000000");
  ChannelSpec hook = Spec("ops-hook", ChannelType::kWebhook, server.BaseUrl() + "/hook");
  hook.hmac_secret = core::Secret("hook-secret");
  ChannelSpec teams = Spec("teams", ChannelType::kTeams, server.BaseUrl() + "/workflows/abc");
  auto d = Start({slack, pager, hook, teams});
  ASSERT_TRUE(d);
  const std::vector<std::string> all = {"dba-slack", "pager", "ops-hook", "teams"};
  ASSERT_TRUE(d->Enqueue(Msg("incident-42-alert", all)));
  ASSERT_TRUE(d->Enqueue(Msg("incident-42-resolution", all, "42", MessageKind::kResolution)));
  ASSERT_TRUE(server.WaitForRequests(8, milliseconds(5000)));
  ASSERT_TRUE(d->WaitIdle(seconds(5)));

  std::vector<RecordedRequest> slack_requests, pager_requests, hook_requests, teams_requests;
  for (const auto& r : server.Requests()) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/json");
    if (r.Path() == "/services/T000/B000/XXXXSECRET") slack_requests.push_back(r);
    if (r.Path() == "/v2/enqueue") pager_requests.push_back(r);
    if (r.Path() == "/hook") hook_requests.push_back(r);
    if (r.Path() == "/workflows/abc") teams_requests.push_back(r);
  }
  ASSERT_EQ(slack_requests.size(), 2u);
  ASSERT_EQ(pager_requests.size(), 2u);
  ASSERT_EQ(hook_requests.size(), 2u);
  ASSERT_EQ(teams_requests.size(), 2u);
  EXPECT_EQ(json::parse(teams_requests[0].body)["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive");
  EXPECT_FALSE(teams_requests[0].Header("X-Dbrunbook-Signature"));  // no secret: unsigned
  EXPECT_EQ(json::parse(slack_requests[0].body),
            json::parse(SlackPayload(Msg("incident-42-alert", all))));
  // PagerDuty: trigger, then resolve of the same dedup_key, in that order.
  const json trigger = json::parse(pager_requests[0].body);
  const json resolve = json::parse(pager_requests[1].body);
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["routing_key"], "R0UT1NGKEY0000000000000000000000");
  EXPECT_EQ(trigger["dedup_key"], "dbrunbook-42");
  EXPECT_EQ(trigger["payload"]["severity"], "critical");
  EXPECT_EQ(trigger["payload"]["source"], "orders-primary");
  EXPECT_EQ(resolve, json::parse(R"({"routing_key": "R0UT1NGKEY0000000000000000000000",
                                     "event_action": "resolve", "dedup_key": "dbrunbook-42"})"));
  // The webhook: its schema, the delivery id, and a signature that verifies.
  for (const auto& r : hook_requests) {
    const json body = json::parse(r.body);
    EXPECT_EQ(body["schema"], "dbrunbook.notification");
    EXPECT_EQ(body["version"], 1);
    EXPECT_EQ(r.Header("X-Dbrunbook-Delivery").value_or(""), body["id"].get<std::string>());
    const std::string timestamp = r.Header("X-Dbrunbook-Timestamp").value_or("");
    const auto now =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    EXPECT_LE(std::abs(now - std::stoll(timestamp)), 5);
    EXPECT_EQ(r.Header("X-Dbrunbook-Signature").value_or(""),
              "sha256=" + Hmac("hook-secret", timestamp + "." + r.body));
  }
  for (const auto& row : Rows()) {
    EXPECT_EQ(row.state, "sent") << row.channel << " " << row.key << " " << row.last_error;
    EXPECT_EQ(row.attempts, 1);
  }
}

TEST_F(DeliveryTest, ServerErrorsAreRetriedUntilDelivered) {
  std::atomic<int> calls{0};
  HttpTestServer server([&](const RecordedRequest&) {
    return ++calls <= 2 ? ScriptedResponse::Text(503, "busy") : ScriptedResponse::Text(200, "ok");
  });
  auto d = Start({Spec("hook", ChannelType::kWebhook, server.BaseUrl() + "/hook")});
  ASSERT_TRUE(d->Enqueue(Msg("k1", {"hook"})));
  ASSERT_TRUE(Eventually([&] {
    auto rows = Rows();
    return !rows.empty() && rows[0].state == "sent";
  }));
  const auto rows = Rows();
  EXPECT_EQ(rows[0].attempts, 3);
  EXPECT_EQ(rows[0].last_status, 200);
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, requests[2].body);
  const auto counters = d->Counters().at("hook");
  EXPECT_EQ(counters.delivered, 1);
  EXPECT_EQ(counters.retried, 2);
}

TEST_F(DeliveryTest, GivesUpAfterMaxAttemptsOrMaxAge) {
  HttpTestServer server([](const RecordedRequest&) { return ScriptedResponse::Text(503, "down"); });
  policy_.max_attempts = 3;
  policy_.backoff_cap = milliseconds(20);
  {
    auto d = Start({Spec("hook", ChannelType::kWebhook, server.BaseUrl() + "/hook")});
    ASSERT_TRUE(d->Enqueue(Msg("k1", {"hook"})));
    ASSERT_TRUE(Eventually([&] {
      auto rows = Rows();
      return !rows.empty() && rows[0].state == "failed";
    }));
  }
  auto rows = Rows();
  EXPECT_EQ(rows[0].attempts, 3);
  EXPECT_EQ(rows[0].last_error, "gave up after 3 attempts: HTTP 503: down");
  EXPECT_EQ(server.Requests().size(), 3u);
  // A message older than max_age is not tried again.
  policy_.max_attempts = 1000;
  policy_.max_age = milliseconds(150);
  auto d = Start({Spec("hook", ChannelType::kWebhook, server.BaseUrl() + "/hook")});
  ASSERT_TRUE(d->Enqueue(Msg("k2", {"hook"})));
  ASSERT_TRUE(Eventually([&] {
    for (const auto& row : Rows()) {
      if (row.key == "k2") return row.state == "failed";
    }
    return false;
  }));
  for (const auto& row : Rows()) {
    if (row.key == "k2") {
      EXPECT_NE(row.last_error.find("expired: not delivered within max_age 150ms"),
                std::string::npos)
          << row.last_error;
    }
  }
}

TEST_F(DeliveryTest, RetryAfterIsRespected) {
  std::vector<Clock::time_point> at;
  std::mutex mutex;
  HttpTestServer server([&](const RecordedRequest&) {
    std::lock_guard lock(mutex);
    at.push_back(Clock::now());
    return at.size() == 1 ? ScriptedResponse::Text(429, "rate_limited", {{"Retry-After", "1"}})
                          : ScriptedResponse::Text(200, "ok");
  });
  auto d = Start({Spec("dba-slack", ChannelType::kSlack, server.BaseUrl() + "/services/x")});
  ASSERT_TRUE(d->Enqueue(Msg("k1", {"dba-slack"})));
  // The handler notes the time after the server recorded the request: wait for the note.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mutex);
    return at.size() >= 2;
  }));
  std::lock_guard lock(mutex);
  const auto gap = std::chrono::duration_cast<milliseconds>(at[1] - at[0]);
  // The backoff alone would be at most 20 ms; the receiver asked for a second.
  EXPECT_GE(gap, milliseconds(990));
  EXPECT_LT(gap, milliseconds(2500));
  std::cout << "Retry-After: 1 -> second attempt after " << gap.count() << " ms\n";
}

TEST_F(DeliveryTest, ClientErrorFailsAtOnceWithoutLeakingTheSecret) {
  HttpTestServer server([](const RecordedRequest& r) {
    // A receiver echoing the request path in its error: the excerpt must not carry it.
    return ScriptedResponse::Text(400, "invalid_payload for " + r.target);
  });
  auto d = Start({Spec("dba-slack", ChannelType::kSlack,
                       server.BaseUrl() + "/services/T000/B000/XXXXSECRET")});
  ASSERT_TRUE(d->Enqueue(Msg("k1", {"dba-slack"})));
  ASSERT_TRUE(Eventually([&] {
    auto rows = Rows();
    return !rows.empty() && rows[0].state == "failed";
  }));
  std::this_thread::sleep_for(milliseconds(150));  // longer than any backoff of this policy
  EXPECT_EQ(server.Requests().size(), 1u);
  const auto rows = Rows();
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].last_status, 400);
  EXPECT_NE(rows[0].last_error.find("HTTP 400: invalid_payload for"), std::string::npos)
      << rows[0].last_error;
  EXPECT_EQ(rows[0].last_error.find("XXXXSECRET"), std::string::npos) << rows[0].last_error;
}

TEST_F(DeliveryTest, ReceiverDownThenUpGetsEveryKeyOnceInOrder) {
  uint16_t port = 0;
  {
    HttpTestServer probe;
    port = probe.port();
  }  // stopped: the port is closed (connection refused)
  // Full jitter may pick short waits: enough attempts that none runs out while the receiver is
  // down (running out is a failure, tested by the store's counts elsewhere).
  policy_.max_attempts = 1000;
  auto d = Start(
      {Spec("hook", ChannelType::kWebhook, "http://127.0.0.1:" + std::to_string(port) + "/hook")});
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(d->Enqueue(Msg(fmt::format("a{}", i), {"hook"}, "1")));
    ASSERT_TRUE(d->Enqueue(Msg(fmt::format("b{}", i), {"hook"}, "2")));
  }
  // Enqueueing the same keys again changes nothing.
  auto again = d->Enqueue(Msg("a0", {"hook"}, "1"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->queued, 0);
  std::this_thread::sleep_for(milliseconds(400));
  for (const char* incident : {"1", "2"}) {
    for (const auto& row : Rows(incident)) {
      EXPECT_EQ(row.state, "queued");
    }
  }
  EXPECT_FALSE(d->Counters().at("hook").last_ok);
  HttpTestServer server(port,
                        [](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  ASSERT_TRUE(server.WaitForRequests(12, milliseconds(5000)));
  ASSERT_TRUE(d->WaitIdle(seconds(5)));
  std::this_thread::sleep_for(milliseconds(100));
  std::map<std::string, int> per_key;
  std::vector<std::string> order_a;
  for (const auto& r : server.Requests()) {
    const std::string id = json::parse(r.body)["id"];
    ++per_key[id];
    if (id[0] == 'a') order_a.push_back(id);
  }
  EXPECT_EQ(per_key.size(), 12u);
  for (const auto& [key, n] : per_key) {
    EXPECT_EQ(n, 1) << key;
  }
  EXPECT_EQ(order_a, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5"}));
  for (const char* incident : {"1", "2"}) {
    for (const auto& row : Rows(incident)) {
      EXPECT_EQ(row.state, "sent") << row.key;
    }
  }
}

TEST_F(DeliveryTest, ANewDispatcherOnTheSameStoreDeliversWhatTheOldOneLeft) {
  uint16_t port = 0;
  {
    HttpTestServer probe;
    port = probe.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  {
    auto first = Start({Spec("hook", ChannelType::kWebhook, url)});
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(first->Enqueue(Msg(fmt::format("k{}", i), {"hook"})));
    std::this_thread::sleep_for(milliseconds(100));
  }  // stopped with everything queued
  for (const auto& row : Rows()) {
    EXPECT_EQ(row.state, "queued");
  }
  HttpTestServer server(port,
                        [](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  auto second = Start({Spec("hook", ChannelType::kWebhook, url)});
  ASSERT_TRUE(server.WaitForRequests(5, milliseconds(5000)));
  ASSERT_TRUE(second->WaitIdle(seconds(5)));
  EXPECT_EQ(server.Requests().size(), 5u);
  for (const auto& row : Rows()) {
    EXPECT_EQ(row.state, "sent") << row.key;
  }
}

TEST_F(DeliveryTest, AHungChannelDelaysNoOtherAndStopDoesNotWaitBeyondItsTimeout) {
  HttpTestServer hung([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(200, "ok");
    r.delay = milliseconds(10000);
    return r;
  });
  HttpTestServer fast([](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  ChannelSpec slow = Spec("slow", ChannelType::kWebhook, hung.BaseUrl() + "/hook");
  slow.timeout = milliseconds(1500);
  auto d = Start({slow, Spec("fast", ChannelType::kWebhook, fast.BaseUrl() + "/hook")});
  ASSERT_TRUE(d->Enqueue(Msg("first", {"slow", "fast"})));
  ASSERT_TRUE(hung.WaitForRequests(1, milliseconds(2000)));
  // The slow channel is now stuck in its request; the fast one keeps delivering.
  const auto start = Clock::now();
  ASSERT_TRUE(d->Enqueue(Msg("second", {"fast"}, "43")));
  ASSERT_TRUE(fast.WaitForRequests(2, milliseconds(1000)));
  const auto latency = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_LT(latency, milliseconds(500));
  std::cout << "fast channel delivered in " << latency.count() << " ms while the slow one hung\n";
  const auto stop_start = Clock::now();
  d->Stop();
  const auto stop = std::chrono::duration_cast<milliseconds>(Clock::now() - stop_start);
  EXPECT_LT(stop, milliseconds(2500));
  std::cout << "Stop() returned after " << stop.count() << " ms (channel timeout 1500 ms)\n";
  // The hung message was not lost: a timeout is retried later.
  auto rows = Rows();
  for (const auto& row : rows) {
    if (row.channel == "slow") {
      EXPECT_EQ(row.state, "queued") << row.last_error;
    }
  }
}

TEST_F(DeliveryTest, AnUnconfiguredChannelIsRecordedAsFailedAndMetricsPassPromtool) {
  HttpTestServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  auto d = Start({Spec("hook", ChannelType::kWebhook, server.BaseUrl() + "/hook")});
  auto result = d->Enqueue(Msg("k1", {"hook", "nowhere"}));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->queued, 1);
  EXPECT_EQ(result->unknown_channels, std::vector<std::string>{"nowhere"});
  ASSERT_TRUE(server.WaitForRequests(1, milliseconds(3000)));
  ASSERT_TRUE(d->WaitIdle(seconds(5)));
  for (const auto& row : Rows()) {
    if (row.channel == "nowhere") {
      EXPECT_EQ(row.state, "failed");
      EXPECT_NE(row.last_error.find("is not configured"), std::string::npos);
    }
  }
  auto families = d->MetricFamilies();
  ASSERT_TRUE(families) << families.error().ToString();
  auto text = api::WriteExposition(*families);
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_NE(text->find("dbrunbook_notify_messages{channel=\"hook\",state=\"sent\"} 1"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("dbrunbook_notify_messages{channel=\"nowhere\",state=\"failed\"} 1"),
            std::string::npos);
  EXPECT_NE(text->find("dbrunbook_notify_attempts_total{channel=\"hook\",outcome=\"delivered\"} 1"),
            std::string::npos);
  EXPECT_NE(text->find("dbrunbook_notify_channel_up{channel=\"hook\"} 1"), std::string::npos);
  const std::string promtool = testing::FindInPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool (Debian package prometheus) is needed";
  const std::string file = dir_ + "/metrics.txt";
  std::ofstream(file) << *text;
  const std::string command =
      promtool + " check metrics < " + file + " > " + dir_ + "/promtool.out 2>&1";
  const int rc = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
  std::ifstream in(dir_ + "/promtool.out");
  std::stringstream said;
  said << in.rdbuf();
  EXPECT_EQ(rc, 0) << said.str();
}

}  // namespace
}  // namespace dbrunbook::notify
