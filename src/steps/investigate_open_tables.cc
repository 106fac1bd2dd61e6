#include "steps/investigate_open_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "dialect/mdl.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace {

constexpr int kHandleLimit = 200;
constexpr size_t kRowsShown = 50;
constexpr size_t kTitleTables = 3;

struct TableUse {
  std::string schema;
  std::string table;
  std::optional<int64_t> in_use;    // SHOW OPEN TABLES
  std::optional<bool> name_locked;  // SHOW OPEN TABLES
  std::optional<int64_t> handles;   // performance_schema.table_handles
  std::optional<std::string> connection_ids;
  std::optional<std::string> locks;

  int64_t weight() const { return std::max(in_use.value_or(0), handles.value_or(0)); }
};

bool IsMonitoringSchema(std::string_view schema) {
  return schema == "performance_schema" || schema == "information_schema";
}

TableUse& Entry(std::vector<TableUse>& tables, const std::string& schema,
                const std::string& table) {
  for (auto& t : tables) {
    if (t.schema == schema && t.table == table) return t;
  }
  tables.push_back(TableUse{schema, table});
  return tables.back();
}

EvidenceValue Optional(const std::optional<int64_t>& v) {
  return v ? EvidenceValue(*v) : EvidenceValue(std::monostate{});
}

}  // namespace

std::string OpenTablesStep::RequiredGrant(const dialect::Flavor& /*flavor*/,
                                          std::string_view account) const {
  // SHOW OPEN TABLES needs no privilege; table_handles needs SELECT on performance_schema.
  return GrantPerformanceSchema(account);
}

core::Result<std::vector<Finding>> OpenTablesStep::Run(StepContext& context) {
  auto& target = context.target;
  const auto& dialect = target.dialect;
  std::vector<Finding> findings;
  std::vector<TableUse> tables;

  auto open = target.session->Query(dialect::OpenTablesInUse(dialect));
  if (!open) return core::Fail(open.error());
  size_t shown_by_show = 0;
  for (const auto& row : open->rows) {
    const std::string schema = row["Database"].StringOr("");
    const std::string table = row["Table"].StringOr("");
    if (table.empty() || IsMonitoringSchema(schema)) continue;
    TableUse& t = Entry(tables, schema, table);
    t.in_use = row["In_use"].AsInt64();
    t.name_locked = row["Name_locked"].AsBool();
    ++shown_by_show;
  }

  bool handles_read = false;
  std::string handles_note;
  const std::string handles_sql = dialect::TableHandlesInUse(dialect, kHandleLimit);
  if (handles_sql.empty()) {
    handles_note =
        "performance_schema.table_handles is not available on this server "
        "(performance_schema OFF, or older than MySQL 5.7.3 / MariaDB 10.5.2)";
  } else if (context.expired()) {
    handles_note = "the step's time budget ran out before performance_schema.table_handles";
  } else {
    auto handles = target.session->Query(handles_sql);
    if (handles) {
      handles_read = true;
      for (const auto& row : handles->rows) {
        const std::string schema = row["table_schema"].StringOr("");
        const std::string table = row["table_name"].StringOr("");
        if (table.empty()) continue;
        TableUse& t = Entry(tables, schema, table);
        t.handles = row["handles"].AsInt64();
        if (auto ids = row["connection_ids"].AsString()) t.connection_ids = std::string(*ids);
        if (auto locks = row["locks"].AsString(); locks && !locks->empty()) {
          t.locks = std::string(*locks);
        }
      }
    } else {
      handles_note = fmt::format("performance_schema.table_handles could not be read: {}",
                                 handles.error().message);
    }
  }

  if (tables.empty()) {
    if (handles_read) return findings;
    Finding f;
    f.code = "check.partial";
    f.severity = Severity::kInfo;
    f.title =
        "open tables: none visible in use, but SHOW OPEN TABLES lists only tables this "
        "account has a privilege on";
    f.detail = fmt::format(
        "SHOW OPEN TABLES WHERE In_use > 0 returned no table. It shows only the tables the "
        "monitoring account may access (with PROCESS and SELECT on performance_schema and sys "
        "alone, none of the application's), so tables could be in use without showing here; "
        "{}.",
        handles_note);
    f.suggestions.push_back(
        {"for a complete view, enable performance_schema (table_handles shows every session's "
         "tables to an account with SELECT on performance_schema), or run the check with an "
         "account that has SELECT on the application schemas",
         ""});
    findings.push_back(std::move(f));
    return findings;
  }

  std::stable_sort(tables.begin(), tables.end(), [](const TableUse& a, const TableUse& b) {
    if (a.weight() != b.weight()) return a.weight() > b.weight();
    return a.schema != b.schema ? a.schema < b.schema : a.table < b.table;
  });
  Finding f;
  f.code = "table.in_use";
  f.severity = Severity::kInfo;
  std::string names;
  for (size_t i = 0; i < tables.size() && i < kTitleTables; ++i) {
    if (!names.empty()) names += ", ";
    names += fmt::format("{}.{} ({})", tables[i].schema, tables[i].table, tables[i].weight());
  }
  if (tables.size() > kTitleTables) names += ", ...";
  f.title = fmt::format("{} {} in use: {}", tables.size(), tables.size() == 1 ? "table" : "tables",
                        names);
  std::string detail =
      "In_use counts the statements using the table right now and Name_locked a DROP or RENAME "
      "holding its name (SHOW OPEN TABLES); handles and connection_ids are the sessions owning "
      "the table's handles (performance_schema.table_handles: running statements and LOCK "
      "TABLES). A session idle inside a transaction keeps its metadata locks without using "
      "the table, so it is not counted here: the mdl findings name it.";
  if (handles_read && shown_by_show < tables.size()) {
    detail += fmt::format(
        " SHOW OPEN TABLES showed {} of these {} tables: it lists only the tables this "
        "account has a privilege on, and the monitoring account (PROCESS, SELECT on "
        "performance_schema and sys) has none on application schemas; the others come from "
        "performance_schema.table_handles.",
        shown_by_show, tables.size());
  } else if (!handles_read) {
    detail += fmt::format(
        " Only tables this account has a privilege on are listed (SHOW OPEN TABLES), and {}.",
        handles_note);
  }
  f.detail = detail;
  for (size_t i = 0; i < tables.size() && i < kRowsShown; ++i) {
    const TableUse& t = tables[i];
    EvidenceRow row;
    row.Add("schema", t.schema)
        .Add("table", t.table)
        .Add("in_use", Optional(t.in_use))
        .Add("name_locked",
             t.name_locked ? EvidenceValue(*t.name_locked) : EvidenceValue(std::monostate{}))
        .Add("handles", Optional(t.handles))
        .Add("connection_ids", t.connection_ids)
        .Add("locks", t.locks);
    f.evidence.push_back(std::move(row));
  }
  findings.push_back(std::move(f));
  return findings;
}

}  // namespace dbrunbook::steps
