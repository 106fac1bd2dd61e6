// The runbook file as the commands see it: the schema of what the watch daemon can follow and
// do (signals, mitigation actions and their parameters, finding codes), today's date for the
// review warning, and loading --runbook FILE or the built-in default runbook.
//
// Thread-safety: plain functions.
#pragma once

#include <optional>
#include <string>

#include "app/env.h"
#include "config/config.h"
#include "core/clock.h"
#include "runbook/runbook.h"

namespace dbrunbook::app {

// Signals from watch::SignalNames(), the mitigate actions, steps::FindingCodes(), and each
// action's parameters a runbook may set (those of `dbrunbook mitigate ACTION` that make
// sense unattended; never --force, --acknowledge or --allow-*: guardrails are not lifted
// from a file).
runbook::RunbookSchema WatchRunbookSchema();

// "2026-11-27": the clock's wall time, in UTC.
std::string TodayUtc(const core::Clock& clock);

// `path` (from --runbook) parsed and validated, or the built-in runbook without one.
runbook::RunbookResult LoadRunbookOrDefault(const std::optional<std::string>& path,
                                            const core::Clock& clock);

// For `config check`: validates the runbook (`path`, or the built-in one), printing its
// diagnostics to env.err as the configuration's are, and "<file>: ok, runbook NAME version V,
// N triggers" to env.out. With `config` (a valid configuration), the target names triggers
// are limited to must be configured. 0 valid (warnings allowed), 1 invalid.
int CheckRunbookFile(Env& env, const std::optional<std::string>& path,
                     const config::Config* config);

}  // namespace dbrunbook::app
