#include "cli/report_cli.h"

namespace dbrunbook::cli {

ReportCommand::ReportCommand(CLI::App& cli) {
  report_ = cli.add_subcommand(
      "report",
      "the incident report of a watch-daemon incident: summary, timeline with the runbook's\n"
      "deadlines, evidence snapshot, findings, actions and their audit trail, messages sent,\n"
      "prevention checklist, and charts of the key signals (html: one self-contained file)");
  report_->add_option("incident", options_.id, "incident id (`dbrunbook incidents` lists them)")
      ->required();
  report_->add_option("--store", store_,
                      "the store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, else "
                      "~/.local/state/dbrunbook/dbrunbook.db)");
  report_->add_option("--runbook", runbook_,
                      "the runbook whose deadlines the timeline is measured against (default: "
                      "the built-in one)");
  report_
      ->add_option("--format", format_,
                   "markdown, html or json (default: from the -o file's extension, else "
                   "markdown)")
      ->check(CLI::IsMember({"markdown", "md", "html", "json"}));
  report_->add_option("-o,--output", output_, "write to FILE instead of standard output");
}

std::optional<int> ReportCommand::RunIfParsed(app::Env& env, const app::GlobalOptions& global) {
  if (!report_->parsed()) return std::nullopt;
  if (!store_.empty()) options_.store_path = store_;
  if (!runbook_.empty()) options_.runbook_path = runbook_;
  if (!output_.empty()) options_.output = output_;
  auto ends_with = [&](std::string_view suffix) {
    return output_.size() >= suffix.size() &&
           output_.compare(output_.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (format_.empty()) {
    if (ends_with(".html") || ends_with(".htm")) {
      format_ = "html";
    } else if (ends_with(".json")) {
      format_ = "json";
    } else {
      format_ = "markdown";
    }
  }
  options_.format = format_ == "md" ? "markdown" : format_;
  return app::RunReport(env, global, options_);
}

}  // namespace dbrunbook::cli
