// Access to the MariaDB servers that scripts/sandbox starts, for integration tests.
//
// The CTest fixtures in tests/sandbox.cmake start the servers ("primary", and "replica"
// replicating from it) before the integration tests that require them; scripts/sandbox writes
// one env file per server, <$DBRUNBOOK_SANDBOX_DIR>/<name>/env, with shell-quoted
// KEY='value' lines, and this reader turns it into a `SandboxServer`.
//
// Integration tests must FAIL, never skip, when a sandbox is absent: every function here
// returns an error (naming the file or command involved) that the test asserts on.
//
// Thread-safety: the functions are reentrant; they read files and the process environment
// and (SandboxSql) spawn a process, and share no state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "mysql/connect_options.h"

namespace dbrunbook::testing {

struct SandboxServer {
  std::string name;        // sandbox name ("primary")
  std::string host;        // "127.0.0.1"
  std::string socket;      // Unix socket path
  std::string datadir;     // the server's data directory
  std::string dir;         // <sandbox dir>/<name>: my.cnf, logs, tls/, password files
  std::string tls_ca;      // CA that signed the server certificate (PEM)
  std::string tls_cert;    // server certificate (SAN DNS:localhost, IP:127.0.0.1)
  std::string tls_key;     // server key
  std::string slow_log;    // slow_query_log_file (the log itself starts OFF)
  std::string error_log;   // log_error
  std::string replica_of;  // name of the primary sandbox; empty for a primary
  uint16_t port = 0;
  uint32_t server_id = 0;
  std::string monitor_user;  // account with the documented read-only monitoring grants
  core::Secret monitor_password;
  std::string monitor_password_file;  // 0600 file holding the password

  // ConnectOptions for the monitor user over TCP (tls mode PREFERRED, no CA: verification is
  // for tests to turn on with `tls_ca`), target_name = name.
  mysql::ConnectOptions MonitorOptions() const;
  // ConnectOptions for root over the socket, without a password (for test setup only).
  mysql::ConnectOptions RootOptions() const;
};

// Parses the text of an env file written by scripts/sandbox: KEY=value assignments, one per
// line, where value follows sh quoting ('single', "double" with \-escapes, backslash outside
// quotes); blank lines and # comments are ignored. Expansions ($VAR, `cmd`) are rejected, not
// evaluated. `origin` (the file name) prefixes error messages. Later keys override earlier.
core::Result<std::map<std::string, std::string>> ParseSandboxEnv(std::string_view text,
                                                                 std::string_view origin);

// $DBRUNBOOK_SANDBOX_DIR, or an error saying that it is not set.
core::Result<std::string> SandboxDir();

// Reads $DBRUNBOOK_SANDBOX_DIR/<name>/env (and the monitor password file). Returns an error
// naming the file when it is missing or incomplete.
core::Result<SandboxServer> LoadSandbox(const std::string& name);

// Runs `scripts/sandbox sql NAME [client_args...]` (the mariadb client as root over the
// socket) with `sql` on stdin; returns its stdout, or an error with its stderr. For test setup
// that must not go through the code under test. $DBRUNBOOK_SOURCE_DIR gives the repo root.
// The client runs in batch mode (tab-separated, with a header line unless `client_args`
// contains "--skip-column-names").
core::Result<std::string> SandboxSql(const std::string& name, const std::string& sql,
                                     const std::vector<std::string>& client_args = {});

// A TCP port on the loopback that nothing listens on (bound, then closed), for tests of
// refused connections.
uint16_t ClosedLoopbackPort();

}  // namespace dbrunbook::testing
