#include "config/config.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/test_files.h"

namespace dbrunbook::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::TempDir;

const core::MapEnvironment kNoEnv;

Config Parse(std::string_view yaml) {
  auto config = ParseConfig(yaml, "dbrunbook.yaml", kNoEnv);
  if (!config) {
    for (const auto& d : config.error()) ADD_FAILURE() << d.ToString();
    return Config{};
  }
  return *config;
}

// Every diagnostic of a configuration that must fail, one string each.
std::vector<std::string> Errors(std::string_view yaml) {
  auto config = ParseConfig(yaml, "dbrunbook.yaml", kNoEnv);
  if (config) {
    ADD_FAILURE() << "expected errors for:\n" << yaml;
    return {};
  }
  std::vector<std::string> out;
  for (const auto& d : config.error()) out.push_back(d.ToString());
  return out;
}

// The single error of a configuration that must fail with exactly one.
std::string Error(std::string_view yaml) {
  const auto errors = Errors(yaml);
  if (errors.size() != 1) {
    ADD_FAILURE() << "expected one error, got " << errors.size() << ":\n"
                  << ::testing::PrintToString(errors);
    return errors.empty() ? "" : errors.front();
  }
  return errors.front();
}

std::vector<std::string> Warnings(const Config& config) {
  std::vector<std::string> out;
  for (const auto& d : config.warnings) out.push_back(d.ToString());
  return out;
}

// The interface contract from the issue, verbatim.
constexpr std::string_view kContractExample = R"(targets:
  - name: orders-primary
    host: 127.0.0.1          # or socket: /path/to/mysqld.sock
    port: 3306
    user: monitor
    password_env: ORDERS_DB_PASSWORD   # or password_file: /path, or defaults_file: /path/my.cnf
    tls: {mode: VERIFY_CA, ca: /etc/ssl/certs/rds-ca.pem}
    tags: {service: orders}
  - name: orders-replica
    dsn: mysql://monitor@10.0.0.12:3306/?ssl-mode=REQUIRED
    password_env: ORDERS_DB_PASSWORD
    replica_of: orders-primary
)";

TEST(ConfigTest, ParsesTheContractExample) {
  const Config config = Parse(kContractExample);
  EXPECT_EQ(config.path, "dbrunbook.yaml");
  ASSERT_EQ(config.targets.size(), 2u);
  EXPECT_THAT(Warnings(config), IsEmpty());

  const TargetConfig& primary = config.targets[0];
  EXPECT_EQ(primary.name, "orders-primary");
  EXPECT_EQ(primary.where.ToString(), "dbrunbook.yaml:2:5");
  EXPECT_EQ(primary.connect.target_name, "orders-primary");
  EXPECT_EQ(primary.connect.host, "127.0.0.1");
  EXPECT_EQ(primary.connect.port, 3306);
  EXPECT_EQ(primary.connect.user, "monitor");
  EXPECT_TRUE(primary.connect.password.empty());
  EXPECT_EQ(primary.connect.tls.mode, mysql::TlsMode::kVerifyCa);
  EXPECT_EQ(primary.connect.tls.ca, "/etc/ssl/certs/rds-ca.pem");
  EXPECT_EQ(primary.password_kind, PasswordSourceKind::kEnv);
  EXPECT_EQ(primary.password_env, "ORDERS_DB_PASSWORD");
  EXPECT_EQ(primary.tags, (std::map<std::string, std::string>{{"service", "orders"}}));
  EXPECT_EQ(primary.replica_of, "");
  EXPECT_FALSE(primary.cloud);

  const TargetConfig& replica = config.targets[1];
  EXPECT_EQ(replica.name, "orders-replica");
  EXPECT_EQ(replica.connect.host, "10.0.0.12");
  EXPECT_EQ(replica.connect.port, 3306);
  EXPECT_EQ(replica.connect.user, "monitor");
  EXPECT_EQ(replica.connect.tls.mode, mysql::TlsMode::kRequired);
  EXPECT_EQ(replica.settings.host, "10.0.0.12");
  EXPECT_EQ(replica.replica_of, "orders-primary");
  EXPECT_EQ(replica.password_env, "ORDERS_DB_PASSWORD");

  EXPECT_EQ(config.assess.interval, std::chrono::seconds(1));
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.Find("orders-replica"), &config.targets[1]);
  EXPECT_EQ(config.Find("nope"), nullptr);
}

