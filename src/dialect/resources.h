// Statements of the investigation step "resources": table sizes, index structure and
// statistics, index usage, the InnoDB dictionary, and the DDL a human would run on what it
// finds (DROP INDEX, making an index invisible / ignored, rebuilding a table). The step
// never runs the DDL; it only shows it.
//
// Cost model (why the statements look the way they do). On MySQL 5.7 and MariaDB,
// information_schema.TABLES and STATISTICS are filled by opening every table the account
// can see; only reads of TABLE_SCHEMA / TABLE_NAME alone skip that ("Skip_open_table" in
// EXPLAIN, verified on MariaDB 10.11). MySQL 8.0 reads them from its data dictionary (sizes
// and cardinality from a cache refreshed after information_schema_stats_expiry). So the
// step counts tables first with a name-only statement, and only below a limit reads sizes
// and index statistics for every table; above it, it reads InnoDB's tablespace list (file
// sizes, PROCESS privilege, no table opened) and the statistics of the largest tables one
// by one (TABLE_SCHEMA = ... AND TABLE_NAME = ... opens just that table).
//
// Every statement excludes the system schemas (mysql, information_schema,
// performance_schema, sys). InnoDB dictionary names are "schema/table" in the server's
// file-name encoding (`we-ird$t` is `we@002dird@0024t`); partitions end in #P#/#p#/#SP#.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// Tables and views the account can see, per schema, without opening any:
//   schema_name, tables
std::string VisibleTableCounts(const Dialect& d);

// Every visible table (not views) with its sizes, largest (data + index) first, at most
// `limit` rows: table_schema, table_name, engine, table_rows, data_length, index_length,
// data_free (bytes; estimates for InnoDB, NULL where the engine has none). Opens every
// visible table on MySQL 5.7 / MariaDB: only for schemas below the detail limit.
std::string TableSizes(const Dialect& d, int limit);

// InnoDB tables per schema from the InnoDB dictionary, which lists every table whatever the
// account's privileges (PROCESS needed): schema_name (file-name encoded), tables. Partitions
// count once; FTS auxiliary tables and #sql temporaries are left out. Source:
// INNODB_TABLES (MySQL-family 8.0+), INNODB_SYS_TABLES (MySQL 5.6/5.7, MariaDB). Empty where
// neither exists (MySQL before 5.6).
std::string InnodbTableCounts(const Dialect& d);

// The largest InnoDB file-per-table tablespaces, partitions summed, at most `limit`:
//   name ("schema/table", file-name encoded), file_size, allocated_size (bytes), files.
// Reads no table (PROCESS needed). Source: INNODB_TABLESPACES (MySQL-family 8.0+),
// INNODB_SYS_TABLESPACES (MySQL 5.7, MariaDB 10.2.1+, which have FILE_SIZE). Empty where the
// flavor has no file sizes there. Tables in the system or a general tablespace are not in it.
std::string LargestTablespaces(const Dialect& d, int limit);

// Index columns from information_schema.STATISTICS, ordered by schema, table, index and
// position: table_schema, table_name, index_name, non_unique (0/1), seq_in_index,
// column_name (NULL for a MySQL 8 functional key part), sub_part (prefix length or NULL),
// collation ('A', 'D' descending, NULL unsorted), cardinality (estimate of distinct values of
// the key prefix up to this column), nullable ('YES' or ''), index_type (BTREE, HASH,
// FULLTEXT, SPATIAL, RTREE), visible ('YES'/'NO': MySQL 8.0 IS_VISIBLE, MariaDB 10.6+ NOT
// IGNORED, else always 'YES').
// IndexColumns covers every visible table; IndexColumnsOf one table (opening only it). Empty
// from IndexColumnsOf when a name cannot be written as a literal safely (a backslash or NUL
// in it: its meaning depends on sql_mode).
std::string IndexColumns(const Dialect& d);
std::string IndexColumnsOf(const Dialect& d, std::string_view schema, std::string_view table);

// Where index usage since startup comes from on this flavor.
enum class IndexUsageSource {
  kPerformanceSchema,  // performance_schema.table_io_waits_summary_by_index_usage
  kUserStatistics,     // information_schema.INDEX_STATISTICS (MariaDB / Percona userstat=ON)
  kNone,               // neither: performance_schema OFF (MariaDB's default) and no userstat
};
IndexUsageSource UsageSourceFor(const Dialect& d);
std::string_view UsageSourceName(IndexUsageSource source);

