// The only place that holds SQL text.
//
// A `Dialect` maps each diagnostic or action to the statement that works on one flavor:
// `SHOW REPLICA STATUS` or `SHOW SLAVE STATUS` (and which column names come back), `KILL`
// or `CALL mysql.rds_kill(...)`, which lock-wait source exists. Later issues add methods;
// every statement returned here is covered by a unit test per flavor and, for MariaDB, by an
// integration test against a real server.
//
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "dialect/flavor.h"
#include "mysql/session.h"

namespace dbrunbook::dialect {

// Column names of the replica status row on this flavor.
struct ReplicaStatusColumns {
  std::string source_host;     // Master_Host / Source_Host
  std::string source_port;     // Master_Port / Source_Port
  std::string io_running;      // Slave_IO_Running / Replica_IO_Running
  std::string sql_running;     // Slave_SQL_Running / Replica_SQL_Running
  std::string seconds_behind;  // Seconds_Behind_Master / Seconds_Behind_Source
  std::string last_io_errno;   // Last_IO_Errno
  std::string last_io_error;   // Last_IO_Error
  std::string last_sql_errno;  // Last_SQL_Errno
  std::string last_sql_error;  // Last_SQL_Error
  std::string io_state;        // Slave_IO_State / Replica_IO_State
  std::string sql_state;       // Slave_SQL_Running_State / Replica_SQL_Running_State
  std::string channel;         // Channel_Name (MySQL) / Connection_name (MariaDB)
  std::string gtid_position;   // Gtid_IO_Pos (MariaDB) / Retrieved_Gtid_Set (MySQL)
};

enum class RowLockWaitSource {
  kPerformanceSchemaDataLockWaits,    // MySQL 8.0+: performance_schema.data_lock_waits
  kInformationSchemaInnodbLockWaits,  // MySQL 5.6/5.7, MariaDB:
                                      // information_schema.INNODB_LOCK_WAITS
};

class Dialect {
 public:
  explicit Dialect(Flavor flavor);
  const Flavor& flavor() const { return flavor_; }

  // --- statements that work before the flavor is known ---------------------------------
  // One statement returning Variable_name/Value rows for every variable DetectFlavor and the
  // assessment read (version, version_comment, aurora_version, basedir, read_only,
  // max_connections, performance_schema, userstat, ...). Valid on MySQL 5.0+ / MariaDB.
  static std::string DetectionStatement();
  // Session settings valid on every flavor, sent as init statements at connect:
  // lock_wait_timeout low (a monitor must never queue on a metadata lock) and the session
  // kept out of the slow query log (long_query_time / min_examined_row_limit at maximum).
  static std::vector<std::string> UniversalSessionSetup();
  // Lists the warnings of the previous statement.
  static std::string ShowWarnings();

  // --- flavor-specific -------------------------------------------------------------------
  // Further session settings once the flavor is known (MariaDB: slow_query_log=0 and
  // max_statement_time; MySQL 5.7.8+: max_execution_time). May be empty.
  std::vector<std::string> SessionSetup() const;
  // One statement probing Capabilities (sys schema, MDL instrument, digests consumer);
  // empty when performance_schema is off (nothing to probe).
  std::string CapabilitiesStatement() const;

  std::string GlobalStatus() const;     // SHOW GLOBAL STATUS
  std::string GlobalVariables() const;  // SHOW GLOBAL VARIABLES

  // Running statements other than our own and other than idle, daemon and replication
  // threads, longest first, with normalized column aliases:
  //   id, user, host, db, command, state, time_seconds (fractional where the flavor has it),
  //   info (statement text), progress (MariaDB, else NULL)
  std::string ActiveStatements(int limit) const;
  // Open InnoDB transactions, oldest first, with aliases:
  //   trx_id, thread_id (processlist id), age_seconds, state, rows_locked, rows_modified,
  //   query (current statement or NULL when idle in transaction)
  std::string OldestTransactions(int limit) const;
  // Replication threads connected to this server as a source (Binlog Dump / Binlog Dump GTID
  // in the processlist), alias `replicas`.
  std::string ConnectedReplicaCount() const;
  // History list length when it is not already a status variable (Innodb_history_list_length
  // exists on MariaDB and Percona Server); alias `history_list_length`. Empty if unavailable.
  std::string HistoryListLength() const;

  // SHOW REPLICA STATUS / SHOW SLAVE STATUS / SHOW ALL SLAVES STATUS (MariaDB, all
  // connections) and the column names it returns.
  std::string ReplicaStatus() const;
  const ReplicaStatusColumns& replica_columns() const { return replica_columns_; }

  RowLockWaitSource row_lock_wait_source() const;

  // KILL CONNECTION / KILL QUERY, or CALL mysql.rds_kill / mysql.rds_kill_query on RDS and
  // Aurora, where the master user cannot KILL other users' threads directly.
  std::string KillConnection(uint64_t connection_id) const;
  std::string KillQuery(uint64_t connection_id) const;

 private:
  Flavor flavor_;
  ReplicaStatusColumns replica_columns_;
};

// Runs DetectionStatement (and the capability probe) on `session` and returns the flavor
// and the variables read. A probe the account may not run leaves the capability nullopt; a
// failed detection statement is an error naming the target.
struct Detection {
  Flavor flavor;
  VariableMap variables;
};
core::Result<Detection> Detect(mysql::Session& session);

}  // namespace dbrunbook::dialect
