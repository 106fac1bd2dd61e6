#include "config/option_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_files.h"

namespace dbrunbook::config {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

std::string Value(const OptionSet& options, std::string_view name) {
  const OptionValue* v = options.Find(name);
  return v == nullptr ? "<unset>" : v->value;
}

OptionSet Parse(std::string_view text) {
  auto parsed = ParseOptionText(text, "/etc/my.cnf");
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  return parsed ? *parsed : OptionSet{};
}

std::string ParseError(std::string_view text) {
  auto parsed = ParseOptionText(text, "/etc/my.cnf");
  if (parsed) return "<parsed>";
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kInvalidConfig);
  return parsed.error().ToString();
}

TEST(OptionFileTest, ReadsTheDefaultGroupsOnly) {
  const OptionSet options = Parse(
      "[mysqld]\n"
      "port=3310\n"
      "datadir = /var/lib/mysql\n"
      "[client]\n"
      "user=monitor\n"
      "[mysql]\n"
      "user=root\n"
      "[client-mariadb]\n"
      "host = db1\n"
      "[DBRunbook]\n"  // group names compare case-insensitively
      "database=orders\n");
  EXPECT_EQ(Value(options, "user"), "monitor");
  EXPECT_EQ(Value(options, "host"), "db1");
  EXPECT_EQ(Value(options, "database"), "orders");
  EXPECT_EQ(Value(options, "port"), "<unset>");
  EXPECT_EQ(Value(options, "datadir"), "<unset>");
}

