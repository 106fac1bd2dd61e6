#include "mysql/errors.h"

#include <gtest/gtest.h>

namespace dbrunbook::mysql {
namespace {

using core::ErrorCode;

class ErrorsTest : public ::testing::Test {
 protected:
  ErrorsTest() {
    options_.target_name = "orders-primary";
    options_.host = "10.0.0.5";
    options_.port = 3306;
    options_.user = "monitor";
    options_.password = core::Secret("s3cr3t-pw");
    options_.password_source = "password_env ORDERS_DB_PASSWORD";
  }
  core::Error Connect(int err, std::string_view text) {
    return ClassifyError(err, "HY000", text, ErrorContext{Phase::kConnect, &options_, {}, {}});
  }
  core::Error Query(int err, std::string_view text, std::string_view sql,
                    core::Duration elapsed = {}) {
    return ClassifyError(err, "42000", text, ErrorContext{Phase::kQuery, &options_, sql, elapsed});
  }
  ConnectOptions options_;
};

TEST_F(ErrorsTest, AccessDeniedNamesTargetUserAndPasswordSource) {
  auto e = Connect(1045, "Access denied for user 'monitor'@'10.0.0.9' (using password: YES)");
  EXPECT_EQ(e.code, ErrorCode::kAccessDenied);
  EXPECT_EQ(e.server_errno, 1045);
  EXPECT_NE(e.message.find("access denied for user 'monitor' on target 'orders-primary'"),
            std::string::npos);
  EXPECT_NE(e.hint.find("password_env ORDERS_DB_PASSWORD"), std::string::npos);
  EXPECT_EQ(e.ToString().find("s3cr3t-pw"), std::string::npos);
}

TEST_F(ErrorsTest, AccessDeniedWithoutPasswordSaysSo) {
  auto e = Connect(1045, "Access denied for user 'monitor'@'x' (using password: NO)");
  EXPECT_NE(e.hint.find("no password was sent"), std::string::npos);
}

TEST_F(ErrorsTest, ConnectFailuresAreClassified) {
  EXPECT_EQ(Connect(2003, "Can't connect to server on '10.0.0.5' (111)").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(Connect(2003, "Can't connect to server on '10.0.0.5' (110)").code, ErrorCode::kTimeout);
  EXPECT_EQ(Connect(2005, "Unknown server host 'db.invalid' (-2)").code, ErrorCode::kDnsFailure);
  EXPECT_EQ(Connect(2026, "SSL connection error: certificate verify failed").code,
            ErrorCode::kTlsError);
  EXPECT_EQ(Connect(1040, "Too many connections").code, ErrorCode::kUnavailable);
  EXPECT_EQ(Connect(2013,
                    "Lost connection to server at 'handshake: reading initial communication "
                    "packet', system error: 110")
                .code,
            ErrorCode::kTimeout);
  auto refused = Connect(2003, "Can't connect to server on '10.0.0.5' (111)");
  EXPECT_NE(refused.message.find("tcp 10.0.0.5:3306"), std::string::npos);
  EXPECT_NE(refused.hint.find("host and port"), std::string::npos);
}

TEST_F(ErrorsTest, QueryFailuresAreClassified) {
  auto priv = Query(1227,
                    "Access denied; you need (at least one of) the PROCESS privilege(s) for this "
                    "operation",
                    "SHOW ENGINE INNODB STATUS");
  EXPECT_EQ(priv.code, ErrorCode::kPrivilege);
  EXPECT_NE(priv.message.find("SHOW ENGINE INNODB STATUS"), std::string::npos);
  EXPECT_EQ(Query(1064, "You have an error in your SQL syntax", "SHOW FOO").code,
            ErrorCode::kSyntax);
  EXPECT_EQ(Query(1205, "Lock wait timeout exceeded", "SELECT 1").code,
            ErrorCode::kLockWaitTimeout);
  EXPECT_EQ(Query(1969, "Query execution was interrupted (max_statement_time exceeded)", "X").code,
            ErrorCode::kTimeout);
  EXPECT_EQ(Query(1146, "Table 'performance_schema.foo' doesn't exist", "X").code,
            ErrorCode::kUnsupported);
  EXPECT_EQ(Query(2013, "Lost connection to server during query", "SELECT SLEEP(60)",
                  std::chrono::seconds(31))
                .code,
            ErrorCode::kTimeout);
  EXPECT_EQ(Query(2013, "Lost connection to server during query", "SELECT 1",
                  std::chrono::milliseconds(3))
                .code,
            ErrorCode::kUnavailable);
  // Under TLS a dead connection surfaces as an SSL error once the session is established.
  EXPECT_EQ(Query(2026, "TLS/SSL error: unexpected eof while reading", "SELECT 1",
                  std::chrono::milliseconds(2))
                .code,
            ErrorCode::kUnavailable);
  auto other = Query(1290, "The server is running with --read-only", "INSERT INTO t VALUES (1)");
  EXPECT_EQ(other.code, ErrorCode::kServerError);
  EXPECT_NE(other.message.find("1290"), std::string::npos);
}

TEST(ShortStatementTest, KeepsFirstLineAndLimitsLength) {
  EXPECT_EQ(ShortStatement("  SELECT 1  "), "SELECT 1");
  EXPECT_EQ(ShortStatement("SELECT a\nFROM t"), "SELECT a...");
  EXPECT_EQ(ShortStatement(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

}  // namespace
}  // namespace dbrunbook::mysql
