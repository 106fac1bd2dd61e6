// DBRUNBOOK_* environment overrides (config.h, "Environment overrides").
#include "config/overrides.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace dbrunbook::config {
namespace {

using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kBase = R"(targets:
  - name: orders-primary
    host: 127.0.0.1
    user: monitor
    tls: {mode: VERIFY_CA, ca: /ca.pem}
    tags: {team-name: dba}
  - name: orders.replica_2
    host: 10.0.0.12
assess:
  thresholds:
    threads_running: {warn: 10, critical: 30}
)";

Config Parse(std::map<std::string, std::string> vars, std::string_view yaml = kBase) {
  const core::MapEnvironment env(std::move(vars));
  auto config = ParseConfig(yaml, "/etc/dbrunbook/dbrunbook.yaml", env);
  if (!config) {
    for (const auto& d : config.error()) ADD_FAILURE() << d.ToString();
    return Config{};
  }
  return *config;
}

std::vector<std::string> Errors(std::map<std::string, std::string> vars,
                                std::string_view yaml = kBase) {
  const core::MapEnvironment env(std::move(vars));
  auto config = ParseConfig(yaml, "/etc/dbrunbook/dbrunbook.yaml", env);
  if (config) {
    ADD_FAILURE() << "expected errors";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& d : config.error()) out.push_back(d.ToString());
  return out;
}

TEST(OverridesTest, NamesTargetsInEnvironmentForm) {
  EXPECT_EQ(EnvironmentName("orders-primary"), "ORDERS_PRIMARY");
  EXPECT_EQ(EnvironmentName("orders.replica_2"), "ORDERS_REPLICA_2");
  EXPECT_EQ(EnvironmentName("Db1"), "DB1");
}

TEST(OverridesTest, AppliesTheDocumentedExamples) {
  const Config config = Parse({
      {"DBRUNBOOK_ASSESS__INTERVAL", "2s"},
      {"DBRUNBOOK_LOG__LEVEL", "debug"},
      {"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT", "3307"},
      {"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TLS__MODE", "REQUIRED"},
      {"DBRUNBOOK_ASSESS__THRESHOLDS__THREADS_RUNNING__WARN", "20"},
  });
  EXPECT_EQ(config.assess.interval, std::chrono::seconds(2));
  EXPECT_EQ(config.log_level, "debug");
  const TargetConfig& primary = config.targets[0];
  EXPECT_EQ(primary.connect.port, 3307);
  EXPECT_EQ(primary.connect.tls.mode, mysql::TlsMode::kRequired);
  EXPECT_EQ(primary.connect.tls.ca, "/ca.pem");  // the rest of tls stays
  const Threshold& threads = config.assess.thresholds.at("threads_running");
  EXPECT_EQ(threads.warn, 20);
  EXPECT_EQ(threads.critical, 30);
  // The override made ca pointless, and the warning says where the mode came from.
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_THAT(config.warnings[0].ToString(), HasSubstr("ca is ignored unless mode is VERIFY_CA"));
}

TEST(OverridesTest, AddressesTargetsWhoseNamesHaveDotsAndUnderscores) {
  const Config config = Parse({{"DBRUNBOOK_TARGETS__ORDERS_REPLICA_2__USER", "replmon"}});
  EXPECT_EQ(config.targets[1].connect.user, "replmon");
  EXPECT_EQ(config.targets[0].connect.user, "monitor");
}

