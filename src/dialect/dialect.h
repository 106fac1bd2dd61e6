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

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "dialect/flavor.h"
#include "mysql/session.h"

namespace dbrunbook::dialect {

// Column names of the replica status row on this flavor. A field is empty when this flavor's
// statement does not return such a column (no Channel_Name before MySQL 5.7, no
// Connection_name from CALL mysql.rds_replica_status, no GTID set before MySQL 5.6).
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
  kNone,  // MySQL 8.0+ with performance_schema OFF: INNODB_LOCK_WAITS is gone (8.0.1) and
          // data_lock_waits stays empty, so only SHOW ENGINE INNODB STATUS is left
};

// Flavor facts several statement builders share.
// SHOW REPLICA STATUS, START REPLICA, SHOW REPLICAS ...: MySQL family 8.0.22+ (Aurora v3).
bool UsesReplicaKeywords(const Flavor& flavor);
// performance_schema.processlist (no processlist mutex) instead of
// information_schema.PROCESSLIST: MySQL family 8.0.22+ with performance_schema ON.
bool UsesPerformanceSchemaProcesslist(const Flavor& flavor);
// RDS or Aurora: no SUPER, mysql.rds_* procedures instead.
bool IsAwsManaged(const Flavor& flavor);

class Dialect {
 public:
  // Session lock_wait_timeout (seconds) set at connect: a monitor never queues on a metadata
  // lock for long.
  static constexpr int kLockWaitTimeoutSeconds = 2;
  // Default server-side limit on one statement of ours (SessionSetup).
  static constexpr core::Duration kDefaultStatementTimeout = std::chrono::seconds(10);

  explicit Dialect(Flavor flavor);
  const Flavor& flavor() const { return flavor_; }

  // --- statements that work before the flavor is known ---------------------------------
  // One statement returning Variable_name/Value rows for every variable DetectFlavor and the
  // assessment read (version, version_comment, aurora_version, basedir, read_only,
  // max_connections, performance_schema, userstat, ...). Valid on MySQL 5.0.3+ (SHOW ... WHERE)
  // and every MariaDB; names the server lacks are simply absent from the answer.
  static std::string DetectionStatement();
  // Session settings valid on every flavor, sent as init statements at connect:
  // lock_wait_timeout low (a monitor must never queue on a metadata lock) and the session
  // kept out of the slow query log (long_query_time / min_examined_row_limit at maximum;
  // min_examined_row_limit also stops log_queries_not_using_indexes from logging us). Needs
  // no privilege. lock_wait_timeout exists from MySQL 5.5.3 / MariaDB 5.5; older servers
  // reject the statement.
  static std::vector<std::string> UniversalSessionSetup();
  // Lists the warnings of the previous statement.
  static std::string ShowWarnings();
  // The cheapest full round trip (connectivity checks, latency): SELECT 1.
  static std::string Ping();
  // The account the server authenticated us as, alias `account` ("monitor@%").
  static std::string CurrentAccount();

  // --- flavor-specific -------------------------------------------------------------------
  // Further session settings once the flavor is known (MariaDB: slow_query_log=0 and, from
  // 10.1.1, max_statement_time in seconds; MySQL-family 5.7.8+ incl. Aurora:
  // max_execution_time in milliseconds, which limits SELECTs only). `statement_timeout` is
  // rounded to whole milliseconds; zero means no limit. May be empty. Needs no privilege.
  std::vector<std::string> SessionSetup(
      core::Duration statement_timeout = kDefaultStatementTimeout) const;
  // One statement probing Capabilities (sys schema, MDL instrument, digests consumer), one
  // row with the columns sys_schema (count), mdl_instrument and statement_digests (YES/NO,
  // NULL when the instrument does not exist); empty unless performance_schema is known ON.
  std::string CapabilitiesStatement() const;

  std::string GlobalStatus() const;  // SHOW GLOBAL STATUS
  // SHOW GLOBAL STATUS of only these counters (and those starting with a prefix): what a
  // poller that runs every second needs, without the server building and sending ~500 rows.
  // Names and prefixes must be [A-Za-z0-9_]+ (they are status names, not user input); others
  // are left out.
  std::string GlobalStatusOf(const std::vector<std::string>& names,
                             const std::vector<std::string>& prefixes = {}) const;
  std::string GlobalVariables() const;  // SHOW GLOBAL VARIABLES

