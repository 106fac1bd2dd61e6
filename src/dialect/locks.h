// Statements of the locks investigation (row-lock waits, blocking trees, deadlocks), per
// flavor. Every statement only reads; none takes a lock a server would queue on.
//
// Sources (Dialect::row_lock_wait_source):
//   performance_schema.data_lock_waits + data_locks  MySQL-family 8.0.1+ (MySQL 8.0/8.4/9.x,
//       Percona Server 8, RDS MySQL 8, Aurora v3) with performance_schema ON. Needs SELECT on
//       performance_schema and PROCESS (information_schema.INNODB_TRX).
//   information_schema.INNODB_LOCK_WAITS + INNODB_LOCKS + INNODB_TRX  MySQL 5.5-5.7 (Aurora v2,
//       RDS 5.7) and every MariaDB (checked on MariaDB 10.11: all three are filled, and the
//       monitoring account needs only PROCESS). Removed from MySQL in 8.0.1.
//   none  MySQL-family 8.0.1+ with performance_schema OFF: data_lock_waits stays empty and the
//       information_schema tables are gone, so waiting transactions are known (INNODB_TRX in
//       state LOCK WAIT) but not what blocks them.
// InnoDB's information_schema tables (INNODB_TRX, INNODB_LOCKS, INNODB_LOCK_WAITS) are read
// from one cache, refreshed only when nobody has read it for 100 ms: one statement sees one
// consistent snapshot, but a reader polling faster than that keeps seeing an old one (seen on
// MariaDB 10.11). The processlist is a separate snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// Every (waiting transaction, blocking transaction) pair, longest wait first, at most `limit`
// rows (below 1 is taken as 1). Empty when the flavor has no source (RowLockWaitSource::kNone).
// Columns (NULL where the source does not know):
//   waiting_trx_id, waiting_id (processlist id), waiting_user, waiting_host,
//   wait_seconds (since the current lock wait began), waiting_query, waiting_lock_mode
//   ("X", "S,GAP", "X,REC_NOT_GAP" ...), waiting_lock_type (RECORD/TABLE),
//   locked_table (`schema`.`table`), locked_index,
//   blocking_trx_id, blocking_id, blocking_user, blocking_host, blocking_trx_seconds,
//   blocking_trx_state (RUNNING, LOCK WAIT ...), blocking_rows_locked, blocking_rows_modified,
//   blocking_query (NULL between statements), blocking_command ("Sleep" when idle),
//   blocking_command_seconds (processlist TIME: for a sleeping session, how long it has been
//   idle), blocking_lock_mode.
std::string RowLockWaits(const Dialect& d, int limit);

// Transactions waiting for a row lock, longest wait first (the fallback when RowLockWaits is
// empty: who waits is known, not who blocks). Columns: waiting_trx_id, waiting_id,
// waiting_user, waiting_host, wait_seconds, waiting_query.
std::string LockWaitingTransactions(const Dialect& d, int limit);

// The statements of the given sessions from performance_schema: the current (or, when the
// session is idle, the last finished) top-level statement and the statement history, oldest
// first per session, only from consumers that are enabled (a disabled consumer's table keeps
// stale rows). Columns: connection_id, event_id, sql_text, finished (1 when the statement has
// ended, 0 while it runs), source ('current' or 'history'). Empty when performance_schema is
// not known to be ON, or the flavor has no statement event tables (MySQL before 5.6, MariaDB
// before 10.0), or `connection_ids` is empty. Needs SELECT on performance_schema.
std::string SessionStatements(const Dialect& d, const std::vector<uint64_t>& connection_ids);

// SHOW ENGINE INNODB STATUS (one row: Type, Name, Status). Needs PROCESS.
std::string InnodbStatus(const Dialect& d);

}  // namespace dbrunbook::dialect
