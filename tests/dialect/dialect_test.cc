// Statement choice per flavor, Detect() against a FakeSession replaying recorded and captured
// output, and replica-status recordings read through replica_columns().
//
// Captured files in tests/dialect/data were captured live from Debian 12's mariadb-server
// 10.11.19 on the build machine (`mariadb -B -e "<statement>"` as an account holding only
// PROCESS, BINLOG MONITOR, SLAVE MONITOR and SELECT on performance_schema.* and sys.*):
//   detection--mariadb-10.11.19--debian12-captured.txt     Dialect::DetectionStatement()
//   capabilities--mariadb-10.11.19--debian12-captured.txt  CapabilitiesStatement() for MariaDB
// Flavors without a recording are built as Flavor values (product, platform, version) — no
// server output is invented for them.
#include "dialect/dialect.h"

#include <gtest/gtest.h>

#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::dialect {
namespace {

using testing::FakeSession;

std::string Read(const std::string& relative) {
  auto text = relative.starts_with("tests/") ? testing::ReadSourceFile(relative)
                                             : testing::ReadSharedFile(relative);
  if (!text) {
    ADD_FAILURE() << text.error().ToString();
    return {};
  }
  return *text;
}

constexpr const char* kRecordings = "conformance/server-outputs/";
constexpr const char* kCapturedDetection =
    "tests/dialect/data/detection--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kCapturedCapabilities =
    "tests/dialect/data/capabilities--mariadb-10.11.19--debian12-captured.txt";

Flavor FromVariablesFile(const std::string& file) {
  return DetectFlavor(
      testing::ParseVariables(Read(std::string(kRecordings) + "variables/" + file)));
}

Flavor Make(Product product, Platform platform, Version version,
            std::optional<bool> performance_schema = true, std::string aurora_version = "") {
  Flavor flavor;
  flavor.product = product;
  flavor.platform = platform;
  flavor.version = version;
  flavor.version_string = version.ToString();
  flavor.aurora_version = std::move(aurora_version);
  flavor.capabilities.performance_schema = performance_schema;
  return flavor;
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The rows of a recorded SHOW GLOBAL VARIABLES dump that the detection statement would return:
// the recorded values, restricted to the names the statement asks for.
mysql::ResultSet AnswerToDetection(const std::string& recording) {
  const std::string statement = Dialect::DetectionStatement();
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& block : testing::ParseRecordedOutput(Read(recording))) {
    for (const auto& row : block.rows) {
      auto name = row["Variable_name"].AsString();
      if (!name || !Contains(statement, "'" + std::string(*name) + "'")) continue;
      rows.push_back({std::string(*name), row["Value"].StringOr("")});
    }
  }
  return mysql::MakeResultSet({"Variable_name", "Value"}, rows);
}

mysql::ResultSet OnlyBlock(const std::string& relative) {
  auto blocks = testing::ParseRecordedOutput(Read(relative));
  if (blocks.size() != 1) {
    ADD_FAILURE() << relative << ": " << blocks.size() << " blocks";
    return {};
  }
  return blocks.front();
}

// --- statements every flavor shares -----------------------------------------------------------

TEST(DialectTest, DetectionStatementAsksForWhatDetectionAndAssessmentRead) {
  const std::string statement = Dialect::DetectionStatement();
  EXPECT_TRUE(statement.starts_with("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('"));
  for (const char* name : {"version",
                           "version_comment",
                           "aurora_version",
                           "basedir",
                           "datadir",
                           "performance_schema",
                           "userstat",
                           "wsrep_on",
                           "read_only",
                           "super_read_only",
                           "innodb_read_only",
                           "max_connections",
                           "innodb_buffer_pool_size",
                           "hostname",
                           "port",
                           "server_id",
                           "log_bin",
                           "gtid_mode",
                           "gtid_strict_mode",
                           "slow_query_log",
                           "long_query_time"}) {
    EXPECT_TRUE(Contains(statement, std::string("'") + name + "'")) << name;
  }
}

TEST(DialectTest, UniversalSessionSetupKeepsTheMonitorOutOfLocksAndTheSlowLog) {
  EXPECT_EQ(Dialect::UniversalSessionSetup(),
            std::vector<std::string>{"SET SESSION lock_wait_timeout = 2, long_query_time = "
                                     "31536000, min_examined_row_limit = 4294967295"});
  EXPECT_EQ(Dialect::ShowWarnings(), "SHOW WARNINGS");
  EXPECT_EQ(Dialect::Ping(), "SELECT 1");
}

TEST(DialectTest, SessionSetupConvertsTheTimeoutToEachFlavorsUnit) {
  using std::chrono::milliseconds;
  Dialect mariadb(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19}));
  EXPECT_EQ(mariadb.SessionSetup(milliseconds(2500)),
            std::vector<std::string>{"SET SESSION slow_query_log = 0, max_statement_time = 2.500"});
  Dialect mysql(Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36}));
  EXPECT_EQ(mysql.SessionSetup(milliseconds(2500)),
            std::vector<std::string>{"SET SESSION max_execution_time = 2500"});
  EXPECT_EQ(mysql.SessionSetup(milliseconds(0)),
            std::vector<std::string>{"SET SESSION max_execution_time = 0"});
  // max_execution_time arrived in 5.7.8, max_statement_time / session slow_query_log in 10.1.1.
  EXPECT_TRUE(
      Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {5, 7, 7})).SessionSetup().empty());
  EXPECT_TRUE(
      Dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 0, 38})).SessionSetup().empty());
}

