// The incident engine: the runbook's decisions, as a pure state machine.
//
// Inputs are values (sample batches from the pollers, external alerts, the results of work
// the daemon did, operator commands, clock ticks); outputs are values (timeline events to
// record, effects for the daemon to carry out). The engine never touches a server, a file or
// the real clock, so a 30-minute incident runs in a scenario test in microseconds on a
// simulated clock (tests/watch/scenarios/*.yaml: samples in, timeline out).
//
// Triggers (per target x runbook trigger): inactive -> pending (condition holds, waiting
// `for`) -> firing -> (clear for `resolve_for`) -> inactive again, as Prometheus alerts do.
// While firing, the condition holds until the value passes resolve_threshold (hysteresis). A
// poll without the trigger's signal (not a replica: no lag) counts as "condition false",
// except while the target is unreachable, when triggers on server signals keep their state.
// "A poll" is a batch carrying target_unreachable (every server poll does); a batch without it
// (cloud metrics, pushed counts) only updates the signals it carries. Signals read less often
// than every poll (slow, cloud, external cadence) keep their last value until it is stale (3
// of their periods: 30 s, 180 s, 180 s), then count as absent.
//
// Incidents: a trigger starting to fire opens an incident for its target, unless one is open
// (then the trigger joins it). Phases: assess -> investigate -> mitigate -> verify ->
// resolved.
//   * opening: phase assess; effect kDiagnose (evidence snapshot, assessment, investigation).
//   * DiagnoseDone: phase investigate (findings recorded); then mitigate: each entry of a
//     mitigation's `on` that holds proposes that action once — a finding code of the diagnosis,
//     "trigger.NAME" while that trigger fires in the incident, "target.unavailable" once the
//     target has been unreachable for the mitigation's `after` (the two conditions are also
//     looked at on every poll and tick once the first diagnosis is over, failed or not: a
//     primary that cannot be reached gives no findings) (idempotency key
//     "<incident>:<action>:<generation>"); policy auto -> effect kApplyAction; approve -> the
//     action waits for Approve(); off -> recorded as "not proposed: policy off". An action
//     applied on the same target within its `block` (anti-flapping, across incidents) is
//     "blocked" instead (looked at again at the next diagnosis). The phase becomes mitigate
//     only when an action now waits for approval or runs; with none, the incident stays in
//     investigate (people must look further; its deadline can pass). A diagnosis that comes
//     back in verify (the triggers cleared meanwhile) is recorded and proposes nothing.
//   * every trigger of the incident inactive -> phase verify, for runbook.phases.verify_period;
//     a trigger firing again during verify -> relapse: back to investigate, kDiagnose again.
//     Verify period over -> resolved (duration, prevention checklist attached).
//   * deadlines: the phase deadlines count from opened_at; an incident still in (or before) a
//     phase when its deadline passes gets one deadline.missed event per phase.
//   * escalation rules fire at most once per incident each, when their condition has lasted
//     `after`: unavailable (target_unreachable = 1 continuously), replication_failed (a
//     replication.broken/stopped finding or replication_running = 0), corruption_suspected (a
//     finding code starting "corruption."), degraded_after_mitigation (an action verified and
//     a trigger still firing), deadline_missed (the phase named), trigger_firing (the trigger
//     named). An escalation raises incident.escalation_level and emits effect kEscalate.
//
// Resolve() by an operator ends the incident with the reason; a trigger still firing then
// starts over from inactive (a new incident after `for` if the problem is still there).
//
// Restart: the daemon persists every incident after each call (IncidentToJson) and passes
// the open ones back to Restore(). An action found `running` at restore may or may not have
// been applied: it becomes `interrupted` and is never repeated automatically. The restored
// incidents' firing triggers are firing again (no second incident, no repeated event); one
// no longer in the runbook counts as resolved; a diagnosis in flight is asked for again.
//
// Thread-safety: none; the daemon calls it from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "runbook/runbook.h"
#include "watch/signals.h"

