// Unit tests of the replication investigation step: statement choice per flavor, and the
// findings on real replica-status outputs of every flavor replayed through a FakeSession.
//
// Recordings (../shared/conformance/server-outputs): MariaDB 11.6-11.8 SHOW [ALL] SLAVES
// STATUS (docs), MariaDB multi-source mysqltest result, RDS MariaDB 10.5 CALL
// mysql.rds_replica_status, RDS MySQL 5.5 SHOW SLAVE STATUS broken by IO error 1236, Aurora v3
// SHOW REPLICA STATUS (AWS's renamed form of the same capture), Aurora 1.x
// information_schema.replica_host_status.
//
// Captures (the k* constants below) were taken live from Debian 12's MariaDB 10.11.19 sandbox
// pair (scripts/sandbox: a primary and its GTID replica) with `mariadb -E` as the monitoring
// account (PROCESS, BINLOG MONITOR, SLAVE MONITOR, SELECT on performance_schema and sys; SELECT
// on the test schema r1 for the applier query), in real situations created for the purpose: a
// duplicate-key error (a row inserted on the replica with sql_log_bin = 0, then on the
// primary), MASTER_DELAY = 30, STOP SLAVE SQL_THREAD with writes behind it, the applier waiting
// for a row lock held by a local SELECT ... FOR UPDATE on a table without a primary key, the
// IO thread pointed at a closed port, and the primary's Binlog Dump thread and SHOW REPLICA
// HOSTS (as root: the monitoring account is refused). Nothing was edited.
#include "dialect/replication.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

#include "steps/investigate_replication.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using dialect::Dialect;
using dialect::Flavor;
using dialect::Platform;
using dialect::Product;
using dialect::Version;
using testing::FakeSession;

constexpr std::string_view kMariaDbBroken1062Status =
    R"cap(*************************** 1. row ***************************
               Connection_name: 
               Slave_SQL_State: 
                Slave_IO_State: Waiting for master to send event
                   Master_Host: 127.0.0.1
                   Master_User: repl
                   Master_Port: 35845
                 Connect_Retry: 1
               Master_Log_File: mariadb-bin.000001
           Read_Master_Log_Pos: 3962
                Relay_Log_File: relay-bin.000002
                 Relay_Log_Pos: 1669
         Relay_Master_Log_File: mariadb-bin.000001
              Slave_IO_Running: Yes
             Slave_SQL_Running: No
               Replicate_Do_DB: 
           Replicate_Ignore_DB: 
            Replicate_Do_Table: 
        Replicate_Ignore_Table: 
       Replicate_Wild_Do_Table: 
   Replicate_Wild_Ignore_Table: 
                    Last_Errno: 1062
                    Last_Error: Could not execute Write_rows_v1 event on table r1.t; Duplicate entry '20' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mariadb-bin.000001, end_log_pos 3931
                  Skip_Counter: 0
           Exec_Master_Log_Pos: 3750
               Relay_Log_Space: 2184
               Until_Condition: None
                Until_Log_File: 
                 Until_Log_Pos: 0
            Master_SSL_Allowed: No
            Master_SSL_CA_File: 
            Master_SSL_CA_Path: 
               Master_SSL_Cert: 
             Master_SSL_Cipher: 
                Master_SSL_Key: 
         Seconds_Behind_Master: NULL
 Master_SSL_Verify_Server_Cert: No
                 Last_IO_Errno: 0
                 Last_IO_Error: 
                Last_SQL_Errno: 1062
                Last_SQL_Error: Could not execute Write_rows_v1 event on table r1.t; Duplicate entry '20' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mariadb-bin.000001, end_log_pos 3931
   Replicate_Ignore_Server_Ids: 
              Master_Server_Id: 35845
                Master_SSL_Crl: 
            Master_SSL_Crlpath: 
                    Using_Gtid: Slave_Pos
                   Gtid_IO_Pos: 0-35845-19
       Replicate_Do_Domain_Ids: 
   Replicate_Ignore_Domain_Ids: 
                 Parallel_Mode: optimistic
                     SQL_Delay: 0
           SQL_Remaining_Delay: NULL
       Slave_SQL_Running_State: 
              Slave_DDL_Groups: 10
Slave_Non_Transactional_Groups: 0
    Slave_Transactional_Groups: 9
          Replicate_Rewrite_DB: 
          Retried_transactions: 0
            Max_relay_log_size: 1073741824
          Executed_log_entries: 98
     Slave_received_heartbeats: 16
        Slave_heartbeat_period: 30.000
                Gtid_Slave_Pos: 0-35845-18
)cap";

constexpr std::string_view kMariaDbBroken1062RelayEvents =
    R"cap(*************************** 1. row ***************************
   Log_name: relay-bin.000002
        Pos: 1669
 Event_type: Gtid
  Server_id: 35845
End_log_pos: 3792
       Info: BEGIN GTID 0-35845-19
*************************** 2. row ***************************
   Log_name: relay-bin.000002
        Pos: 1711
 Event_type: Annotate_rows
  Server_id: 35845
End_log_pos: 3846
       Info: INSERT INTO r1.t VALUES (20,20)
*************************** 3. row ***************************
   Log_name: relay-bin.000002
        Pos: 1765
 Event_type: Table_map
  Server_id: 35845
End_log_pos: 3889
       Info: table_id: 20 (r1.t)
*************************** 4. row ***************************
   Log_name: relay-bin.000002
        Pos: 1808
 Event_type: Write_rows_v1
  Server_id: 35845
End_log_pos: 3931
       Info: table_id: 20 flags: STMT_END_F
*************************** 5. row ***************************
   Log_name: relay-bin.000002
        Pos: 1850
 Event_type: Xid
  Server_id: 35845
End_log_pos: 3962
       Info: COMMIT /* xid=94 */
)cap";

constexpr std::string_view kMariaDbVariables =
    R"cap(*************************** 1. row ***************************
Variable_name: gtid_slave_pos
        Value: 0-35845-18
*************************** 2. row ***************************
Variable_name: gtid_strict_mode
        Value: ON
*************************** 3. row ***************************
Variable_name: read_only
        Value: ON
*************************** 4. row ***************************
Variable_name: slave_parallel_mode
        Value: optimistic
*************************** 5. row ***************************
Variable_name: slave_parallel_threads
        Value: 0
*************************** 6. row ***************************
Variable_name: slave_parallel_workers
        Value: 0
)cap";

constexpr std::string_view kMariaDbDelayedStatus =
    R"cap(*************************** 1. row ***************************
               Connection_name: 
               Slave_SQL_State: Waiting until MASTER_DELAY seconds after master executed event
                Slave_IO_State: Waiting for master to send event
                   Master_Host: 127.0.0.1
                   Master_User: repl
                   Master_Port: 35845
                 Connect_Retry: 1
               Master_Log_File: mariadb-bin.000001
           Read_Master_Log_Pos: 4174
                Relay_Log_File: relay-bin.000002
                 Relay_Log_Pos: 674
         Relay_Master_Log_File: mariadb-bin.000001
              Slave_IO_Running: Yes
             Slave_SQL_Running: Yes
               Replicate_Do_DB: 
           Replicate_Ignore_DB: 
            Replicate_Do_Table: 
        Replicate_Ignore_Table: 
       Replicate_Wild_Do_Table: 
   Replicate_Wild_Ignore_Table: 
                    Last_Errno: 0
                    Last_Error: 
                  Skip_Counter: 0
           Exec_Master_Log_Pos: 3962
               Relay_Log_Space: 1189
               Until_Condition: None
                Until_Log_File: 
                 Until_Log_Pos: 0
            Master_SSL_Allowed: No
            Master_SSL_CA_File: 
            Master_SSL_CA_Path: 
               Master_SSL_Cert: 
             Master_SSL_Cipher: 
                Master_SSL_Key: 
         Seconds_Behind_Master: 6
 Master_SSL_Verify_Server_Cert: No
                 Last_IO_Errno: 0
                 Last_IO_Error: 
                Last_SQL_Errno: 0
                Last_SQL_Error: 
   Replicate_Ignore_Server_Ids: 
              Master_Server_Id: 35845
                Master_SSL_Crl: 
            Master_SSL_Crlpath: 
                    Using_Gtid: Slave_Pos
                   Gtid_IO_Pos: 0-35845-20
       Replicate_Do_Domain_Ids: 
   Replicate_Ignore_Domain_Ids: 
                 Parallel_Mode: optimistic
                     SQL_Delay: 30
           SQL_Remaining_Delay: 24
       Slave_SQL_Running_State: Waiting until MASTER_DELAY seconds after master executed event
              Slave_DDL_Groups: 10
