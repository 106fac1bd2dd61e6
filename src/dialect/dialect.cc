#include "dialect/dialect.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace dbrunbook::dialect {
namespace {

// Every variable DetectFlavor and the initial assessment read. Names a server does not have
// are simply absent from the answer (SHOW ... WHERE works from MySQL 5.0.3 and on every
// MariaDB).
constexpr std::array<std::string_view, 35> kDetectionVariables = {
    "aurora_version",
    "basedir",
    "binlog_format",
    "datadir",
    "event_scheduler",
    "gtid_mode",
    "gtid_strict_mode",
    "hostname",
    "innodb_buffer_pool_size",
    "innodb_flush_log_at_trx_commit",
    "innodb_lock_wait_timeout",
    "innodb_read_only",
    "innodb_version",
    "lock_wait_timeout",
    "log_bin",
    "log_output",
    "long_query_time",
    "max_connections",
    "max_execution_time",
    "max_statement_time",
    "max_user_connections",
    "performance_schema",
    "port",
    "read_only",
    "server_id",
    "slow_query_log",
    "super_read_only",
    "sync_binlog",
    "system_time_zone",
    "time_zone",
    "userstat",
    "version",
    "version_comment",
    "wsrep_on",
    "wsrep_provider",
};

// Longest any monitor statement should be logged as: long_query_time's maximum (one year).
constexpr std::string_view kLongQueryTimeMax = "31536000";
// min_examined_row_limit's maximum on 32-bit builds; valid (and large enough) everywhere.
constexpr std::string_view kMinExaminedRowLimitMax = "4294967295";

// Threads that are not client statements: idle, daemons (event scheduler, MariaDB background
// threads), replication (source-side dump threads, MariaDB replica threads).
constexpr std::string_view kNotStatementsFilter =
    "COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', "
    "'Slave_SQL', 'Slave_worker') AND USER NOT IN ('system user', 'event_scheduler')";

// RDS for MariaDB 10.5+ does not grant its master user the privilege SHOW SLAVE STATUS needs
// there; AWS provides CALL mysql.rds_replica_status instead.
bool UsesRdsReplicaStatus(const Flavor& flavor) {
  return flavor.is_mariadb() && flavor.platform == Platform::kRds && flavor.version.AtLeast(10, 5);
}

ReplicaStatusColumns ColumnsFor(const Flavor& flavor) {
  ReplicaStatusColumns c;
  c.last_io_errno = "Last_IO_Errno";
  c.last_io_error = "Last_IO_Error";
  c.last_sql_errno = "Last_SQL_Errno";
  c.last_sql_error = "Last_SQL_Error";
  if (flavor.is_mariadb()) {
    c.source_host = "Master_Host";
    c.source_port = "Master_Port";
    c.io_running = "Slave_IO_Running";
    c.sql_running = "Slave_SQL_Running";
    c.seconds_behind = "Seconds_Behind_Master";
    c.io_state = "Slave_IO_State";
    c.sql_state = "Slave_SQL_Running_State";
    c.channel = UsesRdsReplicaStatus(flavor) ? "" : "Connection_name";
    c.gtid_position = "Gtid_IO_Pos";
    return c;
  }
  if (UsesReplicaKeywords(flavor)) {
    c.source_host = "Source_Host";
    c.source_port = "Source_Port";
    c.io_running = "Replica_IO_Running";
    c.sql_running = "Replica_SQL_Running";
    c.seconds_behind = "Seconds_Behind_Source";
    c.io_state = "Replica_IO_State";
    c.sql_state = "Replica_SQL_Running_State";
    c.channel = "Channel_Name";
    c.gtid_position = "Retrieved_Gtid_Set";
    return c;
  }
  c.source_host = "Master_Host";
  c.source_port = "Master_Port";
  c.io_running = "Slave_IO_Running";
  c.sql_running = "Slave_SQL_Running";
  c.seconds_behind = "Seconds_Behind_Master";
  c.io_state = "Slave_IO_State";
  // MySQL 5.6 appended Slave_SQL_Running_State, Retrieved_Gtid_Set ...; 5.7 Channel_Name.
  if (flavor.version.AtLeast(5, 6)) {
    c.sql_state = "Slave_SQL_Running_State";
    c.gtid_position = "Retrieved_Gtid_Set";
  }
  if (flavor.version.AtLeast(5, 7)) c.channel = "Channel_Name";
  return c;
}

bool IsConnectionLost(const core::Error& error) {
  return error.code == core::ErrorCode::kUnavailable || error.code == core::ErrorCode::kTimeout;
}

std::optional<bool> YesNo(const mysql::Field& field) {
  if (!field.present()) return std::nullopt;
  if (field.is_null()) return false;  // the instrument or consumer does not exist
  return field.AsBool();
}

}  // namespace

