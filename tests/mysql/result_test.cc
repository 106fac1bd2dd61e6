#include "mysql/result.h"

#include <gtest/gtest.h>

namespace dbrunbook::mysql {
namespace {

TEST(ResultTest, TypedAccessByColumnNameIgnoresCase) {
  ResultSet rs = MakeResultSet({"Variable_name", "Value"},
                               {{"Threads_running", "12"}, {"Uptime", std::nullopt}});
  ASSERT_EQ(rs.rows.size(), 2u);
  EXPECT_EQ(rs.rows[0]["VARIABLE_NAME"].AsString(), "Threads_running");
  EXPECT_EQ(rs.rows[0]["value"].AsInt64(), 12);
  EXPECT_EQ(rs.rows[0]["Value"].AsDouble(), 12.0);
  EXPECT_TRUE(rs.rows[1]["Value"].is_null());
  EXPECT_TRUE(rs.rows[1]["Value"].present());
  EXPECT_FALSE(rs.rows[1]["Value"].AsInt64());
}

TEST(ResultTest, MissingColumnIsDistinctFromNull) {
  ResultSet rs = MakeResultSet({"a"}, {{"1"}});
  const Field missing = rs.rows[0]["b"];
  EXPECT_FALSE(missing.present());
  EXPECT_TRUE(missing.is_null());
  EXPECT_EQ(missing.StringOr("fallback"), "fallback");
  EXPECT_FALSE(rs.rows[0].Has("b"));
  EXPECT_TRUE(rs.rows[0].Has("A"));
}

TEST(ResultTest, AsTextCopiesTheValueAndKeepsNullApart) {
  ResultSet rs = MakeResultSet({"a", "b"}, {{"text", std::nullopt}});
  EXPECT_EQ(rs.rows[0]["a"].AsText(), std::optional<std::string>("text"));
  EXPECT_EQ(rs.rows[0]["b"].AsText(), std::nullopt);
  EXPECT_EQ(rs.rows[0]["missing"].AsText(), std::nullopt);
}

TEST(ResultTest, NumericConversionsRejectText) {
  ResultSet rs = MakeResultSet({"v", "d", "b", "neg"}, {{"Connecting", "12.75", "Yes", "-3"}});
  const Row& row = rs.rows[0];
  EXPECT_FALSE(row["v"].AsInt64());
  EXPECT_FALSE(row["v"].AsBool());
  EXPECT_EQ(row["d"].AsInt64(), 12);  // decimals truncate toward zero
  EXPECT_DOUBLE_EQ(*row["d"].AsDouble(), 12.75);
  EXPECT_EQ(row["b"].AsBool(), true);
  EXPECT_FALSE(row["neg"].AsUint64());
  EXPECT_EQ(row["neg"].AsInt64(), -3);
}

TEST(ResultTest, ShortRowsArePaddedWithNull) {
  ResultSet rs = MakeResultSet({"a", "b"}, {{"1"}});
  EXPECT_TRUE(rs.rows[0]["b"].present());
  EXPECT_TRUE(rs.rows[0]["b"].is_null());
}

}  // namespace
}  // namespace dbrunbook::mysql