Slave_Non_Transactional_Groups: 0
    Slave_Transactional_Groups: 10
          Replicate_Rewrite_DB: 
          Retried_transactions: 0
            Max_relay_log_size: 1073741824
          Executed_log_entries: 111
     Slave_received_heartbeats: 0
        Slave_heartbeat_period: 30.000
                Gtid_Slave_Pos: 0-35845-19
)cap";

constexpr std::string_view kMariaDbSqlStoppedStatus =
    R"cap(*************************** 1. row ***************************
               Connection_name: 
               Slave_SQL_State: 
                Slave_IO_State: Waiting for master to send event
                   Master_Host: 127.0.0.1
                   Master_User: repl
                   Master_Port: 35845
                 Connect_Retry: 1
               Master_Log_File: mariadb-bin.000001
           Read_Master_Log_Pos: 4615
                Relay_Log_File: relay-bin.000002
                 Relay_Log_Pos: 886
         Relay_Master_Log_File: mariadb-bin.000001
              Slave_IO_Running: Yes
             Slave_SQL_Running: No
               Replicate_Do_DB: 
           Replicate_Ignore_DB: 
            Replicate_Do_Table: 
        Replicate_Ignore_Table: 
       Replicate_Wild_Do_Table: 
   Replicate_Wild_Ignore_Table: 
                    Last_Errno: 0
                    Last_Error: 
                  Skip_Counter: 0
           Exec_Master_Log_Pos: 4174
               Relay_Log_Space: 1630
               Until_Condition: None
                Until_Log_File: 
                 Until_Log_Pos: 0
            Master_SSL_Allowed: No
            Master_SSL_CA_File: 
            Master_SSL_CA_Path: 
               Master_SSL_Cert: 
             Master_SSL_Cipher: 
                Master_SSL_Key: 
         Seconds_Behind_Master: NULL
 Master_SSL_Verify_Server_Cert: No
                 Last_IO_Errno: 0
                 Last_IO_Error: 
                Last_SQL_Errno: 0
                Last_SQL_Error: 
   Replicate_Ignore_Server_Ids: 
              Master_Server_Id: 35845
                Master_SSL_Crl: 
            Master_SSL_Crlpath: 
                    Using_Gtid: Slave_Pos
                   Gtid_IO_Pos: 0-35845-22
       Replicate_Do_Domain_Ids: 
   Replicate_Ignore_Domain_Ids: 
                 Parallel_Mode: optimistic
                     SQL_Delay: 0
           SQL_Remaining_Delay: NULL
       Slave_SQL_Running_State: 
              Slave_DDL_Groups: 10
Slave_Non_Transactional_Groups: 0
    Slave_Transactional_Groups: 11
          Replicate_Rewrite_DB: 
          Retried_transactions: 0
            Max_relay_log_size: 1073741824
          Executed_log_entries: 125
     Slave_received_heartbeats: 0
        Slave_heartbeat_period: 30.000
                Gtid_Slave_Pos: 0-35845-20
)cap";

constexpr std::string_view kMariaDbLockWaitStatus =
    R"cap(*************************** 1. row ***************************
               Connection_name: 
               Slave_SQL_State: Update_rows_log_event::find_row()
                Slave_IO_State: Waiting for master to send event
                   Master_Host: 127.0.0.1
                   Master_User: repl
                   Master_Port: 35845
                 Connect_Retry: 1
               Master_Log_File: mariadb-bin.000001
           Read_Master_Log_Pos: 4844
                Relay_Log_File: relay-bin.000002
                 Relay_Log_Pos: 1327
         Relay_Master_Log_File: mariadb-bin.000001
              Slave_IO_Running: Yes
             Slave_SQL_Running: Yes
               Replicate_Do_DB: 
           Replicate_Ignore_DB: 
            Replicate_Do_Table: 
        Replicate_Ignore_Table: 
       Replicate_Wild_Do_Table: 
   Replicate_Wild_Ignore_Table: 
                    Last_Errno: 0
                    Last_Error: 
                  Skip_Counter: 0
           Exec_Master_Log_Pos: 4615
               Relay_Log_Space: 1859
               Until_Condition: None
                Until_Log_File: 
                 Until_Log_Pos: 0
            Master_SSL_Allowed: No
            Master_SSL_CA_File: 
            Master_SSL_CA_Path: 
               Master_SSL_Cert: 
             Master_SSL_Cipher: 
                Master_SSL_Key: 
         Seconds_Behind_Master: 4
 Master_SSL_Verify_Server_Cert: No
                 Last_IO_Errno: 0
                 Last_IO_Error: 
                Last_SQL_Errno: 0
                Last_SQL_Error: 
   Replicate_Ignore_Server_Ids: 
              Master_Server_Id: 35845
                Master_SSL_Crl: 
            Master_SSL_Crlpath: 
                    Using_Gtid: Slave_Pos
                   Gtid_IO_Pos: 0-35845-23
       Replicate_Do_Domain_Ids: 
   Replicate_Ignore_Domain_Ids: 
                 Parallel_Mode: optimistic
                     SQL_Delay: 0
           SQL_Remaining_Delay: NULL
       Slave_SQL_Running_State: Update_rows_log_event::find_row()
              Slave_DDL_Groups: 10
Slave_Non_Transactional_Groups: 0
    Slave_Transactional_Groups: 14
          Replicate_Rewrite_DB: 
          Retried_transactions: 0
            Max_relay_log_size: 1073741824
          Executed_log_entries: 138
     Slave_received_heartbeats: 0
        Slave_heartbeat_period: 30.000
                Gtid_Slave_Pos: 0-35845-22
)cap";

constexpr std::string_view kMariaDbLockWaitAppliers =
    R"cap(*************************** 1. row ***************************
            trx_id: 111
         thread_id: 76
       age_seconds: 4
             state: LOCK WAIT
       rows_locked: 1
     rows_modified: 0
     tables_in_use: 1
             query: UPDATE r1.nopk SET v=v+1 WHERE id=2
      thread_state: Update_rows_log_event::find_row()
                db: r1
 lock_wait_seconds: 4
blocking_thread_id: 77
)cap";

constexpr std::string_view kMariaDbConnectingStatus =
    R"cap(*************************** 1. row ***************************
               Connection_name: 
               Slave_SQL_State: Slave has read all relay log; waiting for more updates
                Slave_IO_State: Connecting to master
                   Master_Host: 127.0.0.1
                   Master_User: repl
                   Master_Port: 9
                 Connect_Retry: 1
               Master_Log_File: 
           Read_Master_Log_Pos: 4
                Relay_Log_File: relay-bin.000001
                 Relay_Log_Pos: 4
         Relay_Master_Log_File: 
              Slave_IO_Running: Connecting
             Slave_SQL_Running: Yes
               Replicate_Do_DB: 
           Replicate_Ignore_DB: 
            Replicate_Do_Table: 
        Replicate_Ignore_Table: 
       Replicate_Wild_Do_Table: 
   Replicate_Wild_Ignore_Table: 
                    Last_Errno: 0
                    Last_Error: 
                  Skip_Counter: 0
           Exec_Master_Log_Pos: 4
               Relay_Log_Space: 256
               Until_Condition: None
                Until_Log_File: 
                 Until_Log_Pos: 0
            Master_SSL_Allowed: No
            Master_SSL_CA_File: 
            Master_SSL_CA_Path: 
               Master_SSL_Cert: 
             Master_SSL_Cipher: 
                Master_SSL_Key: 
         Seconds_Behind_Master: NULL
 Master_SSL_Verify_Server_Cert: No
                 Last_IO_Errno: 2003
                 Last_IO_Error: error connecting to master 'repl@127.0.0.1:9' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '127.0.0.1' (111 "Connection refused")
                Last_SQL_Errno: 0
                Last_SQL_Error: 
   Replicate_Ignore_Server_Ids: 
              Master_Server_Id: 35845
                Master_SSL_Crl: 
            Master_SSL_Crlpath: 
                    Using_Gtid: Slave_Pos
                   Gtid_IO_Pos: 0-35845-23
       Replicate_Do_Domain_Ids: 
   Replicate_Ignore_Domain_Ids: 
                 Parallel_Mode: optimistic
                     SQL_Delay: 0
           SQL_Remaining_Delay: NULL
       Slave_SQL_Running_State: Slave has read all relay log; waiting for more updates
              Slave_DDL_Groups: 10