bool UsesReplicaKeywords(const Flavor& flavor) {
  return flavor.is_mysql_family() && flavor.version.AtLeast(8, 0, 22);
}

bool UsesPerformanceSchemaProcesslist(const Flavor& flavor) {
  return UsesReplicaKeywords(flavor) && flavor.capabilities.performance_schema == true;
}

bool IsAwsManaged(const Flavor& flavor) { return flavor.platform != Platform::kSelfManaged; }

Dialect::Dialect(Flavor flavor)
    : flavor_(std::move(flavor)), replica_columns_(ColumnsFor(flavor_)) {}

std::string Dialect::DetectionStatement() {
  std::string names;
  for (std::string_view name : kDetectionVariables) {
    if (!names.empty()) names += ", ";
    names += fmt::format("'{}'", name);
  }
  return fmt::format("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})", names);
}

std::vector<std::string> Dialect::UniversalSessionSetup() {
  return {fmt::format(
      "SET SESSION lock_wait_timeout = {}, long_query_time = {}, min_examined_row_limit = {}",
      kLockWaitTimeoutSeconds, kLongQueryTimeMax, kMinExaminedRowLimitMax)};
}

std::string Dialect::ShowWarnings() { return "SHOW WARNINGS"; }

std::string Dialect::Ping() { return "SELECT 1"; }

std::string Dialect::CurrentAccount() { return "SELECT CURRENT_USER() AS `account`"; }

std::vector<std::string> Dialect::SessionSetup(core::Duration statement_timeout) const {
  const auto millis = std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(statement_timeout).count());
  if (flavor_.is_mariadb()) {
    // Both have session scope from MariaDB 10.1.1 (max_statement_time was added then;
    // slow_query_log became a session variable with sql_log_slow in the same release).
    if (!flavor_.version.AtLeast(10, 1, 1)) return {};
    return {fmt::format("SET SESSION slow_query_log = 0, max_statement_time = {}.{:03}",
                        millis / 1000, millis % 1000)};
  }
  if (flavor_.is_mysql_family() && flavor_.version.AtLeast(5, 7, 8)) {
    return {fmt::format("SET SESSION max_execution_time = {}", millis)};
  }
  return {};
}

std::string Dialect::CapabilitiesStatement() const {
  if (flavor_.capabilities.performance_schema != true) return {};
  return "SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'sys') "
         "AS sys_schema, "
         "(SELECT ENABLED FROM performance_schema.setup_instruments "
         "WHERE NAME = 'wait/lock/metadata/sql/mdl') AS mdl_instrument, "
         "(SELECT ENABLED FROM performance_schema.setup_consumers "
         "WHERE NAME = 'statements_digest') AS statement_digests";
}

std::string Dialect::GlobalStatus() const { return "SHOW GLOBAL STATUS"; }

std::string Dialect::GlobalStatusOf(const std::vector<std::string>& names,
                                    const std::vector<std::string>& prefixes) const {
  auto plain = [](const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
  };
  std::vector<std::string> parts;
  std::vector<std::string> quoted;
  for (const std::string& name : names) {
    if (plain(name)) quoted.push_back(fmt::format("'{}'", name));
  }
  if (!quoted.empty()) {
    parts.push_back(fmt::format("Variable_name IN ({})", fmt::join(quoted, ", ")));
  }
  for (const std::string& prefix : prefixes) {
    if (!plain(prefix)) continue;
    // '_' is a LIKE wildcard: escaped so that the prefix matches only itself.
    std::string escaped;
    for (char c : prefix) {
      if (c == '_') escaped += "\\";
      escaped += c;
    }
    parts.push_back(fmt::format("Variable_name LIKE '{}%'", escaped));
  }
  if (parts.empty()) return GlobalStatus();
  return fmt::format("SHOW GLOBAL STATUS WHERE {}", fmt::join(parts, " OR "));
}

