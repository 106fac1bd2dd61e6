// The watch daemon's commands on the command line: `watch`, `incidents`, `incident ...`.
// Kept apart from cli.cc so each group of commands owns its options.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "app/commands.h"

namespace dbrunbook::cli {

class WatchCommands {
 public:
  // Adds the subcommands to `cli`.
  explicit WatchCommands(CLI::App& cli);
  // The exit status when one of them was parsed (and run), else nullopt.
  std::optional<int> RunIfParsed(app::Env& env, const app::GlobalOptions& global);

 private:
  CLI::App* watch_ = nullptr;
  CLI::App* incidents_ = nullptr;
  CLI::App* incident_ = nullptr;
  std::vector<CLI::App*> verbs_;

  app::WatchOptions watch_options_;
  std::string runbook_;
  std::string store_;
  std::string token_file_;
  std::string interval_;

  app::IncidentsOptions incidents_options_;
  std::string incidents_format_ = "table";

  app::IncidentCommandOptions incident_options_;
  std::string incident_format_ = "table";
  std::string wait_ = "10s";
  std::vector<std::string> words_;
};

}  // namespace dbrunbook::cli