Slave_Non_Transactional_Groups: 0
    Slave_Transactional_Groups: 14
          Replicate_Rewrite_DB: 
          Retried_transactions: 0
            Max_relay_log_size: 1073741824
          Executed_log_entries: 141
     Slave_received_heartbeats: 0
        Slave_heartbeat_period: 30.000
                Gtid_Slave_Pos: 0-35845-23
)cap";

constexpr std::string_view kMariaDbDumpThreads =
    R"cap(*************************** 1. row ***************************
          id: 30
        user: repl
        host: 127.0.0.1:43670
     command: Binlog Dump
time_seconds: 16
       state: Master has sent all binlog to slave; waiting for more updates
)cap";

constexpr std::string_view kMariaDbReplicaHosts =
    R"cap(*************************** 1. row ***************************
Server_id: 42779
     Host: 127.0.0.1
     Port: 42779
Master_id: 35845
)cap";

constexpr const char* kRecordings = "conformance/server-outputs/";

Flavor Make(Product product, Platform platform, Version version, std::string aurora = "") {
  Flavor flavor;
  flavor.product = product;
  flavor.platform = platform;
  flavor.version = version;
  flavor.version_string = version.ToString();
  flavor.aurora_version = std::move(aurora);
  flavor.capabilities.performance_schema = true;
  return flavor;
}

const Flavor kMariaDb = Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19});
const Flavor kRdsMariaDb = Make(Product::kMariaDB, Platform::kRds, {10, 5, 8});
const Flavor kRdsMySql55 = Make(Product::kMySQL, Platform::kRds, {5, 5, 62});
const Flavor kAuroraV3 = Make(Product::kMySQL, Platform::kAurora, {8, 0, 28}, "3.04.0");
const Flavor kMySql84 = Make(Product::kMySQL, Platform::kSelfManaged, {8, 4, 3});
const Flavor kMySql57 = Make(Product::kMySQL, Platform::kSelfManaged, {5, 7, 44});

mysql::ResultSet Block(std::string_view text, size_t index = 0) {
  auto blocks = testing::ParseRecordedOutput(text);
  EXPECT_GT(blocks.size(), index) << text.substr(0, 200);
  return blocks.size() > index ? blocks[index] : mysql::ResultSet{};
}

mysql::ResultSet Recording(const std::string& relative, size_t index = 0) {
  auto text = testing::ReadSharedFile(std::string(kRecordings) + relative);
  EXPECT_TRUE(text) << text.error().ToString();
  return text ? Block(*text, index) : mysql::ResultSet{};
}

mysql::ResultSet Empty(const std::vector<std::string>& columns = {"id"}) {
  return mysql::MakeResultSet(columns, {});
}

const EvidenceValue* Field(const Finding& f, std::string_view name, size_t row = 0) {
  if (f.evidence.size() <= row) return nullptr;
  return f.evidence[row].Find(name);
}

std::string Str(const Finding& f, std::string_view name, size_t row = 0) {
  const EvidenceValue* v = Field(f, name, row);
  return v != nullptr ? EvidenceText(*v) : "<missing>";
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The suggestion whose SQL contains `needle`, or nullptr.
const Suggestion* SuggestionWith(const Finding& f, std::string_view needle) {
  for (const auto& s : f.suggestions) {
    if (Contains(s.sql, needle)) return &s;
  }
  return nullptr;
}

class ReplicationStepTest : public ::testing::Test {
 protected:
  void SetUpTarget(const Flavor& flavor) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    target_.emplace(collect::TargetSession{std::move(fake), Dialect(flavor), {}, {}, {}});
    replied_.clear();
  }

  const Dialect& d() const { return target_->dialect; }

  void Reply(const std::string& sql, FakeSession::Reply reply) {
    replied_.insert(sql);
    fake_->On(sql, std::move(reply));
  }

  std::vector<Finding> RunStep(ReplicationThresholds thresholds = {}) {
    // A source without replicas unless the test says otherwise.
    if (!replied_.contains(dialect::BinlogDumpThreads(d()))) {
      Reply(dialect::BinlogDumpThreads(d()), Empty());
    }
    StepContext context{*target_, clock_, options_,
                        clock_.MonotonicNow() + std::chrono::seconds(20)};
    ReplicationStep step(thresholds);
    auto findings = step.Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  std::vector<const Finding*> All(const std::vector<Finding>& findings, std::string_view code) {
    std::vector<const Finding*> out;
    for (const auto& f : findings) {
      if (f.code == code) out.push_back(&f);
    }
    return out;
  }

  const Finding* One(const std::vector<Finding>& findings, std::string_view code) {
    auto all = All(findings, code);
    EXPECT_EQ(all.size(), 1u) << code << " in " << Codes(findings);
    return all.size() == 1 ? all[0] : nullptr;
  }

  static std::string Codes(const std::vector<Finding>& findings) {
    std::string out;
    for (const auto& f : findings) out += f.code + " (" + f.title + ")\n";
    return out;
  }

  core::SimulatedClock clock_;
  InvestigateOptions options_;
  FakeSession* fake_ = nullptr;
  std::optional<collect::TargetSession> target_;
  std::set<std::string> replied_;
};

// --- statements per flavor -----------------------------------------------------------------

TEST(ReplicationDialectTest, ReplicaHostsStatementPerFlavor) {
  EXPECT_EQ(dialect::ReplicaHosts(Dialect(kMySql84)), "SHOW REPLICAS");
  EXPECT_EQ(dialect::ReplicaHosts(Dialect(kAuroraV3)), "SHOW REPLICAS");
  EXPECT_EQ(dialect::ReplicaHosts(Dialect(kMySql57)), "SHOW SLAVE HOSTS");
  EXPECT_EQ(dialect::ReplicaHosts(Dialect(kMariaDb)), "SHOW REPLICA HOSTS");
  EXPECT_EQ(
      dialect::ReplicaHosts(Dialect(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 4, 34}))),
      "SHOW SLAVE HOSTS");
}

TEST(ReplicationDialectTest, DetailColumnsFollowTheFlavorsNames) {
  auto maria = dialect::ReplicaDetailColumnsFor(Dialect(kMariaDb));
  EXPECT_EQ(maria.read_source_log_pos, "Read_Master_Log_Pos");
  EXPECT_EQ(maria.executed_gtid, "Gtid_Slave_Pos");
  EXPECT_EQ(maria.using_gtid, "Using_Gtid");
  EXPECT_EQ(maria.sql_delay, "SQL_Delay");
  EXPECT_EQ(maria.last_io_error_timestamp, "");  // MariaDB has no error timestamps
  auto mysql84 = dialect::ReplicaDetailColumnsFor(Dialect(kMySql84));
  EXPECT_EQ(mysql84.read_source_log_pos, "Read_Source_Log_Pos");
  EXPECT_EQ(mysql84.relay_source_log_file, "Relay_Source_Log_File");
  EXPECT_EQ(mysql84.exec_source_log_pos, "Exec_Source_Log_Pos");
  EXPECT_EQ(mysql84.executed_gtid, "Executed_Gtid_Set");
  EXPECT_EQ(mysql84.using_gtid, "Auto_Position");
  EXPECT_EQ(mysql84.last_sql_error_timestamp, "Last_SQL_Error_Timestamp");
  auto mysql55 = dialect::ReplicaDetailColumnsFor(Dialect(kRdsMySql55));
  EXPECT_EQ(mysql55.read_source_log_pos, "Read_Master_Log_Pos");
  EXPECT_EQ(mysql55.sql_delay, "");  // MASTER_DELAY came with 5.6
  EXPECT_EQ(mysql55.executed_gtid, "");
}

