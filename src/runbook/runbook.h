// The runbook file: the YAML that turns the team's "database is slow" runbook into what the
// watch daemon does — triggers, phases and their deadlines, mitigation policies, escalation
// rules, contacts, the prevention checklist — readable by people and validated with
// file:line errors like dbrunbook.yaml.
//
// The default, runbooks/database-performance.yaml, is compiled into the binary
// (DefaultRunbookText) and encodes the runbook dbrunbook comes from; teams copy and edit it.
//
// ---------------------------------------------------------------------------------------
// Schema (every key; README "Runbook file" has the same with examples)
// ---------------------------------------------------------------------------------------
//
//   runbook:                          # metadata; required
//     name: database-performance      # required, [A-Za-z0-9._-]+
//     version: 3                      # required, a string or number, shown in reports
//     owner: dba-team                 # required
//     approved_by: head-of-platform   # optional
//     last_reviewed: 2026-10-01       # optional ISO date (YYYY-MM-DD)
//     review_interval: 90d            # optional duration; with last_reviewed: a warning
//                                     # ("review overdue since ...") once it has passed
//
//   triggers:                         # required, at least one; names unique
//     - name: slow_queries            # required, [a-z0-9_]+
//       signal: longest_query_seconds # required; a signal the watcher knows (RunbookSchema)
//       op: ">"                       # >, >=, <, <=, ==, != (default >)
//       threshold: 5                  # required number
//       resolve_threshold: 2          # optional: hysteresis; the condition stops holding
//                                     # only once the value is past this (on the other side
//                                     # of the threshold: <= threshold for > and >=)
//       for: 0s                       # how long the condition must hold before firing
//                                     # (pending meanwhile); default 0s
//       resolve_for: 0s               # how long it must be clear before resolving
//       severity: critical            # warning | critical (default warning)
//       summary: "A query has run for more than 5 s"   # optional, for people
//       targets: [orders-primary]     # optional: only these targets (default all)
//
//   phases:                           # deadlines from the incident's opening
//     assess: {deadline: 5m}          # defaults 5m, 15m, 30m
//     investigate: {deadline: 15m}
//     mitigate: {deadline: 30m}
//     verify: {period: 30m}           # recovery watched this long before resolving
//
//   mitigations:                      # optional; action -> policy; actions not listed: off
//     kill-queries:
//       policy: auto                  # off | approve | auto (default approve)
//       on: [lock.root_blocker, query.long_running]   # what proposes it: finding codes of the
//                                     # diagnosis, trigger.NAME (while that trigger fires in
//                                     # the incident) or target.unavailable (the target
//                                     # unreachable for `after`)
//       busy_time: 300s               # action parameters (per action, checked by the
//       min_wait: 10s                 #   RunbookSchema's parameter names)
//       max_victims: 10
//       block: 1h                     # anti-flapping: not proposed again for the same target
//                                     # within this time after it was applied (default 1h)
//     failover: {policy: approve, on: [target.unavailable], after: 30s, max_lag: 10s}
//                                     # after: how long the target must have been unreachable
//                                     # before target.unavailable proposes it (default 30s)
//
//   escalation:                       # rules, in order; each fires once per incident
//     - name: database-unavailable
//       when: unavailable             # unavailable | corruption_suspected |
//                                     # replication_failed | degraded_after_mitigation |
//                                     # deadline_missed | trigger_firing
//       after: 10m                    # how long the condition must last (default 0s)
//       phase: mitigate               # deadline_missed only: which phase's deadline
//       trigger: slow_queries         # trigger_firing only: which trigger
//       level: 1                      # >= 1; contacts of this level are notified
//
//   contacts:                         # optional
//     - name: dba-on-call
//       role: DBA on call
//       level: 1                      # >= 1
//       channels: [dba-slack, pager]  # notify channel names (issue: communication)
//
//   prevention:                       # the checklist attached to a resolved incident
//     - Review the slow query log weekly
//
//   messages:                         # optional: the communication templates (issue 8);
//     update_every: 30m               # the "next update" promise: a status update is due
//                                     # this long after the alert / the last update
//                                     # (0s: no status updates, else at least 1m);
//                                     # default 30m
//     alert:                          # alert | update | escalation | acknowledged |
//       title: "🚨 Database performance alert: {target}"   # resolution; each optional:
//       body: |                       # a kind, a title or a body left out keeps the
//         🚨 Database performance alert  # built-in default (DefaultMessageTemplates)
//         Database: {target}
//         Impact: {impact}
//   {placeholder} is replaced by the incident's value (MessagePlaceholders lists them);
//   `{{` and `}}` write a literal brace. A body line "Label: ...{x}..." whose label has no
//   placeholder is also one field (label, value) of the message for structured channels.
//
// Rules, each reported with file:line:column and key path, all at once: unknown keys (with
// "did you mean"), duplicate keys and names, wrong types, an unknown signal, action, action
// parameter, finding code (or trigger.NAME naming no trigger) or escalation condition, a parameter
// value of the wrong type (RunbookSchema::param_types), resolve_threshold on the wrong side of the
// threshold (or with == / !=), deadlines out of order (assess <= investigate <= mitigate), `phase`
// / `trigger` missing or misplaced in an escalation rule, a trigger_firing rule naming no trigger,
// levels < 1, durations without a unit or beyond 30 days. Warnings: review overdue, last_reviewed
// in the future, a contact level no escalation rule reaches (never notified), a mitigation with
// policy approve or auto whose `on` list is empty (never proposed).
// Messages: an unknown placeholder (with "did you mean"), a stray `{` or `}`, an empty title,
// a title of more than one line.
// Trigger `targets` are kept as written: the caller checks them against the configuration
// (app::CheckRunbookFile does for `config check`).
//
// Thread-safety: free functions without shared state; a Runbook is a plain value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/diagnostic.h"
#include "core/clock.h"
#include "core/environment.h"

