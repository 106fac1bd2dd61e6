// The redundancy, selectivity and exclusion rules of src/steps/index_analysis.h, one rule per
// test, including the cases where dbrunbook deliberately differs from pt-duplicate-key-checker
// (prefix lengths, unique keys that are prefixes of the primary key, HASH indexes, the
// clustered-key suffix). The same cases run against the real tool in
// resources_integration_test.cc.
#include "steps/index_analysis.h"

#include <gtest/gtest.h>

#include <initializer_list>

#include "dialect/resources.h"

namespace dbrunbook::steps {
namespace {

struct Col {
  std::string name;
  std::optional<int64_t> sub_part = std::nullopt;
  bool desc = false;
  bool nullable = true;
  std::optional<int64_t> cardinality = std::nullopt;
};

IndexInfo Index(std::string name, std::initializer_list<Col> columns, bool unique = false,
                IndexType type = IndexType::kBtree) {
  IndexInfo index;
  index.name = std::move(name);
  index.unique = unique || index.name == "PRIMARY";
  index.type = type;
  for (const auto& c : columns) {
    index.columns.push_back(IndexColumn{
        c.name, c.sub_part, c.desc, index.name == "PRIMARY" ? false : c.nullable, c.cardinality});
  }
  return index;
}

IndexInfo Primary(std::initializer_list<Col> columns) { return Index("PRIMARY", columns, true); }

TableIndexes Table(std::vector<IndexInfo> indexes, std::string engine = "InnoDB") {
  return TableIndexes{"db", "t", std::move(engine), std::move(indexes)};
}

// "dropped<-covered_by" for every redundant index, in the order found.
std::vector<std::string> Redundant(const TableIndexes& table) {
  std::vector<std::string> out;
  for (const auto& r : FindRedundantIndexes(table)) {
    out.push_back(r.index.name + "<-" + r.covered_by.name);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(IndexAnalysisTest, ExactDuplicateKeepsTheNameThatSortsFirst) {
  const auto t = Table({Primary({{"id"}}), Index("x2", {{"a"}}), Index("X1", {{"a"}})});
  const auto found = FindRedundantIndexes(t);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].index.name, "x2");
  EXPECT_EQ(found[0].covered_by.name, "X1");
  EXPECT_EQ(found[0].kind, Redundancy::kExactDuplicate);
  EXPECT_FALSE(found[0].via_clustered_key);
}

TEST(IndexAnalysisTest, LeftPrefixesAreCoveredByTheLongestIndexThatStays) {
  // (a) and (a, b) are both left prefixes of (a, b, c): both go, each covered by what stays.
  const auto t = Table({Primary({{"id"}}), Index("ia", {{"a"}}), Index("iab", {{"a"}, {"b"}}),
                        Index("iabc", {{"a"}, {"b"}, {"c"}})});
  EXPECT_EQ(Redundant(t), (Names{"iab<-iabc", "ia<-iabc"}));
  EXPECT_EQ(FindRedundantIndexes(t)[0].kind, Redundancy::kLeftPrefix);
}

TEST(IndexAnalysisTest, ColumnOrderAndNamesMatter) {
  const auto t = Table({Primary({{"id"}}), Index("ab", {{"a"}, {"b"}}), Index("ba", {{"b"}, {"a"}}),
                        Index("b", {{"B"}})});
  // Column names compare case-insensitively; (b) is a prefix of (b, a), not of (a, b).
  EXPECT_EQ(Redundant(t), (Names{"b<-ba"}));
}

TEST(IndexAnalysisTest, UniqueIndexIsNotRedundantWithALongerIndex) {
  // UNIQUE (a) enforces a constraint (a, b) does not; pt-duplicate-key-checker agrees for one
  // column, and the non-unique (a, b) is not a prefix of (a).
  const auto t =
      Table({Primary({{"id"}}), Index("ua", {{"a"}}, true), Index("iab", {{"a"}, {"b"}})});
  EXPECT_TRUE(Redundant(t).empty());
}

TEST(IndexAnalysisTest, UniqueLeftPrefixOfThePrimaryKeyIsKept) {
  // pt-duplicate-key-checker reports uab as "a left-prefix of PRIMARY" and would drop a
  // constraint: (a, b) unique is stronger than (a, b, c) unique.
  const auto t = Table({Primary({{"a"}, {"b"}, {"c"}}), Index("uab", {{"a"}, {"b"}}, true)});
  EXPECT_TRUE(Redundant(t).empty());
}

TEST(IndexAnalysisTest, UniqueExactDuplicatesOfPrimaryAndOfEachOther) {
  const auto t = Table({Primary({{"id"}}), Index("uid", {{"id", std::nullopt, false, false}}, true),
                        Index("ub2", {{"b"}}, true), Index("ub1", {{"b"}}, true)});
  EXPECT_EQ(Redundant(t), (Names{"ub2<-ub1", "uid<-PRIMARY"}));
}

TEST(IndexAnalysisTest, NonUniqueIndexCoveredByUniqueOrPrimary) {
  const auto t = Table({Primary({{"id"}, {"v"}}), Index("i_id", {{"id"}}),
                        Index("uab", {{"a"}, {"b"}}, true), Index("ia", {{"a"}})});
  EXPECT_EQ(Redundant(t), (Names{"i_id<-PRIMARY", "ia<-uab"}));
}

TEST(IndexAnalysisTest, PrefixLengths) {
  // The whole column covers any prefix of it, a longer prefix a shorter one; never the other
  // way round. pt-duplicate-key-checker compares the text "`c`" with "`c`(20)" and reports the
  // whole-column index as the redundant one.
  const auto t = Table({Primary({{"id"}}), Index("c_full", {{"c"}}), Index("c10", {{"c", 10}}),
                        Index("c20", {{"c", 20}})});
  EXPECT_EQ(Redundant(t), (Names{"c20<-c_full", "c10<-c_full"}));
  const auto prefixes = Table({Primary({{"id"}}), Index("c10", {{"c", 10}}),
                               Index("c20", {{"c", 20}}), Index("c10d", {{"c", 10}, {"d"}})});
  // (c(10)) is covered by both (c(20)) and (c(10), d); it is reported against the one with
  // fewer columns. (c(20)) is not covered by (c(10), d).
  EXPECT_EQ(Redundant(prefixes), (Names{"c10<-c20"}));
  const auto middle =
      Table({Primary({{"id"}}), Index("a10b", {{"a", 10}, {"b"}}), Index("ab", {{"a"}, {"b"}})});
  EXPECT_EQ(Redundant(middle), (Names{"a10b<-ab"}));
}

TEST(IndexAnalysisTest, DirectionsMustMatch) {
  const auto t = Table({Primary({{"id"}}), Index("asc", {{"a"}, {"b"}}),
                        Index("desc", {{"a", std::nullopt, true}, {"b"}}),
                        Index("a_desc", {{"a", std::nullopt, true}})});
  EXPECT_EQ(Redundant(t), (Names{"a_desc<-desc"}));
}

TEST(IndexAnalysisTest, HashIndexesOnlyAsExactDuplicates) {
  // A hash of (a, b) cannot find rows by a alone: pt-duplicate-key-checker's "ha is a
  // left-prefix of hab" on a MEMORY table is not a redundancy.
  const auto t = Table({Index("PRIMARY", {{"id"}}, true, IndexType::kHash),
                        Index("ha", {{"a"}}, false, IndexType::kHash),
                        Index("hab", {{"a"}, {"b"}}, false, IndexType::kHash),
                        Index("hab2", {{"a"}, {"b"}}, false, IndexType::kHash)},
                       "MEMORY");
  EXPECT_EQ(Redundant(t), (Names{"hab2<-hab"}));
}

TEST(IndexAnalysisTest, FulltextComparesColumnSetsExactly) {
  const auto t =
      Table({Primary({{"id"}}), Index("f1", {{"t"}, {"u"}}, false, IndexType::kFulltext),
             Index("f2", {{"u"}, {"t"}}, false, IndexType::kFulltext),
             Index("f3", {{"t"}}, false, IndexType::kFulltext), Index("bt", {{"t", 10}})});
  EXPECT_EQ(Redundant(t), (Names{"f2<-f1"}));
}

TEST(IndexAnalysisTest, SpatialOnlyExactDuplicates) {
  const auto t = Table({Primary({{"id"}}), Index("s2", {{"g", 32}}, false, IndexType::kSpatial),
                        Index("s1", {{"g", 32}}, false, IndexType::kSpatial)});
  EXPECT_EQ(Redundant(t), (Names{"s2<-s1"}));
}

TEST(IndexAnalysisTest, DifferentStructuresAreNeverCompared) {
  const auto t = Table(
      {Primary({{"id"}}), Index("bt", {{"a"}}), Index("h", {{"a"}}, false, IndexType::kHash)});
  EXPECT_TRUE(Redundant(t).empty());
}

TEST(IndexAnalysisTest, ClusteredKeySuffixMakesAnIndexRedundantWithAUniqueOne) {
  // InnoDB stores (b, id) for UNIQUE (b) when id is the primary key: KEY (b, id) is the same
  // B-tree. The unique index's column must be NOT NULL (with NULLs, several rows share b).
  const auto not_null =
      Table({Primary({{"id"}}), Index("ub", {{"b", std::nullopt, false, false}}, true),
             Index("b_id", {{"b"}, {"id", std::nullopt, false, false}})});
  const auto found = FindRedundantIndexes(not_null);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].index.name, "b_id");
  EXPECT_EQ(found[0].covered_by.name, "ub");
  EXPECT_TRUE(found[0].via_clustered_key);
  EXPECT_EQ(found[0].kind, Redundancy::kExactDuplicate);

