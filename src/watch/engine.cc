#include "watch/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <utility>

#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::watch {
namespace {

using core::MonoTime;
using core::WallTime;
using nlohmann::json;

constexpr size_t kResolvedKept = 1000;
constexpr std::string_view kAlertPrefix = "alert:";

// How long a value read less often than every poll still counts (three of its periods).
core::Duration Staleness(Cadence cadence) {
  switch (cadence) {
    case Cadence::kFast:
      return std::chrono::seconds(5);
    case Cadence::kSlow:
      return std::chrono::seconds(30);
    case Cadence::kCloud:
    case Cadence::kExternal:
      return std::chrono::seconds(180);
  }
  return std::chrono::seconds(5);
}

// "7.2", "5", "0.95": the shortest text that reads back as the same number.
std::string Number(double value) { return fmt::format("{}", value); }

// "5m", "1h30m", "45s", "1.5s", "250ms", "0s": compact, for timeline text.
std::string Short(core::Duration d) {
  if (d < core::Duration::zero()) return "-" + Short(-d);
  const int64_t total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (total_ms == 0) return "0s";
  if (total_ms < 1000) return fmt::format("{}ms", total_ms);
  const int64_t hours = total_ms / 3'600'000;
  const int64_t minutes = (total_ms / 60'000) % 60;
  const int64_t millis = total_ms % 60'000;
  std::string out;
  if (hours > 0) out += fmt::format("{}h", hours);
  if (minutes > 0) out += fmt::format("{}m", minutes);
  if (millis > 0) {
    out += millis % 1000 == 0 ? fmt::format("{}s", millis / 1000)
                              : fmt::format("{}s", static_cast<double>(millis) / 1000.0);
  }
  return out;
}

int SeverityRank(std::string_view severity) {
  if (severity == "critical") return 2;
  if (severity == "warning") return 1;
  return 0;
}

// Alerts from Alertmanager carry free-form severities ("page", "info", ...): only
// "critical" and "page" count as critical, anything else as a warning.
std::string AlertSeverity(std::string_view severity) {
  const std::string lower = core::ToLower(severity);
  return lower == "critical" || lower == "page" ? "critical" : "warning";
}

bool IsOrdering(runbook::Comparison op) {
  return op != runbook::Comparison::kEqual && op != runbook::Comparison::kNotEqual;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// How a trigger's condition reads in one batch.
enum class Holds { kTrue, kFalse, kKeep };

struct Evaluation {
  Holds holds = Holds::kFalse;
  std::optional<double> value;
  std::string absent_why;  // when the value is absent
};

struct TriggerRuntime {
  TriggerState state = TriggerState::kInactive;
  std::optional<MonoTime> pending_since;
  std::optional<MonoTime> clear_since;
  std::optional<double> value;
  std::string severity = "warning";  // alerts: from the alert
  // Firing alerts: when last received, and the end the sender gave.
  std::optional<WallTime> alert_seen;
  std::optional<WallTime> alert_ends;
};

struct SignalValue {
  double value = 0;
  MonoTime at{};
};

struct TargetRuntime {
  std::optional<bool> unreachable;  // unknown until the first server poll
  std::optional<WallTime> unreachable_since;
  std::string error;
  std::map<std::string, SignalValue> last;         // the latest value of each signal
  std::map<std::string, TriggerRuntime> triggers;  // runbook triggers and "alert:<name>"
};

enum class Change { kNone, kFired, kResolved };

// One step of the Prometheus-like state machine of a trigger.
Change Step(const runbook::TriggerSpec& spec, TriggerRuntime& rt, Holds holds, MonoTime mono) {
  switch (rt.state) {
    case TriggerState::kInactive:
      if (holds != Holds::kTrue) return Change::kNone;
      if (spec.for_duration <= core::Duration::zero()) {
        rt.state = TriggerState::kFiring;
        rt.clear_since.reset();
        return Change::kFired;
      }
      rt.state = TriggerState::kPending;
      rt.pending_since = mono;
      return Change::kNone;
    case TriggerState::kPending:
      if (holds == Holds::kKeep) return Change::kNone;
      if (holds == Holds::kFalse) {
        rt.state = TriggerState::kInactive;
        rt.pending_since.reset();
        return Change::kNone;
      }
      if (!rt.pending_since) rt.pending_since = mono;
      if (mono - *rt.pending_since < spec.for_duration) return Change::kNone;
      rt.state = TriggerState::kFiring;
      rt.pending_since.reset();
      rt.clear_since.reset();
      return Change::kFired;
    case TriggerState::kFiring:
      if (holds == Holds::kKeep) return Change::kNone;
      if (holds == Holds::kTrue) {
        rt.clear_since.reset();
        return Change::kNone;
      }
      if (!rt.clear_since) rt.clear_since = mono;
      if (mono - *rt.clear_since < spec.resolve_for) return Change::kNone;
      rt.state = TriggerState::kInactive;
      rt.clear_since.reset();
      return Change::kResolved;
  }
  return Change::kNone;
}

bool HoldsFor(const runbook::TriggerSpec& spec, const TriggerRuntime& rt, double value) {
  // Hysteresis: once firing, the condition is compared with resolve_threshold instead.
  if (rt.state == TriggerState::kFiring && spec.resolve_threshold && IsOrdering(spec.op)) {
    return runbook::Compare(value, spec.op, *spec.resolve_threshold);
  }
  return runbook::Compare(value, spec.op, spec.threshold);
}

Evaluation Evaluate(const runbook::TriggerSpec& spec, const TriggerRuntime& rt,
                    const TargetRuntime& target, const SampleBatch& batch) {
  auto value_eval = [&](double value) {
    return Evaluation{HoldsFor(spec, rt, value) ? Holds::kTrue : Holds::kFalse, value, {}};
  };
  if (auto it = batch.values.find(spec.signal); it != batch.values.end()) {
    if (!std::isfinite(it->second)) return Evaluation{Holds::kKeep, std::nullopt, "not a number"};
    return value_eval(it->second);
  }
  const SignalSpec* signal = FindSignal(spec.signal);
  const Cadence cadence = signal != nullptr ? signal->cadence : Cadence::kFast;
  const bool server_signal = cadence == Cadence::kFast || cadence == Cadence::kSlow;
  if (target.unreachable.value_or(false) && server_signal) {
    return Evaluation{Holds::kKeep, std::nullopt, "target unreachable"};
  }
  const bool server_poll = batch.values.count(std::string(kTargetUnreachable)) > 0;
  if (cadence == Cadence::kFast && server_poll) {
    return Evaluation{Holds::kFalse, std::nullopt, "absent from the poll"};
  }
  auto last = target.last.find(spec.signal);
  if (last == target.last.end()) return Evaluation{Holds::kFalse, std::nullopt, "no value yet"};
  if (batch.mono - last->second.at > Staleness(cadence)) {
    return Evaluation{Holds::kFalse, std::nullopt,
                      fmt::format("no value for {}", Short(batch.mono - last->second.at))};
  }
  return value_eval(last->second.value);
}

std::optional<WallTime> ParseRfc3339(std::string_view text) {
  auto t = core::ParseRfc3339(text);
  if (!t) return std::nullopt;
  return *t;
}

json TimeJson(const std::optional<WallTime>& t) {
  return t ? json(core::FormatRfc3339(*t)) : json(nullptr);
}

std::optional<runbook::Policy> ParsePolicy(std::string_view name) {
  for (runbook::Policy p :
       {runbook::Policy::kOff, runbook::Policy::kApprove, runbook::Policy::kAuto}) {
    if (runbook::PolicyName(p) == name) return p;
  }
  return std::nullopt;
}

// Reads typed fields of a JSON object, keeping the first error with the field's path.
class JsonReader {
 public:
  JsonReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::string Field(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  // nullptr when absent (or null) and !required; records an error when required.
  const json* Get(std::string_view key, bool required) {
    const auto it = object_.find(std::string(key));
    if (it == object_.end() || it->is_null()) {
      if (required) Fail(fmt::format("{}: missing", Field(key)));
      return nullptr;
    }
    return &*it;
  }

  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  void String(std::string_view key, std::string& out, bool required = false) {
    const json* v = Get(key, required);
    if (v == nullptr) return;
    if (!v->is_string())
      return Fail(fmt::format("{}: expected a string, found {}", Field(key), v->type_name()));
    out = v->get<std::string>();
  }

  void Int(std::string_view key, int64_t& out, bool required = false) {
    const json* v = Get(key, required);
    if (v == nullptr) return;
    if (!v->is_number_integer()) {
      return Fail(fmt::format("{}: expected an integer, found {}", Field(key), v->type_name()));
    }
    out = v->get<int64_t>();
  }

  void Int(std::string_view key, int& out) {
    int64_t wide = out;
    Int(key, wide);
    if (wide < 0 || wide > 1'000'000'000) {
      return Fail(fmt::format("{}: {} is out of range", Field(key), wide));
    }
    out = static_cast<int>(wide);
  }

  void Bool(std::string_view key, bool& out) {
    const json* v = Get(key, false);
    if (v == nullptr) return;
    if (!v->is_boolean()) {
      return Fail(fmt::format("{}: expected true or false, found {}", Field(key), v->type_name()));
    }
    out = v->get<bool>();
  }

  void Time(std::string_view key, WallTime& out, bool required = false) {
    std::optional<WallTime> t;
    Time(key, t, required);
    if (t) out = *t;
  }

  void Time(std::string_view key, std::optional<WallTime>& out, bool required = false) {
    const json* v = Get(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) {
      return Fail(fmt::format("{}: expected an RFC 3339 time string, found {}", Field(key),
                              v->type_name()));
    }
    auto t = ParseRfc3339(v->get_ref<const std::string&>());
    if (!t) {
      return Fail(fmt::format("{}: '{}' is not an RFC 3339 time (2026-11-27T06:35:11.000Z)",
                              Field(key), v->get<std::string>()));
    }
    out = *t;
  }

  // A list of strings, into any container with insert(end, value).
  template <typename Container>
  void Strings(std::string_view key, Container& out) {
    const json* v = Get(key, false);
    if (v == nullptr) return;
    if (!v->is_array()) {
      return Fail(
          fmt::format("{}: expected a list of strings, found {}", Field(key), v->type_name()));
    }
    for (size_t i = 0; i < v->size(); ++i) {
      const json& item = (*v)[i];
      if (!item.is_string()) {
        return Fail(
            fmt::format("{}[{}]: expected a string, found {}", Field(key), i, item.type_name()));
      }
      out.insert(out.end(), item.get<std::string>());
    }
  }

  // A list of objects; `each` reads one with its own reader.
  template <typename Fn>
  void Objects(std::string_view key, Fn each) {
    const json* v = Get(key, false);
    if (v == nullptr) return;
    if (!v->is_array()) {
      return Fail(fmt::format("{}: expected a list, found {}", Field(key), v->type_name()));
    }
    for (size_t i = 0; i < v->size() && ok(); ++i) {
      const json& item = (*v)[i];
      const std::string path = fmt::format("{}[{}]", Field(key), i);
      if (!item.is_object()) {
        return Fail(fmt::format("{}: expected an object, found {}", path, item.type_name()));
      }
      JsonReader reader(item, path);
      each(reader);
      if (!reader.ok()) Fail(reader.error());
    }
  }

 private:
  const json& object_;
  std::string path_;
  std::string error_;
};

}  // namespace

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kAssess:
      return "assess";
    case Phase::kInvestigate:
      return "investigate";
    case Phase::kMitigate:
      return "mitigate";
    case Phase::kVerify:
      return "verify";
    case Phase::kResolved:
      return "resolved";
  }
  return "assess";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase p :
       {Phase::kAssess, Phase::kInvestigate, Phase::kMitigate, Phase::kVerify, Phase::kResolved}) {
    if (PhaseName(p) == name) return p;
  }
  return std::nullopt;
}