TEST(DialectTest, CapabilitiesProbeOnlyWhenPerformanceSchemaIsOn) {
  const Version v{8, 0, 36};
  EXPECT_FALSE(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, v, true))
                   .CapabilitiesStatement()
                   .empty());
  EXPECT_TRUE(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, v, false))
                  .CapabilitiesStatement()
                  .empty());
  EXPECT_TRUE(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, v, std::nullopt))
                  .CapabilitiesStatement()
                  .empty());
}

TEST(DialectTest, ActiveStatementsExcludeOurselvesIdleDaemonAndReplicationThreads) {
  for (const Flavor& flavor : {Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36}),
                               Make(Product::kMySQL, Platform::kSelfManaged, {5, 7, 44}),
                               Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19})}) {
    const std::string sql = Dialect(flavor).ActiveStatements(20);
    for (const char* part : {"ID <> CONNECTION_ID()",
                             "'Sleep'",
                             "'Daemon'",
                             "'Binlog Dump'",
                             "'Binlog Dump GTID'",
                             "'Slave_IO'",
                             "'Slave_SQL'",
                             "'Slave_worker'",
                             "'system user'",
                             "'event_scheduler'",
                             "AS `id`",
                             "AS `user`",
                             "AS `host`",
                             "AS `db`",
                             "AS `command`",
                             "AS `state`",
                             "AS `time_seconds`",
                             "AS `info`",
                             "AS `progress`",
                             "AS `query_id`",
                             "LIMIT 20"}) {
      EXPECT_TRUE(Contains(sql, part)) << flavor.Name() << " lacks " << part;
    }
  }
  EXPECT_TRUE(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36}))
                  .ActiveStatements(0)
                  .ends_with("LIMIT 1"));
}

TEST(DialectTest, SessionsAndSessionByIdSeeEverySessionAndMarkOurOwn) {
  for (const Flavor& flavor : {Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36}),
                               Make(Product::kMySQL, Platform::kSelfManaged, {5, 7, 44}),
                               Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19})}) {
    const Dialect d(flavor);
    const std::string all = d.Sessions(10000);
    EXPECT_TRUE(Contains(all, "ID = CONNECTION_ID() AS `is_self`")) << all;
    EXPECT_TRUE(Contains(all, "WHERE TRUE ORDER BY")) << all;
    EXPECT_FALSE(Contains(all, "'Slave_SQL'")) << all;  // guardrails are applied by the action
    EXPECT_TRUE(all.ends_with("LIMIT 10000")) << all;
    const std::string one = d.SessionById(42);
    EXPECT_TRUE(Contains(one, "WHERE ID = 42 ORDER BY")) << one;
    EXPECT_TRUE(one.ends_with("LIMIT 1")) << one;
    EXPECT_TRUE(Contains(d.ActiveStatements(5), "AS `is_self`"));
  }
  EXPECT_TRUE(Contains(
      Dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19})).SessionById(7),
      "QUERY_ID AS `query_id`"));
  EXPECT_TRUE(
      Contains(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36})).Sessions(1),
               "FROM performance_schema.processlist"));
}

