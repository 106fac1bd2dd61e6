// Tests of the recorded-output parser (tests/support/recorded_output.h) on the real recordings
// under ../shared/conformance/server-outputs: row counts and known values per file, taken from
// the README's "known" lines and from the files themselves.
#include "support/recorded_output.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace dbrunbook::testing {
namespace {

std::string Recording(const std::string& relative) {
  auto text = ReadSharedFile("conformance/server-outputs/" + relative);
  if (!text) {
    ADD_FAILURE() << text.error().ToString();
    return {};
  }
  return *text;
}

std::vector<mysql::ResultSet> Blocks(const std::string& relative) {
  return ParseRecordedOutput(Recording(relative));
}

dialect::VariableMap Variables(const std::string& relative) {
  return ParseVariables(Recording(relative));
}

std::string Value(const dialect::VariableMap& variables, const std::string& name) {
  auto it = variables.find(name);
  return it == variables.end() ? "<missing>" : it->second;
}

std::string Text(const mysql::Row& row, std::string_view column) {
  const auto field = row[column];
  if (!field.present()) return "<missing>";
  return field.StringOr("<NULL>");
}

// --- formats, on small inline texts -----------------------------------------------------

TEST(RecordedOutputTest, TabWithoutHeaderGetsVariableColumnsAndUnescapes) {
  auto blocks = ParseRecordedOutput("a\t1\nkey\t-----BEGIN-----\\nAB\\\\C\nempty\t\nn\tNULL\n");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 4u);
  EXPECT_EQ(blocks[0].columns->list()[0].name, "Variable_name");
  EXPECT_EQ(Text(blocks[0].rows[1], "Value"), "-----BEGIN-----\nAB\\C");
  EXPECT_EQ(Text(blocks[0].rows[2], "Value"), "");
  EXPECT_TRUE(blocks[0].rows[3]["Value"].is_null());
}

TEST(RecordedOutputTest, VerticalValuesContinueOnFollowingLines) {
  auto blocks = ParseRecordedOutput(
      "mysql> SHOW ENGINE INNODB STATUS\\G\n"
      "*************************** 1. row ***************************\n"
      "  Type: InnoDB\n"
      "  Name: \n"
      "Status: \n"
      "=====\n"
      "Mutex: spin waits 3\n"
      "\n"
      "END OF INNODB MONITOR OUTPUT\n"
      "\n"
      "1 row in set (0.00 sec)\n");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(Text(blocks[0].rows[0], "Status"),
            "\n=====\nMutex: spin waits 3\n\nEND OF INNODB MONITOR OUTPUT");
  EXPECT_EQ(Text(blocks[0].rows[0], "Name"), "");
}

TEST(RecordedOutputTest, PivotTurnsNameValueRowsIntoOneRow) {
  auto blocks = ParseRecordedOutput("Slave_IO_Running\tNo\nSeconds_Behind_Master\tNULL\n");
  ASSERT_EQ(blocks.size(), 1u);
  auto row = PivotNameValue(blocks[0]);
  ASSERT_EQ(row.rows.size(), 1u);
  EXPECT_EQ(Text(row.rows[0], "Slave_IO_Running"), "No");
  EXPECT_TRUE(row.rows[0]["Seconds_Behind_Master"].is_null());
}

TEST(RecordedOutputTest, SkipsTextThatIsNotServerOutput) {
  EXPECT_TRUE(ParseRecordedOutput("Query OK, 0 rows affected (0.000 sec)\n"
                                  "pt-summary-internal-user   msandbox@%\n"
                                  "MariaDB [(none)]> select 1;\n")
                  .empty());
}

// Every recording of these kinds parses to at least one row: a new file in an unknown shape
// fails here rather than silently giving an empty fake.
TEST(RecordedOutputTest, EveryRecordingParsesToRows) {
  int files = 0;
  for (const char* kind : {"variables", "status", "processlist", "replica-status"}) {
    const std::string dir = SharedPath(std::string("conformance/server-outputs/") + kind);
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      auto blocks = Blocks(std::string(kind) + "/" + name);
      ASSERT_FALSE(blocks.empty()) << name;
      EXPECT_FALSE(blocks.back().rows.empty()) << name;
      for (const auto& block : blocks) EXPECT_GT(block.columns->size(), 0u) << name;
      ++files;
    }
  }
  EXPECT_EQ(files, 12 + 6 + 9 + 6);
}

