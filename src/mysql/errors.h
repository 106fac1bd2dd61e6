// Turning MySQL-protocol errors into classified `core::Error`s with useful messages.
//
// One function decides, for every client (CR_*) and server (ER_*) error number, which
// `core::ErrorCode` it is and what the user should do. Messages name the target and the
// endpoint; hints name the configuration key to check (password_env NAME, tls.ca, ...).
// Nothing here ever sees a password.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "mysql/connect_options.h"

namespace dbrunbook::mysql {

enum class Phase { kConnect, kSessionSetup, kQuery };

struct ErrorContext {
  Phase phase = Phase::kQuery;
  const ConnectOptions* options = nullptr;  // required: target name, endpoint, user, timeouts
  std::string_view statement;               // for kQuery/kSessionSetup, shortened in messages
  core::Duration elapsed{};                 // how long the failing call took
};

// `server_errno`/`sqlstate`/`text` as returned by mysql_errno/mysql_sqlstate/mysql_error.
core::Error ClassifyError(int server_errno, std::string_view sqlstate, std::string_view text,
                          const ErrorContext& context);

// First line of a statement, at most `max_len` characters, for messages.
std::string ShortStatement(std::string_view sql, size_t max_len = 80);

}  // namespace dbrunbook::mysql
