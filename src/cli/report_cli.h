// `dbrunbook report INCIDENT` on the command line (app/report_command.cc does the work).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app/commands.h"

namespace dbrunbook::cli {

class ReportCommand {
 public:
  // Adds the subcommand to `cli`.
  explicit ReportCommand(CLI::App& cli);
  // The exit status when it was parsed (and run), else nullopt.
  std::optional<int> RunIfParsed(app::Env& env, const app::GlobalOptions& global);

 private:
  CLI::App* report_ = nullptr;
  app::ReportCommandOptions options_;
  std::string store_;
  std::string runbook_;
  std::string format_;
  std::string output_;
};

}  // namespace dbrunbook::cli
