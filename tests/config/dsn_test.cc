#include "config/dsn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dbrunbook::config {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

// The message and hint of a failed parse, as a user sees them.
std::string ErrorText(std::string_view dsn) {
  auto parsed = ParseDsn(dsn);
  if (parsed) return "<parsed>";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidArgument);
  return parsed.error().ToString();
}

mysql::ConnectOptions Applied(std::string_view dsn) {
  auto parsed = ParseDsn(dsn);
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  mysql::ConnectOptions options;
  if (parsed) parsed->ApplyTo(options);
  return options;
}

TEST(DsnTest, ParsesTheFullForm) {
  auto dsn =
      ParseDsn("mysql://monitor@db1.internal:3307/orders?ssl-mode=REQUIRED&ssl-ca=/etc/ca.pem");
  ASSERT_TRUE(dsn) << dsn.error().ToString();
  EXPECT_EQ(dsn->user, "monitor");
  EXPECT_EQ(dsn->host, "db1.internal");
  EXPECT_EQ(dsn->port, 3307);
  EXPECT_EQ(dsn->database, "orders");
  EXPECT_EQ(dsn->tls_mode, mysql::TlsMode::kRequired);
  EXPECT_EQ(dsn->tls_ca, "/etc/ca.pem");
  EXPECT_FALSE(dsn->socket);
  EXPECT_FALSE(dsn->password);
}

TEST(DsnTest, ParsesASocketDsn) {
  const auto options = Applied("mysql://monitor@localhost/orders?socket=/run/mysqld/mysqld.sock");
  EXPECT_TRUE(options.uses_socket());
  EXPECT_EQ(options.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(options.host, "localhost");
  EXPECT_EQ(options.database, "orders");
  // Without a host at all, a socket is enough.
  EXPECT_EQ(Applied("mysql://monitor@/?socket=/tmp/s.sock").socket, "/tmp/s.sock");
}

TEST(DsnTest, ParsesBracketedIpv6) {
  const auto options = Applied("mysql://monitor@[::1]:3307/");
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 3307);
  EXPECT_EQ(options.database, "");
  EXPECT_EQ(Applied("mysql://[fe80::1]/").port, 3306);
}

TEST(DsnTest, UserPortAndDatabaseAreOptional) {
  auto dsn = ParseDsn("mysql://10.0.0.12");
  ASSERT_TRUE(dsn);
  EXPECT_FALSE(dsn->user);
  EXPECT_FALSE(dsn->port);
  EXPECT_FALSE(dsn->database);
  const auto options = Applied("mysql://10.0.0.12/");
  EXPECT_EQ(options.host, "10.0.0.12");
  EXPECT_EQ(options.port, 3306);
  EXPECT_EQ(options.user, "");
}

TEST(DsnTest, DecodesPercentEncoding) {
  const auto options =
      Applied("mysql://mon%40itor@h/my%2Fdb?ssl-ca=%2Fetc%2Fssl%2Fca%20bundle.pem");
  EXPECT_EQ(options.user, "mon@itor");
  EXPECT_EQ(options.database, "my/db");
  EXPECT_EQ(options.tls.ca, "/etc/ssl/ca bundle.pem");
  EXPECT_THAT(ErrorText("mysql://u%4@h/"), HasSubstr("percent-encoding"));
  EXPECT_THAT(ErrorText("mysql://h/d%zz"), HasSubstr("percent-encoding"));
  EXPECT_THAT(ErrorText("mysql://h/?ssl-ca=%"), HasSubstr("percent-encoding"));
}

