#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "app/commands.h"
#include "app/runbooks.h"
#include "app/targets.h"
#include "notify/channels.h"

namespace dbrunbook::app {
namespace {

// The configuration's half of `config check`; `valid` gets the configuration when it is.
int CheckConfigFile(Env& env, const std::string& path, const ConfigCheckOptions& options,
                    std::optional<config::Config>& valid) {
  auto loaded = config::LoadConfig(path, env.environment, Schema());
  if (!loaded) {
    PrintDiagnostics(env, loaded.error());
    const auto errors = std::count_if(loaded.error().begin(), loaded.error().end(),
                                      [](const auto& d) { return d.is_error(); });
    env.err << fmt::format("{}: {} error{}\n", path, errors, errors == 1 ? "" : "s");
    return 1;
  }
  std::vector<config::Diagnostic> warnings = loaded->warnings;
  int credential_errors = 0;
  if (!options.offline) {
    // Read every password source and option file now, so a missing environment variable
    // shows up here rather than during an incident.
    for (size_t i = 0; i < loaded->targets.size(); ++i) {
      const auto& target = loaded->targets[i];
      auto resolved = config::ResolveConnectOptions(target, env.environment, &warnings);
      if (!resolved) {
        ++credential_errors;
        // The message names the target already ("target 'x': ..."); lead with its place.
        std::string message = resolved.error().ToString();
        const std::string prefix = fmt::format("target '{}': ", target.name);
        if (message.starts_with(prefix)) message.erase(0, prefix.size());
        env.err << fmt::format("{}: targets[{}] ({}): {}\n", target.where.ToString(), i,
                               target.name, message);
      }
    }
  }
  if (!options.offline) {
    // The notification channels' secrets (url_env, routing_key_env, ...), likewise.
    for (const auto& channel : loaded->notify.channels) {
      if (auto spec = notify::ResolveChannel(channel, env.environment); !spec) {
        ++credential_errors;
        std::string message = spec.error().ToString();
        const std::string prefix = fmt::format("channel '{}': ", channel.name);
        if (message.starts_with(prefix)) message.erase(0, prefix.size());
        env.err << fmt::format("{}: notify.channels ({}): {}\n", channel.where.ToString(),
                               channel.name, message);
      }
    }
  }
  PrintDiagnostics(env, warnings);
  const size_t errors = static_cast<size_t>(credential_errors);
  if (errors > 0) {
    env.err << fmt::format("{}: {} error{}\n", path, errors, errors == 1 ? "" : "s");
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& t : loaded->targets) names.push_back(t.name);
  env.out << fmt::format("{}: ok, {} target{}{}{}{}\n", path, names.size(),
                         names.size() == 1 ? "" : "s", names.empty() ? "" : " (",
                         fmt::join(names, ", "), names.empty() ? "" : ")");
  if (!warnings.empty()) env.out << fmt::format("{} warning(s) above\n", warnings.size());
  valid = std::move(*loaded);
  return kExitOk;
}

}  // namespace

int RunConfigCheck(Env& env, const GlobalOptions& global, const ConfigCheckOptions& options) {
  auto path = config::FindConfigFile(options.file ? options.file : global.config_path,
                                     env.environment, env.working_dir);
  if (!path) {
    env.err << "dbrunbook config check: " << path.error().ToString() << "\n";
    return kExitUsage;
  }
  std::error_code ec;
  if (options.runbook && !std::filesystem::is_regular_file(*options.runbook, ec)) {
    env.err << fmt::format(
        "dbrunbook config check: runbook file {} (from --runbook) does not exist — check the "
        "path given to --runbook\n",
        *options.runbook);
    return kExitUsage;
  }
  std::optional<config::Config> valid;
  const int config_status = CheckConfigFile(env, *path, options, valid);
  const int runbook_status = CheckRunbookFile(env, options.runbook, valid ? &*valid : nullptr);
  return std::max(config_status, runbook_status);
}

}  // namespace dbrunbook::app
