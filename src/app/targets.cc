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

core::Result<std::optional<config::Config>> LoadConfiguration(
    Env& env, const GlobalOptions& global, bool required,
    const std::function<void(const std::vector<config::Diagnostic>&)>& warnings) {
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
  if (warnings) {
    warnings(loaded->warnings);
  } else {
    PrintDiagnostics(env, loaded->warnings);
  }
  if (!global.log_level) {
    // The configuration validated log.level already.
    env.log.set_level(core::ParseLogLevel(loaded->log_level).value_or(spdlog::level::info));
  }
  env.log.debug("configuration: {} ({} targets)", *path, loaded->targets.size());
  return std::optional<config::Config>(std::move(*loaded));
}

core::Result<ResolvedTarget> ResolveNamedTarget(
    Env& env, const config::Config* config_or_null, const std::string& name,
    const std::function<void(const std::vector<config::Diagnostic>&)>& print_warnings) {
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
  if (print_warnings) {
    print_warnings(warnings);
  } else {
    PrintDiagnostics(env, warnings);
  }
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

std::optional<TargetLookup> LookupTarget(Env& env, const GlobalOptions& global,
                                         const TargetSelection& selection,
                                         std::string_view command) {
  const auto& credentials = selection.credentials;
  const bool has_credentials = !credentials.password_env.empty() ||
                               !credentials.password_file.empty() ||
                               !credentials.defaults_file.empty();
  const bool ad_hoc = !selection.dsn.empty() || !credentials.defaults_file.empty();
  if (!selection.target.empty() && (!selection.dsn.empty() || has_credentials)) {
    env.err << "dbrunbook " << command
            << ": a configured TARGET takes its connection and credentials from the "
               "configuration; --dsn, --password-env, --password-file and --defaults-file are "
               "for ad-hoc targets\n";
    return std::nullopt;
  }
  if (selection.target.empty() && !ad_hoc) {
    env.err << "dbrunbook " << command
            << ": give a TARGET name, or --dsn URL (or --defaults-file holding the "
               "connection)\n";
    return std::nullopt;
  }
  auto loaded = LoadConfiguration(env, global, /*required=*/!ad_hoc);
  if (!loaded) return std::nullopt;
  TargetLookup lookup{std::move(*loaded), core::MakeError(core::ErrorCode::kInternal, ""), "", ""};
  const config::Config* config = lookup.config ? &*lookup.config : nullptr;
  if (ad_hoc) {
    lookup.display_name =
        selection.dsn.empty() ? "defaults-file " + credentials.defaults_file : selection.dsn;
    lookup.resolved = ResolveDsnTarget(env, selection.dsn, credentials);
  } else {
    lookup.display_name = selection.target;
    const config::TargetConfig* known =
        config != nullptr ? config->Find(selection.target) : nullptr;
    if (known != nullptr) lookup.endpoint = known->connect.Endpoint();
    lookup.resolved = ResolveNamedTarget(env, config, selection.target);
  }
  if (lookup.resolved) {
    lookup.display_name = lookup.resolved->name;
    lookup.endpoint = lookup.resolved->options.Endpoint();
  }
  return lookup;
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

steps::InvestigateOptions InvestigateOptionsFor(const config::Config* config) {
  steps::InvestigateOptions options;
  if (config == nullptr) return options;
  const config::InvestigateSettings& s = config->investigate;
  if (s.long_query) options.long_query_seconds = core::ToSeconds(*s.long_query);
  if (s.idle_transaction) options.idle_transaction_seconds = core::ToSeconds(*s.idle_transaction);
  if (s.unused_index_min_uptime) {
    options.unused_index_min_uptime =
        std::chrono::duration_cast<std::chrono::seconds>(*s.unused_index_min_uptime);
  }
  if (s.digest_interval) options.digest_interval = *s.digest_interval;
  if (s.step_budget) options.step_budget = *s.step_budget;
  if (s.top_tables) options.top_tables = *s.top_tables;
  if (s.max_tables_for_details) options.max_tables_for_details = *s.max_tables_for_details;
  if (s.digest_top) options.digest_top = *s.digest_top;
  if (s.replication_lag_warning) {
    options.replication.lag_warning_seconds = core::ToSeconds(*s.replication_lag_warning);
  }
  if (s.replication_lag_critical) {
    options.replication.lag_critical_seconds = core::ToSeconds(*s.replication_lag_critical);
  }
  if (s.applier_transaction) {
    options.replication.applier_transaction_seconds = core::ToSeconds(*s.applier_transaction);
  }
  if (s.fragmented_min_mib) options.resources.fragmented_min_bytes = *s.fragmented_min_mib << 20;
  if (s.fragmented_min_percent) {
    options.resources.fragmented_min_ratio = *s.fragmented_min_percent / 100.0;
  }
  if (s.low_cardinality_min_rows) {
    options.resources.low_cardinality_min_rows = *s.low_cardinality_min_rows;
  }
  if (s.low_cardinality_max_distinct) {
    options.resources.low_cardinality_max_distinct = *s.low_cardinality_max_distinct;
  }
  if (s.max_findings_per_code) {
    options.resources.max_findings_per_code = static_cast<size_t>(*s.max_findings_per_code);
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
