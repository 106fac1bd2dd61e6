// The runbook's message templates: the `messages:` section of the runbook file (defaults,
// overrides, every rule with its exact diagnostic) and the renderer (the default alert and
// resolution texts byte for byte, fields, keys stable across re-renders, channels by level,
// status mapping, root cause, redaction of statement text and credentials, NextUpdateDue).
#include "notify/templates.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/duration.h"

namespace dbrunbook::notify {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kToday = "2026-11-27";
// U+1F6A8 POLICE CARS REVOLVING LIGHT and U+2705 WHITE HEAVY CHECK MARK, as UTF-8 bytes.
constexpr std::string_view kSiren = "\xF0\x9F\x9A\xA8";
constexpr std::string_view kCheck = "\xE2\x9C\x85";

core::WallTime At(std::string_view rfc3339) { return *core::ParseRfc3339(rfc3339); }

runbook::Runbook Parse(const std::string& text) {
  auto parsed = runbook::ParseRunbook(text, "rb.yaml", {}, kToday);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().front().ToString());
  return parsed ? *parsed : runbook::Runbook{};
}

std::vector<std::string> Errors(const std::string& text) {
  std::vector<std::string> out;
  auto parsed = runbook::ParseRunbook(text, "rb.yaml", {}, kToday);
  if (parsed) return out;
  for (const auto& d : parsed.error()) out.push_back(d.ToString());
  return out;
}

runbook::Runbook DefaultRunbook() {
  auto parsed = runbook::DefaultRunbook({}, kToday);
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : runbook::Runbook{};
}

// Incident 7 on orders-primary: slow_queries fired at 10:00:00, now in investigate.
watch::Incident SlowQueryIncident() {
  watch::Incident i;
  i.id = 7;
  i.target = "orders-primary";
  i.phase = watch::Phase::kInvestigate;
  i.severity = "critical";
  i.opened_at = At("2026-11-27T10:00:00Z");
  i.triggers = {"slow_queries"};
  i.firing = {"slow_queries"};
  i.diagnoses = 1;
  i.findings = {
      {"assess.connections", "warning", "Connections: 80% of max_connections"},
      {"query.long_running", "critical",
       "connection 42 (app@10.0.0.5) has run one statement for 12s: SELECT * FROM customers "
       "WHERE email='alice@example.com' AND id = 1234567"},
  };
  return i;
}

const std::map<std::string, std::string> kTags = {{"service", "orders"}, {"team", "payments"}};

// ---------------------------------------------------------------------------------------
// The rendered texts
// ---------------------------------------------------------------------------------------

TEST(RenderTest, DefaultAlertIsTheRunbooksAlertByteForByte) {
  const runbook::Runbook rb = DefaultRunbook();
  const MessageContext c = BuildContext(SlowQueryIncident(), rb, kTags, At("2026-11-27T10:04:12Z"));
  const Message m = Render(MessageKind::kAlert, c, rb.messages);
  EXPECT_EQ(m.title, std::string(kSiren) + " Database performance alert: orders-primary");
  EXPECT_EQ(m.text, std::string(kSiren) +
                        " Database performance alert\n"
                        "Database: orders-primary\n"
                        "Impact: critical: A query has been running for more than 5 seconds; "
                        "affected services: orders\n"
                        "Current status: investigating\n"
                        "Duration: 4m 12s\n"
                        "Next update: 10:34 UTC (in 30m)");
  // The siren is the 4 UTF-8 bytes of U+1F6A8, not an escape or a replacement character.
  ASSERT_GE(m.title.size(), 4U);
  EXPECT_EQ(static_cast<unsigned char>(m.title[0]), 0xF0);
  EXPECT_EQ(static_cast<unsigned char>(m.title[1]), 0x9F);
  EXPECT_EQ(static_cast<unsigned char>(m.title[2]), 0x9A);
  EXPECT_EQ(static_cast<unsigned char>(m.title[3]), 0xA8);
  EXPECT_THAT(
      m.fields,
      ElementsAre(std::pair<std::string, std::string>{"Database", "orders-primary"},
                  std::pair<std::string, std::string>{
                      "Impact",
                      "critical: A query has been running for more than 5 seconds; "
                      "affected services: orders"},
                  std::pair<std::string, std::string>{"Current status", "investigating"},
                  std::pair<std::string, std::string>{"Duration", "4m 12s"},
                  std::pair<std::string, std::string>{"Next update", "10:34 UTC (in 30m)"}));
  EXPECT_EQ(m.kind, MessageKind::kAlert);
  EXPECT_EQ(m.severity, Severity::kCritical);
  EXPECT_EQ(m.incident_id, "7");
  EXPECT_EQ(m.target, "orders-primary");
  EXPECT_EQ(m.key, "7:alert:1");
  EXPECT_EQ(m.dedup_key, "dbrunbook-7");
}

