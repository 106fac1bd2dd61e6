#include <fmt/format.h>

#include "app/commands.h"
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
  const std::vector<std::string> groups = steps::InvestigationGroups();
  steps::InvestigateOptions investigate;
  for (const auto& group : options.only) {
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
      const std::string suggestion = core::ClosestMatch(group, groups);
      env.err << fmt::format("dbrunbook investigate: --only: unknown group '{}' — {}\n", group,
                             suggestion.empty()
                                 ? fmt::format("groups are {}", fmt::join(groups, ", "))
                                 : fmt::format("did you mean {}?", suggestion));
      return kExitCannotInvestigate;
    }
    investigate.only.insert(group);
  }
  if (options.since) investigate.digest_interval = *options.since;

  auto lookup = LookupTarget(env, global, options.selection, "investigate");
  if (!lookup) return kExitCannotInvestigate;
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
  const auto steps = steps::MakeInvestigationSteps();
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
