#include "dialect/mdl.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {
namespace {

// Processlist states of a session waiting for a metadata lock, on MySQL and MariaDB alike:
// "Waiting for table metadata lock", "... schema ...", "... stored function ...", "...
// trigger ...", "... event ...", "... tablespace ..." (MySQL), and the global ones. Not
// "Waiting for table level lock" (THR_LOCK, MyISAM) nor "User lock" (GET_LOCK).
constexpr std::string_view kWaitingStates =
    "(STATE LIKE 'Waiting for %metadata lock' OR STATE IN ('Waiting for global read lock', "
    "'Waiting for backup lock', 'Waiting for commit lock'))";

// Threads that never hold a client's metadata lock: source-side binlog dump threads and
// daemons.
constexpr std::string_view kNotClientThreads =
    "COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID')";

bool HasTimeMs(const Flavor& flavor) {
  return flavor.is_mariadb() || ((flavor.product == Product::kPerconaServer ||
                                  flavor.product == Product::kPerconaXtraDBCluster) &&
                                 flavor.version.AtLeast(8, 0));
}

// The processlist table and the expression for the session's time (as `time_seconds`),
// columns qualified with `alias`.
struct Processlist {
  std::string table;
  std::string time;
};

Processlist ProcesslistFor(const Flavor& flavor, std::string_view alias) {
  if (UsesPerformanceSchemaProcesslist(flavor)) {
    return {"performance_schema.processlist", fmt::format("{}TIME", alias)};
  }
  if (HasTimeMs(flavor)) {
    return {"information_schema.PROCESSLIST", fmt::format("ROUND({}TIME_MS / 1000, 3)", alias)};
  }
  return {"information_schema.PROCESSLIST", fmt::format("{}TIME", alias)};
}

// The performance_schema tables of the 5.7 lock instrumentation (metadata_locks,
// table_handles) exist on MySQL-family 5.7.3+ and MariaDB 10.5.2+.
bool HasLockInstrumentationTables(const Flavor& flavor) {
  if (flavor.capabilities.performance_schema != true) return false;
  if (flavor.is_mariadb()) return flavor.version.AtLeast(10, 5, 2);
  return flavor.is_mysql_family() && flavor.version.AtLeast(5, 7, 3);
}

constexpr std::string_view kTrxSeconds =
    "TIMESTAMPDIFF(SECOND, x.trx_started, NOW()) AS `trx_seconds`";

}  // namespace

std::string MetadataLockWaiters(const Dialect& d, int limit) {
  limit = std::max(limit, 1);
  const Processlist p = ProcesslistFor(d.flavor(), "");
  return fmt::format(
      "SELECT ID AS `connection_id`, USER AS `user`, HOST AS `host`, DB AS `db`, "
      "COMMAND AS `command`, STATE AS `state`, {} AS `time_seconds`, INFO AS `statement` "
      "FROM {} WHERE ID <> CONNECTION_ID() AND {} ORDER BY time_seconds DESC, ID LIMIT {}",
      p.time, p.table, kWaitingStates, limit);
}

bool HasMetadataLocksTable(const Flavor& flavor) {
  return HasLockInstrumentationTables(flavor) && flavor.capabilities.mdl_instrument == true;
}

bool MayHaveMetadataLockInfo(const Flavor& flavor) {
  return flavor.is_mariadb() && flavor.version.AtLeast(10, 0, 7);
}

std::string MetadataLocks(const Dialect& d, int limit) {
  if (!HasMetadataLocksTable(d.flavor())) return {};
  limit = std::max(limit, 1);
  // The derived table lists the objects somebody waits for, once; every lock on them
  // (granted or pending) comes back, so the step sees who holds what the waiters want.
  return fmt::format(
      "SELECT t.PROCESSLIST_ID AS `connection_id`, m.OWNER_THREAD_ID AS `thread_id`, "
      "m.OBJECT_TYPE AS `object_type`, m.OBJECT_SCHEMA AS `object_schema`, "
      "m.OBJECT_NAME AS `object_name`, m.LOCK_TYPE AS `lock_type`, "
      "m.LOCK_DURATION AS `lock_duration`, m.LOCK_STATUS AS `lock_status`, "
      "t.PROCESSLIST_USER AS `user`, t.PROCESSLIST_HOST AS `host`, t.PROCESSLIST_DB AS `db`, "
      "t.PROCESSLIST_COMMAND AS `command`, t.PROCESSLIST_STATE AS `state`, "
      "t.PROCESSLIST_TIME AS `time_seconds`, t.PROCESSLIST_INFO AS `statement`, {} "
      "FROM performance_schema.metadata_locks m "
      "JOIN (SELECT DISTINCT OBJECT_TYPE, OBJECT_SCHEMA, OBJECT_NAME "
      "FROM performance_schema.metadata_locks WHERE LOCK_STATUS = 'PENDING') w "
      "ON w.OBJECT_TYPE = m.OBJECT_TYPE AND w.OBJECT_SCHEMA <=> m.OBJECT_SCHEMA "
      "AND w.OBJECT_NAME <=> m.OBJECT_NAME "
      "LEFT JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
      "LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = t.PROCESSLIST_ID "
      "WHERE m.LOCK_STATUS IN ('GRANTED', 'PENDING') "
      "AND (t.PROCESSLIST_ID IS NULL OR t.PROCESSLIST_ID <> CONNECTION_ID()) "
      "ORDER BY m.OBJECT_TYPE, m.OBJECT_SCHEMA, m.OBJECT_NAME, m.LOCK_STATUS, "
      "m.OWNER_THREAD_ID LIMIT {}",
      kTrxSeconds, limit);
}