TEST(RenderTest, DefaultResolutionIsTheRunbooksResolutionByteForByte) {
  const runbook::Runbook rb = DefaultRunbook();
  watch::Incident i = SlowQueryIncident();
  i.phase = watch::Phase::kResolved;
  i.firing.clear();
  i.resolved_at = At("2026-11-27T10:41:30Z");
  i.resolution = "triggers clear for 30m";
  i.actions.push_back({"kill-queries", "7:kill-queries:1", 1, runbook::Policy::kAuto,
                       watch::ActionState::kVerified, "query.long_running",
                       "killed connection 42: UPDATE accounts SET token='tok-991' WHERE id=3",
                       "run-1", "", At("2026-11-27T10:09:00Z")});
  const Message m = Render(MessageKind::kResolution,
                           BuildContext(i, rb, kTags, At("2026-11-27T10:41:31Z")), rb.messages);
  EXPECT_EQ(m.title,
            std::string(kCheck) + " Resolved: database performance issue on orders-primary");
  EXPECT_EQ(m.text,
            std::string(kCheck) +
                " Resolved: database performance issue\n"
                "Issue: A query has been running for more than 5 seconds\n"
                "Duration: 41m 30s\n"
                "Root cause: connection 42 (app@10.0.0.5) has run one statement for 12s: select "
                "* from customers where email = ? and id = ?\n"
                "Resolution: kill-queries verified (killed connection 42: update accounts set "
                "token = ? where id = ?); triggers clear for 30m\n"
                "Impact: critical: A query has been running for more than 5 seconds; affected "
                "services: orders");
  EXPECT_EQ(static_cast<unsigned char>(m.text[0]), 0xE2);
  EXPECT_EQ(static_cast<unsigned char>(m.text[1]), 0x9C);
  EXPECT_EQ(static_cast<unsigned char>(m.text[2]), 0x85);
  EXPECT_EQ(m.severity, Severity::kInfo);
  EXPECT_EQ(m.key, "7:resolution:1");
  EXPECT_EQ(m.fields.size(), 5U);
  EXPECT_EQ(m.fields[0].first, "Issue");
  EXPECT_EQ(m.fields[4].first, "Impact");
}