TEST(DialectTest, OldestTransactionsAndReplicaCount) {
  Dialect mariadb(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19}));
  EXPECT_EQ(mariadb.OldestTransactions(5),
            "SELECT t.trx_id AS `trx_id`, t.trx_mysql_thread_id AS `thread_id`, "
            "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS `age_seconds`, t.trx_state AS "
            "`state`, t.trx_rows_locked AS `rows_locked`, t.trx_rows_modified AS `rows_modified`, "
            "t.trx_query AS `query`, p.USER AS `user`, p.HOST AS `host`, p.COMMAND AS "
            "`command`, p.TIME AS `session_seconds` "
            "FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p "
            "ON p.ID = t.trx_mysql_thread_id WHERE t.trx_mysql_thread_id <> CONNECTION_ID() "
            "ORDER BY t.trx_started, t.trx_id LIMIT 5");
  EXPECT_NE(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 4, 5}))
                .OldestTransactions(1)
                .find("LEFT JOIN performance_schema.processlist p"),
            std::string::npos);
  EXPECT_EQ(mariadb.ConnectedReplicaCount(),
            "SELECT COUNT(*) AS `replicas` FROM information_schema.PROCESSLIST WHERE COMMAND IN "
            "('Binlog Dump', 'Binlog Dump GTID')");
  EXPECT_EQ(
      Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 4, 5})).ConnectedReplicaCount(),
      "SELECT COUNT(*) AS `replicas` FROM performance_schema.processlist WHERE COMMAND IN "
      "('Binlog Dump', 'Binlog Dump GTID')");
}

TEST(DialectTest, NoKillOnAnUndetectedServer) {
  Dialect unknown{Flavor{}};
  EXPECT_EQ(unknown.KillConnection(7), "");
  EXPECT_EQ(unknown.KillQuery(7), "");
  EXPECT_EQ(unknown.KillQueryId(7), "");
}

TEST(DialectTest, RowLockWaitsNeedPerformanceSchemaFromMySQL80) {
  EXPECT_EQ(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36}, false))
                .row_lock_wait_source(),
            RowLockWaitSource::kNone);
  EXPECT_EQ(Dialect(Make(Product::kMySQL, Platform::kAurora, {8, 0, 28}, false, "3.04.0"))
                .row_lock_wait_source(),
            RowLockWaitSource::kNone);
  EXPECT_EQ(Dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19}, false))
                .row_lock_wait_source(),
            RowLockWaitSource::kInformationSchemaInnodbLockWaits);
}

// --- the statements chosen for each flavor ----------------------------------------------------

struct FlavorCase {
  const char* label;
  Flavor flavor;
  const char* replica_status;
  const char* io_running;
  const char* seconds_behind;
  const char* channel;
  const char* processlist_source;  // "performance_schema.processlist" or ".PROCESSLIST"
  const char* time_expression;     // how time_seconds is computed
  RowLockWaitSource lock_source;
  bool no_history_query;      // HistoryListLength() empty: the status variable has it, or nothing
  const char* session_setup;  // first statement of SessionSetup(), "" if none
  const char* kill_connection;
  const char* kill_query;
  const char* kill_query_id;
};

