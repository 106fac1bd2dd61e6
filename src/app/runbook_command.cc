#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "app/commands.h"
#include "app/runbooks.h"
#include "app/targets.h"
#include "core/strings.h"
#include "steps/finding_codes.h"
#include "watch/signals.h"

namespace dbrunbook::app {
namespace {

using runbook::ParamType;

size_t CountErrors(const std::vector<config::Diagnostic>& diagnostics) {
  return static_cast<size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                           [](const auto& d) { return d.is_error(); }));
}

std::string Plural(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

// Triggers may be limited to some targets; those must be configured.
std::vector<config::Diagnostic> CheckTriggerTargets(const runbook::Runbook& book,
                                                    const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& target : config.targets) names.push_back(target.name);
  std::vector<config::Diagnostic> out;
  for (size_t i = 0; i < book.triggers.size(); ++i) {
    const auto& trigger = book.triggers[i];
    for (const auto& name : trigger.targets) {
      if (config.Find(name) != nullptr) continue;
      const std::string close = core::ClosestMatch(name, names);
      out.push_back(
          config::Diagnostic{config::Diagnostic::Severity::kError, trigger.where,
                             fmt::format("triggers ({}).targets", trigger.name),
                             fmt::format("no target is named '{}' in {}", name, config.path),
                             close.empty() ? fmt::format("targets are: {}", fmt::join(names, ", "))
                                           : fmt::format("did you mean {}?", close)});
    }
  }
  return out;
}

// Contacts name notification channels; a name that is not configured would leave the contact
// uninformed at 3 a.m., so it is an error, not a warning.
std::vector<config::Diagnostic> CheckContactChannels(const runbook::Runbook& book,
                                                     const config::Config& config) {
  std::vector<std::string> names;
  for (const auto& channel : config.notify.channels) names.push_back(channel.name);
  std::vector<config::Diagnostic> out;
  for (const auto& contact : book.contacts) {
    for (const auto& name : contact.channels) {
      if (config.notify.Find(name) != nullptr) continue;
      const std::string close = core::ClosestMatch(name, names);
      out.push_back(config::Diagnostic{
          config::Diagnostic::Severity::kError, contact.where,
          fmt::format("contacts ({}).channels", contact.name),
          fmt::format("no notification channel is named '{}' in {}", name, config.path),
          !close.empty()  ? fmt::format("did you mean {}?", close)
          : names.empty() ? std::string("add it under notify.channels in the configuration")
                          : fmt::format("channels are: {}", fmt::join(names, ", "))});
    }
  }
  return out;
}

}  // namespace

runbook::RunbookSchema WatchRunbookSchema() {
  runbook::RunbookSchema schema;
  schema.signals = watch::SignalNames();
  schema.actions = {"kill-queries", "failover", "scale-up", "tune", "index"};
  schema.finding_codes = steps::FindingCodes();
  schema.action_params = {
      {"kill-queries",
       {"busy_time", "idle_time", "min_wait", "max_victims", "victims", "match_user", "ignore_user",
        "match_host", "match_db", "match_command", "match_state", "match_info", "root_blockers",
        "kill_query"}},
      {"failover", {"to", "max_lag", "wait_timeout", "verify_timeout"}},
      {"scale-up",
       {"instance_class", "max_capacity", "min_capacity", "in_maintenance_window", "wait",
        "poll_interval"}},
      {"tune", {"only", "interval"}},
      {"index", {"min_rows", "limit", "max_indexes", "max_table_size_mib"}},
  };
  schema.param_types = {
      {"busy_time", ParamType::kDuration},
      {"idle_time", ParamType::kDuration},
      {"min_wait", ParamType::kDuration},
      {"max_victims", ParamType::kCount},
      {"root_blockers", ParamType::kBool},
      {"kill_query", ParamType::kBool},
      {"max_lag", ParamType::kDuration},
      {"wait_timeout", ParamType::kDuration},
      {"verify_timeout", ParamType::kDuration},
      {"max_capacity", ParamType::kNumber},
      {"min_capacity", ParamType::kNumber},
      {"in_maintenance_window", ParamType::kBool},
      {"wait", ParamType::kDuration},
      {"poll_interval", ParamType::kDuration},
      {"interval", ParamType::kDuration},
      {"min_rows", ParamType::kCount},
      {"limit", ParamType::kCount},
      {"max_indexes", ParamType::kCount},
      {"max_table_size_mib", ParamType::kCount},
  };
  return schema;
}

