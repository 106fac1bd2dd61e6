#include "dialect/locks.h"

#include <fmt/format.h>

#include <algorithm>

namespace dbrunbook::dialect {
namespace {

// Performance Schema statement event tables: MySQL 5.6+, MariaDB 10.0+ (both MySQL 5.6-based
// there).
bool HasStatementEvents(const Flavor& flavor) {
  if (flavor.capabilities.performance_schema != true) return false;
  if (flavor.is_mariadb()) return flavor.version.AtLeast(10, 0);
  return flavor.is_mysql_family() && flavor.version.AtLeast(5, 6);
}

}  // namespace

std::string RowLockWaits(const Dialect& d, int limit) {
  limit = std::max(limit, 1);
  switch (d.row_lock_wait_source()) {
    case RowLockWaitSource::kPerformanceSchemaDataLockWaits:
      // The lock pairs come from performance_schema; the transactions' age, state, rows and
      // statement from INNODB_TRX (as sys.innodb_lock_waits does), the sessions from
      // performance_schema.threads (no processlist mutex). INNODB_TRX.trx_id is compared
      // with the engine transaction id directly (sys.innodb_lock_waits casts the id to CHAR;
      // either way the comparison is exact for ids below 2^53, far above real ones).
      return fmt::format(
          "SELECT w.REQUESTING_ENGINE_TRANSACTION_ID AS `waiting_trx_id`, "
          "COALESCE(r.trx_mysql_thread_id, rt.PROCESSLIST_ID) AS `waiting_id`, "
          "rt.PROCESSLIST_USER AS `waiting_user`, rt.PROCESSLIST_HOST AS `waiting_host`, "
          "TIMESTAMPDIFF(SECOND, r.trx_wait_started, NOW()) AS `wait_seconds`, "
          "TIMESTAMPDIFF(SECOND, r.trx_started, NOW()) AS `waiting_trx_seconds`, "
          "COALESCE(r.trx_query, rt.PROCESSLIST_INFO) AS `waiting_query`, "
          "rl.LOCK_MODE AS `waiting_lock_mode`, rl.LOCK_TYPE AS `waiting_lock_type`, "
          "CONCAT('`', rl.OBJECT_SCHEMA, '`.`', rl.OBJECT_NAME, '`') AS `locked_table`, "
          "rl.INDEX_NAME AS `locked_index`, "
          "w.BLOCKING_ENGINE_TRANSACTION_ID AS `blocking_trx_id`, "
          "COALESCE(b.trx_mysql_thread_id, bt.PROCESSLIST_ID) AS `blocking_id`, "
          "bt.PROCESSLIST_USER AS `blocking_user`, bt.PROCESSLIST_HOST AS `blocking_host`, "
          "TIMESTAMPDIFF(SECOND, b.trx_started, NOW()) AS `blocking_trx_seconds`, "
          "b.trx_state AS `blocking_trx_state`, b.trx_rows_locked AS `blocking_rows_locked`, "
          "b.trx_rows_modified AS `blocking_rows_modified`, b.trx_query AS `blocking_query`, "
          "bt.PROCESSLIST_COMMAND AS `blocking_command`, "
          "bt.PROCESSLIST_TIME AS `blocking_command_seconds`, "
          "bl.LOCK_MODE AS `blocking_lock_mode` "
          "FROM performance_schema.data_lock_waits w "
          "LEFT JOIN performance_schema.data_locks rl "
          "ON rl.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID AND rl.ENGINE = w.ENGINE "
          "LEFT JOIN performance_schema.data_locks bl "
          "ON bl.ENGINE_LOCK_ID = w.BLOCKING_ENGINE_LOCK_ID AND bl.ENGINE = w.ENGINE "
          "LEFT JOIN performance_schema.threads rt ON rt.THREAD_ID = w.REQUESTING_THREAD_ID "
          "LEFT JOIN performance_schema.threads bt ON bt.THREAD_ID = w.BLOCKING_THREAD_ID "
          "LEFT JOIN information_schema.INNODB_TRX r "
          "ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID "
          "LEFT JOIN information_schema.INNODB_TRX b "
          "ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID "
          "ORDER BY `wait_seconds` DESC, `waiting_trx_id`, `blocking_trx_id` LIMIT {}",
          limit);
    case RowLockWaitSource::kInformationSchemaInnodbLockWaits:
      return fmt::format(
          "SELECT w.requesting_trx_id AS `waiting_trx_id`, "
          "r.trx_mysql_thread_id AS `waiting_id`, rp.USER AS `waiting_user`, "
          "rp.HOST AS `waiting_host`, "
          "TIMESTAMPDIFF(SECOND, r.trx_wait_started, NOW()) AS `wait_seconds`, "
          "TIMESTAMPDIFF(SECOND, r.trx_started, NOW()) AS `waiting_trx_seconds`, "
          "r.trx_query AS `waiting_query`, rl.lock_mode AS `waiting_lock_mode`, "
          "rl.lock_type AS `waiting_lock_type`, rl.lock_table AS `locked_table`, "
          "rl.lock_index AS `locked_index`, w.blocking_trx_id AS `blocking_trx_id`, "
          "b.trx_mysql_thread_id AS `blocking_id`, bp.USER AS `blocking_user`, "
          "bp.HOST AS `blocking_host`, "
          "TIMESTAMPDIFF(SECOND, b.trx_started, NOW()) AS `blocking_trx_seconds`, "
          "b.trx_state AS `blocking_trx_state`, b.trx_rows_locked AS `blocking_rows_locked`, "
          "b.trx_rows_modified AS `blocking_rows_modified`, b.trx_query AS `blocking_query`, "
          "bp.COMMAND AS `blocking_command`, bp.TIME AS `blocking_command_seconds`, "
          "bl.lock_mode AS `blocking_lock_mode` "
          "FROM information_schema.INNODB_LOCK_WAITS w "
          "JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id "
          "LEFT JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id "
          "LEFT JOIN information_schema.INNODB_LOCKS rl ON rl.lock_id = w.requested_lock_id "
          "LEFT JOIN information_schema.INNODB_LOCKS bl ON bl.lock_id = w.blocking_lock_id "
          "LEFT JOIN information_schema.PROCESSLIST rp ON rp.ID = r.trx_mysql_thread_id "
          "LEFT JOIN information_schema.PROCESSLIST bp ON bp.ID = b.trx_mysql_thread_id "
          "ORDER BY `wait_seconds` DESC, `waiting_trx_id`, `blocking_trx_id` LIMIT {}",
          limit);
    case RowLockWaitSource::kNone:
      return {};
  }
  return {};
}

std::string LockWaitingTransactions(const Dialect& /*d*/, int limit) {
  limit = std::max(limit, 1);
  return fmt::format(
      "SELECT t.trx_id AS `waiting_trx_id`, t.trx_mysql_thread_id AS `waiting_id`, "
      "p.USER AS `waiting_user`, p.HOST AS `waiting_host`, "
      "TIMESTAMPDIFF(SECOND, t.trx_wait_started, NOW()) AS `wait_seconds`, "
      "t.trx_query AS `waiting_query` "
      "FROM information_schema.INNODB_TRX t "
      "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
      "WHERE t.trx_state = 'LOCK WAIT' ORDER BY t.trx_wait_started, t.trx_id LIMIT {}",
      limit);
}

std::string SessionStatements(const Dialect& d, const std::vector<uint64_t>& connection_ids) {
  if (connection_ids.empty() || !HasStatementEvents(d.flavor())) return {};
  const std::string ids = fmt::format("{}", fmt::join(connection_ids, ", "));
  // Top-level statements only: a stored program's inner statements nest under a STATEMENT
  // event (statements nest under a TRANSACTION event on 5.7+, which is still top level).
  auto part = [&](std::string_view table, std::string_view consumer) {
    return fmt::format(
        "SELECT t.PROCESSLIST_ID AS `connection_id`, s.EVENT_ID AS `event_id`, "
        "s.SQL_TEXT AS `sql_text`, s.END_EVENT_ID IS NOT NULL AS `finished`, "
        "'{}' AS `source` FROM performance_schema.{} s "
        "JOIN performance_schema.threads t ON t.THREAD_ID = s.THREAD_ID "
        "WHERE t.PROCESSLIST_ID IN ({}) AND s.SQL_TEXT IS NOT NULL "
        "AND (s.NESTING_EVENT_TYPE IS NULL OR s.NESTING_EVENT_TYPE <> 'STATEMENT') "
        "AND EXISTS (SELECT 1 FROM performance_schema.setup_consumers c "
        "WHERE c.NAME = '{}' AND c.ENABLED = 'YES')",
        table == "events_statements_current" ? "current" : "history", table, ids, consumer);
  };
  return fmt::format("{} UNION ALL {} ORDER BY `connection_id`, `event_id`",
                     part("events_statements_current", "events_statements_current"),
                     part("events_statements_history", "events_statements_history"));
}

std::string InnodbStatus(const Dialect& /*d*/) { return "SHOW ENGINE INNODB STATUS"; }

}  // namespace dbrunbook::dialect