  const auto nullable = Table({Primary({{"id"}}), Index("ub", {{"b"}}, true),
                               Index("b_id", {{"b"}, {"id", std::nullopt, false, false}})});
  EXPECT_TRUE(Redundant(nullable).empty());
  // Only InnoDB appends the primary key.
  auto myisam = not_null;
  myisam.engine = "MyISAM";
  EXPECT_TRUE(Redundant(myisam).empty());
}

TEST(IndexAnalysisTest, ClusteredSuffixAloneIsNotReported) {
  // pt-duplicate-key-checker suggests shortening KEY (b, id) to (b): the B-tree is the same
  // either way, nothing is saved; and (b) next to (b, id) is an ordinary left prefix.
  EXPECT_TRUE(Redundant(Table({Primary({{"id"}}), Index("b_id", {{"b"}, {"id"}})})).empty());
  EXPECT_EQ(
      Redundant(Table({Primary({{"id"}}), Index("b_id", {{"b"}, {"id"}}), Index("b", {{"b"}})})),
      (Names{"b<-b_id"}));
}

TEST(IndexAnalysisTest, ImplicitClusteredKeyFromTheOnlyUniqueNotNullIndex) {
  auto t =
      Table({Index("ua", {{"a", std::nullopt, false, false}}, true), Index("b_a", {{"b"}, {"a"}})});
  const IndexInfo* clustered = ClusteredIndex(t);
  ASSERT_NE(clustered, nullptr);
  EXPECT_EQ(clustered->name, "ua");
  EXPECT_TRUE(Redundant(t).empty());
  // Two candidates: which one InnoDB took is unknown.
  t.indexes.push_back(Index("uc", {{"c", std::nullopt, false, false}}, true));
  EXPECT_EQ(ClusteredIndex(t), nullptr);
  // A nullable unique index is never the clustered key.
  EXPECT_EQ(ClusteredIndex(Table({Index("ua", {{"a"}}, true)})), nullptr);
}