std::string Dialect::GlobalVariables() const { return "SHOW GLOBAL VARIABLES"; }

std::string Dialect::ProcesslistSelect(std::string_view where, int limit) const {
  limit = std::max(limit, 1);
  // `is_self` lets the server itself say which row is this session (CONNECTION_ID()), so the
  // guardrail that spares our own connection never depends on the handshake's thread id.
  if (UsesPerformanceSchemaProcesslist(flavor_)) {
    return fmt::format(
        "SELECT ID AS `id`, USER AS `user`, HOST AS `host`, DB AS `db`, COMMAND AS `command`, "
        "STATE AS `state`, TIME AS `time_seconds`, INFO AS `info`, NULL AS `progress`, "
        "NULL AS `query_id`, ID = CONNECTION_ID() AS `is_self` "
        "FROM performance_schema.processlist "
        "WHERE {} ORDER BY TIME DESC, ID LIMIT {}",
        where, limit);
  }
  std::string_view time = "TIME";
  std::string_view order = "TIME";
  std::string_view progress = "NULL";
  std::string_view query_id = "NULL";
  if (flavor_.is_mariadb()) {
    time = "ROUND(TIME_MS / 1000, 3)";
    order = "TIME_MS";
    progress = "PROGRESS";
    query_id = "QUERY_ID";
  } else if ((flavor_.product == Product::kPerconaServer ||
              flavor_.product == Product::kPerconaXtraDBCluster) &&
             flavor_.version.AtLeast(8, 0)) {
    time = "ROUND(TIME_MS / 1000, 3)";
    order = "TIME_MS";
  }
  return fmt::format(
      "SELECT ID AS `id`, USER AS `user`, HOST AS `host`, DB AS `db`, COMMAND AS `command`, "
      "STATE AS `state`, {} AS `time_seconds`, INFO AS `info`, {} AS `progress`, "
      "{} AS `query_id`, ID = CONNECTION_ID() AS `is_self` FROM information_schema.PROCESSLIST "
      "WHERE {} ORDER BY {} DESC, ID LIMIT {}",
      time, progress, query_id, where, order, limit);
}

std::string Dialect::ActiveStatements(int limit) const {
  return ProcesslistSelect(fmt::format("ID <> CONNECTION_ID() AND {}", kNotStatementsFilter),
                           limit);
}

std::string Dialect::Sessions(int limit) const { return ProcesslistSelect("TRUE", limit); }

std::string Dialect::SessionById(uint64_t connection_id) const {
  return ProcesslistSelect(fmt::format("ID = {}", connection_id), 1);
}

std::string Dialect::OldestTransactions(int limit) const {
  limit = std::max(limit, 1);
  // The session's command tells "idle in transaction" (Sleep) from a replication applier
  // between events (Slave_SQL / Slave_worker) when trx_query is NULL.
  const std::string_view processlist = UsesPerformanceSchemaProcesslist(flavor_)
                                           ? "performance_schema.processlist"
                                           : "information_schema.PROCESSLIST";
  return fmt::format(
      "SELECT t.trx_id AS `trx_id`, t.trx_mysql_thread_id AS `thread_id`, "
      "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS `age_seconds`, t.trx_state AS `state`, "
      "t.trx_rows_locked AS `rows_locked`, t.trx_rows_modified AS `rows_modified`, "
      "t.trx_query AS `query`, p.USER AS `user`, p.HOST AS `host`, p.COMMAND AS `command`, "
      "p.TIME AS `session_seconds` "
      "FROM information_schema.INNODB_TRX t LEFT JOIN {} p ON p.ID = t.trx_mysql_thread_id "
      "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() ORDER BY t.trx_started, t.trx_id LIMIT {}",
      processlist, limit);
}

std::string Dialect::ConnectedReplicaCount() const {
  const std::string_view table = UsesPerformanceSchemaProcesslist(flavor_)
                                     ? "performance_schema.processlist"
                                     : "information_schema.PROCESSLIST";
  return fmt::format(
      "SELECT COUNT(*) AS `replicas` FROM {} WHERE COMMAND IN ('Binlog Dump', "
      "'Binlog Dump GTID')",
      table);
}