TEST(ReplicationDialectTest, RepairStatementsPerFlavor) {
  const Dialect maria(kMariaDb);
  EXPECT_EQ(dialect::StartSqlThread(maria, ""), "START SLAVE SQL_THREAD");
  EXPECT_EQ(dialect::StartSqlThread(maria, "eu"), "START SLAVE 'eu' SQL_THREAD");
  EXPECT_EQ(dialect::SkipWithCounter(maria, ""),
            "STOP SLAVE SQL_THREAD; SET GLOBAL sql_slave_skip_counter = 1; "
            "START SLAVE SQL_THREAD");
  EXPECT_EQ(dialect::SkipWithCounter(maria, "eu"),
            "STOP SLAVE 'eu' SQL_THREAD; SET @@default_master_connection = 'eu'; "
            "SET GLOBAL sql_slave_skip_counter = 1; START SLAVE 'eu' SQL_THREAD");
  EXPECT_EQ(dialect::SkipWithGtidSlavePos(maria, "0-1-5,1-2-9", false),
            "STOP SLAVE; SET GLOBAL gtid_slave_pos = '0-1-5,1-2-9'; START SLAVE");
  EXPECT_EQ(dialect::SkipWithGtidSlavePos(maria, "0-1-5", true),
            "STOP ALL SLAVES; SET GLOBAL gtid_slave_pos = '0-1-5'; START ALL SLAVES");
  EXPECT_EQ(dialect::RemoveDelay(maria, ""),
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
  EXPECT_EQ(dialect::RemoveDelay(maria, "eu"),
            "STOP SLAVE 'eu'; CHANGE MASTER 'eu' TO MASTER_DELAY = 0; START SLAVE 'eu'");
  EXPECT_EQ(dialect::SkipWithEmptyTransaction(maria, "", "0-1-5"), "");  // not MariaDB GTIDs

  const Dialect mysql(kMySql84);
  EXPECT_EQ(dialect::StartSqlThread(mysql, ""), "START REPLICA SQL_THREAD");
  EXPECT_EQ(dialect::StartSqlThread(mysql, "eu"), "START REPLICA SQL_THREAD FOR CHANNEL 'eu'");
  EXPECT_EQ(dialect::SkipWithCounter(mysql, ""),
            "STOP REPLICA SQL_THREAD; SET GLOBAL sql_replica_skip_counter = 1; "
            "START REPLICA SQL_THREAD");
  EXPECT_EQ(dialect::SkipWithEmptyTransaction(mysql, "", "3e11fa47-71ca-11e1-9e33-c80aa9429562:23"),
            "STOP REPLICA; SET GTID_NEXT = '3e11fa47-71ca-11e1-9e33-c80aa9429562:23'; BEGIN; "
            "COMMIT; SET GTID_NEXT = 'AUTOMATIC'; START REPLICA");
  EXPECT_EQ(dialect::RemoveDelay(mysql, ""),
            "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_DELAY = 0; START REPLICA");
  EXPECT_EQ(dialect::SkipWithGtidSlavePos(mysql, "0-1-5", false), "");

  const Dialect mysql57(kMySql57);
  EXPECT_EQ(dialect::SkipWithCounter(mysql57, "eu"),
            "STOP SLAVE SQL_THREAD FOR CHANNEL 'eu'; SET GLOBAL sql_slave_skip_counter = 1; "
            "START SLAVE SQL_THREAD FOR CHANNEL 'eu'");
  EXPECT_EQ(dialect::RemoveDelay(mysql57, ""),
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
  EXPECT_EQ(dialect::EnableParallelApply(mysql57, 4),
            "STOP SLAVE SQL_THREAD; SET GLOBAL slave_parallel_workers = 4; START SLAVE SQL_THREAD");
  EXPECT_EQ(dialect::EnableParallelApply(maria, 4),
            "STOP ALL SLAVES; SET GLOBAL slave_parallel_threads = 4; START ALL SLAVES");
  EXPECT_EQ(dialect::EnableParallelApply(mysql, 4),
            "STOP REPLICA SQL_THREAD; SET GLOBAL replica_parallel_workers = 4; "
            "START REPLICA SQL_THREAD");

  // AWS: the master user goes through the procedures.
  EXPECT_EQ(dialect::SkipWithCounter(Dialect(kRdsMariaDb), ""), "CALL mysql.rds_skip_repl_error");
  EXPECT_EQ(dialect::SkipWithGtidSlavePos(Dialect(kRdsMariaDb), "0-1-5", false), "");
  EXPECT_EQ(dialect::SkipWithEmptyTransaction(Dialect(kAuroraV3), "", "uuid:5"),
            "CALL mysql.rds_skip_transaction_with_gtid('uuid:5')");
  EXPECT_EQ(dialect::SkipWithEmptyTransaction(Dialect(kRdsMySql55), "", "uuid:5"), "");
  EXPECT_EQ(dialect::NextSourceLog(Dialect(kRdsMySql55), 12345),
            "CALL mysql.rds_next_master_log(12345)");
  EXPECT_EQ(dialect::NextSourceLog(Dialect(kRdsMariaDb), 7), "CALL mysql.rds_next_master_log(7)");
  EXPECT_EQ(dialect::NextSourceLog(Dialect(kAuroraV3), 12345),
            "CALL mysql.rds_next_source_log(12345)");
  EXPECT_EQ(dialect::NextSourceLog(Dialect(Make(Product::kMySQL, Platform::kRds, {8, 4, 5})), 3),
            "CALL mysql.rds_next_source_log(3)");
  EXPECT_EQ(dialect::NextSourceLog(Dialect(Make(Product::kMySQL, Platform::kRds, {8, 0, 40})), 3),
            "CALL mysql.rds_next_master_log(3)");
  EXPECT_EQ(dialect::NextSourceLog(maria, 3), "");  // self-managed: no such procedure
  EXPECT_EQ(dialect::RemoveDelay(Dialect(kRdsMariaDb), ""),
            "CALL mysql.rds_stop_replication; CALL mysql.rds_set_source_delay(0); "
            "CALL mysql.rds_start_replication");
  EXPECT_EQ(dialect::StartSqlThread(Dialect(kAuroraV3), ""), "CALL mysql.rds_start_replication");
  EXPECT_EQ(dialect::EnableParallelApply(Dialect(kAuroraV3), 4), "");  // a parameter group
  EXPECT_EQ(dialect::BinaryLogStatus(mysql), "SHOW BINARY LOG STATUS");
  EXPECT_EQ(dialect::BinaryLogStatus(maria), "SHOW MASTER STATUS");
}

TEST(ReplicationDialectTest, ReadsPerFlavor) {
  const Dialect maria(kMariaDb);
  EXPECT_EQ(dialect::RelayLogEvents(maria, "", "relay-bin.000002", 1669, 8),
            "SHOW RELAYLOG EVENTS IN 'relay-bin.000002' FROM 1669 LIMIT 8");
  EXPECT_EQ(dialect::RelayLogEvents(maria, "eu", "relay-bin-eu.000002", 4, 8),
            "SHOW RELAYLOG 'eu' EVENTS IN 'relay-bin-eu.000002' FROM 4 LIMIT 8");
  EXPECT_EQ(dialect::RelayLogEvents(Dialect(kMySql84), "eu", "relay.000002", 4, 8),
            "SHOW RELAYLOG EVENTS IN 'relay.000002' FROM 4 LIMIT 8 FOR CHANNEL 'eu'");
  // The applier threads and the lock-wait table each flavor has.
  const std::string maria_appliers = dialect::ApplierTransactions(maria);
  EXPECT_TRUE(Contains(maria_appliers, "p.COMMAND IN ('Slave_SQL', 'Slave_worker')"));
  EXPECT_TRUE(Contains(maria_appliers, "information_schema.INNODB_LOCK_WAITS"));
  EXPECT_TRUE(Contains(maria_appliers, "JOIN information_schema.PROCESSLIST p"));
  const std::string mysql_appliers = dialect::ApplierTransactions(Dialect(kMySql84));
  EXPECT_TRUE(Contains(mysql_appliers, "p.USER = 'system user'"));
  EXPECT_TRUE(Contains(mysql_appliers, "performance_schema.data_lock_waits"));
  EXPECT_TRUE(Contains(mysql_appliers, "JOIN performance_schema.processlist p"));
  Flavor no_ps = kMySql84;
  no_ps.capabilities.performance_schema = false;
  EXPECT_TRUE(
      Contains(dialect::ApplierTransactions(Dialect(no_ps)), "NULL AS `blocking_thread_id`"));
  EXPECT_EQ(dialect::ApplierWorkerErrors(maria), "");
  EXPECT_TRUE(Contains(dialect::ApplierWorkerErrors(Dialect(kMySql84)), "APPLYING_TRANSACTION"));
  EXPECT_TRUE(Contains(dialect::ApplierWorkerErrors(Dialect(kMySql57)), "LAST_SEEN_TRANSACTION"));
  EXPECT_EQ(dialect::AuroraReplicaHostStatus(Dialect(kAuroraV3)),
            "SELECT * FROM information_schema.replica_host_status");
  EXPECT_EQ(dialect::AuroraReplicaHostStatus(Dialect(kRdsMySql55)), "");
  // Strings from the server are quoted, never pasted.
  EXPECT_EQ(dialect::SqlString("it's"), "'it''s'");
  EXPECT_EQ(dialect::SqlIdentifier("my`t"), "`my``t`");
  EXPECT_TRUE(Contains(dialect::TablesWithoutPrimaryKey(maria, {"o'k"}, 5), "IN ('o''k')"));
  EXPECT_TRUE(Contains(dialect::TablesWithoutPrimaryKey(maria, {}, 5),
                       "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"));
}

// --- replicas of every flavor, from recordings ----------------------------------------------

TEST_F(ReplicationStepTest, MariaDbDocsShowAllSlavesStatusIsHealthy) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS",
        Recording("replica-status/"
                  "replica-status--mariadb-11.6-11.8--mariadb-docs-show-all-slaves-status.txt"));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  const auto findings = RunStep();
  const Finding* status = One(findings, "replication.status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->severity, Severity::kInfo);
  EXPECT_EQ(status->title,
            "replica of db01.example.com:3306: IO thread running, SQL thread "
            "running, 6s behind");
  // Positions, backlog and both GTID positions in the second evidence row.
  EXPECT_EQ(Str(*status, "io_position"), "mariadb-bin.000021:17315");
  EXPECT_EQ(Str(*status, "sql_position"), "mariadb-bin.000021:17146");
  EXPECT_EQ(Str(*status, "position_gap_bytes"), "169");
  EXPECT_EQ(Str(*status, "relay_log_space_bytes"), "17972");
  EXPECT_EQ(Str(*status, "retrieved_gtid"), "0-1-2042");
  EXPECT_EQ(Str(*status, "executed_gtid"), "0-1-2041");
  EXPECT_EQ(Str(*status, "using_gtid"), "Slave_Pos");
  EXPECT_EQ(Str(*status, "sql_state"), "Updating");
  EXPECT_TRUE(All(findings, "replication.lag").empty());
  EXPECT_EQ(fake_->statements().front(), "SHOW ALL SLAVES STATUS");
}

TEST_F(ReplicationStepTest, LagAboveTheThresholdBringsItsLikelyCauses) {
  // The docs' replica is 6 s behind; with a 5 s threshold it lags, applies with one thread
  // (the variables captured on the sandbox say slave_parallel_threads = 0), and the applier's
  // schema cannot be seen by the account.
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS",
        Recording("replica-status/"
                  "replica-status--mariadb-11.6-11.8--mariadb-docs-show-all-slaves-status.txt"));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  Reply(dialect::ApplierTransactions(d()), Empty({"trx_id"}));
  Reply(dialect::TablesWithoutPrimaryKey(d(), {}, 20), Empty({"table_schema"}));
  Reply(dialect::VisibleTableCount(d(), {}), mysql::MakeResultSet({"tables"}, {{"0"}}));
  ReplicationThresholds t;
  t.lag_warning_seconds = 5;
  t.lag_critical_seconds = 60;
  const auto findings = RunStep(t);
  const Finding* lag = One(findings, "replication.lag");
  ASSERT_NE(lag, nullptr);
  EXPECT_EQ(lag->severity, Severity::kWarning);
  EXPECT_TRUE(Contains(lag->title, "6s behind db01.example.com:3306")) << lag->title;
  EXPECT_TRUE(Contains(lag->title, "169 bytes of the source binlog fetched but not applied"));
  EXPECT_EQ(Str(*lag, "lag_seconds"), "6");
  EXPECT_TRUE(All(findings, "replication.status").empty());
  auto causes = All(findings, "replication.lag_cause");
  ASSERT_EQ(causes.size(), 1u) << Codes(findings);
  EXPECT_EQ(Str(*causes[0], "cause"), "single-threaded apply");
  EXPECT_EQ(Str(*causes[0], "variable"), "slave_parallel_threads");
  EXPECT_EQ(Str(*causes[0], "threads"), "0");
  EXPECT_NE(SuggestionWith(*causes[0], "SET GLOBAL slave_parallel_threads = 4"), nullptr);
  // Tables without a primary key could not be checked: said so, not silently skipped.
  const Finding* partial = One(findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_TRUE(Contains(Str(*partial, "reason"), "sees no table")) << Str(*partial, "reason");
}

TEST_F(ReplicationStepTest, MariaDbMultiSourceChannelsAreNamed) {
  SetUpTarget(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 3, 39}));
  const std::string mtr =
      "replica-status/replica-status--mariadb-10.x--mtr-multi_source-simple.txt";
  Reply("SHOW ALL SLAVES STATUS", Recording(mtr, 0));
  Reply(dialect::ReplicationVariables(d()), Empty({"Variable_name", "Value"}));
  auto running = RunStep();
  auto status = All(running, "replication.status");
  ASSERT_EQ(status.size(), 2u) << Codes(running);
  EXPECT_EQ(Str(*status[0], "channel"), "slave1");
  EXPECT_TRUE(Contains(status[0]->title, "[channel 'slave1']")) << status[0]->title;
  EXPECT_EQ(Str(*status[1], "channel"), "slave2");

  // After "stop slave 'slave1'": that connection is stopped, the other one healthy.
  SetUpTarget(Make(Product::kMariaDB, Platform::kSelfManaged, {10, 3, 39}));
  Reply("SHOW ALL SLAVES STATUS", Recording(mtr, 2));
  Reply(dialect::ReplicationVariables(d()), Empty({"Variable_name", "Value"}));
  auto stopped = RunStep();
  const Finding* f = One(stopped, "replication.stopped");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_TRUE(Contains(f->title,
                       "IO and SQL threads are stopped without an error [channel "
                       "'slave1']"))
      << f->title;
  ASSERT_EQ(f->suggestions.size(), 1u);
  EXPECT_EQ(f->suggestions[0].sql, "START SLAVE 'slave1'");
  EXPECT_EQ(All(stopped, "replication.status").size(), 1u);
}

