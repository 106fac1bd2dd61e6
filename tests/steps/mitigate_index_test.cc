// mitigate index, pure parts: the WHERE-clause analysis of many statements (joins with aliases,
// IN lists, ranges, LIKE, ORDER BY, what is left out), the plans of EXPLAIN FORMAT=JSON
// (captured on the MariaDB 10.11 sandbox: tests/steps/data/explain--README.txt), the candidate
// derivation (equality, range, ORDER BY; an existing index covers; TEXT columns; key length;
// joins), index names, the guardrails and the ALTER / progress statements per flavor.
#include "steps/mitigate_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dialect/index.h"
#include "digest/fingerprint.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

StatementShape Shape(const std::string& sql, const std::string& db = "shop") {
  auto shape = AnalyzeStatement(sql, db);
  EXPECT_TRUE(shape) << sql << ": " << shape.error().ToString();
  return shape ? *shape : StatementShape{};
}

// "qualifier.column kind" for each predicate.
std::vector<std::string> Preds(const StatementShape& s) {
  std::vector<std::string> out;
  for (const auto& p : s.predicates) {
    std::string text =
        p.column.qualifier.empty() ? p.column.column : p.column.qualifier + "." + p.column.column;
    text += " " + std::string(PredicateKindName(p.kind));
    out.push_back(text);
  }
  return out;
}

std::vector<std::string> Tables(const StatementShape& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tables) out.push_back(t.schema + "." + t.table + " as " + t.alias);
  return out;
}

// digest::Tokenize: the abstract fingerprint's lexer, public for this analysis.
TEST(TokenizeTest, CommentsQuotesVersionCommentsAndOperators) {
  const auto tokens = digest::Tokenize(
      "SELECT /* c */ `a``b`.x, 'it''s' -- line\n FROM t /*!50100 WHERE */ y <=> -1.5e3 # end");
  std::vector<std::string> texts;
  for (const auto& t : tokens) texts.emplace_back(t.text);
  EXPECT_THAT(texts, ElementsAre("SELECT", "`a``b`", ".", "x", ",", "'it''s'", "FROM", "t", "WHERE",
                                 "y", "<=>", "-", "1.5e3"));
  EXPECT_EQ(tokens[1].kind, digest::SqlTokenKind::kQuoted);
  EXPECT_EQ(tokens[5].kind, digest::SqlTokenKind::kLiteral);
  EXPECT_TRUE(tokens[5].string);
  EXPECT_EQ(tokens[10].kind, digest::SqlTokenKind::kOperator);
  EXPECT_EQ(tokens[12].kind, digest::SqlTokenKind::kLiteral);
  EXPECT_FALSE(tokens[12].string);
}

TEST(AnalyzeStatementTest, EqualityRangeAndOrderBy) {
  const auto s = Shape(
      "SELECT id FROM orders WHERE customer_id = 42 AND created_at >= '2026-01-01' "
      "ORDER BY created_at DESC LIMIT 10");
  EXPECT_THAT(Tables(s), ElementsAre("shop.orders as orders"));
  EXPECT_THAT(Preds(s), ElementsAre("customer_id equality", "created_at range"));
  ASSERT_EQ(s.order_by.size(), 1u);
  EXPECT_EQ(s.order_by[0].column.column, "created_at");
  EXPECT_TRUE(s.order_by[0].descending);
  EXPECT_EQ(s.kind, StatementKind::kSelect);
}

TEST(AnalyzeStatementTest, JoinsWithAliasesQuotedNamesAndOnConditions) {
  const auto s = Shape(
      "select `o`.id from `shop`.`orders` as `o` inner join customers c on c.id = o.customer_id "
      "left join sales.regions r USING (region_id) where c.region = 'eu' and o.status in ('a', "
      "'b') and r.active <=> 1");
  EXPECT_THAT(Tables(s),
              ElementsAre("shop.orders as o", "shop.customers as c", "sales.regions as r"));
  EXPECT_THAT(Preds(s), ElementsAre("c.id join", "o.customer_id join", "r.region_id join",
                                    "c.region equality", "o.status in", "r.active equality"));
}

