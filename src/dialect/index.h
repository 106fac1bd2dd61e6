// Statements of `dbrunbook mitigate index` (steps/mitigate_index.h): the plan of a statement,
// the facts of the tables it reads, a bounded estimate of a candidate index's selectivity, the
// ALTER TABLE that adds the index online, and the progress of that ALTER read from a second
// connection. Names are quoted with QuoteIdentifier; literals with SafeLiteral (a name that
// cannot be written safely gives an empty statement, which callers report).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// EXPLAIN FORMAT=JSON <statement>: one row, one column (EXPLAIN) holding the plan as JSON.
// EXPLAIN never executes the statement (EXPLAIN ANALYZE / ANALYZE would: never used here).
// Empty where the flavor has no JSON plan (MySQL before 5.6.5, MariaDB before 10.1.2).
// `statement` is the customer's statement, checked by the caller to be a SELECT, UPDATE,
// DELETE or INSERT ... SELECT.
std::string ExplainJson(const Dialect& d, std::string_view statement);

// USE `db`: the default database the statement was logged with.
std::string UseSchema(std::string_view schema);

// The table's engine, rows estimate and sizes, aliases engine, table_rows, data_length,
// index_length (no row: no such table). Empty when a name cannot be written as a literal.
std::string TableFacts(std::string_view schema, std::string_view table);

// The table's columns, aliases column_name, data_type (lower case: int, varchar, text, ...),
// octet_length (CHARACTER_OCTET_LENGTH, NULL for non-character types), in column order.
std::string TableColumns(std::string_view schema, std::string_view table);

// Distinct values of `columns` (together) among the first `sample_rows` rows of the table, read
// in whatever order the engine returns them (bounded cost: at most `sample_rows` rows read),
// aliases sampled (rows read) and distinct_values. COUNT(DISTINCT a, b) leaves out rows with a
// NULL in any of the columns.
std::string SampledDistinct(std::string_view schema, std::string_view table,
                            const std::vector<std::string>& columns, int64_t sample_rows);

// One key part of an index to add: a column, whole or its first `prefix` characters.
struct KeyPart {
  std::string column;
  std::optional<int> prefix;
};

// ALTER TABLE `s`.`t` ADD INDEX `name` (`a`, `b`(10)), ALGORITHM=INPLACE, LOCK=NONE: the
// server refuses (ER_ALTER_OPERATION_NOT_SUPPORTED[_REASON], 1845/1846) instead of copying the
// table or blocking writes. With `online` false, no ALGORITHM and no LOCK clause: the server
// picks (it may copy the table and block writes while it does).
std::string AddIndex(std::string_view schema, std::string_view table, std::string_view name,
                     const std::vector<KeyPart>& parts, bool online);

// The progress of the statement running on `connection_id`, one row or none, aliases
// stage, max_stage, progress (percent of the current stage, 0-100) and state:
//   MariaDB: information_schema.PROCESSLIST's STAGE / MAX_STAGE / PROGRESS columns (5.3+);
//   MySQL-family 5.7+ with performance_schema ON: performance_schema.events_stages_current
//   (WORK_COMPLETED / WORK_ESTIMATED, filled for InnoDB's stage/innodb/alter table% stages
//   when those instruments and the events_stages_current consumer are enabled).
// Empty where neither exists.
std::string AlterProgress(const Dialect& d, uint64_t connection_id);

}  // namespace dbrunbook::dialect