TEST(ConfigTest, ParsesEveryKey) {
  const Config config = Parse(R"(
targets:
  - name: db.1_a-b
    socket: /run/mysqld/mysqld.sock
    user: monitor
    database: orders
    password_file: /etc/dbrunbook/db1.pw
    defaults_file: /etc/dbrunbook/db1.cnf
    tls:
      mode: verify-identity
      ca: /ca.pem
      capath: /certs
      cert: /c.pem
      key: /k.pem
      cipher: ECDHE-RSA-AES256-GCM-SHA384
    connect_timeout: 2s
    read_timeout: 10
    write_timeout: 1500ms
    tags: {service: orders, team: payments, empty: ""}
    replicas: [db2]
    cloud:
      provider: aws
      region: eu-west-1
      instance_identifier: orders-db
      endpoint_url: https://rds.eu-west-1.amazonaws.com
    thresholds:
      threads_running: {warn: 40}
  - name: db2
    host: 10.0.0.2
    port: "3307"
    replica_of: db.1_a-b
    cloud: {region: us-gov-west-1, cluster_identifier: orders-cluster}
assess:
  interval: 500ms
  thresholds:
    threads_running: {warn: 20, critical: 50}
    replication_lag_seconds:
      critical: 60.5
log:
  level: DEBUG
)");
  ASSERT_EQ(config.targets.size(), 2u);
  const TargetConfig& t = config.targets[0];
  EXPECT_EQ(t.name, "db.1_a-b");
  EXPECT_TRUE(t.connect.uses_socket());
  EXPECT_EQ(t.connect.socket, "/run/mysqld/mysqld.sock");
  EXPECT_EQ(t.connect.database, "orders");
  EXPECT_EQ(t.password_kind, PasswordSourceKind::kFile);
  EXPECT_EQ(t.password_file, "/etc/dbrunbook/db1.pw");
  EXPECT_EQ(t.defaults_file, "/etc/dbrunbook/db1.cnf");
  EXPECT_EQ(t.connect.tls.mode, mysql::TlsMode::kVerifyIdentity);
  EXPECT_EQ(t.connect.tls.capath, "/certs");
  EXPECT_EQ(t.connect.tls.cert, "/c.pem");
  EXPECT_EQ(t.connect.tls.key, "/k.pem");
  EXPECT_EQ(t.connect.tls.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
  EXPECT_EQ(t.connect.connect_timeout, milliseconds(2000));
  EXPECT_EQ(t.connect.read_timeout, milliseconds(10000));
  EXPECT_EQ(t.connect.write_timeout, milliseconds(1500));
  EXPECT_EQ(t.tags.size(), 3u);
  EXPECT_EQ(t.tags.at("empty"), "");
  EXPECT_THAT(t.replicas, ElementsAre("db2"));
  ASSERT_TRUE(t.cloud);
  EXPECT_EQ(t.cloud->provider, "aws");
  EXPECT_EQ(t.cloud->region, "eu-west-1");
  EXPECT_EQ(t.cloud->instance_identifier, "orders-db");
  EXPECT_EQ(t.cloud->endpoint_url, "https://rds.eu-west-1.amazonaws.com");
  ASSERT_EQ(t.thresholds.count("threads_running"), 1u);
  EXPECT_EQ(t.thresholds.at("threads_running").warn, 40);
  EXPECT_FALSE(t.thresholds.at("threads_running").critical);

  const TargetConfig& db2 = config.targets[1];
  EXPECT_EQ(db2.connect.port, 3307);
  EXPECT_EQ(db2.password_kind, PasswordSourceKind::kNone);
  ASSERT_TRUE(db2.cloud);
  EXPECT_EQ(db2.cloud->provider, "aws");
  EXPECT_EQ(db2.cloud->cluster_identifier, "orders-cluster");

  EXPECT_EQ(config.assess.interval, milliseconds(500));
  ASSERT_EQ(config.assess.thresholds.size(), 2u);
  const Threshold& lag = config.assess.thresholds.at("replication_lag_seconds");
  EXPECT_FALSE(lag.warn);
  EXPECT_EQ(lag.critical, 60.5);
  EXPECT_EQ(lag.where.ToString(), "dbrunbook.yaml:37:5");
  EXPECT_EQ(config.log_level, "debug");

  // The target's own threshold wins value by value over assess.thresholds.
  const Thresholds effective = config.ThresholdsFor(t);
  EXPECT_EQ(effective.at("threads_running").warn, 40);
  EXPECT_EQ(effective.at("threads_running").critical, 50);
  EXPECT_EQ(effective.at("threads_running").where.ToString(), "dbrunbook.yaml:27:7");
  EXPECT_EQ(effective.at("replication_lag_seconds").critical, 60.5);
  EXPECT_EQ(config.ThresholdsFor(db2).at("threads_running").warn, 20);
}

TEST(ConfigTest, ProtectedUsersGlobalPerTargetAndFromDefaults) {
  const Config config = Parse(
      "protected_users: [backup, repl]\n"
      "defaults:\n"
      "  protected_users: [ops]\n"
      "targets:\n"
      "  - {name: a, host: h, protected_users: [app_admin, backup]}\n"
      "  - {name: b, host: h}\n");
  EXPECT_THAT(config.protected_users, ElementsAre("backup", "repl"));
  ASSERT_EQ(config.targets.size(), 2u);
  // A target's list replaces the default's, like every list; the global one always applies.
  EXPECT_THAT(config.targets[0].protected_users, ElementsAre("app_admin", "backup"));
  EXPECT_THAT(config.ProtectedUsersFor(config.targets[0]),
              ElementsAre("backup", "repl", "app_admin"));
  EXPECT_THAT(config.ProtectedUsersFor(config.targets[1]), ElementsAre("backup", "repl", "ops"));
}

TEST(ConfigTest, ReportsBadProtectedUsersWithTheirPosition) {
  EXPECT_THAT(Error("targets: []\nprotected_users: backup\n"),
              HasSubstr("dbrunbook.yaml:2:18: protected_users: expected a list of user names, "
                        "found a string"));
  EXPECT_THAT(Error("targets:\n  - name: a\n    host: h\n    protected_users: [ok, \"app@%\"]\n"),
              HasSubstr("dbrunbook.yaml:4:27: targets[0] (a).protected_users[1]: 'app@%' is not a "
                        "user name"));
  EXPECT_THAT(Error("targets: []\nprotected_users: [\"\"]\n"),
              HasSubstr("protected_users[0]: is empty"));
  EXPECT_THAT(Error("targets: []\nprotected_user: [a]\n"),
              HasSubstr("did you mean protected_users?"));
}

TEST(ConfigTest, AllowsNoTargets) {
  EXPECT_TRUE(Parse("targets: []\n").targets.empty());
  EXPECT_TRUE(Parse("targets:\n").targets.empty());
  EXPECT_EQ(Error("log: {level: info}\n"),
            "dbrunbook.yaml: targets: missing — add `targets:` with a list of targets "
            "(`targets: []` for none)");
  EXPECT_EQ(Error(""), Error("# nothing but a comment\n"));
}

TEST(ConfigTest, ReportsAnUnknownTlsModeAtItsPosition) {
  EXPECT_EQ(Error(R"(targets:
  - name: orders-primary
    host: 127.0.0.1
    user: monitor
  - name: orders-replica
    host: 10.0.0.12
    tls:
      mode: VERIFYCA
)"),
            "dbrunbook.yaml:8:13: targets[1] (orders-replica).tls.mode: unknown value "
            "'VERIFYCA' — did you mean VERIFY_CA?");
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, tls: {mode: sometimes}}\n"),
              HasSubstr("unknown value 'sometimes' — use one of: DISABLED, PREFERRED"));
}