namespace dbrunbook::watch {

enum class Phase { kAssess, kInvestigate, kMitigate, kVerify, kResolved };
std::string_view PhaseName(Phase phase);  // "assess", ..., "resolved"
std::optional<Phase> ParsePhase(std::string_view name);

enum class TriggerState { kInactive, kPending, kFiring };
std::string_view TriggerStateName(TriggerState state);  // "inactive", "pending", "firing"

// One finding as the engine sees it (the full finding is kept by the store).
struct FindingRef {
  std::string code;
  std::string severity;  // "info", "warning", "critical"
  std::string title;
};

enum class ActionState {
  kProposed,     // waiting for approval (policy approve)
  kRunning,      // handed to the daemon (kApplyAction)
  kApplied,      // done, not verified
  kVerified,     // done and verified
  kFailed,       // tried, did not work
  kRefused,      // nothing was done (guardrail, nothing to do)
  kOff,          // not proposed: policy off
  kBlocked,      // not proposed: applied on this target within its block period
  kInterrupted,  // was running when the daemon stopped; never repeated automatically
};
std::string_view ActionStateName(ActionState state);
std::optional<ActionState> ParseActionState(std::string_view name);

struct IncidentAction {
  std::string action;  // "kill-queries"
  std::string key;     // idempotency key "<incident>:<action>:<generation>"
  int generation = 1;  // raised by each re-approval
  runbook::Policy policy = runbook::Policy::kApprove;
  ActionState state = ActionState::kProposed;
  std::string reason;  // the finding code(s) that proposed it, or why blocked/refused
  std::string detail;  // the outcome as the daemon reported it
  std::string run_id;  // the audit run id, once applied
  std::string approved_by;
  core::WallTime updated_at{};
};

struct Incident {
  int64_t id = 0;
  std::string target;
  Phase phase = Phase::kAssess;
  std::string severity = "warning";  // the highest of its triggers
  core::WallTime opened_at{};
  std::optional<core::WallTime> verify_started_at;
  std::optional<core::WallTime> resolved_at;
  std::vector<std::string> triggers;  // every trigger that fired in it, in order
  std::set<std::string> firing;       // those firing now
  std::vector<FindingRef> findings;   // of the latest diagnosis
  std::vector<IncidentAction> actions;
  int escalation_level = 0;
  std::set<std::string> escalations_fired;  // rule names
  // Rule name -> since when its condition has held (persisted, so that a restart of the
  // daemon does not restart the `after` clock of an escalation).
  std::map<std::string, core::WallTime> escalation_since;
  std::set<std::string> deadlines_missed;  // phase names
  int relapses = 0;
  int diagnoses = 0;  // kDiagnose effects completed
  bool diagnosing = false;
  std::string acked_by;
  std::string resolution;  // how it ended ("triggers clear for 30m", "resolved by alice: ...")
  std::vector<std::string> prevention;  // the checklist, attached when resolved

