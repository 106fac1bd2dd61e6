#include "dialect/digest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dbrunbook::dialect {
namespace {

constexpr std::string_view kDigestTable = "performance_schema.events_statements_summary_by_digest";

bool IsHex(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

bool HasStatementDigestTable(const Flavor& flavor) {
  if (flavor.is_mariadb()) return flavor.version.AtLeast(10, 0);
  return flavor.is_mysql_family() && flavor.version.AtLeast(5, 6);
}

std::string DigestSnapshot(const Dialect& /*d*/) {
  // The same columns on every flavor that has the table (MySQL 5.6 defined them; MariaDB's
  // performance_schema is MySQL's).
  return fmt::format(
      "SELECT 1 AS `{0}`, SCHEMA_NAME AS `schema_name`, DIGEST AS `digest`, "
      "COUNT_STAR AS `calls`, SUM_TIMER_WAIT AS `total_latency_ps`, "
      "SUM_LOCK_TIME AS `lock_latency_ps`, SUM_ERRORS AS `errors`, SUM_WARNINGS AS `warnings`, "
      "SUM_ROWS_AFFECTED AS `rows_affected`, SUM_ROWS_SENT AS `rows_sent`, "
      "SUM_ROWS_EXAMINED AS `rows_examined`, SUM_CREATED_TMP_TABLES AS `tmp_tables`, "
      "SUM_CREATED_TMP_DISK_TABLES AS `tmp_disk_tables`, SUM_SELECT_FULL_JOIN AS `full_joins`, "
      "SUM_NO_INDEX_USED AS `no_index_used`, SUM_NO_GOOD_INDEX_USED AS `no_good_index_used`, "
      "FIRST_SEEN AS `first_seen` FROM {1} "
      "WHERE DIGEST_TEXT IS NULL OR DIGEST_TEXT NOT LIKE '%{0}%'",
      kDigestMarker, kDigestTable);
}

std::string DigestTexts(const Dialect& /*d*/, const std::vector<std::string>& digests,
                        int max_chars) {
  std::string list;
  for (const auto& digest : digests) {
    if (!IsHex(digest)) continue;
    if (!list.empty()) list += ", ";
    list += fmt::format("'{}'", digest);
  }
  if (list.empty()) return {};
  return fmt::format(
      "SELECT 1 AS `{}`, SCHEMA_NAME AS `schema_name`, DIGEST AS `digest`, "
      "SUBSTRING(DIGEST_TEXT, 1, {}) AS `digest_text` FROM {} WHERE DIGEST IN ({})",
      kDigestMarker, std::max(max_chars, 1), kDigestTable, list);
}

std::string StatementSamples(const Dialect& /*d*/, const std::vector<std::string>& digests) {
  std::string list;
  for (const auto& digest : digests) {
    if (!IsHex(digest)) continue;
    if (!list.empty()) list += ", ";
    list += fmt::format("'{}'", digest);
  }
  if (list.empty()) return {};
  // Both tables have had these columns since MySQL 5.6 (MariaDB's performance_schema is
  // MySQL's); TIMER_START orders executions across connections.
  const auto part = [&](std::string_view table) {
    return fmt::format(
        "SELECT DIGEST AS `digest`, CURRENT_SCHEMA AS `schema_name`, SQL_TEXT AS `sql_text`, "
        "TIMER_START AS `started` FROM performance_schema.{} WHERE DIGEST IN ({}) AND "
        "SQL_TEXT IS NOT NULL",
        table, list);
  };
  return fmt::format("{} UNION ALL {} ORDER BY `started` DESC", part("events_statements_history"),
                     part("events_statements_history_long"));
}

std::string PreparedExecutions(const Dialect& /*d*/) {
  return fmt::format(
      "SELECT 1 AS `{}`, COUNT_STAR AS `executions`, SUM_TIMER_WAIT AS `latency_ps` FROM "
      "performance_schema.events_statements_summary_global_by_event_name "
      "WHERE EVENT_NAME = 'statement/com/Execute'",
      kDigestMarker);
}

std::string EnableStatementDigestConsumer(const Dialect& /*d*/) {
  return "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' "
         "WHERE NAME IN ('global_instrumentation', 'statements_digest')";
}

std::string ResetDigestTable(const Dialect& /*d*/) {
  return fmt::format("TRUNCATE TABLE {}", kDigestTable);
}

}  // namespace dbrunbook::dialect