TEST(ConfigTest, ReportsUnknownKeysEverywhere) {
  EXPECT_EQ(Error("targets: []\nasess: {interval: 1s}\n"),
            "dbrunbook.yaml:2:1: asess: unknown key — did you mean assess?");
  EXPECT_EQ(Error("targets:\n  - name: a\n    hots: db1\n    host: db1\n"),
            "dbrunbook.yaml:3:5: targets[0] (a).hots: unknown key — did you mean host?");
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: db1\n    tls: {mdoe: REQUIRED}\n"),
            "dbrunbook.yaml:4:11: targets[0] (a).tls.mdoe: unknown key — did you mean mode?");
  EXPECT_EQ(Error("targets: []\nassess:\n  thresholds:\n    x: {warn: 1, critcal: 2}\n"),
            "dbrunbook.yaml:4:18: assess.thresholds.x.critcal: unknown key — did you mean "
            "critical?");
  EXPECT_EQ(Error("targets: []\nlog: {levle: info}\n"),
            "dbrunbook.yaml:2:7: log.levle: unknown key — did you mean level?");
  EXPECT_THAT(
      Error("targets: []\ncompletely_different: 1\n"),
      HasSubstr("unknown key — known keys: targets, defaults, assess, investigate, watch, log"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {region: eu-west-1, regoin: x, "
                    "db_instance_identifier: a}}\n"),
              HasSubstr("targets[0] (a).cloud.regoin: unknown key — did you mean region?"));
}

TEST(ConfigTest, RefusesPasswordsInTheFileWithoutRepeatingThem) {
  const std::string error = Error("targets:\n  - name: a\n    host: h\n    password: s3cretPW\n");
  EXPECT_EQ(error,
            "dbrunbook.yaml:4:5: targets[0] (a).password: passwords are never written in the "
            "configuration file (it is easily shared and committed) — use password_env, "
            "password_file or defaults_file");
  const std::string dsn_error =
      Error("targets:\n  - name: a\n    dsn: mysql://monitor:s3cretPW@db1/\n");
  EXPECT_THAT(dsn_error, HasSubstr("dbrunbook.yaml:3:10: targets[0] (a).dsn: the DSN contains a "
                                   "password"));
  EXPECT_THAT(dsn_error, Not(HasSubstr("s3cretPW")));
  const std::string env_error =
      Error("targets:\n  - {name: a, host: h, password_env: s3cret!PW}\n");
  EXPECT_THAT(env_error, HasSubstr("is not an environment variable name"));
  EXPECT_THAT(env_error, Not(HasSubstr("s3cret")));
}

TEST(ConfigTest, ReportsDuplicateKeys) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: db1\n    port: 1\n    port: 2\n"),
            "dbrunbook.yaml:5:5: targets[0] (a).port: duplicate key (first set at "
            "dbrunbook.yaml:4:5) — YAML keeps only one of them: remove the other");
  EXPECT_THAT(Error("targets: []\ntargets: []\n"), HasSubstr("dbrunbook.yaml:2:1: targets: "
                                                             "duplicate key"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, tags: {team: x, team: y}}\n"),
              HasSubstr("targets[0] (a).tags.team: duplicate key"));
  EXPECT_THAT(Error("targets: []\nassess:\n  thresholds:\n    x: {warn: 1}\n    x: {warn: 2}\n"),
              HasSubstr("dbrunbook.yaml:5:5: assess.thresholds.x: duplicate key"));
}

TEST(ConfigTest, ReportsWrongTypes) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: db1\n    port: abc\n"),
            "dbrunbook.yaml:4:11: targets[0] (a).port: 'abc' is not a port number (1-65535)");
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, port: 0}\n"),
              HasSubstr("'0' is not a port number"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, port: 70000}\n"),
              HasSubstr("'70000' is not a port number"));
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: h\n    tls: [REQUIRED]\n"),
            "dbrunbook.yaml:4:10: targets[0] (a).tls: expected a mapping, found a list");
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: [h1, h2]\n"),
            "dbrunbook.yaml:3:11: targets[0] (a).host: expected a string, found a list");
  EXPECT_EQ(Error("targets:\n  - name: a\n    host:\n"),
            "dbrunbook.yaml:3:5: targets[0] (a).host: has no value");
  EXPECT_THAT(Error("targets:\n  name: a\n"),
              HasSubstr("dbrunbook.yaml:2:3: targets: expected a list of targets, found a "
                        "mapping"));
  EXPECT_THAT(Error("targets:\n  - orders-primary\n"),
              HasSubstr("dbrunbook.yaml:2:5: targets[0]: expected a target (a mapping with name, "
                        "host, ...), found a string"));
  EXPECT_THAT(Error("- a\n- b\n"), HasSubstr("expected a mapping with `targets:`, found a list"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, replicas: b}\n"),
              HasSubstr("replicas: expected a list of target names, found a string"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, connect_timeout: soon}\n"),
              HasSubstr("targets[0] (a).connect_timeout: cannot parse duration 'soon'"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, read_timeout: 0s}\n"),
              HasSubstr("must be more than 0"));
  EXPECT_THAT(Error("targets: []\nassess: {thresholds: {x: {warn: lots}}}\n"),
              HasSubstr("assess.thresholds.x.warn: 'lots' is not a number"));
  EXPECT_THAT(Error("targets: []\nassess: {thresholds: {x: {}}}\n"),
              HasSubstr("assess.thresholds.x: sets neither warn nor critical"));
  EXPECT_THAT(Error("targets: []\nassess: {thresholds: {x: }}\n"),
              HasSubstr("assess.thresholds.x: has no value"));
  EXPECT_THAT(Error("targets: []\nassess: {thresholds: {x: 5}}\n"),
              HasSubstr("assess.thresholds.x: expected a mapping, found a string"));
  EXPECT_THAT(Error("targets: []\nlog: debug\n"),
              HasSubstr("dbrunbook.yaml:2:6: log: expected a mapping, found a string"));
}

TEST(ConfigTest, ValidatesTargetNames) {
  EXPECT_EQ(Error("targets:\n  - host: h\n"),
            "dbrunbook.yaml:2:5: targets[0]: missing name — every target needs a unique name, "
            "e.g. name: orders-primary");
  EXPECT_THAT(Error("targets:\n  - {name: orders primary, host: h}\n"),
              HasSubstr("targets[0].name: invalid target name 'orders primary'"));
  EXPECT_THAT(Error("targets:\n  - {name: " + std::string(65, 'a') + ", host: h}\n"),
              HasSubstr("at most 64 characters"));
  EXPECT_EQ(Parse("targets:\n  - {name: " + std::string(64, 'a') + ", host: h}\n").targets.size(),
            1u);
}

