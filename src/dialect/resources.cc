#include "dialect/resources.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "core/strings.h"

namespace dbrunbook::dialect {
namespace {

constexpr std::string_view kSystemSchemas =
    "('mysql', 'information_schema', 'performance_schema', 'sys')";

// InnoDB dictionary names ("schema/table") of application tables: not the system schemas,
// not ALTER TABLE's #sql temporaries, not the auxiliary tables of FULLTEXT indexes
// (FTS_<16 hex digits>_...). A '#' in a user's table name is stored encoded (@0023), so a
// literal '#' only starts a partition suffix or a temporary name.
constexpr std::string_view kApplicationInnodbNames =
    "NAME LIKE '%/%' AND NAME NOT LIKE 'mysql/%' AND NAME NOT LIKE 'sys/%' "
    "AND NAME NOT LIKE '%/#sql%' AND NAME NOT REGEXP '/FTS_[0-9a-fA-F]{16}_'";

bool IsMySqlFamily8(const Flavor& f) { return f.is_mysql_family() && f.version.AtLeast(8, 0); }

// The InnoDB dictionary tables were renamed in MySQL 8.0 (INNODB_SYS_TABLES -> INNODB_TABLES
// ...); MariaDB kept the 5.7 names.
std::string_view InnodbTablesTable(const Flavor& f) {
  return IsMySqlFamily8(f) ? "information_schema.INNODB_TABLES"
                           : "information_schema.INNODB_SYS_TABLES";
}

bool HasInnodbDictionaryTables(const Flavor& f) {
  if (f.is_mariadb()) return true;  // every MariaDB has INNODB_SYS_TABLES (5.5 XtraDB, 10.x)
  return f.version.AtLeast(5, 6);
}

std::string IndexColumnsSelect(const Dialect& d) {
  const Flavor& f = d.flavor();
  std::string_view visible = "'YES'";
  if (IsMySqlFamily8(f)) {
    visible = "IS_VISIBLE";
  } else if (f.is_mariadb() && f.version.AtLeast(10, 6)) {
    visible = "IF(IGNORED = 'YES', 'NO', 'YES')";
  }
  return fmt::format(
      "SELECT TABLE_SCHEMA AS `table_schema`, TABLE_NAME AS `table_name`, "
      "INDEX_NAME AS `index_name`, NON_UNIQUE AS `non_unique`, SEQ_IN_INDEX AS `seq_in_index`, "
      "COLUMN_NAME AS `column_name`, SUB_PART AS `sub_part`, COLLATION AS `collation`, "
      "CARDINALITY AS `cardinality`, NULLABLE AS `nullable`, INDEX_TYPE AS `index_type`, "
      "{} AS `visible` FROM information_schema.STATISTICS",
      visible);
}

}  // namespace

std::string VisibleTableCounts(const Dialect& /*d*/) {
  // TABLE_SCHEMA alone: "Skip_open_table" on MySQL 5.7 / MariaDB (no .frm read, no open).
  return fmt::format(
      "SELECT TABLE_SCHEMA AS `schema_name`, COUNT(*) AS `tables`, "
      "MAX(@@GLOBAL.table_open_cache) AS `table_open_cache` "
      "FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN {} GROUP BY TABLE_SCHEMA",
      kSystemSchemas);
}

std::string TableSizes(const Dialect& /*d*/, int limit) {
  return fmt::format(
      "SELECT TABLE_SCHEMA AS `table_schema`, TABLE_NAME AS `table_name`, ENGINE AS `engine`, "
      "TABLE_ROWS AS `table_rows`, DATA_LENGTH AS `data_length`, "
      "INDEX_LENGTH AS `index_length`, DATA_FREE AS `data_free` "
      "FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN {} AND TABLE_TYPE <> 'VIEW' "
      "ORDER BY COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) DESC, TABLE_SCHEMA, "
      "TABLE_NAME LIMIT {}",
      kSystemSchemas, std::max(limit, 1));
}

std::string InnodbTableCounts(const Dialect& d) {
  if (!HasInnodbDictionaryTables(d.flavor())) return {};
  return fmt::format(
      "SELECT SUBSTRING_INDEX(NAME, '/', 1) AS `schema_name`, "
      "COUNT(DISTINCT SUBSTRING_INDEX(NAME, '#', 1)) AS `tables` FROM {} WHERE {} "
      "GROUP BY SUBSTRING_INDEX(NAME, '/', 1)",
      InnodbTablesTable(d.flavor()), kApplicationInnodbNames);
}

std::string LargestTablespaces(const Dialect& d, int limit) {
  const Flavor& f = d.flavor();
  std::string_view table;
  if (IsMySqlFamily8(f)) {
    table = "information_schema.INNODB_TABLESPACES";
  } else if ((f.is_mariadb() && f.version.AtLeast(10, 2, 1)) ||
             (f.is_mysql_family() && f.version.AtLeast(5, 7))) {
    table = "information_schema.INNODB_SYS_TABLESPACES";
  } else {
    return {};
  }
  return fmt::format(
      "SELECT SUBSTRING_INDEX(NAME, '#', 1) AS `name`, SUM(FILE_SIZE) AS `file_size`, "
      "SUM(ALLOCATED_SIZE) AS `allocated_size`, COUNT(*) AS `files` FROM {} WHERE {} "
      "GROUP BY SUBSTRING_INDEX(NAME, '#', 1) ORDER BY SUM(FILE_SIZE) DESC, "
      "SUBSTRING_INDEX(NAME, '#', 1) LIMIT {}",
      table, kApplicationInnodbNames, std::max(limit, 1));
}

std::string InnodbDataSize(const Dialect& /*d*/) {
  return fmt::format(
      "SELECT COALESCE(SUM(COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)), 0) AS "
      "`innodb_bytes`, COUNT(*) AS `tables` FROM information_schema.TABLES "
      "WHERE TABLE_SCHEMA NOT IN {} AND TABLE_TYPE <> 'VIEW' AND ENGINE = 'InnoDB'",
      kSystemSchemas);
}

std::string InnodbDataSizeFromTablespaces(const Dialect& d) {
  // LargestTablespaces' source, summed instead of listed.
  const std::string largest = LargestTablespaces(d, 1);
  if (largest.empty()) return {};
  const std::string_view table = IsMySqlFamily8(d.flavor())
                                     ? "information_schema.INNODB_TABLESPACES"
                                     : "information_schema.INNODB_SYS_TABLESPACES";
  return fmt::format(
      "SELECT COALESCE(SUM(FILE_SIZE), 0) AS `innodb_bytes`, "
      "COUNT(DISTINCT SUBSTRING_INDEX(NAME, '#', 1)) AS `tables` FROM {} WHERE {}",
      table, kApplicationInnodbNames);
}

std::string IndexColumns(const Dialect& d) {
  return fmt::format(
      "{} WHERE TABLE_SCHEMA NOT IN {} ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, "
      "SEQ_IN_INDEX",
      IndexColumnsSelect(d), kSystemSchemas);
}

std::string IndexColumnsOf(const Dialect& d, std::string_view schema, std::string_view table) {
  const auto schema_literal = SafeLiteral(schema);
  const auto table_literal = SafeLiteral(table);
  if (!schema_literal || !table_literal) return {};
  // Plain equalities on both names: the server looks the one table up instead of scanning
  // (MariaDB EXPLAIN: "Scanned 0 databases"); an OR of several tables would scan them all.
  return fmt::format(
      "{} WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY INDEX_NAME, SEQ_IN_INDEX",
      IndexColumnsSelect(d), *schema_literal, *table_literal);
}

IndexUsageSource UsageSourceFor(const Dialect& d) {
  const Flavor& f = d.flavor();
  // table_io_waits_summary_by_index_usage arrived with MySQL 5.6's performance_schema
  // (MariaDB 10.0).
  const bool has_index_usage = f.is_mariadb() ? f.version.AtLeast(10, 0) : f.version.AtLeast(5, 6);
  if (f.capabilities.performance_schema == true && has_index_usage) {
    return IndexUsageSource::kPerformanceSchema;
  }
  if (f.capabilities.userstat == true) return IndexUsageSource::kUserStatistics;
  return IndexUsageSource::kNone;
}

std::string_view UsageSourceName(IndexUsageSource source) {
  switch (source) {
    case IndexUsageSource::kPerformanceSchema:
      return "performance_schema.table_io_waits_summary_by_index_usage";
    case IndexUsageSource::kUserStatistics:
      return "information_schema.INDEX_STATISTICS (userstat)";
    case IndexUsageSource::kNone:
      return "none";
  }
  return "none";
}

std::string UnusedIndexesPerformanceSchema(const Dialect& d, int limit) {
  if (UsageSourceFor(d) != IndexUsageSource::kPerformanceSchema) return {};
  return fmt::format(
      "SELECT OBJECT_SCHEMA AS `table_schema`, OBJECT_NAME AS `table_name`, "
      "INDEX_NAME AS `index_name` "
      "FROM performance_schema.table_io_waits_summary_by_index_usage "
      "WHERE OBJECT_TYPE = 'TABLE' AND INDEX_NAME IS NOT NULL AND INDEX_NAME <> 'PRIMARY' "
      "AND COUNT_STAR = 0 AND OBJECT_SCHEMA NOT IN {} "
      "ORDER BY OBJECT_SCHEMA, OBJECT_NAME, INDEX_NAME LIMIT {}",
      kSystemSchemas, std::max(limit, 1));
}

std::string UsedIndexesUserStatistics(const Dialect& d, int limit) {
  if (UsageSourceFor(d) != IndexUsageSource::kUserStatistics) return {};
  return fmt::format(
      "SELECT TABLE_SCHEMA AS `table_schema`, TABLE_NAME AS `table_name`, "
      "INDEX_NAME AS `index_name`, ROWS_READ AS `rows_read` "
      "FROM information_schema.INDEX_STATISTICS WHERE TABLE_SCHEMA NOT IN {} "
      "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME LIMIT {}",
      kSystemSchemas, std::max(limit, 1));
}

std::string ForeignKeyColumns(const Dialect& d) {
  const Flavor& f = d.flavor();
  if (!HasInnodbDictionaryTables(f)) return {};
  const bool v8 = IsMySqlFamily8(f);
  return fmt::format(
      "SELECT f.ID AS `constraint_id`, f.FOR_NAME AS `child`, c.FOR_COL_NAME AS `column_name`, "
      "c.POS AS `pos` FROM {} f JOIN {} c ON c.ID = f.ID ORDER BY f.ID, c.POS",
      v8 ? "information_schema.INNODB_FOREIGN" : "information_schema.INNODB_SYS_FOREIGN",
      v8 ? "information_schema.INNODB_FOREIGN_COLS" : "information_schema.INNODB_SYS_FOREIGN_COLS");
}

std::string ServerUptime(const Dialect& /*d*/) { return Dialect::StatusVariable("Uptime"); }

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') out += '`';
  }
  out += '`';
  return out;
}

