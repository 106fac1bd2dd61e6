#include "steps/index_analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "core/strings.h"

namespace dbrunbook::steps {
namespace {

bool SameName(std::string_view a, std::string_view b) { return core::EqualsIgnoreCase(a, b); }

bool IdenticalColumn(const IndexColumn& a, const IndexColumn& b) {
  return SameName(a.name, b.name) && a.sub_part == b.sub_part && a.descending == b.descending;
}

bool IdenticalColumns(const std::vector<IndexColumn>& a, const std::vector<IndexColumn>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!IdenticalColumn(a[i], b[i])) return false;
  }
  return true;
}

// `covering` serves every lookup `column` serves: the same column and direction, and at least
// as many leading characters (the whole column covers any prefix).
bool CoversColumn(const IndexColumn& covering, const IndexColumn& column) {
  if (!SameName(covering.name, column.name) || covering.descending != column.descending) {
    return false;
  }
  if (!covering.sub_part) return true;
  return column.sub_part && *column.sub_part <= *covering.sub_part;
}

std::optional<Redundancy> PrefixMatch(const std::vector<IndexColumn>& x,
                                      const std::vector<IndexColumn>& y) {
  if (x.empty() || x.size() > y.size()) return std::nullopt;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!CoversColumn(y[i], x[i])) return std::nullopt;
  }
  if (x.size() == y.size() && IdenticalColumns(x, y)) return Redundancy::kExactDuplicate;
  return Redundancy::kLeftPrefix;
}

std::set<std::string> LowerNames(const IndexInfo& index) {
  std::set<std::string> names;
  for (const auto& c : index.columns) names.insert(core::ToLower(c.name));
  return names;
}

bool AllNotNullWhole(const IndexInfo& index) {
  return std::all_of(index.columns.begin(), index.columns.end(),
                     [](const IndexColumn& c) { return !c.nullable && !c.sub_part; });
}

// The columns InnoDB stores in a secondary index: its own, then the clustered key's columns
// it does not already hold whole.
std::vector<IndexColumn> StoredColumns(const IndexInfo& index, const IndexInfo& clustered) {
  std::vector<IndexColumn> columns = index.columns;
  if (&index == &clustered) return columns;
  for (const auto& pk : clustered.columns) {
    const bool held = std::any_of(index.columns.begin(), index.columns.end(), [&](const auto& c) {
      return SameName(c.name, pk.name) && !c.sub_part;
    });
    if (!held) columns.push_back(pk);
  }
  return columns;
}

struct Match {
  Redundancy kind;
  bool via_clustered_key;
};

// Whether `y` (kept) makes `x` redundant; see the header for the rules.
std::optional<Match> Covers(const IndexInfo& y, const IndexInfo& x, const IndexInfo* clustered) {
  if (x.type != y.type || x.functional() || y.functional()) return std::nullopt;
  if (!y.visible && x.visible) return std::nullopt;
  if (x.unique && !y.unique) return std::nullopt;
  switch (x.type) {
    case IndexType::kFulltext:
      if (x.columns.size() == y.columns.size() && LowerNames(x) == LowerNames(y)) {
        return Match{Redundancy::kExactDuplicate, false};
      }
      return std::nullopt;
    case IndexType::kHash:
    case IndexType::kSpatial:
    case IndexType::kOther:
      if (IdenticalColumns(x.columns, y.columns)) return Match{Redundancy::kExactDuplicate, false};
      return std::nullopt;
    case IndexType::kBtree:
      break;
  }
  if (x.unique) {
    // Only the very same constraint makes a unique index redundant.
    if (IdenticalColumns(x.columns, y.columns)) return Match{Redundancy::kExactDuplicate, false};
    return std::nullopt;
  }
  if (auto kind = PrefixMatch(x.columns, y.columns)) return Match{*kind, false};
  // InnoDB's implicit suffix. With a unique y, only when y's columns cannot hold NULLs: then
  // y's own columns already order the rows completely, so the suffix changes no order and
  // nothing depends on the optimizer's "extended keys".
  if (clustered == nullptr || &x == clustered) return std::nullopt;
  if (y.unique && &y != clustered && !AllNotNullWhole(y)) return std::nullopt;
  if (auto kind = PrefixMatch(StoredColumns(x, *clustered), StoredColumns(y, *clustered))) {
    return Match{*kind, true};
  }
  return std::nullopt;
}