TEST(OptionFileTest, ReadsRequestedGroups) {
  auto parsed = ParseOptionText("[client]\nuser=a\n[mysql]\nuser=b\n", "x.cnf", {"mysql"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Value(*parsed, "user"), "b");
}

TEST(OptionFileTest, ParsesAssignmentsSwitchesAndLocations) {
  const OptionSet options = Parse(
      "# comment\n"
      "; another comment\n"
      "\n"
      "[client]\n"
      "user=monitor\n"
      "  host  =  db1  \n"
      "ssl\n"
      "port =\n");
  EXPECT_EQ(Value(options, "user"), "monitor");
  EXPECT_EQ(Value(options, "host"), "db1");
  const OptionValue* ssl = options.Find("ssl");
  ASSERT_NE(ssl, nullptr);
  EXPECT_FALSE(ssl->has_value);
  EXPECT_EQ(ssl->line, 7);
  EXPECT_EQ(ssl->Where(), "/etc/my.cnf:7");
  const OptionValue* port = options.Find("port");
  ASSERT_NE(port, nullptr);
  EXPECT_TRUE(port->has_value);
  EXPECT_EQ(port->value, "");
  EXPECT_EQ(options.Find("host")->Where(), "/etc/my.cnf:6");
}

TEST(OptionFileTest, UnquotesAndUnescapes) {
  const OptionSet options = Parse(
      "[client]\n"
      "a = \"two words\"\n"
      "b = 'single # not a comment'\n"
      "c = \"tab\\there\\nnewline \\\\ back \\s space \\\" quote \\' apostrophe\"\n"
      "d = C:\\path\\x\n"
      "e = \"quoted\"   # trailing comment\n"
      "f = 'it\\'s'\n"
      "g = \"\"\n");
  EXPECT_EQ(Value(options, "a"), "two words");
  EXPECT_EQ(Value(options, "b"), "single # not a comment");
  EXPECT_EQ(Value(options, "c"), "tab\there\nnewline \\ back   space \" quote ' apostrophe");
  EXPECT_EQ(Value(options, "d"), "C:\\path\\x");  // unknown escapes are kept
  EXPECT_EQ(Value(options, "e"), "quoted");
  EXPECT_EQ(Value(options, "f"), "it's");
  EXPECT_EQ(Value(options, "g"), "");
}

TEST(OptionFileTest, StripsTrailingCommentsOnlyAfterABlank) {
  const OptionSet options = Parse(
      "[client]\n"
      "password=ab#cd\n"
      "user = monitor # the monitoring account\n"
      "host=db1\t# tab before the comment\n"
      "ssl # a switch with a comment\n"
      "[client] # a comment after a group\n"
      "socket=/tmp/a;b\n");
  EXPECT_EQ(Value(options, "password"), "ab#cd");
  EXPECT_EQ(Value(options, "user"), "monitor");
  EXPECT_EQ(Value(options, "host"), "db1");
  EXPECT_FALSE(options.Find("ssl")->has_value);
  EXPECT_EQ(Value(options, "socket"), "/tmp/a;b");
}

TEST(OptionFileTest, TreatsDashAndUnderscoreAlikeAndUnderstandsPrefixes) {
  const OptionSet options = Parse(
      "[client]\n"
      "ssl_ca=/ca.pem\n"
      "loose-ssl-cipher=X\n"
      "skip-ssl\n"
      "enable-ssl-verify-server-cert\n"
      "disable_compress\n");
  EXPECT_EQ(Value(options, "ssl-ca"), "/ca.pem");
  EXPECT_EQ(Value(options, "ssl_ca"), "/ca.pem");
  EXPECT_EQ(Value(options, "ssl-cipher"), "X");
  EXPECT_EQ(Value(options, "ssl"), "0");
  EXPECT_EQ(Value(options, "ssl-verify-server-cert"), "1");
  EXPECT_EQ(Value(options, "compress"), "0");
}

TEST(OptionFileTest, LaterValuesOverrideEarlierOnesAcrossGroups) {
  const OptionSet options = Parse(
      "[dbrunbook]\n"
      "user=first\n"
      "[client]\n"
      "user=second\n"
      "port=1\n"
      "port=2\n"
      "[mysqld]\n"
      "user=ignored\n");
  EXPECT_EQ(Value(options, "user"), "second");
  EXPECT_EQ(Value(options, "port"), "2");
  EXPECT_EQ(options.Find("port")->line, 6);
}

TEST(OptionFileTest, SkipsUncheckedLinesOfOtherGroups) {
  const OptionSet options = Parse(
      "[mysqld]\n"
      "this line is odd but belongs to the server\n"
      "x = \"unterminated\n"
      "[client]\n"
      "user=monitor\n");
  EXPECT_EQ(Value(options, "user"), "monitor");
}

TEST(OptionFileTest, ReportsSyntaxErrorsWithFileAndLine) {
  EXPECT_EQ(ParseError("user=monitor\n"),
            "/etc/my.cnf:1: option outside any [group] — put it under a group such as [client]");
  EXPECT_THAT(ParseError("[client]\n\n[client\n"),
              HasSubstr("/etc/my.cnf:3: malformed group header"));
  EXPECT_THAT(ParseError("[client] extra\n"), HasSubstr("/etc/my.cnf:1: malformed group header"));
  EXPECT_THAT(ParseError("[ ]\n"), HasSubstr("/etc/my.cnf:1: empty group name"));
  EXPECT_THAT(ParseError("[client]\nfoo bar\n"),
              HasSubstr("/etc/my.cnf:2: expected `name`, `name = value`, `[group]` or a ! "
                        "directive"));
  EXPECT_THAT(ParseError("[client]\n=value\n"), HasSubstr("/etc/my.cnf:2: expected"));
  EXPECT_THAT(ParseError("[client]\nuser=\"monitor\n"),
              HasSubstr("/etc/my.cnf:2: unterminated quote"));
  EXPECT_THAT(ParseError("[client]\nuser=\"a\"b\n"),
              HasSubstr("/etc/my.cnf:2: text after the closing quote"));
  EXPECT_THAT(ParseError("!includ /x\n"), HasSubstr("/etc/my.cnf:1: unknown directive '!includ'"));
  EXPECT_THAT(ParseError("!include\n"), HasSubstr("/etc/my.cnf:1: !include needs a path"));
}

TEST(OptionFileTest, NeverEchoesAValueInSyntaxErrors) {
  EXPECT_THAT(ParseError("[client]\npassword=\"s3cretPW\n"), Not(HasSubstr("s3cretPW")));
  EXPECT_THAT(ParseError("[client]\npassword=\"s3cretPW\"x\n"), Not(HasSubstr("s3cretPW")));
}

TEST(OptionFileTest, FollowsIncludesAndIncludeDirs) {
  TempDir dir;
  dir.Write("conf.d/20-tls.cnf", "[client]\nssl-ca=/from/20\nhost=from-20\n");
  dir.Write("conf.d/10-user.cnf", "[client]\nuser=from-10\nhost=from-10\n");
  dir.Write("conf.d/30-ignored.conf", "[client]\nuser=not-a-cnf-file\n");
  dir.Write("extra/creds.cnf", "[client]\npassword=pw\n");
  const std::string main = dir.Write("my.cnf",
                                     "[client]\n"
                                     "host=main\n"
                                     "!includedir " +
                                         dir.Path("conf.d") +
                                         "\n"
                                         "port=3307\n"
                                         "!include extra/creds.cnf\n");
  auto options = ReadOptionFile(main);
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(Value(*options, "user"), "from-10");
  EXPECT_EQ(Value(*options, "host"), "from-20");  // sorted: 20 after 10, both after main
  EXPECT_EQ(Value(*options, "ssl-ca"), "/from/20");
  EXPECT_EQ(Value(*options, "port"), "3307");  // the including file is still in [client]
  EXPECT_EQ(options->Find("password")->Where(), dir.Path("extra/creds.cnf") + ":2");
  EXPECT_EQ(options->files,
            (std::vector<std::string>{main, dir.Path("conf.d/10-user.cnf"),
                                      dir.Path("conf.d/20-tls.cnf"), dir.Path("extra/creds.cnf")}));
}

TEST(OptionFileTest, AnIncludedFileStartsOutsideAnyGroup) {
  TempDir dir;
  dir.Write("server.cnf", "[mysqld]\nuser=mysql\n");
  const std::string main = dir.Write("my.cnf", "[client]\n!include server.cnf\nhost=db1\n");
  auto options = ReadOptionFile(main);
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(Value(*options, "user"), "<unset>");
  EXPECT_EQ(Value(*options, "host"), "db1");

  dir.Write("groupless.cnf", "user=x\n");
  const std::string bad = dir.Write("bad.cnf", "[client]\n!include groupless.cnf\n");
  auto error = ReadOptionFile(bad);
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error().message, HasSubstr(dir.Path("groupless.cnf") + ":1: option outside"));
}

