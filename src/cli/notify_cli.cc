#include "cli/notify_cli.h"

#include <iostream>

#include "core/duration.h"

namespace dbrunbook::cli {

namespace {
constexpr std::string_view kStoreHelp =
    "the store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, else "
    "~/.local/state/dbrunbook/dbrunbook.db)";
}  // namespace

NotifyCommands::NotifyCommands(CLI::App& cli) {
  notify_ = cli.add_subcommand(
      "notify", "notification channels (notify: in the configuration) and the outbox");
  notify_->require_subcommand(1);
  CLI::App* test = notify_->add_subcommand(
      "test",
      "send a test message through CHANNEL now (not through the outbox; a PagerDuty test\n"
      "incident is resolved at once). Exit status: 0 delivered, 1 not delivered, 2 configuration\n"
      "error or unknown channel.");
  test->add_option("channel", options_.channel, "the channel's name (notify.channels)")->required();
  verbs_.push_back(test);
  verbs_.push_back(notify_->add_subcommand(
      "list", "the configured channels, their type and where they send (secrets masked)"));
  CLI::App* outbox = notify_->add_subcommand(
      "outbox",
      "the outbox: queued, sent and failed messages per channel, the failed ones with "
      "their last error");
  outbox->add_option("--store", store_, kStoreHelp.data());
  outbox->add_option("--limit", options_.limit, "rows shown per list (default 20)")
      ->check(CLI::Range(1, 100000));
  verbs_.push_back(outbox);
  CLI::App* flush = notify_->add_subcommand(
      "flush",
      "deliver the outbox's queued messages now, when no watch daemon runs on the store.\n"
      "Exit status: 0 all delivered, 1 some failed or still queued, 2 configuration error or a\n"
      "daemon holds the store, 3 the store cannot be opened.");
  flush->add_option("--store", store_, kStoreHelp.data());
  flush->add_option("--wait", wait_, "stop after this long (default 60s)");
  verbs_.push_back(flush);
}

std::optional<int> NotifyCommands::RunIfParsed(app::Env& env, const app::GlobalOptions& global) {
  if (!notify_->parsed()) return std::nullopt;
  for (CLI::App* verb : verbs_) {
    if (verb->parsed()) options_.verb = verb->get_name();
  }
  if (!store_.empty()) options_.store_path = store_;
  auto wait = core::ParseDuration(wait_, /*bare_unit_seconds=*/true);
  if (!wait || *wait > std::chrono::hours(1)) {
    std::cerr << "dbrunbook notify flush: --wait must be a duration up to 1h (got '" << wait_
              << "')\n";
    return app::kExitUsage;
  }
  options_.wait = *wait;
  return app::RunNotify(env, global, options_);
}

}  // namespace dbrunbook::cli
