// ResolveConnectOptions, ConnectOptionsFromDsn and FindConfigFile: the parts of the config
// module that read the environment, password files and option files.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/test_files.h"

namespace dbrunbook::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::TempDir;

constexpr fs::perms kPrivate = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kShared = kPrivate | fs::perms::group_read | fs::perms::others_read;

// The one target of a configuration holding `yaml_target` (a flow mapping).
TargetConfig Target(std::string_view yaml_target) {
  auto config = ParseConfig(fmt::format("targets:\n  - {}\n", yaml_target), "dbrunbook.yaml",
                            core::MapEnvironment());
  if (!config) {
    for (const auto& d : config.error()) ADD_FAILURE() << d.ToString();
    return TargetConfig{};
  }
  EXPECT_EQ(config->targets.size(), 1u);
  return config->targets.front();
}

// An environment with HOME pointing at an empty directory, so a developer's real ~/.my.cnf
// never leaks into a test.
class ResolveTest : public ::testing::Test {
 protected:
  ResolveTest() { env_.Set("HOME", home_.path()); }

  core::Result<mysql::ConnectOptions> Resolve(const TargetConfig& target) {
    warnings_.clear();
    return ResolveConnectOptions(target, env_, &warnings_);
  }

  std::string ResolveError(const TargetConfig& target) {
    auto options = Resolve(target);
    if (options) return "<resolved>";
    return options.error().ToString();
  }

  std::vector<std::string> WarningTexts() const {
    std::vector<std::string> out;
    for (const auto& w : warnings_) out.push_back(w.ToString());
    return out;
  }

  TempDir home_;
  TempDir files_;
  core::MapEnvironment env_;
  std::vector<Diagnostic> warnings_;
};

TEST_F(ResolveTest, ReadsThePasswordFromTheEnvironment) {
  env_.Set("ORDERS_DB_PASSWORD", "s3cret PW ");
  const TargetConfig target =
      Target("{name: orders-primary, host: db1, user: monitor, password_env: ORDERS_DB_PASSWORD}");
  auto options = Resolve(target);
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(options->target_name, "orders-primary");
  EXPECT_EQ(options->host, "db1");
  EXPECT_EQ(options->user, "monitor");
  EXPECT_EQ(options->password.Reveal(), "s3cret PW ");  // taken as is
  EXPECT_EQ(options->password_source, "password_env ORDERS_DB_PASSWORD");
  EXPECT_THAT(warnings_, IsEmpty());
}

TEST_F(ResolveTest, SaysWhatToDoWhenThePasswordVariableIsMissing) {
  const TargetConfig target =
      Target("{name: orders-primary, host: db1, password_env: ORDERS_DB_PASSWORD}");
  auto options = Resolve(target);
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_EQ(options.error().ToString(),
            "target 'orders-primary': environment variable ORDERS_DB_PASSWORD is not set — "
            "export it or change password_env");
  env_.Set("ORDERS_DB_PASSWORD", "");
  EXPECT_EQ(ResolveError(target),
            "target 'orders-primary': environment variable ORDERS_DB_PASSWORD is empty — export "
            "it or change password_env");
}