std::string TodayUtc(const core::Clock& clock) {
  const std::time_t now = std::chrono::system_clock::to_time_t(clock.WallNow());
  std::tm utc{};
  gmtime_r(&now, &utc);
  return fmt::format("{:04}-{:02}-{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

runbook::RunbookResult LoadRunbookOrDefault(const std::optional<std::string>& path,
                                            const core::Clock& clock) {
  if (path) return runbook::LoadRunbook(*path, WatchRunbookSchema(), TodayUtc(clock));
  return runbook::DefaultRunbook(WatchRunbookSchema(), TodayUtc(clock));
}

int CheckRunbookFile(Env& env, const std::optional<std::string>& path,
                     const config::Config* config) {
  const std::string shown = path.value_or("(built-in runbook)");
  auto loaded = LoadRunbookOrDefault(path, env.clock);
  if (!loaded) {
    PrintDiagnostics(env, loaded.error());
    env.err << fmt::format("{}: {}\n", shown, Plural(CountErrors(loaded.error()), "error"));
    return 1;
  }
  if (config != nullptr) {
    auto errors = CheckTriggerTargets(*loaded, *config);
    const auto channel_errors = CheckContactChannels(*loaded, *config);
    errors.insert(errors.end(), channel_errors.begin(), channel_errors.end());
    if (!errors.empty()) {
      PrintDiagnostics(env, errors);
      PrintDiagnostics(env, loaded->warnings);
      env.err << fmt::format("{}: {}\n", shown, Plural(errors.size(), "error"));
      return 1;
    }
  }
  PrintDiagnostics(env, loaded->warnings);
  env.out << fmt::format("{}: ok, runbook {} version {}, {}\n", shown, loaded->metadata.name,
                         loaded->metadata.version, Plural(loaded->triggers.size(), "trigger"));
  if (!loaded->warnings.empty()) {
    env.out << fmt::format("{} warning(s) above\n", loaded->warnings.size());
  }
  return kExitOk;
}

int RunRunbookPrintDefault(Env& env) {
  env.out << runbook::DefaultRunbookText();
  return kExitOk;
}

int RunRunbookShow(Env& env, const RunbookShowOptions& options) {
  auto loaded = LoadRunbookOrDefault(options.runbook, env.clock);
  const std::string shown = options.runbook.value_or("(built-in runbook)");
  if (!loaded) {
    PrintDiagnostics(env, loaded.error());
    env.err << fmt::format("{}: {}\n", shown, Plural(CountErrors(loaded.error()), "error"));
    return 1;
  }
  PrintDiagnostics(env, loaded->warnings);
  const runbook::Runbook& book = *loaded;
  const runbook::Metadata& meta = book.metadata;
  std::ostream& out = env.out;
  out << fmt::format("Runbook {} version {}, from {}\n", meta.name, meta.version, shown);
  out << fmt::format(
      "  owner {}{}", meta.owner,
      meta.approved_by.empty() ? "" : fmt::format(", approved by {}", meta.approved_by));
  if (!meta.last_reviewed.empty()) out << fmt::format(", last reviewed {}", meta.last_reviewed);
  if (meta.review_interval) {
    out << fmt::format(", review every {}", runbook::DurationText(*meta.review_interval));
  }
  out << "\n\nTriggers\n";
  size_t name_width = 4;
  size_t condition_width = 9;
  std::vector<std::string> conditions;
  for (const auto& t : book.triggers) {
    std::string condition = t.Describe();
    if (t.resolve_threshold) {
      condition += fmt::format(", clears past {}", *t.resolve_threshold);
    }
    if (t.resolve_for.count() > 0) {
      condition += fmt::format(", clear for {}", runbook::DurationText(t.resolve_for));
    }
    name_width = std::max(name_width, t.name.size());
    condition_width = std::max(condition_width, condition.size());
    conditions.push_back(std::move(condition));
  }
  out << fmt::format("  {:<{}}  {:<8}  {:<{}}  {}\n", "NAME", name_width, "SEVERITY", "CONDITION",
                     condition_width, "TARGETS");
  for (size_t i = 0; i < book.triggers.size(); ++i) {
    const auto& t = book.triggers[i];
    out << fmt::format("  {:<{}}  {:<8}  {:<{}}  {}\n", t.name, name_width,
                       runbook::TriggerSeverityName(t.severity), conditions[i], condition_width,
                       t.targets.empty() ? "all" : fmt::format("{}", fmt::join(t.targets, ", ")));
  }
  const runbook::Phases& p = book.phases;
  out << "\nPhases (deadlines from the incident's opening)\n";
  out << fmt::format("  assess       by {}\n", runbook::DurationText(p.assess_deadline));
  out << fmt::format("  investigate  by {}\n", runbook::DurationText(p.investigate_deadline));
  out << fmt::format("  mitigate     by {}\n", runbook::DurationText(p.mitigate_deadline));
  out << fmt::format("  verify       recovery watched for {}\n",
                     runbook::DurationText(p.verify_period));
  out << "\nMitigations (actions not listed: off)\n";
  if (book.mitigations.empty()) out << "  none\n";
  for (const auto& m : book.mitigations) {
    std::vector<std::string> params;
    for (const auto& [key, value] : m.params) params.push_back(fmt::format("{}={}", key, value));
    const bool unavailable =
        std::find(m.on.begin(), m.on.end(), runbook::kOnTargetUnavailable) != m.on.end();
    out << fmt::format("  {:<13} {:<8} on {}; block {}{}{}\n", m.action,
                       runbook::PolicyName(m.policy),
                       m.on.empty() ? "nothing" : fmt::format("{}", fmt::join(m.on, ", ")),
                       runbook::DurationText(m.block),
                       unavailable ? "; after " + runbook::DurationText(m.after) : "",
                       params.empty() ? "" : fmt::format("; {}", fmt::join(params, " ")));
  }
  out << "\nEscalation\n";
  if (book.escalation.empty()) out << "  none\n";
  for (const auto& rule : book.escalation) {
    std::string condition(runbook::EscalationWhenName(rule.when));
    if (!rule.phase.empty()) condition += fmt::format(" ({})", rule.phase);
    if (!rule.trigger.empty()) condition += fmt::format(" ({})", rule.trigger);
    if (rule.after.count() > 0) {
      condition += fmt::format(" for {}", runbook::DurationText(rule.after));
    }
    std::vector<std::string> who;
    for (const auto* contact : book.ContactsAt(rule.level)) who.push_back(contact->name);
    out << fmt::format("  level {}  {:<28} {}  -> {}\n", rule.level, rule.name, condition,
                       who.empty() ? "nobody" : fmt::format("{}", fmt::join(who, ", ")));
  }
  out << "\nContacts\n";
  if (book.contacts.empty()) out << "  none\n";
  for (const auto& c : book.contacts) {
    out << fmt::format(
        "  level {}  {:<20} {}{}\n", c.level, c.name, c.role,
        c.channels.empty() ? "" : fmt::format(" (channels: {})", fmt::join(c.channels, ", ")));
  }
  out << "\nPrevention checklist\n";
  if (book.prevention.empty()) out << "  none\n";
  for (const auto& item : book.prevention) out << "  - " << item << "\n";
  out << "\nMessages ("
      << (book.messages.update_every.count() > 0
              ? "a status update every " + runbook::DurationText(book.messages.update_every)
              : std::string("no status updates"))
      << "; titles, the bodies are in the file)\n";
  for (auto kind :
       {runbook::MessageTemplateKind::kAlert, runbook::MessageTemplateKind::kUpdate,
        runbook::MessageTemplateKind::kEscalation, runbook::MessageTemplateKind::kAcknowledged,
        runbook::MessageTemplateKind::kResolution}) {
    out << fmt::format("  {:<13} {}\n", runbook::MessageTemplateKindName(kind),
                       book.messages.Of(kind).title);
  }
  return kExitOk;
}

}  // namespace dbrunbook::app