TEST(ConfigTest, ReportsDuplicateTargetNamesWithBothLines) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: h1\n  - name: a\n    host: h2\n"),
            "dbrunbook.yaml:4:11: targets[1] (a).name: duplicate target name 'a' (first used at "
            "dbrunbook.yaml:2:11) — target names must be unique");
}

TEST(ConfigTest, RefusesDsnWithAddressKeys) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    dsn: mysql://db1/\n    host: db1\n    user: m\n"),
            "dbrunbook.yaml:3:10: targets[0] (a).dsn: dsn cannot be combined with host, user (the "
            "DSN holds the whole address) — put everything in the DSN, or replace dsn by "
            "host/port/user keys");
  EXPECT_THAT(Error("targets:\n  - {name: a, dsn: 'mysql://db1/', socket: /s, port: 1, "
                    "database: d}\n"),
              HasSubstr("dsn cannot be combined with port, socket, database"));
  EXPECT_THAT(Error("targets:\n  - {name: a, dsn: 'mysql://db1:99999/'}\n"),
              HasSubstr("targets[0] (a).dsn: port '99999' is not a number from 1 to 65535"));
}

TEST(ConfigTest, RefusesTheSameSettingInDsnAndKeys) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    dsn: mysql://db1/?ssl-mode=REQUIRED\n"
                  "    tls: {mode: DISABLED}\n"),
            "dbrunbook.yaml:4:17: targets[0] (a).tls.mode: is also set by the dsn (ssl-mode) — "
            "set it in one place");
  EXPECT_THAT(Error("targets:\n  - {name: a, dsn: 'mysql://db1/?connect-timeout=1', "
                    "connect_timeout: 2s}\n"),
              HasSubstr("connect_timeout: is also set by the dsn (connect-timeout)"));
  // Different settings combine.
  const Config config = Parse(
      "targets:\n  - name: a\n    dsn: mysql://db1/?ssl-mode=VERIFY_CA\n    tls: {ca: /ca.pem}\n"
      "    read_timeout: 1m\n");
  EXPECT_EQ(config.targets[0].connect.tls.mode, mysql::TlsMode::kVerifyCa);
  EXPECT_EQ(config.targets[0].connect.tls.ca, "/ca.pem");
  EXPECT_EQ(config.targets[0].connect.read_timeout, milliseconds(60000));
}

TEST(ConfigTest, RequiresAnAddress) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    user: monitor\n"),
            "dbrunbook.yaml:2:5: targets[0] (a): no address: set dsn, host or socket — e.g. "
            "host: 10.0.0.5, or dsn: mysql://monitor@10.0.0.5:3306/");
  // An option file may hold the host.
  EXPECT_EQ(Parse("targets:\n  - {name: a, defaults_file: /etc/a.cnf}\n").targets.size(), 1u);
  EXPECT_TRUE(Parse("targets:\n  - {name: a, socket: /s}\n").targets[0].connect.uses_socket());
}

TEST(ConfigTest, ChecksHosts) {
  EXPECT_THAT(Error("targets:\n  - {name: a, host: 'db1:3307'}\n"),
              HasSubstr("host 'db1:3307' contains a port — write the port under `port:`"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: 'mysql://db1/'}\n"),
              HasSubstr("write a URL under `dsn:` instead"));
  EXPECT_EQ(Parse("targets:\n  - {name: a, host: '::1'}\n").targets[0].connect.host, "::1");
}

TEST(ConfigTest, AllowsOnePasswordSourcePlusAnOptionFile) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: h\n    password_env: A\n"
                  "    password_file: /a\n"),
            "dbrunbook.yaml:5:20: targets[0] (a).password_file: password_env and password_file "
            "are both set — keep one of them");
  const Config config =
      Parse("targets:\n  - {name: a, host: h, password_env: A, defaults_file: /my.cnf}\n");
  EXPECT_EQ(config.targets[0].password_kind, PasswordSourceKind::kEnv);
  EXPECT_EQ(config.targets[0].defaults_file, "/my.cnf");
}

TEST(ConfigTest, RequiresACaToVerify) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: h\n    tls: {mode: VERIFY_IDENTITY}\n"),
            "dbrunbook.yaml:4:17: targets[0] (a).tls.mode: VERIFY_IDENTITY needs tls.ca or "
            "tls.capath to check the server certificate — set tls.ca to the CA bundle (for RDS "
            "and Aurora: the RDS CA bundle)");
  EXPECT_THAT(Error("targets:\n  - {name: a, dsn: 'mysql://h/?ssl-mode=VERIFY_CA'}\n"),
              HasSubstr("dbrunbook.yaml:2:20: targets[0] (a).tls.mode: VERIFY_CA needs"));
  EXPECT_EQ(Parse("targets:\n  - {name: a, host: h, tls: {mode: VERIFY_CA, capath: /c}}\n")
                .targets.size(),
            1u);
  // The option file may supply ssl-ca; ResolveConnectOptions checks it then.
  EXPECT_EQ(Parse("targets:\n  - {name: a, host: h, defaults_file: /a.cnf, tls: {mode: "
                  "VERIFY_CA}}\n")
                .targets.size(),
            1u);
}

TEST(ConfigTest, WarnsAboutACaThatIsNotUsed) {
  const Config config = Parse(
      "targets:\n"
      "  - name: a\n"
      "    host: h\n"
      "    tls:\n"
      "      mode: REQUIRED\n"
      "      ca: /ca.pem\n"
      "  - name: b\n"
      "    host: h\n"
      "    tls: {capath: /certs}\n"
      "  - name: c\n"
      "    host: h\n"
      "    tls: {mode: PREFERRED}\n");
  EXPECT_THAT(
      Warnings(config),
      ElementsAre("dbrunbook.yaml:6:11: warning: targets[0] (a).tls.ca: ca is ignored unless mode "
                  "is VERIFY_CA or VERIFY_IDENTITY — set tls.mode: VERIFY_CA (or "
                  "VERIFY_IDENTITY) to verify the server certificate",
                  "dbrunbook.yaml:9:19: warning: targets[1] (b).tls.capath: capath is ignored "
                  "unless mode is VERIFY_CA or VERIFY_IDENTITY — set tls.mode: VERIFY_CA (or "
                  "VERIFY_IDENTITY) to verify the server certificate"));
  EXPECT_FALSE(config.warnings[0].is_error());
}