TEST_F(ResolveTest, ReadsThePasswordFileWithoutItsTrailingNewline) {
  const std::string lf = files_.Write("lf.pw", "s3cretPW\n");
  const std::string crlf = files_.Write("crlf.pw", "s3cretPW\r\n");
  const std::string bare = files_.Write("bare.pw", "s3cretPW");
  const std::string two = files_.Write("two.pw", "s3cretPW\n\n");
  for (const auto& [path, expected] : std::vector<std::pair<std::string, std::string>>{
           {lf, "s3cretPW"}, {crlf, "s3cretPW"}, {bare, "s3cretPW"}, {two, "s3cretPW\n"}}) {
    auto options = Resolve(Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", path)));
    ASSERT_TRUE(options) << options.error().ToString();
    EXPECT_EQ(options->password.Reveal(), expected) << path;
    EXPECT_EQ(options->password_source, "password_file " + path);
  }
  EXPECT_THAT(warnings_, IsEmpty());
}

TEST_F(ResolveTest, ReportsMissingOrEmptyPasswordFiles) {
  const std::string missing = files_.Path("missing.pw");
  auto options = Resolve(Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", missing)));
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(options.error().ToString(),
            fmt::format("target 'a': password_file {} does not exist — create it (chmod 600) or "
                        "change password_file",
                        missing));
  const std::string empty = files_.Write("empty.pw", "\n");
  EXPECT_EQ(ResolveError(Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", empty))),
            fmt::format("target 'a': password_file {} is empty — write the password on its "
                        "first line",
                        empty));
  EXPECT_THAT(
      ResolveError(Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", files_.path()))),
      HasSubstr("is not a small regular file"));
}

TEST_F(ResolveTest, WarnsAboutPasswordFilesOthersCanRead) {
  const std::string shared = files_.Write("shared.pw", "s3cretPW\n", kShared);
  auto options = Resolve(Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", shared)));
  ASSERT_TRUE(options);
  EXPECT_THAT(WarningTexts(),
              ElementsAre(fmt::format("warning: target 'a': password_file {0} holds a password "
                                      "and is readable by other users — chmod 600 {0}",
                                      shared)));
  EXPECT_THAT(WarningTexts()[0], Not(HasSubstr("s3cretPW")));
  // Without a warnings list, nothing is reported and nothing fails.
  EXPECT_TRUE(ResolveConnectOptions(
      Target(fmt::format("{{name: a, host: h, password_file: '{}'}}", shared)), env_));
}

TEST_F(ResolveTest, LayersTheDefaultsFileUnderExplicitKeys) {
  const std::string cnf = files_.Write("orders.cnf",
                                       "[client]\n"
                                       "user=cnf-user\n"
                                       "password=\"cnf pw\"\n"
                                       "host=cnf-host\n"
                                       "port=3310\n"
                                       "database=cnfdb\n"
                                       "ssl-mode=VERIFY_CA\n"
                                       "ssl-ca=/cnf/ca.pem\n"
                                       "connect-timeout=9\n");
  auto options = Resolve(Target(fmt::format(
      "{{name: a, host: key-host, user: key-user, defaults_file: '{}', read_timeout: 3s}}", cnf)));
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(options->host, "key-host");  // explicit keys win
  EXPECT_EQ(options->user, "key-user");
  EXPECT_EQ(options->port, 3310);  // the option file fills in the rest
  EXPECT_EQ(options->database, "cnfdb");
  EXPECT_EQ(options->password.Reveal(), "cnf pw");
  EXPECT_EQ(options->password_source, "defaults_file " + cnf);
  EXPECT_EQ(options->tls.mode, mysql::TlsMode::kVerifyCa);
  EXPECT_EQ(options->tls.ca, "/cnf/ca.pem");
  EXPECT_EQ(options->connect_timeout, milliseconds(9000));
  EXPECT_EQ(options->read_timeout, milliseconds(3000));
  EXPECT_THAT(warnings_, IsEmpty());
}

TEST_F(ResolveTest, AnExplicitPasswordSourceWinsOverTheDefaultsFile) {
  const std::string cnf = files_.Write("orders.cnf", "[client]\nuser=u\npassword=from-cnf\n");
  env_.Set("PW", "from-env");
  auto options = Resolve(
      Target(fmt::format("{{name: a, host: h, password_env: PW, defaults_file: '{}'}}", cnf)));
  ASSERT_TRUE(options);
  EXPECT_EQ(options->password.Reveal(), "from-env");
  EXPECT_EQ(options->password_source, "password_env PW");
  EXPECT_EQ(options->user, "u");
}

TEST_F(ResolveTest, TheDefaultsFileMayGiveTheWholeAddress) {
  const std::string cnf = files_.Write("all.cnf", "[client]\nsocket=/run/x.sock\nuser=u\n");
  auto options = Resolve(Target(fmt::format("{{name: a, defaults_file: '{}'}}", cnf)));
  ASSERT_TRUE(options);
  EXPECT_EQ(options->socket, "/run/x.sock");
}

TEST_F(ResolveTest, WarnsAboutAnOptionFilePasswordOthersCanRead) {
  const std::string cnf = files_.Write("shared.cnf", "[client]\npassword=pw\n", kShared);
  auto options = Resolve(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", cnf)));
  ASSERT_TRUE(options);
  EXPECT_THAT(WarningTexts(), ElementsAre(HasSubstr(fmt::format(
                                  "defaults_file {} holds a password and is readable", cnf))));
  const std::string no_pw = files_.Write("nopw.cnf", "[client]\nuser=u\n", kShared);
  ASSERT_TRUE(Resolve(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", no_pw))));
  EXPECT_THAT(warnings_, IsEmpty());
}

TEST_F(ResolveTest, ReportsOptionFileErrorsWithTargetAndLine) {
  const std::string cnf =
      files_.Write("bad.cnf", "[client]\npassword=s3cretPW\nport=s3cretPW-not-a-port\n");
  const std::string error =
      ResolveError(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", cnf)));
  EXPECT_THAT(error, HasSubstr(fmt::format("target 'a': {}:3: port", cnf)));
  const std::string missing = files_.Path("missing.cnf");
  EXPECT_EQ(ResolveError(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", missing))),
            fmt::format("target 'a': option file {}: does not exist — check the path and its "
                        "permissions",
                        missing));
  const std::string quoted = files_.Write("quote.cnf", "[client]\npassword=\"s3cretPW\n");
  const std::string quote_error =
      ResolveError(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", quoted)));
  EXPECT_THAT(quote_error, HasSubstr(quoted + ":2: unterminated quote"));
  EXPECT_THAT(quote_error, Not(HasSubstr("s3cretPW")));
}

TEST_F(ResolveTest, UsesTheHomeMyCnfOnlyWithoutAPasswordSource) {
  home_.Write(".my.cnf", "[client]\nuser=home-user\npassword=home-pw\nport=3399\n");
  auto options = Resolve(Target("{name: a, host: h}"));
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(options->user, "home-user");
  EXPECT_EQ(options->password.Reveal(), "home-pw");
  EXPECT_EQ(options->port, 3399);
  EXPECT_EQ(options->password_source, "option file " + home_.Path(".my.cnf"));

  env_.Set("PW", "env-pw");
  auto with_env = Resolve(Target("{name: a, host: h, password_env: PW}"));
  ASSERT_TRUE(with_env);
  EXPECT_EQ(with_env->user, "");  // ~/.my.cnf was not read at all
  EXPECT_EQ(with_env->port, 3306);

  const std::string cnf = files_.Write("a.cnf", "[client]\nuser=cnf-user\n");
  auto with_file = Resolve(Target(fmt::format("{{name: a, host: h, defaults_file: '{}'}}", cnf)));
  ASSERT_TRUE(with_file);
  EXPECT_EQ(with_file->user, "cnf-user");
  EXPECT_TRUE(with_file->password.empty());
}

TEST_F(ResolveTest, WorksWithoutHomeOrHomeMyCnf) {
  auto options = Resolve(Target("{name: a, host: h, user: u}"));
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->password.empty());
  EXPECT_EQ(options->password_source, "");
  core::MapEnvironment no_home;
  EXPECT_TRUE(ResolveConnectOptions(Target("{name: a, host: h}"), no_home));
}

TEST_F(ResolveTest, ChecksTheCaOnceTheOptionFileIsRead) {
  const std::string with_ca = files_.Write("ca.cnf", "[client]\nssl-ca=/cnf/ca.pem\n");
  const std::string without = files_.Write("noca.cnf", "[client]\nuser=u\n");
  auto ok = Resolve(Target(fmt::format(
      "{{name: a, host: h, defaults_file: '{}', tls: {{mode: VERIFY_IDENTITY}}}}", with_ca)));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->tls.ca, "/cnf/ca.pem");
  EXPECT_EQ(ResolveError(Target(fmt::format(
                "{{name: a, host: h, defaults_file: '{}', tls: {{mode: VERIFY_CA}}}}", without))),
            "target 'a': tls mode VERIFY_CA needs a CA to check the server certificate against — "
            "set tls.ca or tls.capath (or ssl-ca in the defaults_file)");
}

// ----- ConnectOptionsFromDsn -----

TEST_F(ResolveTest, ResolvesAnAdHocDsn) {
  env_.Set("PW", "s3cretPW");
  auto options = ConnectOptionsFromDsn("mysql://monitor@db1:3307/orders?ssl-mode=REQUIRED",
                                       DsnCredentials{"PW", "", ""}, env_, &warnings_);
  ASSERT_TRUE(options) << options.error().ToString();
  EXPECT_EQ(options->target_name, "mysql://monitor@db1:3307/orders?ssl-mode=REQUIRED");
  EXPECT_EQ(options->host, "db1");
  EXPECT_EQ(options->port, 3307);
  EXPECT_EQ(options->user, "monitor");
  EXPECT_EQ(options->database, "orders");
  EXPECT_EQ(options->tls.mode, mysql::TlsMode::kRequired);
  EXPECT_EQ(options->password.Reveal(), "s3cretPW");

  const std::string pw = files_.Write("pw", "file-pw\n");
  auto from_file =
      ConnectOptionsFromDsn("mariadb://m@db1/", DsnCredentials{"", pw, ""}, env_, &warnings_);
  ASSERT_TRUE(from_file);
  EXPECT_EQ(from_file->password.Reveal(), "file-pw");

  const std::string cnf = files_.Write("m.cnf", "[client]\nuser=cnf-user\npassword=cnf-pw\n");
  auto from_cnf = ConnectOptionsFromDsn("mysql://db1/", DsnCredentials{"", "", cnf}, env_);
  ASSERT_TRUE(from_cnf);
  EXPECT_EQ(from_cnf->user, "cnf-user");
  EXPECT_EQ(from_cnf->password.Reveal(), "cnf-pw");
}

TEST_F(ResolveTest, RejectsBadAdHocDsns) {
  auto both = ConnectOptionsFromDsn("mysql://db1/", DsnCredentials{"PW", "/pw", ""}, env_);
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(both.error().ToString(), "--password-env and --password-file are both given — use one");

  auto with_password = ConnectOptionsFromDsn("mysql://m:s3cretPW@db1/", DsnCredentials{}, env_);
  ASSERT_FALSE(with_password);
  EXPECT_THAT(with_password.error().ToString(), Not(HasSubstr("s3cretPW")));

  auto unset = ConnectOptionsFromDsn("mysql://db1/", DsnCredentials{"NOPE", "", ""}, env_);
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error().message,
            "target 'mysql://db1:3306/': environment variable NOPE is not set");

  auto no_ca = ConnectOptionsFromDsn("mysql://db1/?ssl-mode=VERIFY_CA", DsnCredentials{}, env_);
  ASSERT_FALSE(no_ca);
  EXPECT_THAT(no_ca.error().message, HasSubstr("needs a CA"));
}

// ----- FindConfigFile -----

TEST(FindConfigFileTest, PrefersTheCommandLine) {
  TempDir dir;
  const std::string cli = dir.Write("cli.yaml", "targets: []\n");
  const std::string env_file = dir.Write("env.yaml", "targets: []\n");
  dir.Write("dbrunbook.yaml", "targets: []\n");
  const core::MapEnvironment env({{"DBRUNBOOK_CONFIG", env_file}});
  EXPECT_EQ(FindConfigFile(cli, env, dir.path()), cli);
  auto missing = FindConfigFile(dir.Path("nope.yaml"), env, dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(
      missing.error().message,
      fmt::format("configuration file {} (from --config) does not exist", dir.Path("nope.yaml")));
  EXPECT_FALSE(FindConfigFile(dir.path(), env, dir.path()));  // a directory is not a file
}

TEST(FindConfigFileTest, ThenTheEnvironmentVariable) {
  TempDir dir;
  const std::string env_file = dir.Write("env.yaml", "targets: []\n");
  dir.Write("dbrunbook.yaml", "targets: []\n");
  EXPECT_EQ(FindConfigFile(std::nullopt, core::MapEnvironment({{"DBRUNBOOK_CONFIG", env_file}}),
                           dir.path()),
            env_file);
  auto missing = FindConfigFile(std::nullopt,
                                core::MapEnvironment({{"DBRUNBOOK_CONFIG", dir.Path("nope.yaml")}}),
                                dir.path());
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("(from DBRUNBOOK_CONFIG) does not exist"));
  // An empty DBRUNBOOK_CONFIG counts as unset.
  EXPECT_EQ(FindConfigFile(
                std::nullopt,
                core::MapEnvironment(std::map<std::string, std::string>{{"DBRUNBOOK_CONFIG", ""}}),
                dir.path()),
            dir.Path("dbrunbook.yaml"));
}

TEST(FindConfigFileTest, ThenTheWorkingDirectoryThenTheUserConfigDirectory) {
  TempDir work;
  TempDir home;
  TempDir xdg;
  const core::MapEnvironment with_home({{"HOME", home.path()}});
  const core::MapEnvironment with_xdg({{"HOME", home.path()}, {"XDG_CONFIG_HOME", xdg.path()}});

  auto none = FindConfigFile(std::nullopt, with_home, work.path());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().ToString(),
            fmt::format("no configuration file found (tried {}/dbrunbook.yaml, "
                        "{}/.config/dbrunbook/dbrunbook.yaml) — create dbrunbook.yaml, pass "
                        "--config FILE or set DBRUNBOOK_CONFIG",
                        work.path(), home.path()));
  auto none_xdg = FindConfigFile(std::nullopt, with_xdg, work.path());
  ASSERT_FALSE(none_xdg);
  EXPECT_THAT(none_xdg.error().message, HasSubstr(xdg.path() + "/dbrunbook/dbrunbook.yaml"));

  const std::string in_home = home.Write(".config/dbrunbook/dbrunbook.yaml", "targets: []\n");
  EXPECT_EQ(FindConfigFile(std::nullopt, with_home, work.path()), in_home);
  const std::string in_xdg = xdg.Write("dbrunbook/dbrunbook.yaml", "targets: []\n");
  EXPECT_EQ(FindConfigFile(std::nullopt, with_xdg, work.path()), in_xdg);
  const std::string in_work = work.Write("dbrunbook.yaml", "targets: []\n");
  EXPECT_EQ(FindConfigFile(std::nullopt, with_xdg, work.path()), in_work);
}

}  // namespace
}  // namespace dbrunbook::config