TEST(AnalyzeStatementTest, CommaJoinAndIndexHintsAndPartitions) {
  const auto s = Shape(
      "SELECT * FROM orders o FORCE INDEX (PRIMARY), customers AS c PARTITION (p0) "
      "WHERE o.customer_id = c.id AND c.name LIKE 'Smi%'");
  EXPECT_THAT(Tables(s), ElementsAre("shop.orders as o", "shop.customers as c"));
  EXPECT_THAT(Preds(s), ElementsAre("o.customer_id join", "c.id join", "c.name like prefix"));
}

TEST(AnalyzeStatementTest, BetweenReversedComparisonsAndIsNull) {
  const auto s = Shape(
      "SELECT 1 FROM t WHERE a BETWEEN 1 AND 10 AND 5 < b AND c IS NULL AND "
      "d > NOW() - INTERVAL 1 DAY AND (e = @v)");
  EXPECT_THAT(Preds(s), ElementsAre("a range", "b range", "c equality", "d range", "e equality"));
}

TEST(AnalyzeStatementTest, WhatCannotUseAnIndexIsLeftOutAndSaid) {
  const auto s = Shape(
      "SELECT 1 FROM t WHERE (a = 1 OR b = 2) AND UPPER(c) = 'X' AND d LIKE '%x' AND e <> 3 "
      "AND f NOT IN (1, 2) AND g IN (SELECT g FROM u) AND h = k + 1 AND i = 7");
  EXPECT_THAT(Preds(s), ElementsAre("i equality"));
  const std::string notes = ::testing::PrintToString(s.notes);
  EXPECT_THAT(notes, HasSubstr("OR"));
  EXPECT_THAT(notes, HasSubstr("function"));
  EXPECT_THAT(notes, HasSubstr("leading wildcard"));
  EXPECT_THAT(notes, HasSubstr("<>"));
  EXPECT_THAT(notes, HasSubstr("NOT IN"));
  EXPECT_THAT(notes, HasSubstr("subquery"));
}

TEST(AnalyzeStatementTest, DeepNestingIsCutNotRecursedInto) {
  std::string deep = "SELECT 1 FROM t WHERE ";
  for (int i = 0; i < 20000; ++i) deep += "(a = 1 AND ";
  deep += "b = 2";
  for (int i = 0; i < 20000; ++i) deep += ")";
  const auto s = Shape(deep);
  EXPECT_FALSE(s.predicates.empty());  // the outer levels are read
  EXPECT_THAT(::testing::PrintToString(s.notes), HasSubstr("nested too deeply"));
  deep = "SELECT 1 FROM t WHERE " + std::string(30000, '(') + "a = 1" + std::string(30000, ')');
  EXPECT_THAT(::testing::PrintToString(Shape(deep).notes), HasSubstr("nested too deeply"));
}

TEST(AnalyzeStatementTest, OrderByExpressionAndGroupByAreNotUsed) {
  auto s = Shape("SELECT a FROM t WHERE b = 1 ORDER BY a + 1");
  EXPECT_TRUE(s.order_by.empty());
  s = Shape("SELECT a, COUNT(*) FROM t WHERE b = 1 GROUP BY a ORDER BY a");
  EXPECT_TRUE(s.order_by.empty());
  EXPECT_TRUE(s.group_by);
}