std::vector<FlavorCase> FlavorCases() {
  const auto self = Platform::kSelfManaged;
  const auto i_s = RowLockWaitSource::kInformationSchemaInnodbLockWaits;
  const auto p_s = RowLockWaitSource::kPerformanceSchemaDataLockWaits;
  const char* slave = "SHOW SLAVE STATUS";
  const char* replica = "SHOW REPLICA STATUS";
  const char* all = "SHOW ALL SLAVES STATUS";
  const char* mysql_setup = "SET SESSION max_execution_time = 10000";
  const char* maria_setup = "SET SESSION slow_query_log = 0, max_statement_time = 10.000";
  return {
      {"MySQL 5.7", Make(Product::kMySQL, self, {5, 7, 44}), slave, "Slave_IO_Running",
       "Seconds_Behind_Master", "Channel_Name", ".PROCESSLIST", "TIME AS", i_s, false, mysql_setup,
       "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"MySQL 8.0.21", Make(Product::kMySQL, self, {8, 0, 21}), slave, "Slave_IO_Running",
       "Seconds_Behind_Master", "Channel_Name", ".PROCESSLIST", "TIME AS", p_s, false, mysql_setup,
       "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"MySQL 8.0.22", Make(Product::kMySQL, self, {8, 0, 22}), replica, "Replica_IO_Running",
       "Seconds_Behind_Source", "Channel_Name", "performance_schema.processlist", "TIME AS", p_s,
       false, mysql_setup, "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"MySQL 8.0.22 without performance_schema", Make(Product::kMySQL, self, {8, 0, 36}, false),
       replica, "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name", ".PROCESSLIST",
       "TIME AS", RowLockWaitSource::kNone, false, mysql_setup, "KILL CONNECTION 7", "KILL QUERY 7",
       ""},
      {"MySQL 8.4", Make(Product::kMySQL, self, {8, 4, 5}), replica, "Replica_IO_Running",
       "Seconds_Behind_Source", "Channel_Name", "performance_schema.processlist", "TIME AS", p_s,
       false, mysql_setup, "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"MySQL 9.7.1 (recorded)",
       FromVariablesFile("variables--mysql-9.7.1--pt-summary-temp010.txt"), replica,
       "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name",
       "performance_schema.processlist", "TIME AS", p_s, false, mysql_setup, "KILL CONNECTION 7",
       "KILL QUERY 7", ""},
      {"MySQL 5.5.21 (recorded)",
       FromVariablesFile("variables--mysql-5.5.21--pt-summary-semisync.txt"), slave,
       "Slave_IO_Running", "Seconds_Behind_Master", "", ".PROCESSLIST", "TIME AS", i_s, true, "",
       "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"Percona Server 5.5.23 (recorded)",
       FromVariablesFile("variables--percona-server-5.5.23--pt-summary.txt"), slave,
       "Slave_IO_Running", "Seconds_Behind_Master", "", ".PROCESSLIST", "TIME AS", i_s, true, "",
       "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"Percona Server 8.0.32 (recorded)",
       FromVariablesFile("variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt"),
       replica, "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name",
       "performance_schema.processlist", "TIME AS", p_s, false, mysql_setup, "KILL CONNECTION 7",
       "KILL QUERY 7", ""},
      {"Percona Server 8.0.32 without performance_schema",
       Make(Product::kPerconaServer, self, {8, 0, 32}, false), replica, "Replica_IO_Running",
       "Seconds_Behind_Source", "Channel_Name", ".PROCESSLIST", "ROUND(TIME_MS / 1000, 3)",
       RowLockWaitSource::kNone, false, mysql_setup, "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"Percona Server 8.4.5 (recorded)",
       FromVariablesFile("variables--percona-server-8.4.5-5--pt-summary-pt-2322.txt"), replica,
       "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name",
       "performance_schema.processlist", "TIME AS", p_s, false, mysql_setup, "KILL CONNECTION 7",
       "KILL QUERY 7", ""},
      {"PXC 5.5.28 (recorded)",
       FromVariablesFile("variables--pxc-5.5.28-23.7--pt-summary-temp006.txt"), slave,
       "Slave_IO_Running", "Seconds_Behind_Master", "", ".PROCESSLIST", "TIME AS", i_s, true, "",
       "KILL CONNECTION 7", "KILL QUERY 7", ""},
      {"MariaDB 10.4", Make(Product::kMariaDB, self, {10, 4, 34}), all, "Slave_IO_Running",
       "Seconds_Behind_Master", "Connection_name", ".PROCESSLIST", "ROUND(TIME_MS / 1000, 3)", i_s,
       true, maria_setup, "KILL CONNECTION 7", "KILL QUERY 7", "KILL QUERY ID 7"},
      {"MariaDB 10.5", Make(Product::kMariaDB, self, {10, 5, 29}), all, "Slave_IO_Running",
       "Seconds_Behind_Master", "Connection_name", ".PROCESSLIST", "ROUND(TIME_MS / 1000, 3)", i_s,
       true, maria_setup, "KILL CONNECTION 7", "KILL QUERY 7", "KILL QUERY ID 7"},
      {"MariaDB 10.11.19 (captured)",
       DetectFlavor(testing::ParseVariables(
           Read("tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt"))),
       all, "Slave_IO_Running", "Seconds_Behind_Master", "Connection_name", ".PROCESSLIST",
       "ROUND(TIME_MS / 1000, 3)", i_s, true, maria_setup, "KILL CONNECTION 7", "KILL QUERY 7",
       "KILL QUERY ID 7"},
      {"MariaDB 11.4.5 (recorded)",
       FromVariablesFile("variables--mariadb-11.4.5--mariadb-docs-upgrading-minor.txt"), all,
       "Slave_IO_Running", "Seconds_Behind_Master", "Connection_name", ".PROCESSLIST",
       "ROUND(TIME_MS / 1000, 3)", i_s, true, maria_setup, "KILL CONNECTION 7", "KILL QUERY 7",
       "KILL QUERY ID 7"},
      {"RDS MySQL 8.0", Make(Product::kMySQL, Platform::kRds, {8, 0, 35}), replica,
       "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name",
       "performance_schema.processlist", "TIME AS", p_s, false, mysql_setup,
       "CALL mysql.rds_kill(7)", "CALL mysql.rds_kill_query(7)", ""},
      {"RDS MySQL 5.5", Make(Product::kMySQL, Platform::kRds, {5, 5, 62}, false), slave,
       "Slave_IO_Running", "Seconds_Behind_Master", "", ".PROCESSLIST", "TIME AS", i_s, true, "",
       "CALL mysql.rds_kill(7)", "CALL mysql.rds_kill_query(7)", ""},
      {"RDS MariaDB 10.4", Make(Product::kMariaDB, Platform::kRds, {10, 4, 34}), all,
       "Slave_IO_Running", "Seconds_Behind_Master", "Connection_name", ".PROCESSLIST",
       "ROUND(TIME_MS / 1000, 3)", i_s, true, maria_setup, "CALL mysql.rds_kill(7)",
       "CALL mysql.rds_kill_query(7)", "CALL mysql.rds_kill_query_id(7)"},
      {"RDS MariaDB 10.11", Make(Product::kMariaDB, Platform::kRds, {10, 11, 9}),
       "CALL mysql.rds_replica_status", "Slave_IO_Running", "Seconds_Behind_Master", "",
       ".PROCESSLIST", "ROUND(TIME_MS / 1000, 3)", i_s, true, maria_setup, "CALL mysql.rds_kill(7)",
       "CALL mysql.rds_kill_query(7)", "CALL mysql.rds_kill_query_id(7)"},
      {"Aurora v2 (recorded 2.09.0)",
       FromVariablesFile("variables--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt"),
       slave, "Slave_IO_Running", "Seconds_Behind_Master", "Channel_Name", ".PROCESSLIST",
       "TIME AS", i_s, false, mysql_setup, "CALL mysql.rds_kill(7)", "CALL mysql.rds_kill_query(7)",
       ""},
      {"Aurora v3", Make(Product::kMySQL, Platform::kAurora, {8, 0, 28}, true, "3.04.0"), replica,
       "Replica_IO_Running", "Seconds_Behind_Source", "Channel_Name",
       "performance_schema.processlist", "TIME AS", p_s, false, mysql_setup,
       "CALL mysql.rds_kill(7)", "CALL mysql.rds_kill_query(7)", ""},
  };
}

