#include "runbook/runbook.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>
#include <utility>

#include "config/yaml_checks.h"
#include "config/yaml_tree.h"
#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::runbook {
namespace {

using config::Contains;
using config::Diagnostic;
using config::DidYouMean;
using config::JoinKeyPath;
using config::Setting;
using config::SourceLocation;
using config::YamlEntry;
using config::YamlNode;

constexpr std::uintmax_t kMaxRunbookBytes = 1 << 20;
constexpr size_t kMaxNameLength = 64;
constexpr int kMaxLevel = 100;
// Beyond a month, a `for`, a deadline or a block is a typo, not a choice.
constexpr core::Duration kMaxDuration = std::chrono::hours(24 * 30);
constexpr core::Duration kMaxReviewInterval = std::chrono::hours(24 * 365 * 5);

// ---------------------------------------------------------------------------------------
// Key lists and names
// ---------------------------------------------------------------------------------------

const std::vector<std::string>& TopLevelKeys() {
  static const std::vector<std::string> kKeys = {"runbook",     "triggers",   "phases",
                                                 "mitigations", "escalation", "contacts",
                                                 "prevention",  "messages"};
  return kKeys;
}

const std::vector<std::string>& MetadataKeys() {
  static const std::vector<std::string> kKeys = {"name",        "version",       "owner",
                                                 "approved_by", "last_reviewed", "review_interval"};
  return kKeys;
}

const std::vector<std::string>& TriggerKeys() {
  static const std::vector<std::string> kKeys = {
      "name", "signal",      "op",       "threshold", "resolve_threshold",
      "for",  "resolve_for", "severity", "summary",   "targets"};
  return kKeys;
}

const std::vector<std::string>& PhaseKeys() {
  static const std::vector<std::string> kKeys = {"assess", "investigate", "mitigate", "verify"};
  return kKeys;
}

const std::vector<std::string>& DeadlinePhases() {
  static const std::vector<std::string> kPhases = {"assess", "investigate", "mitigate"};
  return kPhases;
}

const std::vector<std::string>& MitigationKeys() {
  static const std::vector<std::string> kKeys = {"policy", "on", "block", "after"};
  return kKeys;
}

const std::vector<std::string>& EscalationKeys() {
  static const std::vector<std::string> kKeys = {"name",  "when",    "after",
                                                 "phase", "trigger", "level"};
  return kKeys;
}

const std::vector<std::string>& ContactKeys() {
  static const std::vector<std::string> kKeys = {"name", "role", "level", "channels"};
  return kKeys;
}

const std::vector<std::string>& MessageKeys() {
  static const std::vector<std::string> kKeys = {"update_every", "redact_queries", "alert",
                                                 "update",       "escalation",     "acknowledged",
                                                 "resolution"};
  return kKeys;
}

const std::vector<std::string>& TemplateKeys() {
  static const std::vector<std::string> kKeys = {"title", "body"};
  return kKeys;
}

constexpr MessageTemplateKind kAllTemplateKinds[] = {
    MessageTemplateKind::kAlert, MessageTemplateKind::kUpdate, MessageTemplateKind::kEscalation,
    MessageTemplateKind::kAcknowledged, MessageTemplateKind::kResolution};

const std::vector<std::string>& ComparisonTexts() {
  static const std::vector<std::string> kTexts = {">", ">=", "<", "<=", "==", "!="};
  return kTexts;
}

const std::vector<std::string>& SeverityNames() {
  static const std::vector<std::string> kNames = {"warning", "critical"};
  return kNames;
}

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> kNames = {"off", "approve", "auto"};
  return kNames;
}

constexpr EscalationWhen kAllWhen[] = {
    EscalationWhen::kUnavailable,       EscalationWhen::kCorruptionSuspected,
    EscalationWhen::kReplicationFailed, EscalationWhen::kDegradedAfterMitigation,
    EscalationWhen::kDeadlineMissed,    EscalationWhen::kTriggerFiring,
};

std::vector<std::string> WhenNames() {
  std::vector<std::string> names;
  for (EscalationWhen when : kAllWhen) names.emplace_back(EscalationWhenName(when));
  return names;
}

// Trigger names appear in metrics labels and API paths: lower case, digits and '_'.
bool IsTriggerName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// Runbook, escalation rule and contact names.
bool IsName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

std::optional<Comparison> ParseComparison(std::string_view text) {
  if (text == ">") return Comparison::kGreater;
  if (text == ">=") return Comparison::kGreaterEqual;
  if (text == "<") return Comparison::kLess;
  if (text == "<=") return Comparison::kLessEqual;
  if (text == "==") return Comparison::kEqual;
  if (text == "!=") return Comparison::kNotEqual;
  return std::nullopt;
}

std::optional<std::chrono::sys_days> ParseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) return std::nullopt;
  }
  const auto year = core::ParseInt64(text.substr(0, 4));
  const auto month = core::ParseInt64(text.substr(5, 2));
  const auto day = core::ParseInt64(text.substr(8, 2));
  if (!year || !month || !day) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*year)),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date);
}

std::string FormatDate(std::chrono::sys_days days) {
  const std::chrono::year_month_day date(days);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

}  // namespace

