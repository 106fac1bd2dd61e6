// TEMPORARY: stand-ins for the few functions of src/runbook/runbook.cc that the incident
// engine calls, so that the engine's tests build before the runbook module lands. Linked into
// the watch tests only (never into dbrunbook_watch). Delete this file, and link
// dbrunbook_runbook instead, when src/runbook/runbook.cc is merged.
#include <fmt/format.h>

#include <algorithm>

#include "core/duration.h"
#include "runbook/runbook.h"

namespace dbrunbook::runbook {

std::string_view ComparisonText(Comparison op) {
  switch (op) {
    case Comparison::kGreater:
      return ">";
    case Comparison::kGreaterEqual:
      return ">=";
    case Comparison::kLess:
      return "<";
    case Comparison::kLessEqual:
      return "<=";
    case Comparison::kEqual:
      return "==";
    case Comparison::kNotEqual:
      return "!=";
  }
  return ">";
}

bool Compare(double value, Comparison op, double threshold) {
  switch (op) {
    case Comparison::kGreater:
      return value > threshold;
    case Comparison::kGreaterEqual:
      return value >= threshold;
    case Comparison::kLess:
      return value < threshold;
    case Comparison::kLessEqual:
      return value <= threshold;
    case Comparison::kEqual:
      return value == threshold;
    case Comparison::kNotEqual:
      return value != threshold;
  }
  return false;
}

std::string_view TriggerSeverityName(TriggerSeverity severity) {
  return severity == TriggerSeverity::kCritical ? "critical" : "warning";
}

bool TriggerSpec::AppliesTo(std::string_view target) const {
  return targets.empty() || std::find(targets.begin(), targets.end(), target) != targets.end();
}

std::string TriggerSpec::Describe() const {
  return fmt::format("{} {} {} for {}", signal, ComparisonText(op), threshold,
                     core::FormatDuration(for_duration));
}

std::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kOff:
      return "off";
    case Policy::kApprove:
      return "approve";
    case Policy::kAuto:
      return "auto";
  }
  return "approve";
}

std::string_view EscalationWhenName(EscalationWhen when) {
  switch (when) {
    case EscalationWhen::kUnavailable:
      return "unavailable";
    case EscalationWhen::kCorruptionSuspected:
      return "corruption_suspected";
    case EscalationWhen::kReplicationFailed:
      return "replication_failed";
    case EscalationWhen::kDegradedAfterMitigation:
      return "degraded_after_mitigation";
    case EscalationWhen::kDeadlineMissed:
      return "deadline_missed";
    case EscalationWhen::kTriggerFiring:
      return "trigger_firing";
  }
  return "unavailable";
}

const TriggerSpec* Runbook::FindTrigger(std::string_view name) const {
  for (const TriggerSpec& t : triggers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const MitigationPolicy* Runbook::FindMitigation(std::string_view action) const {
  for (const MitigationPolicy& m : mitigations) {
    if (m.action == action) return &m;
  }
  return nullptr;
}

std::vector<const Contact*> Runbook::ContactsAt(int level) const {
  std::vector<const Contact*> out;
  for (const Contact& c : contacts) {
    if (c.level == level) out.push_back(&c);
  }
  return out;
}

}  // namespace dbrunbook::runbook
