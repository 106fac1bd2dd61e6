// The channels' payloads against the exact JSON each receiver is sent, the signature checked
// with OpenSSL directly, the e-mail's headers, the classification of responses, the backoff,
// and the `notify:` configuration's validation.
#include "notify/channels.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/environment.h"
#include "notify/dispatcher.h"

namespace dbrunbook::notify {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// 2026-11-27T10:00:00.250Z
const core::WallTime kCreated = core::WallTime(milliseconds(int64_t{1795773600} * 1000 + 250));

Message Alert() {
  Message m;
  m.kind = MessageKind::kAlert;
  m.severity = Severity::kCritical;
  m.incident_id = "42";
  m.target = "orders-primary";
  m.key = "incident-42-alert";
  m.dedup_key = "dbrunbook-42";
  m.title = "🚨 Database performance alert: orders-primary";
  m.text = "Queries > 5 s & <rising>\nImpact: checkout";
  m.fields = {{"Database", "orders-primary"}, {"Impact", "a < b & c > d"}};
  m.channels = {"dba-slack"};
  return m;
}

TEST(SlackPayload, TextAndBlocksWithSlackEscaping) {
  const json got = json::parse(SlackPayload(Alert()));
  const json want = json::parse(R"({
    "text": "🚨 Database performance alert: orders-primary\nQueries &gt; 5 s &amp; &lt;rising&gt;\nImpact: checkout",
    "blocks": [
      {"type": "header", "text": {"type": "plain_text",
        "text": "🚨 Database performance alert: orders-primary", "emoji": true}},
      {"type": "section", "text": {"type": "mrkdwn",
        "text": "Queries &gt; 5 s &amp; &lt;rising&gt;\nImpact: checkout"}},
      {"type": "section", "fields": [
        {"type": "mrkdwn", "text": "*Database*\norders-primary"},
        {"type": "mrkdwn", "text": "*Impact*\na &lt; b &amp; c &gt; d"}]},
      {"type": "context", "elements": [{"type": "mrkdwn",
        "text": "dbrunbook · incident 42 · orders-primary · critical · alert"}]}
    ]})");
  EXPECT_EQ(got, want) << got.dump(2);
}

TEST(SlackPayload, RespectsBlockKitLimits) {
  Message m = Alert();
  m.title = std::string(200, 'x');
  m.text = std::string(2000, '&');  // 5 characters each once escaped
  for (int i = 0; i < 13; ++i) m.fields.emplace_back("F" + std::to_string(i), "v");
  const json got = json::parse(SlackPayload(m));
  const auto header = got["blocks"][0]["text"]["text"].get<std::string>();
  EXPECT_EQ(header, std::string(149, 'x') + "…");
  const auto section = got["blocks"][1]["text"]["text"].get<std::string>();
  EXPECT_EQ(section.size(),
            size_t{599} * 5 + std::string("…").size());  // 2995 + 1 <= 3000 characters
  EXPECT_EQ(section.substr(0, 10), "&amp;&amp;");
  // 15 fields: a section of 10 and one of 5 (Block Kit allows at most 10 per section).
  EXPECT_EQ(got["blocks"][2]["fields"].size(), 10u);
  EXPECT_EQ(got["blocks"][3]["fields"].size(), 5u);
  EXPECT_EQ(got["blocks"][4]["type"], "context");
}

TEST(SlackEscape, OnlyTheThreeControlCharacters) {
  EXPECT_EQ(SlackEscape("a & b < c > d \"e\" 'f' *g*"), "a &amp; b &lt; c &gt; d \"e\" 'f' *g*");
  EXPECT_EQ(CutChars("ab🚨cd", 4), "ab🚨…");
  EXPECT_EQ(CutChars("ab🚨cd", 5), "ab🚨cd");
}

TEST(PagerDutyPayload, TriggerCarriesThePayload) {
  const json got = json::parse(PagerDutyPayload(Alert(), "R0UTINGKEY", kCreated));
  const json want = json::parse(R"({
    "routing_key": "R0UTINGKEY",
    "event_action": "trigger",
    "dedup_key": "dbrunbook-42",
    "payload": {
      "summary": "🚨 Database performance alert: orders-primary",
      "source": "orders-primary",
      "severity": "critical",
      "timestamp": "2026-11-27T10:00:00.250Z",
      "component": "database",
      "custom_details": {"Database": "orders-primary", "Impact": "a < b & c > d",
        "incident_id": "42", "kind": "alert",
        "text": "Queries > 5 s & <rising>\nImpact: checkout"}
    }})");
  EXPECT_EQ(got, want) << got.dump(2);
}