TEST(ConfigTest, ChecksReplicaReferences) {
  const auto errors = Errors(
      "targets:\n"
      "  - name: orders-primary\n"
      "    host: h\n"
      "    replicas: [orders-replica, orders-primary]\n"
      "  - name: orders-replica\n"
      "    host: h\n"
      "    replica_of: orders-primray\n"
      "  - name: other\n"
      "    host: h\n"
      "    replica_of: nothing-like-it\n");
  EXPECT_THAT(errors,
              ElementsAre("dbrunbook.yaml:4:32: targets[0] (orders-primary).replicas[1]: a target "
                          "cannot name itself",
                          "dbrunbook.yaml:7:17: targets[1] (orders-replica).replica_of: no target "
                          "is named 'orders-primray' — did you mean orders-primary?",
                          "dbrunbook.yaml:10:17: targets[2] (other).replica_of: no target is "
                          "named 'nothing-like-it' — targets: orders-primary, orders-replica, "
                          "other"));
}

TEST(ConfigTest, ValidatesCloudIdentity) {
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {provider: gcp, region: us-east-1, "
                    "db_instance_identifier: a}}\n"),
              HasSubstr("cloud.provider: unknown provider 'gcp' — the only provider is aws"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {region: Frankfurt, "
                    "db_instance_identifier: a}}\n"),
              HasSubstr("cloud.region: 'Frankfurt' does not look like an AWS region"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {region: us-east-1}}\n"),
              HasSubstr("targets[0] (a).cloud: names neither db_instance_identifier nor "
                        "db_cluster_identifier"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {region: us-east-1, "
                    "db_instance_identifier: x, instance_identifier: y}}\n"),
              HasSubstr("cloud.instance_identifier: the instance identifier is set twice"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {db_instance_identifier: 1db}}\n"),
              HasSubstr("cloud.db_instance_identifier: '1db' is not an RDS identifier"));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {db_cluster_identifier: a--b}}\n"),
              HasSubstr("cloud.db_cluster_identifier: 'a--b' is not an RDS identifier"));
  {
    // The issue's interface contract: both identifiers, a profile, no region (resolved later).
    const Config config = Parse(
        "targets:\n  - name: orders-primary\n    host: h\n    cloud:\n      provider: aws\n"
        "      db_instance_identifier: orders-primary-db\n"
        "      db_cluster_identifier: orders-cluster\n      profile: prod\n"
        "      endpoint_url: http://127.0.0.1:4566\n");
    ASSERT_EQ(config.targets.size(), 1U);
    const auto& cloud = config.targets[0].cloud;
    ASSERT_TRUE(cloud.has_value());
    EXPECT_EQ(cloud->instance_identifier, "orders-primary-db");
    EXPECT_EQ(cloud->cluster_identifier, "orders-cluster");
    EXPECT_EQ(cloud->profile, "prod");
    EXPECT_EQ(cloud->region, "");
    EXPECT_EQ(cloud->endpoint_url, "http://127.0.0.1:4566");
  }
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, cloud: {region: us-east-1, endpoint_url: "
                    "rds.local, db_cluster_identifier: c}}\n"),
              HasSubstr("cloud.endpoint_url: must start with https://"));
  for (const char* region : {"us-east-1", "eu-central-2", "ap-southeast-4", "cn-north-1",
                             "us-gov-west-1", "il-central-1"}) {
    EXPECT_EQ(
        Parse(std::string("targets:\n  - {name: a, host: h, cloud: {db_instance_identifier: a, "
                          "region: ") +
              region + "}}\n")
            .targets[0]
            .cloud->region,
        region);
  }
}

TEST(ConfigTest, ValidatesAssessAndLog) {
  EXPECT_EQ(Error("targets: []\nassess:\n  interval: 50ms\n"),
            "dbrunbook.yaml:3:13: assess.interval: 50ms is out of range: the interval must be "
            "from 100ms to 60s");
  EXPECT_THAT(Error("targets: []\nassess: {interval: 2m}\n"), HasSubstr("out of range"));
  EXPECT_THAT(Error("targets: []\nassess: {interval: 2}\n"),
              HasSubstr("assess.interval: duration '2' has no unit — write 2s for seconds"));
  EXPECT_EQ(Parse("targets: []\nassess: {interval: 60s}\n").assess.interval,
            std::chrono::seconds(60));
  EXPECT_EQ(Error("targets: []\nlog:\n  level: verbose\n"),
            "dbrunbook.yaml:3:10: log.level: unknown value 'verbose' — use one of: trace, debug, "
            "info, warn, error, off");
  EXPECT_THAT(Error("targets: []\nlog: {level: debgu}\n"), HasSubstr("did you mean debug?"));
  EXPECT_EQ(Parse("targets: []\nlog: {level: Off}\n").log_level, "off");
}

TEST(ConfigTest, CollectsAllErrorsAtOnce) {
  const auto errors = Errors(
      "targets:\n"
      "  - name: a\n"
      "    host: h\n"
      "    port: abc\n"
      "    tls: {mode: VERIFYCA}\n"
      "  - name: b\n"
      "    prot: 1\n"
      "assess: {interval: 1x}\n"
      "log: {level: loud}\n");
  // In reading order, whatever order the checks ran in.
  ASSERT_EQ(errors.size(), 6u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("dbrunbook.yaml:4:11: targets[0] (a).port"));
  EXPECT_THAT(errors[1], HasSubstr("dbrunbook.yaml:5:17: targets[0] (a).tls.mode"));
  EXPECT_THAT(errors[2], HasSubstr("dbrunbook.yaml:6:5: targets[1] (b): no address"));
  EXPECT_THAT(errors[3], HasSubstr("dbrunbook.yaml:7:5: targets[1] (b).prot: unknown key"));
  EXPECT_THAT(errors[4], HasSubstr("dbrunbook.yaml:8:20: assess.interval"));
  EXPECT_THAT(errors[5], HasSubstr("dbrunbook.yaml:9:14: log.level"));
}

