// What is running on a target right now: statements, open transactions, replication.
//
// Each reader runs one dialect statement and returns plain structs, so steps (assessment
// now, investigation later) never look at column names or flavors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collect/status.h"
#include "collect/target_session.h"

namespace dbrunbook::collect {

struct ActiveStatement {
  uint64_t id = 0;
  std::string user;
  std::string host;
  std::string db;
  std::string command;
  std::string state;
  double time_seconds = 0;
  std::optional<std::string> info;  // statement text
  std::optional<double> progress;   // MariaDB's PROGRESS (percent), where the flavor has it
  // The statement's id (MariaDB's QUERY_ID): tells one statement of a connection from the next
  // one, and lets KILL QUERY ID stop exactly this one. nullopt where the flavor has none.
  std::optional<uint64_t> query_id;
  bool is_self = false;  // this row is the session that read it (CONNECTION_ID())
};

// Active statements (not idle, not replication or system threads, not ours), longest first.
core::Result<std::vector<ActiveStatement>> ReadActiveStatements(TargetSession& target, int limit);
// Every session (idle, daemon, replication and our own included), longest first: what an
// action that spares some of them must see (Dialect::Sessions).
core::Result<std::vector<ActiveStatement>> ReadSessions(TargetSession& target, int limit);
// The session of `connection_id` as it is now; nullopt when the connection is gone.
core::Result<std::optional<ActiveStatement>> ReadSession(TargetSession& target,
                                                         uint64_t connection_id);

struct OpenTransaction {
  std::string trx_id;
  uint64_t thread_id = 0;  // processlist id of the session holding it
  double age_seconds = 0;
  std::string state;  // RUNNING, LOCK WAIT, ...
  int64_t rows_locked = 0;
  int64_t rows_modified = 0;
  std::optional<std::string> query;  // nullopt: no statement running in it right now
  std::string user;                  // of the session holding it ("" when unknown)
  std::string host;
  std::string command;  // the session's processlist command ("Sleep" ...)
  // The session's processlist TIME: for a sleeping session, how long it has been idle.
  std::optional<double> session_seconds;

  // The session holds the transaction open and does nothing (command Sleep, no statement):
  // the classic forgotten BEGIN. A replication applier between events is not idle.
  bool idle_in_transaction() const { return !query.has_value() && command == "Sleep"; }
};

// Open InnoDB transactions, oldest first.
core::Result<std::vector<OpenTransaction>> ReadOldestTransactions(TargetSession& target, int limit);

enum class ThreadState { kRunning, kConnecting, kStopped, kUnknown };
std::string_view ThreadStateName(ThreadState state);
// "Yes" / "No" / "Connecting" (and "Preparing" on newer MySQL) as SHOW REPLICA STATUS prints.
ThreadState ParseThreadState(std::string_view text);

struct ReplicaChannel {
  std::string channel;  // empty for the default connection
  std::string source_host;
  std::optional<int64_t> source_port;
  ThreadState io = ThreadState::kUnknown;
  ThreadState sql = ThreadState::kUnknown;
  std::optional<int64_t> seconds_behind;  // NULL when the SQL thread is not running
  int64_t last_io_errno = 0;
  std::string last_io_error;
  int64_t last_sql_errno = 0;
  std::string last_sql_error;
  std::string io_state;
  std::string sql_state;
  std::string gtid_position;
};

// Replication channels of this server as a replica; empty when it is not a replica.
core::Result<std::vector<ReplicaChannel>> ReadReplicaStatus(TargetSession& target);
// Parses replica status rows with the dialect's column names (also used on recorded output).
std::vector<ReplicaChannel> ParseReplicaStatus(const mysql::ResultSet& result,
                                               const dialect::ReplicaStatusColumns& columns);

// Number of replicas connected to this server (Binlog Dump threads).
core::Result<int64_t> ReadConnectedReplicas(TargetSession& target);

// InnoDB history list length: the status variable where the flavor has one (no extra
// statement), else the dialect's INNODB_METRICS query. nullopt when neither is available.
core::Result<std::optional<int64_t>> ReadHistoryListLength(TargetSession& target,
                                                           const StatusSample& status);
// The same without a status sample at hand (one statement either way).
core::Result<std::optional<int64_t>> ReadHistoryListLength(TargetSession& target);

}  // namespace dbrunbook::collect
