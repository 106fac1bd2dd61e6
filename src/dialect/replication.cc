#include "dialect/replication.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {
namespace {

constexpr std::string_view kSystemSchemas =
    "'mysql', 'information_schema', 'performance_schema', 'sys'";

bool MySqlFamily(const Flavor& f) { return f.is_mysql_family(); }

std::string_view ProcesslistTable(const Flavor& f) {
  return UsesPerformanceSchemaProcesslist(f) ? "performance_schema.processlist"
                                             : "information_schema.PROCESSLIST";
}

std::string SchemaFilter(std::string_view column, const std::vector<std::string>& schemas) {
  if (schemas.empty()) return fmt::format("{} NOT IN ({})", column, kSystemSchemas);
  std::string list;
  for (const auto& s : schemas) {
    if (!list.empty()) list += ", ";
    list += SqlString(s);
  }
  return fmt::format("{} IN ({})", column, list);
}

// " FOR CHANNEL 'x'" on MySQL 5.7+ for a named channel, else "".
std::string ForChannel(const Flavor& f, std::string_view channel) {
  if (channel.empty() || !MySqlFamily(f) || !f.version.AtLeast(5, 7)) return {};
  return fmt::format(" FOR CHANNEL {}", SqlString(channel));
}

// "SLAVE" or "SLAVE 'name'" (MariaDB connection names go right after the keyword).
std::string MariaDbSlave(std::string_view channel) {
  return channel.empty() ? std::string("SLAVE") : fmt::format("SLAVE {}", SqlString(channel));
}

// START/STOP [thread] for the flavor; `thread` is "", "SQL_THREAD" or "IO_THREAD".
std::string StartStop(const Flavor& f, std::string_view verb, std::string_view channel,
                      std::string_view thread) {
  const std::string suffix = thread.empty() ? std::string() : fmt::format(" {}", thread);
  if (f.is_mariadb()) return fmt::format("{} {}{}", verb, MariaDbSlave(channel), suffix);
  return fmt::format("{} {}{}{}", verb, UsesReplicaKeywords(f) ? "REPLICA" : "SLAVE", suffix,
                     ForChannel(f, channel));
}

}  // namespace

