#include "app/targets.h"

#include <fmt/format.h>

#include <set>

#include "config/dsn.h"

namespace dbrunbook::app {

void PrintDiagnostics(Env& env, const std::vector<config::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) env.err << d.ToString() << "\n";
}

config::ConfigSchema Schema() {
  config::ConfigSchema schema;
  for (const auto& spec : steps::AssessChecks()) schema.check_names.emplace_back(spec.id);
  return schema;
}

core::Result<std::optional<config::Config>> LoadConfiguration(Env& env, const GlobalOptions& global,
                                                              bool required) {
  auto path = config::FindConfigFile(global.config_path, env.environment, env.working_dir);
  if (!path) {
    if (!required && !global.config_path && path.error().code == core::ErrorCode::kNotFound) {
      return std::optional<config::Config>();
    }
    env.err << "dbrunbook: " << path.error().ToString() << "\n";
    return core::Fail(path.error());
  }
  auto loaded = config::LoadConfig(*path, env.environment, Schema());
  if (!loaded) {
    PrintDiagnostics(env, loaded.error());
    return core::MakeError(core::ErrorCode::kInvalidConfig, fmt::format("{} is not valid", *path),
                           fmt::format("run: dbrunbook config check {}", *path));
  }
  PrintDiagnostics(env, loaded->warnings);
  if (!global.log_level) {
    // The configuration validated log.level already.
    env.log.set_level(core::ParseLogLevel(loaded->log_level).value_or(spdlog::level::info));
  }
  env.log.debug("configuration: {} ({} targets)", *path, loaded->targets.size());
  return std::optional<config::Config>(std::move(*loaded));
}

core::Result<ResolvedTarget> ResolveNamedTarget(Env& env, const config::Config* config_or_null,
                                                const std::string& name) {
  if (config_or_null == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("no configuration file to look up target '{}' in", name),
                           "give --config FILE, or an ad-hoc --dsn URL");
  }
  const config::Config& config = *config_or_null;
  const config::TargetConfig* target = config.Find(name);
  if (target == nullptr) {
    std::vector<std::string> names;
    for (const auto& t : config.targets) names.push_back(t.name);
    const std::string suggestion = core::ClosestMatch(name, names);
    return core::MakeError(
        core::ErrorCode::kNotFound, fmt::format("no target named '{}' in {}", name, config.path),
        suggestion.empty() ? fmt::format("configured targets: {}",
                                         names.empty() ? std::string("none")
                                                       : fmt::format("{}", fmt::join(names, ", ")))
                           : fmt::format("did you mean {}?", suggestion));
  }
  std::vector<config::Diagnostic> warnings;
  auto options = config::ResolveConnectOptions(*target, env.environment, &warnings);
  PrintDiagnostics(env, warnings);
  if (!options) return core::Fail(options.error());
  return ResolvedTarget{target->name, std::move(*options), target};
}

core::Result<ResolvedTarget> ResolveDsnTarget(Env& env, const std::string& dsn,
                                              const config::DsnCredentials& credentials) {
  std::vector<config::Diagnostic> warnings;
  auto options = config::ConnectOptionsFromDsn(dsn, credentials, env.environment, &warnings);
  PrintDiagnostics(env, warnings);
  if (!options) return core::Fail(options.error());
  std::string name = options->target_name;
  return ResolvedTarget{std::move(name), std::move(*options), nullptr};
}

steps::AssessOptions AssessOptionsFor(const config::Config* config,
                                      const config::TargetConfig* target) {
  steps::AssessOptions options;
  if (config == nullptr) return options;
  options.interval = config->assess.interval;
  const config::Thresholds thresholds =
      target != nullptr ? config->ThresholdsFor(*target) : config->assess.thresholds;
  for (const auto& [name, t] : thresholds) {
    options.thresholds[name] = steps::ThresholdOverride{t.warn, t.critical};
  }
  if (target == nullptr) return options;
  std::set<std::string> replicas(target->replicas.begin(), target->replicas.end());
  for (const auto& other : config->targets) {
    if (other.replica_of == target->name) replicas.insert(other.name);
  }
  options.expected_replicas = static_cast<int>(replicas.size());
  if (!target->replica_of.empty()) {
    options.expected_role = steps::ExpectedRole::kReplica;
  } else if (!replicas.empty()) {
    options.expected_role = steps::ExpectedRole::kPrimary;
  }
  return options;
}

bool UseColor(const Env& env, const GlobalOptions& global) {
  switch (global.color) {
    case ColorMode::kAlways:
      return true;
    case ColorMode::kNever:
      return false;
    case ColorMode::kAuto:
      // https://no-color.org: any non-empty NO_COLOR disables colour.
      if (auto no_color = env.environment.Get("NO_COLOR"); no_color && !no_color->empty()) {
        return false;
      }
      return env.out_is_terminal;
  }
  return false;
}

}  // namespace dbrunbook::app
