#include "cli/watch_cli.h"

#include <iostream>

#include "core/duration.h"

namespace dbrunbook::cli {

namespace {
constexpr std::string_view kStoreHelp =
    "the store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, else "
    "~/.local/state/dbrunbook/dbrunbook.db)";
}  // namespace

WatchCommands::WatchCommands(CLI::App& cli) {
  watch_ = cli.add_subcommand(
      "watch",
      "the watch daemon: polls every target, fires the runbook's triggers, opens incidents,\n"
      "diagnoses them, applies or proposes mitigations by policy, escalates, verifies recovery;\n"
      "serves /healthz, /metrics and /api/v1 (loopback by default). Stops on SIGINT/SIGTERM.");
  watch_->add_option("--runbook", runbook_,
                     "runbook file (default: the built-in runbooks/database-performance.yaml)");
  watch_->add_option("--listen", watch_options_.listen,
                     "HOST:PORT of the HTTP API (default 127.0.0.1:9473), or off");
  watch_->add_option("--store", store_, kStoreHelp.data());
  watch_->add_option("--log-format", watch_options_.log_format, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  watch_->add_option("--api-token-file", token_file_,
                     "file holding the API's bearer token (chmod 600)");
  watch_->add_option("--api-token-env", watch_options_.token_env,
                     "environment variable holding the API's bearer token (default "
                     "DBRUNBOOK_API_TOKEN; no token when unset)");
  watch_->add_option("--interval", interval_,
                     "poll interval, 100ms to 60s (default: assess.interval, 1s)");
  watch_->footer("Global options (--config, --color, --log-level) may also follow the subcommand.");

  incidents_ = cli.add_subcommand("incidents", "the watch daemon's incidents, newest first");
  incidents_->add_flag("--open", incidents_options_.open_only, "only open incidents");
  incidents_->add_option("--limit", incidents_options_.limit, "at most N (default 50)")
      ->check(CLI::Range(1, 100000));
  incidents_->add_option("--store", store_, kStoreHelp.data());
  incidents_->add_option("--format", incidents_format_, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));

  incident_ = cli.add_subcommand("incident", "one incident: show it, or act on it");
  incident_->require_subcommand(1);
  struct Verb {
    const char* name;
    const char* help;
  };
  for (const Verb& verb : {
           Verb{"show", "the incident's timeline, findings, actions and checklist"},
           Verb{"approve", "approve a proposed action (policy approve); the daemon applies it"},
           Verb{"ack", "acknowledge the incident (you are on it)"},
           Verb{"note", "add a note to the timeline"},
           Verb{"resolve", "resolve the incident by hand, with a reason"},
       }) {
    CLI::App* sub = incident_->add_subcommand(verb.name, verb.help);
    sub->add_option("id", incident_options_.id, "incident id")->required();
    if (std::string_view(verb.name) == "approve") {
      sub->add_option("action", incident_options_.action, "the action (kill-queries, ...)")
          ->required();
    } else if (std::string_view(verb.name) == "note") {
      sub->add_option("text", words_, "the note")->required();
    } else if (std::string_view(verb.name) == "resolve") {
      sub->add_option("reason", words_, "why it is resolved");
    }
    sub->add_option("--store", store_, kStoreHelp.data());
    if (std::string_view(verb.name) == "show") {
      sub->add_option("--format", incident_format_, "table (default) or json")
          ->check(CLI::IsMember({"table", "json"}));
    } else {
      sub->add_option("--wait", wait_, "how long to wait for the daemon's answer (default 10s)");
    }
    verbs_.push_back(sub);
  }
}

std::optional<int> WatchCommands::RunIfParsed(app::Env& env, const app::GlobalOptions& global) {
  if (watch_->parsed()) {
    if (!runbook_.empty()) watch_options_.runbook_path = runbook_;
    watch_options_.listen_given = watch_->count("--listen") > 0;
    if (!store_.empty()) watch_options_.store_path = store_;
    if (!token_file_.empty()) watch_options_.token_file = token_file_;
    if (!interval_.empty()) {
      auto parsed = core::ParseDuration(interval_, /*bare_unit_seconds=*/true);
      if (!parsed || *parsed < std::chrono::milliseconds(100) ||
          *parsed > std::chrono::minutes(1)) {
        std::cerr << "dbrunbook watch: --interval must be a duration from 100ms to 60s (got '"
                  << interval_ << "')\n";
        return app::kExitUsage;
      }
      watch_options_.interval = *parsed;
    }
    return app::RunWatch(env, global, watch_options_);
  }
  if (incidents_->parsed()) {
    if (!store_.empty()) incidents_options_.store_path = store_;
    incidents_options_.format = *report::ParseFormat(incidents_format_);
    return app::RunIncidents(env, incidents_options_);
  }
  if (incident_->parsed()) {
    for (CLI::App* verb : verbs_) {
      if (verb->parsed()) incident_options_.verb = verb->get_name();
    }
    if (!store_.empty()) incident_options_.store_path = store_;
    incident_options_.format = *report::ParseFormat(incident_format_);
    for (const std::string& w : words_) {
      if (!incident_options_.text.empty()) incident_options_.text += " ";
      incident_options_.text += w;
    }
    auto wait = core::ParseDuration(wait_, /*bare_unit_seconds=*/true);
    if (!wait || *wait > std::chrono::minutes(10)) {
      std::cerr << "dbrunbook incident: --wait must be a duration up to 10m (got '" << wait_
                << "')\n";
      return app::kExitUsage;
    }
    incident_options_.wait = *wait;
    return app::RunIncidentCommand(env, incident_options_);
  }
  return std::nullopt;
}

}  // namespace dbrunbook::cli