  // Running statements other than our own and other than idle, daemon and replication
  // threads, longest first, with normalized column aliases:
  //   id, user, host, db, command, state, time_seconds (fractional where the flavor has it),
  //   info (statement text), progress (MariaDB, else NULL), query_id (MariaDB, else NULL;
  //   for KillQueryId), is_self (0 here)
  // Source: performance_schema.processlist on MySQL-family 8.0.22+ with performance_schema
  // ON (no global mutex), else information_schema.PROCESSLIST (TIME_MS on MariaDB and
  // Percona Server 8.0+). `limit` below 1 is taken as 1.
  std::string ActiveStatements(int limit) const;
  // Every session in the processlist (idle, daemon, replication and our own included), with
  // the columns of ActiveStatements plus `is_self` (1 for this session: CONNECTION_ID()),
  // longest first. For actions that must see what they spare (mitigate kill-queries applies
  // its guardrails to these rows and reports each exclusion). `limit` below 1 is taken as 1.
  std::string Sessions(int limit) const;
  // The one processlist row of `connection_id` (same columns as Sessions), or no row when the
  // connection is gone: the re-check before a kill and the verification after it.
  std::string SessionById(uint64_t connection_id) const;
  // Open InnoDB transactions, oldest first, with aliases:
  //   trx_id, thread_id (processlist id), age_seconds, state, rows_locked, rows_modified,
  //   query (current statement, NULL between statements), user, host, command and
  //   session_seconds (processlist TIME: for a sleeping session, how long it has been idle) of
  //   the session (NULL when it has no processlist row): command Sleep with a NULL query is
  //   "idle in transaction".
  std::string OldestTransactions(int limit) const;
  // Replication threads connected to this server as a source (Binlog Dump / Binlog Dump GTID
  // in the processlist), alias `replicas`.
  std::string ConnectedReplicaCount() const;
  // History list length when it is not already a status variable; alias
  // `history_list_length`. Empty when the status variable Innodb_history_list_length has it
  // (MariaDB; Percona Server before 8.0 — the recorded Percona 8.0.32 status has no such
  // variable) or when nothing has it (MySQL before 5.6: no INNODB_METRICS). Otherwise reads
  // information_schema.INNODB_METRICS 'trx_rseg_history_len' (no row if that counter is
  // disabled).
  std::string HistoryListLength() const;
  // One status variable (Variable_name, Value), e.g. Innodb_history_list_length. `name` is a
  // constant of ours, never user input.
  static std::string StatusVariable(std::string_view name);

  // SHOW REPLICA STATUS (MySQL-family 8.0.22+, Aurora v3) / SHOW SLAVE STATUS (older
  // MySQL-family, Aurora v1/v2) / SHOW ALL SLAVES STATUS (MariaDB, every connection) /
  // CALL mysql.rds_replica_status (RDS for MariaDB 10.5+, whose master user lacks the
  // privilege SHOW needs there) and the column names it returns.
  std::string ReplicaStatus() const;
  const ReplicaStatusColumns& replica_columns() const { return replica_columns_; }

  RowLockWaitSource row_lock_wait_source() const;

  // KILL CONNECTION / KILL QUERY, or CALL mysql.rds_kill / mysql.rds_kill_query on RDS and
  // Aurora, where the master user cannot KILL other users' threads directly. Empty (nothing
  // to run) when the flavor was not detected: no action on an unknown server.
  std::string KillConnection(uint64_t connection_id) const;
  std::string KillQuery(uint64_t connection_id) const;
  // Kills one statement by its query id (the query_id alias of ActiveStatements), so a kill
  // that races with the connection moving on cannot hit the next statement: KILL QUERY ID
  // (MariaDB 10.0.5+) or CALL mysql.rds_kill_query_id (RDS for MariaDB). Empty where no such
  // form exists (MySQL family) or the flavor was not detected.
  std::string KillQueryId(uint64_t query_id) const;

 private:
  // SELECT ... FROM the flavor's processlist WHERE `where` (our SQL, never user input).
  std::string ProcesslistSelect(std::string_view where, int limit) const;

  Flavor flavor_;
  ReplicaStatusColumns replica_columns_;
};

// Runs DetectionStatement (and the capability probe) on `session` and returns the flavor
// and the variables read. A probe the account may not run leaves the capability nullopt; a
// failed detection statement is an error naming the target, as is a lost connection during
// the probe. A server whose flavor cannot be determined is not an error: the returned flavor
// has detected() == false and the caller refuses to act on it. Variables the detection
// statement asked for but the server lacks turn the matching capability (performance_schema,
// userstat, galera) into false.
struct Detection {
  Flavor flavor;
  VariableMap variables;
};
core::Result<Detection> Detect(mysql::Session& session);

}  // namespace dbrunbook::dialect