TEST(IndexAnalysisTest, HiddenIndexDoesNotCoverAVisibleOne) {
  auto hidden = Index("iab", {{"a"}, {"b"}});
  hidden.visible = false;
  const auto t = Table({Primary({{"id"}}), hidden, Index("ia", {{"a"}})});
  EXPECT_TRUE(Redundant(t).empty());
  // A hidden one covered by a visible one is still redundant.
  auto hidden_short = Index("ia", {{"a"}});
  hidden_short.visible = false;
  EXPECT_EQ(Redundant(Table({Primary({{"id"}}), Index("iab", {{"a"}, {"b"}}), hidden_short})),
            (Names{"ia<-iab"}));
}

TEST(IndexAnalysisTest, FunctionalIndexesAreNeverCompared) {
  const auto t = Table({Primary({{"id"}}), Index("fx", {{""}}), Index("fx2", {{""}})});
  EXPECT_TRUE(Redundant(t).empty());
}

TEST(IndexAnalysisTest, DescribeColumns) {
  const auto index = Index("i", {{"a"}, {"b", 10}, {"c", std::nullopt, true}, {""}});
  EXPECT_EQ(index.DescribeColumns(), "a, b(10), c DESC, (expression)");
}

TEST(IndexAnalysisTest, LowCardinality) {
  auto status = Index("status", {{"status", std::nullopt, false, true, 3}});
  auto composite = Index("status_created", {{"status", std::nullopt, false, true, 3},
                                            {"created", std::nullopt, false, true, 90000}});
  auto unknown = Index("n", {{"n", std::nullopt, false, true, std::nullopt}});
  auto zero = Index("z", {{"z", std::nullopt, false, true, 0}});
  auto unique = Index("u", {{"u", std::nullopt, false, true, 2}}, true);
  const auto t = Table({Primary({{"id", std::nullopt, false, false, 100000}}), status, composite,
                        unknown, zero, unique});
  const auto found = LowCardinalityIndexes(t, 100000, 100000, 20);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].name, "status");
  EXPECT_TRUE(LowCardinalityIndexes(t, 99999, 100000, 20).empty());  // table too small
  EXPECT_TRUE(LowCardinalityIndexes(t, 100000, 100000, 2).empty());  // 3 values > 2
}