std::string MetadataLockInfo(const Dialect& d, int limit) {
  if (!MayHaveMetadataLockInfo(d.flavor())) return {};
  limit = std::max(limit, 1);
  const Processlist p = ProcesslistFor(d.flavor(), "p.");
  // LOCK_DURATION is NULL on release builds (the plugin fills it only with debug code), so
  // it is not read.
  return fmt::format(
      "SELECT m.THREAD_ID AS `connection_id`, m.LOCK_TYPE AS `object_type`, "
      "m.TABLE_SCHEMA AS `object_schema`, m.TABLE_NAME AS `object_name`, "
      "m.LOCK_MODE AS `lock_type`, 'GRANTED' AS `lock_status`, p.USER AS `user`, "
      "p.HOST AS `host`, p.DB AS `db`, p.COMMAND AS `command`, p.STATE AS `state`, "
      "{} AS `time_seconds`, p.INFO AS `statement`, {} "
      "FROM information_schema.METADATA_LOCK_INFO m "
      "LEFT JOIN {} p ON p.ID = m.THREAD_ID "
      "LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = m.THREAD_ID "
      "WHERE m.THREAD_ID <> CONNECTION_ID() AND m.LOCK_TYPE <> 'User lock' "
      "ORDER BY m.THREAD_ID LIMIT {}",
      p.time, kTrxSeconds, p.table, limit);
}

std::string MetadataLockHolderCandidates(const Dialect& d, int limit) {
  limit = std::max(limit, 1);
  const Processlist p = ProcesslistFor(d.flavor(), "p.");
  return fmt::format(
      "SELECT p.ID AS `connection_id`, p.USER AS `user`, p.HOST AS `host`, p.DB AS `db`, "
      "p.COMMAND AS `command`, p.STATE AS `state`, {} AS `time_seconds`, "
      "p.INFO AS `statement`, {} "
      "FROM {} p LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = p.ID "
      "WHERE p.ID <> CONNECTION_ID() AND p.{} "
      "AND (x.trx_id IS NOT NULL OR p.COMMAND <> 'Sleep') "
      "ORDER BY x.trx_started IS NULL, x.trx_started, time_seconds DESC, p.ID LIMIT {}",
      p.time, kTrxSeconds, p.table, kNotClientThreads, limit);
}

std::string OpenTablesInUse(const Dialect& /*d*/) { return "SHOW OPEN TABLES WHERE In_use > 0"; }

std::string TableHandlesInUse(const Dialect& d, int limit) {
  if (!HasLockInstrumentationTables(d.flavor())) return {};
  limit = std::max(limit, 1);
  // MariaDB shows a cached, unowned handle with OWNER_THREAD_ID 0, MySQL with NULL: the
  // inner join with threads drops both.
  return fmt::format(
      "SELECT h.OBJECT_SCHEMA AS `table_schema`, h.OBJECT_NAME AS `table_name`, "
      "COUNT(*) AS `handles`, "
      "GROUP_CONCAT(DISTINCT t.PROCESSLIST_ID ORDER BY t.PROCESSLIST_ID) AS `connection_ids`, "
      "GROUP_CONCAT(DISTINCT CONCAT_WS(' ', h.INTERNAL_LOCK, h.EXTERNAL_LOCK)) AS `locks` "
      "FROM performance_schema.table_handles h "
      "JOIN performance_schema.threads t ON t.THREAD_ID = h.OWNER_THREAD_ID "
      "WHERE h.OBJECT_TYPE = 'TABLE' AND t.PROCESSLIST_ID IS NOT NULL "
      "AND t.PROCESSLIST_ID <> CONNECTION_ID() "
      "AND h.OBJECT_SCHEMA NOT IN ('performance_schema', 'information_schema') "
      "GROUP BY h.OBJECT_SCHEMA, h.OBJECT_NAME ORDER BY handles DESC, table_schema, table_name "
      "LIMIT {}",
      limit);
}

}  // namespace dbrunbook::dialect