TEST(AnalyzeStatementTest, UpdateDeleteAndInsertSelect) {
  auto s = Shape("UPDATE LOW_PRIORITY orders SET status = 'x' WHERE customer_id IN (1,2,3)");
  EXPECT_EQ(s.kind, StatementKind::kUpdate);
  EXPECT_THAT(Tables(s), ElementsAre("shop.orders as orders"));
  EXPECT_THAT(Preds(s), ElementsAre("customer_id in"));

  s = Shape("DELETE FROM orders WHERE created_at < '2020-01-01' ORDER BY created_at LIMIT 1000");
  EXPECT_EQ(s.kind, StatementKind::kDelete);
  EXPECT_THAT(Preds(s), ElementsAre("created_at range"));
  ASSERT_EQ(s.order_by.size(), 1u);

  s = Shape("DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.region = 'x'");
  EXPECT_THAT(Tables(s), ElementsAre("shop.orders as o", "shop.customers as c"));
  EXPECT_THAT(Preds(s), ElementsAre("c.id join", "o.customer_id join", "c.region equality"));

  s = Shape("INSERT INTO archive (id) SELECT id FROM orders o WHERE o.status = 'void';");
  EXPECT_EQ(s.kind, StatementKind::kInsertSelect);
  EXPECT_THAT(Tables(s), ElementsAre("shop.orders as o"));
  EXPECT_THAT(Preds(s), ElementsAre("o.status equality"));
}

TEST(AnalyzeStatementTest, RefusesWhatIsNotExplainedWithAClearMessage) {
  for (const char* sql : {"ALTER TABLE t ADD INDEX (a)", "SHOW TABLES", "INSERT INTO t VALUES (1)",
                          "SELECT 1; DROP TABLE t", "SELECT 1", "", "CALL p()"}) {
    auto shape = AnalyzeStatement(sql, "db");
    ASSERT_FALSE(shape) << sql;
    EXPECT_EQ(shape.error().code, core::ErrorCode::kInvalidArgument) << sql;
    EXPECT_FALSE(shape.error().message.empty());
  }
  EXPECT_THAT(AnalyzeStatement("SHOW TABLES", "db").error().message,
              HasSubstr("only SELECT, UPDATE, DELETE and INSERT ... SELECT"));
}

// --- plans ------------------------------------------------------------------------------------

ExplainPlan Captured(const std::string& name) {
  auto text = testing::ReadSourceFile("tests/steps/data/explain-" + name +
                                      "--mariadb-10.11.19--sandbox-captured.json");
  EXPECT_TRUE(text) << text.error().ToString();
  auto plan = ParseExplainJson(text.value_or(""));
  EXPECT_TRUE(plan) << plan.error().ToString();
  return plan.value_or(ExplainPlan{});
}

TEST(ParseExplainJsonTest, MariaDbSortedScan) {
  const ExplainPlan plan = Captured("sort");
  ASSERT_EQ(plan.tables.size(), 1u);
  EXPECT_EQ(plan.tables[0].table, "o");
  EXPECT_EQ(plan.tables[0].access_type, "ALL");
  EXPECT_EQ(plan.tables[0].rows, 299344);
  EXPECT_FALSE(plan.tables[0].key);
  EXPECT_TRUE(plan.filesort);
  EXPECT_FALSE(plan.temporary);
}

TEST(ParseExplainJsonTest, MariaDbJoinWithTemporaryTable) {
  const ExplainPlan plan = Captured("join");
  ASSERT_EQ(plan.tables.size(), 2u);
  EXPECT_EQ(plan.tables[0].table, "o");
  EXPECT_EQ(plan.tables[1].table, "c");
  EXPECT_EQ(plan.tables[1].access_type, "eq_ref");
  EXPECT_EQ(plan.tables[1].key, "PRIMARY");
  EXPECT_TRUE(plan.filesort);
  EXPECT_TRUE(plan.temporary);
}

// Not a recorded output: the field names of MySQL's EXPLAIN FORMAT=JSON as the MySQL manual
// documents them (ordering_operation, using_filesort, rows_examined_per_scan).
TEST(ParseExplainJsonTest, MySqlShapeFromTheManualsFieldNames) {
  auto plan = ParseExplainJson(R"({"query_block": {"select_id": 1,
      "ordering_operation": {"using_filesort": true, "using_temporary_table": false,
        "table": {"table_name": "t", "access_type": "ALL", "rows_examined_per_scan": 5000,
                  "rows_produced_per_join": 50}}}})");
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->tables.size(), 1u);
  EXPECT_EQ(plan->tables[0].rows, 5000);
  EXPECT_TRUE(plan->filesort);
  EXPECT_FALSE(plan->temporary);
}