TEST(PagerDutyPayload, AcknowledgeAndResolveCarryOnlyTheKey) {
  Message m = Alert();
  m.kind = MessageKind::kResolution;
  EXPECT_EQ(json::parse(PagerDutyPayload(m, "K", kCreated)),
            json::parse(R"({"routing_key": "K", "event_action": "resolve",
                            "dedup_key": "dbrunbook-42"})"));
  m.kind = MessageKind::kAcknowledged;
  EXPECT_EQ(json::parse(PagerDutyPayload(m, "K", kCreated)),
            json::parse(R"({"routing_key": "K", "event_action": "acknowledge",
                            "dedup_key": "dbrunbook-42"})"));
  // Updates and escalations re-trigger the same PagerDuty incident.
  for (MessageKind k : {MessageKind::kUpdate, MessageKind::kEscalation}) {
    m.kind = k;
    const json got = json::parse(PagerDutyPayload(m, "K", kCreated));
    EXPECT_EQ(got["event_action"], "trigger");
    EXPECT_EQ(got["dedup_key"], "dbrunbook-42");
  }
}

TEST(PagerDutyPayload, SeverityMappedAndSummaryCut) {
  Message m = Alert();
  m.severity = Severity::kWarning;
  m.title = std::string(1500, 's');
  json got = json::parse(PagerDutyPayload(m, "K", kCreated));
  EXPECT_EQ(got["payload"]["severity"], "warning");
  EXPECT_EQ(got["payload"]["summary"].get<std::string>(), std::string(1023, 's') + "…");
  m.severity = Severity::kInfo;
  got = json::parse(PagerDutyPayload(m, "K", kCreated));
  EXPECT_EQ(got["payload"]["severity"], "info");
}

TEST(TeamsPayload, AdaptiveCardInTheWorkflowEnvelope) {
  const json got = json::parse(TeamsPayload(Alert()));
  const json want = json::parse(R"({
    "type": "message",
    "attachments": [{
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
          {"type": "TextBlock", "text": "🚨 Database performance alert: orders-primary",
           "weight": "Bolder", "size": "Medium", "wrap": true, "color": "Attention"},
          {"type": "TextBlock", "text": "Queries > 5 s & <rising>\nImpact: checkout", "wrap": true},
          {"type": "FactSet", "facts": [{"title": "Database", "value": "orders-primary"},
                                        {"title": "Impact", "value": "a < b & c > d"}]}
        ],
        "msteams": {"width": "Full"}
      }
    }]})");
  EXPECT_EQ(got, want) << got.dump(2);
}

TEST(WebhookPayload, VersionedSchema) {
  const json got = json::parse(WebhookPayload(Alert(), "ops-hook", kCreated));
  const json want = json::parse(R"({
    "schema": "dbrunbook.notification", "version": 1,
    "id": "incident-42-alert", "kind": "alert", "severity": "critical",
    "incident_id": "42", "target": "orders-primary", "dedup_key": "dbrunbook-42",
    "title": "🚨 Database performance alert: orders-primary",
    "text": "Queries > 5 s & <rising>\nImpact: checkout",
    "fields": [{"label": "Database", "value": "orders-primary"},
               {"label": "Impact", "value": "a < b & c > d"}],
    "channel": "ops-hook", "created_at": "2026-11-27T10:00:00.250Z"})");
  EXPECT_EQ(got, want) << got.dump(2);
  // One line: the stdout and file channels write it as JSON Lines.
  EXPECT_EQ(WebhookPayload(Alert(), "x", kCreated).find('\n'), std::string::npos);
}