std::string_view TriggerStateName(TriggerState state) {
  switch (state) {
    case TriggerState::kInactive:
      return "inactive";
    case TriggerState::kPending:
      return "pending";
    case TriggerState::kFiring:
      return "firing";
  }
  return "inactive";
}

std::string_view ActionStateName(ActionState state) {
  switch (state) {
    case ActionState::kProposed:
      return "proposed";
    case ActionState::kRunning:
      return "running";
    case ActionState::kApplied:
      return "applied";
    case ActionState::kVerified:
      return "verified";
    case ActionState::kFailed:
      return "failed";
    case ActionState::kRefused:
      return "refused";
    case ActionState::kOff:
      return "off";
    case ActionState::kBlocked:
      return "blocked";
    case ActionState::kInterrupted:
      return "interrupted";
  }
  return "proposed";
}

std::optional<ActionState> ParseActionState(std::string_view name) {
  for (ActionState s : {ActionState::kProposed, ActionState::kRunning, ActionState::kApplied,
                        ActionState::kVerified, ActionState::kFailed, ActionState::kRefused,
                        ActionState::kOff, ActionState::kBlocked, ActionState::kInterrupted}) {
    if (ActionStateName(s) == name) return s;
  }
  return std::nullopt;
}

void Output::Append(Output other) {
  for (Event& e : other.events) events.push_back(std::move(e));
  for (Effect& e : other.effects) effects.push_back(std::move(e));
  for (int64_t id : other.changed) {
    if (std::find(changed.begin(), changed.end(), id) == changed.end()) changed.push_back(id);
  }
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

nlohmann::json IncidentToJson(const Incident& incident) {
  json findings = json::array();
  for (const FindingRef& f : incident.findings) {
    findings.push_back({{"code", f.code}, {"severity", f.severity}, {"title", f.title}});
  }
  json actions = json::array();
  for (const IncidentAction& a : incident.actions) {
    actions.push_back({{"action", a.action},
                       {"key", a.key},
                       {"generation", a.generation},
                       {"policy", std::string(runbook::PolicyName(a.policy))},
                       {"state", std::string(ActionStateName(a.state))},
                       {"reason", a.reason},
                       {"detail", a.detail},
                       {"run_id", a.run_id},
                       {"approved_by", a.approved_by},
                       {"updated_at", core::FormatRfc3339(a.updated_at)}});
  }
  json since = json::object();
  for (const auto& [rule, at] : incident.escalation_since) since[rule] = core::FormatRfc3339(at);
  return json{{"id", incident.id},
              {"target", incident.target},
              {"phase", std::string(PhaseName(incident.phase))},
              {"severity", incident.severity},
              {"opened_at", core::FormatRfc3339(incident.opened_at)},
              {"verify_started_at", TimeJson(incident.verify_started_at)},
              {"resolved_at", TimeJson(incident.resolved_at)},
              {"triggers", incident.triggers},
              {"firing", incident.firing},
              {"findings", findings},
              {"actions", actions},
              {"escalation_level", incident.escalation_level},
              {"escalations_fired", incident.escalations_fired},
              {"escalation_since", since},
              {"deadlines_missed", incident.deadlines_missed},
              {"relapses", incident.relapses},
              {"diagnoses", incident.diagnoses},
              {"diagnosing", incident.diagnosing},
              {"acked_by", incident.acked_by},
              {"resolution", incident.resolution},
              {"prevention", incident.prevention}};
}

core::Result<Incident> IncidentFromJson(const nlohmann::json& document) {
  try {
    if (!document.is_object()) {
      return core::MakeError(
          core::ErrorCode::kParse,
          fmt::format("incident: expected a JSON object, found {}", document.type_name()));
    }
    Incident incident;
    JsonReader r(document, "");
    r.Int("id", incident.id, true);
    if (r.ok() && incident.id <= 0) r.Fail(fmt::format("id: {} is not a positive id", incident.id));
    r.String("target", incident.target, true);
    if (r.ok() && incident.target.empty()) r.Fail("target: empty");
    std::string phase;
    r.String("phase", phase, true);
    if (r.ok()) {
      auto parsed = ParsePhase(phase);
      if (!parsed) {
        r.Fail(fmt::format(
            "phase: unknown phase '{}' (expected assess, investigate, mitigate, verify or "
            "resolved)",
            phase));
      } else {
        incident.phase = *parsed;
      }
    }
    r.String("severity", incident.severity);
    r.Time("opened_at", incident.opened_at, true);
    r.Time("verify_started_at", incident.verify_started_at);
    r.Time("resolved_at", incident.resolved_at);
    r.Strings("triggers", incident.triggers);
    r.Strings("firing", incident.firing);
    r.Objects("findings", [&](JsonReader& f) {
      FindingRef finding;
      f.String("code", finding.code, true);
      f.String("severity", finding.severity);
      f.String("title", finding.title);
      incident.findings.push_back(std::move(finding));
    });
    r.Objects("actions", [&](JsonReader& a) {
      IncidentAction action;
      a.String("action", action.action, true);
      a.String("key", action.key, true);
      a.Int("generation", action.generation);
      std::string policy;
      a.String("policy", policy);
      if (a.ok() && !policy.empty()) {
        auto parsed = ParsePolicy(policy);
        if (!parsed) {
          a.Fail(fmt::format("{}: unknown policy '{}' (expected off, approve or auto)",
                             a.Field("policy"), policy));
        } else {
          action.policy = *parsed;
        }
      }
      std::string state;
      a.String("state", state, true);
      if (a.ok()) {
        auto parsed = ParseActionState(state);
        if (!parsed) {
          a.Fail(fmt::format("{}: unknown action state '{}'", a.Field("state"), state));
        } else {
          action.state = *parsed;
        }
      }
      a.String("reason", action.reason);
      a.String("detail", action.detail);
      a.String("run_id", action.run_id);
      a.String("approved_by", action.approved_by);
      a.Time("updated_at", action.updated_at);
      incident.actions.push_back(std::move(action));
    });
    int level = 0;
    r.Int("escalation_level", level);
    incident.escalation_level = level;
    r.Strings("escalations_fired", incident.escalations_fired);
    if (const json* since = r.Get("escalation_since", false); since != nullptr) {
      if (!since->is_object()) {
        r.Fail(fmt::format("escalation_since: expected an object, found {}", since->type_name()));
      } else {
        JsonReader s(*since, "escalation_since");
        for (const auto& [rule, value] : since->items()) {
          WallTime at{};
          s.Time(rule, at, true);
          incident.escalation_since[rule] = at;
        }
        if (!s.ok()) r.Fail(s.error());
      }
    }
    r.Strings("deadlines_missed", incident.deadlines_missed);
    r.Int("relapses", incident.relapses);
    r.Int("diagnoses", incident.diagnoses);
    r.Bool("diagnosing", incident.diagnosing);
    r.String("acked_by", incident.acked_by);
    r.String("resolution", incident.resolution);
    r.Strings("prevention", incident.prevention);
    if (r.ok() && incident.phase == Phase::kResolved && !incident.resolved_at) {
      r.Fail("resolved_at: missing for a resolved incident");
    }
    if (!r.ok()) {
      return core::MakeError(
          core::ErrorCode::kParse,
          fmt::format("incident {}: {}", incident.id > 0 ? std::to_string(incident.id) : "?",
                      r.error()),
          "the stored incident is damaged; repair or delete it in the store");
    }
    return incident;
  } catch (const nlohmann::json::exception& e) {
    return core::MakeError(core::ErrorCode::kParse, fmt::format("incident: {}", e.what()));
  }
}

// ---------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------

struct Engine::State {
  runbook::Runbook runbook;
  std::vector<std::string> targets;
  int64_t next_id = 1;
  core::Duration alert_ttl = kDefaultAlertTtl;
  std::map<std::string, TargetRuntime> target_state;
  std::map<int64_t, Incident> open;
  std::deque<Incident> resolved;  // the most recent last
  std::map<std::string, std::map<std::string, WallTime>> last_applied;

  static void Changed(Output& out, int64_t id) {
    if (std::find(out.changed.begin(), out.changed.end(), id) == out.changed.end()) {
      out.changed.push_back(id);
    }
  }

  static void Emit(Output& out, const Incident& incident, WallTime at, std::string kind,
                   std::string text, json data = json::object()) {
    out.events.push_back(Event{incident.id, at, std::move(kind), std::move(text), std::move(data)});
    Changed(out, incident.id);
  }

  Incident* OpenFor(std::string_view target) {
    for (auto& [id, incident] : open) {
      if (incident.target == target) return &incident;
    }
    return nullptr;
  }

  Incident* FindOpen(int64_t id) {
    auto it = open.find(id);
    return it == open.end() ? nullptr : &it->second;
  }

  Incident* FindAny(int64_t id) {
    if (Incident* incident = FindOpen(id)) return incident;
    for (Incident& incident : resolved) {
      if (incident.id == id) return &incident;
    }
    return nullptr;
  }

  void SetPhase(Output& out, Incident& incident, Phase phase, WallTime at, std::string_view why) {
    if (incident.phase == phase) return;
    const Phase from = incident.phase;
    incident.phase = phase;
    Emit(out, incident, at, "phase",
         fmt::format("{} -> {}: {}", PhaseName(from), PhaseName(phase), why),
         {{"from", std::string(PhaseName(from))}, {"to", std::string(PhaseName(phase))}});
  }

  void Diagnose(Output& out, Incident& incident) {
    if (incident.diagnosing) return;
    incident.diagnosing = true;
    Changed(out, incident.id);
    out.effects.push_back(Effect{EffectKind::kDiagnose, incident.id, incident.target});
  }

  // Moves a finished incident out of the open set (kept among the recent ones).
  void Close(Incident& incident) {
    const int64_t id = incident.id;
    resolved.push_back(std::move(incident));
    open.erase(id);
    while (resolved.size() > kResolvedKept) resolved.pop_front();
  }

  void TriggerFired(Output& out, const std::string& target, const std::string& trigger,
                    const std::string& severity, const std::string& text, json data, WallTime at) {
    Incident* incident = OpenFor(target);
    const bool opening = incident == nullptr;
    if (opening) {
      Incident fresh;
      fresh.id = next_id++;
      fresh.target = target;
      fresh.phase = Phase::kAssess;
      fresh.severity = severity;
      fresh.opened_at = at;
      incident = &open.emplace(fresh.id, std::move(fresh)).first->second;
      Emit(out, *incident, at, "opened",
           fmt::format("incident {} opened on {} by {} ({})", incident->id, target, trigger,
                       severity),
           {{"trigger", trigger}, {"severity", severity}});
    }
    if (std::find(incident->triggers.begin(), incident->triggers.end(), trigger) ==
        incident->triggers.end()) {
      incident->triggers.push_back(trigger);
    }
    incident->firing.insert(trigger);
    std::string full = text;
    if (SeverityRank(severity) > SeverityRank(incident->severity)) {
      incident->severity = severity;
      full += fmt::format(" (incident severity raised to {})", severity);
    }
    data["severity"] = severity;
    Emit(out, *incident, at, "trigger.firing", full, std::move(data));
    if (opening) {
      Diagnose(out, *incident);
    } else if (incident->phase == Phase::kVerify) {
      ++incident->relapses;
      incident->verify_started_at.reset();
      Emit(out, *incident, at, "relapse",
           fmt::format("{} firing again during verify (relapse {}): back to investigate", trigger,
                       incident->relapses),
           {{"trigger", trigger}, {"relapses", incident->relapses}});
      SetPhase(out, *incident, Phase::kInvestigate, at, "relapse");
      Diagnose(out, *incident);
    }
  }

  void TriggerResolved(Output& out, const std::string& target, const std::string& trigger,
                       const std::string& text, json data, WallTime at) {
    Incident* incident = OpenFor(target);
    if (incident == nullptr || incident->firing.erase(trigger) == 0) return;
    Emit(out, *incident, at, "trigger.resolved", text, std::move(data));
    if (incident->firing.empty() && incident->phase < Phase::kVerify) {
      incident->verify_started_at = at;
      SetPhase(
          out, *incident, Phase::kVerify, at,
          fmt::format("every trigger clear; watching for {}", Short(runbook.phases.verify_period)));
    }
  }

  // ---- mitigations -----------------------------------------------------------------

  static IncidentAction* FindAction(Incident& incident, std::string_view action) {
    for (IncidentAction& a : incident.actions) {
      if (a.action == action) return &a;
    }
    return nullptr;
  }

  void StartAction(Output& out, Incident& incident, IncidentAction& action,
                   const runbook::MitigationPolicy* policy, WallTime at, std::string_view why) {
    action.state = ActionState::kRunning;
    action.updated_at = at;
    Emit(out, incident, at, "action.running",
         fmt::format("{} running ({}), key {}", action.action, why, action.key),
         {{"action", action.action}, {"key", action.key}, {"generation", action.generation}});
    Effect effect{EffectKind::kApplyAction, incident.id, incident.target};
    effect.action = action.action;
    effect.key = action.key;
    if (policy != nullptr) effect.params = policy->params;
    out.effects.push_back(std::move(effect));
  }

  static std::string Key(int64_t id, std::string_view action, int generation) {
    return fmt::format("{}:{}:{}", id, action, generation);
  }

  // The entries of `m.on` that hold for the incident now: its findings' codes (in finding
  // order; not with `conditions_only`), then trigger.NAME while NAME fires in it and
  // target.unavailable once the target has been unreachable for `m.after`.
  std::vector<std::string> Matches(const runbook::MitigationPolicy& m, const Incident& incident,
                                   WallTime at, bool conditions_only) const {
    std::vector<std::string> out;
    if (!conditions_only) {
      for (const FindingRef& f : incident.findings) {
        if (std::find(m.on.begin(), m.on.end(), f.code) != m.on.end() &&
            std::find(out.begin(), out.end(), f.code) == out.end()) {
          out.push_back(f.code);
        }
      }
    }
    for (const std::string& on : m.on) {
      if (on.starts_with(runbook::kOnTriggerPrefix)) {
        if (incident.firing.count(on.substr(runbook::kOnTriggerPrefix.size())) > 0) {
          out.push_back(on);
        }
      } else if (on == runbook::kOnTargetUnavailable) {
        const auto it = target_state.find(incident.target);
        if (it != target_state.end() && it->second.unreachable.value_or(false) &&
            it->second.unreachable_since && at - *it->second.unreachable_since >= m.after) {
          out.push_back(on);
        }
      }
    }
    return out;
  }

  // Proposes the conditions' mitigations (trigger.NAME, target.unavailable) of an incident
  // whose first diagnosis is over (it may have failed: a target that cannot be reached), outside
  // verify; moves it to mitigate when one now waits or runs.
  void ProposeOnConditions(Output& out, Incident& incident, WallTime at) {
    if (!incident.open() || incident.diagnoses == 0 || incident.diagnosing ||
        incident.phase >= Phase::kVerify) {
      return;
    }
    if (ProposeMitigations(out, incident, at, /*conditions_only=*/true) &&
        incident.phase < Phase::kMitigate) {
      SetPhase(out, incident, Phase::kMitigate, at, "mitigation proposed");
    }
  }

  // Proposes the runbook's mitigations for what holds in the incident (Matches); true when one
  // is now waiting for approval or running.
  bool ProposeMitigations(Output& out, Incident& incident, WallTime at,
                          bool conditions_only = false) {
    bool proposed = false;
    for (const runbook::MitigationPolicy& m : runbook.mitigations) {
      const std::vector<std::string> codes = Matches(m, incident, at, conditions_only);
      if (codes.empty()) continue;
      const std::string reason = Join(codes, ", ");
      IncidentAction* existing = FindAction(incident, m.action);
      // Each action at most once per incident; a blocked one is looked at again.
      if (existing != nullptr && existing->state != ActionState::kBlocked) continue;
      json data = {{"action", m.action},
                   {"findings", codes},
                   {"policy", std::string(runbook::PolicyName(m.policy))}};
      if (m.policy == runbook::Policy::kOff) {
        IncidentAction off{m.action, Key(incident.id, m.action, 1), 1, m.policy, ActionState::kOff,
                           reason};
        off.updated_at = at;
        incident.actions.push_back(std::move(off));
        Emit(out, incident, at, "action.off",
             fmt::format("{} not proposed: policy off ({})", m.action, reason), std::move(data));
        continue;
      }
      if (auto target_it = last_applied.find(incident.target); target_it != last_applied.end()) {
        if (auto it = target_it->second.find(m.action);
            it != target_it->second.end() && at - it->second < m.block) {
          if (existing != nullptr) continue;  // still blocked, already on the timeline
          IncidentAction blocked{m.action,
                                 Key(incident.id, m.action, 1),
                                 1,
                                 m.policy,
                                 ActionState::kBlocked,
                                 fmt::format("applied on {} {} ago; block {}", incident.target,
                                             Short(at - it->second), Short(m.block))};
          blocked.updated_at = at;
          Emit(out, incident, at, "action.blocked",
               fmt::format("{} blocked ({}): {} (anti-flapping)", m.action, reason, blocked.reason),
               std::move(data));
          incident.actions.push_back(std::move(blocked));
          continue;
        }
      }
      IncidentAction* action = existing;
      if (action == nullptr) {
        incident.actions.push_back(
            IncidentAction{m.action, Key(incident.id, m.action, 1), 1, m.policy});
        action = &incident.actions.back();
      }
      action->policy = m.policy;
      action->reason = reason;
      action->updated_at = at;
      proposed = true;
      if (m.policy == runbook::Policy::kAuto) {
        StartAction(out, incident, *action, &m, at, fmt::format("policy auto, {}", reason));
      } else {
        action->state = ActionState::kProposed;
        data["key"] = action->key;
        Emit(out, incident, at, "action.proposed",
             fmt::format("{} proposed ({}): waiting for approval (dbrunbook incident approve {} "
                         "{})",
                         m.action, reason, incident.id, m.action),
             std::move(data));
      }
    }
    return proposed;
  }

  // ---- escalation --------------------------------------------------------------------

  struct Condition {
    std::optional<bool> holds;  // nullopt: unknown now (keep the clock as it is)
    std::optional<WallTime> since;
    std::string reason;
  };

  core::Duration Deadline(std::string_view phase) const {
    if (phase == "assess") return runbook.phases.assess_deadline;
    if (phase == "investigate") return runbook.phases.investigate_deadline;
    return runbook.phases.mitigate_deadline;
  }

  Condition Evaluate(const runbook::EscalationRule& rule, const Incident& incident) const {
    const auto target_it = target_state.find(incident.target);
    const TargetRuntime* target = target_it == target_state.end() ? nullptr : &target_it->second;
    switch (rule.when) {
      case runbook::EscalationWhen::kUnavailable:
        if (target == nullptr || !target->unreachable) return Condition{};
        if (!*target->unreachable) return Condition{false};
        return Condition{true, target->unreachable_since,
                         target->error.empty()
                             ? std::string("target unreachable")
                             : fmt::format("target unreachable: {}", target->error)};
      case runbook::EscalationWhen::kCorruptionSuspected:
        for (const FindingRef& f : incident.findings) {
          if (f.code.rfind("corruption.", 0) == 0) {
            return Condition{true, std::nullopt, fmt::format("finding {}", f.code)};
          }
        }
        return Condition{false};
      case runbook::EscalationWhen::kReplicationFailed: {
        for (const FindingRef& f : incident.findings) {
          if (f.code == "replication.broken" || f.code == "replication.stopped") {
            return Condition{true, std::nullopt, fmt::format("finding {}", f.code)};
          }
        }
        if (target != nullptr && !target->unreachable.value_or(false)) {
          auto it = target->last.find("replication_running");
          if (it != target->last.end() && it->second.value == 0) {
            return Condition{true, std::nullopt, "replication_running = 0"};
          }
        }
        if (target != nullptr && target->unreachable.value_or(false)) return Condition{};
        return Condition{false};
      }
      case runbook::EscalationWhen::kDegradedAfterMitigation: {
        const bool verified =
            std::any_of(incident.actions.begin(), incident.actions.end(),
                        [](const IncidentAction& a) { return a.state == ActionState::kVerified; });
        if (!verified || incident.firing.empty()) return Condition{false};
        std::vector<std::string> firing(incident.firing.begin(), incident.firing.end());
        return Condition{
            true, std::nullopt,
            fmt::format("mitigation verified but still firing: {}", Join(firing, ", "))};
      }
      case runbook::EscalationWhen::kDeadlineMissed:
        if (incident.deadlines_missed.count(rule.phase) == 0) return Condition{false};
        return Condition{true, incident.opened_at + Deadline(rule.phase),
                         fmt::format("deadline for {} missed", rule.phase)};
      case runbook::EscalationWhen::kTriggerFiring:
        if (incident.firing.count(rule.trigger) == 0) return Condition{false};
        return Condition{true, std::nullopt, fmt::format("{} firing", rule.trigger)};
    }
    return Condition{false};
  }

  void CheckEscalations(Output& out, Incident& incident, WallTime now) {
    if (!incident.open()) return;
    for (const runbook::EscalationRule& rule : runbook.escalation) {
      if (incident.escalations_fired.count(rule.name) > 0) continue;
      const Condition c = Evaluate(rule, incident);
      if (!c.holds) continue;
      if (!*c.holds) {
        if (incident.escalation_since.erase(rule.name) > 0) Changed(out, incident.id);
        continue;
      }
      auto [it, inserted] = incident.escalation_since.emplace(rule.name, c.since.value_or(now));
      if (inserted) Changed(out, incident.id);
      const core::Duration lasted = now - it->second;
      if (lasted < rule.after) continue;
      Escalate(out, incident, rule,
               rule.after > core::Duration::zero()
                   ? fmt::format("{} for {}", c.reason, Short(lasted))
                   : c.reason,
               now);
    }
  }

  void Escalate(Output& out, Incident& incident, const runbook::EscalationRule& rule,
                const std::string& reason, WallTime at) {
    incident.escalations_fired.insert(rule.name);
    incident.escalation_level = std::max(incident.escalation_level, rule.level);
    std::vector<std::string> names;
    std::vector<std::string> shown;
    for (const runbook::Contact* contact : runbook.ContactsAt(rule.level)) {
      names.push_back(contact->name);
      shown.push_back(contact->role.empty() ? contact->name : contact->role);
    }
    const std::string who =
        shown.empty() ? fmt::format("no contacts at level {}", rule.level) : Join(shown, ", ");
    Emit(out, incident, at, "escalated",
         fmt::format("escalated to level {} ({}): {} — {}", rule.level, rule.name, who, reason),
         {{"level", rule.level},
          {"rule", rule.name},
          {"when", std::string(runbook::EscalationWhenName(rule.when))},
          {"contacts", names},
          {"reason", reason}});
    Effect effect{EffectKind::kEscalate, incident.id, incident.target};
    effect.level = rule.level;
    effect.rule = rule.name;
    effect.contacts = names;
    effect.reason = reason;
    out.effects.push_back(std::move(effect));
  }

  // ---- time --------------------------------------------------------------------------

  void CheckDeadlines(Output& out, Incident& incident, WallTime now) {
    for (Phase phase : {Phase::kAssess, Phase::kInvestigate, Phase::kMitigate}) {
      const std::string name(PhaseName(phase));
      if (incident.phase > phase || incident.deadlines_missed.count(name) > 0) continue;
      const core::Duration deadline = Deadline(name);
      if (now - incident.opened_at < deadline) continue;
      incident.deadlines_missed.insert(name);
      Emit(out, incident, now, "deadline.missed",
           fmt::format("deadline for {} ({}) missed: the incident is in {}", name, Short(deadline),
                       PhaseName(incident.phase)),
           {{"phase", name}, {"deadline_seconds", core::ToSeconds(deadline)}});
    }
  }

  void Finish(Output& out, Incident& incident, WallTime at, const std::string& resolution,
              const std::string& text) {
    incident.phase = Phase::kResolved;
    incident.resolved_at = at;
    incident.resolution = resolution;
    incident.diagnosing = false;
    incident.prevention = runbook.prevention;
    json data = {{"duration_seconds", core::ToSeconds(at - incident.opened_at)},
                 {"prevention", incident.prevention}};
    Emit(out, incident, at, "resolved",
         incident.prevention.empty()
             ? text
             : fmt::format("{}; prevention checklist attached ({})", text,
                           core::CountOf(static_cast<int64_t>(incident.prevention.size()), "item",
                                         "items")),
         std::move(data));
    Close(incident);
  }
};

Engine::Engine(runbook::Runbook runbook, std::vector<std::string> targets, int64_t next_id,
               core::Duration alert_ttl)
    : state_(std::make_unique<State>()) {
  state_->alert_ttl = alert_ttl;
  state_->runbook = std::move(runbook);
  state_->targets = std::move(targets);
  state_->next_id = std::max<int64_t>(1, next_id);
  for (const std::string& target : state_->targets) state_->target_state[target];
}

Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

const runbook::Runbook& Engine::runbook() const { return state_->runbook; }

Output Engine::Restore(std::vector<Incident> open_incidents,
                       const std::map<std::string, std::map<std::string, WallTime>>& last_applied,
                       WallTime now) {
  State& s = *state_;
  Output out;
  for (const auto& [target, actions] : last_applied) {
    for (const auto& [action, at] : actions) {
      WallTime& slot = s.last_applied[target][action];
      slot = std::max(slot, at);
    }
  }
  std::sort(open_incidents.begin(), open_incidents.end(),
            [](const Incident& a, const Incident& b) { return a.id < b.id; });
  for (Incident& incident : open_incidents) {
    s.next_id = std::max(s.next_id, incident.id + 1);
    if (!incident.open() || s.FindAny(incident.id) != nullptr) continue;
    if (Incident* other = s.OpenFor(incident.target)) {
      // The store had two open incidents on one target: keep the older one.
      const int64_t keep = other->id;
      Incident& dup = s.open.emplace(incident.id, std::move(incident)).first->second;
      s.Finish(
          out, dup, now,
          fmt::format("closed at restore: incident {} is open on {}", keep, dup.target),
          fmt::format("closed at restore: incident {} is already open on {}", keep, dup.target));
      continue;
    }
    Incident& restored = s.open.emplace(incident.id, std::move(incident)).first->second;
    for (IncidentAction& action : restored.actions) {
      if (action.state != ActionState::kRunning) continue;
      action.state = ActionState::kInterrupted;
      action.updated_at = now;
      // It may have been applied: count it for the anti-flapping block.
      WallTime& slot = s.last_applied[restored.target][action.action];
      slot = std::max(slot, now);
      State::Emit(out, restored, now, "action.interrupted",
                  fmt::format("{} (key {}) was running when the daemon stopped; it may or may "
                              "not have been applied and is not repeated (approve it again to "
                              "retry)",
                              action.action, action.key),
                  {{"action", action.action}, {"key", action.key}});
    }
    // Triggers firing at the stop are firing again (like Prometheus's restored alert state)
    // so a condition that still holds does not open a second incident or repeat the event.
    // A trigger taken out of the runbook (or off this target) since would never be evaluated
    // again and would keep the incident open for ever: it counts as resolved.
    TargetRuntime& target = s.target_state[restored.target];
    const std::set<std::string> firing = restored.firing;
    for (const std::string& trigger : firing) {
      const bool alert = trigger.rfind(kAlertPrefix, 0) == 0;
      const runbook::TriggerSpec* spec = s.runbook.FindTrigger(trigger);
      if (!alert && (spec == nullptr || !spec->AppliesTo(restored.target))) {
        s.TriggerResolved(out, restored.target, trigger,
                          fmt::format("trigger {} resolved: no longer in the runbook for {}",
                                      trigger, restored.target),
                          {{"trigger", trigger}}, now);
        continue;
      }
      TriggerRuntime& rt = target.triggers[trigger];
      rt.state = TriggerState::kFiring;
      if (alert) {
        rt.severity = restored.severity;
        // When it was last received is not stored: its TTL starts over at the restart.
        rt.alert_seen = now;
      }
    }
    // A diagnosis in flight was lost with the process; it only reads, so it runs again.
    if (restored.diagnosing) {
      restored.diagnosing = false;
      s.Diagnose(out, restored);
    }
  }
  return out;
}

Output Engine::OnSamples(const SampleBatch& batch) {
  State& s = *state_;
  Output out;
  auto target_it = s.target_state.find(batch.target);
  if (target_it == s.target_state.end() ||
      std::find(s.targets.begin(), s.targets.end(), batch.target) == s.targets.end()) {
    return out;  // not a configured target
  }
  TargetRuntime& target = target_it->second;
  if (auto it = batch.values.find(std::string(kTargetUnreachable)); it != batch.values.end()) {
    const bool down = it->second >= 0.5;
    if (down && !target.unreachable.value_or(false)) target.unreachable_since = batch.wall;
    if (!down) target.unreachable_since.reset();
    target.unreachable = down;
    target.error = down ? batch.error : std::string();
  }
  for (const auto& [name, value] : batch.values) {
    if (std::isfinite(value)) target.last[name] = SignalValue{value, batch.mono};
  }

  struct Transition {
    const runbook::TriggerSpec* spec;
    Evaluation eval;
  };
  std::vector<Transition> fired;
  std::vector<Transition> resolved;
  for (const runbook::TriggerSpec& spec : s.runbook.triggers) {
    if (!spec.AppliesTo(batch.target)) continue;
    TriggerRuntime& rt = target.triggers[spec.name];
    rt.severity = std::string(runbook::TriggerSeverityName(spec.severity));
    Evaluation eval = Evaluate(spec, rt, target, batch);
    if (eval.value) rt.value = eval.value;
    switch (Step(spec, rt, eval.holds, batch.mono)) {
      case Change::kFired:
        fired.push_back(Transition{&spec, std::move(eval)});
        break;
      case Change::kResolved:
        resolved.push_back(Transition{&spec, std::move(eval)});
        break;
      case Change::kNone:
        break;
    }
  }
  // Firings first: a trigger that starts firing in the batch where another clears keeps the
  // incident out of verify.
  for (const Transition& t : fired) {
    const runbook::TriggerSpec& spec = *t.spec;
    std::string text = fmt::format("trigger {} firing: {} = {} {} {}", spec.name, spec.signal,
                                   Number(t.eval.value.value_or(0)),
                                   runbook::ComparisonText(spec.op), Number(spec.threshold));
    if (spec.for_duration > core::Duration::zero()) {
      text += fmt::format(" for {}", Short(spec.for_duration));
    }
    if (spec.signal == kTargetUnreachable && !batch.error.empty()) {
      text += fmt::format(" ({})", batch.error);
    } else if (auto c = batch.context.find(spec.signal); c != batch.context.end()) {
      text += fmt::format(" ({})", c->second);
    }
    json data = {{"trigger", spec.name},
                 {"signal", spec.signal},
                 {"value", t.eval.value.value_or(0)},
                 {"op", std::string(runbook::ComparisonText(spec.op))},
                 {"threshold", spec.threshold}};
    s.TriggerFired(out, batch.target, spec.name,
                   std::string(runbook::TriggerSeverityName(spec.severity)), text, std::move(data),
                   batch.wall);
  }
  for (const Transition& t : resolved) {
    const runbook::TriggerSpec& spec = *t.spec;
    std::string text = t.eval.value ? fmt::format("trigger {} resolved: {} = {}", spec.name,
                                                  spec.signal, Number(*t.eval.value))
                                    : fmt::format("trigger {} resolved: {} {}", spec.name,
                                                  spec.signal, t.eval.absent_why);
    if (spec.resolve_for > core::Duration::zero()) {
      text += fmt::format(" (clear for {})", Short(spec.resolve_for));
    }
    json data = {{"trigger", spec.name}, {"signal", spec.signal}};
    if (t.eval.value) data["value"] = *t.eval.value;
    s.TriggerResolved(out, batch.target, spec.name, text, std::move(data), batch.wall);
  }
  if (Incident* incident = s.OpenFor(batch.target)) {
    s.ProposeOnConditions(out, *incident, batch.wall);
    s.CheckEscalations(out, *incident, batch.wall);
  }
  return out;
}

Output Engine::OnAlert(const ExternalAlert& alert) {
  State& s = *state_;
  Output out;
  auto target_it = s.target_state.find(alert.target);
  if (target_it == s.target_state.end() || alert.name.empty()) return out;
  const std::string trigger = fmt::format("{}{}", kAlertPrefix, alert.name);
  TriggerRuntime& rt = target_it->second.triggers[trigger];
  const std::string severity = AlertSeverity(alert.severity);
  const std::string summary = alert.summary.empty() ? "" : fmt::format(": {}", alert.summary);
  const WallTime received = alert.received == WallTime{} ? alert.at : alert.received;
  if (alert.firing && alert.ends_at && *alert.ends_at <= received) {
    // Firing with an end already past: it is over (Alertmanager would call it resolved).
    if (rt.state != TriggerState::kFiring) {
      target_it->second.triggers.erase(trigger);
      return out;
    }
    target_it->second.triggers.erase(trigger);
    s.TriggerResolved(out, alert.target, trigger,
                      fmt::format("alert {} resolved: it ended at {}{}", alert.name,
                                  core::FormatRfc3339(*alert.ends_at), summary),
                      {{"trigger", trigger}, {"alert", alert.name}, {"reason", "ends_at"}},
                      *alert.ends_at);
  } else if (alert.firing) {
    rt.severity = severity;
    rt.alert_seen = received;
    rt.alert_ends = alert.ends_at;
    if (rt.state == TriggerState::kFiring) return out;  // Alertmanager repeats firing alerts
    rt.state = TriggerState::kFiring;
    s.TriggerFired(out, alert.target, trigger, severity,
                   fmt::format("alert {} firing ({}){}", alert.name, severity, summary),
                   {{"trigger", trigger}, {"alert", alert.name}}, alert.at);
  } else {
    if (rt.state != TriggerState::kFiring) return out;
    // Resolved alerts are forgotten: alert names come from outside and must not pile up.
    target_it->second.triggers.erase(trigger);
    s.TriggerResolved(out, alert.target, trigger,
                      fmt::format("alert {} resolved{}", alert.name, summary),
                      {{"trigger", trigger}, {"alert", alert.name}}, alert.at);
  }
  if (Incident* incident = s.OpenFor(alert.target)) s.CheckEscalations(out, *incident, alert.at);
  return out;
}

Output Engine::OnTick(WallTime wall, MonoTime /*mono*/) {
  State& s = *state_;
  Output out;
  // Firing alerts that reached their end, or that were not received again within the TTL.
  for (auto& [target, runtime] : s.target_state) {
    std::vector<std::pair<std::string, std::string>> ended;  // trigger, why
    for (const auto& [trigger, rt] : runtime.triggers) {
      if (trigger.rfind(kAlertPrefix, 0) != 0 || rt.state != TriggerState::kFiring) continue;
      const std::string name = trigger.substr(kAlertPrefix.size());
      if (rt.alert_ends && wall >= *rt.alert_ends) {
        ended.emplace_back(trigger, fmt::format("alert {} resolved: it ended at {} and was not "
                                                "received again",
                                                name, core::FormatRfc3339(*rt.alert_ends)));
      } else if (rt.alert_seen && wall - *rt.alert_seen > s.alert_ttl) {
        ended.emplace_back(
            trigger, fmt::format("alert {} expired: not received again for {} (watch.alert_ttl; "
                                 "Alertmanager re-sends a firing alert every repeat_interval)",
                                 name, Short(s.alert_ttl)));
      }
    }
    for (const auto& [trigger, why] : ended) {
      runtime.triggers.erase(trigger);
      s.TriggerResolved(out, target, trigger, why,
                        {{"trigger", trigger},
                         {"alert", trigger.substr(kAlertPrefix.size())},
                         {"reason", "expired"}},
                        wall);
    }
  }
  std::vector<int64_t> ids;
  for (const auto& [id, incident] : s.open) ids.push_back(id);
  for (int64_t id : ids) {
    Incident* incident = s.FindOpen(id);
    if (incident == nullptr) continue;
    if (incident->phase == Phase::kVerify && incident->verify_started_at &&
        wall - *incident->verify_started_at >= s.runbook.phases.verify_period) {
      const std::string clear = Short(s.runbook.phases.verify_period);
      s.Finish(out, *incident, wall, fmt::format("triggers clear for {}", clear),
               fmt::format("resolved after {}: triggers clear for {}",
                           Short(wall - incident->opened_at), clear));
      continue;
    }
    s.CheckDeadlines(out, *incident, wall);
    s.ProposeOnConditions(out, *incident, wall);
    s.CheckEscalations(out, *incident, wall);
  }
  return out;
}

Output Engine::OnDiagnoseDone(const DiagnoseResult& result) {
  State& s = *state_;
  Output out;
  Incident* incident = s.FindOpen(result.incident_id);
  if (incident == nullptr) return out;
  incident->diagnosing = false;
  ++incident->diagnoses;
  State::Changed(out, incident->id);
  if (!result.ok) {
    State::Emit(out, *incident, result.at, "diagnose.failed",
                fmt::format("diagnosis failed: {}", result.error), {{"error", result.error}});
    // No findings; what the conditions propose (a target that cannot be reached) still is.
    s.ProposeOnConditions(out, *incident, result.at);
    return out;
  }
  if (incident->phase == Phase::kAssess) {
    s.SetPhase(out, *incident, Phase::kInvestigate, result.at, "assessment done");
  }
  incident->findings = result.findings;
  std::vector<std::string> shown;
  json codes = json::array();
  for (const FindingRef& f : result.findings) {
    shown.push_back(f.severity.empty() ? f.code : fmt::format("{} ({})", f.code, f.severity));
    codes.push_back(f.code);
  }
  State::Emit(out, *incident, result.at, "findings",
              shown.empty() ? std::string("no findings")
                            : fmt::format("{}: {}",
                                          core::CountOf(static_cast<int64_t>(shown.size()),
                                                        "finding", "findings"),
                                          Join(shown, ", ")),
              {{"codes", codes}});
  if (incident->phase == Phase::kVerify) {
    // The triggers cleared while the diagnosis ran: recorded, nothing to mitigate.
  } else if (s.ProposeMitigations(out, *incident, result.at) &&
             incident->phase == Phase::kInvestigate) {
    s.SetPhase(out, *incident, Phase::kMitigate, result.at, "mitigation proposed");
  }
  s.CheckEscalations(out, *incident, result.at);
  return out;
}

Output Engine::OnActionDone(const ActionResult& result) {
  State& s = *state_;
  Output out;
  Incident* incident = s.FindAny(result.incident_id);
  if (incident == nullptr) return out;
  auto it = std::find_if(incident->actions.begin(), incident->actions.end(),
                         [&](const IncidentAction& a) { return a.key == result.key; });
  if (it == incident->actions.end()) return out;  // an unknown or superseded key
  IncidentAction& action = *it;
  if (action.state != ActionState::kRunning && action.state != ActionState::kInterrupted) {
    return out;  // a repeated report
  }
  std::string kind;
  switch (result.state) {
    case ActionState::kApplied:
      kind = "action.applied";
      break;
    case ActionState::kVerified:
      kind = "action.verified";
      break;
    case ActionState::kFailed:
      kind = "action.failed";
      break;
    case ActionState::kRefused:
      kind = "action.refused";
      break;
    default:
      return out;  // not an outcome
  }
  action.state = result.state;
  action.detail = result.detail;
  action.run_id = result.run_id;
  action.updated_at = result.at;
  if (result.state != ActionState::kRefused) {
    WallTime& slot = s.last_applied[incident->target][action.action];
    slot = std::max(slot, result.at);
  }
  State::Emit(out, *incident, result.at, kind,
              fmt::format("{} {}{}", action.action, ActionStateName(result.state),
                          result.detail.empty() ? "" : ": " + result.detail),
              {{"action", action.action}, {"key", action.key}, {"run_id", result.run_id}});
  if (incident->open()) s.CheckEscalations(out, *incident, result.at);
  return out;
}

core::Result<Output> Engine::Approve(int64_t incident_id, const std::string& action_name,
                                     const std::string& who, WallTime at) {
  State& s = *state_;
  Incident* incident = s.FindOpen(incident_id);
  if (incident == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("incident {} is not open", incident_id),
                           "list them with `dbrunbook incidents --open`");
  }
  if (who.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "approve: who approves is empty");
  }
  IncidentAction* action = State::FindAction(*incident, action_name);
  if (action == nullptr) {
    std::vector<std::string> names;
    for (const IncidentAction& a : incident->actions) names.push_back(a.action);
    return core::MakeError(
        core::ErrorCode::kInvalidArgument,
        fmt::format("action {} was not proposed in incident {}", action_name, incident_id),
        names.empty() ? "no action has been proposed in it yet"
                      : fmt::format("proposed: {}", Join(names, ", ")));
  }
  if (action->state == ActionState::kRunning) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("action {} is already running in incident {} (key {})",
                                       action_name, incident_id, action->key));
  }
  if (action->state == ActionState::kOff) {
    return core::MakeError(
        core::ErrorCode::kInvalidArgument,
        fmt::format("action {} has policy off in the runbook", action_name),
        fmt::format("run `dbrunbook mitigate {}` by hand, or change its policy", action_name));
  }
  Output out;
  std::string note;
  if (action->state == ActionState::kBlocked) {
    note = " (overrides the anti-flapping block)";
  } else if (action->state != ActionState::kProposed) {
    ++action->generation;
    action->key = State::Key(incident->id, action->action, action->generation);
    note = fmt::format(" (re-armed: generation {})", action->generation);
  }
  action->approved_by = who;
  State::Emit(out, *incident, at, "action.approved",
              fmt::format("{} approved by {}{}", action->action, who, note),
              {{"action", action->action}, {"key", action->key}, {"who", who}});
  s.StartAction(out, *incident, *action, s.runbook.FindMitigation(action->action), at,
                fmt::format("approved by {}", who));
  if (incident->phase < Phase::kMitigate) {
    s.SetPhase(out, *incident, Phase::kMitigate, at, "mitigation approved");
  }
  return out;
}

