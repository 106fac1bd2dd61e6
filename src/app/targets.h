// Shared by the commands: loading the configuration and turning target names or --dsn URLs
// into connection options.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "config/config.h"
#include "steps/assess.h"
#include "steps/step.h"

namespace dbrunbook::app {

// Loads the configuration for a command. `required` false: no file found is not an error
// (an ad-hoc --dsn needs none) and gives nullopt. Diagnostics go to env.err; on error the
// result is an error whose message was already printed.
// `warnings`, when given, receives the warnings of a valid file instead of env.err (`watch
// --log-format json` logs them as JSON lines).
core::Result<std::optional<config::Config>> LoadConfiguration(
    Env& env, const GlobalOptions& global, bool required,
    const std::function<void(const std::vector<config::Diagnostic>&)>& warnings = {});

// What the configuration may name that only the rest of the program knows (check names).
config::ConfigSchema Schema();

// Prints diagnostics (errors and warnings) one per line.
void PrintDiagnostics(Env& env, const std::vector<config::Diagnostic>& diagnostics);

struct ResolvedTarget {
  std::string name;
  mysql::ConnectOptions options;
  const config::TargetConfig* config = nullptr;  // null for an ad-hoc --dsn
};

// `config` may be null (no configuration file): then every name is an error.
// `warnings` as for LoadConfiguration (a password file others can read).
core::Result<ResolvedTarget> ResolveNamedTarget(
    Env& env, const config::Config* config, const std::string& name,
    const std::function<void(const std::vector<config::Diagnostic>&)>& warnings = {});
core::Result<ResolvedTarget> ResolveDsnTarget(Env& env, const std::string& dsn,
                                              const config::DsnCredentials& credentials);

// A single-target command's target, looked up: the configuration (when one was loaded), and
// the resolved target or why it cannot be resolved (not printed: the command renders it in
// its output format).
struct TargetLookup {
  std::optional<config::Config> config;
  core::Result<ResolvedTarget> resolved;
  std::string display_name;  // the TARGET, DSN or defaults file, for messages
  std::string endpoint;      // when known, for messages
};

// Validates `selection` (a TARGET, or --dsn / --defaults-file, not both; credential flags
// only with an ad-hoc target), loads the configuration (required for a TARGET) and resolves
// the target. nullopt: a usage or configuration error, already printed with `command` as
// prefix.
std::optional<TargetLookup> LookupTarget(Env& env, const GlobalOptions& global,
                                         const TargetSelection& selection,
                                         std::string_view command);

// Assessment options for a target: interval and thresholds from the configuration, role and
// replicas from replica_of / replicas.
steps::AssessOptions AssessOptionsFor(const config::Config* config,
                                      const config::TargetConfig* target);

// Investigation limits: the built-in defaults, overridden by the configuration's
// `investigate:` section.
steps::InvestigateOptions InvestigateOptionsFor(const config::Config* config);

// Whether to colour output, from --color, NO_COLOR and whether stdout is a terminal.
bool UseColor(const Env& env, const GlobalOptions& global);

}  // namespace dbrunbook::app
