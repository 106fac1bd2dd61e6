#include "steps/investigate_resources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/duration.h"
#include "core/strings.h"
#include "dialect/resources.h"
#include "steps/grants.h"
#include "steps/index_analysis.h"

namespace dbrunbook::steps {
namespace {

using dialect::QualifiedTable;
using dialect::QuoteIdentifier;

// (schema, table) exactly as the server spells them.
using TableKey = std::pair<std::string, std::string>;

// Rows read from the index usage sources at most (one statement each).
constexpr int kUsageRowLimit = 100'000;
// GRANT suggestions shown at most in one finding.
constexpr size_t kGrantSuggestions = 10;

struct TableSize {
  std::string schema;
  std::string table;
  std::string engine;
  std::optional<int64_t> rows;
  std::optional<int64_t> data;
  std::optional<int64_t> index;
  std::optional<int64_t> free;
  // From InnoDB's tablespace list (large schemas).
  std::optional<int64_t> file_size;
  std::optional<int64_t> allocated_size;

  int64_t total() const {
    if (file_size) return *file_size;
    return data.value_or(0) + index.value_or(0);
  }
};

struct HiddenSchema {
  std::string schema;  // decoded; the raw dictionary name when it could not be decoded
  bool decoded = true;
  int64_t innodb_tables = 0;
  int64_t visible_tables = 0;
};

struct UnusedIndex {
  const TableIndexes* table = nullptr;
  const IndexInfo* index = nullptr;
};

std::string IndexKey(std::string_view schema, std::string_view table, std::string_view index) {
  return fmt::format("{}\x1f{}\x1f{}", schema, table, core::ToLower(index));
}

// Backticks doubled, for GrantSelectOn (which adds the outer backticks).
std::string EscapeBackticks(std::string_view name) {
  std::string quoted = QuoteIdentifier(name);
  return quoted.substr(1, quoted.size() - 2);
}

EvidenceValue Optional(const std::optional<int64_t>& value) {
  return value ? EvidenceValue(*value) : EvidenceValue(std::monostate{});
}

class ResourcesRun {
 public:
  ResourcesRun(StepContext& context, const ResourcesThresholds& thresholds)
      : context_(context),
        options_(context.options),
        thresholds_(thresholds),
        target_(context.target),
        dialect_(context.target.dialect) {}

  core::Result<std::vector<Finding>> Run();

 private:
  core::Result<mysql::ResultSet> Query(const std::string& statement) {
    return target_.session->Query(statement);
  }
  // True (and noted once) when the step's time is up: no further statement is started.
  bool OutOfTime(std::string_view skipped);
  void Limited(std::string title, std::string detail, std::vector<EvidenceRow> evidence = {},
               std::vector<Suggestion> suggestions = {});
  const std::string& Account();

  void CheckVisibility(const std::map<std::string, int64_t>& visible, int64_t visible_total);
  void ReadUptime();
  void ReadDetails(int64_t visible_total);
  void ReadLargeSchemaDetails(int64_t visible_total);
  void ReportLargest(int64_t visible_total);
  void ReportFragmented();
  void ReportLowCardinality();
  std::vector<UnusedIndex> AssessUnused();
  // Returns the keys (IndexKey) of every redundant index, reported or past the cap.
  std::set<std::string> ReportDuplicates(const std::set<std::string>& unused_keys);
  void ReportUnused(const std::vector<UnusedIndex>& unused, const std::set<std::string>& dropped);
  std::optional<std::map<TableKey, std::vector<std::vector<std::string>>>> ForeignKeys();

  const TableSize* SizeOf(const TableIndexes& table) const {
    auto it = size_index_.find({table.schema, table.table});
    return it == size_index_.end() ? nullptr : &sizes_[it->second];
  }

  StepContext& context_;
  const InvestigateOptions& options_;
  const ResourcesThresholds& thresholds_;
  collect::TargetSession& target_;
  const dialect::Dialect& dialect_;