// Strongest first: which index of a redundant pair stays.
bool Stronger(const IndexInfo& a, const IndexInfo& b, const IndexInfo* clustered) {
  if (a.primary() != b.primary()) return a.primary();
  const bool a_clustered = &a == clustered;
  const bool b_clustered = &b == clustered;
  if (a_clustered != b_clustered) return a_clustered;
  if (a.unique != b.unique) return a.unique;
  if (a.visible != b.visible) return a.visible;
  if (a.columns.size() != b.columns.size()) return a.columns.size() > b.columns.size();
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const auto& pa = a.columns[i].sub_part;
    const auto& pb = b.columns[i].sub_part;
    if (pa == pb) continue;
    if (!pa) return true;  // the whole column before any prefix
    if (!pb) return false;
    return *pa > *pb;
  }
  const std::string la = core::ToLower(a.name);
  const std::string lb = core::ToLower(b.name);
  if (la != lb) return la < lb;
  return a.name < b.name;
}

}  // namespace

IndexType ParseIndexType(std::string_view index_type) {
  if (core::EqualsIgnoreCase(index_type, "BTREE")) return IndexType::kBtree;
  if (core::EqualsIgnoreCase(index_type, "HASH")) return IndexType::kHash;
  if (core::EqualsIgnoreCase(index_type, "FULLTEXT")) return IndexType::kFulltext;
  if (core::EqualsIgnoreCase(index_type, "SPATIAL") ||
      core::EqualsIgnoreCase(index_type, "RTREE")) {
    return IndexType::kSpatial;
  }
  return IndexType::kOther;
}

bool IndexInfo::functional() const {
  return std::any_of(columns.begin(), columns.end(),
                     [](const IndexColumn& c) { return c.name.empty(); });
}

std::optional<int64_t> IndexInfo::cardinality() const {
  if (columns.empty()) return std::nullopt;
  return columns.back().cardinality;
}

std::string IndexInfo::DescribeColumns() const {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) out += ", ";
    out += c.name.empty() ? "(expression)" : c.name;
    if (c.sub_part) out += fmt::format("({})", *c.sub_part);
    if (c.descending) out += " DESC";
  }
  return out;
}

const IndexInfo* TableIndexes::Find(std::string_view index) const {
  for (const auto& i : indexes) {
    if (SameName(i.name, index)) return &i;
  }
  return nullptr;
}

std::vector<TableIndexes> GroupIndexColumns(const mysql::ResultSet& rows) {
  std::vector<TableIndexes> tables;
  for (const auto& row : rows.rows) {
    const std::string schema = row["table_schema"].StringOr("");
    const std::string table = row["table_name"].StringOr("");
    const std::string index = row["index_name"].StringOr("");
    if (tables.empty() || tables.back().schema != schema || tables.back().table != table) {
      tables.push_back(TableIndexes{schema, table, "", {}});
    }
    auto& indexes = tables.back().indexes;
    if (indexes.empty() || indexes.back().name != index) {
      IndexInfo info;
      info.name = index;
      info.unique = row["non_unique"].AsInt64().value_or(1) == 0;
      info.type = ParseIndexType(row["index_type"].StringOr(""));
      info.visible = !core::EqualsIgnoreCase(row["visible"].StringOr("YES"), "NO");
      indexes.push_back(std::move(info));
    }
    IndexColumn column;
    column.name = row["column_name"].StringOr("");
    column.sub_part = row["sub_part"].AsInt64();
    column.descending = core::EqualsIgnoreCase(row["collation"].StringOr(""), "D");
    column.nullable = core::EqualsIgnoreCase(row["nullable"].StringOr(""), "YES");
    column.cardinality = row["cardinality"].AsInt64();
    indexes.back().columns.push_back(std::move(column));
  }
  return tables;
}

const IndexInfo* ClusteredIndex(const TableIndexes& table) {
  if (!core::EqualsIgnoreCase(table.engine, "InnoDB")) return nullptr;
  if (const IndexInfo* primary = table.Find("PRIMARY")) {
    return primary->functional() ? nullptr : primary;
  }
  const IndexInfo* candidate = nullptr;
  for (const auto& index : table.indexes) {
    if (!index.unique || index.type != IndexType::kBtree || index.functional() ||
        !AllNotNullWhole(index)) {
      continue;
    }
    if (candidate != nullptr) return nullptr;  // which one InnoDB took is not known here
    candidate = &index;
  }
  return candidate;
}

std::string_view RedundancyName(Redundancy redundancy) {
  return redundancy == Redundancy::kExactDuplicate ? "exact duplicate" : "left prefix";
}