TEST_F(ReplicationStepTest, RdsMariaDbProcedureReadsTheGtidPositionFromTheVariable) {
  SetUpTarget(kRdsMariaDb);
  Reply("CALL mysql.rds_replica_status",
        Recording("replica-status/"
                  "replica-status--rds-mariadb-10.5--aws-rds-guide-2020-rds-replica-status.txt"));
  Reply(dialect::ReplicationVariables(d()),
        mysql::MakeResultSet({"Variable_name", "Value"}, {{"gtid_slave_pos", "0-807509301-3980"},
                                                          {"slave_parallel_threads", "0"}}));
  const auto findings = RunStep();
  const Finding* status = One(findings, "replication.status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(Str(*status, "channel"), "");
  EXPECT_EQ(Str(*status, "source"), "XX.XX.XX.XXX:3306");
  EXPECT_EQ(Str(*status, "retrieved_gtid"), "0-807509301-3980");
  EXPECT_EQ(Str(*status, "io_position"), "mysql-bin-changelog.003988:405");
  EXPECT_EQ(Str(*status, "position_gap_bytes"), "0");
  EXPECT_EQ(Str(*status, "lag_seconds"), "0");
  EXPECT_EQ(fake_->statements().front(), "CALL mysql.rds_replica_status");
}

TEST_F(ReplicationStepTest, RdsMySql55IoError1236SuggestsTheAwsProcedure) {
  SetUpTarget(kRdsMySql55);
  Reply("SHOW SLAVE STATUS",
        Recording("replica-status/"
                  "replica-status--rds-mysql-5.5--aws-rds-guide-2020-next-master-log.txt"));
  Reply(dialect::ReplicationVariables(d()), Empty({"Variable_name", "Value"}));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->severity, Severity::kCritical);
  EXPECT_TRUE(Contains(broken->title,
                       "replica IO thread stopped on error 1236: Got fatal error 1236 from master"))
      << broken->title;
  EXPECT_EQ(Str(*broken, "errno"), "1236");
  EXPECT_EQ(Str(*broken, "io_position"), "mysql-bin-changelog.012345:1219393");
  const Suggestion* next = SuggestionWith(*broken, "CALL mysql.rds_next_master_log(12345)");
  ASSERT_NE(next, nullptr);
  EXPECT_TRUE(Contains(next->text, "Multi-AZ")) << next->text;
  EXPECT_TRUE(Contains(next->text, "lost")) << next->text;
  EXPECT_NE(SuggestionWith(*broken, "SHOW MASTER STATUS"), nullptr);
  // 5.5 has no SQL_Delay: nothing about a delay; the SQL thread is running.
  EXPECT_TRUE(All(findings, "replication.delayed").empty());
  EXPECT_TRUE(All(findings, "replication.stopped").empty());
}

