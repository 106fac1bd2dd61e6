// Errors as values.
//
// Every operation that can fail in a way the caller must handle returns
// `core::Result<T>` (a `tl::expected<T, core::Error>`). An `Error` carries a typed code
// (what kind of failure, so callers can branch: retry a timeout, stop on access denied),
// a message saying what failed and where (target name, file:line), and a hint saying what
// the user should do next. Exceptions are used only at the edges (CLI, third-party libraries
// that throw) and are converted to `Error` there.
//
// Errors never contain credentials: code that builds them must not format a `core::Secret`
// (which prints as "***" anyway) or raw option values that may hold one.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace dbrunbook::core {

enum class ErrorCode {
  kInvalidArgument,  // the caller passed something malformed (usage error, bad DSN)
  kInvalidConfig,    // a configuration file or environment override is wrong
  kNotFound,         // a named thing (target, file, table) does not exist
  kUnavailable,      // the peer cannot be reached or went away (refused, lost connection)
  kDnsFailure,       // a host name could not be resolved
  kTimeout,          // connect, read or write did not finish in time
  kAccessDenied,     // authentication failed (wrong user or password)
  kPrivilege,        // authenticated, but the account lacks a privilege for this statement
  kTlsError,         // TLS could not be negotiated or the certificate did not verify
  kSyntax,           // the server rejected the statement's syntax (a dialect bug)
  kLockWaitTimeout,  // a metadata or row lock could not be taken in time
  kThrottled,        // the peer asked us to slow down (cloud API throttling, too many conns)
  kUnsupported,      // the flavor or server does not support what was asked
  kServerError,      // any other error reported by the server
  kIo,               // local file system or OS error
  kParse,            // input (a server answer, a file) could not be parsed
  kInternal,         // a bug in dbrunbook
};

// Stable lower-case name of a code ("access_denied"), used in JSON output and logs.
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  // What failed and where, e.g. "access denied for user 'monitor' on target 'orders-primary'".
  std::string message;
  // What to do next, e.g. "check password_env ORDERS_DB_PASSWORD"; may be empty.
  std::string hint;
  // Server error number and SQLSTATE when the error came from a MySQL-protocol peer, else 0/"".
  int server_errno = 0;
  std::string sqlstate;

  // "message — hint" (or just the message when there is no hint).
  std::string ToString() const;

  // Returns a copy with `context` prefixed to the message ("target 'x': ...").
  Error WithContext(std::string_view context) const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message, std::string hint = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(hint), 0, {}});
}

inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

inline Status Ok() { return {}; }

}  // namespace dbrunbook::core