std::optional<std::string> SafeLiteral(std::string_view text) {
  if (text.find('\\') != std::string_view::npos || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

std::string QualifiedTable(std::string_view schema, std::string_view table) {
  return QuoteIdentifier(schema) + "." + QuoteIdentifier(table);
}

std::string DropIndex(const Dialect& /*d*/, std::string_view schema, std::string_view table,
                      std::string_view index) {
  return fmt::format("ALTER TABLE {} DROP INDEX {}", QualifiedTable(schema, table),
                     QuoteIdentifier(index));
}

std::string HideIndex(const Dialect& d, std::string_view schema, std::string_view table,
                      std::string_view index) {
  const Flavor& f = d.flavor();
  std::string_view keyword;
  if (IsMySqlFamily8(f)) {
    keyword = "INVISIBLE";
  } else if (f.is_mariadb() && f.version.AtLeast(10, 6)) {
    keyword = "IGNORED";
  } else {
    return {};
  }
  return fmt::format("ALTER TABLE {} ALTER INDEX {} {}", QualifiedTable(schema, table),
                     QuoteIdentifier(index), keyword);
}

std::string RevealIndex(const Dialect& d, std::string_view schema, std::string_view table,
                        std::string_view index) {
  const Flavor& f = d.flavor();
  std::string_view keyword;
  if (IsMySqlFamily8(f)) {
    keyword = "VISIBLE";
  } else if (f.is_mariadb() && f.version.AtLeast(10, 6)) {
    keyword = "NOT IGNORED";
  } else {
    return {};
  }
  return fmt::format("ALTER TABLE {} ALTER INDEX {} {}", QualifiedTable(schema, table),
                     QuoteIdentifier(index), keyword);
}

std::string RebuildTable(const Dialect& /*d*/, std::string_view schema, std::string_view table,
                         std::string_view engine) {
  if (core::EqualsIgnoreCase(engine, "InnoDB")) {
    return fmt::format("ALTER TABLE {} FORCE, ALGORITHM=INPLACE, LOCK=NONE",
                       QualifiedTable(schema, table));
  }
  return fmt::format("OPTIMIZE TABLE {}", QualifiedTable(schema, table));
}

std::string AnalyzeTable(const Dialect& /*d*/, std::string_view schema, std::string_view table) {
  return fmt::format("ANALYZE TABLE {}", QualifiedTable(schema, table));
}

}  // namespace dbrunbook::dialect