TEST(DialectFlavorsTest, ChoosesTheStatementsThatWorkOnEachFlavor) {
  for (const FlavorCase& c : FlavorCases()) {
    SCOPED_TRACE(c.label);
    ASSERT_TRUE(c.flavor.detected());
    Dialect dialect(c.flavor);
    EXPECT_EQ(dialect.ReplicaStatus(), c.replica_status);
    EXPECT_EQ(dialect.replica_columns().io_running, c.io_running);
    EXPECT_EQ(dialect.replica_columns().seconds_behind, c.seconds_behind);
    EXPECT_EQ(dialect.replica_columns().channel, c.channel);
    const std::string active = dialect.ActiveStatements(10);
    EXPECT_TRUE(Contains(active, c.processlist_source)) << active;
    EXPECT_TRUE(Contains(active, c.time_expression)) << active;
    EXPECT_EQ(dialect.row_lock_wait_source(), c.lock_source);
    EXPECT_EQ(dialect.HistoryListLength().empty(), c.no_history_query);
    const auto setup = dialect.SessionSetup();
    EXPECT_EQ(setup.empty() ? "" : setup.front(), c.session_setup);
    EXPECT_EQ(dialect.KillConnection(7), c.kill_connection);
    EXPECT_EQ(dialect.KillQuery(7), c.kill_query);
    EXPECT_EQ(dialect.KillQueryId(7), c.kill_query_id);
    EXPECT_EQ(dialect.GlobalStatus(), "SHOW GLOBAL STATUS");
    EXPECT_EQ(dialect.GlobalVariables(), "SHOW GLOBAL VARIABLES");
    EXPECT_EQ(dialect.GlobalStatusOf({"Questions", "Threads_running"}, {"Connection_errors_"}),
              "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Threads_running') OR "
              "Variable_name LIKE 'Connection\\_errors\\_%'");
    // Anything but a status name is left out: never quoted into the statement.
    EXPECT_EQ(dialect.GlobalStatusOf({"Questions", "x' OR '1"}, {}),
              "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions')");
    EXPECT_EQ(dialect.GlobalStatusOf({}, {}), "SHOW GLOBAL STATUS");
  }
}