TEST(WebhookSignature, HmacSha256OfTimestampDotBody) {
  const std::string body = R"({"a":1})";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const std::string content = "1795773600." + body;
  HMAC(EVP_sha256(), "s3cret", 6, reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &size);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", mac[i]);
  EXPECT_EQ(WebhookSignature("s3cret", "1795773600", body), "sha256=" + hex);
  // A known vector (python3 -c "import hmac,hashlib; print(hmac.new(b'key',
  // b'1.{}', hashlib.sha256).hexdigest())").
  EXPECT_EQ(WebhookSignature("key", "1", "{}"),
            "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
}

TEST(EmailMessage, Rfc5322WithEncodedSubject) {
  const std::string mail =
      EmailMessage(Alert(), "dbrunbook@example.com", {"dba@example.com", "oncall@example.com"},
                   kCreated, "incident-42-alert\nmail");
  EXPECT_NE(mail.find("Date: Fri, 27 Nov 2026 10:00:00 +0000\r\n"), std::string::npos) << mail;
  EXPECT_NE(mail.find("From: dbrunbook@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("To: dba@example.com, oncall@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(mail.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(mail.find("@example.com>\r\n"), std::string::npos);
  // The Message-ID is the same for every attempt of one message, different for another.
  EXPECT_EQ(mail, EmailMessage(Alert(), "dbrunbook@example.com",
                               {"dba@example.com", "oncall@example.com"}, kCreated,
                               "incident-42-alert\nmail"));
  const auto id_of = [](const std::string& m) {
    const auto at = m.find("Message-ID: ");
    return m.substr(at, m.find("\r\n", at) - at);
  };
  EXPECT_NE(id_of(mail), id_of(EmailMessage(Alert(), "dbrunbook@example.com", {"a@b.c"}, kCreated,
                                            "other\nmail")));
  // Every line within RFC 5322's 998 characters and no bare LF.
  size_t start = 0;
  for (size_t end = mail.find("\r\n"); end != std::string::npos;
       start = end + 2, end = mail.find("\r\n", start)) {
    EXPECT_LE(end - start, 998u);
    EXPECT_EQ(mail.substr(start, end - start).find('\n'), std::string::npos);
  }
}

TEST(EncodeHeaderWord, Rfc2047Words) {
  EXPECT_EQ(EncodeHeaderWord("plain ascii"), "plain ascii");
  // "🚨 x" is F0 9F 9A A8 20 78: base64 8J+aqCB4.
  EXPECT_EQ(EncodeHeaderWord("🚨 x"), "=?UTF-8?B?8J+aqCB4?=");
  // A long subject is several words of at most 75 characters, no character split.
  std::string long_subject;
  for (int i = 0; i < 40; ++i) long_subject += "é";
  const std::string encoded = EncodeHeaderWord(long_subject);
  size_t start = 0;
  int count = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    if (end == std::string::npos) end = encoded.size();
    const std::string word = encoded.substr(start, end - start);
    EXPECT_LE(word.size(), 75u) << word;
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    ++count;
    start = end + 3;
  }
  EXPECT_EQ(count, 2);  // 80 bytes: 44 (22 characters) + 36
}

cloud::HttpResponse Response(int status, std::string body, cloud::HttpHeaders headers = {}) {
  cloud::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(ClassifyHttp, StatusesAndTransportErrors) {
  const std::vector<std::string> secrets = {"T0/B0/SECRET"};
  EXPECT_EQ(ClassifyHttp(Response(200, "ok"), kCreated, secrets).state, DeliveryState::kDelivered);
  EXPECT_EQ(ClassifyHttp(Response(202, ""), kCreated, secrets).state, DeliveryState::kDelivered);
  for (int status : {500, 502, 503, 504, 429, 408}) {
    EXPECT_EQ(ClassifyHttp(Response(status, ""), kCreated, secrets).state, DeliveryState::kRetry)
        << status;
  }
  for (int status : {400, 401, 403, 404, 410, 301}) {
    EXPECT_EQ(ClassifyHttp(Response(status, ""), kCreated, secrets).state, DeliveryState::kFailed)
        << status;
  }
  // Retry-After: seconds or an HTTP-date.
  auto r = ClassifyHttp(Response(429, "", {{"Retry-After", "7"}}), kCreated, secrets);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, seconds(7));
  r = ClassifyHttp(Response(503, "", {{"retry-after", "Fri, 27 Nov 2026 10:00:30 GMT"}}), kCreated,
                   secrets);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(*r.retry_after), milliseconds(29750));
  // The excerpt of the body has the secret masked and is short.
  r = ClassifyHttp(Response(404, "no_service for /services/T0/B0/SECRET " + std::string(500, 'x')),
                   kCreated, secrets);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.detail.find("SECRET"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("HTTP 404: no_service for /services/***"), std::string::npos);
  EXPECT_LT(r.detail.size(), 260u);
  // Transport: a bad URL is permanent, everything else is retried.
  core::Result<cloud::HttpResponse> bad =
      core::MakeError(core::ErrorCode::kInvalidArgument, "cannot send POST to <invalid URL>");
  EXPECT_EQ(ClassifyHttp(bad, kCreated, secrets).state, DeliveryState::kFailed);
  for (auto code :
       {core::ErrorCode::kUnavailable, core::ErrorCode::kTimeout, core::ErrorCode::kDnsFailure,
        core::ErrorCode::kServerError, core::ErrorCode::kTlsError}) {
    core::Result<cloud::HttpResponse> e = core::MakeError(code, "x");
    EXPECT_EQ(ClassifyHttp(e, kCreated, secrets).state, DeliveryState::kRetry);
  }
}

TEST(RetryDelay, FullJitterCappedAndRetryAfterRespected) {
  DeliveryPolicy p;
  p.backoff_base = milliseconds(100);
  p.backoff_cap = milliseconds(1000);
  EXPECT_EQ(RetryDelay(p, 1, std::nullopt, 0.5), milliseconds(50));
  EXPECT_EQ(RetryDelay(p, 3, std::nullopt, 0.5), milliseconds(200));
  const core::Duration top = RetryDelay(p, 4, std::nullopt, 0.999999);  // ceiling 800ms
  EXPECT_GT(top, milliseconds(799));
  EXPECT_LT(top, milliseconds(800));
  EXPECT_EQ(RetryDelay(p, 30, std::nullopt, 0.5), milliseconds(500));  // capped at 1000
  EXPECT_EQ(RetryDelay(p, 1, std::nullopt, 0.0), milliseconds(0));
  EXPECT_EQ(RetryDelay(p, 1, seconds(3), 0.5), seconds(3));
  EXPECT_EQ(RetryDelay(p, 30, milliseconds(10), 0.5), milliseconds(500));
}

TEST(MessageJson, RoundTrip) {
  const Message m = Alert();
  auto back = MessageFromJson(MessageToJson(m));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->key, m.key);
  EXPECT_EQ(back->dedup_key, m.dedup_key);
  EXPECT_EQ(back->title, m.title);
  EXPECT_EQ(back->text, m.text);
  EXPECT_EQ(back->fields, m.fields);
  EXPECT_EQ(back->channels, m.channels);
  EXPECT_EQ(back->kind, m.kind);
  EXPECT_EQ(back->severity, m.severity);
  EXPECT_FALSE(MessageFromJson("{\"kind\": \"nope\"}"));
  EXPECT_FALSE(MessageFromJson("not json"));
}

// --- The `notify:` section of dbrunbook.yaml ---

std::vector<std::string> Errors(const std::string& yaml) {
  auto parsed = config::ParseConfig(yaml, "/etc/dbrunbook/dbrunbook.yaml", core::MapEnvironment());
  std::vector<std::string> out;
  if (!parsed) {
    for (const auto& d : parsed.error()) {
      if (d.is_error()) out.push_back(d.ToString());
    }
  }
  return out;
}

TEST(NotifyConfig, TheInterfaceContractParses) {
  auto parsed = config::ParseConfig(R"(targets: []
notify:
  delivery: {max_attempts: 5, max_age: 2h, backoff_base: 10ms, backoff_cap: 1s}
  channels:
    - {name: dba-slack, type: slack, url_env: SLACK_WEBHOOK_URL}
    - {name: pager, type: pagerduty, routing_key_env: PD_ROUTING_KEY}
    - {name: ops-hook, type: webhook, url: http://127.0.0.1:9999/hook, hmac_secret_env: HOOK_SECRET}
    - {name: mail, type: email, smtp_url: smtp://127.0.0.1:2525, from: dbrunbook@example.com, to: [dba@example.com]}
    - {name: archive, type: file, path: messages.jsonl, timeout: 2s}
)",
                                    "/etc/dbrunbook/dbrunbook.yaml", core::MapEnvironment());
  ASSERT_TRUE(parsed) << (parsed ? "" : parsed.error().front().ToString());
  const auto& n = parsed->notify;
  ASSERT_EQ(n.channels.size(), 5u);
  EXPECT_EQ(n.channels[0].url_env, "SLACK_WEBHOOK_URL");
  EXPECT_EQ(n.channels[1].routing_key_env, "PD_ROUTING_KEY");
  EXPECT_EQ(n.channels[2].url, "http://127.0.0.1:9999/hook");
  EXPECT_EQ(n.channels[3].to, std::vector<std::string>{"dba@example.com"});
  EXPECT_EQ(n.channels[3].starttls, "required");
  EXPECT_EQ(n.channels[4].path, "/etc/dbrunbook/messages.jsonl");
  EXPECT_EQ(n.channels[4].timeout, seconds(2));
  const DeliveryPolicy p = PolicyFrom(n.delivery);
  EXPECT_EQ(p.max_attempts, 5);
  EXPECT_EQ(p.max_age, std::chrono::hours(2));
  EXPECT_EQ(p.backoff_base, milliseconds(10));
  EXPECT_EQ(p.backoff_cap, seconds(1));
}

TEST(NotifyConfig, EveryProblemAtOnceWithItsPlace) {
  const auto errors = Errors(R"(targets: []
notify:
  channels:
    - {name: a, type: slack, url: https://hooks.slack.com/services/T/B/X}
    - {name: b, type: pagerdutty, routing_key_env: K}
    - {name: c, type: webhook}
    - {name: d, type: email, smtp_url: "smtp://user:pw@mail", from: "x", to: [ok@example.com]}
    - {name: a, type: stdout}
    - {name: e, type: webhook, url: http://h/x, hmac_secret: oops}
    - {name: f, type: pagerduty, routing_key_env: "my key"}
)");
  const std::string all = fmt::format("{}", fmt::join(errors, "\n"));
  EXPECT_NE(all.find("dbrunbook.yaml:4:30: notify.channels[0] (a).url: does not apply to a slack "
                     "channel — a Slack webhook URL is a secret"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("notify.channels[0] (a).url_env: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown channel type 'pagerdutty' — did you mean pagerduty?"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("notify.channels[2] (c).url: missing"), std::string::npos) << all;
  EXPECT_NE(all.find("not an smtp:// or smtps:// URL without credentials"), std::string::npos)
      << all;
  EXPECT_NE(all.find("'x' is not an e-mail address"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate channel name 'a'"), std::string::npos) << all;
  EXPECT_NE(all.find("hmac_secret: unknown key — did you mean hmac_secret_env?"), std::string::npos)
      << all;
  EXPECT_NE(all.find("'my key' is not an environment variable name"), std::string::npos) << all;
  // An invalid value is one error, not also "missing".
  EXPECT_EQ(all.find("(d).smtp_url: missing"), std::string::npos) << all;
  EXPECT_EQ(all.find("(f).routing_key_env: missing"), std::string::npos) << all;
  // Nothing quotes the secret URL's path.
  EXPECT_EQ(all.find("T/B/X"), std::string::npos) << all;
}

TEST(ResolveChannel, SecretsFromTheEnvironmentNamedNeverShown) {
  config::NotifyChannelConfig c;
  c.name = "dba-slack";
  c.type = "slack";
  c.url_env = "SLACK_WEBHOOK_URL";
  c.where = config::SourceLocation{"dbrunbook.yaml", 7, 7, ""};
  auto missing = ResolveChannel(c, core::MapEnvironment());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_NE(missing.error().message.find("environment variable SLACK_WEBHOOK_URL (url_env) is not "
                                         "set"),
            std::string::npos)
      << missing.error().message;
  core::MapEnvironment env;
  env.Set("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/S3");
  auto spec = ResolveChannel(c, env);
  ASSERT_TRUE(spec) << spec.error().ToString();
  EXPECT_EQ(spec->Destination(), "https://hooks.slack.com/***");
  EXPECT_EQ(fmt::format("{}", spec->url), "***");
  core::MapEnvironment not_url;
  not_url.Set("SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/S3");
  auto bad = ResolveChannel(c, not_url);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.find("S3"), std::string::npos) << bad.error().message;
  // PagerDuty's endpoint by default.
  config::NotifyChannelConfig pd;
  pd.name = "pager";
  pd.type = "pagerduty";
  pd.routing_key_env = "PD";
  core::MapEnvironment pd_env;
  pd_env.Set("PD", "abc");
  auto pager = ResolveChannel(pd, pd_env);
  ASSERT_TRUE(pager);
  EXPECT_EQ(pager->Destination(), "https://events.pagerduty.com/v2/enqueue");
}

}  // namespace
}  // namespace dbrunbook::notify
