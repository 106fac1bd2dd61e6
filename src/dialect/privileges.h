// What the monitoring account may do, read from SHOW GRANTS.
//
// Some sources do not refuse an account that lacks a privilege: without PROCESS the
// processlist, INNODB_TRX and performance_schema.threads show only the account's own
// sessions. A step reading them would report "nothing wrong" on a server full of blocked
// sessions, so it asks first whether the privilege is there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dbrunbook::dialect {

enum class PrivilegeState {
  kGranted,  // granted ON *.* (by name or ALL PRIVILEGES)
  kMissing,  // not granted, and no role could grant it
  kUnknown,  // not granted directly, but a role is granted: it may come from there
};

// The statement: SHOW GRANTS for the current account (one text column per grant).
std::string ShowGrantsStatement();

// Reads the lines of SHOW GRANTS (MySQL and MariaDB spellings, with or without backquotes):
// whether `privilege` (e.g. "PROCESS", case-insensitive) is granted globally.
PrivilegeState GlobalPrivilege(const std::vector<std::string>& grant_lines,
                               std::string_view privilege);

}  // namespace dbrunbook::dialect