TEST(ConfigTest, ReturnsWarningsWithErrors) {
  auto config = ParseConfig(
      "targets:\n  - {name: a, host: h, tls: {mode: REQUIRED, ca: /x}}\n  - {name: b}\n",
      "dbrunbook.yaml", kNoEnv);
  ASSERT_FALSE(config);
  ASSERT_EQ(config.error().size(), 2u);
  EXPECT_TRUE(config.error()[0].is_error());
  EXPECT_FALSE(config.error()[1].is_error());
  EXPECT_TRUE(HasErrors(config.error()));
}

TEST(ConfigTest, ReportsYamlSyntaxErrorsWithPosition) {
  EXPECT_EQ(Error("targets:\n  - name: a\n    host: [h\n"),
            "dbrunbook.yaml:4:1: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(Error("targets:\n  - name: a\n     host: h\n"),
            "dbrunbook.yaml:3:10: YAML syntax error: illegal map value");
  EXPECT_EQ(Error("targets: []\n---\ntargets: []\n"),
            "dbrunbook.yaml:2:1: a second YAML document starts here; dbrunbook reads one — "
            "remove the extra '---' separator");
  EXPECT_THAT(Error("targets: []\n...\ntargets: []\n"), HasSubstr(":3:1: a second YAML"));
  // An explicit start, an end marker followed by comments, and "---" inside a value are one
  // document.
  EXPECT_TRUE(ParseConfig("---\ntargets: []\n...\n# done\n", "dbrunbook.yaml", kNoEnv));
  EXPECT_TRUE(ParseConfig("# header\n--- # start\ntargets: []\n", "dbrunbook.yaml", kNoEnv));
  EXPECT_TRUE(ParseConfig("targets: []\nlog: {level: \"info\"}\n#---\n", "dbrunbook.yaml", kNoEnv));
  EXPECT_THAT(Error("targets:\n  - {name: a, host: h, ? [x]: y}\n"),
              HasSubstr("mapping keys must be plain names"));
}

TEST(ConfigTest, SurvivesAliasBombs) {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    const char prev = static_cast<char>(c - 1);
    yaml += fmt::format("{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n",
                        c, prev);
  }
  EXPECT_THAT(Error(yaml), HasSubstr("too many nodes"));
}

TEST(ConfigTest, RejectsMergeKeysWithAHint) {
  EXPECT_THAT(Error("defaults: &d {port: 3307}\ntargets:\n  - {name: a, host: h, <<: *d}\n"),
              HasSubstr("targets[0] (a).<<: YAML merge keys are not supported — put shared "
                        "settings under `defaults:`"));
}

// ----- defaults -----

TEST(ConfigTest, AppliesDefaultsToTargetsThatDoNotSetTheKey) {
  const Config config = Parse(R"(
defaults:
  user: monitor
  port: 3307
  password_env: DB_PASSWORD
  connect_timeout: 3s
  tls: {mode: VERIFY_CA, ca: /rds-ca.pem}
  tags: {env: prod, team: dba}
  cloud: {region: eu-west-1}
  thresholds:
    threads_running: {warn: 10, critical: 30}
targets:
  - name: a
    host: h1
  - name: b
    host: h2
    user: other
    port: 3306
    password_file: /b.pw
    tls: {mode: VERIFY_IDENTITY}
    tags: {team: payments}
    cloud: {instance_identifier: b-db}
    thresholds:
      threads_running: {critical: 60}
  - name: c
    dsn: mysql://m@h3/
  - name: d
    socket: /run/d.sock
)");
  ASSERT_EQ(config.targets.size(), 4u);
  const TargetConfig& a = config.targets[0];
  EXPECT_EQ(a.connect.user, "monitor");
  EXPECT_EQ(a.connect.port, 3307);
  EXPECT_EQ(a.password_env, "DB_PASSWORD");
  EXPECT_EQ(a.connect.connect_timeout, milliseconds(3000));
  EXPECT_EQ(a.connect.tls.mode, mysql::TlsMode::kVerifyCa);
  EXPECT_EQ(a.connect.tls.ca, "/rds-ca.pem");
  EXPECT_EQ(a.tags, (std::map<std::string, std::string>{{"env", "prod"}, {"team", "dba"}}));
  // defaults' cloud: {region} gives no identity to a target that names no instance or cluster
  EXPECT_FALSE(a.cloud.has_value());
  EXPECT_EQ(a.thresholds.at("threads_running").warn, 10);

  const TargetConfig& b = config.targets[1];
  EXPECT_EQ(b.connect.user, "other");
  EXPECT_EQ(b.connect.port, 3306);
  EXPECT_EQ(b.password_kind, PasswordSourceKind::kFile);  // not both sources
  EXPECT_EQ(b.password_env, "");
  EXPECT_EQ(b.connect.tls.mode, mysql::TlsMode::kVerifyIdentity);
  EXPECT_EQ(b.connect.tls.ca, "/rds-ca.pem");  // mappings merge key by key
  EXPECT_EQ(b.tags, (std::map<std::string, std::string>{{"env", "prod"}, {"team", "payments"}}));
  EXPECT_EQ(b.cloud->region, "eu-west-1");
  EXPECT_EQ(b.cloud->instance_identifier, "b-db");
  EXPECT_EQ(b.thresholds.at("threads_running").warn, 10);
  EXPECT_EQ(b.thresholds.at("threads_running").critical, 60);

  const TargetConfig& c = config.targets[2];  // a DSN holds the whole address
  EXPECT_EQ(c.connect.user, "m");
  EXPECT_EQ(c.connect.port, 3306);
  EXPECT_EQ(c.password_env, "DB_PASSWORD");

  const TargetConfig& d = config.targets[3];
  EXPECT_EQ(d.connect.socket, "/run/d.sock");
  EXPECT_FALSE(d.settings.port);  // a socket target takes no default port
  EXPECT_EQ(d.connect.user, "monitor");
}

TEST(ConfigTest, DefaultsMayGiveTheAddress) {
  const Config config = Parse(
      "defaults: {host: db1, port: 3310}\n"
      "targets:\n  - {name: a}\n  - {name: b, socket: /s}\n  - {name: c, host: db2}\n");
  EXPECT_EQ(config.targets[0].connect.host, "db1");
  EXPECT_EQ(config.targets[0].connect.port, 3310);
  EXPECT_FALSE(config.targets[1].settings.host);
  EXPECT_EQ(config.targets[2].connect.host, "db2");
  EXPECT_EQ(config.targets[2].connect.port, 3310);
}