TEST_F(ReplicationStepTest, AuroraV3UsesSourceNamesAndItsProcedure) {
  SetUpTarget(kAuroraV3);
  Reply("SHOW REPLICA STATUS",
        Recording("replica-status/"
                  "replica-status--aurora-mysql-3--aws-aurora-guide-next-source-log.txt"));
  Reply(dialect::ReplicationVariables(d()), Empty({"Variable_name", "Value"}));
  Reply(dialect::AuroraReplicaHostStatus(d()), Empty({"SERVER_ID"}));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_TRUE(Contains(broken->title, "error 1236: Got fatal error 1236 from source"));
  EXPECT_EQ(Str(*broken, "io_position"), "mysql-bin-changelog.012345:1219393");
  EXPECT_NE(SuggestionWith(*broken, "CALL mysql.rds_next_source_log(12345)"), nullptr);
  EXPECT_EQ(fake_->statements().front(), "SHOW REPLICA STATUS");
}

TEST_F(ReplicationStepTest, AuroraReplicaHostStatusListsTheClusterInstances) {
  SetUpTarget(kAuroraV3);
  Reply("SHOW REPLICA STATUS", Empty({"Replica_IO_State"}));
  Reply(dialect::AuroraReplicaHostStatus(d()),
        Recording("replica-host-status/"
                  "replica-host-status--aurora-mysql-1.x-multi-master--aws-aurora-guide.txt"));
  const auto findings = RunStep();
  const Finding* replicas = One(findings, "replication.replicas");
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->title,
            "Aurora cluster: 2 instances (source: information_schema.replica_host_status)");
  ASSERT_EQ(replicas->evidence.size(), 2u);
  EXPECT_EQ(Str(*replicas, "server_id", 0), "mmr-demo-test-mm-3-1");
  EXPECT_EQ(Str(*replicas, "replica_lag_ms", 0), "37.302");
  EXPECT_EQ(Str(*replicas, "role", 0), "multi-master (has primary)");
  EXPECT_EQ(Str(*replicas, "status", 0), "Online");
  EXPECT_EQ(Str(*replicas, "server_id", 1), "mmr-demo-test-mm-3-2");
  EXPECT_EQ(Str(*replicas, "replica_lag_ms", 1), "39.907");
  EXPECT_EQ(Str(*replicas, "role", 1), "multi-master");
  // Milliseconds of lag are normal on Aurora.
  EXPECT_TRUE(All(findings, "replication.lag").empty());

  // A reader far behind is a lag finding with its instance name.
  SetUpTarget(kAuroraV3);
  Reply("SHOW REPLICA STATUS", Empty({"Replica_IO_State"}));
  Reply(dialect::AuroraReplicaHostStatus(d()),
        Recording("replica-host-status/"
                  "replica-host-status--aurora-mysql-1.x-multi-master--aws-aurora-guide.txt"));
  ReplicationThresholds t;
  t.lag_warning_seconds = 0.039;  // between the two recorded lags
  auto lagging = RunStep(t);
  auto lag = All(lagging, "replication.lag");
  ASSERT_EQ(lag.size(), 1u) << Codes(lagging);
  EXPECT_EQ(Str(*lag[0], "server_id"), "mmr-demo-test-mm-3-2");
  EXPECT_EQ(lag[0]->severity, Severity::kWarning);
  EXPECT_EQ(lag[0]->title, "Aurora replica mmr-demo-test-mm-3-2 is 40ms behind the writer");
}

// --- MariaDB situations captured on the sandbox ---------------------------------------------

TEST_F(ReplicationStepTest, DuplicateKeyErrorWithTheFailingGtidAndTheStatementsToSkipIt) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbBroken1062Status));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  Reply("SHOW RELAYLOG EVENTS IN 'relay-bin.000002' FROM 1669 LIMIT 8",
        Block(kMariaDbBroken1062RelayEvents));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->severity, Severity::kCritical);
  EXPECT_EQ(broken->title.rfind("replica SQL thread stopped on error 1062: Could not execute "
                                "Write_rows_v1 event on table r1.t; Duplicate entry '20'",
                                0),
            0u)
      << broken->title;
  EXPECT_EQ(Str(*broken, "errno"), "1062");
  EXPECT_EQ(Str(*broken, "failing_gtid"), "0-35845-19");
  EXPECT_EQ(Str(*broken, "failing_statement"), "INSERT INTO r1.t VALUES (20,20)");
  EXPECT_EQ(Str(*broken, "tables"), "r1.t");
  EXPECT_EQ(Str(*broken, "relay_log_position"), "relay-bin.000002:1669");
  EXPECT_EQ(Str(*broken, "executed_gtid"), "0-35845-18");

  // Look, fix, or skip — each with the exact statements for MariaDB with GTID.
  EXPECT_NE(
      SuggestionWith(*broken, "SHOW RELAYLOG EVENTS IN 'relay-bin.000002' FROM 1669 LIMIT 20"),
      nullptr);
  const Suggestion* fix = SuggestionWith(*broken, "START SLAVE SQL_THREAD");
  ASSERT_NE(fix, nullptr);
  EXPECT_TRUE(Contains(fix->text, "sql_log_bin = 0")) << fix->text;
  const Suggestion* gtid =
      SuggestionWith(*broken, "STOP SLAVE; SET GLOBAL gtid_slave_pos = '0-35845-19'; START SLAVE");
  ASSERT_NE(gtid, nullptr);
  EXPECT_TRUE(Contains(gtid->text, "diverges")) << gtid->text;
  const Suggestion* counter = SuggestionWith(*broken, "SET GLOBAL sql_slave_skip_counter = 1");
  ASSERT_NE(counter, nullptr);
  EXPECT_TRUE(Contains(counter->text, "diverges"));
  // The IO thread keeps running: no other trouble.
  EXPECT_TRUE(All(findings, "replication.stopped").empty());
  EXPECT_TRUE(All(findings, "check.partial").empty()) << Codes(findings);
}

TEST_F(ReplicationStepTest, FailingEventUnreadableIsSaidAndTheCounterStillSuggested) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbBroken1062Status));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  Reply("SHOW RELAYLOG EVENTS IN 'relay-bin.000002' FROM 1669 LIMIT 8",
        FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                 "Access denied; you need (at least one of) the SLAVE MONITOR "
                                 "privilege(s) for this operation"));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(Str(*broken, "failing_gtid"), "");
  EXPECT_EQ(SuggestionWith(*broken, "gtid_slave_pos"), nullptr);  // no GTID to record
  EXPECT_NE(SuggestionWith(*broken, "SET GLOBAL sql_slave_skip_counter = 1"), nullptr);
  const Finding* partial = One(findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_EQ(Str(*partial, "check"), "the failing relay-log event");
  EXPECT_TRUE(Contains(Str(*partial, "reason"), "SLAVE MONITOR"));
}