std::string Dialect::HistoryListLength() const {
  if (flavor_.is_mariadb()) return {};
  if ((flavor_.product == Product::kPerconaServer ||
       flavor_.product == Product::kPerconaXtraDBCluster) &&
      !flavor_.version.AtLeast(8, 0)) {
    return {};
  }
  if (!flavor_.version.AtLeast(5, 6)) return {};
  return "SELECT `COUNT` AS `history_list_length` FROM information_schema.INNODB_METRICS "
         "WHERE NAME = 'trx_rseg_history_len' AND STATUS = 'enabled'";
}

std::string Dialect::StatusVariable(std::string_view name) {
  return fmt::format("SHOW GLOBAL STATUS LIKE '{}'", name);
}

std::string Dialect::ReplicaStatus() const {
  if (flavor_.is_mariadb()) {
    return UsesRdsReplicaStatus(flavor_) ? "CALL mysql.rds_replica_status"
                                         : "SHOW ALL SLAVES STATUS";
  }
  return UsesReplicaKeywords(flavor_) ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
}

RowLockWaitSource Dialect::row_lock_wait_source() const {
  if (flavor_.is_mysql_family() && flavor_.version.AtLeast(8, 0, 1)) {
    return flavor_.capabilities.performance_schema == false
               ? RowLockWaitSource::kNone
               : RowLockWaitSource::kPerformanceSchemaDataLockWaits;
  }
  return RowLockWaitSource::kInformationSchemaInnodbLockWaits;
}

std::string Dialect::KillConnection(uint64_t connection_id) const {
  if (!flavor_.detected()) return {};
  if (IsAwsManaged(flavor_)) return fmt::format("CALL mysql.rds_kill({})", connection_id);
  return fmt::format("KILL CONNECTION {}", connection_id);
}

std::string Dialect::KillQuery(uint64_t connection_id) const {
  if (!flavor_.detected()) return {};
  if (IsAwsManaged(flavor_)) return fmt::format("CALL mysql.rds_kill_query({})", connection_id);
  return fmt::format("KILL QUERY {}", connection_id);
}

std::string Dialect::KillQueryId(uint64_t query_id) const {
  if (!flavor_.is_mariadb()) return {};
  if (flavor_.platform == Platform::kRds) {
    return fmt::format("CALL mysql.rds_kill_query_id({})", query_id);
  }
  if (!flavor_.version.AtLeast(10, 0, 5)) return {};
  return fmt::format("KILL QUERY ID {}", query_id);
}

core::Result<Detection> Detect(mysql::Session& session) {
  const std::string context = fmt::format("target '{}'", session.info().target_name);
  auto answer = session.Query(Dialect::DetectionStatement());
  if (!answer) {
    return core::Fail(answer.error().WithContext(context + ": flavor detection failed"));
  }
  Detection detection;
  for (const auto& row : answer->rows) {
    auto name = row["Variable_name"].AsString();
    if (!name) continue;
    detection.variables.insert_or_assign(std::string(*name), row["Value"].StringOr(""));
  }
  detection.flavor = DetectFlavor(detection.variables);
  if (!detection.flavor.detected()) return detection;

  // Asked for but absent: the server has no such feature.
  Capabilities& caps = detection.flavor.capabilities;
  if (!detection.variables.contains("performance_schema")) caps.performance_schema = false;
  if (!detection.variables.contains("userstat")) caps.userstat = false;
  if (!detection.variables.contains("wsrep_on")) caps.galera = false;

  const std::string probe = Dialect(detection.flavor).CapabilitiesStatement();
  if (probe.empty()) return detection;
  auto probed = session.Query(probe);
  if (!probed) {
    if (IsConnectionLost(probed.error())) {
      return core::Fail(probed.error().WithContext(context + ": capability probe failed"));
    }
    return detection;  // e.g. no SELECT on performance_schema: capabilities stay unknown
  }
  if (probed->rows.empty()) return detection;
  const mysql::Row& row = probed->rows.front();
  if (auto count = row["sys_schema"].AsInt64()) caps.sys_schema = *count > 0;
  caps.mdl_instrument = YesNo(row["mdl_instrument"]);
  caps.statement_digests = YesNo(row["statement_digests"]);
  return detection;
}

}  // namespace dbrunbook::dialect