std::string DurationText(core::Duration d) {
  using std::chrono::duration_cast;
  auto ms = duration_cast<std::chrono::milliseconds>(d).count();
  if (ms == 0) return "0s";
  std::string out;
  for (auto [unit, size] : {std::pair{"d", int64_t{86'400'000}}, std::pair{"h", int64_t{3'600'000}},
                            std::pair{"m", int64_t{60'000}}, std::pair{"s", int64_t{1000}},
                            std::pair{"ms", int64_t{1}}}) {
    if (ms >= size) {
      out += fmt::format("{}{}", ms / size, unit);
      ms %= size;
    }
  }
  return out;
}

namespace {

std::string NumberText(double value) { return fmt::format("{}", value); }

// ---------------------------------------------------------------------------------------
// The validator: walks the tree once, collecting every diagnostic.
// ---------------------------------------------------------------------------------------

class Validator : public config::YamlChecker {
 public:
  Validator(std::string file, const RunbookSchema& schema, std::string_view today)
      : file_(std::move(file)), schema_(schema), today_(ParseDate(today)) {}

  RunbookResult Build(const YamlNode& root) {
    Runbook runbook;
    runbook.path = file_;
    if (!root.is_null() && !root.is_map()) {
      Error(root.where, "",
            fmt::format("expected a mapping with `runbook:` and `triggers:`, found {}",
                        root.KindName()));
      return Finish(std::move(runbook));
    }
    bool has_metadata = false;
    bool has_triggers = false;
    for (const YamlEntry* entry : Entries(root, "", &TopLevelKeys())) {
      const std::string& key = entry->key;
      const YamlNode& value = entry->value;
      if (key == "runbook") {
        has_metadata = true;
        ParseMetadata(value, runbook.metadata);
      } else if (key == "triggers") {
        has_triggers = true;
        ParseTriggers(value, runbook.triggers);
      } else if (key == "phases") {
        ParsePhases(value, runbook.phases);
      } else if (key == "mitigations") {
        ParseMitigations(value, runbook.mitigations);
      } else if (key == "escalation") {
        ParseEscalation(value, runbook.escalation);
      } else if (key == "contacts") {
        ParseContacts(value, runbook.contacts);
      } else if (key == "prevention") {
        runbook.prevention = StringList(value, "prevention", "write each item as `- Review ...`");
      } else if (key == "messages") {
        ParseMessages(value, runbook.messages);
      }
    }
    const SourceLocation whole_file{file_, 0, 0, ""};
    if (!has_metadata) {
      Error(whole_file, "runbook", "missing",
            "add `runbook:` with name, version and owner (see the default runbook)");
    }
    if (!has_triggers) {
      Error(whole_file, "triggers", "missing", "add `triggers:` with at least one trigger");
    }
    CheckEscalationReferences(runbook);
    CheckOnTriggers(runbook);
    CheckContactLevels(runbook);
    return Finish(std::move(runbook));
  }

 private:
  RunbookResult Finish(Runbook runbook) {
    if (auto errors = TakeDiagnostics(runbook.warnings)) return tl::unexpected(std::move(*errors));
    return runbook;
  }

  // ----- values -----

  Setting<core::Duration> DurationValue(const YamlNode& node, const std::string& path,
                                        bool allow_zero, core::Duration max = kMaxDuration) {
    const Setting<std::string> text = String(node, path);
    Setting<core::Duration> out{true, std::nullopt, node.where};
    if (!text.value) return out;
    auto duration = core::ParseDuration(*text.value);
    if (!duration) {
      Error(node.where, path, duration.error().message, duration.error().hint);
    } else if (*duration > max || (!allow_zero && duration->count() == 0)) {
      Error(node.where, path, fmt::format("{} is out of range", *text.value),
            fmt::format("use a duration {} and at most {}", allow_zero ? "from 0s" : "above 0",
                        DurationText(max)));
    } else {
      out.value = *duration;
    }
    return out;
  }

  Setting<int> Level(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = String(node, path);
    Setting<int> out{true, std::nullopt, node.where};
    if (!text.value) return out;
    const auto level = core::ParseInt64(*text.value);
    if (!level || *level < 1 || *level > kMaxLevel) {
      Error(
          node.where, path,
          fmt::format("'{}' is not a level (a whole number from 1 to {})", *text.value, kMaxLevel),
          "level 1 is the first line (the DBA on call); higher levels are told later");
    } else {
      out.value = static_cast<int>(*level);
    }
    return out;
  }

  // A list of non-empty strings; `hint` for a value that is not a list.
  std::vector<std::string> StringList(const YamlNode& node, const std::string& path,
                                      std::string_view hint) {
    std::vector<std::string> out;
    if (node.is_null()) return out;
    if (node.kind != YamlNode::Kind::kSequence) {
      Error(node.where, path, fmt::format("expected a list, found {}", node.KindName()),
            std::string(hint));
      return out;
    }
    for (size_t i = 0; i < node.items.size(); ++i) {
      const Setting<std::string> item = String(node.items[i], fmt::format("{}[{}]", path, i));
      if (item.value) out.push_back(*item.value);
    }
    return out;
  }

  // "triggers[2] (slow_queries)": the item named in every message about it, when it has a
  // usable name.
  static std::string ItemPath(const YamlNode& item, std::string_view list, size_t index) {
    std::string path = fmt::format("{}[{}]", list, index);
    for (const YamlEntry& entry : item.entries) {
      if (entry.key == "name" && entry.value.kind == YamlNode::Kind::kScalar &&
          IsName(entry.value.scalar)) {
        path += fmt::format(" ({})", entry.value.scalar);
        break;
      }
    }
    return path;
  }

  // Reports a second use of a name in one list.
  void CheckUnique(std::map<std::string, SourceLocation>& seen, const std::string& name,
                   const SourceLocation& where, const std::string& path, std::string_view what) {
    auto [it, inserted] = seen.emplace(name, where);
    if (!inserted) {
      Error(where, path,
            fmt::format("duplicate {} name '{}' (first used at {})", what, name,
                        it->second.ToString()),
            fmt::format("{} names must be unique", what));
    }
  }

  // The mappings of a list (`list` names it in key paths): each item with its path
  // ("escalation[1] (database-unavailable)"); an item that is not a mapping is an error.
  // `each(item, path)` returns nothing.
  template <typename Each>
  void ForEachMapping(const YamlNode& node, const std::string& list, std::string_view what,
                      std::string_view keys, Each each) {
    for (size_t i = 0; i < node.items.size(); ++i) {
      const YamlNode& item = node.items[i];
      const std::string path = ItemPath(item, list, i);
      if (!item.is_map()) {
        Error(
            item.where, path,
            fmt::format("expected {} (a mapping with {}), found {}", what, keys, item.KindName()));
        continue;
      }
      each(item, path);
    }
  }

  // A list of mappings that may be left out: false (after an error) for anything but a list.
  bool ExpectList(const YamlNode& node, const std::string& list, std::string_view what,
                  std::string_view example) {
    if (node.kind == YamlNode::Kind::kSequence) return true;
    if (!node.is_null()) {
      Error(node.where, list, fmt::format("expected a list of {}, found {}", what, node.KindName()),
            fmt::format("write each one as a list item: `- name: {}`", example));
    }
    return false;
  }

  // ----- runbook: -----

  void ParseMetadata(const YamlNode& node, Metadata& out) {
    if (!ExpectMap(node, "runbook")) return;
    Setting<std::chrono::sys_days> last_reviewed;
    Setting<core::Duration> review_interval;
    std::set<std::string> seen;
    for (const YamlEntry* entry : Entries(node, "runbook", &MetadataKeys())) {
      const std::string& key = entry->key;
      const std::string path = JoinKeyPath("runbook", key);
      seen.insert(key);
      if (key == "review_interval") {
        review_interval = DurationValue(entry->value, path, false, kMaxReviewInterval);
        if (review_interval.value) out.review_interval = *review_interval.value;
        continue;
      }
      const Setting<std::string> text = String(entry->value, path);
      if (!text.value) continue;
      if (key == "name") {
        if (!IsName(*text.value)) {
          Error(text.where, path, fmt::format("invalid runbook name '{}'", *text.value),
                fmt::format("use letters, digits, '.', '_' and '-', at most {} characters",
                            kMaxNameLength));
        } else {
          out.name = *text.value;
        }
      } else if (key == "version") {
        out.version = *text.value;
      } else if (key == "owner") {
        out.owner = *text.value;
      } else if (key == "approved_by") {
        out.approved_by = *text.value;
      } else if (key == "last_reviewed") {
        last_reviewed = {true, ParseDate(*text.value), text.where};
        if (!last_reviewed.value) {
          Error(text.where, path, fmt::format("'{}' is not a date", *text.value),
                "write the date of the last review as YYYY-MM-DD, e.g. 2026-11-01");
        } else {
          out.last_reviewed = *text.value;
        }
      }
    }
    for (const char* required : {"name", "version", "owner"}) {
      if (seen.count(required) == 0) {
        Error(node.where, JoinKeyPath("runbook", required), "missing",
              std::string_view(required) == "owner"
                  ? "name who keeps this runbook up to date (a team or a person)"
                  : "");
      }
    }
    if (!today_ || !last_reviewed.value) return;
    if (*last_reviewed.value > *today_) {
      Warn(last_reviewed.where, "runbook.last_reviewed",
           fmt::format("{} is in the future (today is {})", out.last_reviewed, FormatDate(*today_)),
           "write the date of the last review");
      return;
    }
    if (!review_interval.value) return;
    const auto due =
        *last_reviewed.value + std::chrono::floor<std::chrono::days>(*review_interval.value);
    if (*today_ > due) {
      Warn(last_reviewed.where, "runbook.last_reviewed",
           fmt::format("runbook review overdue since {} (last_reviewed + review_interval)",
                       FormatDate(due)),
           "review it and update last_reviewed");
    }
  }

  // ----- triggers: -----

  void ParseTriggers(const YamlNode& node, std::vector<TriggerSpec>& out) {
    if (node.kind != YamlNode::Kind::kSequence || node.items.empty()) {
      Error(node.where, "triggers",
            node.kind == YamlNode::Kind::kSequence
                ? "is empty"
                : fmt::format("expected a list of triggers, found {}", node.KindName()),
            "write each trigger as a list item: `- name: slow_queries`; a runbook needs at "
            "least one");
      return;
    }
    std::map<std::string, SourceLocation> names;
    ForEachMapping(node, "triggers", "a trigger", "name, signal, threshold ...",
                   [&](const YamlNode& item, const std::string& path) {
                     TriggerSpec trigger;
                     trigger.where = item.where;
                     SourceLocation name_where;
                     if (!ParseTrigger(item, path, trigger, name_where)) return;
                     CheckUnique(names, trigger.name, name_where, JoinKeyPath(path, "name"),
                                 "trigger");
                     out.push_back(std::move(trigger));
                   });
  }

  // False when the trigger is unusable (no name, signal or threshold).
  bool ParseTrigger(const YamlNode& item, const std::string& path, TriggerSpec& out,
                    SourceLocation& name_where) {
    bool has_name = false;
    bool has_signal = false;
    bool has_threshold = false;
    Setting<double> resolve;
    bool op_valid = true;
    for (const YamlEntry* entry : Entries(item, path, &TriggerKeys())) {
      const std::string& key = entry->key;
      const YamlNode& value = entry->value;
      const std::string key_path = JoinKeyPath(path, key);
      if (key == "threshold") {
        const Setting<double> number = Number(value, key_path);
        has_threshold = true;
        if (number.value) out.threshold = *number.value;
        if (!number.value) op_valid = false;  // no side check against a bad threshold
      } else if (key == "resolve_threshold") {
        resolve = Number(value, key_path);
        out.resolve_threshold = resolve.value;
      } else if (key == "for") {
        out.for_duration = DurationValue(value, key_path, true).value.value_or(core::Duration{});
      } else if (key == "resolve_for") {
        out.resolve_for = DurationValue(value, key_path, true).value.value_or(core::Duration{});
      } else if (key == "targets") {
        out.targets = StringList(value, key_path, "write target names: [orders-primary]");
      } else if (key == "op") {
        op_valid = ParseOp(value, key_path, out.op) && op_valid;
      } else {
        const Setting<std::string> text = String(value, key_path, key == "summary");
        if (!text.value) continue;
        if (key == "name") {
          if (!IsTriggerName(*text.value)) {
            Error(text.where, key_path, fmt::format("invalid trigger name '{}'", *text.value),
                  fmt::format("use lower-case letters, digits and '_', at most {} characters "
                              "(it names the trigger in metrics and the API)",
                              kMaxNameLength));
            continue;
          }
          has_name = true;
          out.name = *text.value;
          name_where = text.where;
        } else if (key == "signal") {
          if (!schema_.signals.empty() && !Contains(schema_.signals, *text.value)) {
            Error(text.where, key_path, fmt::format("unknown signal '{}'", *text.value),
                  DidYouMean(*text.value, schema_.signals, "signals are"));
            continue;
          }
          has_signal = true;
          out.signal = *text.value;
        } else if (key == "severity") {
          if (*text.value == "critical") {
            out.severity = TriggerSeverity::kCritical;
          } else if (*text.value == "warning") {
            out.severity = TriggerSeverity::kWarning;
          } else {
            Error(text.where, key_path, fmt::format("unknown severity '{}'", *text.value),
                  DidYouMean(*text.value, SeverityNames(), "use one of"));
          }
        } else if (key == "summary") {
          out.summary = *text.value;
        }
      }
    }
    for (const auto& [key, present] : {std::pair{"name", has_name}, std::pair{"signal", has_signal},
                                       std::pair{"threshold", has_threshold}}) {
      if (present) continue;
      // A key written with a bad value was reported already.
      const std::string_view name = key;
      const bool written = std::any_of(item.entries.begin(), item.entries.end(),
                                       [name](const YamlEntry& e) { return e.key == name; });
      if (!written) {
        Error(item.where, JoinKeyPath(path, name), "missing",
              name == "name" ? "every trigger needs a unique name" : "");
      }
    }
    if (resolve.value && op_valid) CheckResolveSide(out, resolve.where, path);
    return has_name && has_signal && has_threshold;
  }

  bool ParseOp(const YamlNode& node, const std::string& path, Comparison& out) {
    if (node.kind == YamlNode::Kind::kScalar && node.scalar.empty()) {
      // `op: >` unquoted starts a YAML folded block: what follows is text, not the operator.
      Error(node.where, path, "is empty",
            "write the operator in quotes (op: \">\"): unquoted, > and | start a block of text");
      return false;
    }
    const Setting<std::string> text = String(node, path);
    if (!text.value) return false;
    const auto op = ParseComparison(core::Trim(*text.value));
    if (!op) {
      Error(text.where, path, fmt::format("unknown operator '{}'", *text.value),
            fmt::format("use one of {} (in quotes)", fmt::join(ComparisonTexts(), " ")));
      return false;
    }
    out = *op;
    return true;
  }

  // Hysteresis: the trigger clears once the value has gone past resolve_threshold, which so
  // lies on the far side of the threshold from the firing values.
  void CheckResolveSide(const TriggerSpec& trigger, const SourceLocation& where,
                        const std::string& path) {
    const std::string key_path = JoinKeyPath(path, "resolve_threshold");
    const double resolve = *trigger.resolve_threshold;
    const std::string op(ComparisonText(trigger.op));
    switch (trigger.op) {
      case Comparison::kGreater:
      case Comparison::kGreaterEqual:
        if (resolve > trigger.threshold) {
          Error(where, key_path,
                fmt::format("{} is on the wrong side of the threshold: above {} with op {}",
                            NumberText(resolve), NumberText(trigger.threshold), op),
                fmt::format("the trigger fires above the threshold and clears once the value "
                            "drops to resolve_threshold: use a value at or below {}",
                            NumberText(trigger.threshold)));
        }
        return;
      case Comparison::kLess:
      case Comparison::kLessEqual:
        if (resolve < trigger.threshold) {
          Error(where, key_path,
                fmt::format("{} is on the wrong side of the threshold: below {} with op {}",
                            NumberText(resolve), NumberText(trigger.threshold), op),
                fmt::format("the trigger fires below the threshold and clears once the value "
                            "rises to resolve_threshold: use a value at or above {}",
                            NumberText(trigger.threshold)));
        }
        return;
      case Comparison::kEqual:
      case Comparison::kNotEqual:
        Error(where, key_path, fmt::format("has no meaning with op {}", op),
              "resolve_threshold applies to >, >=, < and <=: remove it");
        return;
    }
  }

  // ----- phases: -----

  void ParsePhases(const YamlNode& node, Phases& out) {
    if (!ExpectMap(node, "phases")) return;
    // Where each deadline was written (absent: the default), for the order check.
    std::map<std::string, SourceLocation> written;
    for (const YamlEntry* entry : Entries(node, "phases", &PhaseKeys())) {
      const std::string path = JoinKeyPath("phases", entry->key);
      const bool verify = entry->key == "verify";
      const std::string field = verify ? "period" : "deadline";
      if (entry->value.kind == YamlNode::Kind::kScalar) {
        Error(entry->value.where, path, "expected a mapping, found a string",
              fmt::format("write {}: {{{}: {}}}", entry->key, field, entry->value.scalar));
        continue;
      }
      if (!ExpectMap(entry->value, path)) continue;
      const std::vector<std::string> keys = {field};
      for (const YamlEntry* inner : Entries(entry->value, path, &keys)) {
        const auto duration =
            DurationValue(inner->value, JoinKeyPath(path, field), /*allow_zero=*/false);
        if (!duration.value) continue;
        if (entry->key == "assess") out.assess_deadline = *duration.value;
        if (entry->key == "investigate") out.investigate_deadline = *duration.value;
        if (entry->key == "mitigate") out.mitigate_deadline = *duration.value;
        if (verify) out.verify_period = *duration.value;
        written[entry->key] = duration.where;
      }
    }
    const std::vector<std::pair<std::string, core::Duration>> deadlines = {
        {"assess", out.assess_deadline},
        {"investigate", out.investigate_deadline},
        {"mitigate", out.mitigate_deadline}};
    for (size_t i = 0; i + 1 < deadlines.size(); ++i) {
      const auto& [early, early_value] = deadlines[i];
      const auto& [late, late_value] = deadlines[i + 1];
      if (early_value <= late_value) continue;
      // Reported at the later deadline, unless only the earlier one was written.
      const std::string& at = written.count(late) != 0 ? late : early;
      auto label = [&](const std::string& phase, core::Duration value) {
        return fmt::format("{} {}{}", phase, DurationText(value),
                           written.count(phase) != 0 ? "" : " (the default)");
      };
      Error(written.count(at) != 0 ? written[at] : node.where,
            fmt::format("phases.{}.deadline", at),
            fmt::format("deadlines out of order: {} is later than {}", label(early, early_value),
                        label(late, late_value)),
            "deadlines count from the incident's opening: assess <= investigate <= mitigate");
    }
  }

  // ----- mitigations: -----

  void ParseMitigations(const YamlNode& node, std::vector<MitigationPolicy>& out) {
    if (!ExpectMap(node, "mitigations")) return;
    for (const YamlEntry* entry : Entries(node, "mitigations", nullptr)) {
      const std::string path = JoinKeyPath("mitigations", entry->key);
      if (!schema_.actions.empty() && !Contains(schema_.actions, entry->key)) {
        Error(entry->key_where, path, fmt::format("unknown action '{}'", entry->key),
              DidYouMean(entry->key, schema_.actions, "actions are"));
        continue;
      }
      if (entry->value.is_null()) {
        Error(entry->key_where, path, "has no value",
              "write {policy: approve, on: [FINDING_CODE, ...]}");
        continue;
      }
      if (!ExpectMap(entry->value, path)) continue;
      MitigationPolicy policy;
      policy.action = entry->key;
      policy.where = entry->key_where;
      ParseMitigation(entry->value, path, policy);
      out.push_back(std::move(policy));
    }
  }

  void ParseMitigation(const YamlNode& node, const std::string& path, MitigationPolicy& out) {
    const auto params_it = schema_.action_params.find(out.action);
    const std::vector<std::string>* params =
        params_it == schema_.action_params.end() ? nullptr : &params_it->second;
    std::vector<std::string> known = MitigationKeys();
    if (params != nullptr) known.insert(known.end(), params->begin(), params->end());
    for (const YamlEntry* entry : Entries(node, path, params != nullptr ? &known : nullptr)) {
      const std::string& key = entry->key;
      const std::string key_path = JoinKeyPath(path, key);
      if (key == "policy") {
        const Setting<std::string> text = String(entry->value, key_path);
        if (!text.value) continue;
        if (*text.value == "off") {
          out.policy = Policy::kOff;
        } else if (*text.value == "approve") {
          out.policy = Policy::kApprove;
        } else if (*text.value == "auto") {
          out.policy = Policy::kAuto;
        } else {
          Error(text.where, key_path, fmt::format("unknown policy '{}'", *text.value),
                DidYouMean(*text.value, PolicyNames(), "use one of"));
        }
      } else if (key == "on") {
        ParseOn(entry->value, key_path, out.on);
      } else if (key == "block") {
        const auto block = DurationValue(entry->value, key_path, true);
        if (block.value) out.block = *block.value;
      } else if (key == "after") {
        const auto after = DurationValue(entry->value, key_path, true);
        if (after.value) out.after = *after.value;
      } else {
        ParseParam(entry->value, key, key_path, out.params);
      }
    }
    if (out.policy != Policy::kOff && out.on.empty()) {
      Warn(out.where, JoinKeyPath(path, "on"),
           "lists nothing that proposes the action: it is never proposed",
           "list the finding codes, trigger.NAME or target.unavailable that propose it, or set "
           "policy: off");
    }
  }

  void ParseOn(const YamlNode& node, const std::string& path, std::vector<std::string>& out) {
    if (node.is_null()) return;
    if (node.kind != YamlNode::Kind::kSequence) {
      Error(node.where, path,
            fmt::format("expected a list of finding codes, trigger.NAME or target.unavailable, "
                        "found {}",
                        node.KindName()),
            "write on: [lock.root_blocker, query.long_running]");
      return;
    }
    for (size_t i = 0; i < node.items.size(); ++i) {
      const std::string item_path = fmt::format("{}[{}]", path, i);
      const Setting<std::string> code = String(node.items[i], item_path);
      if (!code.value) continue;
      const std::string& value = *code.value;
      if (value.starts_with(kOnTriggerPrefix)) {
        // Checked once every trigger is known (the triggers may come after).
        on_trigger_refs_.push_back(
            OnTriggerRef{value.substr(kOnTriggerPrefix.size()), code.where, item_path});
      } else if (value != kOnTargetUnavailable && !schema_.finding_codes.empty() &&
                 !Contains(schema_.finding_codes, value)) {
        std::vector<std::string> known = schema_.finding_codes;
        known.emplace_back(kOnTargetUnavailable);
        std::string hint = DidYouMean(value, known, "finding codes are");
        if (!hint.starts_with("did you mean")) {
          hint += "; or trigger.NAME (a trigger of this runbook) or target.unavailable";
        }
        Error(code.where, item_path, fmt::format("unknown finding code '{}'", value), hint);
        continue;
      }
      if (Contains(out, value)) {
        Error(code.where, item_path, fmt::format("'{}' is listed twice", value),
              "remove one of them");
        continue;
      }
      out.push_back(value);
    }
  }

  void CheckOnTriggers(const Runbook& runbook) {
    std::vector<std::string> names;
    for (const auto& trigger : runbook.triggers) names.push_back(trigger.name);
    for (const OnTriggerRef& ref : on_trigger_refs_) {
      if (Contains(names, ref.name)) continue;
      Error(ref.where, ref.path, fmt::format("no trigger is named '{}'", ref.name),
            names.empty() ? std::string("define it under triggers:")
                          : DidYouMean(ref.name, names, "triggers are"));
    }
  }

  void ParseParam(const YamlNode& node, const std::string& name, const std::string& path,
                  std::map<std::string, std::string>& out) {
    const Setting<std::string> text = String(node, path);
    if (!text.value) return;
    const auto type_it = schema_.param_types.find(name);
    const ParamType type =
        type_it == schema_.param_types.end() ? ParamType::kString : type_it->second;
    const std::string& value = *text.value;
    switch (type) {
      case ParamType::kString:
        break;
      case ParamType::kDuration:
        if (!DurationValue(node, path, true).value) return;
        break;
      case ParamType::kCount:
        if (!core::ParseUint64(value)) {
          Error(text.where, path, fmt::format("'{}' is not a whole number", value),
                "write a count such as 10");
          return;
        }
        break;
      case ParamType::kNumber: {
        const auto number = core::ParseDouble(value);
        if (!number || !std::isfinite(*number) || *number < 0) {
          Error(text.where, path, fmt::format("'{}' is not a number >= 0", value));
          return;
        }
        break;
      }
      case ParamType::kBool:
        if (value != "true" && value != "false") {
          Error(text.where, path, fmt::format("'{}' is not true or false", value),
                "write true or false");
          return;
        }
        break;
    }
    out[name] = value;
  }

  // ----- escalation: -----

  struct RuleRefs {
    SourceLocation trigger_where;
    std::string path;
  };

  void ParseEscalation(const YamlNode& node, std::vector<EscalationRule>& out) {
    if (!ExpectList(node, "escalation", "rules", "database-unavailable")) return;
    std::map<std::string, SourceLocation> names;
    ForEachMapping(
        node, "escalation", "a rule", "name, when, level ...",
        [&](const YamlNode& item, const std::string& path) { ParseRule(item, path, names, out); });
  }

  void ParseRule(const YamlNode& item, const std::string& path,
                 std::map<std::string, SourceLocation>& names, std::vector<EscalationRule>& out) {
    EscalationRule rule;
    rule.where = item.where;
    bool usable = true;
    std::optional<SourceLocation> phase_where;
    std::optional<SourceLocation> trigger_where;
    bool has_name = false;
    bool has_when = false;
    for (const YamlEntry* entry : Entries(item, path, &EscalationKeys())) {
      const std::string& key = entry->key;
      const std::string key_path = JoinKeyPath(path, key);
      if (key == "after") {
        rule.after = DurationValue(entry->value, key_path, true).value.value_or(rule.after);
        continue;
      }
      if (key == "level") {
        const auto level = Level(entry->value, key_path);
        if (level.value) rule.level = *level.value;
        continue;
      }
      const Setting<std::string> text = String(entry->value, key_path);
      if (!text.value) {
        if (key == "name" || key == "when") usable = false;
        continue;
      }
      if (key == "name") {
        has_name = true;
        if (!IsName(*text.value)) {
          Error(text.where, key_path, fmt::format("invalid rule name '{}'", *text.value),
                "use letters, digits, '.', '_' and '-'");
          usable = false;
          continue;
        }
        rule.name = *text.value;
        CheckUnique(names, rule.name, text.where, key_path, "escalation rule");
      } else if (key == "when") {
        has_when = true;
        const std::vector<std::string> whens = WhenNames();
        const auto it = std::find(whens.begin(), whens.end(), *text.value);
        if (it == whens.end()) {
          Error(text.where, key_path, fmt::format("unknown condition '{}'", *text.value),
                DidYouMean(*text.value, whens, "conditions are"));
          usable = false;
          continue;
        }
        rule.when = kAllWhen[it - whens.begin()];
      } else if (key == "phase") {
        phase_where = text.where;
        if (!Contains(DeadlinePhases(), *text.value)) {
          Error(text.where, key_path, fmt::format("unknown phase '{}'", *text.value),
                DidYouMean(*text.value, DeadlinePhases(), "phases with a deadline are"));
          continue;
        }
        rule.phase = *text.value;
      } else if (key == "trigger") {
        trigger_where = text.where;
        rule.trigger = *text.value;
      }
    }
    if (!has_name) Error(item.where, JoinKeyPath(path, "name"), "missing");
    if (!has_when) {
      Error(item.where, JoinKeyPath(path, "when"), "missing",
            fmt::format("conditions are: {}", fmt::join(WhenNames(), ", ")));
    }
    if (!has_name || !has_when || !usable) return;
    CheckRuleKeys(rule, path, item.where, phase_where, trigger_where);
    if (trigger_where) trigger_refs_.push_back(RuleRefs{*trigger_where, path});
    out.push_back(std::move(rule));
  }

  // phase: only (and always) with deadline_missed; trigger: with trigger_firing.
  void CheckRuleKeys(const EscalationRule& rule, const std::string& path,
                     const SourceLocation& where, const std::optional<SourceLocation>& phase_where,
                     const std::optional<SourceLocation>& trigger_where) {
    const bool deadline = rule.when == EscalationWhen::kDeadlineMissed;
    const bool trigger = rule.when == EscalationWhen::kTriggerFiring;
    if (deadline && !phase_where) {
      Error(where, JoinKeyPath(path, "phase"), "missing",
            "deadline_missed needs the phase whose deadline counts: assess, investigate or "
            "mitigate");
    }
    if (!deadline && phase_where) {
      Error(*phase_where, JoinKeyPath(path, "phase"), "only applies to when: deadline_missed",
            "remove it");
    }
    if (trigger && !trigger_where) {
      Error(where, JoinKeyPath(path, "trigger"), "missing",
            "trigger_firing needs the name of one of this runbook's triggers");
    }
    if (!trigger && trigger_where) {
      Error(*trigger_where, JoinKeyPath(path, "trigger"), "only applies to when: trigger_firing",
            "remove it");
    }
  }

  void CheckEscalationReferences(const Runbook& runbook) {
    std::vector<std::string> names;
    for (const auto& trigger : runbook.triggers) names.push_back(trigger.name);
    size_t ref = 0;
    for (const auto& rule : runbook.escalation) {
      if (rule.trigger.empty()) continue;
      const RuleRefs& refs = trigger_refs_[ref++];
      if (rule.when != EscalationWhen::kTriggerFiring) continue;
      if (!Contains(names, rule.trigger)) {
        Error(refs.trigger_where, JoinKeyPath(refs.path, "trigger"),
              fmt::format("no trigger is named '{}'", rule.trigger),
              DidYouMean(rule.trigger, names, "triggers are"));
      }
    }
  }

  // ----- messages: -----

  void ParseMessages(const YamlNode& node, MessageTemplates& out) {
    if (!ExpectMap(node, "messages")) return;
    for (const YamlEntry* entry : Entries(node, "messages", &MessageKeys())) {
      const std::string path = JoinKeyPath("messages", entry->key);
      if (entry->key == "redact_queries") {
        const auto value = String(entry->value, path);
        if (!value.value) continue;
        if (*value.value != "true" && *value.value != "false") {
          Error(value.where, path, fmt::format("'{}' is not true or false", *value.value),
                "write true (the default: statement text in messages becomes its fingerprint) "
                "or false");
          continue;
        }
        out.redact_queries = *value.value == "true";
        if (!out.redact_queries) {
          Warn(value.where, path, "statement text goes to the channels as the server ran it",
               "its literals may be customer data; keep true unless every channel is private");
        }
        continue;
      }
      if (entry->key == "update_every") {
        const auto every = DurationValue(entry->value, path, true);
        if (every.value && every.value->count() > 0 && *every.value < std::chrono::seconds(1)) {
          Error(every.where, path, fmt::format("{} is too often", DurationText(*every.value)),
                "status updates go to people: at least 1s (the runbook's is 30m), or 0s for "
                "none");
          continue;
        }
        if (every.value && every.value->count() > 0 && *every.value < std::chrono::minutes(1)) {
          Warn(every.where, path,
               fmt::format("a status update every {} floods the channels",
                           DurationText(*every.value)),
               "status updates go to people: 15m to 1h is usual (the runbook's is 30m); "
               "this short an interval is for tests");
        }
        if (every.value) out.update_every = *every.value;
        continue;
      }
      if (!ExpectMap(entry->value, path)) continue;
      MessageTemplateKind kind = MessageTemplateKind::kAlert;
      for (MessageTemplateKind k : kAllTemplateKinds) {
        if (MessageTemplateKindName(k) == entry->key) kind = k;
      }
      MessageTemplate& tpl = out.Of(kind);
      for (const YamlEntry* field : Entries(entry->value, path, &TemplateKeys())) {
        const std::string field_path = JoinKeyPath(path, field->key);
        const Setting<std::string> text = String(field->value, field_path);
        if (!text.value) continue;
        const bool title = field->key == "title";
        std::string value = *text.value;
        // A block scalar (`body: |`) ends with a newline: not part of the message.
        while (!value.empty() && value.back() == '\n') value.pop_back();
        if (title && value.find('\n') != std::string::npos) {
          Error(text.where, field_path, "has more than one line",
                "a title is one line (the subject, the chat message's first line); put the "
                "rest in body");
          continue;
        }
        if (!CheckTemplate(value, text.where, field_path)) continue;
        (title ? tpl.title : tpl.body) = std::move(value);
      }
    }
  }

  bool CheckTemplate(std::string_view text, const SourceLocation& where, const std::string& path) {
    auto parts = SplitTemplate(text);
    if (!parts) {
      Error(where, path, parts.error());
      return false;
    }
    bool ok = true;
    for (const TemplatePart& part : *parts) {
      if (!part.placeholder || Contains(MessagePlaceholders(), part.text)) continue;
      Error(where, path, fmt::format("unknown placeholder {{{}}}", part.text),
            DidYouMean(part.text, MessagePlaceholders(), "placeholders are"));
      ok = false;
    }
    return ok;
  }

  // ----- contacts: -----

  void ParseContacts(const YamlNode& node, std::vector<Contact>& out) {
    if (!ExpectList(node, "contacts", "contacts", "dba-on-call")) return;
    std::map<std::string, SourceLocation> names;
    ForEachMapping(node, "contacts", "a contact", "name, role, level",
                   [&](const YamlNode& item, const std::string& path) {
                     ParseContact(item, path, names, out);
                   });
  }

  void ParseContact(const YamlNode& item, const std::string& path,
                    std::map<std::string, SourceLocation>& names, std::vector<Contact>& out) {
    Contact contact;
    contact.where = item.where;
    SourceLocation level_where = item.where;
    bool has_name = false;
    for (const YamlEntry* entry : Entries(item, path, &ContactKeys())) {
      const std::string& key = entry->key;
      const std::string key_path = JoinKeyPath(path, key);
      if (key == "level") {
        const auto level = Level(entry->value, key_path);
        if (level.value) contact.level = *level.value;
        level_where = entry->value.where;
      } else if (key == "channels") {
        contact.channels = StringList(entry->value, key_path, "write [dba-slack, pager]");
        contact.where = entry->value.where;
      } else {
        const Setting<std::string> text = String(entry->value, key_path);
        if (!text.value) continue;
        if (key == "role") {
          contact.role = *text.value;
        } else if (!IsName(*text.value)) {
          has_name = true;
          Error(text.where, key_path, fmt::format("invalid contact name '{}'", *text.value),
                "use letters, digits, '.', '_' and '-'");
        } else {
          has_name = true;
          contact.name = *text.value;
          CheckUnique(names, contact.name, text.where, key_path, "contact");
        }
      }
    }
    if (!has_name) Error(item.where, JoinKeyPath(path, "name"), "missing");
    if (contact.name.empty()) return;
    contact_levels_.push_back({level_where, JoinKeyPath(path, "level")});
    out.push_back(std::move(contact));
  }

  // A contact whose level no rule escalates to is never told anything.
  void CheckContactLevels(const Runbook& runbook) {
    std::set<int> reached;
    for (const auto& rule : runbook.escalation) reached.insert(rule.level);
    for (size_t i = 0; i < runbook.contacts.size() && i < contact_levels_.size(); ++i) {
      const Contact& contact = runbook.contacts[i];
      if (reached.count(contact.level) != 0) continue;
      Warn(contact_levels_[i].first, contact_levels_[i].second,
           fmt::format("no escalation rule reaches level {}: {} is never notified", contact.level,
                       contact.name),
           fmt::format("add an escalation rule with level: {}, or change the contact's level",
                       contact.level));
    }
  }

  std::string file_;
  const RunbookSchema& schema_;
  std::optional<std::chrono::sys_days> today_;
  std::vector<RuleRefs> trigger_refs_;
  // trigger.NAME entries of the mitigations' `on` lists.
  struct OnTriggerRef {
    std::string name;
    SourceLocation where;
    std::string path;
  };
  std::vector<OnTriggerRef> on_trigger_refs_;  // of the rules that name a trigger, in order
  std::vector<std::pair<SourceLocation, std::string>> contact_levels_;  // per contact kept
};

}  // namespace

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

std::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kOff:
      return "off";
    case Policy::kApprove:
      return "approve";
    case Policy::kAuto:
      return "auto";
  }
  return "off";
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

bool TriggerSpec::AppliesTo(std::string_view target) const {
  return targets.empty() || std::find(targets.begin(), targets.end(), target) != targets.end();
}

std::string TriggerSpec::Describe() const {
  return fmt::format("{} {} {} for {}", signal, ComparisonText(op), NumberText(threshold),
                     DurationText(for_duration));
}

const TriggerSpec* Runbook::FindTrigger(std::string_view name) const {
  for (const auto& trigger : triggers) {
    if (trigger.name == name) return &trigger;
  }
  return nullptr;
}

const MitigationPolicy* Runbook::FindMitigation(std::string_view action) const {
  for (const auto& mitigation : mitigations) {
    if (mitigation.action == action) return &mitigation;
  }
  return nullptr;
}

std::vector<const Contact*> Runbook::ContactsAt(int level) const {
  std::vector<const Contact*> out;
  for (const auto& contact : contacts) {
    if (contact.level == level) out.push_back(&contact);
  }
  return out;
}

RunbookResult ParseRunbook(std::string_view yaml_text, const std::string& display_path,
                           const RunbookSchema& schema, std::string_view today) {
  auto root = config::ParseYamlDocument(yaml_text, display_path);
  if (!root) return tl::unexpected(std::vector<Diagnostic>{root.error()});
  Validator validator(display_path, schema, today);
  return validator.Build(*root);
}

RunbookResult LoadRunbook(const std::string& path, const RunbookSchema& schema,
                          std::string_view today) {
  auto text = config::ReadYamlFile(
      path, "runbook", kMaxRunbookBytes,
      "check the path given to --runbook (without it, the built-in runbook is used)");
  if (!text) return tl::unexpected(std::vector<Diagnostic>{text.error()});
  return ParseRunbook(*text, path, schema, today);
}

RunbookResult DefaultRunbook(const RunbookSchema& schema, std::string_view today) {
  return ParseRunbook(DefaultRunbookText(), "(built-in)", schema, today);
}

}  // namespace dbrunbook::runbook
