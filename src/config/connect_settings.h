// A partial set of connection settings: only the fields some source actually named.
//
// A DSN, an option file (my.cnf) and the keys of a target in dbrunbook.yaml each say
// something about a connection, and they are layered: built-in defaults, then the option
// file, then what the configuration says explicitly. `ConnectSettings` is one such layer;
// `ApplyTo` copies the fields it has onto a `mysql::ConnectOptions` and leaves the others.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/secret.h"
#include "mysql/connect_options.h"

namespace dbrunbook::config {

struct ConnectSettings {
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  std::optional<std::string> socket;
  std::optional<std::string> user;
  std::optional<std::string> database;
  // Only option files carry a password (DSNs and dbrunbook.yaml refuse one).
  std::optional<core::Secret> password;
  std::string password_source;  // e.g. "defaults_file /etc/dbrunbook/orders.cnf"; no secret

  std::optional<mysql::TlsMode> tls_mode;
  std::optional<std::string> tls_ca;
  std::optional<std::string> tls_capath;
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> tls_cipher;

  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> read_timeout;
  std::optional<std::chrono::milliseconds> write_timeout;

  // True when any tls_* field is set.
  bool has_tls() const;
  // Copies every set field onto `options` (and password_source with the password).
  void ApplyTo(mysql::ConnectOptions& options) const;
};

// Parses a connection timeout as the MySQL clients write it: a duration ("5s", "500ms") or a
// bare number of seconds ("5"). Must be more than 0 and at most one day; sub-millisecond
// parts are rounded up to a whole millisecond. Errors are kInvalidArgument.
core::Result<std::chrono::milliseconds> ParseTimeout(std::string_view text);

}  // namespace dbrunbook::config