TEST(DialectFlavorsTest, ReplicaColumnNamesPerFamily) {
  const auto mariadb =
      Dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19})).replica_columns();
  EXPECT_EQ(mariadb.source_host, "Master_Host");
  EXPECT_EQ(mariadb.source_port, "Master_Port");
  EXPECT_EQ(mariadb.sql_running, "Slave_SQL_Running");
  EXPECT_EQ(mariadb.io_state, "Slave_IO_State");
  EXPECT_EQ(mariadb.sql_state, "Slave_SQL_Running_State");
  EXPECT_EQ(mariadb.gtid_position, "Gtid_IO_Pos");
  EXPECT_EQ(mariadb.last_sql_errno, "Last_SQL_Errno");

  const auto mysql84 =
      Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 4, 5})).replica_columns();
  EXPECT_EQ(mysql84.source_host, "Source_Host");
  EXPECT_EQ(mysql84.source_port, "Source_Port");
  EXPECT_EQ(mysql84.sql_running, "Replica_SQL_Running");
  EXPECT_EQ(mysql84.io_state, "Replica_IO_State");
  EXPECT_EQ(mysql84.sql_state, "Replica_SQL_Running_State");
  EXPECT_EQ(mysql84.gtid_position, "Retrieved_Gtid_Set");
  EXPECT_EQ(mysql84.last_io_error, "Last_IO_Error");

  const auto mysql55 =
      Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {5, 5, 62})).replica_columns();
  EXPECT_EQ(mysql55.source_host, "Master_Host");
  EXPECT_EQ(mysql55.sql_state, "");      // 5.6 added Slave_SQL_Running_State
  EXPECT_EQ(mysql55.gtid_position, "");  // 5.6 added Retrieved_Gtid_Set
}

TEST(DialectFlavorsTest, HistoryListLengthReadsInnodbMetricsWhereNeeded) {
  EXPECT_EQ(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36})).HistoryListLength(),
            "SELECT `COUNT` AS `history_list_length` FROM information_schema.INNODB_METRICS "
            "WHERE NAME = 'trx_rseg_history_len' AND STATUS = 'enabled'");
  // MySQL 5.5 has neither the status variable nor INNODB_METRICS.
  EXPECT_EQ(Dialect(Make(Product::kMySQL, Platform::kSelfManaged, {5, 5, 62})).HistoryListLength(),
            "");
}

// --- Detect() ---------------------------------------------------------------------------------

TEST(DetectTest, CapturedMariaDB1011WithCapabilityProbe) {
  const Flavor mariadb = Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19});
  FakeSession session;
  session.On(Dialect::DetectionStatement(), OnlyBlock(kCapturedDetection))
      .On(Dialect(mariadb).CapabilitiesStatement(), OnlyBlock(kCapturedCapabilities));
  auto detection = Detect(session);
  ASSERT_TRUE(detection) << detection.error().ToString();
  const Flavor& flavor = detection->flavor;
  EXPECT_EQ(flavor.Name(), "MariaDB 10.11.19");
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  EXPECT_EQ(flavor.capabilities.userstat, true);
  EXPECT_EQ(flavor.capabilities.galera, false);
  EXPECT_EQ(flavor.capabilities.sys_schema, true);
  EXPECT_EQ(flavor.capabilities.mdl_instrument, false);  // setup_instruments says NO
  EXPECT_EQ(flavor.capabilities.statement_digests, true);
  EXPECT_EQ(detection->variables.at("port"), "23306");
  EXPECT_EQ(detection->variables.at("max_connections"), "151");
  EXPECT_EQ(session.statements_sent(), 2u);
}

TEST(DetectTest, RecordedPerconaServer80WithProbeDenied) {
  FakeSession session;
  session
      .On(Dialect::DetectionStatement(),
          AnswerToDetection(std::string(kRecordings) +
                            "variables/"
                            "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt"))
      .OnPrefix("SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA",
                FakeSession::ServerError(core::ErrorCode::kPrivilege, 1142, "42000",
                                         "SELECT command denied to user 'monitor'@'%' for table "
                                         "'setup_instruments'"));
  auto detection = Detect(session);
  ASSERT_TRUE(detection) << detection.error().ToString();
  const Flavor& flavor = detection->flavor;
  EXPECT_EQ(flavor.Name(), "Percona Server 8.0.32-24");
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  EXPECT_EQ(flavor.capabilities.userstat, false);
  EXPECT_EQ(flavor.capabilities.galera, false);  // asked for wsrep_on, the server has none
  EXPECT_FALSE(flavor.capabilities.sys_schema.has_value());
  EXPECT_FALSE(flavor.capabilities.mdl_instrument.has_value());
  EXPECT_FALSE(flavor.capabilities.statement_digests.has_value());
  EXPECT_EQ(session.statements_sent(), 2u);
  EXPECT_EQ(detection->variables.at("version_comment"),
            "Percona Server (GPL), Release 24, Revision e5c6e9d2");
}

TEST(DetectTest, RecordedMySQL55WithoutPerformanceSchemaSkipsTheProbe) {
  FakeSession session;
  session.On(Dialect::DetectionStatement(),
             AnswerToDetection(std::string(kRecordings) +
                               "variables/variables--mysql-5.5.21--pt-summary-semisync.txt"));
  auto detection = Detect(session);
  ASSERT_TRUE(detection) << detection.error().ToString();
  EXPECT_EQ(detection->flavor.Name(), "MySQL 5.5.21");
  EXPECT_EQ(detection->flavor.capabilities.performance_schema, false);
  EXPECT_EQ(detection->flavor.capabilities.userstat, false);  // Oracle MySQL has none
  EXPECT_EQ(session.statements_sent(), 1u);
}