TEST(IndexAnalysisTest, UnusedIndexExclusions) {
  const auto t = Table({Primary({{"id"}}), Index("u", {{"u"}}, true),
                        Index("ft", {{"t"}}, false, IndexType::kFulltext), Index("fx", {{""}}),
                        Index("fk_ab", {{"a"}, {"b"}, {"c"}}), Index("fk_a10", {{"a", 10}, {"b"}}),
                        Index("plain", {{"b"}, {"a"}})});
  const std::vector<std::vector<std::string>> fks = {{"A", "b"}};
  const auto why = [&](std::string_view name) {
    return UnusedIndexExclusion(t, *t.Find(name), fks);
  };
  EXPECT_EQ(why("PRIMARY"), "primary key");
  EXPECT_EQ(why("u"), "unique");
  EXPECT_EQ(why("ft"), "fulltext");
  EXPECT_EQ(why("fx"), "functional");
  EXPECT_EQ(why("fk_ab"), "foreign key");
  EXPECT_EQ(why("fk_a10"), std::nullopt);  // a column prefix cannot serve a foreign key
  EXPECT_EQ(why("plain"), std::nullopt);
  const auto nopk = Table({Index("ua", {{"a", std::nullopt, false, false}}, true)});
  EXPECT_EQ(UnusedIndexExclusion(nopk, nopk.indexes[0], {}), "clustered key");
}

TEST(IndexAnalysisTest, DecodesInnodbFileNames) {
  EXPECT_EQ(DecodeFilename("we@002dird@0024t"), "we-ird$t");
  EXPECT_EQ(DecodeFilename("plain_name1"), "plain_name1");
  EXPECT_EQ(DecodeFilename("a@0040b@0060c"), "a@b`c");
  EXPECT_EQ(DecodeFilename("caf@0G"), std::nullopt);  // é: the server's two-character table
  EXPECT_EQ(DecodeFilename("x@00"), std::nullopt);    // truncated
  EXPECT_EQ(DecodeFilename("x@00zz"), std::nullopt);
  EXPECT_EQ(DecodeInnodbName("rx/we@002dird@0024t"),
            std::make_pair(std::string("rx"), std::string("we-ird$t")));
  EXPECT_EQ(DecodeInnodbName("rx/p#P#p0"), std::make_pair(std::string("rx"), std::string("p")));
  EXPECT_EQ(DecodeInnodbName("db/t#p#p1#sp#s0"),
            std::make_pair(std::string("db"), std::string("t")));
  EXPECT_EQ(DecodeInnodbName("innodb_system"), std::nullopt);
  EXPECT_EQ(DecodeInnodbName("/t"), std::nullopt);
  EXPECT_EQ(DecodeInnodbName("db/"), std::nullopt);
}

TEST(IndexAnalysisTest, GroupsStatisticsRows) {
  const auto rows = mysql::MakeResultSet(
      {"table_schema", "table_name", "index_name", "non_unique", "seq_in_index", "column_name",
       "sub_part", "collation", "cardinality", "nullable", "index_type", "visible"},
      {{"db", "t", "PRIMARY", "0", "1", "id", std::nullopt, "A", "100", "", "BTREE", "YES"},
       {"db", "t", "ib", "1", "1", "b", "10", "D", "7", "YES", "BTREE", "NO"},
       {"db", "t", "ib", "1", "2", "c", std::nullopt, "A", "50", "YES", "BTREE", "NO"},
       {"db", "u", "f", "1", "1", "t", std::nullopt, std::nullopt, std::nullopt, "YES", "FULLTEXT",
        "YES"}});
  const auto tables = GroupIndexColumns(rows);
  ASSERT_EQ(tables.size(), 2u);
  ASSERT_EQ(tables[0].indexes.size(), 2u);
  const IndexInfo& ib = tables[0].indexes[1];
  EXPECT_FALSE(ib.unique);
  EXPECT_FALSE(ib.visible);
  ASSERT_EQ(ib.columns.size(), 2u);
  EXPECT_EQ(ib.columns[0].sub_part, 10);
  EXPECT_TRUE(ib.columns[0].descending);
  EXPECT_TRUE(ib.columns[0].nullable);
  EXPECT_EQ(ib.cardinality(), 50);
  EXPECT_TRUE(tables[0].indexes[0].primary());
  EXPECT_TRUE(tables[0].indexes[0].unique);
  EXPECT_FALSE(tables[0].indexes[0].columns[0].nullable);
  EXPECT_EQ(tables[1].indexes[0].type, IndexType::kFulltext);
  EXPECT_EQ(tables[1].indexes[0].cardinality(), std::nullopt);
}

TEST(IndexAnalysisTest, IdentifiersAreQuotedWithBackticksDoubled) {
  EXPECT_EQ(dialect::QuoteIdentifier("i`x"), "`i``x`");
  EXPECT_EQ(dialect::QualifiedTable("we-ird$t", "a`b"), "`we-ird$t`.`a``b`");
  const dialect::Dialect d(dialect::Flavor{});
  EXPECT_EQ(dialect::DropIndex(d, "rx", "we-ird$t", "i`x"),
            "ALTER TABLE `rx`.`we-ird$t` DROP INDEX `i``x`");
}

}  // namespace
}  // namespace dbrunbook::steps