core::Result<Output> Engine::Ack(int64_t incident_id, const std::string& who, WallTime at) {
  Incident* incident = state_->FindOpen(incident_id);
  if (incident == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("incident {} is not open", incident_id));
  }
  if (who.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "ack: who acknowledges is empty");
  }
  Output out;
  incident->acked_by = who;
  State::Emit(out, *incident, at, "ack", fmt::format("acknowledged by {}", who), {{"who", who}});
  return out;
}

core::Result<Output> Engine::Note(int64_t incident_id, const std::string& who,
                                  const std::string& text, WallTime at) {
  Incident* incident = state_->FindAny(incident_id);
  if (incident == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound, fmt::format("no incident {}", incident_id));
  }
  if (who.empty() || core::Trim(text).empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "note: both who writes it and its text are needed");
  }
  Output out;
  State::Emit(out, *incident, at, "note", fmt::format("{}: {}", who, text), {{"who", who}});
  return out;
}

core::Result<Output> Engine::Resolve(int64_t incident_id, const std::string& who,
                                     const std::string& reason, WallTime at) {
  State& s = *state_;
  Incident* incident = s.FindOpen(incident_id);
  if (incident == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("incident {} is not open", incident_id));
  }
  if (who.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "resolve: who resolves is empty");
  }
  Output out;
  // Triggers still firing start over: if their condition still holds, they go through
  // pending (`for`) again and open a new incident rather than being forgotten.
  TargetRuntime& target = s.target_state[incident->target];
  for (const std::string& trigger : incident->firing) {
    auto it = target.triggers.find(trigger);
    if (it != target.triggers.end()) it->second = TriggerRuntime{};
  }
  const std::string why = reason.empty() ? std::string("no reason given") : reason;
  s.Finish(out, *incident, at, fmt::format("resolved by {}: {}", who, why),
           fmt::format("resolved by {} after {}: {}", who, Short(at - incident->opened_at), why));
  return out;
}

std::vector<const Incident*> Engine::OpenIncidents() const {
  std::vector<const Incident*> out;
  for (const auto& [id, incident] : state_->open) out.push_back(&incident);
  return out;
}

const Incident* Engine::Find(int64_t incident_id) const { return state_->FindAny(incident_id); }

std::vector<TriggerStatus> Engine::Triggers() const {
  std::vector<TriggerStatus> out;
  for (const std::string& target : state_->targets) {
    auto it = state_->target_state.find(target);
    if (it == state_->target_state.end()) continue;
    for (const runbook::TriggerSpec& spec : state_->runbook.triggers) {
      if (!spec.AppliesTo(target)) continue;
      TriggerStatus status{target, spec.name};
      if (auto rt = it->second.triggers.find(spec.name); rt != it->second.triggers.end()) {
        status.state = rt->second.state;
        status.value = rt->second.value;
      }
      out.push_back(std::move(status));
    }
    for (const auto& [name, rt] : it->second.triggers) {
      if (name.rfind(kAlertPrefix, 0) != 0) continue;
      out.push_back(TriggerStatus{target, name, rt.state, std::nullopt});
    }
  }
  return out;
}

}  // namespace dbrunbook::watch
