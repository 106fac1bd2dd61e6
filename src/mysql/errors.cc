#include "mysql/errors.h"

#include <fmt/format.h>

#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::mysql {
namespace {

using core::ErrorCode;

// Client error numbers (errmsg.h) and server error numbers (mysqld_error.h) used below.
constexpr int kCrConnectionError = 2002;  // socket connect failed
constexpr int kCrConnHostError = 2003;    // TCP connect failed
constexpr int kCrUnknownHost = 2005;
constexpr int kCrServerGone = 2006;
constexpr int kCrServerLost = 2013;
constexpr int kCrSslConnectionError = 2026;
constexpr int kCrServerLostExtended = 2055;
constexpr int kCrAuthPluginCannotLoad = 2059;
constexpr int kCrErrNetRead = 5013;
constexpr int kCrErrNetWrite = 5014;
constexpr int kErDbAccessDenied = 1044;
constexpr int kErAccessDenied = 1045;
constexpr int kErTooManyConnections = 1040;
constexpr int kErHostIsBlocked = 1129;
constexpr int kErHostNotPrivileged = 1130;
constexpr int kErTableAccessDenied = 1142;
constexpr int kErColumnAccessDenied = 1143;
constexpr int kErParseError = 1064;
constexpr int kErNoSuchTable = 1146;
constexpr int kErUnknownSystemVariable = 1193;
constexpr int kErTooManyUserConnections = 1203;
constexpr int kErLockWaitTimeout = 1205;
constexpr int kErSpecificAccessDenied = 1227;
constexpr int kErNotSupportedAuthMode = 1251;
constexpr int kErProcAccessDenied = 1370;
constexpr int kErAccessDeniedNoPassword = 1698;
constexpr int kErStatementTimeoutMariaDb = 1969;
constexpr int kErQueryTimeoutMySql = 3024;
constexpr int kErUnknownTable = 1109;

bool MentionsTimeout(std::string_view text) {
  // errno 110 (ETIMEDOUT) and 11 (EAGAIN after SO_RCVTIMEO) as Connector/C prints them.
  return core::ContainsIgnoreCase(text, "timed out") || core::ContainsIgnoreCase(text, "timeout") ||
         text.find("(110)") != std::string_view::npos ||
         text.find("system error: 110") != std::string_view::npos ||
         text.find("(11)") != std::string_view::npos ||
         text.find("system error: 11") != std::string_view::npos;
}

std::string TargetName(const ErrorContext& c) {
  return c.options != nullptr ? c.options->target_name : std::string("?");
}

std::string PasswordHint(const ConnectOptions& o, std::string_view text) {
  if (core::ContainsIgnoreCase(text, "using password: NO")) {
    return "no password was sent: set password_env, password_file or defaults_file for this target";
  }
  if (!o.password_source.empty()) {
    return fmt::format("check the user name and the password from {}", o.password_source);
  }
  return "check the user name and password (password_env, password_file or defaults_file)";
}

std::string TlsHint(const ConnectOptions& o, std::string_view text) {
  if (core::ContainsIgnoreCase(text, "not support") ||
      core::ContainsIgnoreCase(text, "SSL is required")) {
    return "the server does not offer TLS: enable TLS on the server, or lower tls.mode";
  }
  switch (o.tls.mode) {
    case TlsMode::kVerifyIdentity:
      return "check that tls.ca is the CA that signed the server certificate and that the host "
             "name you connect to is in the certificate (CN or subjectAltName)";
    case TlsMode::kVerifyCa:
      return "check that tls.ca is the CA that signed the server certificate";
    default:
      return "check the server's TLS configuration and the client certificate/key paths";
  }
}

}  // namespace

std::string ShortStatement(std::string_view sql, size_t max_len) {
  sql = core::Trim(sql);
  const auto newline = sql.find('\n');
  std::string_view first = sql.substr(0, newline);
  if (first.size() > max_len || newline != std::string_view::npos) {
    return std::string(first.substr(0, std::min(first.size(), max_len))) + "...";
  }
  return std::string(first);
}

