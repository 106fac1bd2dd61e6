// Statements for the live statement digest: snapshots of
// performance_schema.events_statements_summary_by_digest (MySQL 5.6+, Percona, RDS, Aurora,
// MariaDB 10.0+ when performance_schema is ON), the digest texts of the top statements, and
// the statements a DBA would run to fix the digest's own configuration.
//
// Every statement that reads the digest table carries the column alias kDigestMarker, and
// the snapshots leave out every row whose DIGEST_TEXT contains it: the digest text keeps
// identifiers (aliases included) and replaces literals with '?', so dbrunbook's own
// snapshots (of this run, or of another dbrunbook running at the same time) never count as
// load, while the LIKE pattern itself never matches.
//
// Timer columns are picoseconds on every flavor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

inline constexpr std::string_view kDigestMarker = "dbrunbook_digest_snapshot";

// Whether this flavor has events_statements_summary_by_digest at all (MySQL-family 5.6+,
// MariaDB 10.0+). It still needs performance_schema = ON and the statements_digest consumer.
bool HasStatementDigestTable(const Flavor& flavor);

// One row per digest (and the catch-all row with DIGEST and SCHEMA_NAME NULL that collects
// statements once the table is full), with the aliases
//   schema_name, digest, calls (COUNT_STAR), total_latency_ps (SUM_TIMER_WAIT),
//   lock_latency_ps (SUM_LOCK_TIME), errors, warnings, rows_affected, rows_sent,
//   rows_examined, tmp_tables, tmp_disk_tables (SUM_CREATED_TMP_[DISK_]TABLES), full_joins
//   (SUM_SELECT_FULL_JOIN), no_index_used (SUM_NO_INDEX_USED), no_good_index_used,
//   first_seen (FIRST_SEEN, as text: a row recreated after a reset has a new one)
// and the marker column. No digest text: the two snapshots stay small; DigestTexts fetches
// the text of the few statements shown. Needs SELECT on performance_schema.
std::string DigestSnapshot(const Dialect& d);

// schema_name, digest, digest_text (cut to `max_chars` characters server-side) for the given
// digests. Digests that are not hexadecimal (as every server writes them) are left out; empty
// when none is left.
std::string DigestTexts(const Dialect& d, const std::vector<std::string>& digests,
                        int max_chars = 1000);

// Recent executions of the given digests with their real text, newest first: aliases digest,
// schema_name (CURRENT_SCHEMA), sql_text, from performance_schema.events_statements_history
// (the last statements of each connection still open; on by default in MySQL 5.7+, off in
// MariaDB: performance_schema_consumer_events_statements_history) and ..._history_long. The
// text is cut at performance_schema_max_sql_text_length (1024 by default). Non-hexadecimal
// digests are left out; empty when none is left. Needs SELECT on performance_schema.
std::string StatementSamples(const Dialect& d, const std::vector<std::string>& digests);

// Binary-protocol prepared-statement executions (COM_STMT_EXECUTE) since startup, aliases
// `executions` and `latency_ps`, one row (none when the instrument is missing), from
// events_statements_summary_global_by_event_name. MariaDB counts them under
// statement/com/Execute and gives them no digest: connectors that prepare on the server
// (sysbench, JDBC with useServerPrepStmts, Go's database/sql) are invisible in the digest
// table, and this count says how much is missing.
std::string PreparedExecutions(const Dialect& d);

// The statement that turns the statements_digest consumer on (needs UPDATE on
// performance_schema.setup_consumers; lost at restart unless also set in the configuration as
// performance_schema_consumer_statements_digest=ON).
std::string EnableStatementDigestConsumer(const Dialect& d);
// TRUNCATE of the digest table, which frees it when it is full (needs DROP on it).
std::string ResetDigestTable(const Dialect& d);

}  // namespace dbrunbook::dialect
