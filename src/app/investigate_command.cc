#include <fmt/format.h>

#include <set>
#include <string>
#include <utility>

#include "app/commands.h"
#include "app/slow_log_action.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "report/findings.h"
#include "steps/investigate.h"

namespace dbrunbook::app {
namespace {

constexpr int kExitCannotInvestigate = 3;

int CannotInvestigate(Env& env, const InvestigateCommandOptions& options, const std::string& target,
                      const std::string& endpoint, const core::Error& error) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(report::InvestigationErrorJson(target, endpoint, error)) << "\n";
  }
  env.err << "dbrunbook investigate: cannot investigate " << target << ": " << error.ToString()
          << "\n";
  return kExitCannotInvestigate;
}

}  // namespace

int RunInvestigate(Env& env, const GlobalOptions& global,
                   const InvestigateCommandOptions& options) {
  const bool slow_log_action = options.enable_slow_log || options.restore_slow_log;
  if (options.enable_slow_log && options.restore_slow_log) {
    env.err << "dbrunbook investigate: --enable-slow-log and --restore-slow-log exclude each "
               "other\n";
    return kExitCannotInvestigate;
  }
  if (options.apply && !slow_log_action) {
    env.err << "dbrunbook investigate: --apply goes with --enable-slow-log or --restore-slow-log "
               "(the investigation itself never changes anything)\n";
    return kExitCannotInvestigate;
  }
  if (slow_log_action && (!options.only.empty() || options.since)) {
    env.err << "dbrunbook investigate: --only and --since are for the investigation; "
               "--enable-slow-log / --restore-slow-log run alone\n";
    return kExitCannotInvestigate;
  }
  const std::vector<std::string> groups = steps::InvestigationGroups();
  std::set<std::string> only;
  for (const auto& group : options.only) {
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
      const std::string suggestion = core::ClosestMatch(group, groups);
      env.err << fmt::format("dbrunbook investigate: --only: unknown group '{}' — {}\n", group,
                             suggestion.empty()
                                 ? fmt::format("groups are {}", fmt::join(groups, ", "))
                                 : fmt::format("did you mean {}?", suggestion));
      return kExitCannotInvestigate;
    }
    only.insert(group);
  }

  auto lookup = LookupTarget(env, global, options.selection, "investigate");
  if (!lookup) return kExitCannotInvestigate;
  // The configuration's `investigate:` limits, then the command line's.
  steps::InvestigateOptions investigate =
      InvestigateOptionsFor(lookup->config ? &*lookup->config : nullptr);
  investigate.only = std::move(only);
  if (options.since) investigate.digest_interval = *options.since;
  if (!lookup->resolved) {
    return CannotInvestigate(env, options, lookup->display_name, lookup->endpoint,
                             lookup->resolved.error());
  }
  const auto& resolved = *lookup->resolved;
  auto target = collect::OpenTargetSession(env.sessions, resolved.options, env.clock);
  if (!target) {
    return CannotInvestigate(env, options, resolved.name, resolved.options.Endpoint(),
                             target.error());
  }
  if (slow_log_action) {
    SlowLogActionOptions action;
    action.kind =
        options.restore_slow_log ? SlowLogActionKind::kRestore : SlowLogActionKind::kEnable;
    action.seconds = options.enable_slow_log.value_or(action.seconds);
    action.apply = options.apply;
    return RunSlowLogAction(env, *target, action, options.format);
  }
  const auto steps = steps::MakeInvestigationSteps(investigate);
  const steps::Investigation investigation =
      steps::RunInvestigation(*target, env.clock, investigate, steps);
  switch (options.format) {
    case report::Format::kJson:
      env.out << report::ToJsonText(report::InvestigationJson(investigation)) << "\n";
      break;
    case report::Format::kMarkdown:
      env.out << report::RenderInvestigationMarkdown(investigation);
      break;
    case report::Format::kTable:
      env.out << report::RenderInvestigationTable(
          investigation, report::TableStyle{UseColor(env, global), env.terminal_width});
      break;
  }
  return steps::ExitCodeFor(investigation);
}

}  // namespace dbrunbook::app
