// mitigate.index: the runbook's "create missing indexes (from EXPLAIN)", guarded.
//
// Three parts, kept apart so that each can be shown and tested alone:
//   * Analysis (AnalyzeStatement, pure): a small WHERE-clause analysis on the statement's
//     tokens (digest::Tokenize, the abstract fingerprint's lexer): the tables and their aliases,
//     the columns compared with = / <=> / IN / IS NULL, with a range (< <= > >= BETWEEN,
//     LIKE 'prefix%'), joined with another column, all ANDed (an OR, a function of a column,
//     NOT, a subquery are left out and said so), and the ORDER BY columns.
//   * Derivation (DeriveAdvice, pure): from the plan (ParseExplainJson of EXPLAIN FORMAT=JSON,
//     MariaDB's and MySQL's shapes) the tables read by a full scan (access_type ALL / index) or
//     behind a filesort / temporary table, with at least `min_rows` rows examined; for each, a
//     candidate index: equality columns first (= before IN), then one range column, then the
//     ORDER BY columns where that avoids the filesort; none when an existing index already
//     begins with those columns (left prefix), none for a TEXT/BLOB column (it needs a prefix
//     length, which is a human's choice), columns cut when the key would pass InnoDB's 3072
//     bytes; named dbr_<columns> (64 characters at most).
//   * Execution (ApplyIndex): re-reads the table's indexes (refuses when the name or a covering
//     index appeared meanwhile), runs ALTER TABLE ... ADD INDEX ..., ALGORITHM=INPLACE,
//     LOCK=NONE (or, only with allow_locking, without those clauses), reports progress polled
//     from a second connection, then verifies with EXPLAIN that the plan uses the new index and
//     examines fewer rows.
//
// Nothing here drops anything. Thread-safety: plain functions; ApplyIndex runs its progress
// poller on a thread of its own, using only the progress session it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/target_session.h"
#include "core/clock.h"
#include "core/error.h"
#include "dialect/index.h"
#include "steps/index_analysis.h"