TEST(DetectTest, FailedDetectionNamesTheTarget) {
  mysql::ConnectionInfo info;
  info.target_name = "orders-primary";
  FakeSession session(info);
  session.On(Dialect::DetectionStatement(),
             FakeSession::ServerError(core::ErrorCode::kUnavailable, 2013, "HY000",
                                      "Lost connection to server during query"));
  auto detection = Detect(session);
  ASSERT_FALSE(detection);
  EXPECT_EQ(detection.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(detection.error().message.find("orders-primary"), std::string::npos);
  EXPECT_NE(detection.error().message.find("Lost connection"), std::string::npos);
}

TEST(DetectTest, ConnectionLostDuringTheProbeIsAnError) {
  const Flavor mariadb = Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19});
  FakeSession session;
  session.On(Dialect::DetectionStatement(), OnlyBlock(kCapturedDetection))
      .On(Dialect(mariadb).CapabilitiesStatement(),
          FakeSession::ServerError(core::ErrorCode::kTimeout, 2013, "HY000", "read timeout"));
  auto detection = Detect(session);
  ASSERT_FALSE(detection);
  EXPECT_EQ(detection.error().code, core::ErrorCode::kTimeout);
}

TEST(DetectTest, UnrecognisedServerIsReportedAsUndetectedNotGuessed) {
  FakeSession session;
  session.On(Dialect::DetectionStatement(),
             mysql::MakeResultSet({"Variable_name", "Value"}, {{"version", "not-a-version"}}));
  auto detection = Detect(session);
  ASSERT_TRUE(detection);
  EXPECT_FALSE(detection->flavor.detected());
  EXPECT_EQ(session.statements_sent(), 1u);  // nothing more is sent to an unknown server
}

// --- replica-status recordings read through replica_columns() ---------------------------------

struct ReplicaView {
  std::string io_running;
  std::string sql_running;
  std::optional<int64_t> lag;
  std::optional<int64_t> last_io_errno;
};

ReplicaView Read(const Dialect& dialect, const mysql::Row& row) {
  const auto& c = dialect.replica_columns();
  return {row[c.io_running].StringOr("<missing>"), row[c.sql_running].StringOr("<missing>"),
          row[c.seconds_behind].AsInt64(), row[c.last_io_errno].AsInt64()};
}

TEST(ReplicaStatusRecordingsTest, MariaDBShowAllSlavesStatus) {
  Dialect dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {11, 6, 2}));
  EXPECT_EQ(dialect.ReplicaStatus(), "SHOW ALL SLAVES STATUS");
  auto result =
      OnlyBlock(std::string(kRecordings) +
                "replica-status/"
                "replica-status--mariadb-11.6-11.8--mariadb-docs-show-all-slaves-status.txt");
  ASSERT_EQ(result.rows.size(), 1u);
  const auto& row = result.rows[0];
  auto view = Read(dialect, row);
  EXPECT_EQ(view.io_running, "Yes");
  EXPECT_EQ(view.sql_running, "Yes");
  EXPECT_EQ(view.lag, 6);
  EXPECT_EQ(view.last_io_errno, 0);
  const auto& c = dialect.replica_columns();
  EXPECT_EQ(row[c.channel].StringOr("<missing>"), "");  // the default connection
  EXPECT_EQ(row[c.source_host].StringOr(""), "db01.example.com");
  EXPECT_EQ(row[c.source_port].AsInt64(), 3306);
  EXPECT_EQ(row[c.gtid_position].StringOr(""), "0-1-2042");
  EXPECT_EQ(row[c.io_state].StringOr(""), "Waiting for master to send event");
  EXPECT_EQ(row[c.sql_state].StringOr(""), "Updating");
}

