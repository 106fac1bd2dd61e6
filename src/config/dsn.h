// Connection URLs ("DSNs") for a target, as written in dbrunbook.yaml (`dsn:`) or on the
// command line (`--dsn`):
//
//   mysql://[user@]host[:port][/database][?param=value&param=value...]
//   mysql://monitor@db1.internal:3306/orders?ssl-mode=VERIFY_CA&ssl-ca=/etc/ssl/rds.pem
//   mysql://monitor@localhost/?socket=/run/mysqld/mysqld.sock
//   mysql://monitor@[::1]:3307/
//
// `mariadb://` is accepted as an alias of `mysql://`. The port defaults to 3306; user and
// database may be left out. User, database, parameter names and values are percent-decoded
// (write '@' as %40, '/' in a user or database name as %2F). The host may be empty only
// when a `socket` parameter is given. IPv6 addresses go in brackets.
//
// Parameters (`_` may be written for `-`): socket, ssl-mode, ssl-ca, ssl-capath, ssl-cert,
// ssl-key, ssl-cipher, connect-timeout, read-timeout, write-timeout (durations such as 5s
// or 500ms; a bare number means seconds).
//
// Passwords are refused, in the user part (`user:secret@`) and as a parameter: a DSN shows
// in `ps` and in shell history. Error messages never repeat the password, nor the DSN.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/connect_settings.h"
#include "core/error.h"
#include "mysql/connect_options.h"

namespace dbrunbook::config {

// Parses a DSN into the settings it names (fields it does not mention stay unset). Errors
// are kInvalidArgument, with a message saying which part is wrong and a hint.
core::Result<ConnectSettings> ParseDsn(std::string_view dsn);

// The DSN of `options`, for display ("mysql://monitor@10.0.0.12:3306/orders?ssl-mode=
// REQUIRED"). Never includes the password. Parameters appear only when they differ from
// the ConnectOptions defaults; ParseDsn(FormatDsn(o)) gives back o's address, user,
// database, TLS settings and timeouts.
std::string FormatDsn(const mysql::ConnectOptions& options);

// The parameter names ParseDsn accepts ("socket", "ssl-mode", ...).
const std::vector<std::string>& DsnParameterNames();

}  // namespace dbrunbook::config