namespace dbrunbook::runbook {

enum class Comparison { kGreater, kGreaterEqual, kLess, kLessEqual, kEqual, kNotEqual };
std::string_view ComparisonText(Comparison op);  // ">", ">=", ...
// Whether `value op threshold` holds.
bool Compare(double value, Comparison op, double threshold);

// A duration as the file writes it: "0s", "500ms", "5m", "1h30m", "180d".
std::string DurationText(core::Duration d);

enum class TriggerSeverity { kWarning, kCritical };
std::string_view TriggerSeverityName(TriggerSeverity severity);  // "warning", "critical"

struct TriggerSpec {
  std::string name;
  std::string signal;
  Comparison op = Comparison::kGreater;
  double threshold = 0;
  std::optional<double> resolve_threshold;
  core::Duration for_duration{};
  core::Duration resolve_for{};
  TriggerSeverity severity = TriggerSeverity::kWarning;
  std::string summary;
  std::vector<std::string> targets;  // empty: every target
  config::SourceLocation where;

  bool AppliesTo(std::string_view target) const;
  // "longest_query_seconds > 5 for 0s"
  std::string Describe() const;
};

struct Phases {
  core::Duration assess_deadline = std::chrono::minutes(5);
  core::Duration investigate_deadline = std::chrono::minutes(15);
  core::Duration mitigate_deadline = std::chrono::minutes(30);
  core::Duration verify_period = std::chrono::minutes(30);
};

enum class Policy { kOff, kApprove, kAuto };

// What a mitigation's `on` may list besides finding codes: "trigger.NAME" proposes the action
// while the runbook trigger NAME fires in the incident; "target.unavailable" while the target
// has been unreachable (no poll answered) for the mitigation's `after`.
inline constexpr std::string_view kOnTriggerPrefix = "trigger.";
inline constexpr std::string_view kOnTargetUnavailable = "target.unavailable";
std::string_view PolicyName(Policy policy);  // "off", "approve", "auto"

struct MitigationPolicy {
  std::string action;  // "kill-queries", "failover", "scale-up", "tune", "index"
  Policy policy = Policy::kApprove;
  // What proposes it: finding codes, "trigger.NAME", "target.unavailable".
  std::vector<std::string> on;
  core::Duration block = std::chrono::hours(1);
  // target.unavailable: how long the target must have been unreachable.
  core::Duration after = std::chrono::seconds(30);
  // The action's parameters as written (strings; the action parses and checks them, e.g.
  // busy_time -> "300s").
  std::map<std::string, std::string> params;
  config::SourceLocation where;
};

enum class EscalationWhen {
  kUnavailable,
  kCorruptionSuspected,
  kReplicationFailed,
  kDegradedAfterMitigation,
  kDeadlineMissed,
  kTriggerFiring,
};
std::string_view EscalationWhenName(EscalationWhen when);  // "unavailable", ...

struct EscalationRule {
  std::string name;
  EscalationWhen when = EscalationWhen::kUnavailable;
  core::Duration after{};
  std::string phase;    // kDeadlineMissed: "assess" | "investigate" | "mitigate"
  std::string trigger;  // kTriggerFiring
  int level = 1;
  config::SourceLocation where;
};

struct Contact {
  std::string name;
  std::string role;
  int level = 1;
  std::vector<std::string> channels;
  config::SourceLocation where;  // of `channels` (else of the contact's entry)
};

// The runbook's communication (issue 8): one template per kind of message; the renderer is
// notify/templates.h.
enum class MessageTemplateKind { kAlert, kUpdate, kEscalation, kAcknowledged, kResolution };
// "alert", "update", "escalation", "acknowledged", "resolution".
std::string_view MessageTemplateKindName(MessageTemplateKind kind);

struct MessageTemplate {
  std::string title;  // one line
  std::string body;   // lines separated by '\n'
};

struct MessageTemplates {
  MessageTemplate alert;
  MessageTemplate update;
  MessageTemplate escalation;
  MessageTemplate acknowledged;
  MessageTemplate resolution;
  // A status update is due this long after the alert or the previous update; 0: none.
  core::Duration update_every = std::chrono::minutes(30);
  // Statement text in messages (finding titles, action details, reasons) reduced to its
  // fingerprint; false keeps it as written (credentials are masked either way).
  bool redact_queries = true;

