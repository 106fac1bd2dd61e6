#include <fmt/format.h>

#include "app/cloud.h"
#include "app/cloud_checks.h"
#include "app/commands.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "steps/assess.h"

namespace dbrunbook::app {
namespace {

// `cloud_checks`: what the cloud says about a target that cannot be reached (an instance that
// is rebooting, failing over or out of storage is the answer to "why").
int CannotAssess(Env& env, const AssessCommandOptions& options, const std::string& target,
                 const std::string& endpoint, const core::Error& error,
                 const std::vector<steps::Check>& cloud_checks = {}) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(
                   report::AssessmentErrorJson(target, endpoint, error, cloud_checks))
            << "\n";
  } else if (!cloud_checks.empty()) {
    env.out << fmt::format("{} cannot be reached; what the cloud says about it:\n", target);
    for (const auto& c : cloud_checks) {
      env.out << fmt::format("  {:<9} {:<36} {}{}\n", steps::LevelName(c.level), c.title, c.display,
                             c.detail.empty() ? "" : "  (" + c.detail + ")");
    }
  }
  env.err << "dbrunbook assess: cannot assess " << target << ": " << error.ToString() << "\n";
  return kExitCannotAssess;
}

}  // namespace

int RunAssess(Env& env, const GlobalOptions& global, const AssessCommandOptions& options) {
  auto lookup = LookupTarget(env, global, options.selection, "assess");
  if (!lookup) return kExitCannotAssess;
  if (!lookup->resolved) {
    return CannotAssess(env, options, lookup->display_name, lookup->endpoint,
                        lookup->resolved.error());
  }
  const auto& resolved = lookup->resolved;
  const config::Config* config = lookup->config ? &*lookup->config : nullptr;
  steps::AssessOptions assess_options = AssessOptionsFor(config, resolved->config);
  if (options.interval) assess_options.interval = *options.interval;

  // The cloud's view of a target with a cloud: section (a failing cloud is one unknown check).
  std::unique_ptr<cloud::CloudProvider> provider;
  std::optional<CloudCheckSource> cloud_checks;
  if (resolved->config != nullptr && resolved->config->cloud) {
    const cloud::CloudResource resource = CloudResourceOf(*resolved->config->cloud);
    auto made = MakeCloudProvider(env, resource);
    if (made) {
      provider = std::move(*made);
      cloud_checks.emplace(*provider, resource);
      assess_options.extra_sources.push_back(&*cloud_checks);
    } else {
      env.err << "dbrunbook assess: cloud checks skipped: " << made.error().ToString() << "\n";
    }
  }

  auto target = collect::OpenTargetSession(env.sessions, resolved->options, env.clock);
  if (!target) {
    return CannotAssess(env, options, resolved->name, resolved->options.Endpoint(), target.error(),
                        cloud_checks ? steps::RunCheckSource(*cloud_checks, assess_options)
                                     : std::vector<steps::Check>{});
  }

  const steps::Assessment assessment = steps::RunAssessment(*target, env.clock, assess_options);
  switch (options.format) {
    case report::Format::kJson:
      env.out << report::ToJsonText(report::AssessmentJson(assessment)) << "\n";
      break;
    case report::Format::kMarkdown:
      env.out << report::RenderAssessmentMarkdown(assessment);
      break;
    case report::Format::kTable:
      env.out << report::RenderAssessmentTable(
          assessment, report::TableStyle{UseColor(env, global), env.terminal_width});
      break;
  }
  return steps::ExitCodeFor(assessment.overall);
}

}  // namespace dbrunbook::app
