// Internal to the config module: DBRUNBOOK_* environment overrides applied to the parsed
// tree before validation (the rules are documented in config.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/yaml_tree.h"
#include "core/environment.h"

namespace dbrunbook::config {

// How a target is addressed in an override name: upper case, every character other than
// A-Z and 0-9 turned into '_' ("orders-primary" -> "ORDERS_PRIMARY").
std::string EnvironmentName(std::string_view name);

// Applies every override in `env` to `root` (a null root becomes a mapping). Values set by
// an override carry the variable's name as their location. Malformed overrides (an empty
// path segment, an unknown target, a path through a value that is not a mapping) are
// reported as errors in `diagnostics` and skipped; unknown keys are left for validation to
// report.
void ApplyEnvironmentOverrides(YamlNode& root, const core::Environment& env,
                               std::vector<Diagnostic>& diagnostics);

}  // namespace dbrunbook::config