// Outside the four kinds above, two shapes that broke a first version of the \G reader.
TEST(RecordedOutputTest, EngineStatusKeepsFieldLikeLinesInsideStatus) {
  auto blocks = Blocks("innodb-status/innodb-status--mysql-8.1.0--innotop-011.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 3u);  // Type, Name, Status; "Locked: ..." is text
  const std::string status = Text(blocks[0].rows.at(0), "Status");
  EXPECT_NE(status.find("\nLocked: thread 139785216907008 file row0ins.cc line 2366"),
            std::string::npos);
  EXPECT_NE(status.find("END OF INNODB MONITOR OUTPUT"), std::string::npos);
}

TEST(RecordedOutputTest, VerticalRowsWithoutAlignment) {
  // AWS's example lost the client's right alignment of the names.
  auto blocks =
      Blocks("lock-waits/lock-waits--aurora-mysql-3.02--aws-aurora-guide-data_lock_waits-join.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 14u);
  EXPECT_EQ(Text(blocks[0].rows[0], "waiting_thread"), "4244");
  EXPECT_EQ(Text(blocks[0].rows[0], "blocking_lock"), "70369562074216:11:4:2:70369549808672");
  EXPECT_EQ(Text(blocks[0].rows[0], "blocker_host"), "123.456.789.012:18156");
}

TEST(RecordedOutputTest, MalformedBoxSeparatorAndNonBreakingSpaces) {
  auto blocks = Blocks(
      "replica-host-status/"
      "replica-host-status--aurora-mysql-1.x-multi-master--aws-aurora-guide.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 2u);
  EXPECT_EQ(blocks[0].columns->list()[0].name, "server_id");
  EXPECT_EQ(Text(blocks[0].rows[0], "has_primary"), "true");
  EXPECT_EQ(Text(blocks[0].rows[1], "replica_lag_in_milliseconds"), "39.907");
}

// --- variables ------------------------------------------------------------------------------

TEST(RecordedOutputVariablesTest, Aurora209SelectOfTwoVariables) {
  auto blocks =
      Blocks("variables/variables--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].rows.size(), 1u);
  auto vars =
      Variables("variables/variables--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt");
  EXPECT_EQ(vars.size(), 2u);
  EXPECT_EQ(Value(vars, "version"), "5.7.12");
  EXPECT_EQ(Value(vars, "aurora_version"), "2.09.0");
}

TEST(RecordedOutputVariablesTest, Aurora2111IgnoresFunctionColumn) {
  auto blocks = Blocks("variables/variables--aurora-mysql-2.11.1--aws-aurora-guide-versions.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(Text(blocks[0].rows.at(0), "aurora_version()"), "2.11.1");
  auto vars = Variables("variables/variables--aurora-mysql-2.11.1--aws-aurora-guide-versions.txt");
  EXPECT_EQ(vars.size(), 1u);
  EXPECT_EQ(Value(vars, "aurora_version"), "2.11.1");
}

TEST(RecordedOutputVariablesTest, MariaDB1145BoxedVersionRow) {
  auto vars = Variables("variables/variables--mariadb-11.4.5--mariadb-docs-upgrading-minor.txt");
  EXPECT_EQ(vars.size(), 1u);
  EXPECT_EQ(Value(vars, "version"), "11.4.5-MariaDB");  // box padding is not part of the value
}

TEST(RecordedOutputVariablesTest, MySQL5082Vertical) {
  auto blocks = Blocks("variables/variables--mysql-5.0.82--pt-lib-vars004-vertical.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].rows.size(), 240u);
  auto vars = Variables("variables/variables--mysql-5.0.82--pt-lib-vars004-vertical.txt");
  EXPECT_EQ(vars.size(), 240u);
  EXPECT_EQ(Value(vars, "version"), "5.0.82-log");
  EXPECT_EQ(Value(vars, "version_comment"), "MySQL Community Server (GPL)");
  EXPECT_EQ(Value(vars, "basedir"),
            "/home/daniel/mysql_binaries/mysql-5.0.82-linux-x86_64-glibc23/");
  EXPECT_EQ(Value(vars, "wait_timeout"), "28800");
}

TEST(RecordedOutputVariablesTest, MySQL5134Boxed) {
  auto blocks = Blocks("variables/variables--mysql-5.1.34--pt-lib-vars001-table.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].rows.size(), 270u);
  auto vars = Variables("variables/variables--mysql-5.1.34--pt-lib-vars001-table.txt");
  EXPECT_EQ(Value(vars, "version"), "5.1.34-log");
  EXPECT_EQ(Value(vars, "version_comment"), "MySQL Community Server (GPL)");
  EXPECT_EQ(Value(vars, "time_format"), "%H:%i:%s");
}

TEST(RecordedOutputVariablesTest, MySQL5521TabWithoutInternalLines) {
  auto vars = Variables("variables/variables--mysql-5.5.21--pt-summary-semisync.txt");
  EXPECT_EQ(vars.size(), 319u);  // 326 lines minus the 7 pt-mysql-summary additions
  EXPECT_EQ(Value(vars, "version"), "5.5.21");
  EXPECT_EQ(Value(vars, "version_comment"), "MySQL Community Server (GPL)");
  EXPECT_EQ(Value(vars, "rpl_semi_sync_master_enabled"), "ON");
  EXPECT_FALSE(vars.contains("pt-summary-internal-now"));
}

TEST(RecordedOutputVariablesTest, MySQL971Tab) {
  auto vars = Variables("variables/variables--mysql-9.7.1--pt-summary-temp010.txt");
  EXPECT_EQ(vars.size(), 632u);  // 654 lines minus 22 additions
  EXPECT_EQ(Value(vars, "version"), "9.7.1");
  EXPECT_EQ(Value(vars, "version_comment"), "MySQL Community Server - GPL");
  EXPECT_TRUE(Value(vars, "basedir").ends_with("/mysql-9.7.1-linux-glibc2.28-x86_64/"));
  EXPECT_EQ(Value(vars, "admin_address"), "");
  EXPECT_FALSE(vars.contains("internal::nice_of_1895027"));
}

TEST(RecordedOutputVariablesTest, PerconaServer5523Tab) {
  auto vars = Variables("variables/variables--percona-server-5.5.23--pt-summary.txt");
  EXPECT_EQ(vars.size(), 366u);  // 380 lines minus 14 additions
  EXPECT_EQ(Value(vars, "version"), "5.5.23-rel25.3-log");
  EXPECT_EQ(Value(vars, "version_comment"),
            "Percona Server with XtraDB (GPL), Release rel25.3, Revision 240");
  EXPECT_EQ(Value(vars, "userstat"), "OFF");
}

TEST(RecordedOutputVariablesTest, PerconaServer8032Tab) {
  auto vars =
      Variables("variables/variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt");
  EXPECT_EQ(vars.size(), 689u);  // 708 lines minus 19 additions
  EXPECT_EQ(Value(vars, "version"), "8.0.32-24");
  EXPECT_EQ(Value(vars, "version_comment"), "Percona Server (GPL), Release 24, Revision e5c6e9d2");
}

TEST(RecordedOutputVariablesTest, PerconaServer845Tab) {
  auto vars = Variables("variables/variables--percona-server-8.4.5-5--pt-summary-pt-2322.txt");
  EXPECT_EQ(vars.size(), 896u);  // 919 lines minus 23 additions
  EXPECT_EQ(Value(vars, "version"), "8.4.5-5");
  EXPECT_EQ(Value(vars, "innodb_version"), "8.4.5-5");
  EXPECT_EQ(Value(vars, "version_comment"),
            "Percona Server (GPL), Release '5', Revision '3d3abca6'");
}

TEST(RecordedOutputVariablesTest, PerconaSqlServer5143TabWithHeader) {
  auto blocks = Blocks("variables/variables--percona-sql-server-5.1.43--pt-lib-vars-baron-002.txt");
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].rows.size(), 309u);  // header line not counted
  auto vars =
      Variables("variables/variables--percona-sql-server-5.1.43--pt-lib-vars-baron-002.txt");
  EXPECT_EQ(Value(vars, "version"), "5.1.43-60.hardy.7-log");
  EXPECT_EQ(Value(vars, "version_comment"), "(Percona SQL Server (GPL), XtraDB , Revision )");
  EXPECT_FALSE(vars.contains("Variable_name"));
}

TEST(RecordedOutputVariablesTest, Pxc5528Tab) {
  auto vars = Variables("variables/variables--pxc-5.5.28-23.7--pt-summary-temp006.txt");
  EXPECT_EQ(vars.size(), 408u);  // 422 lines minus 14 additions
  EXPECT_EQ(Value(vars, "version"), "5.5.28-23.7-log");
  EXPECT_EQ(Value(vars, "version_comment"),
            "Percona XtraDB Cluster (GPL) 5.5.28-23.7, Revision 373, wsrep_23.7.r3821");
  EXPECT_EQ(Value(vars, "wsrep_on"), "ON");
}

// --- status ---------------------------------------------------------------------------------

TEST(RecordedOutputStatusTest, AuroraFastInsertBoxed) {
  auto vars = Variables("status/status--aurora-mysql--aws-aurora-guide-fast-insert.txt");
  EXPECT_EQ(vars.size(), 2u);
  EXPECT_EQ(Value(vars, "Aurora_fast_insert_cache_hits"), "3598300");
  EXPECT_EQ(Value(vars, "Aurora_fast_insert_cache_misses"), "436401336");
}

TEST(RecordedOutputStatusTest, MySQL5149Tab) {
  auto vars = Variables("status/status--mysql-5.1.49--pt-summary-temp003.txt");
  EXPECT_EQ(vars.size(), 291u);
  EXPECT_EQ(Value(vars, "Uptime"), "1092");
  EXPECT_EQ(Value(vars, "Threads_running"), "1");
}

TEST(RecordedOutputStatusTest, PerconaServer5520Tab) {
  auto vars = Variables("status/status--percona-server-5.5.20--pt-summary-temp002.txt");
  EXPECT_EQ(vars.size(), 370u);
  EXPECT_EQ(Value(vars, "Innodb_history_list_length"), "30");
  EXPECT_EQ(Value(vars, "Uptime"), "94521");
}

TEST(RecordedOutputStatusTest, PerconaServer8032TabWithEscapedNewlines) {
  auto vars = Variables("status/status--percona-server-8.0.32-24--pt-summary-temp_enc008.txt");
  EXPECT_EQ(vars.size(), 539u);
  EXPECT_EQ(Value(vars, "Uptime"), "108232");
  EXPECT_EQ(Value(vars, "Threads_running"), "3");
  EXPECT_TRUE(Value(vars, "Rsa_public_key").starts_with("-----BEGIN PUBLIC KEY-----\nMIIB"));
  // Recorded fact used by Dialect::HistoryListLength: no such counter on Percona 8.0.
  EXPECT_FALSE(vars.contains("Innodb_history_list_length"));
}

TEST(RecordedOutputStatusTest, Pxc5528Tab) {
  auto vars = Variables("status/status--pxc-5.5.28-23.7--pt-summary-temp006.txt");
  EXPECT_EQ(vars.size(), 410u);
  EXPECT_EQ(Value(vars, "wsrep_provider_name"), "Galera");
  EXPECT_EQ(Value(vars, "wsrep_ready"), "ON");
  EXPECT_EQ(Value(vars, "Innodb_history_list_length"), "1");
}

TEST(RecordedOutputStatusTest, RdsMultiAzFlowControlBoxed) {
  auto vars =
      Variables("status/status--rds-mysql-8.0-multi-az-cluster--aws-rds-guide-flow-control.txt");
  EXPECT_EQ(vars.size(), 1u);
  EXPECT_EQ(Value(vars, "Rpl_semi_sync_master_flow_control_current_delay"), "2010");
}

// --- processlist ----------------------------------------------------------------------------

TEST(RecordedOutputProcesslistTest, Aurora209TwoBoxesAfterPrompts) {
  auto blocks =
      Blocks("processlist/processlist--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(Text(blocks[0].rows.at(0), "@@aurora_version"), "2.09.0");
  const auto& list = blocks[1];
  ASSERT_EQ(list.rows.size(), 18u);
  EXPECT_EQ(Text(list.rows[0], "User"), "rdsadmin");
  EXPECT_TRUE(list.rows[0]["db"].is_null());
  EXPECT_EQ(Text(list.rows[17], "Id"), "89");
  EXPECT_EQ(Text(list.rows[17], "State"), "Waiting for table metadata lock");
  EXPECT_EQ(Text(list.rows[17], "Info"), "truncate table sbtest.sbtest1");
  EXPECT_EQ(list.rows[16]["Time"].AsInt64(), 22);
}

TEST(RecordedOutputProcesslistTest, MariaDBInformationSchemaVertical) {
  auto blocks = Blocks(
      "processlist/processlist--mariadb-10.x--mariadb-docs-information-schema-processlist.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 2u);
  EXPECT_EQ(blocks[0].columns->size(), 17u);
  EXPECT_EQ(Text(blocks[0].rows[0], "TIME_MS"), "0.351");
  EXPECT_EQ(Text(blocks[0].rows[1], "USER"), "system user");
  EXPECT_EQ(Text(blocks[0].rows[1], "HOST"), "");
  EXPECT_TRUE(blocks[0].rows[1]["INFO"].is_null());
  EXPECT_EQ(Text(blocks[0].rows[1], "TID"), "3856");  // the doc's trailing "..." is not data
}

TEST(RecordedOutputProcesslistTest, MariaDBParallelReplicationBoxed) {
  auto blocks =
      Blocks("processlist/processlist--mariadb-10.x--mariadb-docs-parallel-replication.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 6u);
  EXPECT_EQ(Text(blocks[0].rows[2], "State"), "Waiting for master to send event");
  EXPECT_EQ(Text(blocks[0].rows[3], "State"), "");
  EXPECT_EQ(Text(blocks[0].rows[0], "Progress"), "0.000");
}

TEST(RecordedOutputProcesslistTest, MariaDBShowProcesslistBoxed) {
  auto blocks = Blocks("processlist/processlist--mariadb-10.x--mariadb-docs-show-processlist.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 2u);
  EXPECT_EQ(Text(blocks[0].rows[0], "Command"), "Daemon");
  EXPECT_EQ(blocks[0].rows[0]["Time"].AsInt64(), 2693);
}

TEST(RecordedOutputProcesslistTest, MySQL57SysProcesslistVertical) {
  auto blocks = Blocks("processlist/processlist--mysql-5.7--mysql-sys-readme-sys-processlist.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 28u);
  EXPECT_EQ(Text(blocks[0].rows[0], "conn_id"), "44502");
  EXPECT_EQ(Text(blocks[0].rows[0], "progress"), "98.84");
  EXPECT_EQ(Text(blocks[0].rows[0], "program_name"), "mysql");
}

TEST(RecordedOutputProcesslistTest, MySQL5xFullProcesslistVertical) {
  auto blocks = Blocks("processlist/processlist--mysql-5.x--pt-summary-processlist-001.txt");
  ASSERT_EQ(blocks.size(), 1u);
  const auto& rows = blocks[0].rows;
  ASSERT_EQ(rows.size(), 167u);
  EXPECT_EQ(Text(rows[0], "Command"), "Binlog Dump");
  EXPECT_EQ(rows[0]["Time"].AsInt64(), 9133994);
  EXPECT_EQ(Text(rows[2], "User"), "system user");
  EXPECT_EQ(Text(rows[2], "State"), "Waiting for master to send event");
  EXPECT_EQ(Text(rows[1], "State"), "");
  EXPECT_EQ(Text(rows[166], "Info"), "show full processlist");
}

TEST(RecordedOutputProcesslistTest, PerconaServer55PtStalkSample) {
  auto blocks = Blocks("processlist/processlist--percona-server-5.5--pt-secure-collect-2018.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 19u);
  EXPECT_TRUE(blocks[0].rows[0].Has("Rows_read"));
  EXPECT_EQ(Text(blocks[0].rows[0], "State"), "");  // "State:" without the blank
  EXPECT_EQ(Text(blocks[0].rows[18], "Info"), "SHOW FULL PROCESSLIST");
}

TEST(RecordedOutputProcesslistTest, PerconaServer8032Vertical) {
  auto blocks =
      Blocks("processlist/processlist--percona-server-8.0.32-24--pt-summary-temp_enc008.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 5u);
  EXPECT_EQ(Text(blocks[0].rows[1], "Command"), "Binlog Dump");
  EXPECT_EQ(Text(blocks[0].rows[1], "State"),
            "Source has sent all binlog to replica; waiting for more updates");
  EXPECT_EQ(Text(blocks[0].rows[0], "Time_ms"), "108231222");
}

TEST(RecordedOutputProcesslistTest, Pxc5528Vertical) {
  auto blocks = Blocks("processlist/processlist--pxc-5.5.28-23.7--pt-summary-temp006.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 4u);
  EXPECT_EQ(Text(blocks[0].rows[1], "State"), "wsrep aborter idle");
  EXPECT_TRUE(blocks[0].rows[0]["State"].is_null());
}

// --- replica status -------------------------------------------------------------------------

TEST(RecordedOutputReplicaStatusTest, AuroraV3Vertical) {
  auto blocks =
      Blocks("replica-status/replica-status--aurora-mysql-3--aws-aurora-guide-next-source-log.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 40u);
  const auto& row = blocks[0].rows[0];
  EXPECT_EQ(Text(row, "Replica_IO_State"), "");
  EXPECT_EQ(Text(row, "Replica_IO_Running"), "No");
  EXPECT_TRUE(row["Seconds_Behind_Source"].is_null());
  EXPECT_EQ(row["Last_IO_Errno"].AsInt64(), 1236);
  EXPECT_EQ(Text(row, "Source_Server_Id"), "67285976");
}

TEST(RecordedOutputReplicaStatusTest, MariaDBMysqltestResult) {
  auto blocks = Blocks("replica-status/replica-status--mariadb-10.x--mtr-multi_source-simple.txt");
  // show all slaves status x4 (2, 2, 1, 1 rows) and one vertical "show slave 'slave1' status".
  ASSERT_EQ(blocks.size(), 5u);
  EXPECT_EQ(blocks[0].columns->size(), 58u);
  EXPECT_EQ(blocks[0].rows.size(), 2u);
  EXPECT_EQ(Text(blocks[0].rows[1], "Connection_name"), "slave2");
  EXPECT_EQ(Text(blocks[0].rows[0], "Read_Master_Log_Pos"), "<read_master_log_pos>");
  EXPECT_EQ(blocks[1].rows.size(), 50u);
  auto slave1 = PivotNameValue(blocks[1]);
  EXPECT_EQ(Text(slave1.rows.at(0), "Slave_IO_Running"), "No");
  EXPECT_EQ(Text(slave1.rows.at(0), "Master_Port"), "MYPORT_1");
  EXPECT_EQ(Text(slave1.rows.at(0), "Parallel_Mode"), "conservative");
  EXPECT_EQ(blocks[2].rows.size(), 2u);
  EXPECT_EQ(blocks[3].rows.size(), 1u);
  EXPECT_EQ(blocks[4].rows.size(), 1u);
  EXPECT_EQ(Text(blocks[4].rows[0], "Slave_SQL_Running"), "No");
}

TEST(RecordedOutputReplicaStatusTest, MariaDBShowAllSlavesStatusVertical) {
  auto blocks = Blocks(
      "replica-status/replica-status--mariadb-11.6-11.8--mariadb-docs-show-all-slaves-status.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  const auto& row = blocks[0].rows[0];
  EXPECT_EQ(Text(row, "Connection_name"), "");
  EXPECT_EQ(row["Seconds_Behind_Master"].AsInt64(), 6);
  EXPECT_EQ(Text(row, "Gtid_IO_Pos"), "0-1-2042");
  EXPECT_EQ(Text(row, "Master_Slave_time_diff"), "2");
}

TEST(RecordedOutputReplicaStatusTest, MariaDBShowSlaveStatusVertical) {
  auto blocks = Blocks(
      "replica-status/replica-status--mariadb-11.6-11.8--mariadb-docs-show-slave-status.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 54u);
  EXPECT_EQ(Text(blocks[0].rows[0], "Slave_Transactional_Groups"), "2041");
  EXPECT_EQ(Text(blocks[0].rows[0], "Replicate_Rewrite_DB"), "");
}

TEST(RecordedOutputReplicaStatusTest, RdsMariaDBProcedureOutput) {
  auto blocks = Blocks(
      "replica-status/replica-status--rds-mariadb-10.5--aws-rds-guide-2020-rds-replica-status.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  const auto& row = blocks[0].rows[0];
  EXPECT_EQ(Text(row, "Replicate_Ignore_Table"),
            "mysql.rds_sysinfo,mysql.rds_history,mysql.rds_replication_status");
  EXPECT_EQ(Text(row, "Slave_Transactional_Groups"), "3658");  // trailer lines not appended
  EXPECT_EQ(row["Seconds_Behind_Master"].AsInt64(), 0);
}

TEST(RecordedOutputReplicaStatusTest, RdsMySQL55Vertical) {
  auto blocks = Blocks(
      "replica-status/replica-status--rds-mysql-5.5--aws-rds-guide-2020-next-master-log.txt");
  ASSERT_EQ(blocks.size(), 1u);
  ASSERT_EQ(blocks[0].rows.size(), 1u);
  EXPECT_EQ(blocks[0].columns->size(), 40u);
  const auto& row = blocks[0].rows[0];
  EXPECT_EQ(Text(row, "Slave_IO_Running"), "No");
  EXPECT_EQ(Text(row, "Slave_SQL_Running"), "Yes");
  EXPECT_TRUE(Text(row, "Last_IO_Error").starts_with("Got fatal error 1236 from master"));
}

}  // namespace
}  // namespace dbrunbook::testing