TEST(RenderTest, UpdateEscalationAndAcknowledgement) {
  runbook::Runbook rb = DefaultRunbook();
  watch::Incident i = SlowQueryIncident();
  i.phase = watch::Phase::kMitigate;
  i.escalation_level = 2;
  i.acked_by = "alice";
  MessageContext c = BuildContext(i, rb, {}, At("2026-11-27T10:30:00Z"));
  c.update_number = 1;
  const Message update = Render(MessageKind::kUpdate, c, rb.messages);
  EXPECT_EQ(update.title, "Update 1: database performance issue on orders-primary (mitigating)");
  EXPECT_THAT(update.text, HasSubstr("\nCurrent status: mitigating\n"));
  EXPECT_THAT(update.text, HasSubstr("\nNext update: 11:00 UTC (in 30m)"));
  // No service tag: the impact does not invent one.
  EXPECT_THAT(update.text,
              HasSubstr("Impact: critical: A query has been running for more than 5 seconds\n"));
  EXPECT_EQ(update.key, "7:update:1");

  c.escalation_rule = "degraded-after-mitigation";
  c.escalation_reason = "kill-queries verified and slow_queries still firing";
  const Message escalation = Render(MessageKind::kEscalation, c, rb.messages);
  EXPECT_EQ(escalation.title, "Escalation level 2: database performance issue on orders-primary");
  EXPECT_THAT(escalation.text,
              HasSubstr("Escalated to level 2: kill-queries verified and slow_queries still "
                        "firing\n"));
  EXPECT_THAT(escalation.text,
              HasSubstr("Contacts: cloud-support (Cloud provider support (open a support "
                        "case))"));
  EXPECT_EQ(escalation.key, "7:escalation:degraded-after-mitigation");
  EXPECT_EQ(escalation.severity, Severity::kCritical);

  const Message ack = Render(MessageKind::kAcknowledged, c, rb.messages);
  EXPECT_EQ(ack.text,
            "alice is working on it\nDatabase: orders-primary\nCurrent status: mitigating\n"
            "Duration: 30m 00s");
  EXPECT_EQ(ack.key, "7:acknowledged:1");
}

TEST(RenderTest, KeysAreTheSameWhenRenderedAgainLater) {
  const runbook::Runbook rb = DefaultRunbook();
  MessageContext early = BuildContext(SlowQueryIncident(), rb, kTags, At("2026-11-27T10:01:00Z"));
  MessageContext late = BuildContext(SlowQueryIncident(), rb, kTags, At("2026-11-27T11:17:00Z"));
  for (MessageKind kind : {MessageKind::kAlert, MessageKind::kUpdate, MessageKind::kEscalation,
                           MessageKind::kAcknowledged, MessageKind::kResolution}) {
    early.update_number = late.update_number = 3;
    early.escalation_rule = late.escalation_rule = "database-unavailable";
    const Message a = Render(kind, early, rb.messages);
    const Message b = Render(kind, late, rb.messages);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.dedup_key, "dbrunbook-7");
    EXPECT_EQ(b.dedup_key, "dbrunbook-7");
  }
  EXPECT_EQ(Render(MessageKind::kUpdate, early, rb.messages).key, "7:update:3");
  early.update_number = 4;
  EXPECT_EQ(Render(MessageKind::kUpdate, early, rb.messages).key, "7:update:4");
}

TEST(RenderTest, ChannelsFollowTheContactsLevels) {
  runbook::Runbook rb = DefaultRunbook();
  rb.contacts = {{"dba", "DBA on call", 1, {"dba-slack", "pager"}},
                 {"cloud", "Cloud support", 2, {"cloud-mail"}},
                 {"mgmt", "Management", 3, {"mgmt-mail", "dba-slack"}}};
  watch::Incident i = SlowQueryIncident();
  MessageContext c = BuildContext(i, rb, kTags, At("2026-11-27T10:01:00Z"));
  EXPECT_THAT(Render(MessageKind::kAlert, c, rb.messages).channels,
              ElementsAre("dba-slack", "pager"));
  i.escalation_level = 3;
  c = BuildContext(i, rb, kTags, At("2026-11-27T10:01:00Z"));
  c.escalation_rule = "database-down-30m";
  EXPECT_THAT(Render(MessageKind::kEscalation, c, rb.messages).channels,
              ElementsAre("mgmt-mail", "dba-slack"));
  // After an escalation to 3, the resolution goes to everyone told so far, once each.
  EXPECT_THAT(Render(MessageKind::kResolution, c, rb.messages).channels,
              ElementsAre("dba-slack", "pager", "cloud-mail", "mgmt-mail"));
}