TEST(ParseExplainJsonTest, RejectsTextThatIsNotAPlan) {
  EXPECT_FALSE(ParseExplainJson("not json"));
  EXPECT_FALSE(ParseExplainJson(R"({"query_block": {"select_id": 1, "table": {"message":
      "Impossible WHERE"}}})"));
}

// --- derivation -------------------------------------------------------------------------------

IndexColumn Col(const std::string& name, std::optional<int64_t> sub_part = std::nullopt) {
  IndexColumn c;
  c.name = name;
  c.sub_part = sub_part;
  return c;
}

TableInfo Orders() {
  TableInfo t;
  t.schema = "shop";
  t.table = "orders";
  t.engine = "InnoDB";
  t.rows_estimate = 300000;
  t.columns = {{"id", "int", std::nullopt}, {"customer_id", "int", std::nullopt},
               {"status", "varchar", 64},   {"created_at", "datetime", std::nullopt},
               {"note", "text", 65535},     {"amount", "decimal", std::nullopt},
               {"big1", "varchar", 2000},   {"big2", "varchar", 2000}};
  t.indexes.schema = "shop";
  t.indexes.table = "orders";
  IndexInfo primary;
  primary.name = "PRIMARY";
  primary.unique = true;
  primary.columns = {Col("id")};
  t.indexes.indexes.push_back(primary);
  return t;
}

TableInfo Customers() {
  TableInfo t;
  t.schema = "shop";
  t.table = "customers";
  t.rows_estimate = 5000;
  t.columns = {{"id", "int", std::nullopt}, {"region", "varchar", 32}, {"name", "varchar", 160}};
  IndexInfo primary;
  primary.name = "PRIMARY";
  primary.unique = true;
  primary.columns = {Col("id")};
  t.indexes.indexes.push_back(primary);
  return t;
}

ExplainPlan Scan(const std::string& table, int64_t rows, bool filesort = false,
                 const std::string& access = "ALL") {
  ExplainPlan p;
  p.tables.push_back(PlanTable{table, access, std::nullopt, rows});
  p.filesort = filesort;
  return p;
}

std::vector<std::string> Columns(const TableAdvice& a) {
  std::vector<std::string> out;
  if (!a.candidate) return out;
  for (size_t i = 0; i < a.candidate->parts.size(); ++i) {
    out.push_back(a.candidate->parts[i].column + ":" + a.candidate->roles[i]);
  }
  return out;
}

TableAdvice One(const std::string& sql, const ExplainPlan& plan,
                const std::vector<TableInfo>& tables = {Orders()}) {
  const auto advice = DeriveAdvice(Shape(sql), plan, tables, kDefaultMinRows);
  EXPECT_EQ(advice.size(), 1u) << sql;
  return advice.empty() ? TableAdvice{} : advice[0];
}

TEST(DeriveAdviceTest, EqualityThenRangeAndTheOrderByOnTheRangeColumnAvoidsTheSort) {
  const auto a =
      One("SELECT id FROM orders WHERE created_at >= '2026-03-01' AND customer_id = 42 "
          "ORDER BY created_at DESC",
          Scan("orders", 300000, true));
  EXPECT_THAT(Columns(a), ElementsAre("customer_id:equality", "created_at:range"));
  ASSERT_TRUE(a.candidate);
  EXPECT_TRUE(a.candidate->avoids_filesort);
  EXPECT_EQ(a.candidate->name, "dbr_customer_id_created_at");
  EXPECT_EQ(a.candidate->sql,
            "ALTER TABLE `shop`.`orders` ADD INDEX `dbr_customer_id_created_at` (`customer_id`, "
            "`created_at`), ALGORITHM=INPLACE, LOCK=NONE");
  EXPECT_EQ(a.candidate->sql_locking,
            "ALTER TABLE `shop`.`orders` ADD INDEX `dbr_customer_id_created_at` (`customer_id`, "
            "`created_at`)");
  EXPECT_EQ(a.rows_before, 300000);
  EXPECT_THAT(a.problem, HasSubstr("full table scan (ALL), 300000 rows examined; filesort"));
}

