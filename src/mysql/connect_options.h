// Everything needed to open one connection to one target.
//
// Built from the configuration (config module) or a --dsn on the command line; consumed by a
// `SessionFactory`. Holds the password as a `core::Secret`, so the struct can be logged only
// through `Describe()`, which never includes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"

namespace dbrunbook::mysql {

// Same names and meaning as the MySQL client's --ssl-mode.
enum class TlsMode {
  kDisabled,        // plain text
  kPreferred,       // TLS when the server offers it, no verification (MySQL's default)
  kRequired,        // TLS or fail; the certificate is not verified
  kVerifyCa,        // TLS, certificate chain verified against `ca`/`capath`
  kVerifyIdentity,  // as kVerifyCa, and the host name must match the certificate
};

std::string_view TlsModeName(TlsMode mode);  // "DISABLED", "PREFERRED", ...
// Accepts the names above in any case, with '-' or '_' ("verify-ca", "VERIFY_CA").
std::optional<TlsMode> ParseTlsMode(std::string_view text);

struct TlsOptions {
  TlsMode mode = TlsMode::kPreferred;
  std::string ca;      // CA bundle file (PEM)
  std::string capath;  // directory of CA certificates
  std::string cert;    // client certificate (PEM), for X509 accounts
  std::string key;     // client key (PEM)
  std::string cipher;  // cipher list, empty for the library default
};

struct ConnectOptions {
  // The target's name, used in every message about this connection.
  std::string target_name;

  // Transport: a Unix socket when `socket` is set, otherwise TCP to host:port ("localhost"
  // then means TCP to the loopback address, unlike the mysql client; use `socket` for that).
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string socket;

  std::string user;
  core::Secret password;
  // Where the password came from, for hints ("password_env ORDERS_DB_PASSWORD"); no secret.
  std::string password_source;
  std::string database;

  TlsOptions tls;

  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};

  // Sent as the `program_name` connection attribute (performance_schema.session_connect_attrs,
  // sys.processlist), and as a comment in front of every statement ("/* dbrunbook */ SHOW
  // ..."), so whoever looks at SHOW PROCESSLIST sees whose statement it is. Empty: neither.
  std::string program_name = "dbrunbook";

  // Statements run right after authentication (session settings chosen by the dialect). A
  // failure here fails the connect.
  std::vector<std::string> init_statements;
  // Statement that lists the warnings of the previous statement (from the dialect); when
  // empty, server warnings are counted but not fetched.
  std::string warnings_statement;

  bool uses_socket() const { return !socket.empty(); }
  // "tcp 127.0.0.1:3306" or "socket /run/mysqld/mysqld.sock".
  std::string Endpoint() const;
  // "user 'monitor' at tcp 127.0.0.1:3306, tls PREFERRED"; never the password.
  std::string Describe() const;
};

}  // namespace dbrunbook::mysql
