#include <fmt/format.h>

#include <variant>

#include "app/commands.h"
#include "app/targets.h"
#include "steps/connectivity.h"

namespace dbrunbook::app {

int RunCheck(Env& env, const GlobalOptions& global, const CheckCommandOptions& options) {
  // Ad-hoc targets: every --dsn, or the connection of a --defaults-file given alone.
  std::vector<std::string> ad_hoc = options.dsns;
  if (ad_hoc.empty() && options.targets.empty() && !options.credentials.defaults_file.empty()) {
    ad_hoc.emplace_back();
  }
  const bool need_config = !options.targets.empty() || ad_hoc.empty();
  auto loaded = LoadConfiguration(env, global, need_config);
  if (!loaded) return kExitUsage;
  const config::Config* config = loaded->has_value() ? &**loaded : nullptr;

  std::vector<std::string> names = options.targets;
  if (names.empty() && ad_hoc.empty() && config != nullptr) {
    for (const auto& t : config->targets) names.push_back(t.name);
    if (names.empty()) {
      env.err << "dbrunbook check: no targets configured in " << config->path
              << " — add targets, or give --dsn URL\n";
      return kExitUsage;
    }
  }

  // Resolve everything first: a typo in a name is a usage error, not an unreachable target.
  // A target whose credentials cannot be read is reported as unreachable, in its place.
  std::vector<std::variant<ResolvedTarget, steps::ConnectivityResult>> plan;
  for (const auto& name : names) {
    auto resolved = ResolveNamedTarget(env, config, name);
    if (resolved) {
      plan.emplace_back(std::move(*resolved));
      continue;
    }
    if (resolved.error().code == core::ErrorCode::kNotFound) {
      env.err << "dbrunbook check: " << resolved.error().ToString() << "\n";
      return kExitUsage;
    }
    steps::ConnectivityResult failed;
    failed.target = name;
    const config::TargetConfig* target = config != nullptr ? config->Find(name) : nullptr;
    if (target != nullptr) failed.endpoint = target->connect.Endpoint();
    failed.error = resolved.error();
    plan.emplace_back(std::move(failed));
  }
  for (const auto& dsn : ad_hoc) {
    auto resolved = ResolveDsnTarget(env, dsn, options.credentials);
    if (!resolved) {
      env.err << "dbrunbook check: " << (dsn.empty() ? "--defaults-file: " : "--dsn: ")
              << resolved.error().ToString() << "\n";
      return kExitUsage;
    }
    plan.emplace_back(std::move(*resolved));
  }

  std::vector<steps::ConnectivityResult> results;
  for (auto& item : plan) {
    if (const auto* target = std::get_if<ResolvedTarget>(&item)) {
      results.push_back(
          steps::CheckConnectivity(env.sessions, target->options, env.clock, options.round_trips));
    } else {
      results.push_back(std::move(std::get<steps::ConnectivityResult>(item)));
    }
  }

  switch (options.format) {
    case report::Format::kJson:
      env.out << report::ToJsonText(report::ConnectivityJson(results)) << "\n";
      break;
    case report::Format::kMarkdown:
      env.out << report::RenderConnectivityMarkdown(results);
      break;
    case report::Format::kTable:
      env.out << report::RenderConnectivityTable(
          results, report::TableStyle{UseColor(env, global), env.terminal_width});
      break;
  }
  for (const auto& r : results) {
    if (!r.reachable()) return 1;
  }
  return kExitOk;
}

}  // namespace dbrunbook::app
