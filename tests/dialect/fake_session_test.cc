// Tests of the fake Session (tests/support/fake_session.h) the dialect tests rely on.
#include "support/fake_session.h"

#include <gtest/gtest.h>

namespace dbrunbook::testing {
namespace {

mysql::ResultSet OneValue(std::string value) {
  return mysql::MakeResultSet({"v"}, {{std::move(value)}});
}

TEST(FakeSessionTest, AnswersExactStatementsAndRecordsThemInOrder) {
  FakeSession session;
  session.On("SELECT 1", OneValue("1")).On("SELECT 2", OneValue("2"));
  auto two = session.Query("SELECT 2");
  auto one = session.Query("SELECT 1");
  ASSERT_TRUE(two && one);
  EXPECT_EQ(two->rows[0]["v"].AsInt64(), 2);
  EXPECT_EQ(one->rows[0]["v"].AsInt64(), 1);
  EXPECT_EQ(session.statements(), (std::vector<std::string>{"SELECT 2", "SELECT 1"}));
  EXPECT_EQ(session.statements_sent(), 2u);
}

TEST(FakeSessionTest, UnexpectedStatementFailsLoudlyNamingIt) {
  FakeSession session;
  auto result = session.Query("SHOW SLAVE STATUS");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(result.error().message.find("SHOW SLAVE STATUS"), std::string::npos);
  EXPECT_EQ(session.statements_sent(), 1u);
}

TEST(FakeSessionTest, RepliesInTurnThenRepeatsTheLast) {
  FakeSession session;
  session.On("SHOW GLOBAL STATUS", OneValue("10")).On("SHOW GLOBAL STATUS", OneValue("20"));
  EXPECT_EQ(session.Query("SHOW GLOBAL STATUS")->rows[0]["v"].AsInt64(), 10);
  EXPECT_EQ(session.Query("SHOW GLOBAL STATUS")->rows[0]["v"].AsInt64(), 20);
  EXPECT_EQ(session.Query("SHOW GLOBAL STATUS")->rows[0]["v"].AsInt64(), 20);
}

TEST(FakeSessionTest, ExactRulesWinOverMatchersWhichGoInOrder) {
  FakeSession session;
  session.OnPrefix("KILL ", OneValue("prefix"))
      .OnMatch(
          "any kill", [](std::string_view sql) { return sql.find("KILL") != sql.npos; },
          OneValue("match"))
      .On("KILL QUERY 7", OneValue("exact"));
  EXPECT_EQ(session.Query("KILL QUERY 7")->rows[0]["v"].StringOr(""), "exact");
  EXPECT_EQ(session.Query("KILL QUERY 8")->rows[0]["v"].StringOr(""), "prefix");
  EXPECT_EQ(session.Query("CALL x; KILL")->rows[0]["v"].StringOr(""), "match");
}

TEST(FakeSessionTest, ReturnsRegisteredServerErrors) {
  FakeSession session;
  session.On("SHOW ALL SLAVES STATUS",
             FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                      "Access denied; you need (at least one of) the SUPER, "
                                      "SLAVE MONITOR privilege(s) for this operation"));
  auto result = session.Query("SHOW ALL SLAVES STATUS");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, core::ErrorCode::kPrivilege);
  EXPECT_EQ(result.error().server_errno, 1227);
  EXPECT_EQ(result.error().sqlstate, "42000");
}

TEST(FakeSessionTest, ConnectionInfoIsSettable) {
  FakeSession session;
  EXPECT_EQ(session.info().connection_id, 42u);
  mysql::ConnectionInfo info;
  info.target_name = "orders-primary";
  info.server_version = "10.11.19-MariaDB-0+deb12u1";
  session.set_info(info);
  EXPECT_EQ(session.info().target_name, "orders-primary");
  EXPECT_EQ(session.info().server_version, "10.11.19-MariaDB-0+deb12u1");
}

}  // namespace
}  // namespace dbrunbook::testing