TEST(RenderTest, StatusFollowsThePhase) {
  EXPECT_EQ(StatusOf(watch::Phase::kAssess), "investigating");
  EXPECT_EQ(StatusOf(watch::Phase::kInvestigate), "investigating");
  EXPECT_EQ(StatusOf(watch::Phase::kMitigate), "mitigating");
  EXPECT_EQ(StatusOf(watch::Phase::kVerify), "monitored");
  EXPECT_EQ(StatusOf(watch::Phase::kResolved), "resolved");
}

TEST(RenderTest, RootCauseIsTheMostSevereFindingOrSaysThereIsNone) {
  const runbook::Runbook rb = DefaultRunbook();
  watch::Incident i = SlowQueryIncident();
  EXPECT_THAT(BuildContext(i, rb, {}, i.opened_at).root_cause,
              HasSubstr("connection 42 (app@10.0.0.5) has run one statement"));
  // On equal severity, the first one (the investigation's order).
  i.findings = {{"a", "warning", "first"}, {"b", "warning", "second"}, {"c", "info", "third"}};
  EXPECT_EQ(BuildContext(i, rb, {}, i.opened_at).root_cause, "first");
  i.findings.clear();
  EXPECT_EQ(BuildContext(i, rb, {}, i.opened_at).root_cause, "not identified by the diagnosis");
  i.diagnoses = 0;
  EXPECT_EQ(BuildContext(i, rb, {}, i.opened_at).root_cause, "under investigation");
}

// ---------------------------------------------------------------------------------------
// What never reaches a message
// ---------------------------------------------------------------------------------------

std::string Everything(const Message& m) {
  std::string all = m.title + "\n" + m.text;
  for (const auto& [label, value] : m.fields) all += fmt::format("\n{}: {}", label, value);
  return all;
}

std::vector<Message> AllKinds(const MessageContext& c, const runbook::MessageTemplates& t) {
  std::vector<Message> out;
  for (MessageKind kind : {MessageKind::kAlert, MessageKind::kUpdate, MessageKind::kEscalation,
                           MessageKind::kAcknowledged, MessageKind::kResolution}) {
    out.push_back(Render(kind, c, t));
  }
  return out;
}