TEST_F(ReplicationStepTest, DelayedReplicaIsNotLaggingByItsDelay) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbDelayedStatus));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  ReplicationThresholds t;
  t.lag_warning_seconds = 1;  // Seconds_Behind_Master is 6, all of it the delay
  const auto findings = RunStep(t);
  EXPECT_TRUE(All(findings, "replication.lag").empty()) << Codes(findings);
  const Finding* delayed = One(findings, "replication.delayed");
  ASSERT_NE(delayed, nullptr);
  EXPECT_EQ(delayed->severity, Severity::kInfo);
  EXPECT_TRUE(Contains(delayed->title, "applies 30s behind 127.0.0.1:35845 on purpose"))
      << delayed->title;
  EXPECT_TRUE(Contains(delayed->title, "next event is applied in 24s")) << delayed->title;
  EXPECT_EQ(Str(*delayed, "seconds_behind"), "6");
  EXPECT_EQ(Str(*delayed, "sql_delay"), "30");
  EXPECT_EQ(Str(*delayed, "lag_seconds"), "0");
  EXPECT_EQ(Str(*delayed, "position_gap_bytes"), "212");  // waiting in the relay log
  ASSERT_EQ(delayed->suggestions.size(), 1u);
  EXPECT_EQ(delayed->suggestions[0].sql,
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
  // Healthy otherwise.
  EXPECT_EQ(All(findings, "replication.status").size(), 1u);
}

TEST_F(ReplicationStepTest, StoppedSqlThreadShowsTheBacklog) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbSqlStoppedStatus));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  const auto findings = RunStep();
  const Finding* stopped = One(findings, "replication.stopped");
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->severity, Severity::kWarning);
  EXPECT_TRUE(Contains(stopped->title,
                       "replica SQL thread is stopped without an error "
                       "(replication from 127.0.0.1:35845); 441 bytes of the "
                       "source binlog fetched but not applied"))
      << stopped->title;
  EXPECT_EQ(Str(*stopped, "io_thread"), "running");
  EXPECT_EQ(Str(*stopped, "sql_thread"), "stopped");
  EXPECT_EQ(Str(*stopped, "relay_log_space_bytes"), "1630");
  EXPECT_EQ(Str(*stopped, "retrieved_gtid"), "0-35845-22");
  EXPECT_EQ(Str(*stopped, "executed_gtid"), "0-35845-20");
  ASSERT_EQ(stopped->suggestions.size(), 1u);
  EXPECT_EQ(stopped->suggestions[0].sql, "START SLAVE SQL_THREAD");
  EXPECT_TRUE(All(findings, "replication.lag").empty());
  EXPECT_TRUE(All(findings, "replication.status").empty());
}

TEST_F(ReplicationStepTest, ApplierWaitingForALocalLockOnATableWithoutPrimaryKey) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbLockWaitStatus));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  Reply(dialect::ApplierTransactions(d()), Block(kMariaDbLockWaitAppliers));
  // The applier works in r1; the table list is what the account saw there (r1.t has a
  // primary key, r1.nopk has none).
  Reply(dialect::TablesWithoutPrimaryKey(d(), {"r1"}, 20),
        mysql::MakeResultSet({"table_schema", "table_name", "engine", "table_rows", "unique_keys"},
                             {{"r1", "nopk", "InnoDB", "2", "0"}}));
  ReplicationThresholds t;
  t.lag_warning_seconds = 2;  // Seconds_Behind_Master is 4
  t.applier_transaction_seconds = 2;
  const auto findings = RunStep(t);
  const Finding* lag = One(findings, "replication.lag");
  ASSERT_NE(lag, nullptr);
  EXPECT_EQ(Str(*lag, "lag_seconds"), "4");
  auto causes = All(findings, "replication.lag_cause");
  ASSERT_EQ(causes.size(), 3u) << Codes(findings);
  // 1. The applier waits for a lock held by a local session, with the KILL for it.
  EXPECT_EQ(Str(*causes[0], "cause"), "applier waits for a lock");
  EXPECT_TRUE(Contains(causes[0]->title,
                       "applier (connection 76) waits 4s for a row lock held "
                       "by connection 77 on this replica"))
      << causes[0]->title;
  EXPECT_EQ(Str(*causes[0], "statement"), "UPDATE r1.nopk SET v=v+1 WHERE id=2");
  EXPECT_EQ(Str(*causes[0], "thread_state"), "Update_rows_log_event::find_row()");
  EXPECT_EQ(Str(*causes[0], "blocking_connection_id"), "77");
  EXPECT_NE(SuggestionWith(*causes[0], "KILL CONNECTION 77"), nullptr);
  // 2. Single-threaded apply.
  EXPECT_EQ(Str(*causes[1], "cause"), "single-threaded apply");
  // 3. The table without a primary key, with the DDL to fix it on the source.
  EXPECT_EQ(Str(*causes[2], "cause"), "table without primary key");
  EXPECT_EQ(Str(*causes[2], "table_name"), "nopk");
  EXPECT_TRUE(Contains(causes[2]->title,
                       "1 table without a primary key in the replicated "
                       "schemas (r1)"))
      << causes[2]->title;
  EXPECT_NE(SuggestionWith(*causes[2],
                           "ALTER TABLE `r1`.`nopk` ADD COLUMN `row_id` BIGINT "
                           "UNSIGNED NOT NULL AUTO_INCREMENT INVISIBLE PRIMARY KEY"),
            nullptr);
}

TEST_F(ReplicationStepTest, IoThreadConnectingIsCritical) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbConnectingStatus));
  Reply(dialect::ReplicationVariables(d()), Block(kMariaDbVariables));
  const auto findings = RunStep();
  const Finding* connecting = One(findings, "replication.connecting");
  ASSERT_NE(connecting, nullptr);
  EXPECT_EQ(connecting->severity, Severity::kCritical);
  EXPECT_TRUE(Contains(connecting->title,
                       "replica IO thread cannot connect to 127.0.0.1:9: "
                       "error 2003: error connecting to master"))
      << connecting->title;
  EXPECT_EQ(Str(*connecting, "io_thread"), "connecting");
  EXPECT_EQ(Str(*connecting, "io_state"), "Connecting to master");
  EXPECT_TRUE(All(findings, "replication.broken").empty());
  EXPECT_TRUE(All(findings, "replication.status").empty());
}

// --- a source -------------------------------------------------------------------------------

TEST_F(ReplicationStepTest, SourceFallsBackToBinlogDumpThreadsWhenShowReplicaHostsIsRefused) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Empty({"Connection_name"}));
  Reply(dialect::BinlogDumpThreads(d()), Block(kMariaDbDumpThreads));
  Reply("SHOW REPLICA HOSTS",
        FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                 "Access denied; you need (at least one of) the REPLICATION "
                                 "MASTER ADMIN privilege(s) for this operation"));
  const auto findings = RunStep();
  const Finding* replicas = One(findings, "replication.replicas");
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->severity, Severity::kInfo);
  EXPECT_EQ(replicas->title, "1 replica connected (source: processlist (Binlog Dump threads))");
  EXPECT_TRUE(Contains(replicas->detail, "REPLICATION MASTER ADMIN")) << replicas->detail;
  EXPECT_EQ(Str(*replicas, "source"), "processlist (Binlog Dump threads)");
  EXPECT_EQ(Str(*replicas, "host"), "127.0.0.1:43670");
  EXPECT_EQ(Str(*replicas, "user"), "repl");
  EXPECT_EQ(Str(*replicas, "connection_id"), "30");
  EXPECT_TRUE(All(findings, "check.partial").empty());
}

TEST_F(ReplicationStepTest, SourceListsRegisteredReplicasWhenAllowed) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Empty({"Connection_name"}));
  Reply(dialect::BinlogDumpThreads(d()), Block(kMariaDbDumpThreads));
  Reply("SHOW REPLICA HOSTS", Block(kMariaDbReplicaHosts));
  const auto findings = RunStep();
  const Finding* replicas = One(findings, "replication.replicas");
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->title, "1 replica connected (source: SHOW REPLICA HOSTS)");
  EXPECT_EQ(Str(*replicas, "server_id"), "42779");
  EXPECT_EQ(Str(*replicas, "host"), "127.0.0.1");
  EXPECT_EQ(Str(*replicas, "port"), "42779");
  EXPECT_EQ(Str(*replicas, "source_server_id"), "35845");
}

