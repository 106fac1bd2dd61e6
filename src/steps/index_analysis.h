// Pure logic of the "resources" investigation step: which indexes are redundant (exact
// duplicates, left prefixes), which have very low selectivity, which an unused-index
// report must leave alone, and InnoDB's file-name encoding of table names.
//
// Redundancy rules (an index X is reported as redundant with an index Y of the same table
// that stays):
//   * same structure: BTREE with BTREE; HASH, FULLTEXT and SPATIAL only as exact duplicates
//     (a HASH index serves only lookups on all its columns, so a longer one never serves a
//     shorter one's; FULLTEXT compares column sets, as MATCH() does); an index with a
//     functional key part (MySQL 8) is never compared;
//   * BTREE: X's columns are a left prefix of Y's (same count: an exact duplicate), column by
//     column the same name, the same direction (ASC/DESC), and a prefix length Y covers (Y
//     indexes the whole column, or at least as many leading characters as X);
//   * uniqueness: a UNIQUE X is redundant only with a UNIQUE or PRIMARY Y with exactly the
//     same columns (dropping it otherwise loses a constraint); a non-unique X may be covered
//     by any Y; PRIMARY and InnoDB's implicit clustered key (the only UNIQUE index of all
//     NOT NULL whole columns of a table without PRIMARY KEY) are never dropped;
//   * InnoDB appends the clustered key's columns to every secondary index (the same B-tree
//     with or without them spelled out), so for an InnoDB table a non-unique X is also
//     compared with those columns appended to both X and Y: KEY (b, id) is the same B-tree
//     as UNIQUE KEY (b) when id is the primary key (`via_clustered_key`);
//   * Y must be visible to the optimizer (not INVISIBLE / IGNORED) unless X is hidden too;
//   * of several exact duplicates the one kept is PRIMARY, else a UNIQUE one, else the one
//     whose name sorts first (case-insensitively).
// Indexes are processed strongest first (PRIMARY, clustered, UNIQUE, then more columns,
// longer prefixes, name), each dropped only if an index already kept covers it, so dropping
// every reported index at once leaves every covering index in place.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mysql/result.h"

namespace dbrunbook::steps {

enum class IndexType { kBtree, kHash, kFulltext, kSpatial, kOther };
// STATISTICS.INDEX_TYPE: BTREE, HASH, FULLTEXT, SPATIAL / RTREE; anything else is kOther.
IndexType ParseIndexType(std::string_view index_type);

struct IndexColumn {
  std::string name;                    // empty for a functional key part
  std::optional<int64_t> sub_part;     // indexed prefix length; nullopt: the whole column
  bool descending = false;             // COLLATION 'D'
  bool nullable = false;               // NULLABLE 'YES'
  std::optional<int64_t> cardinality;  // distinct values of the key prefix up to here
};

struct IndexInfo {
  std::string name;
  bool unique = false;  // PRIMARY is unique too
  IndexType type = IndexType::kBtree;
  bool visible = true;  // not INVISIBLE (MySQL 8) / IGNORED (MariaDB 10.6+)
  std::vector<IndexColumn> columns;

  bool primary() const { return name == "PRIMARY"; }
  bool functional() const;  // has a key part without a column name
  // Estimated distinct values of the whole key (the last column's CARDINALITY).
  std::optional<int64_t> cardinality() const;
  // "a, b(10), c DESC"
  std::string DescribeColumns() const;
};

struct TableIndexes {
  std::string schema;
  std::string table;
  std::string engine;  // "" when unknown (no InnoDB-specific rule is applied then)
  std::vector<IndexInfo> indexes;

  const IndexInfo* Find(std::string_view index) const;
};

// Groups rows with the aliases of dialect::IndexColumns (one row per index column, ordered by
// schema, table, index, position) into tables. Engines are left empty.
std::vector<TableIndexes> GroupIndexColumns(const mysql::ResultSet& rows);

// The index InnoDB clusters the table by: PRIMARY; without one, the table's only UNIQUE
// BTREE index whose columns are all NOT NULL and whole (InnoDB takes the first such index;
// when there are several, the order they were created in is not known here and nullptr is
// returned). nullptr for other engines or a table clustered by a hidden row id.
const IndexInfo* ClusteredIndex(const TableIndexes& table);

enum class Redundancy { kExactDuplicate, kLeftPrefix };
std::string_view RedundancyName(Redundancy redundancy);  // "exact duplicate", "left prefix"

struct RedundantIndex {
  IndexInfo index;       // the index to drop
  IndexInfo covered_by;  // an index that stays and serves every lookup `index` serves
  Redundancy kind = Redundancy::kLeftPrefix;
  bool via_clustered_key = false;  // found only with InnoDB's implicit clustered-key suffix
};

// The redundant indexes of one table, in the order they were found (strongest first).
std::vector<RedundantIndex> FindRedundantIndexes(const TableIndexes& table);

// Secondary indexes with very low selectivity: non-unique BTREE indexes (not PRIMARY, not
// hidden) of a table with at least `min_rows` rows whose whole key has a known cardinality
// of 1 to `max_distinct` values (each value then matches 1/max_distinct of the table or
// more on average). Returns the indexes.
std::vector<IndexInfo> LowCardinalityIndexes(const TableIndexes& table, int64_t table_rows,
                                             int64_t min_rows, int64_t max_distinct);

// Why an index is left out of the unused-index report, or nullopt when it may be reported:
// "primary key", "unique" (dropping it loses a constraint), "clustered key", "fulltext"
// (MATCH() reads are not counted by performance_schema nor userstat), "functional",
// "foreign key" (its leading columns are those of a foreign key of the table, which needs
// an index and whose checks are not counted either).
// `foreign_keys` holds the child-side column lists of the table's foreign keys.
std::optional<std::string> UnusedIndexExclusion(
    const TableIndexes& table, const IndexInfo& index,
    const std::vector<std::vector<std::string>>& foreign_keys);

// InnoDB dictionary names are "schema/table" in the server's file-name encoding: letters,
// digits and '_' as they are, other ASCII characters as @ and four hex digits (`we-ird$t`
// is `we@002dird@0024t`). Returns the decoded schema and table (a partition suffix #P#...
// is cut off), or nullopt when the name holds a non-ASCII character (encoded with tables
// this does not carry) or is not "schema/table".
std::optional<std::pair<std::string, std::string>> DecodeInnodbName(std::string_view name);
// One decoded part (schema or table name) alone; nullopt as above.
std::optional<std::string> DecodeFilename(std::string_view encoded);

}  // namespace dbrunbook::steps