TEST(DsnTest, ParsesEveryParameterAndAcceptsUnderscores) {
  const auto options = Applied(
      "mysql://h/?ssl_mode=verify-identity&ssl-ca=/ca&ssl_capath=/certs&ssl-cert=/c.pem"
      "&ssl-key=/k.pem&ssl-cipher=ECDHE-RSA-AES256-GCM-SHA384&connect_timeout=2s"
      "&read-timeout=10&write_timeout=1500ms");
  EXPECT_EQ(options.tls.mode, mysql::TlsMode::kVerifyIdentity);
  EXPECT_EQ(options.tls.ca, "/ca");
  EXPECT_EQ(options.tls.capath, "/certs");
  EXPECT_EQ(options.tls.cert, "/c.pem");
  EXPECT_EQ(options.tls.key, "/k.pem");
  EXPECT_EQ(options.tls.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
  EXPECT_EQ(options.connect_timeout, milliseconds(2000));
  EXPECT_EQ(options.read_timeout, milliseconds(10000));  // a bare number is seconds
  EXPECT_EQ(options.write_timeout, milliseconds(1500));
}

TEST(DsnTest, AcceptsMariadbSchemeInAnyCase) {
  EXPECT_EQ(Applied("mariadb://monitor@h:3310/").port, 3310);
  EXPECT_EQ(Applied("MySQL://monitor@h/").user, "monitor");
}

TEST(DsnTest, RefusesAPasswordWithoutRepeatingIt) {
  for (const char* dsn : {"mysql://monitor:s3cretPW@db:3306/orders",
                          "mysql://monitor:@db/",  // an empty password is a password too
                          "mysql://monitor:s3cretPW/x?y@db/", "mysql://mon:s3cretPW@x@db/",
                          "mysql://db/?password=s3cretPW", "mysql://db/?PWD=s3cretPW",
                          "mysql://monitor:s3cretPW@[::1]:3306/"}) {
    const std::string text = ErrorText(dsn);
    EXPECT_THAT(text, HasSubstr("the DSN contains a password; passwords are never accepted in a "
                                "DSN (it would show in `ps` and in shell history)"))
        << dsn;
    EXPECT_THAT(text, HasSubstr("use password_env, password_file or defaults_file")) << dsn;
    EXPECT_THAT(text, Not(HasSubstr("s3cretPW"))) << dsn;
    EXPECT_THAT(text, Not(HasSubstr("monitor"))) << dsn;
  }
}

TEST(DsnTest, RejectsUnknownParametersWithASuggestion) {
  EXPECT_THAT(ErrorText("mysql://h/?sslmode=REQUIRED"),
              HasSubstr("unknown parameter 'sslmode' — did you mean ssl-mode?"));
  EXPECT_THAT(ErrorText("mysql://h/?charset=utf8"), HasSubstr("known parameters: socket, "));
  EXPECT_THAT(ErrorText("mysql://h/?ssl-mode=VERIFYCA"),
              HasSubstr("unknown ssl-mode 'VERIFYCA' — did you mean VERIFY_CA?"));
  EXPECT_THAT(ErrorText("mysql://h/?socket=/a&socket=/b"), HasSubstr("given twice"));
  EXPECT_THAT(ErrorText("mysql://h/?ssl-ca="), HasSubstr("'ssl-ca' has no value"));
  EXPECT_THAT(ErrorText("mysql://h/?connect-timeout=soon"), HasSubstr("connect-timeout"));
  EXPECT_THAT(ErrorText("mysql://h/?read-timeout=0"), HasSubstr("more than 0"));
}

TEST(DsnTest, RejectsWrongSchemes) {
  EXPECT_THAT(ErrorText("postgres://h/"), HasSubstr("unsupported DSN scheme 'postgres'"));
  EXPECT_THAT(ErrorText("mysqlx://h/"), HasSubstr("unsupported DSN scheme 'mysqlx'"));
  EXPECT_THAT(ErrorText("db1.internal:3306"), HasSubstr("not a DSN"));
  EXPECT_THAT(ErrorText(""), HasSubstr("not a DSN"));
}

TEST(DsnTest, RejectsBadPorts) {
  for (const char* dsn : {"mysql://h:0/", "mysql://h:65536/", "mysql://h:abc/", "mysql://h:/",
                          "mysql://h:-1/", "mysql://h:+80/", "mysql://[::1]:99999/"}) {
    EXPECT_THAT(ErrorText(dsn), HasSubstr("is not a number from 1 to 65535")) << dsn;
  }
  EXPECT_EQ(Applied("mysql://h:65535/").port, 65535);
}

TEST(DsnTest, RejectsBadHosts) {
  EXPECT_THAT(ErrorText("mysql:///orders"), HasSubstr("the DSN has no host"));
  EXPECT_THAT(ErrorText("mysql://monitor@/orders"), HasSubstr("the DSN has no host"));
  EXPECT_THAT(ErrorText("mysql://::1/"), HasSubstr("IPv6 address must be written in brackets"));
  EXPECT_THAT(ErrorText("mysql://[::1/"), HasSubstr("without closing ']'"));
  EXPECT_THAT(ErrorText("mysql://[db1]/"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(ErrorText("mysql://db 1/"), HasSubstr("invalid characters"));
  EXPECT_THAT(ErrorText("mysql://@h/"), HasSubstr("empty user name"));
  EXPECT_THAT(ErrorText("mysql://h/a/b"), HasSubstr("contains '/'"));
  EXPECT_THAT(ErrorText("mysql://h/?ssl-ca=/a@b"), HasSubstr("%40"));
}

TEST(DsnTest, FormatsForDisplayWithoutThePassword) {
  mysql::ConnectOptions options;
  options.host = "10.0.0.12";
  options.user = "monitor";
  options.password = core::Secret("hunter2");
  EXPECT_EQ(FormatDsn(options), "mysql://monitor@10.0.0.12:3306/");

  options.database = "orders";
  options.tls.mode = mysql::TlsMode::kVerifyCa;
  options.tls.ca = "/etc/ssl/rds ca.pem";
  options.connect_timeout = milliseconds(2500);
  options.read_timeout = milliseconds(60000);
  const std::string text = FormatDsn(options);
  EXPECT_EQ(text,
            "mysql://monitor@10.0.0.12:3306/orders?ssl-mode=VERIFY_CA&ssl-ca=/etc/ssl/"
            "rds%20ca.pem&connect-timeout=2500ms&read-timeout=60s");
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));

  mysql::ConnectOptions socket;
  socket.socket = "/run/mysqld/mysqld.sock";
  EXPECT_EQ(FormatDsn(socket), "mysql://localhost/?socket=/run/mysqld/mysqld.sock");

  mysql::ConnectOptions v6;
  v6.host = "::1";
  v6.user = "a@b";
  EXPECT_EQ(FormatDsn(v6), "mysql://a%40b@[::1]:3306/");
}

TEST(DsnTest, FormatRoundTrips) {
  mysql::ConnectOptions options;
  options.host = "db1";
  options.port = 3310;
  options.user = "mon itor";
  options.database = "ord/ers";
  options.tls.mode = mysql::TlsMode::kVerifyIdentity;
  options.tls.capath = "/etc/ssl/certs";
  options.tls.cert = "/c.pem";
  options.tls.key = "/k.pem";
  options.tls.cipher = "A:B";
  options.write_timeout = milliseconds(1234);
  const mysql::ConnectOptions back = Applied(FormatDsn(options));
  EXPECT_EQ(back.host, options.host);
  EXPECT_EQ(back.port, options.port);
  EXPECT_EQ(back.user, options.user);
  EXPECT_EQ(back.database, options.database);
  EXPECT_EQ(back.tls.mode, options.tls.mode);
  EXPECT_EQ(back.tls.capath, options.tls.capath);
  EXPECT_EQ(back.tls.cert, options.tls.cert);
  EXPECT_EQ(back.tls.key, options.tls.key);
  EXPECT_EQ(back.tls.cipher, options.tls.cipher);
  EXPECT_EQ(back.write_timeout, options.write_timeout);
  EXPECT_EQ(FormatDsn(back), FormatDsn(options));
}

}  // namespace
}  // namespace dbrunbook::config