namespace dbrunbook::steps {

// --- analysis ---------------------------------------------------------------------------------

enum class StatementKind { kSelect, kUpdate, kDelete, kInsertSelect };
std::string_view StatementKindName(StatementKind kind);  // select, update, delete, insert_select

struct TableRef {
  std::string schema;  // as written, else the default database ("" when none)
  std::string table;
  std::string alias;  // the name the statement uses for it (its alias, else the table name)
};

struct ColumnRef {
  std::string qualifier;  // table alias or name as written; "" when unqualified
  std::string column;
};

enum class PredicateKind {
  kEquality,    // col = value, col <=> value, col IS NULL
  kIn,          // col IN (values)
  kRange,       // < <= > >= BETWEEN
  kLikePrefix,  // LIKE 'abc%' (a range on the prefix)
  kJoin,        // col = other_table.col (an equality once the other table is read)
};
std::string_view PredicateKindName(PredicateKind kind);

struct Predicate {
  ColumnRef column;
  PredicateKind kind = PredicateKind::kEquality;
  ColumnRef other;  // kJoin: the other column
};

struct OrderItem {
  ColumnRef column;
  bool descending = false;
};

struct StatementShape {
  StatementKind kind = StatementKind::kSelect;
  std::vector<TableRef> tables;
  std::vector<Predicate> predicates;
  std::vector<OrderItem> order_by;  // empty when absent or not usable (see notes)
  bool group_by = false;
  // What the analysis left out and why: "an OR condition is not used", ...
  std::vector<std::string> notes;
};

// The shape of one statement. kInvalidArgument (naming what was found) for anything but SELECT,
// UPDATE, DELETE and INSERT/REPLACE ... SELECT, for several statements, and for a statement
// without a table. `default_db` fills TableRef::schema for unqualified tables.
core::Result<StatementShape> AnalyzeStatement(std::string_view sql, std::string_view default_db);

// --- the plan ---------------------------------------------------------------------------------

struct PlanTable {
  std::string table;        // table_name: the alias the statement uses
  std::string access_type;  // ALL, index, range, ref, eq_ref, const, ...
  std::optional<std::string> key;
  int64_t rows = 0;  // rows examined per scan (MariaDB rows, MySQL rows_examined_per_scan)
};

struct ExplainPlan {
  std::vector<PlanTable> tables;  // in join order
  bool filesort = false;          // MariaDB "filesort", MySQL "using_filesort": true
  bool temporary = false;         // MariaDB "temporary_table", MySQL "using_temporary_table"
  const PlanTable* Find(std::string_view table) const;
};

// Walks EXPLAIN FORMAT=JSON output of either flavor (query_block / nested_loop / table /
// ordering_operation / filesort / temporary_table ...). kInvalidArgument for text that is not
// JSON or holds no table.
core::Result<ExplainPlan> ParseExplainJson(std::string_view json);

// --- derivation -------------------------------------------------------------------------------

struct ColumnInfo {
  std::string name;
  std::string data_type;                // lower case
  std::optional<int64_t> octet_length;  // character types only
};

struct TableInfo {
  std::string schema;
  std::string table;
  std::string engine;
  int64_t rows_estimate = 0;  // information_schema.TABLES.TABLE_ROWS
  int64_t bytes = 0;          // DATA_LENGTH + INDEX_LENGTH
  std::vector<ColumnInfo> columns;
  TableIndexes indexes;
  const ColumnInfo* Column(std::string_view name) const;  // case-insensitive
};

inline constexpr int64_t kDefaultMinRows = 10000;
inline constexpr size_t kMaxIndexNameLength = 64;
inline constexpr int64_t kInnodbMaxKeyBytes = 3072;

struct IndexCandidate {
  std::string name;
  std::vector<dialect::KeyPart> parts;
  std::vector<std::string> roles;  // per part: equality, in, range, order by, join
  bool avoids_filesort = false;
  std::string sql;               // the ALTER TABLE, online form
  std::string sql_locking;       // the same without ALGORITHM/LOCK (--allow-locking)
  std::string Describe() const;  // "(a, b, c)"
};

struct TableAdvice {
  std::string schema;
  std::string table;
  std::string alias;
  std::string problem;  // "full table scan (ALL), 300000 rows examined; filesort"
  int64_t rows_before = 0;
  std::optional<IndexCandidate> candidate;
  std::string skipped;             // why there is no candidate
  std::vector<std::string> notes;  // "column c is TEXT: left out", ...
};

// Pure: the advice for every table of `plan` that needs one. `tables` holds what was read of
// the statement's tables (matched by schema and name, case-insensitively).
std::vector<TableAdvice> DeriveAdvice(const StatementShape& shape, const ExplainPlan& plan,
                                      const std::vector<TableInfo>& tables, int64_t min_rows);

// dbr_<columns joined by _>, characters outside [A-Za-z0-9_] as _, cut to 64; a name taken by
// another index of the table gets _2, _3, ... (still at most 64).
std::string IndexName(const std::vector<std::string>& columns, const TableIndexes& existing);

// --- reading and advising ---------------------------------------------------------------------

struct StatementInput {
  std::string sql;     // with its real literals (never shown: see redacted)
  std::string db;      // default database
  std::string source;  // "slow log class 1 of 3 (Query_time sum 12.3s, 40 calls)", "--query"
};

struct RowsEstimate {
  std::optional<int64_t> rows;  // estimated rows examined with the candidate
  std::string method;           // how it was estimated
};

struct StatementAdvice {
  StatementInput input;
  std::string redacted;  // RedactStatement(sql): what is shown and audited
  std::optional<StatementShape> shape;
  std::optional<ExplainPlan> plan;
  std::vector<TableAdvice> tables;
  std::vector<RowsEstimate> estimates;  // one per entry of `tables`
  std::optional<core::Error> error;     // could not be analysed or explained
};

struct AdviseOptions {
  int64_t min_rows = kDefaultMinRows;
  int64_t sample_rows = 100000;  // rows read at most by the selectivity estimate
};

// Analyses, EXPLAINs (after USE db) and derives; the tables' columns, indexes and sizes read
// from information_schema. Errors of one statement go into StatementAdvice::error; a lost
// connection is returned as the Result's error.
core::Result<StatementAdvice> AdviseStatement(collect::TargetSession& target,
                                              const StatementInput& input,
                                              const AdviseOptions& options);

// Reads one table's facts (sizes, columns, indexes). kNotFound when it does not exist.
core::Result<TableInfo> ReadTableInfo(collect::TargetSession& target, std::string_view schema,
                                      std::string_view table);

// --- guardrails and execution -----------------------------------------------------------------

struct ApplyLimits {
  bool allow_replica = false;
  bool allow_large = false;
  int64_t max_table_bytes = int64_t{4} << 30;
};
// Why the index may not be added, or nullopt: a replica (an index there only diverges it from
// its source), a table above the size bound.
std::optional<std::string> ApplyGuardrail(const TableInfo& table, bool is_replica,
                                          const ApplyLimits& limits);

// Whether the server replicates from a source (its replica status has a row).
core::Result<bool> IsReplica(collect::TargetSession& target);

// Runs `sql` (a SELECT) once and returns its wall time; the session's statement time limit is
// `timeout` meanwhile (restored after). Rows are fetched and discarded.
core::Result<double> MeasureSelect(collect::TargetSession& target, const StatementInput& input,
                                   core::Duration timeout, core::Clock& clock);

enum class ApplyStatus {
  kVerified,     // added; EXPLAIN uses it and examines fewer rows (or no longer sorts)
  kNotVerified,  // added, but the plan does not use it or examines as many rows
  kFailed,       // the server refused the ALTER (or it was lost)
  kRefused,      // not attempted: the table changed since the plan
};
std::string_view ApplyStatusName(ApplyStatus status);

struct ApplyOutcome {
  ApplyStatus status = ApplyStatus::kFailed;
  std::string sql;       // what was sent ("" when nothing)
  bool locking = false;  // sent without ALGORITHM=INPLACE, LOCK=NONE
  std::string detail;
  std::optional<core::Error> error;
  double seconds = 0;  // the ALTER's duration
  std::optional<ExplainPlan> plan_after;
  std::optional<int64_t> rows_after;     // rows examined on the table after
  std::optional<std::string> key_after;  // the key the plan uses after
  std::optional<int64_t> cardinality;    // STATISTICS.CARDINALITY of the new index, after
};

struct ApplyOptions {
  bool allow_locking = false;
  core::Duration poll_interval = std::chrono::milliseconds(200);
  // A line of progress ("stage 1 of 2, 37.5%"), called from the poller thread. May be empty.
  std::function<void(const std::string&)> progress;
};

// Adds `advice.candidate` to its table and verifies it with the statement's EXPLAIN.
// `progress_target` (may be null: no progress shown) is a second session on the same server.
ApplyOutcome ApplyIndex(collect::TargetSession& target, collect::TargetSession* progress_target,
                        const StatementAdvice& statement, const TableAdvice& advice,
                        const ApplyOptions& options, core::Clock& clock);

}  // namespace dbrunbook::steps