TEST_F(ReplicationStepTest, StandaloneServerSaysSo) {
  SetUpTarget(kMySql84);
  Reply("SHOW REPLICA STATUS", Empty({"Replica_IO_State"}));
  const auto findings = RunStep();
  ASSERT_EQ(findings.size(), 1u) << Codes(findings);
  EXPECT_EQ(findings[0].code, "replication.status");
  EXPECT_EQ(findings[0].title, "this server is not a replica and no replica is connected to it");
  EXPECT_EQ(fake_->statements().size(), 2u);  // replica status and the dump threads
}

TEST_F(ReplicationStepTest, RefusedReplicaStatusMakesTheStepFailWithTheGrant) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS",
        FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                 "Access denied; you need (at least one of) the SLAVE MONITOR "
                                 "privilege(s) for this operation"));
  StepContext context{*target_, clock_, options_, clock_.MonotonicNow() + std::chrono::seconds(20)};
  ReplicationStep step;
  auto result = step.Run(context);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, core::ErrorCode::kPrivilege);
  EXPECT_EQ(step.RequiredGrant(kMariaDb, "'monitor'@'%'"),
            "GRANT SLAVE MONITOR ON *.* TO 'monitor'@'%'; GRANT PROCESS ON *.* TO 'monitor'@'%'");
  EXPECT_EQ(step.RequiredGrant(kMySql84, "'monitor'@'%'"),
            "GRANT REPLICATION CLIENT ON *.* TO 'monitor'@'%'; GRANT PROCESS ON *.* TO "
            "'monitor'@'%'");
}

TEST_F(ReplicationStepTest, NoFurtherStatementOnceTheBudgetIsSpent) {
  SetUpTarget(kMariaDb);
  Reply("SHOW ALL SLAVES STATUS", Block(kMariaDbBroken1062Status));
  StepContext context{*target_, clock_, options_, clock_.MonotonicNow()};  // already expired
  ReplicationStep step;
  auto findings = step.Run(context);
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(fake_->statements().size(), 1u);  // the replica status only
  bool broken = false;
  bool partial = false;
  for (const auto& f : *findings) {
    broken |= f.code == "replication.broken";
    partial |= f.code == "check.partial";
  }
  EXPECT_TRUE(broken);
  EXPECT_TRUE(partial);
}

// MySQL with GTID: the failing GTID from the coordinator's error text (the relay log and the
// worker table give nothing here), and the empty transaction. The message follows MySQL's
// ER_MTA_INCONSISTENT_DATA / coordinator wording; the status row is built, not recorded (no
// licensed MySQL 8 recording with an SQL error exists, see the conformance README).
constexpr const char* kCoordinatorError =
    "Coordinator stopped because there were error(s) in the worker(s). The most recent failure "
    "being: Worker 1 failed executing transaction '3e11fa47-71ca-11e1-9e33-c80aa9429562:23' at "
    "source log binlog.000003, end_log_pos 1234.";
TEST_F(ReplicationStepTest, MySqlGtidSkipInjectsAnEmptyTransaction) {
  SetUpTarget(kMySql84);
  // Only the columns this test is about; the names are MySQL 8.4's.
  Reply("SHOW REPLICA STATUS",
        mysql::MakeResultSet(
            {"Replica_IO_Running", "Replica_SQL_Running", "Source_Host", "Source_Port",
             "Last_SQL_Errno", "Last_SQL_Error", "Auto_Position", "Channel_Name", "Relay_Log_File",
             "Relay_Log_Pos", "Last_SQL_Error_Timestamp"},
            {{"Yes", "No", "db1", "3306", "1062", kCoordinatorError, "1", "", "relay.000002", "400",
              "250101 10:00:00"}}));
  Reply(dialect::ReplicationVariables(d()),
        mysql::MakeResultSet({"Variable_name", "Value"}, {{"gtid_mode", "ON"}}));
  Reply("SHOW RELAYLOG EVENTS IN 'relay.000002' FROM 400 LIMIT 8",
        FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                 "Access denied; you need (at least one of) the REPLICATION "
                                 "SLAVE privilege(s) for this operation"));
  Reply(dialect::ApplierWorkerErrors(d()), Empty({"channel"}));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(Str(*broken, "failing_gtid"), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  EXPECT_EQ(Str(*broken, "error_time"), "250101 10:00:00");
  EXPECT_NE(SuggestionWith(*broken,
                           "STOP REPLICA; SET GTID_NEXT = "
                           "'3e11fa47-71ca-11e1-9e33-c80aa9429562:23'; BEGIN; COMMIT; SET "
                           "GTID_NEXT = 'AUTOMATIC'; START REPLICA"),
            nullptr);
  EXPECT_EQ(SuggestionWith(*broken, "skip_counter"), nullptr);  // refused with GTID (1858)
  EXPECT_NE(SuggestionWith(*broken, "START REPLICA SQL_THREAD"), nullptr);
}

// MySQL's relay log names the GTID in its Gtid event and the statement in Rows_query (with
// binlog_rows_query_log_events). Rows built in SHOW RELAYLOG EVENTS' shape, not recorded.
constexpr const char* kRowNotFound =
    "Could not execute Update_rows event on table shop.orders; Can't find record in 'orders'";

TEST_F(ReplicationStepTest, MySqlFailingEventFromTheRelayLog) {
  SetUpTarget(kMySql84);
  Reply("SHOW REPLICA STATUS",
        mysql::MakeResultSet({"Replica_IO_Running", "Replica_SQL_Running", "Source_Host",
                              "Source_Port", "Last_SQL_Errno", "Last_SQL_Error", "Auto_Position",
                              "Channel_Name", "Relay_Log_File", "Relay_Log_Pos"},
                             {{"Yes", "No", "db1", "3306", "1032", kRowNotFound, "1", "eu",
                               "relay-eu.000002", "400"}}));
  Reply(dialect::ReplicationVariables(d()),
        mysql::MakeResultSet({"Variable_name", "Value"}, {{"gtid_mode", "ON"}}));
  Reply(
      "SHOW RELAYLOG EVENTS IN 'relay-eu.000002' FROM 400 LIMIT 8 FOR CHANNEL 'eu'",
      mysql::MakeResultSet(
          {"Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info"},
          {{"relay-eu.000002", "400", "Gtid", "1", "479",
            "SET @@SESSION.GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:24'"},
           {"relay-eu.000002", "479", "Query", "1", "560", "BEGIN"},
           {"relay-eu.000002", "560", "Rows_query", "1", "630",
            "# UPDATE shop.orders SET total = 0 WHERE id = 7"},
           {"relay-eu.000002", "630", "Table_map", "1", "690", "table_id: 91 (shop.orders)"},
           {"relay-eu.000002", "690", "Update_rows", "1", "760", "table_id: 91 flags: STMT_END_F"},
           {"relay-eu.000002", "760", "Xid", "1", "791", "COMMIT /* xid=12 */"}}));
  const auto findings = RunStep();
  const Finding* broken = One(findings, "replication.broken");
  ASSERT_NE(broken, nullptr);
  EXPECT_TRUE(Contains(broken->title, "error 1032 [channel 'eu']")) << broken->title;
  EXPECT_EQ(Str(*broken, "failing_gtid"), "3e11fa47-71ca-11e1-9e33-c80aa9429562:24");
  EXPECT_EQ(Str(*broken, "failing_statement"), "UPDATE shop.orders SET total = 0 WHERE id = 7");
  EXPECT_EQ(Str(*broken, "tables"), "shop.orders");
  EXPECT_NE(SuggestionWith(*broken,
                           "STOP REPLICA FOR CHANNEL 'eu'; SET GTID_NEXT = "
                           "'3e11fa47-71ca-11e1-9e33-c80aa9429562:24'; BEGIN; COMMIT; "
                           "SET GTID_NEXT = 'AUTOMATIC'; START REPLICA FOR CHANNEL 'eu'"),
            nullptr);
  const Suggestion* fix = SuggestionWith(*broken, "START REPLICA SQL_THREAD FOR CHANNEL 'eu'");
  ASSERT_NE(fix, nullptr);
  EXPECT_TRUE(Contains(fix->text, "missing here")) << fix->text;
  // The worker table was not needed: the relay log named the GTID.
  for (const auto& sql : fake_->statements()) {
    EXPECT_FALSE(Contains(sql, "replication_applier_status_by_worker")) << sql;
  }
}

}  // namespace
}  // namespace dbrunbook::steps
