// What every `dbrunbook mitigate ACTION` shares: the audit store (required to act, optional to
// plan), the run id that groups one run's audit entries, the auditor that writes them, the
// protected users in force for a target, and the exit code for a target that cannot be
// resolved. Each action (kill-queries, tune, index, failover, scale-up) keeps its own plan,
// apply and verify; this is only the plumbing, so that every action audits the same way.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/env.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/error.h"
#include "store/store.h"

namespace dbrunbook::app {

// What every action's run reports, whatever the action; each command's run adds its own part.
struct ActionRun {
  std::string target;
  std::string status;  // planned, nothing_to_do, done, ..., error (per action)
  int exit_code = 0;
  bool apply = false;
  std::string store_path;  // empty: not audited
  std::string run_id;
  std::vector<std::string> warnings;
  std::optional<core::Error> error;

  // Ends the run on `error`: its status (usually "error") and exit code.
  void Fail(std::string failed_status, int code, core::Error failure) {
    status = std::move(failed_status);
    exit_code = code;
    error = std::move(failure);
  }
};

// The envelope of an action's JSON document (schema "dbrunbook.mitigation", version 1):
// schema, schema_version, action, target, apply, status, exit_code, store, run_id, warnings,
// error. The command adds its own keys to it.
nlohmann::json ActionEnvelopeJson(const ActionRun& run, std::string_view action);

// "COMMAND: TARGET: error — hint" on env.err, terminal-safe (nothing when the run has no error).
void PrintActionError(Env& env, std::string_view command, const ActionRun& run);

// {"version": ..., "flavor": {...}} of the server acted on; null when there was none.
nlohmann::json ServerJson(const collect::TargetSession* target);

// "2026-11-27T03:40:00.123Z-4242": when and which process; groups one run's entries.
std::string NewRunId(Env& env);

// The audit store at `store_path` (--store), else store::DefaultStorePath. When it cannot be
// opened: with `apply`, the error (callers refuse to act: exit 2, "refusing to act without
// the audit log"); without, nullptr and a warning added to `warnings` (a plan is still shown).
core::Result<std::unique_ptr<store::Store>> OpenAuditStore(
    Env& env, const std::optional<std::string>& store_path, bool apply,
    std::vector<std::string>& warnings);

// Writes one run's audit entries. A store that fails after opening is a warning (added to
// `warnings` and logged), not a stop: an action under way is still verified and reported.
// With a null store it writes nothing.
class Auditor {
 public:
  Auditor(Env& env, store::Store* store, std::string action, std::string target, std::string run_id,
          std::vector<std::string>& warnings);

  void Write(store::Phase phase, std::string subject, std::string plan, std::string result,
             std::string error);

 private:
  Env& env_;
  store::Store* store_;
  std::string action_;
  std::string target_;
  std::string run_id_;
  std::vector<std::string>& warnings_;
  std::string os_user_;
};

// The users no action may touch on the looked-up target: the configuration's global list and
// the target's own (its defaults' included); empty without a configuration.
std::vector<std::string> ProtectedUsersFor(const TargetLookup& lookup);

// The end of an action's text output: each warning, then where the run was audited (nothing
// when `store_path` is empty). Terminal-safe.
std::string AuditFooter(const std::vector<std::string>& warnings, const std::string& store_path,
                        const std::string& run_id);

// Why an action could not reach its target, and the exit code to return.
struct ConnectFailure {
  core::Error error;
  int exit_code = 0;
};
// Opens the session an action works on, for the looked-up target: a target that could not be
// resolved gives ExitCodeForUnresolved's code, one that cannot be reached 3 (with `apply` that
// failure is audited: the attempt to act counts).
tl::expected<collect::TargetSession, ConnectFailure> ConnectForAction(Env& env,
                                                                      const TargetLookup& lookup,
                                                                      bool apply, Auditor& audit);

// The exit code for a target that could not be resolved: 2 (usage/configuration) for an
// unknown target or a bad configuration, else 3 (cannot assess: e.g. a password file that
// cannot be read).
int ExitCodeForUnresolved(const core::Error& error);

}  // namespace dbrunbook::app