TEST(ReplicaStatusRecordingsTest, MariaDBMultiSourceMysqltestResult) {
  Dialect dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 3, 39}));
  auto blocks = testing::ParseRecordedOutput(
      Read(std::string(kRecordings) +
           "replica-status/replica-status--mariadb-10.x--mtr-multi_source-simple.txt"));
  ASSERT_EQ(blocks.size(), 5u);
  const auto& c = dialect.replica_columns();
  // First SHOW ALL SLAVES STATUS: both connections running, no lag.
  ASSERT_EQ(blocks[0].rows.size(), 2u);
  for (const auto& row : blocks[0].rows) {
    auto view = Read(dialect, row);
    EXPECT_EQ(view.io_running, "Yes");
    EXPECT_EQ(view.sql_running, "Yes");
    EXPECT_EQ(view.lag, 0);
  }
  EXPECT_EQ(blocks[0].rows[0][c.channel].StringOr(""), "slave1");
  // After "stop slave 'slave1'": slave1 stopped, lag unknown (NULL).
  ASSERT_EQ(blocks[2].rows.size(), 2u);
  auto stopped = Read(dialect, blocks[2].rows[0]);
  EXPECT_EQ(blocks[2].rows[0][c.channel].StringOr(""), "slave1");
  EXPECT_EQ(stopped.io_running, "No");
  EXPECT_EQ(stopped.sql_running, "No");
  EXPECT_FALSE(stopped.lag.has_value());
  // The vertical "show slave 'slave1' status" reads the same way once pivoted.
  auto slave1 = testing::PivotNameValue(blocks[1]);
  auto view = Read(dialect, slave1.rows.at(0));
  EXPECT_EQ(view.io_running, "No");
  EXPECT_FALSE(view.lag.has_value());
}

TEST(ReplicaStatusRecordingsTest, RdsMariaDBProcedure) {
  Dialect dialect(Make(Product::kMariaDB, Platform::kRds, {10, 5, 8}));
  EXPECT_EQ(dialect.ReplicaStatus(), "CALL mysql.rds_replica_status");
  auto result =
      OnlyBlock(std::string(kRecordings) +
                "replica-status/"
                "replica-status--rds-mariadb-10.5--aws-rds-guide-2020-rds-replica-status.txt");
  ASSERT_EQ(result.rows.size(), 1u);
  const auto& row = result.rows[0];
  auto view = Read(dialect, row);
  EXPECT_EQ(view.io_running, "Yes");
  EXPECT_EQ(view.sql_running, "Yes");
  EXPECT_EQ(view.lag, 0);
  EXPECT_EQ(dialect.replica_columns().channel, "");  // the procedure has no Connection_name
  EXPECT_FALSE(row.Has("Connection_name"));
  EXPECT_EQ(row[dialect.replica_columns().gtid_position].StringOr(""), "0-807509301-3980");
  EXPECT_EQ(row[dialect.replica_columns().sql_state].StringOr(""),
            "Slave has read all relay log; waiting for more updates");
}

TEST(ReplicaStatusRecordingsTest, RdsMySQL55BrokenByIoError) {
  Dialect dialect(Make(Product::kMySQL, Platform::kRds, {5, 5, 62}, false));
  EXPECT_EQ(dialect.ReplicaStatus(), "SHOW SLAVE STATUS");
  auto result = OnlyBlock(std::string(kRecordings) +
                          "replica-status/"
                          "replica-status--rds-mysql-5.5--aws-rds-guide-2020-next-master-log.txt");
  ASSERT_EQ(result.rows.size(), 1u);
  const auto& row = result.rows[0];
  auto view = Read(dialect, row);
  EXPECT_EQ(view.io_running, "No");
  EXPECT_EQ(view.sql_running, "Yes");
  EXPECT_FALSE(view.lag.has_value());  // Seconds_Behind_Master: NULL
  EXPECT_EQ(view.last_io_errno, 1236);
  EXPECT_EQ(row[dialect.replica_columns().io_state].StringOr("<missing>"), "");
  EXPECT_EQ(row[dialect.replica_columns().last_sql_errno].AsInt64(), 0);
}

TEST(ReplicaStatusRecordingsTest, AuroraV3ReplicaNames) {
  // AWS's rewritten example (README: names renamed by AWS, cut after Source_Server_Id); used for
  // the 8.0.22+ column names only.
  Dialect dialect(Make(Product::kMySQL, Platform::kAurora, {8, 0, 28}, true, "3.04.0"));
  EXPECT_EQ(dialect.ReplicaStatus(), "SHOW REPLICA STATUS");
  auto result = OnlyBlock(std::string(kRecordings) +
                          "replica-status/"
                          "replica-status--aurora-mysql-3--aws-aurora-guide-next-source-log.txt");
  ASSERT_EQ(result.rows.size(), 1u);
  const auto& row = result.rows[0];
  auto view = Read(dialect, row);
  EXPECT_EQ(view.io_running, "No");
  EXPECT_EQ(view.sql_running, "Yes");
  EXPECT_FALSE(view.lag.has_value());
  EXPECT_EQ(view.last_io_errno, 1236);
  EXPECT_EQ(row[dialect.replica_columns().source_port].AsInt64(), 3306);
  EXPECT_TRUE(row[dialect.replica_columns().last_io_error].StringOr("").starts_with(
      "Got fatal error 1236 from source"));
}

}  // namespace
}  // namespace dbrunbook::dialect
