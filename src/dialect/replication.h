// Statements of the replication investigation step, per flavor: what it reads on a replica
// (the replica status row beyond ReplicaStatusColumns, the applier's InnoDB transaction, the
// failing relay-log event, tables without a primary key, the variables that say how the
// replica applies) and on a source (its replicas: SHOW REPLICA HOSTS, the Binlog Dump threads,
// Aurora's replica_host_status), and the statements a DBA would run to repair or skip, which
// the step only ever suggests.
//
// Names and versions checked against the vendors' documentation:
//   * MySQL 8.0.22+ (and Aurora v3, MySQL 8.4 where the old forms are gone) use SHOW REPLICA
//     STATUS / SHOW REPLICAS / START|STOP REPLICA with Source_ column names; CHANGE
//     REPLICATION SOURCE TO SOURCE_DELAY from 8.0.23; sql_replica_skip_counter from 8.0.26.
//   * MariaDB keeps Slave_/Master_ names; a named connection goes between SLAVE and the
//     thread keyword (STOP SLAVE 'name' SQL_THREAD); SHOW REPLICA HOSTS exists from 10.5.1 and
//     needs REPLICATION MASTER ADMIN from 10.5.2 (REPLICATION SLAVE before); skipping with GTID
//     is SET GLOBAL gtid_slave_pos (all replica threads stopped) or sql_slave_skip_counter
//     (refused when parallel replication runs several GTID domains, error 1966).
//   * MySQL with GTID refuses sql_slave_skip_counter (error 1858): the failing transaction is
//     replaced by an empty one with the same GTID (SET GTID_NEXT ...; BEGIN; COMMIT).
//   * RDS and Aurora: the master user cannot run these directly; AWS provides
//     mysql.rds_stop_replication / rds_start_replication / rds_skip_repl_error (RDS MySQL and
//     MariaDB, Aurora), rds_skip_transaction_with_gtid (RDS MySQL 5.7+, Aurora v2/v3),
//     rds_next_master_log (RDS MariaDB, RDS MySQL up to 8.0, Aurora v1/v2) or
//     rds_next_source_log (RDS MySQL 8.4+, Aurora v3), rds_set_source_delay (RDS).
//
// Every function returns the statement text for `d`'s flavor, or an empty string when the
// flavor has no such statement. Strings taken from the server (file names, channel names,
// GTIDs) are quoted as SQL string literals; schema and table names as identifiers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// Columns of the replica status row beyond Dialect::replica_columns(); a field is empty when
// this flavor's statement has no such column (and a column a server lacks is simply absent
// from the row, so reading it gives no value).
struct ReplicaDetailColumns {
  std::string source_log_file;           // Master_Log_File / Source_Log_File: the source binlog
                                         // the IO thread reads
  std::string read_source_log_pos;       // Read_Master_Log_Pos / Read_Source_Log_Pos
  std::string relay_source_log_file;     // Relay_Master_Log_File / Relay_Source_Log_File: the
                                         // source binlog of the event the SQL thread executes
  std::string exec_source_log_pos;       // Exec_Master_Log_Pos / Exec_Source_Log_Pos
  std::string relay_log_file;            // Relay_Log_File
  std::string relay_log_pos;             // Relay_Log_Pos
  std::string relay_log_space;           // Relay_Log_Space (bytes of all relay logs)
  std::string sql_delay;                 // SQL_Delay (MySQL 5.6+, MariaDB 10.2.3+)
  std::string sql_remaining_delay;       // SQL_Remaining_Delay
  std::string retrieved_gtid;            // Gtid_IO_Pos (MariaDB) / Retrieved_Gtid_Set (MySQL 5.6+)
  std::string executed_gtid;             // Gtid_Slave_Pos (MariaDB, SHOW ALL SLAVES STATUS only) /
                                         // Executed_Gtid_Set (MySQL 5.6+)
  std::string using_gtid;                // Using_Gtid (MariaDB: No, Slave_Pos, Current_Pos) /
                                         // Auto_Position (MySQL 5.6+: 0/1)
  std::string last_io_error_timestamp;   // Last_IO_Error_Timestamp (MySQL 5.6+)
  std::string last_sql_error_timestamp;  // Last_SQL_Error_Timestamp (MySQL 5.6+)
  std::string source_uuid;               // Master_UUID / Source_UUID (MySQL 5.6+)
  std::string source_server_id;          // Master_Server_Id / Source_Server_Id
  std::string parallel_mode;             // Parallel_Mode (MariaDB)
  std::string replicate_do_db;           // Replicate_Do_DB
  std::string replicate_ignore_db;       // Replicate_Ignore_DB
};
ReplicaDetailColumns ReplicaDetailColumnsFor(const Dialect& d);