TEST(RedactionTest, StatementLiteralsNeverReachAMessage) {
  runbook::Runbook rb = DefaultRunbook();
  // Templates that print every placeholder, so nothing escapes through a field the default
  // templates happen not to use.
  std::string all;
  for (const auto& name : runbook::MessagePlaceholders()) {
    all += fmt::format("{}={{{}}}\n", name, name);
  }
  rb.messages.alert.body = all;
  watch::Incident i = SlowQueryIncident();
  i.findings.push_back({"lock.root_blocker", "critical",
                        "root blocker: update orders set note = \"call alice at 555-0100\" "
                        "where customer = 'alice@example.com'"});
  i.resolution = "resolved by bob: killed SELECT * FROM t WHERE ssn='123-45-6789'";
  i.phase = watch::Phase::kResolved;
  i.resolved_at = At("2026-11-27T11:00:00Z");
  const MessageContext c = BuildContext(i, rb, kTags, At("2026-11-27T11:00:00Z"));
  for (const Message& m : AllKinds(c, rb.messages)) {
    const std::string text = Everything(m);
    EXPECT_THAT(text, Not(HasSubstr("alice@example.com"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("1234567"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("555-0100"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("123-45-6789"))) << text;
  }
  const Message alert = Render(MessageKind::kAlert, c, rb.messages);
  EXPECT_THAT(alert.text, HasSubstr("root_cause=connection 42 (app@10.0.0.5) has run one "
                                    "statement for 12s: select * from customers where email = ? "
                                    "and id = ?\n"));
  EXPECT_THAT(alert.text,
              HasSubstr("resolution=resolved by bob: killed select * from t where ssn = ?\n"));
}

TEST(RedactionTest, PasswordsNeverReachAMessage) {
  runbook::Runbook rb = DefaultRunbook();
  std::string all;
  for (const auto& name : runbook::MessagePlaceholders()) all += "{" + name + "}\n";
  rb.messages.update.body = all;
  watch::Incident i = SlowQueryIncident();
  i.findings = {{"query.long_running", "critical",
                 "connection 9 has run CREATE USER 'x'@'%' IDENTIFIED BY 'hunter2-secret'"},
                {"assess.connectivity", "warning",
                 "cannot connect to mysql://monitor:Pa55w0rd@db.internal:3306/app"}};
  i.actions.push_back({"kill-queries", "7:kill-queries:1", 1, runbook::Policy::kAuto,
                       watch::ActionState::kApplied, "query.long_running",
                       "SET PASSWORD FOR app = PASSWORD('tr0ub4dor')", "run-1", "", i.opened_at});
  MessageContext c = BuildContext(i, rb, kTags, At("2026-11-27T10:05:00Z"));
  c.escalation_reason = "probe via mysql://monitor:Pa55w0rd@db.internal failed";
  for (const Message& m : AllKinds(c, rb.messages)) {
    const std::string text = Everything(m);
    for (const char* secret : {"hunter2-secret", "Pa55w0rd", "tr0ub4dor"}) {
      EXPECT_THAT(text, Not(HasSubstr(secret))) << text;
    }
  }
  EXPECT_EQ(RedactText("cannot connect to mysql://monitor:Pa55w0rd@db.internal:3306/app"),
            "cannot connect to mysql://monitor:***@db.internal:3306/app");
}

TEST(RedactionTest, RedactQueriesFalseKeepsStatementsButNeverPasswords) {
  runbook::Runbook rb =
      Parse(std::string("runbook: {name: t, version: 2, owner: dba}\n"
                        "triggers:\n"
                        "  - {name: slow, signal: longest_query_seconds, "
                        "threshold: 5}\n"
                        "messages:\n"
                        "  redact_queries: false\n"));
  ASSERT_FALSE(rb.messages.redact_queries);
  watch::Incident i = SlowQueryIncident();
  i.findings = {{"query.long_running", "critical",
                 "connection 42 runs SELECT * FROM customers WHERE email='alice@example.com'"}};
  i.actions.push_back({"kill-queries", "7:kill-queries:1", 1, runbook::Policy::kAuto,
                       watch::ActionState::kApplied, "query.long_running",
                       "connection 9: ALTER USER app IDENTIFIED BY 'tr0ub4dor'", "run-1", "",
                       i.opened_at});
  MessageContext c = BuildContext(i, rb, kTags, At("2026-11-27T10:05:00Z"));
  EXPECT_EQ(c.root_cause,
            "connection 42 runs SELECT * FROM customers WHERE email='alice@example.com'");
  EXPECT_THAT(c.resolution, Not(HasSubstr("tr0ub4dor")));
  c.escalation_reason = "probe via mysql://monitor:Pa55w0rd@db.internal failed";
  for (const Message& m : AllKinds(c, rb.messages)) {
    EXPECT_THAT(Everything(m), Not(HasSubstr("Pa55w0rd")));
    EXPECT_THAT(Everything(m), Not(HasSubstr("tr0ub4dor")));
  }
  EXPECT_THAT(Errors("runbook: {name: t, version: 2, owner: dba}\n"
                     "triggers:\n"
                     "  - {name: slow, signal: longest_query_seconds, threshold: 5}\n"
                     "messages:\n"
                     "  redact_queries: maybe\n"),
              ElementsAre(HasSubstr("rb.yaml:5:19: messages.redact_queries: 'maybe' is not true "
                                    "or false")));
}

TEST(RedactionTest, ProseIsLeftAlone) {
  for (const char* text :
       {"the update of the statistics is slow", "3 statements running; the longest for 12s",
        "Connections: 80% of max_connections", "replica is 120s behind its source"}) {
    EXPECT_EQ(RedactText(text), text);
  }
  EXPECT_EQ(RedactText("long runner: DELETE FROM sessions WHERE expires < 1700000000"),
            "long runner: delete from sessions where expires < ?");
  EXPECT_EQ(RedactText("cut short: SELECT 'unterminated"), "cut short: select ?");
  // Apostrophes are not literals; a literal after an operator is, even without a statement.
  EXPECT_EQ(RedactText("The runbook's first step: don't guess, turn the slow log on"),
            "The runbook's first step: don't guess, turn the slow log on");
  EXPECT_EQ(RedactText("WHERE email='alice@example.com' scans 2M rows"),
            "WHERE email=? scans 2M rows");
  EXPECT_EQ(RedactText("user 'bob'@'%' and \"quoted\" text"), "user ?@? and ? text");
  EXPECT_EQ(RedactText("values N'alice', _utf8mb4'bob', X'616C', b'0101'"),
            "values N?, _utf8mb4?, X?, b?");
}

// ---------------------------------------------------------------------------------------
// NextUpdateDue
// ---------------------------------------------------------------------------------------

TEST(NextUpdateDueTest, FromTheLastMessageAndUpdateEvery) {
  runbook::MessageTemplates t = runbook::DefaultMessageTemplates();
  watch::Incident i = SlowQueryIncident();
  EXPECT_EQ(NextUpdateDue(i, std::nullopt, t), std::nullopt) << "nothing promised yet";
  EXPECT_EQ(NextUpdateDue(i, At("2026-11-27T10:00:05Z"), t), At("2026-11-27T10:30:05Z"));
  t.update_every = std::chrono::minutes(15);
  EXPECT_EQ(NextUpdateDue(i, At("2026-11-27T10:30:05Z"), t), At("2026-11-27T10:45:05Z"));
  t.update_every = core::Duration{};
  EXPECT_EQ(NextUpdateDue(i, At("2026-11-27T10:30:05Z"), t), std::nullopt) << "updates off";
  t.update_every = std::chrono::minutes(15);
  i.phase = watch::Phase::kResolved;
  EXPECT_EQ(NextUpdateDue(i, At("2026-11-27T10:30:05Z"), t), std::nullopt) << "resolved";
}

TEST(NextUpdateDueTest, TheAlertPromisesWhatNextUpdateDueSays) {
  runbook::Runbook rb = DefaultRunbook();
  rb.messages.update_every = std::chrono::minutes(20);
  const watch::Incident i = SlowQueryIncident();
  const core::WallTime sent = At("2026-11-27T10:00:07Z");
  MessageContext c = BuildContext(i, rb, {}, sent);
  const Message alert = Render(MessageKind::kAlert, c, rb.messages);
  EXPECT_THAT(alert.text, HasSubstr("Next update: 10:20 UTC (in 20m)"));
  EXPECT_EQ(NextUpdateDue(i, sent, rb.messages), At("2026-11-27T10:20:07Z"));
  rb.messages.update_every = core::Duration{};
  c = BuildContext(i, rb, {}, sent);
  EXPECT_THAT(Render(MessageKind::kAlert, c, rb.messages).text,
              HasSubstr("Next update: none scheduled"));
}

// ---------------------------------------------------------------------------------------
// Which engine events call for a message
// ---------------------------------------------------------------------------------------

TEST(MessageCueTest, FromTheEnginesEvents) {
  // A real escalation, from the engine itself: the database unreachable for 10 s.
  runbook::Runbook rb = DefaultRunbook();
  rb.escalation = {
      {"db-down", runbook::EscalationWhen::kUnavailable, std::chrono::seconds(10), "", "", 2, {}}};
  rb.contacts = {{"dba", "DBA on call", 1, {"dba-slack"}},
                 {"cloud", "Cloud support", 2, {"cloud-mail"}}};
  rb.triggers = {};
  runbook::TriggerSpec down;
  down.name = "unreachable";
  down.signal = "target_unreachable";
  down.op = runbook::Comparison::kGreaterEqual;
  down.threshold = 1;
  down.severity = runbook::TriggerSeverity::kCritical;
  rb.triggers.push_back(down);
  watch::Engine engine(rb, {"db"}, 1);
  const core::WallTime t0 = At("2026-11-27T10:00:00Z");
  std::vector<watch::Event> events;
  for (int s = 0; s <= 12; ++s) {
    watch::SampleBatch batch;
    batch.target = "db";
    batch.wall = t0 + std::chrono::seconds(s);
    batch.mono = core::MonoTime(std::chrono::seconds(s));
    batch.values = {{"target_unreachable", 1}};
    auto out = engine.OnSamples(batch);
    events.insert(events.end(), out.events.begin(), out.events.end());
    out = engine.OnTick(batch.wall, batch.mono);
    events.insert(events.end(), out.events.begin(), out.events.end());
  }
  std::vector<MessageCue> cues;
  std::vector<std::string> kinds;
  for (const auto& e : events) {
    if (auto cue = MessageCueFor(e)) {
      cues.push_back(*cue);
      kinds.push_back(e.kind);
    }
  }
  ASSERT_THAT(kinds, ElementsAre("opened", "escalated"));
  EXPECT_EQ(cues[0].kind, MessageKind::kAlert);
  EXPECT_EQ(cues[1].kind, MessageKind::kEscalation);
  EXPECT_EQ(cues[1].escalation_rule, "db-down");
  EXPECT_EQ(cues[1].escalation_level, 2);
  EXPECT_FALSE(cues[1].escalation_reason.empty());
  const watch::Incident* incident = engine.Find(1);
  ASSERT_NE(incident, nullptr);
  MessageContext c = BuildContext(*incident, rb, {}, t0 + std::chrono::seconds(12));
  cues[1].ApplyTo(c);
  const Message m = Render(MessageKind::kEscalation, c, rb.messages);
  EXPECT_EQ(m.key, "1:escalation:db-down");
  EXPECT_THAT(m.channels, ElementsAre("cloud-mail"));
  EXPECT_THAT(m.text, HasSubstr("Contacts: cloud (Cloud support)"));

  watch::Event other;
  for (const char* kind : {"phase", "findings", "note", "trigger.firing", "deadline.missed"}) {
    other.kind = kind;
    EXPECT_EQ(MessageCueFor(other), std::nullopt) << kind;
  }
  other.kind = "ack";
  EXPECT_EQ(MessageCueFor(other)->kind, MessageKind::kAcknowledged);
  other.kind = "resolved";
  EXPECT_EQ(MessageCueFor(other)->kind, MessageKind::kResolution);
}

// ---------------------------------------------------------------------------------------
// The runbook file's `messages:` section
// ---------------------------------------------------------------------------------------

constexpr std::string_view kHead =
    "runbook: {name: t, version: 2, owner: dba}\n"                      // 1
    "triggers:\n"                                                       // 2
    "  - {name: slow, signal: longest_query_seconds, threshold: 5}\n";  // 3

TEST(MessagesSectionTest, TheDefaultRunbookFileWritesOutTheBuiltInTemplates) {
  const runbook::Runbook rb = DefaultRunbook();
  const runbook::MessageTemplates defaults = runbook::DefaultMessageTemplates();
  for (auto kind :
       {runbook::MessageTemplateKind::kAlert, runbook::MessageTemplateKind::kUpdate,
        runbook::MessageTemplateKind::kEscalation, runbook::MessageTemplateKind::kAcknowledged,
        runbook::MessageTemplateKind::kResolution}) {
    EXPECT_EQ(rb.messages.Of(kind).title, defaults.Of(kind).title)
        << runbook::MessageTemplateKindName(kind);
    EXPECT_EQ(rb.messages.Of(kind).body, defaults.Of(kind).body)
        << runbook::MessageTemplateKindName(kind);
  }
  EXPECT_EQ(rb.messages.update_every, defaults.update_every);
  // ... and the file really has the section (not the defaults filled in for a missing one).
  EXPECT_THAT(std::string(runbook::DefaultRunbookText()), HasSubstr("\nmessages:\n"));
}

TEST(MessagesSectionTest, LeftOutMeansTheDefaults) {
  const runbook::Runbook rb = Parse(std::string(kHead));
  EXPECT_EQ(rb.messages.alert.body, runbook::DefaultMessageTemplates().alert.body);
  EXPECT_EQ(rb.messages.update_every, std::chrono::minutes(30));
}

TEST(MessagesSectionTest, OverridesOnlyWhatIsWritten) {
  const runbook::Runbook rb = Parse(std::string(kHead) +
                                    "messages:\n"
                                    "  update_every: 15m\n"
                                    "  alert:\n"
                                    "    title: \"DB alert {{{target}}} #{incident_id}\"\n"
                                    "  resolution:\n"
                                    "    body: |\n"
                                    "      Fixed: {target}\n"
                                    "      Root cause: {root_cause}\n");
  EXPECT_EQ(rb.messages.update_every, std::chrono::minutes(15));
  EXPECT_EQ(rb.messages.alert.title, "DB alert {{{target}}} #{incident_id}");
  EXPECT_EQ(rb.messages.alert.body, runbook::DefaultMessageTemplates().alert.body);
  EXPECT_EQ(rb.messages.resolution.body, "Fixed: {target}\nRoot cause: {root_cause}");
  EXPECT_EQ(rb.messages.resolution.title, runbook::DefaultMessageTemplates().resolution.title);
  watch::Incident i = SlowQueryIncident();
  i.target = "db1";
  const Message m = Render(MessageKind::kAlert, BuildContext(i, rb, {}, i.opened_at), rb.messages);
  EXPECT_EQ(m.title, "DB alert {db1} #7");
}

TEST(MessagesSectionTest, EveryRuleWithItsExactDiagnostic) {
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  alert:\n"
                                          "    title: \"Alert on {tagret}\"\n"),
              ElementsAre("rb.yaml:6:12: messages.alert.title: unknown placeholder {tagret} — "
                          "did you mean target?"));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  resolution:\n"
                                          "    body: \"Done {target\"\n"),
              ElementsAre("rb.yaml:6:11: messages.resolution.body: a '{' without its '}' at "
                          "character 6 (write {{ for a literal brace)"));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  update:\n"
                                          "    title: |\n"
                                          "      two\n"
                                          "      lines\n"),
              ElementsAre("rb.yaml:6:12: messages.update.title: has more than one line — a "
                          "title is one line (the subject, the chat message's first line); put "
                          "the rest in body"));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  alerts: {title: x}\n"),
              ElementsAre("rb.yaml:5:3: messages.alerts: unknown key — did you mean alert?"));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  update_every: 30\n"),
              Contains(HasSubstr("rb.yaml:5:17: messages.update_every: ")));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  alert: {title: \"\"}\n"),
              Contains(HasSubstr("rb.yaml:5:18: messages.alert.title: ")));
  EXPECT_THAT(Errors(std::string(kHead) + "messages:\n"
                                          "  acknowledged: {body: \"closing } brace\"}\n"),
              ElementsAre("rb.yaml:5:24: messages.acknowledged.body: a '}' without its '{' at "
                          "character 9 (write }} for a literal brace)"));
}

TEST(MessagesSectionTest, EveryPlaceholderRenders) {
  const runbook::Runbook rb = DefaultRunbook();
  watch::Incident i = SlowQueryIncident();
  const MessageContext c = BuildContext(i, rb, kTags, At("2026-11-27T10:10:00Z"));
  for (const auto& name : runbook::MessagePlaceholders()) {
    const std::string out = RenderTemplate("{" + name + "}", c);
    EXPECT_FALSE(out.empty()) << name;
    EXPECT_EQ(out.find('{'), std::string::npos) << name << " rendered as " << out;
  }
}

}  // namespace
}  // namespace dbrunbook::notify