core::Error ClassifyError(int server_errno, std::string_view sqlstate, std::string_view text,
                          const ErrorContext& c) {
  const ConnectOptions empty_options;
  const ConnectOptions& o = c.options != nullptr ? *c.options : empty_options;
  const std::string target = TargetName(c);
  const std::string endpoint = o.Endpoint();
  core::Error e;
  e.server_errno = server_errno;
  e.sqlstate = std::string(sqlstate);
  const std::string server_text(core::Trim(text));

  switch (server_errno) {
    case kCrUnknownHost:
      e.code = ErrorCode::kDnsFailure;
      e.message = fmt::format("cannot connect to target '{}': host '{}' could not be resolved ({})",
                              target, o.host, server_text);
      e.hint = "check the host name and the machine's DNS configuration";
      return e;
    case kCrConnectionError:
    case kCrConnHostError:
      if (MentionsTimeout(text)) {
        e.code = ErrorCode::kTimeout;
        e.message =
            fmt::format("cannot connect to target '{}' at {}: no answer within {} ({})", target,
                        endpoint, core::FormatDuration(o.connect_timeout), server_text);
        e.hint =
            "the host may be down or a firewall may drop the packets; check the network "
            "path, or raise connect_timeout";
      } else {
        e.code = ErrorCode::kUnavailable;
        e.message =
            fmt::format("cannot connect to target '{}' at {}: {}", target, endpoint, server_text);
        e.hint = o.uses_socket()
                     ? "is the server running, and is this its socket? check socket"
                     : "is the server running and listening on that address? check host and port";
      }
      return e;
    case kCrSslConnectionError:
      // After the handshake, a TLS read or write error is the connection dying under TLS
      // (a kill, a timeout, a restart): classified with the lost connections below.
      if (c.phase != Phase::kConnect) break;
      e.code = ErrorCode::kTlsError;
      e.message = fmt::format("TLS failed with target '{}' at {} (tls.mode {}): {}", target,
                              endpoint, TlsModeName(o.tls.mode), server_text);
      e.hint = TlsHint(o, text);
      return e;
    case kErAccessDenied:
    case kErAccessDeniedNoPassword:
      e.code = ErrorCode::kAccessDenied;
      e.message = fmt::format("access denied for user '{}' on target '{}' ({})", o.user, target,
                              server_text);
      e.hint = PasswordHint(o, text);
      return e;
    case kErHostNotPrivileged:
      e.code = ErrorCode::kAccessDenied;
      e.message = fmt::format("target '{}' does not accept connections from this host ({})", target,
                              server_text);
      e.hint = "create the monitoring user for this client host (see README: permissions)";
      return e;
    case kErDbAccessDenied:
      e.code = ErrorCode::kPrivilege;
      e.message = fmt::format("user '{}' may not use database '{}' on target '{}' ({})", o.user,
                              o.database, target, server_text);
      e.hint = "remove the database from the target, or grant access to it";
      return e;
    case kCrAuthPluginCannotLoad:
    case kErNotSupportedAuthMode:
      e.code = ErrorCode::kUnsupported;
      e.message = fmt::format("cannot authenticate to target '{}': {}", target, server_text);
      e.hint =
          "the account uses an authentication plugin this client cannot load; use "
          "mysql_native_password, or caching_sha2_password over TLS";
      return e;
    case kErTooManyConnections:
    case kErTooManyUserConnections:
      e.code = ErrorCode::kUnavailable;
      e.message = fmt::format("target '{}' refused the connection: {}", target, server_text);
      e.hint =
          "max_connections (or the user's connection limit) is exhausted: this is itself a "
          "runbook trigger; connections reserved for SUPER/CONNECTION ADMIN still work";
      return e;
    case kErHostIsBlocked:
      e.code = ErrorCode::kUnavailable;
      e.message = fmt::format("target '{}' blocks this host: {}", target, server_text);
      e.hint =
          "too many failed connects from this host: run FLUSH HOSTS (or raise "
          "max_connect_errors) on the server";
      return e;
    default:
      break;
  }

  const bool lost = server_errno == kCrServerGone || server_errno == kCrServerLost ||
                    server_errno == kCrSslConnectionError ||
                    server_errno == kCrServerLostExtended || server_errno == kCrErrNetRead ||
                    server_errno == kCrErrNetWrite;
  if (lost) {
    const bool timed_out =
        MentionsTimeout(text) ||
        (c.phase != Phase::kConnect && c.elapsed >= o.read_timeout - std::chrono::milliseconds(50));
    if (c.phase == Phase::kConnect) {
      e.code = timed_out ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
      e.message = fmt::format(
          "cannot connect to target '{}' at {}: {}{}", target, endpoint, server_text,
          timed_out
              ? fmt::format(" (no handshake within {})", core::FormatDuration(o.connect_timeout))
              : std::string());
      e.hint =
          "something answers on that address but does not speak the MySQL protocol in "
          "time: check the port, proxies and the server's state";
    } else if (timed_out) {
      e.code = ErrorCode::kTimeout;
      e.message = fmt::format("target '{}' did not answer within {} ({}): {}", target,
                              core::FormatDuration(o.read_timeout), ShortStatement(c.statement),
                              server_text);
      e.hint =
          "the server may be overloaded or stalled; raise read_timeout if this statement is "
          "expected to be slow";
    } else {
      e.code = ErrorCode::kUnavailable;
      e.message = fmt::format("lost the connection to target '{}' ({}): {}", target,
                              ShortStatement(c.statement), server_text);
      e.hint = "the server restarted, closed the connection (wait_timeout) or the network broke";
    }
    return e;
  }

  const std::string where =
      c.phase == Phase::kSessionSetup ? "setting up the session" : ShortStatement(c.statement);
  switch (server_errno) {
    case kErSpecificAccessDenied:
    case kErTableAccessDenied:
    case kErColumnAccessDenied:
    case kErProcAccessDenied:
      e.code = ErrorCode::kPrivilege;
      e.message = fmt::format("user '{}' lacks a privilege on target '{}' for {}: {}", o.user,
                              target, where, server_text);
      e.hint = "grant the privileges the README lists for this command";
      return e;
    case kErParseError:
      e.code = ErrorCode::kSyntax;
      e.message =
          fmt::format("target '{}' rejected the syntax of {}: {}", target, where, server_text);
      e.hint =
          "this is a dbrunbook bug (wrong statement for this flavor): please report it with "
          "the server version";
      return e;
    case kErUnknownSystemVariable:
    case kErNoSuchTable:
    case kErUnknownTable:
      e.code = ErrorCode::kUnsupported;
      e.message = fmt::format("target '{}' does not support {}: {}", target, where, server_text);
      e.hint = "this server version or configuration lacks the feature";
      return e;
    case kErLockWaitTimeout:
      e.code = ErrorCode::kLockWaitTimeout;
      e.message =
          fmt::format("target '{}': lock wait timeout for {}: {}", target, where, server_text);
      e.hint = "another session holds a lock; dbrunbook gives up quickly rather than queue";
      return e;
    case kErStatementTimeoutMariaDb:
    case kErQueryTimeoutMySql:
      e.code = ErrorCode::kTimeout;
      e.message = fmt::format("target '{}' stopped {} at the statement time limit: {}", target,
                              where, server_text);
      e.hint = "the server is slow to answer this diagnostic; it was cut off to protect it";
      return e;
    default:
      break;
  }
  e.code = ErrorCode::kServerError;
  e.message = fmt::format("target '{}' failed {}: {} (error {}{}{})", target, where, server_text,
                          server_errno, sqlstate.empty() ? "" : ", SQLSTATE ", sqlstate);
  return e;
}

}  // namespace dbrunbook::mysql