// --- reads ------------------------------------------------------------------------------

// The variables that say how this replica applies and positions: Variable_name/Value rows of
// slave_parallel_threads, slave_parallel_mode (MariaDB), replica_parallel_workers /
// slave_parallel_workers, replica_parallel_type / slave_parallel_type (MySQL), gtid_mode,
// gtid_slave_pos, gtid_strict_mode, read_only. Names a server lacks are absent. No privilege.
std::string ReplicationVariables(const Dialect& d);

// The InnoDB transactions of the replication applier threads (MariaDB: processlist COMMAND
// Slave_SQL / Slave_worker; MySQL family: USER 'system user', the replica's IO, SQL and worker
// threads), oldest first, with aliases:
//   trx_id, thread_id (processlist id), age_seconds, state (RUNNING, LOCK WAIT ...),
//   rows_locked, rows_modified, tables_in_use, query (the statement; MariaDB shows the
//   source's statement from its annotate event), thread_state (processlist STATE), db,
//   lock_wait_seconds (NULL unless waiting), blocking_thread_id (processlist id of the
//   session holding the lock the applier waits for; NULL when not waiting or when the flavor
//   has no lock-wait table: Dialect::row_lock_wait_source() kNone).
// Needs PROCESS (and SELECT on performance_schema on MySQL 8.0+ for the blocker).
std::string ApplierTransactions(const Dialect& d);

// Base tables without a PRIMARY KEY in `schemas` (every schema but the system ones when
// empty), largest first, at most `limit`, with aliases table_schema, table_name, engine,
// table_rows (estimate), unique_keys (count of unique indexes: a unique key still lets
// row-based replication find rows by index). information_schema lists only tables the
// account has a privilege on: no row may mean "none visible" (see VisibleTableCount).
std::string TablesWithoutPrimaryKey(const Dialect& d, const std::vector<std::string>& schemas,
                                    int limit);
// How many base tables of `schemas` (all non-system schemas when empty) the account can see,
// alias `tables`.
std::string VisibleTableCount(const Dialect& d, const std::vector<std::string>& schemas);

// The relay-log events from `pos` of `relay_log_file` (the failing event group when the SQL
// thread stopped on an error): SHOW RELAYLOG ['connection'] EVENTS IN ... FROM ... LIMIT n
// (MariaDB) / SHOW RELAYLOG EVENTS IN ... FROM ... LIMIT n [FOR CHANNEL '...'] (MySQL 5.7+).
// Columns Log_name, Pos, Event_type, Server_id, End_log_pos, Info. MariaDB 10.5.9+: SLAVE
// MONITOR; MySQL: REPLICATION SLAVE (usually not granted to a monitor). Also the statement a
// DBA runs to look at the failing transaction.
std::string RelayLogEvents(const Dialect& d, std::string_view channel,
                           std::string_view relay_log_file, uint64_t pos, int limit);

// MySQL 5.7+: the applier workers' last errors with the GTID they were applying, from
// performance_schema.replication_applier_status_by_worker, rows with an error only, aliases:
// channel, worker_id, errno, error, error_time, gtid (APPLYING_TRANSACTION on 8.0+,
// LAST_SEEN_TRANSACTION on 5.7). Empty for MariaDB and MySQL before 5.7.
std::string ApplierWorkerErrors(const Dialect& d);

// Replicas registered with this source: SHOW REPLICAS (MySQL-family 8.0.22+), SHOW REPLICA
// HOSTS (MariaDB 10.5.1+), SHOW SLAVE HOSTS (older). Columns Server_id, Host, Port,
// Master_id / Source_id, and on MySQL Slave_UUID / Replica_UUID. Privilege: REPLICATION SLAVE
// (MySQL, MariaDB before 10.5.2) or REPLICATION MASTER ADMIN (MariaDB 10.5.2+).
std::string ReplicaHosts(const Dialect& d);

// The threads serving replicas (processlist COMMAND Binlog Dump / Binlog Dump GTID), with
// aliases id, user, host (the replica's address:port), command, time_seconds (in the current
// state), state. Needs PROCESS to see other accounts' threads.
std::string BinlogDumpThreads(const Dialect& d);

// Aurora only (else empty): every instance of the cluster from
// information_schema.replica_host_status. SELECT * because the column set differs between
// Aurora versions (multi-master 1.x: HAS_PRIMARY, LAST_REPORTED_STATUS; 2019 pages named the
// lag column REPLICA_LAG_IN_MSEC) and one missing named column would fail the whole statement.
// Columns read: SERVER_ID, SESSION_ID ('MASTER_SESSION_ID' for the writer),
// REPLICA_LAG_IN_MILLISECONDS (or REPLICA_LAG_IN_MSEC), CPU, LAST_UPDATE_TIMESTAMP,
// HAS_PRIMARY, LAST_REPORTED_STATUS.
std::string AuroraReplicaHostStatus(const Dialect& d);