std::vector<RedundantIndex> FindRedundantIndexes(const TableIndexes& table) {
  const IndexInfo* clustered = ClusteredIndex(table);
  // A clustered key with a column prefix is not appended as such; do not reason about it.
  const IndexInfo* suffix = clustered;
  if (suffix != nullptr &&
      std::any_of(suffix->columns.begin(), suffix->columns.end(),
                  [](const IndexColumn& c) { return c.sub_part.has_value(); })) {
    suffix = nullptr;
  }

  std::vector<const IndexInfo*> order;
  for (const auto& index : table.indexes) order.push_back(&index);
  std::sort(order.begin(), order.end(),
            [&](const IndexInfo* a, const IndexInfo* b) { return Stronger(*a, *b, clustered); });

  std::vector<const IndexInfo*> kept;
  std::vector<RedundantIndex> redundant;
  for (const IndexInfo* x : order) {
    if (x->primary() || x == clustered || x->functional()) {
      kept.push_back(x);
      continue;
    }
    const IndexInfo* best = nullptr;
    Match best_match{Redundancy::kLeftPrefix, true};
    for (const IndexInfo* y : kept) {
      auto match = Covers(*y, *x, suffix);
      if (!match) continue;
      const auto rank = [](const Match& m, const IndexInfo& i) {
        return std::make_tuple(m.kind == Redundancy::kExactDuplicate ? 0 : 1,
                               m.via_clustered_key ? 1 : 0, i.columns.size());
      };
      if (best == nullptr || rank(*match, *y) < rank(best_match, *best)) {
        best = y;
        best_match = *match;
      }
    }
    if (best == nullptr) {
      kept.push_back(x);
      continue;
    }
    redundant.push_back(RedundantIndex{*x, *best, best_match.kind, best_match.via_clustered_key});
  }
  return redundant;
}

std::vector<IndexInfo> LowCardinalityIndexes(const TableIndexes& table, int64_t table_rows,
                                             int64_t min_rows, int64_t max_distinct) {
  std::vector<IndexInfo> found;
  if (table_rows < min_rows) return found;
  for (const auto& index : table.indexes) {
    if (index.unique || index.primary() || index.type != IndexType::kBtree || !index.visible ||
        index.functional()) {
      continue;
    }
    const auto distinct = index.cardinality();
    if (!distinct || *distinct < 1 || *distinct > max_distinct) continue;
    found.push_back(index);
  }
  return found;
}

std::optional<std::string> UnusedIndexExclusion(
    const TableIndexes& table, const IndexInfo& index,
    const std::vector<std::vector<std::string>>& foreign_keys) {
  if (index.primary()) return "primary key";
  const IndexInfo* clustered = ClusteredIndex(table);
  if (clustered != nullptr && SameName(clustered->name, index.name)) return "clustered key";
  if (index.unique) return "unique";
  if (index.type == IndexType::kFulltext) return "fulltext";
  if (index.functional()) return "functional";
  for (const auto& fk : foreign_keys) {
    if (fk.empty() || fk.size() > index.columns.size()) continue;
    bool leads = true;
    for (size_t i = 0; i < fk.size() && leads; ++i) {
      leads = SameName(index.columns[i].name, fk[i]) && !index.columns[i].sub_part;
    }
    if (leads) return "foreign key";
  }
  return std::nullopt;
}

std::optional<std::string> DecodeFilename(std::string_view encoded) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    if (c != '@') {
      out += c;
      continue;
    }
    // ASCII characters are "@00" and two hex digits; anything else uses the server's
    // two-character tables for letters of other scripts.
    if (i + 4 >= encoded.size()) return std::nullopt;
    if (encoded[i + 1] != '0' || encoded[i + 2] != '0') return std::nullopt;
    const int hi = hex(encoded[i + 3]);
    const int lo = hex(encoded[i + 4]);
    if (hi < 0 || lo < 0 || hi > 7) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 4;
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> DecodeInnodbName(std::string_view name) {
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= name.size()) {
    return std::nullopt;
  }
  std::string_view table = name.substr(slash + 1);
  table = table.substr(0, table.find('#'));
  auto schema = DecodeFilename(name.substr(0, slash));
  auto decoded_table = DecodeFilename(table);
  if (!schema || !decoded_table || decoded_table->empty()) return std::nullopt;
  return std::make_pair(std::move(*schema), std::move(*decoded_table));
}

}  // namespace dbrunbook::steps