  const MessageTemplate& Of(MessageTemplateKind kind) const;
  MessageTemplate& Of(MessageTemplateKind kind);
};

// The built-in templates: the runbook's "database performance alert" (database, impact,
// current status, duration, next update) and "resolution notification" (issue, duration, root
// cause, resolution, impact), and status update, escalation and acknowledgement messages. The
// default runbook file writes the same text out (a test keeps them equal).
MessageTemplates DefaultMessageTemplates();

// Every {placeholder} a template may use, sorted (notify/templates.h fills each one).
const std::vector<std::string>& MessagePlaceholders();

// A template split into literal text and placeholders ({{ and }} already unescaped).
struct TemplatePart {
  bool placeholder = false;
  std::string text;  // the literal text, or the placeholder's name
};
// The parts of `text`, or what is wrong with it (a `{` without its `}`, a `}` alone, an empty
// or malformed name); names are not checked against MessagePlaceholders here.
tl::expected<std::vector<TemplatePart>, std::string> SplitTemplate(std::string_view text);

struct Metadata {
  std::string name;
  std::string version;
  std::string owner;
  std::string approved_by;
  std::string last_reviewed;  // YYYY-MM-DD, or empty
  std::optional<core::Duration> review_interval;
};

struct Runbook {
  std::string path;  // the file it came from ("(built-in)" for the default)
  Metadata metadata;
  std::vector<TriggerSpec> triggers;
  Phases phases;
  std::vector<MitigationPolicy> mitigations;
  std::vector<EscalationRule> escalation;
  std::vector<Contact> contacts;
  std::vector<std::string> prevention;
  MessageTemplates messages = DefaultMessageTemplates();
  std::vector<config::Diagnostic> warnings;

  const TriggerSpec* FindTrigger(std::string_view name) const;
  const MitigationPolicy* FindMitigation(std::string_view action) const;
  // The contacts of `level`, in file order.
  std::vector<const Contact*> ContactsAt(int level) const;
};

using RunbookResult = tl::expected<Runbook, std::vector<config::Diagnostic>>;

// How an action parameter's value is checked (RunbookSchema::param_types).
enum class ParamType {
  kString,    // any scalar (RE2 patterns, names)
  kDuration,  // core::ParseDuration: "300s", "10m"
  kCount,     // a whole number >= 0
  kNumber,    // a number >= 0
  kBool,      // true / false
};

// What the program knows that the runbook module does not; empty lists are not checked.
struct RunbookSchema {
  std::vector<std::string> signals;        // watch::SignalNames()
  std::vector<std::string> actions;        // mitigation actions the daemon can run or propose
  std::vector<std::string> finding_codes;  // codes findings may carry
  // Parameter names each action accepts (absent action: any).
  std::map<std::string, std::vector<std::string>> action_params;
  // The type of a parameter's value, by parameter name (absent: any scalar), checked with
  // the value's position so a wrong value is found by `config check`, not at 3 a.m.
  std::map<std::string, ParamType> param_types;
};

// The default runbook's YAML text, as shipped in runbooks/database-performance.yaml.
std::string_view DefaultRunbookText();

// Parses and validates, reporting every problem. `today` (YYYY-MM-DD, UTC) decides whether
// the review is overdue.
RunbookResult ParseRunbook(std::string_view yaml_text, const std::string& display_path,
                           const RunbookSchema& schema, std::string_view today);
// Reads `path` (an unreadable file is one error) and parses it.
RunbookResult LoadRunbook(const std::string& path, const RunbookSchema& schema,
                          std::string_view today);
// The default runbook, parsed (it is checked by a test, so this does not fail in practice;
// a failure is returned, never thrown).
RunbookResult DefaultRunbook(const RunbookSchema& schema, std::string_view today);

}  // namespace dbrunbook::runbook