TEST(OverridesTest, CreatesMissingSectionsAndKeys) {
  const Config config = Parse(
      {
          {"DBRUNBOOK_ASSESS__THRESHOLDS__REPLICATION_LAG_SECONDS__CRITICAL", "60"},
          {"DBRUNBOOK_TARGETS__A__TLS__MODE", "DISABLED"},
          {"DBRUNBOOK_TARGETS__A__THRESHOLDS__Threads_Running__WARN", "5"},
          {"DBRUNBOOK_DEFAULTS__CONNECT_TIMEOUT", "10s"},
      },
      "targets:\n  - {name: a, host: h}\n");
  ASSERT_EQ(config.assess.thresholds.count("replication_lag_seconds"), 1u);  // lower-cased
  EXPECT_EQ(config.assess.thresholds.at("replication_lag_seconds").critical, 60);
  EXPECT_EQ(config.assess.thresholds.at("replication_lag_seconds").where.ToString(),
            "environment DBRUNBOOK_ASSESS__THRESHOLDS__REPLICATION_LAG_SECONDS__CRITICAL");
  EXPECT_EQ(config.targets[0].connect.tls.mode, mysql::TlsMode::kDisabled);
  EXPECT_EQ(config.targets[0].thresholds.at("threads_running").warn, 5);
  EXPECT_EQ(config.targets[0].connect.connect_timeout, milliseconds(10000));
}

TEST(OverridesTest, MatchesFreeFormKeysInEnvironmentForm) {
  const Config config = Parse({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TAGS__TEAM_NAME", "payments"},
                               {"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TAGS__SERVICE", "orders"}});
  EXPECT_EQ(config.targets[0].tags,
            (std::map<std::string, std::string>{{"service", "orders"}, {"team-name", "payments"}}));
}

TEST(OverridesTest, AcceptsFlowListsAndMappings) {
  const Config config =
      Parse({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__REPLICAS", "[orders.replica_2]"},
             {"DBRUNBOOK_TARGETS__ORDERS_REPLICA_2__TAGS", "{role: replica}"}});
  EXPECT_THAT(config.targets[0].replicas, ElementsAre("orders.replica_2"));
  EXPECT_EQ(config.targets[1].tags.at("role"), "replica");
}

TEST(OverridesTest, IgnoresVariablesWithoutADoubleUnderscore) {
  const Config config = Parse({{"DBRUNBOOK_CONFIG", "/somewhere/else.yaml"},
                               {"DBRUNBOOK_LOG_LEVEL", "nonsense"},
                               {"DBRUNBOOK_SOURCE_DIR", "/work"},
                               {"DBRUNBOOK__X", "y"},
                               {"OTHER__THING", "1"},
                               {"dbrunbook_log__level", "nonsense"}});
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.targets.size(), 2u);
}