// Indexes with no read, fetch, insert, update or delete counted by performance_schema since
// startup (COUNT_STAR = 0; sys.schema_unused_indexes is a view with this very condition, and
// its SQL SECURITY INVOKER needs the same privilege), PRIMARY left out, at most `limit`:
//   table_schema, table_name, index_name
// Only tables opened since startup have rows there. Empty unless the source is
// kPerformanceSchema.
std::string UnusedIndexesPerformanceSchema(const Dialect& d, int limit);
// Indexes read at least once since userstat was turned on (or FLUSH INDEX_STATISTICS):
//   table_schema, table_name, index_name, rows_read
// An index that has no row was not read. Empty unless the source is kUserStatistics.
std::string UsedIndexesUserStatistics(const Dialect& d, int limit);

// Columns of every InnoDB foreign key on the child side, from the InnoDB dictionary (PROCESS;
// no table opened), ordered by constraint and position:
//   constraint_id ("schema/name"), child ("schema/table", file-name encoded), column_name, pos
// Source: INNODB_FOREIGN / INNODB_FOREIGN_COLS (MySQL-family 8.0+), INNODB_SYS_FOREIGN /
// INNODB_SYS_FOREIGN_COLS (MySQL 5.6/5.7, MariaDB). Empty before MySQL 5.6.
std::string ForeignKeyColumns(const Dialect& d);

// InnoDB data + index bytes of application tables (system schemas left out), one row:
//   innodb_bytes, tables. Opens every table on MySQL 5.7 / MariaDB: only below a table count
// (mitigate tune compares the buffer pool with it).
std::string InnodbDataSize(const Dialect& d);
// The same from the file-per-table tablespace files, one row: innodb_bytes, tables. Reads no
// table (PROCESS). Empty where the flavor has no file sizes there (as LargestTablespaces).
// Tables in the system or a general tablespace are not counted.
std::string InnodbDataSizeFromTablespaces(const Dialect& d);

// The server's uptime: SHOW GLOBAL STATUS LIKE 'Uptime' (Variable_name, Value).
std::string ServerUptime(const Dialect& d);

// --- what a human would run (shown, never executed) ---------------------------------------

// `name` with backticks doubled, in backticks: `we``ird`.
std::string QuoteIdentifier(std::string_view name);
// A string literal that means the same under every sql_mode: quotes doubled; nullopt when the
// text holds a backslash (an escape character unless NO_BACKSLASH_ESCAPES) or a NUL.
std::optional<std::string> SafeLiteral(std::string_view text);
// `schema`.`table`
std::string QualifiedTable(std::string_view schema, std::string_view table);
// ALTER TABLE `s`.`t` DROP INDEX `i`
std::string DropIndex(const Dialect& d, std::string_view schema, std::string_view table,
                      std::string_view index);
// Takes an index away from the optimizer while keeping it maintained, so a mistake is undone
// instantly: ALTER TABLE ... ALTER INDEX `i` INVISIBLE (MySQL-family 8.0+), ... IGNORED
// (MariaDB 10.6+). Empty where the flavor has no such thing. RevealIndex undoes it (VISIBLE /
// NOT IGNORED).
std::string HideIndex(const Dialect& d, std::string_view schema, std::string_view table,
                      std::string_view index);
std::string RevealIndex(const Dialect& d, std::string_view schema, std::string_view table,
                        std::string_view index);
// Rebuilds a table to return its free space: for InnoDB, ALTER TABLE `s`.`t` FORCE,
// ALGORITHM=INPLACE, LOCK=NONE (online on MySQL 5.6.17+ / MariaDB 10.0+, and the server
// refuses instead of blocking writes where it cannot be online, e.g. with a FULLTEXT index);
// for other engines OPTIMIZE TABLE (which locks the table while it runs).
std::string RebuildTable(const Dialect& d, std::string_view schema, std::string_view table,
                         std::string_view engine);
// ANALYZE TABLE `s`.`t` (refreshes index statistics; cheap on InnoDB, it samples pages).
std::string AnalyzeTable(const Dialect& d, std::string_view schema, std::string_view table);

}  // namespace dbrunbook::dialect
