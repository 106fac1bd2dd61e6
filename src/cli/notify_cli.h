// The notification commands on the command line: `notify test|list|outbox|flush`. Kept apart
// from cli.cc so this group of commands owns its options.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app/commands.h"

namespace dbrunbook::cli {

class NotifyCommands {
 public:
  // Adds the subcommands to `cli`.
  explicit NotifyCommands(CLI::App& cli);
  // The exit status when one of them was parsed (and run), else nullopt.
  std::optional<int> RunIfParsed(app::Env& env, const app::GlobalOptions& global);

 private:
  CLI::App* notify_ = nullptr;
  std::vector<CLI::App*> verbs_;
  app::NotifyOptions options_;
  std::string store_;
  std::string wait_ = "60s";
};

}  // namespace dbrunbook::cli
