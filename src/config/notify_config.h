// Internal to the config module: the `notify:` section of dbrunbook.yaml (config.h documents
// the schema), read by the same validator as the rest of the file so its problems are
// reported with the others, at once, with file:line and key path.
#pragma once

#include <string>

#include "config/config.h"
#include "config/yaml_checks.h"
#include "config/yaml_tree.h"

namespace dbrunbook::config {

// Reads `node` (the value of `notify:`) into `out`, reporting every problem to `checker`.
// Relative `path`s and `ca_file`s are made relative to `base_dir` (the file's directory).
void ParseNotifySection(YamlChecker& checker, const YamlNode& node, const std::string& base_dir,
                        NotifySettings& out);

}  // namespace dbrunbook::config
