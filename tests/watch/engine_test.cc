// The incident engine's persistence form (IncidentToJson / IncidentFromJson) and the contract
// points of its API that are clearer as unit tests than as scenarios.
#include "watch/engine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <random>

#include "core/duration.h"

namespace dbrunbook::watch {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const core::WallTime kT0 = core::WallTime{} + std::chrono::hours(24 * 20'784);

Incident FullIncident() {
  Incident i;
  i.id = 42;
  i.target = "orders-primary";
  i.phase = Phase::kVerify;
  i.severity = "critical";
  i.opened_at = kT0 + std::chrono::milliseconds(123);
  i.verify_started_at = kT0 + minutes(12);
  i.triggers = {"slow_queries", "alert:MySQLDown"};
  i.firing = {};
  i.findings = {{"lock.root_blocker", "critical", "connection 17 blocks 4 transactions"},
                {"query.long_running", "warning", "a query has run for 7 s"}};
  IncidentAction a;
  a.action = "kill-queries";
  a.key = "42:kill-queries:2";
  a.generation = 2;
  a.policy = runbook::Policy::kAuto;
  a.state = ActionState::kVerified;
  a.reason = "lock.root_blocker";
  a.detail = "killed 1 connection";
  a.run_id = "r-1";
  a.approved_by = "alice";
  a.updated_at = kT0 + minutes(3);
  i.actions.push_back(a);
  IncidentAction b;
  b.action = "failover";
  b.key = "42:failover:1";
  b.policy = runbook::Policy::kOff;
  b.state = ActionState::kOff;
  b.updated_at = kT0 + minutes(1);
  i.actions.push_back(b);
  i.escalation_level = 2;
  i.escalations_fired = {"deadline", "degraded"};
  i.escalation_since = {{"deadline", kT0 + minutes(5)}};
  i.deadlines_missed = {"assess"};
  i.relapses = 1;
  i.diagnoses = 2;
  i.diagnosing = true;
  i.acked_by = "bob";
  i.resolution = "";
  i.prevention = {"Review the slow query log weekly"};
  return i;
}

TEST(IncidentJson, RoundTripKeepsEveryField) {
  const Incident original = FullIncident();
  const json stored = IncidentToJson(original);
  auto back = IncidentFromJson(json::parse(stored.dump()));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->id, 42);
  EXPECT_EQ(back->target, "orders-primary");
  EXPECT_EQ(back->phase, Phase::kVerify);
  EXPECT_EQ(back->severity, "critical");
  EXPECT_EQ(back->opened_at, original.opened_at);  // milliseconds are kept
  EXPECT_EQ(back->verify_started_at, original.verify_started_at);
  EXPECT_FALSE(back->resolved_at.has_value());
  EXPECT_EQ(back->triggers, original.triggers);
  ASSERT_EQ(back->findings.size(), 2u);
  EXPECT_EQ(back->findings[0].code, "lock.root_blocker");
  EXPECT_EQ(back->findings[0].title, "connection 17 blocks 4 transactions");
  ASSERT_EQ(back->actions.size(), 2u);
  EXPECT_EQ(back->actions[0].key, "42:kill-queries:2");
  EXPECT_EQ(back->actions[0].generation, 2);
  EXPECT_EQ(back->actions[0].policy, runbook::Policy::kAuto);
  EXPECT_EQ(back->actions[0].state, ActionState::kVerified);
  EXPECT_EQ(back->actions[0].approved_by, "alice");
  EXPECT_EQ(back->actions[0].run_id, "r-1");
  EXPECT_EQ(back->actions[0].updated_at, kT0 + minutes(3));
  EXPECT_EQ(back->actions[1].state, ActionState::kOff);
  EXPECT_EQ(back->escalation_level, 2);
  EXPECT_EQ(back->escalations_fired, original.escalations_fired);
  EXPECT_EQ(back->escalation_since, original.escalation_since);
  EXPECT_EQ(back->deadlines_missed, original.deadlines_missed);
  EXPECT_EQ(back->relapses, 1);
  EXPECT_EQ(back->diagnoses, 2);
  EXPECT_TRUE(back->diagnosing);
  EXPECT_EQ(back->acked_by, "bob");
  EXPECT_EQ(back->prevention, original.prevention);
  // And the second trip is byte for byte the first.
  EXPECT_EQ(IncidentToJson(*back).dump(), stored.dump());
}

TEST(IncidentJson, ResolvedIncidentRoundTrips) {
  Incident i = FullIncident();
  i.phase = Phase::kResolved;
  i.resolved_at = kT0 + minutes(42);
  i.resolution = "triggers clear for 30m";
  auto back = IncidentFromJson(IncidentToJson(i));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_FALSE(back->open());
  EXPECT_EQ(back->resolved_at, kT0 + minutes(42));
  EXPECT_EQ(back->resolution, "triggers clear for 30m");
}

TEST(IncidentJson, TheApiFieldsAreThere) {
  const json j = IncidentToJson(FullIncident());
  for (const char* key :
       {"id", "target", "phase", "opened_at", "triggers", "findings", "actions"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["phase"], "verify");
  EXPECT_EQ(j["opened_at"], "2026-11-27T00:00:00.123Z");
  EXPECT_TRUE(j["resolved_at"].is_null());
  EXPECT_EQ(j["actions"][0]["state"], "verified");
  EXPECT_EQ(j["actions"][0]["policy"], "auto");
}

// Each malformed document gives an error that names the field.
struct BadCase {
  const char* what;
  std::function<void(json&)> damage;
  const char* message;  // a substring of the error message
};

class IncidentJsonErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(IncidentJsonErrors, NameTheField) {
  json j = IncidentToJson(FullIncident());
  GetParam().damage(j);
  auto result = IncidentFromJson(j);
  ASSERT_FALSE(result.has_value()) << GetParam().what << " was accepted";
  EXPECT_EQ(result.error().code, core::ErrorCode::kParse);
  EXPECT_NE(result.error().message.find(GetParam().message), std::string::npos)
      << GetParam().what << ": " << result.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IncidentJsonErrors,
    ::testing::Values(
        BadCase{"missing id", [](json& j) { j.erase("id"); }, "id: missing"},
        BadCase{"missing target", [](json& j) { j.erase("target"); }, "target: missing"},
        BadCase{"missing phase", [](json& j) { j.erase("phase"); }, "phase: missing"},
        BadCase{"missing opened_at", [](json& j) { j.erase("opened_at"); }, "opened_at: missing"},
        BadCase{"id as a string", [](json& j) { j["id"] = "42"; },
                "id: expected an integer, found string"},
        BadCase{"id zero", [](json& j) { j["id"] = 0; }, "id: 0 is not a positive id"},
        BadCase{"target as a number", [](json& j) { j["target"] = 7; },
                "target: expected a string, found number"},
        BadCase{"unknown phase", [](json& j) { j["phase"] = "mitigating"; },
                "phase: unknown phase 'mitigating'"},
        BadCase{"bad time", [](json& j) { j["opened_at"] = "yesterday"; },
                "opened_at: 'yesterday' is not an RFC 3339 time"},
        BadCase{"impossible date", [](json& j) { j["opened_at"] = "2026-02-30T00:00:00Z"; },
                "opened_at: '2026-02-30T00:00:00Z' is not an RFC 3339 time"},
        BadCase{"triggers not a list", [](json& j) { j["triggers"] = "slow_queries"; },
                "triggers: expected a list of strings, found string"},
        BadCase{"a trigger not a string", [](json& j) { j["firing"] = json::array({1}); },
                "firing[0]: expected a string, found number"},
        BadCase{"action state unknown", [](json& j) { j["actions"][1]["state"] = "runing"; },
                "actions[1].state: unknown action state 'runing'"},
        BadCase{"action without key", [](json& j) { j["actions"][0].erase("key"); },
                "actions[0].key: missing"},
        BadCase{"action policy unknown", [](json& j) { j["actions"][0]["policy"] = "always"; },
                "actions[0].policy: unknown policy 'always'"},
        BadCase{"finding not an object", [](json& j) { j["findings"][0] = "lock.root_blocker"; },
                "findings[0]: expected an object, found string"},
        BadCase{"diagnosing not a bool", [](json& j) { j["diagnosing"] = "yes"; },
                "diagnosing: expected true or false, found string"},
        BadCase{"escalation_since time", [](json& j) { j["escalation_since"]["deadline"] = 5; },
                "escalation_since.deadline: expected an RFC 3339 time string"},
        BadCase{"negative relapses", [](json& j) { j["relapses"] = -1; },
                "relapses: -1 is out of range"},
        BadCase{"resolved without resolved_at", [](json& j) { j["phase"] = "resolved"; },
                "resolved_at: missing for a resolved incident"},
        BadCase{"not an object",
                [](json& j) {
                  j = json::array({1, 2});
                },
                "expected a JSON object, found array"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name = info.param.what;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(IncidentJson, TimeZonesAndFractionsAreRead) {
  json j = IncidentToJson(FullIncident());
  j["opened_at"] = "2026-11-27T02:00:00.5+02:00";
  auto back = IncidentFromJson(j);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->opened_at, kT0 + std::chrono::milliseconds(500));
}

TEST(Names, ParseWhatTheyPrint) {
  for (Phase p :
       {Phase::kAssess, Phase::kInvestigate, Phase::kMitigate, Phase::kVerify, Phase::kResolved}) {
    EXPECT_EQ(ParsePhase(PhaseName(p)), p);
  }
  for (ActionState s : {ActionState::kProposed, ActionState::kRunning, ActionState::kApplied,
                        ActionState::kVerified, ActionState::kFailed, ActionState::kRefused,
                        ActionState::kOff, ActionState::kBlocked, ActionState::kInterrupted}) {
    EXPECT_EQ(ParseActionState(ActionStateName(s)), s);
  }
  EXPECT_FALSE(ParsePhase("Assess").has_value());
  EXPECT_FALSE(ParseActionState("").has_value());
}

// ---- API contract points ------------------------------------------------------------

runbook::Runbook SlowQueryRunbook(runbook::Policy policy) {
  runbook::Runbook rb;
  runbook::TriggerSpec t;
  t.name = "slow_queries";
  t.signal = "longest_query_seconds";
  t.threshold = 5;
  t.severity = runbook::TriggerSeverity::kCritical;
  rb.triggers.push_back(t);
  runbook::MitigationPolicy m;
  m.action = "kill-queries";
  m.policy = policy;
  m.on = {"lock.root_blocker"};
  rb.mitigations.push_back(m);
  return rb;
}

SampleBatch Batch(const std::string& target, double longest, core::Duration at) {
  SampleBatch b;
  b.target = target;
  b.wall = kT0 + at;
  b.mono = core::MonoTime{} + at;
  b.values = {{"target_unreachable", 0}, {"longest_query_seconds", longest}};
  return b;
}

TEST(Engine, OperatorCommandsRejectWhatTheyCannotDo) {
  Engine engine(SlowQueryRunbook(runbook::Policy::kApprove), {"db1"}, 1);
  EXPECT_EQ(engine.Approve(1, "kill-queries", "alice", kT0).error().code,
            core::ErrorCode::kNotFound);
  engine.OnSamples(Batch("db1", 7, seconds(0)));
  ASSERT_EQ(engine.OpenIncidents().size(), 1u);
  // Nothing proposed yet (no diagnosis): the action is unknown to the incident.
  auto early = engine.Approve(1, "kill-queries", "alice", kT0);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(early.error().hint, "no action has been proposed in it yet");
  EXPECT_EQ(engine.Ack(1, "", kT0).error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine.Note(1, "alice", "  ", kT0).error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine.Resolve(9, "alice", "x", kT0).error().code, core::ErrorCode::kNotFound);
  // A rejected command leaves the incident as it was.
  const json before = IncidentToJson(*engine.Find(1));
  EXPECT_FALSE(engine.Approve(1, "failover", "alice", kT0).has_value());
  EXPECT_EQ(IncidentToJson(*engine.Find(1)), before);
}

TEST(Engine, UnknownTargetsAndKeysAreIgnored) {
  Engine engine(SlowQueryRunbook(runbook::Policy::kAuto), {"db1"}, 1);
  EXPECT_TRUE(engine.OnSamples(Batch("db9", 70, seconds(0))).events.empty());
  EXPECT_TRUE(engine.OnActionDone(ActionResult{7, "7:kill-queries:1"}).events.empty());
  EXPECT_TRUE(engine.OnDiagnoseDone(DiagnoseResult{7}).events.empty());
  ExternalAlert alert;
  alert.target = "db9";
  alert.name = "MySQLDown";
  EXPECT_TRUE(engine.OnAlert(alert).events.empty());
  EXPECT_TRUE(engine.OpenIncidents().empty());
}

TEST(Engine, TriggersListsEveryTargetAndAlert) {
  Engine engine(SlowQueryRunbook(runbook::Policy::kAuto), {"db1", "db2"}, 5);
  engine.OnSamples(Batch("db2", 9, seconds(0)));
  ExternalAlert alert;
  alert.target = "db1";
  alert.name = "DiskFull";
  engine.OnAlert(alert);
  const auto triggers = engine.Triggers();
  ASSERT_EQ(triggers.size(), 3u);
  EXPECT_EQ(triggers[0].target, "db1");
  EXPECT_EQ(triggers[0].trigger, "slow_queries");
  EXPECT_EQ(triggers[0].state, TriggerState::kInactive);
  EXPECT_EQ(triggers[1].trigger, "alert:DiskFull");
  EXPECT_EQ(triggers[1].state, TriggerState::kFiring);
  EXPECT_EQ(triggers[2].target, "db2");
  EXPECT_EQ(triggers[2].state, TriggerState::kFiring);
  EXPECT_EQ(triggers[2].value, 9);
  // Ids start at next_id.
  const auto open = engine.OpenIncidents();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0]->id, 5);
  EXPECT_EQ(open[0]->target, "db2");
  EXPECT_EQ(open[1]->id, 6);
}

TEST(Engine, RestoreResolvesTriggersNoLongerInTheRunbook) {
  Incident stored;
  stored.id = 3;
  stored.target = "db1";
  stored.phase = Phase::kMitigate;
  stored.opened_at = kT0;
  stored.triggers = {"old_trigger", "slow_queries"};
  stored.firing = {"old_trigger", "slow_queries"};
  Engine engine(SlowQueryRunbook(runbook::Policy::kAuto), {"db1"}, 1);
  Output out = engine.Restore({stored}, {}, kT0 + minutes(2));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, "trigger.resolved");
  EXPECT_EQ(out.events[0].text, "trigger old_trigger resolved: no longer in the runbook for db1");
  const Incident* incident = engine.Find(3);
  ASSERT_NE(incident, nullptr);
  EXPECT_EQ(incident->firing, std::set<std::string>{"slow_queries"});
  EXPECT_EQ(incident->phase, Phase::kMitigate);
  // slow_queries is restored as firing: a poll where it still holds changes nothing.
  EXPECT_TRUE(engine.OnSamples(Batch("db1", 9, minutes(3))).events.empty());
  // New incidents continue after the restored ids.
  engine.OnSamples(Batch("db1", 1, minutes(3) + seconds(1)));
  EXPECT_EQ(engine.Find(3)->phase, Phase::kVerify);
}

TEST(Engine, RestoreClosesASecondOpenIncidentOnOneTarget) {
  Incident a;
  a.id = 4;
  a.target = "db1";
  a.opened_at = kT0;
  a.firing = {"slow_queries"};
  Incident b = a;
  b.id = 9;
  Engine engine(SlowQueryRunbook(runbook::Policy::kAuto), {"db1"}, 1);
  Output out = engine.Restore({b, a}, {}, kT0 + minutes(1));
  ASSERT_EQ(engine.OpenIncidents().size(), 1u);
  EXPECT_EQ(engine.OpenIncidents()[0]->id, 4);
  ASSERT_NE(engine.Find(9), nullptr);
  EXPECT_FALSE(engine.Find(9)->open());
  EXPECT_EQ(engine.Find(9)->resolution, "closed at restore: incident 4 is open on db1");
  // Ids go on after the highest restored one.
  engine.OnSamples(Batch("db1", 1, minutes(2)));
  EXPECT_TRUE(engine.Resolve(4, "alice", "done", kT0 + minutes(2)).has_value());
  engine.OnSamples(Batch("db1", 9, minutes(10)));
  ASSERT_EQ(engine.OpenIncidents().size(), 1u);
  EXPECT_EQ(engine.OpenIncidents()[0]->id, 10);
}

TEST(Engine, ValuesThatAreNotNumbersChangeNothing) {
  Engine engine(SlowQueryRunbook(runbook::Policy::kAuto), {"db1"}, 1);
  for (double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_TRUE(engine.OnSamples(Batch("db1", bad, seconds(1))).events.empty());
  }
  EXPECT_TRUE(engine.OpenIncidents().empty());
  engine.OnSamples(Batch("db1", 9, seconds(2)));
  ASSERT_EQ(engine.OpenIncidents().size(), 1u);
  // A NaN while firing does not resolve it either.
  EXPECT_TRUE(engine.OnSamples(Batch("db1", std::numeric_limits<double>::quiet_NaN(), seconds(3)))
                  .events.empty());
  EXPECT_EQ(engine.Find(1)->phase, Phase::kAssess);
  // A result whose state is not an outcome is ignored.
  engine.OnDiagnoseDone(DiagnoseResult{1, true, "", {{"lock.root_blocker", "critical", ""}}});
  ASSERT_EQ(engine.Find(1)->actions.size(), 1u);
  EXPECT_TRUE(engine.OnActionDone(ActionResult{1, "1:kill-queries:1", ActionState::kProposed})
                  .events.empty());
  EXPECT_EQ(engine.Find(1)->actions[0].state, ActionState::kRunning);
}

// Many random inputs (a fixed seed: the same sequence every run), checking after each call
// what must always hold, and a restart through the JSON form now and then. Under the
// sanitizers of the Debug build this also shows that no input sequence crashes the engine.
TEST(Engine, RandomInputsKeepTheInvariants) {
  runbook::Runbook rb = SlowQueryRunbook(runbook::Policy::kAuto);
  rb.triggers[0].for_duration = seconds(3);
  rb.triggers[0].resolve_for = seconds(2);
  rb.triggers[0].resolve_threshold = 2;
  runbook::TriggerSpec down;
  down.name = "target_down";
  down.signal = "target_unreachable";
  down.op = runbook::Comparison::kEqual;
  down.threshold = 1;
  rb.triggers.push_back(down);
  rb.phases.verify_period = seconds(20);
  rb.mitigations.push_back({"tune", runbook::Policy::kApprove, {"config.small"}, seconds(30)});
  rb.escalation.push_back({"unavailable", runbook::EscalationWhen::kUnavailable, seconds(15)});
  rb.escalation.push_back(
      {"degraded", runbook::EscalationWhen::kDegradedAfterMitigation, seconds(5), "", "", 2});
  const std::vector<std::string> targets = {"db1", "db2", "db3"};
  auto engine = std::make_unique<Engine>(rb, targets, 1);
  std::mt19937 random(12345);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  std::map<int64_t, Incident> seen;
  std::set<ActionState> action_states;  // every state an action was seen in
  int64_t highest = 0;
  for (int step = 0; step < 20'000; ++step) {
    const core::Duration now = seconds(step / 4);
    const core::WallTime wall = kT0 + now;
    const std::string& target = targets[pick(3)];
    Output out;
    switch (pick(12)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        SampleBatch b = Batch(target, pick(10), now);
        if (pick(8) == 0) b.values = {{"target_unreachable", 1}};
        out = engine->OnSamples(b);
        break;
      }
      case 4:
        out = engine->OnTick(wall, core::MonoTime{} + now);
        break;
      case 5: {
        ExternalAlert alert;
        alert.target = target;
        alert.name = pick(2) == 0 ? "A" : "B";
        alert.firing = pick(2) == 0;
        alert.at = wall;
        out = engine->OnAlert(alert);
        break;
      }
      case 6: {
        DiagnoseResult r{1 + pick(static_cast<int>(highest) + 1), pick(5) != 0};
        if (pick(2) == 0) r.findings.push_back({"lock.root_blocker", "critical", ""});
        if (pick(2) == 0) r.findings.push_back({"config.small", "warning", ""});
        r.at = wall;
        out = engine->OnDiagnoseDone(r);
        break;
      }
      case 7: {
        const int64_t id = 1 + pick(static_cast<int>(highest) + 1);
        const Incident* incident = engine->Find(id);
        ActionResult r{id, "x"};
        if (incident != nullptr && !incident->actions.empty()) {
          r.key = incident->actions[pick(static_cast<int>(incident->actions.size()))].key;
        }
        const ActionState states[] = {ActionState::kApplied, ActionState::kVerified,
                                      ActionState::kFailed, ActionState::kRefused};
        r.state = states[pick(4)];
        r.at = wall;
        out = engine->OnActionDone(r);
        break;
      }
      case 8: {
        auto result = engine->Approve(1 + pick(static_cast<int>(highest) + 1),
                                      pick(2) == 0 ? "kill-queries" : "tune", "alice", wall);
        if (result) out = *result;
        break;
      }
      case 9: {
        auto result = engine->Resolve(1 + pick(static_cast<int>(highest) + 1), "bob", "x", wall);
        if (result) out = *result;
        break;
      }
      case 10: {
        auto result = engine->Ack(1 + pick(static_cast<int>(highest) + 1), "carol", wall);
        if (result) out = *result;
        break;
      }
      default: {
        if (pick(20) != 0) break;
        std::vector<Incident> open;
        for (const Incident* i : engine->OpenIncidents()) {
          auto back = IncidentFromJson(json::parse(IncidentToJson(*i).dump()));
          ASSERT_TRUE(back.has_value()) << back.error().ToString();
          open.push_back(*back);
        }
        engine = std::make_unique<Engine>(rb, targets, highest + 1);
        out = engine->Restore(open, {}, wall);
        break;
      }
    }
    for (int64_t id : out.changed) {
      const Incident* incident = engine->Find(id);
      ASSERT_NE(incident, nullptr) << "changed incident " << id << " is unknown";
      seen[id] = *incident;
      highest = std::max(highest, id);
      for (const IncidentAction& a : incident->actions) action_states.insert(a.state);
    }
    std::set<std::string> open_targets;
    for (const Incident* i : engine->OpenIncidents()) {
      ASSERT_TRUE(open_targets.insert(i->target).second)
          << "two open incidents on " << i->target << " at step " << step;
      if (i->phase == Phase::kVerify) {
        EXPECT_TRUE(i->firing.empty()) << "incident " << i->id << " in verify with firing triggers";
        EXPECT_TRUE(i->verify_started_at.has_value());
      }
      std::set<std::string> keys;
      std::set<std::string> actions;
      for (const IncidentAction& a : i->actions) {
        EXPECT_TRUE(keys.insert(a.key).second) << "key " << a.key << " twice";
        EXPECT_TRUE(actions.insert(a.action).second) << "action " << a.action << " twice";
        EXPECT_EQ(a.key, fmt::format("{}:{}:{}", i->id, a.action, a.generation));
      }
    }
    if (HasFailure()) return;
  }
  for (const auto& [id, incident] : seen) {
    if (!incident.open()) {
      EXPECT_TRUE(incident.resolved_at.has_value()) << id;
    }
  }
  // The walk went through the interesting paths (else it proves little).
  int by_verify = 0;
  int by_operator = 0;
  int relapses = 0;
  for (const auto& [id, incident] : seen) {
    by_verify += incident.resolution.rfind("triggers clear", 0) == 0 ? 1 : 0;
    by_operator += incident.resolution.rfind("resolved by", 0) == 0 ? 1 : 0;
    relapses += incident.relapses;
  }
  EXPECT_GT(highest, 10);
  EXPECT_GT(by_verify, 0);
  EXPECT_GT(by_operator, 0);
  EXPECT_GT(relapses, 0);
  EXPECT_GT(action_states.count(ActionState::kInterrupted), 0u);
  EXPECT_GT(action_states.count(ActionState::kVerified), 0u);
  EXPECT_GT(action_states.count(ActionState::kBlocked), 0u);
}

}  // namespace
}  // namespace dbrunbook::watch
