// The production `Session`: one connection over MariaDB Connector/C.
//
// RAII: the connection is closed when the session is destroyed. Connect, read and write
// timeouts come from ConnectOptions (Connector/C works in whole seconds; values are rounded
// up). Reconnect is off (a silently reconnected monitoring session would lose its session
// settings) and LOAD DATA LOCAL is disabled (a hostile server could otherwise read files).
//
// Thread-safety: one thread at a time per session; different sessions may be used from
// different threads concurrently.
#pragma once

#include <memory>

#include "core/clock.h"
#include "core/log.h"
#include "mysql/session.h"

namespace dbrunbook::mysql {

class ConnectorSessionFactory final : public SessionFactory {
 public:
  // `clock` measures connect and statement times; it must outlive the factory and its
  // sessions. Connects and every statement (with its duration) are logged at debug level.
  explicit ConnectorSessionFactory(core::Clock& clock,
                                   std::shared_ptr<core::Logger> logger = core::MakeNullLogger())
      : clock_(clock), logger_(std::move(logger)) {}
  core::Result<std::unique_ptr<Session>> Connect(const ConnectOptions& options) override;

 private:
  core::Clock& clock_;
  std::shared_ptr<core::Logger> logger_;
};

// Version of the client library, e.g. "3.3.20".
std::string ClientLibraryVersion();

}  // namespace dbrunbook::mysql