TEST(ConfigTest, RefusesPerTargetKeysInDefaults) {
  const auto errors = Errors(
      "defaults:\n  name: x\n  dsn: mysql://h/\n  replica_of: a\n  replicas: [a]\n  hots: h\n"
      "targets: []\n");
  EXPECT_THAT(errors,
              ElementsAre("dbrunbook.yaml:2:3: defaults.name: cannot be set in defaults — it "
                          "differs from target to target: set it in each target",
                          HasSubstr("dbrunbook.yaml:3:3: defaults.dsn: cannot be set"),
                          HasSubstr("dbrunbook.yaml:4:3: defaults.replica_of: cannot be set"),
                          HasSubstr("dbrunbook.yaml:5:3: defaults.replicas: cannot be set"),
                          "dbrunbook.yaml:6:3: defaults.hots: unknown key — did you mean host?"));
}

TEST(ConfigTest, ReportsErrorsInDefaultsOnce) {
  const auto errors =
      Errors("defaults: {port: abc}\ntargets:\n  - {name: a, host: h}\n  - {name: b, host: h}\n");
  EXPECT_THAT(errors, ElementsAre("dbrunbook.yaml:1:18: defaults.port: 'abc' is not a port number "
                                  "(1-65535)"));
}

TEST(ConfigTest, RuleViolationsFromDefaultsPointAtTheDefaults) {
  EXPECT_EQ(Error("defaults:\n  tls: {mode: VERIFY_CA}\ntargets:\n  - {name: a, host: h}\n"),
            "dbrunbook.yaml:2:15: targets[0] (a).tls.mode: VERIFY_CA needs tls.ca or tls.capath "
            "to check the server certificate — set tls.ca to the CA bundle (for RDS and Aurora: "
            "the RDS CA bundle)");
}

// ----- files -----

TEST(ConfigTest, LoadsARealFileAndResolvesRelativePaths) {
  TempDir dir;
  const std::string path = dir.Write("conf/dbrunbook.yaml",
                                     "targets:\n"
                                     "  - name: a\n"
                                     "    host: h\n"
                                     "    password_file: secrets/a.pw\n"
                                     "    defaults_file: /etc/absolute.cnf\n"
                                     "    tls: {mode: VERIFY_CA, ca: certs/ca.pem}\n");
  auto config = LoadConfig(path, kNoEnv);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->path, path);
  const TargetConfig& t = config->targets[0];
  EXPECT_EQ(t.password_file, dir.Path("conf/secrets/a.pw"));
  EXPECT_EQ(t.defaults_file, "/etc/absolute.cnf");
  EXPECT_EQ(t.connect.tls.ca, dir.Path("conf/certs/ca.pem"));
  EXPECT_EQ(t.where.ToString(), path + ":2:5");
}

TEST(ConfigTest, ReportsFileErrorsAsDiagnostics) {
  auto missing = LoadConfig("/nonexistent/dbrunbook.yaml", kNoEnv);
  ASSERT_FALSE(missing);
  ASSERT_EQ(missing.error().size(), 1u);
  EXPECT_EQ(missing.error()[0].ToString(),
            "/nonexistent/dbrunbook.yaml: the configuration file does not exist — pass --config "
            "or set DBRUNBOOK_CONFIG");
  TempDir dir;
  auto directory = LoadConfig(dir.path(), kNoEnv);
  ASSERT_FALSE(directory);
  EXPECT_THAT(directory.error()[0].message, HasSubstr("not a file"));

  const std::string bad =
      dir.Write("bad.yaml", "targets:\n  - name: a\n    host: h\n    port: x\n");
  auto errors = LoadConfig(bad, kNoEnv);
  ASSERT_FALSE(errors);
  EXPECT_THAT(errors.error()[0].ToString(), HasSubstr(bad + ":4:11: targets[0] (a).port"));
}

}  // namespace
}  // namespace dbrunbook::config

namespace dbrunbook::config {
namespace {

TEST(ConfigSchemaTest, ThresholdNamesAreCheckedInTheSamePassAsEverythingElse) {
  ConfigSchema schema;
  schema.check_names = {"threads_running", "replication_lag_seconds"};
  constexpr std::string_view kYaml = R"(targets:
  - name: db
    host: 127.0.0.1
    pasword_env: X
    thresholds:
      replication_lag: {warn: 10}
assess:
  thresholds:
    thread_running: {warn: 5}
    threads_running: {critical: 9}
)";
  auto config = ParseConfig(kYaml, "dbrunbook.yaml", kNoEnv, schema);
  ASSERT_FALSE(config);
  std::vector<std::string> errors;
  for (const auto& d : config.error()) errors.push_back(d.ToString());
  EXPECT_THAT(
      errors,
      ElementsAre(
          HasSubstr("dbrunbook.yaml:4:5: targets[0] (db).pasword_env: unknown key"),
          "dbrunbook.yaml:6:7: targets[0] (db).thresholds.replication_lag: unknown check "
          "'replication_lag' — did you mean replication_lag_seconds?",
          "dbrunbook.yaml:9:5: assess.thresholds.thread_running: unknown check 'thread_running' "
          "— did you mean threads_running?"));
  // Without a schema the names are not judged.
  EXPECT_FALSE(ParseConfig(kYaml, "dbrunbook.yaml", kNoEnv));
  constexpr std::string_view kValid = R"(targets: []
assess:
  thresholds:
    threads_running: {critical: 9}
)";
  EXPECT_TRUE(ParseConfig(kValid, "dbrunbook.yaml", kNoEnv, schema));
}

}  // namespace
}  // namespace dbrunbook::config