  std::vector<Finding> findings_;
  bool out_of_time_ = false;
  bool unused_assessed_ = false;  // index usage was read and judged
  std::optional<std::string> account_;
  std::optional<int64_t> uptime_;
  bool detailed_ = true;
  // Tables whose details are read from information_schema: max_tables_for_details, or the
  // server's table_open_cache when smaller; and which of the two it is.
  int details_limit_ = 0;
  std::string details_limit_name_;
  std::vector<TableSize> sizes_;  // largest first
  std::map<TableKey, size_t> size_index_;
  std::vector<TableIndexes> indexes_;
  std::map<TableKey, size_t> index_index_;
  std::vector<HiddenSchema> hidden_;
};

bool ResourcesRun::OutOfTime(std::string_view skipped) {
  if (!context_.expired()) return false;
  if (!out_of_time_) {
    out_of_time_ = true;
    EvidenceRow row;
    row.Add("skipped", std::string(skipped));
    Limited(
        fmt::format("resources: stopped early, the step's time budget ran out before {}", skipped),
        "Each investigation step has a time budget so that one slow part does not hold up "
        "the others; the findings above are what was read before it ran out.",
        {std::move(row)});
  }
  return true;
}

void ResourcesRun::Limited(std::string title, std::string detail, std::vector<EvidenceRow> evidence,
                           std::vector<Suggestion> suggestions) {
  Finding f;
  f.code = "check.partial";
  f.severity = Severity::kInfo;
  f.title = std::move(title);
  f.detail = std::move(detail);
  f.evidence = std::move(evidence);
  f.suggestions = std::move(suggestions);
  findings_.push_back(std::move(f));
}

// The account for GRANT suggestions, read once per run.
const std::string& ResourcesRun::Account() {
  if (!account_) account_ = collect::QuotedAccount(target_);
  return *account_;
}

core::Result<std::vector<Finding>> ResourcesRun::Run() {
  // 1. How many tables the account sees, without opening any.
  auto counts = Query(dialect::VisibleTableCounts(dialect_));
  if (!counts) return core::Fail(counts.error());
  std::map<std::string, int64_t> visible;
  int64_t visible_total = 0;
  std::optional<int64_t> table_open_cache;
  for (const auto& row : counts->rows) {
    const int64_t n = row["tables"].AsInt64().value_or(0);
    visible[row["schema_name"].StringOr("")] += n;
    visible_total += n;
    if (auto cache = row["table_open_cache"].AsInt64()) table_open_cache = cache;
  }
  // Reading every table's size and indexes from information_schema opens every table: more
  // tables than the table cache holds would evict the application's tables in the middle of
  // an incident. The cache size lowers the limit.
  details_limit_ = options_.max_tables_for_details;
  details_limit_name_ = "max_tables_for_details";
  if (table_open_cache && *table_open_cache > 0 && *table_open_cache < details_limit_) {
    details_limit_ = static_cast<int>(*table_open_cache);
    details_limit_name_ = "table_open_cache";
  }

  // 2. Tables information_schema hides from this account.
  if (!OutOfTime("the hidden-table check")) CheckVisibility(visible, visible_total);
  if (!OutOfTime("reading the uptime")) ReadUptime();

  // 3. Sizes and index definitions: every table below the limit, the largest above it.
  detailed_ = visible_total <= details_limit_;
  if (detailed_) {
    ReadDetails(visible_total);
  } else {
    ReadLargeSchemaDetails(visible_total);
  }
  for (size_t i = 0; i < sizes_.size(); ++i) {
    size_index_.emplace(TableKey{sizes_[i].schema, sizes_[i].table}, i);
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    auto& t = indexes_[i];
    if (t.engine.empty()) {
      if (const TableSize* size = SizeOf(t)) t.engine = size->engine;
    }
    index_index_.emplace(TableKey{t.schema, t.table}, i);
  }

  ReportLargest(visible_total);
  ReportFragmented();
  ReportLowCardinality();

  const std::vector<UnusedIndex> unused = AssessUnused();
  std::set<std::string> unused_keys;
  for (const auto& u : unused) {
    unused_keys.insert(IndexKey(u.table->schema, u.table->table, u.index->name));
  }
  const std::set<std::string> dropped = ReportDuplicates(unused_keys);
  ReportUnused(unused, dropped);
  return std::move(findings_);
}

void ResourcesRun::CheckVisibility(const std::map<std::string, int64_t>& visible,
                                   int64_t visible_total) {
  const std::string statement = dialect::InnodbTableCounts(dialect_);
  if (statement.empty()) return;
  auto result = Query(statement);
  if (!result) {
    const std::string why = fmt::format(
        "information_schema shows only tables the account has a privilege on; InnoDB's "
        "dictionary lists them all but could not be read ({}).",
        result.error().message);
    std::vector<Suggestion> grant;
    if (result.error().code == core::ErrorCode::kPrivilege) {
      grant.push_back({"let the account read InnoDB's table list", GrantProcess(Account())});
    }
    Limited(visible_total == 0
                ? "resources: no application table is visible to this account, and InnoDB's "
                  "table list could not be read to tell whether any exist"
                : "resources: whether tables are hidden from this account could not be checked",
            why, {}, std::move(grant));
    return;
  }
  int64_t hidden_tables = 0;
  for (const auto& row : result->rows) {
    const std::string raw = row["schema_name"].StringOr("");
    const int64_t innodb = row["tables"].AsInt64().value_or(0);
    auto decoded = DecodeFilename(raw);
    HiddenSchema h;
    h.schema = decoded ? *decoded : raw;
    h.decoded = decoded.has_value();
    h.innodb_tables = innodb;
    auto it = visible.find(h.schema);
    h.visible_tables = it == visible.end() ? 0 : it->second;
    if (h.innodb_tables <= h.visible_tables) continue;
    hidden_tables += h.innodb_tables - h.visible_tables;
    hidden_.push_back(std::move(h));
  }
  if (hidden_.empty()) return;
  std::sort(hidden_.begin(), hidden_.end(), [](const HiddenSchema& a, const HiddenSchema& b) {
    const int64_t ha = a.innodb_tables - a.visible_tables;
    const int64_t hb = b.innodb_tables - b.visible_tables;
    return ha != hb ? ha > hb : a.schema < b.schema;
  });
  std::vector<EvidenceRow> evidence;
  std::vector<Suggestion> suggestions;
  const std::string& account = Account();
  for (const auto& h : hidden_) {
    EvidenceRow row;
    row.Add("schema", h.schema)
        .Add("innodb_tables", h.innodb_tables)
        .Add("visible_tables", h.visible_tables);
    evidence.push_back(std::move(row));
    if (h.decoded && suggestions.size() < kGrantSuggestions) {
      suggestions.push_back(
          {fmt::format("let the account see {}'s tables and indexes (SELECT also lets it read "
                       "their rows: a DBA's decision)",
                       QuoteIdentifier(h.schema)),
           GrantSelectOn(EscapeBackticks(h.schema), account)});
    }
  }
  Limited(fmt::format("resources: {} InnoDB table{} in {} schema{} {} hidden from {}: their sizes "
                      "and indexes are not checked",
                      hidden_tables, hidden_tables == 1 ? "" : "s", hidden_.size(),
                      hidden_.size() == 1 ? "" : "s", hidden_tables == 1 ? "is" : "are", account),
          "information_schema lists only the tables an account has a privilege on, and the "
          "documented monitoring grants include none on application schemas; InnoDB's "
          "dictionary (read with PROCESS) lists every InnoDB table. Table sizes, index "
          "statistics, unused and duplicate indexes of these schemas need SELECT on them.",
          std::move(evidence), std::move(suggestions));
}

void ResourcesRun::ReadUptime() {
  auto result = Query(dialect::ServerUptime(dialect_));
  if (!result) return;
  for (const auto& row : result->rows) {
    if (auto value = row.at(1).AsInt64()) uptime_ = *value;
  }
}

void ResourcesRun::ReadDetails(int64_t visible_total) {
  if (visible_total == 0) return;
  if (OutOfTime("reading table sizes")) return;
  auto sizes = Query(dialect::TableSizes(dialect_, details_limit_));
  if (!sizes) {
    Limited(fmt::format("resources: table sizes could not be read: {}", sizes.error().message),
            "information_schema.TABLES failed; the index checks below still ran.");
  } else {
    for (const auto& row : sizes->rows) {
      TableSize s;
      s.schema = row["table_schema"].StringOr("");
      s.table = row["table_name"].StringOr("");
      s.engine = row["engine"].StringOr("");
      s.rows = row["table_rows"].AsInt64();
      s.data = row["data_length"].AsInt64();
      s.index = row["index_length"].AsInt64();
      s.free = row["data_free"].AsInt64();
      sizes_.push_back(std::move(s));
    }
  }
  if (OutOfTime("reading index definitions")) return;
  auto columns = Query(dialect::IndexColumns(dialect_));
  if (!columns) {
    Limited(
        fmt::format("resources: index definitions could not be read: {}", columns.error().message),
        "information_schema.STATISTICS failed: no cardinality, unused or duplicate index "
        "check.");
    return;
  }
  indexes_ = GroupIndexColumns(*columns);
}

void ResourcesRun::ReadLargeSchemaDetails(int64_t visible_total) {
  const std::string statement = dialect::LargestTablespaces(dialect_, options_.top_tables);
  std::string why;
  if (statement.empty()) {
    why = fmt::format("{} keeps no file sizes in information_schema", target_.flavor().Name());
  } else if (!OutOfTime("reading tablespace sizes")) {
    auto result = Query(statement);
    if (!result) {
      why = fmt::format("InnoDB's tablespace list could not be read: {}", result.error().message);
    } else {
      for (const auto& row : result->rows) {
        const std::string name = row["name"].StringOr("");
        TableSize s;
        if (auto decoded = DecodeInnodbName(name)) {
          s.schema = decoded->first;
          s.table = decoded->second;
        } else {
          const auto slash = name.find('/');
          s.schema = name.substr(0, slash);
          s.table = slash == std::string::npos ? "" : name.substr(slash + 1);
        }
        s.engine = "InnoDB";
        s.file_size = row["file_size"].AsInt64();
        s.allocated_size = row["allocated_size"].AsInt64();
        sizes_.push_back(std::move(s));
      }
    }
  } else {
    return;
  }
  if (!why.empty()) {
    Limited(fmt::format("resources: {} tables are more than the {} whose details are read ({}), "
                        "and no cheaper source of sizes worked: table sizes and index checks "
                        "skipped",
                        visible_total, details_limit_, details_limit_name_),
            why + ". Reading sizes from information_schema would open every table.", {},
            {{"let the account read InnoDB's tablespace list", GrantProcess(Account())}});
    return;
  }
  // Index definitions of the largest tables, one table per statement (each opens only it).
  size_t read = 0;
  for (const auto& s : sizes_) {
    if (OutOfTime("reading index definitions of the largest tables")) break;
    const std::string one = dialect::IndexColumnsOf(dialect_, s.schema, s.table);
    if (one.empty()) continue;
    auto columns = Query(one);
    if (!columns) continue;
    for (auto& t : GroupIndexColumns(*columns)) {
      t.engine = "InnoDB";
      indexes_.push_back(std::move(t));
    }
    ++read;
  }
  EvidenceRow row;
  row.Add("visible_tables", visible_total)
      .Add("max_tables_for_details", int64_t{options_.max_tables_for_details})
      .Add("details_limit", int64_t{details_limit_})
      .Add("details_limit_from", details_limit_name_)
      .Add("tables_with_index_checks", static_cast<int64_t>(read));
  Limited(
      fmt::format("resources: {} tables, more than {} ({}): sizes are InnoDB file sizes and "
                  "index checks cover the {} largest tables only",
                  visible_total, details_limit_, details_limit_name_, read),
      fmt::format("On MySQL 5.7 and MariaDB, information_schema opens every table to report sizes "
                  "and index statistics; with this many tables that would take long and evict the "
                  "application's tables from the table cache. InnoDB's tablespace list gives file "
                  "sizes (data, indexes and free space together: no row counts, no free-space "
                  "check) without opening anything; tables in the system or a general tablespace "
                  "and other engines are not in it. {}",
                  details_limit_name_ == "table_open_cache"
                      ? "The limit is the server's table_open_cache: check every table off-peak "
                        "with --only resources and a larger table_open_cache, or accept the cache "
                        "churn by raising it."
                      : "Raise max_tables_for_details to check every table."),
      {std::move(row)});
}

std::string FormatRows(const std::optional<int64_t>& rows) {
  return rows ? fmt::format("~{} rows", *rows) : "rows unknown";
}

void ResourcesRun::ReportLargest(int64_t visible_total) {
  if (sizes_.empty()) return;
  const size_t shown =
      std::min(sizes_.size(), static_cast<size_t>(std::max(options_.top_tables, 1)));
  int64_t shown_bytes = 0;
  Finding f;
  f.code = "table.largest";
  f.severity = Severity::kInfo;
  for (size_t i = 0; i < shown; ++i) {
    const TableSize& s = sizes_[i];
    shown_bytes += s.total();
    EvidenceRow row;
    row.Add("rank", static_cast<int64_t>(i + 1)).Add("schema", s.schema).Add("table", s.table);
    row.Add("engine", s.engine);
    if (s.file_size) {
      row.Add("file_bytes", Optional(s.file_size))
          .Add("allocated_bytes", Optional(s.allocated_size));
    } else {
      row.Add("rows", Optional(s.rows))
          .Add("data_bytes", Optional(s.data))
          .Add("index_bytes", Optional(s.index))
          .Add("free_bytes", Optional(s.free));
    }
    row.Add("total_bytes", s.total()).Add("size", FormatBytes(s.total()));
    f.evidence.push_back(std::move(row));
  }
  const TableSize& top = sizes_.front();
  // Every table when details were read; else the name-only count (views included).
  const int64_t tables = detailed_ ? static_cast<int64_t>(sizes_.size()) : visible_total;
  if (top.file_size) {
    f.title =
        fmt::format("largest tables by InnoDB file size: {} {}; the top {} of {} tables take {}",
                    QualifiedTable(top.schema, top.table), FormatBytes(top.total()), shown, tables,
                    FormatBytes(shown_bytes));
    f.detail =
        "File sizes from InnoDB's tablespace list (data, indexes and free space together), "
        "because the account sees more tables than the details limit (max_tables_for_details, "
        "or table_open_cache when smaller).";
  } else {
    f.title = fmt::format(
        "largest tables: {} {} (data {}, indexes {}, {}); the top {} of {} tables take {}",
        QualifiedTable(top.schema, top.table), FormatBytes(top.total()),
        FormatBytes(top.data.value_or(0)), FormatBytes(top.index.value_or(0)), FormatRows(top.rows),
        shown, tables, FormatBytes(shown_bytes));
    f.detail =
        "Sizes and row counts are the storage engine's estimates (InnoDB samples pages; MySQL "
        "8.0 caches them for information_schema_stats_expiry seconds).";
  }
  findings_.push_back(std::move(f));
}

void ResourcesRun::ReportFragmented() {
  if (!detailed_) return;
  // A free-space value shared by several InnoDB tables is that of their shared tablespace.
  std::map<int64_t, int> innodb_free_values;
  for (const auto& s : sizes_) {
    if (core::EqualsIgnoreCase(s.engine, "InnoDB") && s.free.value_or(0) > 0) {
      ++innodb_free_values[*s.free];
    }
  }
  size_t reported = 0;
  size_t more = 0;
  int64_t shared_skipped = 0;
  for (const auto& s : sizes_) {
    const int64_t free = s.free.value_or(0);
    const int64_t whole = s.total() + free;
    if (free < thresholds_.fragmented_min_bytes || whole <= 0 ||
        static_cast<double>(free) < thresholds_.fragmented_min_ratio * static_cast<double>(whole)) {
      continue;
    }
    const bool innodb = core::EqualsIgnoreCase(s.engine, "InnoDB");
    if (innodb && innodb_free_values[free] > 1) {
      ++shared_skipped;
      continue;
    }
    if (reported >= thresholds_.max_findings_per_code) {
      ++more;
      continue;
    }
    ++reported;
    Finding f;
    f.code = "table.fragmented";
    f.severity = Severity::kWarning;
    const double share = static_cast<double>(free) / static_cast<double>(whole);
    f.title = fmt::format("{} has {} of free space inside it ({:.0f}% of its {})",
                          QualifiedTable(s.schema, s.table), FormatBytes(free), share * 100,
                          FormatBytes(whole));
    f.detail = fmt::format(
        "Rule: free space (DATA_FREE) of at least {} and at least {:.0f}% of the table's data, "
        "indexes and free space. Deleted rows leave space that new rows of this table reuse; "
        "only a rebuild gives it back to the file system.",
        FormatBytes(thresholds_.fragmented_min_bytes), thresholds_.fragmented_min_ratio * 100);
    EvidenceRow row;
    row.Add("schema", s.schema)
        .Add("table", s.table)
        .Add("engine", s.engine)
        .Add("rows", Optional(s.rows))
        .Add("data_bytes", Optional(s.data))
        .Add("index_bytes", Optional(s.index))
        .Add("free_bytes", free)
        .Add("free_ratio", std::round(share * 1000) / 1000);
    f.evidence.push_back(std::move(row));
    const std::string rebuild = dialect::RebuildTable(dialect_, s.schema, s.table, s.engine);
    if (innodb) {
      f.suggestions.push_back(
          {"if the table will not grow back into the space, rebuild it online in a quiet "
           "period: it copies the table (free disk about its size is needed), replicas redo it "
           "and lag meanwhile, and the server refuses rather than blocking writes where it "
           "cannot rebuild online (e.g. a FULLTEXT index); OPTIMIZE TABLE does the same "
           "rebuild on InnoDB",
           rebuild});
    } else {
      f.suggestions.push_back(
          {fmt::format("if the table will not grow back into the space, OPTIMIZE it in a "
                       "maintenance window: on {} it locks the table while it runs",
                       s.engine.empty() ? "this engine" : s.engine),
           rebuild});
    }
    findings_.push_back(std::move(f));
  }
  if (more > 0) {
    Limited(fmt::format("resources: {} more fragmented tables not listed (the {} largest are)",
                        more, reported),
            "At most max_findings_per_code table.fragmented findings are produced.");
  }
  if (shared_skipped > 0) {
    Limited(fmt::format("resources: free space of {} InnoDB tables is that of a shared tablespace "
                        "(system or general), not reported per table",
                        shared_skipped),
            "For a table in a shared tablespace DATA_FREE is the free space of the whole "
            "tablespace, the same for every table in it; rebuilding one table does not return "
            "it. Tables reporting the same value were left out.");
  }
}

void ResourcesRun::ReportLowCardinality() {
  size_t reported = 0;
  const size_t top = static_cast<size_t>(std::max(options_.top_tables, 1));
  for (size_t i = 0; i < sizes_.size() && i < top; ++i) {
    const TableSize& s = sizes_[i];
    auto it = index_index_.find({s.schema, s.table});
    if (it == index_index_.end()) continue;
    const TableIndexes& table = indexes_[it->second];
    std::optional<int64_t> rows = s.rows;
    if (!rows) {
      // Tablespace sizes carry no row count: the primary / unique key's cardinality does.
      for (const auto& index : table.indexes) {
        if (index.unique && index.cardinality())
          rows = std::max(rows.value_or(0), *index.cardinality());
      }
    }
    if (!rows) continue;
    for (const auto& index :
         LowCardinalityIndexes(table, *rows, thresholds_.low_cardinality_min_rows,
                               thresholds_.low_cardinality_max_distinct)) {
      if (reported >= thresholds_.max_findings_per_code) return;
      ++reported;
      const int64_t distinct = index.cardinality().value_or(1);
      Finding f;
      f.code = "index.low_cardinality";
      f.severity = Severity::kInfo;
      f.title = fmt::format("{} index {} ({}) has about {} distinct value{} over ~{} rows",
                            QualifiedTable(s.schema, s.table), QuoteIdentifier(index.name),
                            index.DescribeColumns(), distinct, distinct == 1 ? "" : "s", *rows);
      f.detail = fmt::format(
          "Rule: a non-unique index of one of the {} largest tables with at least {} rows whose "
          "whole key has at most {} distinct values (estimates): each value matches {} of the "
          "table or more on average, so the optimizer rarely prefers it over a scan unless a "
          "query looks for a rare value.",
          top, thresholds_.low_cardinality_min_rows, thresholds_.low_cardinality_max_distinct,
          thresholds_.low_cardinality_max_distinct > 0
              ? fmt::format("1/{}", thresholds_.low_cardinality_max_distinct)
              : std::string("all"));
      EvidenceRow row;
      row.Add("schema", s.schema)
          .Add("table", s.table)
          .Add("index", index.name)
          .Add("columns", index.DescribeColumns())
          .Add("distinct_values", distinct)
          .Add("table_rows", *rows)
          .Add("rows_per_value", *rows / std::max<int64_t>(distinct, 1));
      f.evidence.push_back(std::move(row));
      f.suggestions.push_back(
          {"check which queries use it (EXPLAIN): if none looks for a rare value, it costs "
           "writes for little; a composite index starting with a selective column usually "
           "serves those queries better",
           ""});
      f.suggestions.push_back(
          {"if the estimate looks stale, refresh the statistics (not while long queries run on "
           "the table: before MySQL 8.0.24 it then waits for them and new queries queue behind "
           "it)",
           dialect::AnalyzeTable(dialect_, s.schema, s.table)});
      findings_.push_back(std::move(f));
    }
  }
}

std::optional<std::map<TableKey, std::vector<std::vector<std::string>>>>
ResourcesRun::ForeignKeys() {
  std::map<TableKey, std::vector<std::vector<std::string>>> keys;
  const std::string statement = dialect::ForeignKeyColumns(dialect_);
  if (statement.empty()) return keys;  // no InnoDB dictionary tables: nothing to ask
  if (OutOfTime("reading foreign keys")) return std::nullopt;
  auto result = Query(statement);
  if (!result) return std::nullopt;
  std::string current;
  std::vector<std::string>* columns = nullptr;
  for (const auto& row : result->rows) {
    const std::string id = row["constraint_id"].StringOr("");
    auto child = DecodeInnodbName(row["child"].StringOr(""));
    if (!child) continue;
    if (id != current || columns == nullptr) {
      current = id;
      auto& list = keys[{child->first, child->second}];
      list.emplace_back();
      columns = &list.back();
    }
    columns->push_back(row["column_name"].StringOr(""));
  }
  return keys;
}

std::vector<UnusedIndex> ResourcesRun::AssessUnused() {
  std::vector<UnusedIndex> unused;
  const auto source = dialect::UsageSourceFor(dialect_);
  const auto min_uptime = options_.unused_index_min_uptime.count();
  const auto skipped = [&](std::string title, std::string detail,
                           std::vector<Suggestion> suggestions = {}) {
    Finding f;
    f.code = "index.unused_skipped";
    f.severity = Severity::kInfo;
    f.title = std::move(title);
    f.detail = std::move(detail);
    EvidenceRow row;
    row.Add("source", std::string(dialect::UsageSourceName(source)))
        .Add("uptime_seconds", Optional(uptime_))
        .Add("min_uptime_seconds", static_cast<int64_t>(min_uptime));
    f.evidence.push_back(std::move(row));
    f.suggestions = std::move(suggestions);
    findings_.push_back(std::move(f));
  };

  if (indexes_.empty() && hidden_.empty()) return unused;
  if (source == dialect::IndexUsageSource::kNone) {
    std::vector<Suggestion> suggestions;
    const auto& flavor = target_.flavor();
    if (flavor.is_mariadb() || flavor.product == dialect::Product::kPerconaServer ||
        flavor.product == dialect::Product::kPerconaXtraDBCluster) {
      suggestions.push_back(
          {"turn on user statistics (dynamic, small overhead; also set userstat=1 in the "
           "configuration), then look again after a full business cycle",
           "SET GLOBAL userstat = 1"});
    }
    suggestions.push_back(
        {"or enable performance_schema (performance_schema=ON in the configuration; needs a "
         "restart)",
         ""});
    skipped(
        "unused indexes not assessed: performance_schema is off and there are no user "
        "statistics (userstat) on this server",
        "Index usage since startup comes from performance_schema's "
        "table_io_waits_summary_by_index_usage or, on MariaDB and Percona Server, from "
        "information_schema.INDEX_STATISTICS with userstat=1.",
        std::move(suggestions));
    return unused;
  }
  if (!uptime_ || *uptime_ < min_uptime) {
    skipped(uptime_ ? fmt::format("unused indexes not assessed: the server has been up {}, less "
                                  "than the {} needed to call an index unused",
                                  core::FormatSeconds(static_cast<double>(*uptime_)),
                                  core::FormatSeconds(static_cast<double>(min_uptime)))
                    : std::string("unused indexes not assessed: the server's uptime could not "
                                  "be read"),
            "Index usage is counted since startup: shortly after a restart every index that "
            "only a nightly or weekly job uses looks unused. unused_index_min_uptime sets how "
            "long the server must have been up.");
    return unused;
  }

  std::optional<std::map<TableKey, std::vector<std::vector<std::string>>>> foreign_keys;
  bool foreign_keys_read = false;
  const std::vector<std::vector<std::string>> no_foreign_keys;
  const auto foreign_keys_of =
      [&](const TableIndexes& table) -> const std::vector<std::vector<std::string>>& {
    if (!foreign_keys_read) {
      foreign_keys_read = true;
      foreign_keys = ForeignKeys();
      if (!foreign_keys) {
        Limited(
            "resources: foreign keys could not be read: an index reported unused may be one "
            "a foreign key needs (the server then refuses to drop it)",
            "Foreign-key checks use the child table's index without being counted as index "
            "use; their definitions come from InnoDB's dictionary, which needs PROCESS.",
            {}, {{"let the account read InnoDB's dictionary", GrantProcess(Account())}});
      }
    }
    if (!foreign_keys) return no_foreign_keys;
    auto it = foreign_keys->find({table.schema, table.table});
    return it == foreign_keys->end() ? no_foreign_keys : it->second;
  };

  std::map<std::string, int64_t> unchecked;  // schema -> indexes on tables not read
  const auto consider = [&](const TableIndexes& table, const IndexInfo& index) {
    const auto& fks = foreign_keys_of(table);
    if (UnusedIndexExclusion(table, index, fks)) return;
    unused.push_back(UnusedIndex{&table, &index});
  };
  // Cheap exclusions first, so foreign keys are read only when a candidate remains.
  const auto cheap_excluded = [&](const TableIndexes& table, const IndexInfo& index) {
    return UnusedIndexExclusion(table, index, no_foreign_keys).has_value();
  };

  if (OutOfTime("reading index usage")) return unused;
  if (source == dialect::IndexUsageSource::kPerformanceSchema) {
    auto result = Query(dialect::UnusedIndexesPerformanceSchema(dialect_, kUsageRowLimit));
    if (!result) {
      skipped(fmt::format("unused indexes not assessed: performance_schema could not be read: {}",
                          result.error().message),
              "Index usage comes from performance_schema.table_io_waits_summary_by_index_usage.",
              {{"let the account read performance_schema", GrantPerformanceSchema(Account())}});
      return unused;
    }
    unused_assessed_ = true;
    for (const auto& row : result->rows) {
      const std::string schema = row["table_schema"].StringOr("");
      auto it = index_index_.find({schema, row["table_name"].StringOr("")});
      if (it == index_index_.end()) {
        ++unchecked[schema];
        continue;
      }
      const TableIndexes& table = indexes_[it->second];
      const IndexInfo* index = table.Find(row["index_name"].StringOr(""));
      if (index == nullptr || cheap_excluded(table, *index)) continue;
      consider(table, *index);
    }
  } else {
    auto result = Query(dialect::UsedIndexesUserStatistics(dialect_, kUsageRowLimit));
    if (!result) {
      skipped(fmt::format("unused indexes not assessed: INDEX_STATISTICS could not be read: {}",
                          result.error().message),
              "Index usage comes from information_schema.INDEX_STATISTICS (userstat).");
      return unused;
    }
    if (result->rows.empty()) {
      skipped(
          "unused indexes not assessed: INDEX_STATISTICS has no row at all (userstat was "
          "probably turned on or flushed recently)",
          "With userstat, an index without a row in INDEX_STATISTICS was not read since "
          "userstat was turned on or FLUSH INDEX_STATISTICS ran; when no index at all has a "
          "row, that moment was too recent to tell.");
      return unused;
    }
    unused_assessed_ = true;
    std::set<std::string> used;
    for (const auto& row : result->rows) {
      used.insert(IndexKey(row["table_schema"].StringOr(""), row["table_name"].StringOr(""),
                           row["index_name"].StringOr("")));
    }
    for (const auto& table : indexes_) {
      for (const auto& index : table.indexes) {
        if (used.contains(IndexKey(table.schema, table.table, index.name))) continue;
        if (cheap_excluded(table, index)) continue;
        consider(table, index);
      }
    }
  }

  // Candidates on tables whose definitions were not read (hidden from the account, or past the
  // largest tables of a large schema): uniqueness unknown, so not reported.
  if (!unchecked.empty()) {
    int64_t total = 0;
    std::vector<EvidenceRow> evidence;
    std::vector<Suggestion> suggestions;
    std::set<std::string> hidden_schemas;
    for (const auto& h : hidden_) {
      if (h.visible_tables == 0 && h.decoded) hidden_schemas.insert(h.schema);
    }
    for (const auto& [schema, n] : unchecked) {
      total += n;
      EvidenceRow row;
      row.Add("schema", schema).Add("indexes", n);
      evidence.push_back(std::move(row));
      if (hidden_schemas.contains(schema) && suggestions.size() < kGrantSuggestions) {
        suggestions.push_back(
            {fmt::format("let the account see {}'s index definitions", QuoteIdentifier(schema)),
             GrantSelectOn(EscapeBackticks(schema), Account())});
      }
    }
    Limited(fmt::format("resources: {} index{} with no recorded use {} on tables whose "
                        "definitions were not read, so {} not reported",
                        total, total == 1 ? "" : "es", total == 1 ? "is" : "are",
                        total == 1 ? "it is" : "they are"),
            "Whether an index is PRIMARY, UNIQUE or needed by a foreign key comes from "
            "information_schema.STATISTICS, which shows only tables the account can see (and, "
            "above the details limit, is read for the largest tables only).",
            std::move(evidence), std::move(suggestions));
  }
  return unused;
}

std::set<std::string> ResourcesRun::ReportDuplicates(const std::set<std::string>& unused_keys) {
  std::set<std::string> redundant;
  size_t reported = 0;
  size_t more = 0;
  for (const auto& table : indexes_) {
    for (const auto& r : FindRedundantIndexes(table)) {
      redundant.insert(IndexKey(table.schema, table.table, r.index.name));
      if (reported >= thresholds_.max_findings_per_code) {
        ++more;
        continue;
      }
      ++reported;
      const std::string qualified = QualifiedTable(table.schema, table.table);
      Finding f;
      f.code = "index.duplicate";
      f.severity = Severity::kWarning;
      const std::string covering =
          fmt::format("{}{} ({})", r.covered_by.unique && !r.covered_by.primary() ? "UNIQUE " : "",
                      QuoteIdentifier(r.covered_by.name), r.covered_by.DescribeColumns());
      if (r.via_clustered_key) {
        const IndexInfo* clustered = ClusteredIndex(table);
        f.title = fmt::format(
            "{} index {} ({}) is redundant with {}: InnoDB appends the clustered key ({}) to "
            "every secondary index",
            qualified, QuoteIdentifier(r.index.name), r.index.DescribeColumns(), covering,
            clustered ? clustered->DescribeColumns() : std::string("primary key"));
      } else {
        f.title = fmt::format(
            "{} index {} ({}) is {} {}", qualified, QuoteIdentifier(r.index.name),
            r.index.DescribeColumns(),
            r.kind == Redundancy::kExactDuplicate ? "an exact duplicate of" : "a left prefix of",
            covering);
      }
      f.detail =
          "Every lookup, sort or range the first index serves, the covering index serves too; "
          "the first one only costs writes, buffer pool memory and disk.";
      EvidenceRow row;
      row.Add("schema", table.schema)
          .Add("table", table.table)
          .Add("index", r.index.name)
          .Add("columns", r.index.DescribeColumns())
          .Add("unique", r.index.unique)
          .Add("covered_by", r.covered_by.name)
          .Add("covered_by_columns", r.covered_by.DescribeColumns())
          .Add("relation", std::string(RedundancyName(r.kind)))
          .Add("via_clustered_key", r.via_clustered_key);
      if (unused_assessed_) {
        row.Add("unused_since_startup",
                unused_keys.contains(IndexKey(table.schema, table.table, r.index.name)));
      } else {
        row.Add("unused_since_startup", EvidenceValue(std::monostate{}));
      }
      f.evidence.push_back(std::move(row));
      f.suggestions.push_back(
          {fmt::format("drop it ({} stays and serves the same queries); first check that no query "
                       "names it in an index hint (USE/FORCE/IGNORE INDEX fail once it is gone)",
                       QuoteIdentifier(r.covered_by.name)),
           dialect::DropIndex(dialect_, table.schema, table.table, r.index.name)});
      const std::string hide =
          dialect::HideIndex(dialect_, table.schema, table.table, r.index.name);
      if (!hide.empty()) {
        f.suggestions.push_back(
            {fmt::format("or hide it from the optimizer first (instant; undo with: {}) and drop it "
                         "once nothing got slower",
                         dialect::RevealIndex(dialect_, table.schema, table.table, r.index.name)),
             hide});
      }
      findings_.push_back(std::move(f));
    }
  }
  if (more > 0) {
    Limited(fmt::format("resources: {} more redundant indexes not listed (the first {} are)", more,
                        reported),
            "At most max_findings_per_code index.duplicate findings are produced.");
  }
  return redundant;
}

void ResourcesRun::ReportUnused(const std::vector<UnusedIndex>& unused,
                                const std::set<std::string>& dropped) {
  std::vector<UnusedIndex> listed;
  for (const auto& u : unused) {
    if (!dropped.contains(IndexKey(u.table->schema, u.table->table, u.index->name))) {
      listed.push_back(u);
    }
  }
  // Most costly first: the largest tables.
  std::stable_sort(listed.begin(), listed.end(), [&](const UnusedIndex& a, const UnusedIndex& b) {
    const TableSize* sa = SizeOf(*a.table);
    const TableSize* sb = SizeOf(*b.table);
    return (sa ? sa->total() : 0) > (sb ? sb->total() : 0);
  });
  const auto source = dialect::UsageSourceFor(dialect_);
  const std::string uptime = core::FormatSeconds(static_cast<double>(uptime_.value_or(0)));
  size_t reported = 0;
  for (const auto& u : listed) {
    if (reported >= thresholds_.max_findings_per_code) break;
    ++reported;
    const TableIndexes& table = *u.table;
    const IndexInfo& index = *u.index;
    const TableSize* size = SizeOf(table);
    Finding f;
    f.code = "index.unused";
    f.severity = Severity::kWarning;
    if (source == dialect::IndexUsageSource::kPerformanceSchema) {
      f.title = fmt::format("{} index {} ({}) has not been used since the server started {} ago",
                            QualifiedTable(table.schema, table.table), QuoteIdentifier(index.name),
                            index.DescribeColumns(), uptime);
      f.detail =
          "performance_schema counted no read or write through this index since startup (or "
          "since its summary was truncated). Reads served by replicas, and jobs that run less "
          "often than the uptime, do not show here; every write to the table still maintains "
          "the index.";
    } else {
      f.title = fmt::format("{} index {} ({}) has no read recorded by userstat (server up {})",
                            QualifiedTable(table.schema, table.table), QuoteIdentifier(index.name),
                            index.DescribeColumns(), uptime);
      f.detail =
          "information_schema.INDEX_STATISTICS has no row for this index: it was not read since "
          "userstat was turned on or FLUSH INDEX_STATISTICS ran, which may be more recent than "
          "the server's start. Reads served by replicas and rare jobs do not show here.";
    }
    EvidenceRow row;
    row.Add("schema", table.schema)
        .Add("table", table.table)
        .Add("index", index.name)
        .Add("columns", index.DescribeColumns())
        .Add("visible", index.visible)
        .Add("table_rows", size ? Optional(size->rows) : EvidenceValue(std::monostate{}))
        .Add("table_bytes", size ? EvidenceValue(size->total()) : EvidenceValue(std::monostate{}))
        .Add("source", std::string(dialect::UsageSourceName(source)))
        .Add("uptime_seconds", Optional(uptime_));
    f.evidence.push_back(std::move(row));
    f.suggestions.push_back(
        {"drop it once you have checked the replicas (their reads are not counted here), jobs "
         "that run less often than the uptime (month-end reports), and index hints naming it "
         "(USE/FORCE INDEX fail once it is gone)",
         dialect::DropIndex(dialect_, table.schema, table.table, index.name)});
    const std::string hide = dialect::HideIndex(dialect_, table.schema, table.table, index.name);
    if (!hide.empty() && index.visible) {
      f.suggestions.push_back(
          {fmt::format("or hide it from the optimizer first (instant; undo with: {}) and drop "
                       "it after a full business cycle",
                       dialect::RevealIndex(dialect_, table.schema, table.table, index.name)),
           hide});
    }
    findings_.push_back(std::move(f));
  }
  if (listed.size() > reported) {
    Limited(fmt::format("resources: {} more unused indexes not listed (the {} on the largest "
                        "tables are)",
                        listed.size() - reported, reported),
            "At most max_findings_per_code index.unused findings are produced.");
  }
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  if (bytes < 0) return "-" + FormatBytes(-bytes);
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return value < 10 ? fmt::format("{:.1f} {}", value, kUnits[unit])
                    : fmt::format("{:.0f} {}", value, kUnits[unit]);
}

std::string ResourcesStep::RequiredGrant(const dialect::Flavor& flavor,
                                         std::string_view account) const {
  if (flavor.capabilities.performance_schema == false) return GrantProcess(account);
  return Grants({GrantProcess(account), GrantPerformanceSchema(account)});
}

core::Result<std::vector<Finding>> ResourcesStep::Run(StepContext& context) {
  ResourcesRun run(context, thresholds_);
  return run.Run();
}

}  // namespace dbrunbook::steps