TEST(DeriveAdviceTest, EqualityThenOrderByColumns) {
  const auto a = One("SELECT * FROM orders WHERE status = 'paid' ORDER BY created_at, id",
                     Scan("orders", 300000, true));
  EXPECT_THAT(Columns(a), ElementsAre("status:equality", "created_at:order by", "id:order by"));
  EXPECT_TRUE(a.candidate->avoids_filesort);
}

TEST(DeriveAdviceTest, ARangeOnAnotherColumnThanTheOrderByKeepsTheSort) {
  const auto a = One("SELECT * FROM orders WHERE amount > 10 ORDER BY created_at",
                     Scan("orders", 300000, true));
  EXPECT_THAT(Columns(a), ElementsAre("amount:range"));
  EXPECT_FALSE(a.candidate->avoids_filesort);
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("the sort stays"));
}

TEST(DeriveAdviceTest, InListsComeAfterEqualitiesAndDoNotTakeTheOrderBy) {
  const auto a =
      One("SELECT * FROM orders WHERE status IN ('a','b') AND customer_id = 3 ORDER BY id",
          Scan("orders", 300000, true));
  EXPECT_THAT(Columns(a), ElementsAre("customer_id:equality", "status:in"));
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("IN list"));
}

TEST(DeriveAdviceTest, OnlyOneRangeColumnIsUsed) {
  const auto a = One("SELECT * FROM orders WHERE amount > 5 AND created_at < '2026-01-01'",
                     Scan("orders", 300000));
  EXPECT_THAT(Columns(a), ElementsAre("amount:range"));
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("only one range column"));
}

TEST(DeriveAdviceTest, AnExistingIndexThatBeginsWithTheColumnsCoversIt) {
  TableInfo t = Orders();
  IndexInfo existing;
  existing.name = "ix_cust_status_time";
  existing.columns = {Col("status"), Col("customer_id"), Col("created_at")};
  t.indexes.indexes.push_back(existing);
  // Equalities in either order, then the range: a left prefix of the existing index.
  auto a = One("SELECT * FROM orders WHERE customer_id = 1 AND status = 'x'",
               Scan("orders", 300000), {t});
  EXPECT_FALSE(a.candidate);
  EXPECT_THAT(a.skipped, HasSubstr("ix_cust_status_time"));
  EXPECT_THAT(a.skipped, HasSubstr("ANALYZE TABLE"));
  // Not a left prefix: (customer_id) alone is not the start of (status, customer_id, ...).
  a = One("SELECT * FROM orders WHERE customer_id = 1", Scan("orders", 300000), {t});
  EXPECT_THAT(Columns(a), ElementsAre("customer_id:equality"));
  // An invisible covering index: make it visible instead.
  t.indexes.indexes.back().visible = false;
  a = One("SELECT * FROM orders WHERE status = 'x'", Scan("orders", 300000), {t});
  EXPECT_FALSE(a.candidate);
  EXPECT_THAT(a.skipped, HasSubstr("invisible"));
}

TEST(DeriveAdviceTest, TextColumnsNeedAPrefixAndStopTheKey) {
  auto a = One("SELECT * FROM orders WHERE note = 'x'", Scan("orders", 300000));
  EXPECT_FALSE(a.candidate);
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("note is text"));
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("prefix length"));
  a = One("SELECT * FROM orders WHERE customer_id = 1 AND note = 'x'", Scan("orders", 300000));
  EXPECT_THAT(Columns(a), ElementsAre("customer_id:equality"));
}