TEST(OptionFileTest, ReportsUnreadableIncludesAtTheDirective) {
  TempDir dir;
  const std::string main = dir.Write("my.cnf", "[client]\nuser=a\n!include /nonexistent/x.cnf\n");
  auto options = ReadOptionFile(main);
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(options.error().message,
              HasSubstr(main + ":3: included file /nonexistent/x.cnf: does not exist"));

  const std::string dir_main = dir.Write("d.cnf", "!includedir /nonexistent-dir\n");
  auto listed = ReadOptionFile(dir_main);
  ASSERT_FALSE(listed);
  EXPECT_THAT(listed.error().message,
              HasSubstr(dir_main + ":1: cannot list included directory /nonexistent-dir"));
}

TEST(OptionFileTest, StopsIncludeCycles) {
  TempDir dir;
  const std::string a = dir.Write("a.cnf", "[client]\n!include b.cnf\n");
  dir.Write("b.cnf", "!include a.cnf\n");
  auto options = ReadOptionFile(a);
  ASSERT_FALSE(options);
  EXPECT_THAT(options.error().message, HasSubstr("includes nested deeper than 10"));
}

TEST(OptionFileTest, ReportsMissingTopFile) {
  auto options = ReadOptionFile("/nonexistent/my.cnf");
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(options.error().message, "option file /nonexistent/my.cnf: does not exist");
  TempDir dir;
  auto directory = ReadOptionFile(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, core::ErrorCode::kIo);
}

TEST(OptionFileTest, HandlesCrLfAndBom) {
  const OptionSet options = Parse("\xEF\xBB\xBF[client]\r\nuser=monitor\r\nhost = \"db1\"\r\n");
  EXPECT_EQ(Value(options, "user"), "monitor");
  EXPECT_EQ(Value(options, "host"), "db1");
}

// ----- OptionsToConnectSettings -----

ConnectSettings Settings(std::string_view text) {
  auto settings = OptionsToConnectSettings(Parse(text));
  EXPECT_TRUE(settings) << settings.error().ToString();
  return settings ? *settings : ConnectSettings{};
}

std::string SettingsError(std::string_view text) {
  auto settings = OptionsToConnectSettings(Parse(text));
  if (settings) return "<ok>";
  EXPECT_EQ(settings.error().code, core::ErrorCode::kInvalidConfig);
  return settings.error().ToString();
}

