// `dbrunbook investigate TARGET --enable-slow-log[=SECONDS]` and `--restore-slow-log`: the
// runbook's "turn the slow log on" (SET GLOBAL long_query_time = 2; SET GLOBAL
// slow_query_log = ON), done so that it can be undone exactly.
//
// Without --apply the action only shows its plan: the current values, the statements and
// what they change; nothing is written anywhere. With --apply, enabling first records the
// previous values in a state file, then runs the statements; restoring sets every recorded
// variable back to its previous value and removes the file once the server reads back what
// was recorded.
//
// State file: $XDG_STATE_HOME/dbrunbook/ (else ~/.local/state/dbrunbook/), one file per
// target, slow-log-<target>.json, mode 0600 in a 0700 directory, JSON (schema
// "dbrunbook.slow_log_state"): the target, the server it was recorded on (hostname, port,
// server_id, version), the time, the previous values and the values applied.
//
// Rules (each checked before anything changes; a refusal leaves the server and the state
// files untouched):
//   * Enabling while a state file for this server exists (under any target name) is refused:
//     the file holds the values from before dbrunbook's first change, and a second enable
//     would either lose them or record dbrunbook's own values as "previous". Restore first,
//     then enable again with the new threshold.
//   * RDS / Aurora: refused with the parameter group change to make instead (the master user
//     cannot SET GLOBAL there).
//   * Restoring needs a state file recorded on this same server (hostname, port, server_id);
//     a file whose values are not ON/OFF, seconds, or FILE/TABLE/NONE is refused (it was not
//     written by dbrunbook).
//   * A statement the server refuses (typically the privilege: SUPER, or
//     SYSTEM_VARIABLES_ADMIN on MySQL 8.0+) stops the action with the GRANT to run; the
//     statements already applied are set back (enable) and the state file is removed, so
//     nothing is left changed. Should setting back fail too, the state file stays and says
//     what is still to restore.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/env.h"
#include "collect/target_session.h"
#include "core/environment.h"
#include "report/render.h"
#include "steps/investigate_slowlog.h"

namespace dbrunbook::app {

enum class SlowLogActionKind { kEnable, kRestore };

struct SlowLogActionOptions {
  SlowLogActionKind kind = SlowLogActionKind::kEnable;
  double seconds = steps::kRunbookLongQueryTime;  // --enable-slow-log=SECONDS
  bool apply = false;                             // --apply
};

// Exit statuses of the action (3, could not connect / usage / configuration, is
// investigate's kExitCannotInvestigate).
inline constexpr int kSlowLogDone = 0;     // plan shown; or applied / restored and read back
inline constexpr int kSlowLogRefused = 1;  // not done, nothing changed (see the rules above)
inline constexpr int kSlowLogFailed = 2;   // the server refused a statement, or did not read
                                           // back what was set (see the message)

using steps::SlowLogChange;

struct SlowLogPlan {
  SlowLogActionKind kind = SlowLogActionKind::kEnable;
  std::vector<SlowLogChange> changes;  // in the order they run; empty: nothing to change
  std::vector<std::string> notes;      // what a DBA should know (new connections only ...)
  std::optional<core::Error> refusal;  // set: the action is not done here
};

// The state file's content.
struct SlowLogRecord {
  std::string target;
  std::string endpoint;
  std::string server_hostname;
  std::string server_port;
  std::string server_id;
  std::string server_version;
  std::string recorded_at;  // RFC 3339 UTC
  // variable -> value, in the order they were read / set.
  std::vector<std::pair<std::string, std::string>> previous;
  std::vector<std::pair<std::string, std::string>> applied;
};

std::string SlowLogRecordJson(const SlowLogRecord& record);
// kParse naming `origin` when the text is not a state file of this schema.
core::Result<SlowLogRecord> ParseSlowLogRecord(std::string_view text, std::string_view origin);

// Pure planning from the server's current state. Enabling sets long_query_time to `seconds`
// (0 < seconds <= 31536000), log_output to FILE when it is NONE, and slow_query_log ON — each
// only when it differs. Restoring sets each recorded variable back where it differs now.
SlowLogPlan PlanEnableSlowLog(const dialect::Dialect& d, const steps::SlowLogState& now,
                              double seconds);
SlowLogPlan PlanRestoreSlowLog(const dialect::Dialect& d, const steps::SlowLogState& now,
                               const SlowLogRecord& record);

// $XDG_STATE_HOME/dbrunbook (when absolute), else $HOME/.local/state/dbrunbook; kInvalidConfig
// when neither is set.
core::Result<std::string> SlowLogStateDir(const core::Environment& environment);
// "slow-log-orders-primary.json"; a target name outside [A-Za-z0-9._-] (an ad-hoc DSN) is
// made safe and suffixed with a hash of the full name, so two DSNs never share a file.
std::string SlowLogStateFileName(std::string_view target);

// Runs the action on an open target session and prints the plan / result (JSON for
// Format::kJson, else text) to env.out, errors also to env.err. Returns the exit status.
int RunSlowLogAction(Env& env, collect::TargetSession& target, const SlowLogActionOptions& options,
                     report::Format format);

}  // namespace dbrunbook::app