TEST(DeriveAdviceTest, TheKeyStopsBeforeInnodbsLengthLimit) {
  const auto a =
      One("SELECT * FROM orders WHERE big1 = 'a' AND big2 = 'b'", Scan("orders", 300000));
  EXPECT_THAT(Columns(a), ElementsAre("big1:equality"));
  EXPECT_THAT(::testing::PrintToString(a.notes), HasSubstr("3072"));
}

TEST(DeriveAdviceTest, SmallTablesAndIndexedAccessNeedNothing) {
  EXPECT_TRUE(DeriveAdvice(Shape("SELECT * FROM orders WHERE customer_id = 1"), Scan("orders", 500),
                           {Orders()}, kDefaultMinRows)
                  .empty());
  EXPECT_TRUE(DeriveAdvice(Shape("SELECT * FROM orders WHERE customer_id = 1"),
                           Scan("orders", 300000, false, "ref"), {Orders()}, kDefaultMinRows)
                  .empty());
}

TEST(DeriveAdviceTest, AnUnqualifiedTableWithoutADatabaseAsksForDb) {
  const auto advice = DeriveAdvice(Shape("SELECT * FROM orders WHERE customer_id = 1", ""),
                                   Scan("orders", 300000), {Orders()}, kDefaultMinRows);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_FALSE(advice[0].candidate);
  EXPECT_THAT(advice[0].skipped, HasSubstr("give --db"));
}

TEST(DeriveAdviceTest, NoUsableConditionIsSaid) {
  const auto a = One("SELECT * FROM orders WHERE UPPER(status) = 'X'", Scan("orders", 300000));
  EXPECT_FALSE(a.candidate);
  EXPECT_THAT(a.skipped, HasSubstr("no condition"));
}

TEST(DeriveAdviceTest, JoinColumnsServeTheTableReadSecond) {
  TableInfo customers = Customers();
  customers.rows_estimate = 50000;
  ExplainPlan plan;
  plan.tables = {PlanTable{"c", "ALL", std::nullopt, 50000},
                 PlanTable{"o", "ALL", std::nullopt, 300000}};
  const auto advice =
      DeriveAdvice(Shape("SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id "
                         "WHERE c.region = 'eu' AND o.status = 'paid'"),
                   plan, {customers, Orders()}, kDefaultMinRows);
  ASSERT_EQ(advice.size(), 2u);
  // c is read first: its join column does not help it; its own equality does.
  EXPECT_THAT(Columns(advice[0]), ElementsAre("region:equality"));
  // o is read for each c row: the join column is an equality there.
  EXPECT_THAT(Columns(advice[1]), ElementsAre("customer_id:equality", "status:equality"));
}

TEST(DeriveAdviceTest, UnqualifiedColumnsAreResolvedByTheTablesColumns) {
  ExplainPlan plan;
  plan.tables = {PlanTable{"o", "ALL", std::nullopt, 300000},
                 PlanTable{"c", "eq_ref", std::string("PRIMARY"), 1}};
  const auto advice =
      DeriveAdvice(Shape("SELECT name FROM orders o JOIN customers c ON c.id = o.customer_id "
                         "WHERE amount > 100 AND region = 'eu'"),
                   plan, {Orders(), Customers()}, kDefaultMinRows);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_THAT(Columns(advice[0]), ElementsAre("amount:range"));
}

TEST(DeriveAdviceTest, CapturedUpdatePlanGetsAnIndexOnItsInColumn) {
  TableInfo t = Orders();
  const auto advice =
      DeriveAdvice(Shape("UPDATE orders SET status = 'void' WHERE customer_id IN (1, 2, 3)"),
                   Captured("update"), {t}, kDefaultMinRows);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_THAT(advice[0].problem, HasSubstr("full index scan (index)"));
  EXPECT_THAT(Columns(advice[0]), ElementsAre("customer_id:in"));
}

