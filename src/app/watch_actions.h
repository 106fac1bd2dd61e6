// The watch daemon's runner of failover, scale-up, tune and index (DaemonOptions::run_action):
// the `dbrunbook mitigate ACTION --apply --format json` commands themselves, run in-process on
// the daemon's effect worker with the runbook's parameters, so that an unattended action has
// exactly the planning, pre-checks, guardrails, verification, audit (and, for failover, the
// cluster's recovery lock and block period) of the command a person runs. Never with --force,
// --acknowledge, --allow-*, --allow-locking or --persist: a runbook does not lift a guardrail.
//
// index: the statements are those of the digest.full_scan findings of the incident's latest
// diagnosis (read from the store). A finding has the digest (literals replaced by ?), which
// EXPLAIN cannot plan, so each digest's newest real execution is read from
// performance_schema's statement history (dialect::StatementSamples) and given as --query with
// its default database; a digest with no execution left there is skipped (and said so). The
// statement text never reaches the incident: the detail names digests, indexes and tables.
//
// Thread-safety: the runner may be called from several effect workers at once (one action per
// target); each call has its own output streams, configuration load and store handles.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/commands.h"
#include "app/env.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "runbook/runbook.h"

namespace dbrunbook::app {

// The runner for `dbrunbook watch`: `global` with the configuration's path (each run loads it
// again, as the command does), the daemon's store (the audit log and the recovery lock), the
// runbook (each action's block period). `env` must outlive the runner.
daemon::ActionRunner MakeWatchActionRunner(Env& env, const GlobalOptions& global,
                                           const config::Config& config,
                                           const runbook::Runbook& runbook,
                                           const std::string& store_path);

// What a command's JSON document (schema dbrunbook.mitigation) and exit code come to for the
// incident: verified (done and verified), applied (done, not verified), failed (tried, did not
// work), refused (nothing was done: a pre-check, the lock, the block period, nothing to do, an
// error before acting), with a one-line detail (no password, no statement text).
daemon::ActionOutcome OutcomeFromDocument(const std::string& action, const nlohmann::json& doc,
                                          int exit_code);

}  // namespace dbrunbook::app
