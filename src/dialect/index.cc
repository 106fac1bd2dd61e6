#include "dialect/index.h"

#include <fmt/format.h>

#include <algorithm>

#include "dialect/resources.h"

namespace dbrunbook::dialect {

std::string ExplainJson(const Dialect& d, std::string_view statement) {
  const Flavor& f = d.flavor();
  const bool has_json =
      f.is_mariadb() ? f.version.AtLeast(10, 1, 2) : f.detected() && f.version.AtLeast(5, 6, 5);
  if (!has_json) return {};
  return fmt::format("EXPLAIN FORMAT=JSON {}", statement);
}

std::string UseSchema(std::string_view schema) { return "USE " + QuoteIdentifier(schema); }

std::string TableFacts(std::string_view schema, std::string_view table) {
  const auto s = SafeLiteral(schema);
  const auto t = SafeLiteral(table);
  if (!s || !t) return {};
  return fmt::format(
      "SELECT ENGINE AS `engine`, TABLE_ROWS AS `table_rows`, DATA_LENGTH AS `data_length`, "
      "INDEX_LENGTH AS `index_length` FROM information_schema.TABLES "
      "WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {}",
      *s, *t);
}

std::string TableColumns(std::string_view schema, std::string_view table) {
  const auto s = SafeLiteral(schema);
  const auto t = SafeLiteral(table);
  if (!s || !t) return {};
  return fmt::format(
      "SELECT COLUMN_NAME AS `column_name`, LOWER(DATA_TYPE) AS `data_type`, "
      "CHARACTER_OCTET_LENGTH AS `octet_length` FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
      *s, *t);
}

std::string SampledDistinct(std::string_view schema, std::string_view table,
                            const std::vector<std::string>& columns, int64_t sample_rows) {
  if (columns.empty()) return {};
  std::vector<std::string> quoted;
  quoted.reserve(columns.size());
  for (const auto& c : columns) quoted.push_back(QuoteIdentifier(c));
  const std::string list = fmt::format("{}", fmt::join(quoted, ", "));
  return fmt::format(
      "SELECT COUNT(*) AS `sampled`, COUNT(DISTINCT {}) AS `distinct_values` "
      "FROM (SELECT {} FROM {} LIMIT {}) AS `dbrunbook_sample`",
      list, list, QualifiedTable(schema, table), std::max<int64_t>(sample_rows, 1));
}

std::string AddIndex(std::string_view schema, std::string_view table, std::string_view name,
                     const std::vector<KeyPart>& parts, bool online) {
  std::vector<std::string> keys;
  keys.reserve(parts.size());
  for (const auto& p : parts) {
    keys.push_back(p.prefix ? fmt::format("{}({})", QuoteIdentifier(p.column), *p.prefix)
                            : QuoteIdentifier(p.column));
  }
  return fmt::format("ALTER TABLE {} ADD INDEX {} ({}){}", QualifiedTable(schema, table),
                     QuoteIdentifier(name), fmt::join(keys, ", "),
                     online ? ", ALGORITHM=INPLACE, LOCK=NONE" : "");
}

std::string AlterProgress(const Dialect& d, uint64_t connection_id) {
  const Flavor& f = d.flavor();
  if (f.is_mariadb()) {
    return fmt::format(
        "SELECT STAGE AS `stage`, MAX_STAGE AS `max_stage`, PROGRESS AS `progress`, "
        "STATE AS `state` FROM information_schema.PROCESSLIST WHERE ID = {}",
        connection_id);
  }
  if (f.is_mysql_family() && f.version.AtLeast(5, 7) && f.capabilities.performance_schema == true) {
    return fmt::format(
        "SELECT NULL AS `stage`, NULL AS `max_stage`, "
        "IF(s.WORK_ESTIMATED > 0, 100 * s.WORK_COMPLETED / s.WORK_ESTIMATED, NULL) "
        "AS `progress`, s.EVENT_NAME AS `state` "
        "FROM performance_schema.events_stages_current AS s "
        "JOIN performance_schema.threads AS t ON t.THREAD_ID = s.THREAD_ID "
        "WHERE t.PROCESSLIST_ID = {}",
        connection_id);
  }
  return {};
}

}  // namespace dbrunbook::dialect