TEST(IndexNameTest, TruncatedTo64AndMadeUnique) {
  TableIndexes none;
  EXPECT_EQ(IndexName({"a", "b-c"}, none), "dbr_a_b_c");
  const std::string long_name = IndexName({std::string(40, 'x'), std::string(40, 'y')}, none);
  EXPECT_EQ(long_name.size(), 64u);
  TableIndexes taken;
  IndexInfo i;
  i.name = "DBR_A";
  taken.indexes.push_back(i);
  EXPECT_EQ(IndexName({"a"}, taken), "dbr_a_2");
  i.name = long_name;
  taken.indexes.push_back(i);
  const std::string other = IndexName({std::string(40, 'x'), std::string(40, 'y')}, taken);
  EXPECT_EQ(other.size(), 64u);
  EXPECT_THAT(other, ::testing::EndsWith("_2"));
}

TEST(ApplyGuardrailTest, ReplicaAndLargeTablesAreRefusedUnlessAllowed) {
  TableInfo t = Orders();
  t.bytes = int64_t{5} << 30;
  ApplyLimits limits;
  auto refused = ApplyGuardrail(t, true, limits);
  ASSERT_TRUE(refused);
  EXPECT_THAT(*refused, HasSubstr("replica"));
  limits.allow_replica = true;
  refused = ApplyGuardrail(t, true, limits);
  ASSERT_TRUE(refused);
  EXPECT_THAT(*refused, HasSubstr("5120.0 MiB"));
  EXPECT_THAT(*refused, HasSubstr("--allow-large"));
  limits.allow_large = true;
  EXPECT_FALSE(ApplyGuardrail(t, true, limits));
  t.bytes = 1 << 20;
  EXPECT_FALSE(ApplyGuardrail(t, false, ApplyLimits{}));
}

dialect::Flavor MakeFlavor(dialect::Product product, dialect::Version version,
                           std::optional<bool> performance_schema) {
  dialect::Flavor f;
  f.product = product;
  f.version = version;
  f.capabilities.performance_schema = performance_schema;
  return f;
}

TEST(IndexDialectTest, StatementsPerFlavor) {
  const dialect::Dialect maria(MakeFlavor(dialect::Product::kMariaDB, {10, 11, 19}, false));
  const dialect::Dialect mysql(MakeFlavor(dialect::Product::kMySQL, {8, 0, 36}, true));
  const dialect::Dialect mysql_no_ps(MakeFlavor(dialect::Product::kMySQL, {8, 0, 36}, false));
  const dialect::Dialect unknown{dialect::Flavor{}};
  EXPECT_EQ(dialect::ExplainJson(maria, "SELECT 1"), "EXPLAIN FORMAT=JSON SELECT 1");
  EXPECT_EQ(dialect::ExplainJson(unknown, "SELECT 1"), "");
  EXPECT_THAT(dialect::AlterProgress(maria, 7), HasSubstr("PROGRESS AS `progress`"));
  EXPECT_THAT(dialect::AlterProgress(maria, 7), HasSubstr("WHERE ID = 7"));
  EXPECT_THAT(dialect::AlterProgress(mysql, 7), HasSubstr("events_stages_current"));
  EXPECT_EQ(dialect::AlterProgress(mysql_no_ps, 7), "");
  EXPECT_EQ(dialect::AddIndex("s", "t`x", "i", {{"a", std::nullopt}, {"b", 10}}, true),
            "ALTER TABLE `s`.`t``x` ADD INDEX `i` (`a`, `b`(10)), ALGORITHM=INPLACE, LOCK=NONE");
  EXPECT_EQ(dialect::TableFacts("s", "a\\b"), "");
  EXPECT_EQ(dialect::SampledDistinct("s", "t", {"a", "b"}, 1000),
            "SELECT COUNT(*) AS `sampled`, COUNT(DISTINCT `a`, `b`) AS `distinct_values` FROM "
            "(SELECT `a`, `b` FROM `s`.`t` LIMIT 1000) AS `dbrunbook_sample`");
}

}  // namespace
}  // namespace dbrunbook::steps