TEST(OptionFileTest, MapsConnectionOptions) {
  const ConnectSettings s = Settings(
      "[client]\n"
      "user=monitor\n"
      "password=\"p#ss word\"\n"
      "host=db1\n"
      "port=3310\n"
      "socket=/run/mysqld/mysqld.sock\n"
      "database=orders\n"
      "ssl-mode=verify_ca\n"
      "ssl-ca=/ca.pem\n"
      "ssl-capath=/certs\n"
      "ssl-cert=/c.pem\n"
      "ssl-key=/k.pem\n"
      "ssl-cipher=AES\n"
      "connect-timeout=7\n"
      "default-character-set=utf8mb4\n");
  EXPECT_EQ(s.user, "monitor");
  ASSERT_TRUE(s.password);
  EXPECT_EQ(s.password->Reveal(), "p#ss word");
  EXPECT_EQ(s.password_source, "defaults_file /etc/my.cnf");
  EXPECT_EQ(s.host, "db1");
  EXPECT_EQ(s.port, 3310);
  EXPECT_EQ(s.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(s.database, "orders");
  EXPECT_EQ(s.tls_mode, mysql::TlsMode::kVerifyCa);
  EXPECT_EQ(s.tls_ca, "/ca.pem");
  EXPECT_EQ(s.tls_capath, "/certs");
  EXPECT_EQ(s.tls_cert, "/c.pem");
  EXPECT_EQ(s.tls_key, "/k.pem");
  EXPECT_EQ(s.tls_cipher, "AES");
  EXPECT_EQ(s.connect_timeout, milliseconds(7000));
  EXPECT_FALSE(s.read_timeout);
}

TEST(OptionFileTest, EmptyValuesLeaveDefaultsButAnEmptyPasswordIsAPassword) {
  const ConnectSettings s = Settings("[client]\nhost=\nuser=\npassword=\n");
  EXPECT_FALSE(s.host);
  EXPECT_FALSE(s.user);
  ASSERT_TRUE(s.password);
  EXPECT_TRUE(s.password->empty());
}

TEST(OptionFileTest, MapsTheClientTlsSwitches) {
  auto mode = [](std::string_view text) { return Settings(text).tls_mode; };
  using mysql::TlsMode;
  EXPECT_EQ(mode("[client]\nssl\n"), TlsMode::kRequired);
  EXPECT_EQ(mode("[client]\nssl=1\n"), TlsMode::kRequired);
  EXPECT_EQ(mode("[client]\nenable-ssl\n"), TlsMode::kRequired);
  EXPECT_EQ(mode("[client]\nskip-ssl\n"), TlsMode::kDisabled);
  EXPECT_EQ(mode("[client]\nssl=0\n"), TlsMode::kDisabled);
  EXPECT_EQ(mode("[client]\ndisable-ssl\n"), TlsMode::kDisabled);
  EXPECT_EQ(mode("[client]\nssl-verify-server-cert\n"), TlsMode::kVerifyIdentity);
  EXPECT_EQ(mode("[client]\nssl\nssl-verify-server-cert=1\n"), TlsMode::kVerifyIdentity);
  EXPECT_EQ(mode("[client]\nskip-ssl\nssl-verify-server-cert\n"), TlsMode::kDisabled);
  EXPECT_EQ(mode("[client]\nssl-verify-server-cert=0\n"), std::nullopt);
  EXPECT_EQ(mode("[client]\nssl\nssl-verify-server-cert=OFF\n"), TlsMode::kRequired);
  EXPECT_EQ(mode("[client]\nssl-mode=PREFERRED\nssl\nssl-verify-server-cert\n"),
            TlsMode::kPreferred);
  EXPECT_EQ(mode("[client]\nskip-ssl\nssl\n"), TlsMode::kRequired);  // the later line wins
  EXPECT_EQ(mode("[client]\nuser=x\n"), std::nullopt);
}

TEST(OptionFileTest, ReportsBadValuesWithFileAndLine) {
  EXPECT_EQ(SettingsError("[client]\nport=abc\n"),
            "/etc/my.cnf:2: port 'abc' is not a number from 1 to 65535");
  EXPECT_THAT(SettingsError("[client]\nport=70000\n"), HasSubstr("/etc/my.cnf:2: port"));
  EXPECT_EQ(SettingsError("[client]\n\nssl-mode=VERIFYCA\n"),
            "/etc/my.cnf:3: unknown ssl-mode 'VERIFYCA' — did you mean VERIFY_CA?");
  EXPECT_THAT(SettingsError("[client]\nssl=maybe\n"),
              HasSubstr("/etc/my.cnf:2: ssl must be 0 or 1"));
  EXPECT_THAT(SettingsError("[client]\nconnect-timeout=soon\n"),
              HasSubstr("/etc/my.cnf:2: connect-timeout"));
  EXPECT_THAT(SettingsError("[client]\nhost\n"), HasSubstr("/etc/my.cnf:2: host needs a value"));
  EXPECT_THAT(SettingsError("[client]\npassword\n"),
              HasSubstr("/etc/my.cnf:2: password without a value (the mysql client would "
                        "prompt; dbrunbook cannot)"));
}

}  // namespace
}  // namespace dbrunbook::config