TEST(OverridesTest, ReportsBadValuesAtTheVariable) {
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT", "abc"}}),
              ElementsAre("environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT: targets[0] "
                          "(orders-primary).port: 'abc' is not a port number (1-65535)"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TLS__MODE", "VERIFYCA"}}),
              ElementsAre("environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TLS__MODE: targets[0] "
                          "(orders-primary).tls.mode: unknown value 'VERIFYCA' — did you mean "
                          "VERIFY_CA?"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_ASSESS__INTERVAL", "1h"}}),
              ElementsAre(HasSubstr("environment DBRUNBOOK_ASSESS__INTERVAL: assess.interval: 1h "
                                    "is out of range")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__REPLICAS", "[a, "}}),
              ElementsAre(HasSubstr("environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY__REPLICAS: "
                                    "YAML syntax error")));
}

TEST(OverridesTest, ReportsUnknownKeysAndTargets) {
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PROT", "3307"}}),
              ElementsAre("environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PROT: targets[0] "
                          "(orders-primary).prot: unknown key — did you mean port?"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_ASESS__INTERVAL", "2s"}}),
              ElementsAre("environment DBRUNBOOK_ASESS__INTERVAL: asess: unknown key — did you "
                          "mean assess?"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMRAY__PORT", "3307"}}),
              ElementsAre("environment DBRUNBOOK_TARGETS__ORDERS_PRIMRAY__PORT: no target is "
                          "named ORDERS_PRIMRAY (target names are written upper-case, with _ for "
                          "every other character) — did you mean ORDERS_PRIMARY?"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__NOPE__PORT", "3307"}}),
              ElementsAre(HasSubstr("— targets: ORDERS_PRIMARY, ORDERS_REPLICA_2")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__A__PORT", "1"}}, "targets: []\n"),
              ElementsAre(HasSubstr("no target is named A")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__A__PORT", "1"}}, "targets:\n"),
              ElementsAre("environment DBRUNBOOK_TARGETS__A__PORT: no target is named A: the "
                          "configuration has no targets"));
  // A failed override changes nothing: `targets` is still missing.
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__A__PORT", "1"}}, "log: {level: info}\n"),
              ElementsAre("environment DBRUNBOOK_TARGETS__A__PORT: no target is named A: the "
                          "configuration has no targets",
                          HasSubstr("dbrunbook.yaml: targets: missing")));
}

TEST(OverridesTest, ReportsMalformedOverrides) {
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY", "x"}}),
              ElementsAre("environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY: names a whole target — "
                          "name one of its keys, e.g. DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT"));
  EXPECT_THAT(Errors({{"DBRUNBOOK_LOG____LEVEL", "x"}}),
              ElementsAre(HasSubstr("environment DBRUNBOOK_LOG____LEVEL: empty path segment")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_ASSESS__THRESHOLDS__THREADS_RUNNING__WARN__X", "x"}}),
              ElementsAre(HasSubstr("cannot set a key under "
                                    "'assess.thresholds.threads_running.warn': it is a string "
                                    "(/etc/dbrunbook/dbrunbook.yaml:11:29), not a mapping")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__ORDERS_PRIMARY__HOST__NAME", "x"}}),
              ElementsAre(HasSubstr("cannot set a key under 'targets.ORDERS_PRIMARY.host': it is "
                                    "a string (/etc/dbrunbook/dbrunbook.yaml:3:11)")));
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__X", "y"}}, "targets: {}\n"),
              Contains(HasSubstr("no target is named X: targets is a mapping")));
}

TEST(OverridesTest, ReportsAmbiguousTargetNames) {
  EXPECT_THAT(Errors({{"DBRUNBOOK_TARGETS__A_B__PORT", "1"}},
                     "targets:\n  - {name: a-b, host: h}\n  - {name: a.b, host: h}\n"),
              ElementsAre(HasSubstr("more than one target is named A_B in environment form")));
}

TEST(OverridesTest, OverridesComeBeforeValidationRules) {
  // An override can fix a rule violation in the file...
  const Config fixed = Parse({{"DBRUNBOOK_TARGETS__A__TLS__MODE", "REQUIRED"}},
                             "targets:\n  - {name: a, host: h, tls: {mode: VERIFY_CA}}\n");
  EXPECT_EQ(fixed.targets[0].connect.tls.mode, mysql::TlsMode::kRequired);
  // ...or cause one, reported where the offending value came from.
  EXPECT_THAT(
      Errors({{"DBRUNBOOK_TARGETS__A__DSN", "mysql://db/"}}, "targets:\n  - {name: a, host: h}\n"),
      ElementsAre("environment DBRUNBOOK_TARGETS__A__DSN: targets[0] (a).dsn: dsn cannot "
                  "be combined with host (the DSN holds the whole address) — put "
                  "everything in the DSN, or replace dsn by host/port/user keys"));
}

TEST(OverridesTest, KeepsRelativePathsFromTheEnvironmentRelativeToTheWorkingDirectory) {
  const Config config = Parse({{"DBRUNBOOK_TARGETS__A__PASSWORD_FILE", "secrets/a.pw"}},
                              "targets:\n  - {name: a, host: h, defaults_file: my.cnf}\n");
  EXPECT_EQ(config.targets[0].password_file, "secrets/a.pw");
  EXPECT_EQ(config.targets[0].defaults_file, "/etc/dbrunbook/my.cnf");
}

}  // namespace
}  // namespace dbrunbook::config