// --- suggested to a human, never run by dbrunbook ----------------------------------------

// Starts / stops the whole replica (both threads) or only the SQL thread of `channel` ("" is
// the default connection): START SLAVE ['name'] [SQL_THREAD] (MariaDB), START REPLICA
// [SQL_THREAD] [FOR CHANNEL 'name'] (MySQL 8.0.22+), START SLAVE ... (older MySQL);
// CALL mysql.rds_start_replication / rds_stop_replication on RDS and Aurora (both threads).
std::string StartReplica(const Dialect& d, std::string_view channel);
std::string StopReplica(const Dialect& d, std::string_view channel);
std::string StartSqlThread(const Dialect& d, std::string_view channel);
std::string StartIoThread(const Dialect& d, std::string_view channel);

// Skips the one event group the SQL thread stopped on with the skip counter, as one line of
// statements: stop the SQL thread, set sql_slave_skip_counter (sql_replica_skip_counter on
// MySQL 8.0.26+) to 1, start the SQL thread; on MariaDB a named connection is chosen with
// default_master_connection. CALL mysql.rds_skip_repl_error on RDS and Aurora. Not valid with
// MySQL GTID (see SkipWithEmptyTransaction).
std::string SkipWithCounter(const Dialect& d, std::string_view channel);
// MariaDB with GTID: records `gtid_slave_pos` (the current position with the failing GTID
// put in its domain) so the replica resumes after that transaction: STOP SLAVE (STOP ALL
// SLAVES when `all_connections`) ; SET GLOBAL gtid_slave_pos = '...' ; START SLAVE (ALL
// SLAVES). Empty on other flavors.
std::string SkipWithGtidSlavePos(const Dialect& d, std::string_view gtid_slave_pos,
                                 bool all_connections);
// MySQL with GTID: commits an empty transaction with the failing GTID, then restarts the
// channel; CALL mysql.rds_skip_transaction_with_gtid('...') on RDS MySQL / Aurora. Empty on
// MariaDB.
std::string SkipWithEmptyTransaction(const Dialect& d, std::string_view channel,
                                     std::string_view gtid);
// RDS and Aurora after IO error 1236 following a source failover: CALL
// mysql.rds_next_master_log(N) / rds_next_source_log(N) (Aurora v3, RDS MySQL 8.4+), N the
// index of the current source binlog file. Empty on self-managed servers.
std::string NextSourceLog(const Dialect& d, uint64_t current_log_index);
// Removes a configured apply delay: stop, CHANGE MASTER ['name'] TO MASTER_DELAY = 0 /
// CHANGE REPLICATION SOURCE TO SOURCE_DELAY = 0 [FOR CHANNEL] (MySQL 8.0.23+), start;
// CALL mysql.rds_stop_replication; CALL mysql.rds_set_source_delay(0); CALL
// mysql.rds_start_replication on RDS. Empty on Aurora (not documented there).
std::string RemoveDelay(const Dialect& d, std::string_view channel);

// Turns on parallel apply with `threads` applier threads: STOP ALL SLAVES; SET GLOBAL
// slave_parallel_threads = N; START ALL SLAVES (MariaDB: only changeable with every replica
// thread stopped) / STOP REPLICA SQL_THREAD; SET GLOBAL replica_parallel_workers = N (MySQL
// 8.0.26+; slave_parallel_workers before); START REPLICA SQL_THREAD (taken at the next start).
// Empty on RDS and Aurora, where it is a parameter-group change.
std::string EnableParallelApply(const Dialect& d, int threads);
// The source's current binlog file and position, to compare with the replica's IO position:
// SHOW BINARY LOG STATUS (MySQL 8.2+, where SHOW MASTER STATUS is deprecated), SHOW MASTER
// STATUS (older MySQL, MariaDB).
std::string BinaryLogStatus(const Dialect& d);
// Adds an invisible auto-increment primary key (MariaDB 10.3.3+ / MySQL 8.0.23+ invisible
// columns, so SELECT * and INSERT without a column list keep working), named
// `row_id`; a visible one on older versions. To run on the source, which replicates it.
std::string AddPrimaryKey(const Dialect& d, std::string_view schema, std::string_view table);

// Quoting helpers, exposed for tests: 'it''s' and `my``table`.
std::string SqlString(std::string_view value);
std::string SqlIdentifier(std::string_view name);

}  // namespace dbrunbook::dialect
