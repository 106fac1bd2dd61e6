// The seam between dbrunbook and a MySQL-protocol server.
//
// `Session` runs one statement at a time on one connection and returns typed rows or a
// classified `core::Error`. Steps, collectors and the dialect's detection code take a
// `Session&`, so unit tests substitute a fake that replays recorded server output, and
// integration tests use the real `ConnectorSession` against a sandbox server.
//
// Thread-safety: a Session is used by one thread at a time (like the underlying connection).
// Ownership: sessions are owned by whoever opened them (unique_ptr); closing is RAII.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "mysql/connect_options.h"
#include "mysql/result.h"

namespace dbrunbook::mysql {

// Facts about an open connection, known after the handshake.
struct ConnectionInfo {
  std::string target_name;
  std::string endpoint;  // ConnectOptions::Endpoint()
  std::string user;
  bool tls = false;
  std::string tls_version;        // "TLSv1.3"; empty without TLS
  std::string tls_cipher;         // "TLS_AES_256_GCM_SHA384"; empty without TLS
  std::string server_version;     // from the handshake, e.g. "10.11.19-MariaDB-0+deb12u1"
  uint64_t connection_id = 0;     // the server's id for this connection (processlist ID)
  core::Duration connect_time{};  // TCP (or socket) + TLS + authentication
  core::Duration setup_time{};    // init statements after authentication
};

class Session {
 public:
  virtual ~Session() = default;

  // Runs one statement. Statements that return no rows give an empty ResultSet with
  // affected_rows set. Server warnings are attached to the result. On error the session
  // stays usable unless the error is kUnavailable/kTimeout (connection lost).
  virtual core::Result<ResultSet> Query(std::string_view sql) = 0;

  virtual const ConnectionInfo& info() const = 0;

  // Number of statements sent on this session so far (for cost accounting in benchmarks
  // and `--verbose` output). Includes init statements and warning fetches.
  virtual uint64_t statements_sent() const = 0;
};

// Opens sessions. The production factory uses MariaDB Connector/C; tests may substitute one
// that returns fakes.
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  virtual core::Result<std::unique_ptr<Session>> Connect(const ConnectOptions& options) = 0;
};

}  // namespace dbrunbook::mysql
