// Statements of the "mdl" (metadata-lock waits and pile-ups) and "open_tables" investigation
// steps.
//
// Metadata locks can be read from three places, best first:
//   1. performance_schema.metadata_locks (MySQL 5.7.3+, MariaDB 10.5.2+) when the
//      wait/lock/metadata/sql/mdl instrument is enabled: granted AND pending locks, per
//      object, with their owner thread. MySQL 8.0 enables the instrument by default, 5.7 and
//      MariaDB do not (the capability is probed once per session, at connect).
//   2. information_schema.METADATA_LOCK_INFO (MariaDB 10.0.7+, when the metadata_lock_info
//      plugin is loaded; Debian's mariadb-server ships it in /usr/lib/mysql/plugin): GRANTED
//      locks only, so what a session waits for is inferred from its processlist state and
//      statement.
//   3. The processlist alone: who waits ("Waiting for table metadata lock" ...), and the
//      sessions that could be holding the lock (open transactions, running statements).
//
// Every statement returns documented aliases, so the step never looks at column names of a
// flavor. None of them takes a lock that could stall the server (information_schema and
// performance_schema reads only; SHOW OPEN TABLES takes no metadata lock).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// The session columns shared by the statements below (aliases):
//   connection_id, user, host, db, command, state, time_seconds (fractional on MariaDB and
//   Percona Server 8.0 from TIME_MS; whole seconds elsewhere and from performance_schema
//   threads), statement (the running statement's text, NULL when idle), trx_seconds (age
//   of the session's open InnoDB transaction, NULL without one; needs PROCESS).

// Sessions waiting for a metadata lock (processlist states "Waiting for ... metadata lock",
// "Waiting for global read lock", "Waiting for backup lock", "Waiting for commit lock"),
// longest first, our own session excluded; the session columns without trx_seconds. Source:
// performance_schema.processlist on MySQL-family 8.0.22+ with performance_schema ON, else
// information_schema.PROCESSLIST. Needs PROCESS to see other accounts' sessions. Cheap:
// the step sends it first and stops when nobody waits.
std::string MetadataLockWaiters(const Dialect& d, int limit);

// True when performance_schema.metadata_locks exists and is being filled on this flavor:
// MySQL-family 5.7.3+ or MariaDB 10.5.2+, performance_schema ON and the MDL instrument
// enabled (Capabilities::mdl_instrument, probed at connect).
bool HasMetadataLocksTable(const Flavor& flavor);
// True when the METADATA_LOCK_INFO plugin can exist (MariaDB 10.0.7+); whether it is loaded
// is learnt by querying it (error 1109, unknown table, when it is not).
bool MayHaveMetadataLockInfo(const Flavor& flavor);

// performance_schema.metadata_locks: every lock (GRANTED and PENDING) on the objects that
// have at least one PENDING request, with its owner's session. Aliases:
//   object_type (TABLE, SCHEMA, GLOBAL, BACKUP, COMMIT, ...), object_schema, object_name,
//   lock_type (EXCLUSIVE, SHARED_READ, BACKUP_DML, ...), lock_duration, lock_status
//   (GRANTED / PENDING), thread_id (performance_schema thread) and the session columns
//   (from performance_schema.threads; connection_id NULL for a background thread).
// Empty when !HasMetadataLocksTable. Needs SELECT on performance_schema and PROCESS
// (INNODB_TRX).
std::string MetadataLocks(const Dialect& d, int limit);

// information_schema.METADATA_LOCK_INFO: the GRANTED locks of every session but ours, user
// locks (GET_LOCK) left out, with the holder's session. Aliases:
//   object_type (the plugin's LOCK_TYPE: "Table metadata lock", "Backup lock", "Global read
//   lock" ...), object_schema, object_name ('' for locks without one), lock_type
//   (MDL_SHARED_READ, MDL_BACKUP_FTWRL2 ...), lock_status ('GRANTED'), and the session
//   columns. Empty when !MayHaveMetadataLockInfo. The plugin table needs no privilege; the
//   session columns need PROCESS.
std::string MetadataLockInfo(const Dialect& d, int limit);

// Sessions that may hold a metadata lock, for the processlist-only analysis: every client
// session with an open InnoDB transaction or a statement running, oldest transaction first,
// with the session columns. Needs PROCESS.
std::string MetadataLockHolderCandidates(const Dialect& d, int limit);

// SHOW OPEN TABLES WHERE In_use > 0 (every flavor): columns Database, Table, In_use,
// Name_locked. Needs no privilege, but lists only tables the account has some privilege
// on: an account with PROCESS and SELECT on performance_schema alone sees none of the
// application's tables.
std::string OpenTablesInUse(const Dialect& d);

// performance_schema.table_handles: the tables whose handles a session owns right now (a
// statement is using them, or LOCK TABLES holds them), per table. Aliases:
//   table_schema, table_name, handles (count), connection_ids (comma-separated processlist
//   ids), locks (the distinct INTERNAL_LOCK/EXTERNAL_LOCK values, comma-separated).
// Visible to an account with SELECT on performance_schema whatever its table privileges.
// Empty unless performance_schema is ON on MySQL-family 5.7.3+ or MariaDB 10.5.2+.
// performance_schema's own tables and information_schema are left out (monitoring reads).
std::string TableHandlesInUse(const Dialect& d, int limit);

}  // namespace dbrunbook::dialect
