// An open monitoring session on one target, ready for diagnostics.
//
// Opening one means: connect with the universal session settings (short lock_wait_timeout,
// out of the slow log), detect the flavor from the server's variables, then apply the
// flavor's own session settings (statement time limit ...). Every collector and step works
// on a `TargetSession`, so none of them repeats detection or hard-codes a flavor.
//
// Thread-safety: one thread at a time (it owns one connection).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "dialect/dialect.h"
#include "dialect/privileges.h"
#include "mysql/session.h"

namespace dbrunbook::collect {

struct TargetSession {
  std::unique_ptr<mysql::Session> session;
  dialect::Dialect dialect;
  // The variables read by detection (Dialect::DetectionStatement).
  dialect::VariableMap variables;
  // Time spent detecting the flavor (statements after authentication).
  core::Duration detect_time{};
  // Flavor-specific session settings that the server refused; the session still works,
  // without that protection (e.g. no statement time limit). Shown in verbose output.
  std::vector<std::string> setup_notes;
  // SHOW GRANTS, read on first use by GlobalPrivilege().
  std::optional<std::vector<std::string>> grants;

  const std::string& target_name() const { return session->info().target_name; }
  const dialect::Flavor& flavor() const { return dialect.flavor(); }
};

// Connects and prepares a session. `options` gets the dialect's init statements and warning
// statement added. Fails with the connection's classified error, or kUnsupported when the
// flavor cannot be recognised (nothing may act on an undetected flavor).
core::Result<TargetSession> OpenTargetSession(mysql::SessionFactory& factory,
                                              mysql::ConnectOptions options, core::Clock& clock);

// Whether the account holds `privilege` ON *.* (SHOW GRANTS, read once per session). A source
// that silently narrows what it shows without the privilege (the processlist without
// PROCESS) is checked with this before its emptiness is taken to mean "nothing wrong".
core::Result<dialect::PrivilegeState> GlobalPrivilege(TargetSession& target,
                                                      std::string_view privilege);

// The account as a GRANT names it, from CURRENT_USER(): 'monitor'@'%'. When the server will
// not say, the connection's user at '%'. One statement each call.
std::string QuotedAccount(TargetSession& target);

// kPrivilege error for a step that cannot see other sessions: "the account lacks PROCESS",
// or success when it has it or may have it through a role.
core::Status RequireGlobalPrivilege(TargetSession& target, std::string_view privilege,
                                    std::string_view why);

}  // namespace dbrunbook::collect