std::string SqlString(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string SqlIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

ReplicaDetailColumns ReplicaDetailColumnsFor(const Dialect& d) {
  const Flavor& f = d.flavor();
  ReplicaDetailColumns c;
  c.relay_log_file = "Relay_Log_File";
  c.relay_log_pos = "Relay_Log_Pos";
  c.relay_log_space = "Relay_Log_Space";
  c.replicate_do_db = "Replicate_Do_DB";
  c.replicate_ignore_db = "Replicate_Ignore_DB";
  if (f.is_mariadb()) {
    c.source_log_file = "Master_Log_File";
    c.read_source_log_pos = "Read_Master_Log_Pos";
    c.relay_source_log_file = "Relay_Master_Log_File";
    c.exec_source_log_pos = "Exec_Master_Log_Pos";
    c.source_server_id = "Master_Server_Id";
    c.retrieved_gtid = "Gtid_IO_Pos";
    c.executed_gtid = "Gtid_Slave_Pos";
    c.using_gtid = "Using_Gtid";
    c.parallel_mode = "Parallel_Mode";
    if (f.version.AtLeast(10, 2, 3)) {
      c.sql_delay = "SQL_Delay";
      c.sql_remaining_delay = "SQL_Remaining_Delay";
    }
    return c;
  }
  const bool source = UsesReplicaKeywords(f);
  c.source_log_file = source ? "Source_Log_File" : "Master_Log_File";
  c.read_source_log_pos = source ? "Read_Source_Log_Pos" : "Read_Master_Log_Pos";
  c.relay_source_log_file = source ? "Relay_Source_Log_File" : "Relay_Master_Log_File";
  c.exec_source_log_pos = source ? "Exec_Source_Log_Pos" : "Exec_Master_Log_Pos";
  c.source_server_id = source ? "Source_Server_Id" : "Master_Server_Id";
  if (f.version.AtLeast(5, 6)) {
    c.sql_delay = "SQL_Delay";
    c.sql_remaining_delay = "SQL_Remaining_Delay";
    c.retrieved_gtid = "Retrieved_Gtid_Set";
    c.executed_gtid = "Executed_Gtid_Set";
    c.using_gtid = "Auto_Position";
    c.last_io_error_timestamp = "Last_IO_Error_Timestamp";
    c.last_sql_error_timestamp = "Last_SQL_Error_Timestamp";
    c.source_uuid = source ? "Source_UUID" : "Master_UUID";
  }
  return c;
}

std::string ReplicationVariables(const Dialect& /*d*/) {
  return "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('slave_parallel_threads', "
         "'slave_parallel_mode', 'slave_parallel_workers', 'replica_parallel_workers', "
         "'slave_parallel_type', 'replica_parallel_type', 'gtid_mode', 'gtid_slave_pos', "
         "'gtid_strict_mode', 'read_only')";
}

std::string ApplierTransactions(const Dialect& d) {
  const Flavor& f = d.flavor();
  const std::string_view appliers =
      f.is_mariadb() ? "p.COMMAND IN ('Slave_SQL', 'Slave_worker')" : "p.USER = 'system user'";
  std::string blocking = "NULL";
  switch (d.row_lock_wait_source()) {
    case RowLockWaitSource::kInformationSchemaInnodbLockWaits:
      blocking =
          "(SELECT MIN(b.trx_mysql_thread_id) FROM information_schema.INNODB_LOCK_WAITS w "
          "JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id "
          "WHERE w.requesting_trx_id = t.trx_id)";
      break;
    case RowLockWaitSource::kPerformanceSchemaDataLockWaits:
      blocking =
          "(SELECT MIN(b.trx_mysql_thread_id) FROM performance_schema.data_lock_waits w "
          "JOIN information_schema.INNODB_TRX b "
          "ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID "
          "WHERE w.REQUESTING_ENGINE_TRANSACTION_ID = t.trx_id)";
      break;
    case RowLockWaitSource::kNone:
      break;
  }
  return fmt::format(
      "SELECT t.trx_id AS `trx_id`, t.trx_mysql_thread_id AS `thread_id`, "
      "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS `age_seconds`, t.trx_state AS `state`, "
      "t.trx_rows_locked AS `rows_locked`, t.trx_rows_modified AS `rows_modified`, "
      "t.trx_tables_in_use AS `tables_in_use`, t.trx_query AS `query`, "
      "p.STATE AS `thread_state`, p.DB AS `db`, "
      "TIMESTAMPDIFF(SECOND, t.trx_wait_started, NOW()) AS `lock_wait_seconds`, "
      "{} AS `blocking_thread_id` "
      "FROM information_schema.INNODB_TRX t JOIN {} p ON p.ID = t.trx_mysql_thread_id "
      "WHERE {} ORDER BY t.trx_started, t.trx_id",
      blocking, ProcesslistTable(f), appliers);
}

std::string TablesWithoutPrimaryKey(const Dialect& /*d*/, const std::vector<std::string>& schemas,
                                    int limit) {
  limit = std::max(limit, 1);
  // information_schema.STATISTICS rather than TABLE_CONSTRAINTS: MariaDB shows an account
  // holding only SELECT on a schema its indexes but not its constraints (checked on 10.11).
  // A primary key's index is named PRIMARY on every flavor.
  return fmt::format(
      "SELECT t.TABLE_SCHEMA AS `table_schema`, t.TABLE_NAME AS `table_name`, "
      "t.ENGINE AS `engine`, t.TABLE_ROWS AS `table_rows`, "
      "(SELECT COUNT(DISTINCT u.INDEX_NAME) FROM information_schema.STATISTICS u "
      "WHERE u.TABLE_SCHEMA = t.TABLE_SCHEMA AND u.TABLE_NAME = t.TABLE_NAME "
      "AND u.NON_UNIQUE = 0) AS `unique_keys` "
      "FROM information_schema.TABLES t WHERE t.TABLE_TYPE = 'BASE TABLE' AND {} "
      "AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS k "
      "WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME "
      "AND k.INDEX_NAME = 'PRIMARY') "
      "ORDER BY t.TABLE_ROWS DESC, t.TABLE_SCHEMA, t.TABLE_NAME LIMIT {}",
      SchemaFilter("t.TABLE_SCHEMA", schemas), limit);
}

std::string VisibleTableCount(const Dialect& /*d*/, const std::vector<std::string>& schemas) {
  return fmt::format(
      "SELECT COUNT(*) AS `tables` FROM information_schema.TABLES "
      "WHERE TABLE_TYPE = 'BASE TABLE' AND {}",
      SchemaFilter("TABLE_SCHEMA", schemas));
}

std::string RelayLogEvents(const Dialect& d, std::string_view channel,
                           std::string_view relay_log_file, uint64_t pos, int limit) {
  const Flavor& f = d.flavor();
  limit = std::max(limit, 1);
  if (f.is_mariadb()) {
    const std::string connection =
        channel.empty() ? std::string() : fmt::format(" {}", SqlString(channel));
    return fmt::format("SHOW RELAYLOG{} EVENTS IN {} FROM {} LIMIT {}", connection,
                       SqlString(relay_log_file), pos, limit);
  }
  return fmt::format("SHOW RELAYLOG EVENTS IN {} FROM {} LIMIT {}{}", SqlString(relay_log_file),
                     pos, limit, ForChannel(f, channel));
}

std::string ApplierWorkerErrors(const Dialect& d) {
  const Flavor& f = d.flavor();
  if (!MySqlFamily(f) || !f.version.AtLeast(5, 7)) return {};
  const std::string_view gtid =
      f.version.AtLeast(8, 0) ? "APPLYING_TRANSACTION" : "LAST_SEEN_TRANSACTION";
  return fmt::format(
      "SELECT CHANNEL_NAME AS `channel`, WORKER_ID AS `worker_id`, "
      "LAST_ERROR_NUMBER AS `errno`, LAST_ERROR_MESSAGE AS `error`, "
      "LAST_ERROR_TIMESTAMP AS `error_time`, {} AS `gtid` "
      "FROM performance_schema.replication_applier_status_by_worker "
      "WHERE LAST_ERROR_NUMBER <> 0 ORDER BY LAST_ERROR_TIMESTAMP DESC",
      gtid);
}

std::string ReplicaHosts(const Dialect& d) {
  const Flavor& f = d.flavor();
  if (UsesReplicaKeywords(f)) return "SHOW REPLICAS";
  if (f.is_mariadb() && f.version.AtLeast(10, 5, 1)) return "SHOW REPLICA HOSTS";
  return "SHOW SLAVE HOSTS";
}

std::string BinlogDumpThreads(const Dialect& d) {
  return fmt::format(
      "SELECT ID AS `id`, USER AS `user`, HOST AS `host`, COMMAND AS `command`, "
      "TIME AS `time_seconds`, STATE AS `state` FROM {} "
      "WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') ORDER BY ID",
      ProcesslistTable(d.flavor()));
}

std::string AuroraReplicaHostStatus(const Dialect& d) {
  if (d.flavor().platform != Platform::kAurora) return {};
  return "SELECT * FROM information_schema.replica_host_status";
}

std::string StartReplica(const Dialect& d, std::string_view channel) {
  if (!d.flavor().detected()) return {};
  if (IsAwsManaged(d.flavor())) return "CALL mysql.rds_start_replication";
  return StartStop(d.flavor(), "START", channel, "");
}

std::string StopReplica(const Dialect& d, std::string_view channel) {
  if (!d.flavor().detected()) return {};
  if (IsAwsManaged(d.flavor())) return "CALL mysql.rds_stop_replication";
  return StartStop(d.flavor(), "STOP", channel, "");
}

std::string StartSqlThread(const Dialect& d, std::string_view channel) {
  if (!d.flavor().detected()) return {};
  if (IsAwsManaged(d.flavor())) return "CALL mysql.rds_start_replication";
  return StartStop(d.flavor(), "START", channel, "SQL_THREAD");
}

std::string StartIoThread(const Dialect& d, std::string_view channel) {
  if (!d.flavor().detected()) return {};
  if (IsAwsManaged(d.flavor())) return "CALL mysql.rds_start_replication";
  return StartStop(d.flavor(), "START", channel, "IO_THREAD");
}

std::string SkipWithCounter(const Dialect& d, std::string_view channel) {
  const Flavor& f = d.flavor();
  if (!f.detected()) return {};
  if (IsAwsManaged(f)) return "CALL mysql.rds_skip_repl_error";
  const std::string stop = StartStop(f, "STOP", channel, "SQL_THREAD");
  const std::string start = StartStop(f, "START", channel, "SQL_THREAD");
  if (f.is_mariadb()) {
    // sql_slave_skip_counter applies to the session's default_master_connection.
    const std::string choose =
        channel.empty() ? std::string()
                        : fmt::format("SET @@default_master_connection = {}; ", SqlString(channel));
    return fmt::format("{}; {}SET GLOBAL sql_slave_skip_counter = 1; {}", stop, choose, start);
  }
  const std::string_view counter =
      f.version.AtLeast(8, 0, 26) ? "sql_replica_skip_counter" : "sql_slave_skip_counter";
  // The MySQL skip counter applies to the next START of any channel: start only this one.
  return fmt::format("{}; SET GLOBAL {} = 1; {}", stop, counter, start);
}

std::string SkipWithGtidSlavePos(const Dialect& d, std::string_view gtid_slave_pos,
                                 bool all_connections) {
  const Flavor& f = d.flavor();
  if (!f.is_mariadb()) return {};
  if (IsAwsManaged(f)) return {};  // the master user cannot SET GLOBAL gtid_slave_pos on RDS
  const std::string_view stop = all_connections ? "STOP ALL SLAVES" : "STOP SLAVE";
  const std::string_view start = all_connections ? "START ALL SLAVES" : "START SLAVE";
  return fmt::format("{}; SET GLOBAL gtid_slave_pos = {}; {}", stop, SqlString(gtid_slave_pos),
                     start);
}

std::string SkipWithEmptyTransaction(const Dialect& d, std::string_view channel,
                                     std::string_view gtid) {
  const Flavor& f = d.flavor();
  if (!MySqlFamily(f) || gtid.empty()) return {};
  if (IsAwsManaged(f)) {
    // RDS for MySQL 5.7+ and Aurora MySQL v2+ (MySQL 5.7-compatible) have the procedure.
    if (!f.version.AtLeast(5, 7)) return {};
    return fmt::format("CALL mysql.rds_skip_transaction_with_gtid({})", SqlString(gtid));
  }
  return fmt::format("{}; SET GTID_NEXT = {}; BEGIN; COMMIT; SET GTID_NEXT = 'AUTOMATIC'; {}",
                     StartStop(f, "STOP", channel, ""), SqlString(gtid),
                     StartStop(f, "START", channel, ""));
}

std::string NextSourceLog(const Dialect& d, uint64_t current_log_index) {
  const Flavor& f = d.flavor();
  if (!IsAwsManaged(f)) return {};
  const bool source_names =
      MySqlFamily(f) &&
      (f.platform == Platform::kAurora ? f.version.AtLeast(8, 0) : f.version.AtLeast(8, 4));
  return fmt::format("CALL mysql.{}({})",
                     source_names ? "rds_next_source_log" : "rds_next_master_log",
                     current_log_index);
}

std::string RemoveDelay(const Dialect& d, std::string_view channel) {
  const Flavor& f = d.flavor();
  if (!f.detected()) return {};
  if (f.platform == Platform::kAurora) return {};
  if (f.platform == Platform::kRds) {
    return "CALL mysql.rds_stop_replication; CALL mysql.rds_set_source_delay(0); "
           "CALL mysql.rds_start_replication";
  }
  std::string change;
  if (f.is_mariadb()) {
    change = channel.empty()
                 ? "CHANGE MASTER TO MASTER_DELAY = 0"
                 : fmt::format("CHANGE MASTER {} TO MASTER_DELAY = 0", SqlString(channel));
  } else if (f.version.AtLeast(8, 0, 23)) {
    change = fmt::format("CHANGE REPLICATION SOURCE TO SOURCE_DELAY = 0{}", ForChannel(f, channel));
  } else {
    change = fmt::format("CHANGE MASTER TO MASTER_DELAY = 0{}", ForChannel(f, channel));
  }
  return fmt::format("{}; {}; {}", StartStop(f, "STOP", channel, ""), change,
                     StartStop(f, "START", channel, ""));
}

std::string EnableParallelApply(const Dialect& d, int threads) {
  const Flavor& f = d.flavor();
  if (!f.detected() || IsAwsManaged(f)) return {};
  threads = std::max(threads, 2);
  if (f.is_mariadb()) {
    return fmt::format("STOP ALL SLAVES; SET GLOBAL slave_parallel_threads = {}; START ALL SLAVES",
                       threads);
  }
  const std::string_view variable =
      f.version.AtLeast(8, 0, 26) ? "replica_parallel_workers" : "slave_parallel_workers";
  return fmt::format("{}; SET GLOBAL {} = {}; {}", StartStop(f, "STOP", "", "SQL_THREAD"), variable,
                     threads, StartStop(f, "START", "", "SQL_THREAD"));
}

std::string BinaryLogStatus(const Dialect& d) {
  const Flavor& f = d.flavor();
  if (MySqlFamily(f) && f.version.AtLeast(8, 2)) return "SHOW BINARY LOG STATUS";
  return "SHOW MASTER STATUS";
}

std::string AddPrimaryKey(const Dialect& d, std::string_view schema, std::string_view table) {
  const Flavor& f = d.flavor();
  if (!f.detected()) return {};
  const bool invisible = f.is_mariadb() ? f.version.AtLeast(10, 3, 3) : f.version.AtLeast(8, 0, 23);
  return fmt::format(
      "ALTER TABLE {}.{} ADD COLUMN `row_id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT{} "
      "PRIMARY KEY",
      SqlIdentifier(schema), SqlIdentifier(table), invisible ? " INVISIBLE" : "");
}

}  // namespace dbrunbook::dialect