  bool open() const { return phase != Phase::kResolved; }
};

nlohmann::json IncidentToJson(const Incident& incident);
core::Result<Incident> IncidentFromJson(const nlohmann::json& json);

// One timeline entry.
struct Event {
  int64_t incident_id = 0;
  core::WallTime at{};
  // "opened", "trigger.firing", "trigger.resolved", "phase", "findings", "action.proposed",
  // "action.approved", "action.running", "action.applied", "action.verified", "action.failed",
  // "action.refused", "action.blocked", "action.off", "action.interrupted", "deadline.missed",
  // "escalated", "relapse", "ack", "note", "resolved", "diagnose.failed"
  std::string kind;
  std::string text;  // one line for people
  nlohmann::json data = nlohmann::json::object();
};

enum class EffectKind { kDiagnose, kApplyAction, kEscalate };

struct Effect {
  EffectKind kind = EffectKind::kDiagnose;
  int64_t incident_id = 0;
  std::string target;
  // kApplyAction
  std::string action;
  std::string key;
  std::map<std::string, std::string> params;  // the runbook's parameters for the action
  // kEscalate
  int level = 0;
  std::string rule;
  std::vector<std::string> contacts;  // names
  std::string reason;
};

struct Output {
  std::vector<Event> events;
  std::vector<Effect> effects;
  std::vector<int64_t> changed;  // incidents whose state changed (to persist)
  void Append(Output other);
};

// An alert from outside (Alertmanager): acts as a trigger named "alert:<name>" on the target.
//
// Alertmanager says when an alert ends by sending it again as resolved; a firing alert it
// stops sending (Alertmanager down, the route or receiver removed, a resolved notification
// lost) would otherwise keep its trigger firing for ever. So a firing alert also ends:
//   * at its `ends_at`, when the sender gave one (Alertmanager's webhook gives the zero time
//     for a firing alert; an `ends_at` already past on arrival resolves it at once);
//   * when it has not been received again for the engine's alert TTL: Alertmanager re-sends
//     every firing alert of a group with each notification of the group, at the latest every
//     `repeat_interval` (default 4h), on a `group_interval` tick (default 5m).
struct ExternalAlert {
  std::string target;
  std::string name;  // alertname
  bool firing = true;
  std::string severity = "warning";
  std::string summary;
  core::WallTime at{};                    // firing: startsAt; resolved: endsAt
  std::optional<core::WallTime> ends_at;  // firing: when it ends unless received again
  core::WallTime received{};              // when it came (the TTL counts from it); 0: `at`
};

// Default of the alert TTL: Alertmanager's default repeat_interval (4h) and group_interval
// (5m), and 10 minutes for a delivery that needed retries.
inline constexpr core::Duration kDefaultAlertTtl = std::chrono::minutes(4 * 60 + 15);

struct DiagnoseResult {
  int64_t incident_id = 0;
  bool ok = true;
  std::string error;  // when !ok (cannot connect ...): recorded, retried on the next relapse
  std::vector<FindingRef> findings;
  core::WallTime at{};
};

struct ActionResult {
  int64_t incident_id = 0;
  std::string key;
  ActionState state = ActionState::kApplied;  // applied, verified, failed or refused
  std::string detail;
  std::string run_id;
  core::WallTime at{};
};

struct TriggerStatus {
  std::string target;
  std::string trigger;
  TriggerState state = TriggerState::kInactive;
  std::optional<double> value;  // the last value seen
};

class Engine {
 public:
  // `targets`: the configured target names. `next_id`: the first incident id to give (the
  // store's highest + 1).
  // `alert_ttl`: a firing external alert not received again for this long is resolved
  // (watch.alert_ttl).
  Engine(runbook::Runbook runbook, std::vector<std::string> targets, int64_t next_id,
         core::Duration alert_ttl = kDefaultAlertTtl);

  // Restores open incidents (from the store) and when each action was last applied per
  // target (anti-flapping); see the restart rules above.
  Output Restore(std::vector<Incident> open_incidents,
                 const std::map<std::string, std::map<std::string, core::WallTime>>& last_applied,
                 core::WallTime now);

  Output OnSamples(const SampleBatch& batch);
  Output OnAlert(const ExternalAlert& alert);
  // Deadlines, the verify period, escalation timers, alerts that ended or expired. Call at
  // least once a second.
  Output OnTick(core::WallTime wall, core::MonoTime mono);
  Output OnDiagnoseDone(const DiagnoseResult& result);
  Output OnActionDone(const ActionResult& result);

  // Operator commands; kNotFound for an unknown or resolved incident, kInvalidArgument for an
  // action not proposed in it. Approve of an action already applied re-arms it (generation+1).
  core::Result<Output> Approve(int64_t incident_id, const std::string& action,
                               const std::string& who, core::WallTime at);
  core::Result<Output> Ack(int64_t incident_id, const std::string& who, core::WallTime at);
  core::Result<Output> Note(int64_t incident_id, const std::string& who, const std::string& text,
                            core::WallTime at);
  core::Result<Output> Resolve(int64_t incident_id, const std::string& who,
                               const std::string& reason, core::WallTime at);

  const runbook::Runbook& runbook() const;
  // The open incidents, by id.
  std::vector<const Incident*> OpenIncidents() const;
  // An open incident, or one resolved by this engine (the last 1000 are kept); else nullptr.
  const Incident* Find(int64_t incident_id) const;
  std::vector<TriggerStatus> Triggers() const;

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dbrunbook::watch