namespace dbrunbook::config {
namespace {

TEST(InvestigateSettingsTest, ParsesLimitsAndRejectsBadValues) {
  const Config config = Parse(R"(targets: []
investigate:
  long_query: 2m
  idle_transaction: 30s
  unused_index_min_uptime: 0s
  digest_interval: 0s
  top_tables: 5
)");
  EXPECT_EQ(config.investigate.long_query, std::chrono::minutes(2));
  EXPECT_EQ(config.investigate.idle_transaction, std::chrono::seconds(30));
  EXPECT_EQ(config.investigate.unused_index_min_uptime, std::chrono::seconds(0));
  EXPECT_EQ(config.investigate.digest_interval, std::chrono::seconds(0));
  EXPECT_EQ(config.investigate.top_tables, 5);
  EXPECT_FALSE(config.investigate.digest_top.has_value());
  EXPECT_THAT(Errors("targets: []\ninvestigate:\n  top_tables: -3\n  long_query: 0s\n"
                     "  digest_interval: 1h\n  long_qery: 5s\n"),
              ElementsAre(HasSubstr("dbrunbook.yaml:3:15: investigate.top_tables: '-3' is not a "
                                    "whole number"),
                          HasSubstr("dbrunbook.yaml:4:15: investigate.long_query: 0s is out of "
                                    "range"),
                          HasSubstr("investigate.digest_interval: 1h is out of range"),
                          HasSubstr("investigate.long_qery: unknown key — did you mean "
                                    "long_query?")));
}

TEST(InvestigateSettingsTest, ParsesTheStepThresholds) {
  const Config config = Parse(R"(targets: []
investigate:
  replication_lag_warning: 30s
  replication_lag_critical: 2m
  applier_transaction: 5s
  fragmented_min_mib: 512
  fragmented_min_percent: 35
  low_cardinality_min_rows: 5000000
  low_cardinality_max_distinct: 4
  max_findings_per_code: 100
)");
  const InvestigateSettings& s = config.investigate;
  EXPECT_EQ(s.replication_lag_warning, std::chrono::seconds(30));
  EXPECT_EQ(s.replication_lag_critical, std::chrono::minutes(2));
  EXPECT_EQ(s.applier_transaction, std::chrono::seconds(5));
  EXPECT_EQ(s.fragmented_min_mib, 512);
  EXPECT_EQ(s.fragmented_min_percent, 35);
  EXPECT_EQ(s.low_cardinality_min_rows, 5'000'000);
  EXPECT_EQ(s.low_cardinality_max_distinct, 4);
  EXPECT_EQ(s.max_findings_per_code, 100);
  EXPECT_THAT(Errors("targets: []\ninvestigate:\n  fragmented_min_percent: 150\n"
                     "  replication_lag_warning: 10m\n  replication_lag_critical: 1m\n"),
              ElementsAre(HasSubstr("investigate.fragmented_min_percent: '150' is not a whole "
                                    "number from 1 to 100"),
                          HasSubstr("dbrunbook.yaml:5:29: investigate.replication_lag_critical: "
                                    "is below replication_lag_warning")));
}

TEST(ConfigWatchTest, ReadsTheWatchSection) {
  const Config config = Parse(
      "targets:\n  - {name: db, host: h}\n"
      "watch:\n"
      "  listen: 127.0.0.1:9999\n"
      "  slow_interval: 5s\n"
      "  poll_workers: 8\n"
      "  sample_every: 30s\n"
      "  samples_kept: 100\n"
      "  alert_ttl: 12h10m\n"
      "  alert_labels: [service, instance]\n"
      "  app_logs:\n"
      "    - {path: logs/app.log, target: db, patterns: [\"Too many connections\"]}\n"
      "    - {path: /var/log/b.log, target: db}\n");
  EXPECT_EQ(config.watch.listen, "127.0.0.1:9999");
  EXPECT_EQ(config.watch.slow_interval, std::chrono::seconds(5));
  EXPECT_EQ(config.watch.poll_workers, 8);
  EXPECT_EQ(config.watch.sample_every, std::chrono::seconds(30));
  EXPECT_EQ(config.watch.samples_kept, 100);
  EXPECT_EQ(config.watch.alert_ttl, std::chrono::minutes(12 * 60 + 10));
  EXPECT_EQ(config.watch.alert_labels, (std::vector<std::string>{"service", "instance"}));
  ASSERT_EQ(config.watch.app_logs.size(), 2U);
  EXPECT_EQ(config.watch.app_logs[0].target, "db");
  EXPECT_TRUE(config.watch.app_logs[0].path.ends_with("logs/app.log"));
  EXPECT_EQ(config.watch.app_logs[0].patterns, (std::vector<std::string>{"Too many connections"}));
  EXPECT_EQ(config.watch.app_logs[1].path, "/var/log/b.log");
  EXPECT_TRUE(config.watch.app_logs[1].patterns.empty());
}

TEST(ConfigWatchTest, ReportsBadWatchKeysWithTheirPosition) {
  EXPECT_EQ(Error("targets: []\nwatch: {poll_workers: 0}\n"),
            "dbrunbook.yaml:2:23: watch.poll_workers: '0' is not a whole number from 1 to 1024");
  EXPECT_EQ(Error("targets: []\nwatch: {slow_interval: 100ms}\n"),
            "dbrunbook.yaml:2:24: watch.slow_interval: '100ms' is not a duration from 1s to 10m");
  EXPECT_EQ(Error("targets: []\nwatch: {alert_ttl: 30s}\n"),
            "dbrunbook.yaml:2:20: watch.alert_ttl: '30s' is not a duration from 1m to 30d — make "
            "it longer than Alertmanager's repeat_interval plus group_interval (defaults 4h and "
            "5m)");
  EXPECT_EQ(Error("targets: []\nwatch: {listen: 9473}\n"),
            "dbrunbook.yaml:2:17: watch.listen: '9473' is not HOST:PORT — write 127.0.0.1:9473, "
            "[::1]:9473, or off");
  EXPECT_EQ(Error("targets: []\nwatch: {lisen: x}\n"),
            "dbrunbook.yaml:2:9: watch.lisen: unknown key — did you mean listen?");
  EXPECT_THAT(Error("targets:\n  - {name: db, host: h}\nwatch:\n  app_logs:\n"
                    "    - {path: a.log, target: dv}\n"),
              HasSubstr("dbrunbook.yaml:5:7: watch.app_logs: target 'dv' is not configured"));
  EXPECT_THAT(Error("targets: []\nwatch:\n  app_logs:\n    - {path: a.log}\n"),
              HasSubstr("watch.app_logs[0]: a log file needs path and target"));
  EXPECT_THAT(Error("targets: []\nwatch:\n  app_logs: a.log\n"),
              HasSubstr("watch.app_logs: expected a list of log files, found a string"));
}

}  // namespace
}  // namespace dbrunbook::config
