// The replication step against the sandbox pair (a MariaDB primary and its GTID replica), with
// each situation created for real: a duplicate-key error that stops the SQL thread, a stopped
// SQL thread with a backlog behind it, a MASTER_DELAY, an applier stuck behind a row lock held
// by a local session on a table without a primary key, and the primary's view of its replica.
// The step runs as the monitoring account; scenarios are made as root. Where a finding
// suggests a repair, the test runs that exact statement as root, which proves it on MariaDB.
//
// The servers are shared with every other integration test: every test leaves the replica
// running, caught up, with MASTER_DELAY = 0 and slave_parallel_threads as found, and drops
// its schema and grants, also when an assertion fails (scope guards).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "collect/target_session.h"
#include "core/strings.h"
#include "dialect/replication.h"
#include "mysql/connector_session.h"
#include "steps/investigate_replication.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSchema = "repl_it";

class ScopeGuard {
 public:
  explicit ScopeGuard(std::function<void()> f) : f_(std::move(f)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (f_) f_();
  }

 private:
  std::function<void()> f_;
};

// Root SQL through scripts/sandbox (not the code under test); the output without headers.
std::string Sql(const std::string& server, const std::string& sql) {
  auto out = testing::SandboxSql(server, sql, {"--skip-column-names"});
  EXPECT_TRUE(out) << server << ": " << sql << ": " << out.error().ToString();
  return out ? std::string(core::Trim(*out)) : std::string();
}

// SHOW SLAVE STATUS on the replica as name -> value.
std::map<std::string, std::string> ReplicaStatus() {
  std::map<std::string, std::string> fields;
  auto out = testing::SandboxSql("replica", "SHOW SLAVE STATUS\\G");
  if (!out) return fields;
  for (std::string_view line : core::Split(*out, '\n')) {
    auto colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    fields.emplace(std::string(core::Trim(line.substr(0, colon))),
                   std::string(core::Trim(line.substr(colon + 2))));
  }
  return fields;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

// The replica has applied everything the primary has binlogged.
bool WaitCaughtUp() {
  const std::string position = Sql("primary", "SELECT @@GLOBAL.gtid_binlog_pos");
  return Sql("replica", "SELECT MASTER_GTID_WAIT('" + position + "', 30)") == "0";
}

// Puts the replica back the way every test expects it: both threads running, no delay,
// caught up. Safe to call in any state (a failed START reports and the wait fails loudly).
void RestoreReplica() {
  auto status = ReplicaStatus();
  if (status["SQL_Delay"] != "0" || status["Slave_SQL_Running"] != "Yes" ||
      status["Slave_IO_Running"] != "Yes") {
    Sql("replica", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
  }
  EXPECT_TRUE(WaitCaughtUp()) << "the replica did not catch up after the test";
  status = ReplicaStatus();
  EXPECT_EQ(status["Slave_SQL_Running"], "Yes");
  EXPECT_EQ(status["Slave_IO_Running"], "Yes");
  EXPECT_EQ(status["SQL_Delay"], "0");
}

struct RunResult {
  int status = -1;
  std::string out;
};

RunResult RunCli(const std::string& args) {
  RunResult r;
  const char* binary = std::getenv("DBRUNBOOK_BINARY");  // NOLINT(concurrency-mt-unsafe)
  EXPECT_NE(binary, nullptr) << "DBRUNBOOK_BINARY is not set";
  if (binary == nullptr) return r;
  const std::string command = std::string("'") + binary + "' " + args + " 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

const Finding* Find(const std::vector<Finding>& findings, std::string_view code,
                    std::string_view evidence_field = {}, std::string_view value = {}) {
  for (const auto& f : findings) {
    if (f.code != code) continue;
    if (evidence_field.empty()) return &f;
    for (const auto& row : f.evidence) {
      const EvidenceValue* v = row.Find(evidence_field);
      if (v != nullptr && EvidenceText(*v) == value) return &f;
    }
  }
  return nullptr;
}

std::string Str(const Finding& f, std::string_view name, size_t row = 0) {
  if (f.evidence.size() <= row) return "<no row>";
  const EvidenceValue* v = f.evidence[row].Find(name);
  return v != nullptr ? EvidenceText(*v) : "<missing>";
}

const Suggestion* SuggestionWith(const Finding& f, std::string_view needle) {
  for (const auto& s : f.suggestions) {
    if (s.sql.find(needle) != std::string::npos) return &s;
  }
  return nullptr;
}

std::string Codes(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += f.code + " (" + f.title + ")\n";
  return out;
}

class ReplicationIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto replica = testing::LoadSandbox("replica");
    ASSERT_TRUE(replica) << replica.error().ToString();
    replica_ = std::move(*replica);
    // Start from a healthy replica whatever an earlier test left.
    RestoreReplica();
    Sql("primary", std::string("DROP DATABASE IF EXISTS ") + kSchema + "; CREATE DATABASE " +
                       kSchema + "; CREATE TABLE " + kSchema +
                       ".t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
    ASSERT_TRUE(WaitCaughtUp());
  }

  void TearDown() override {
    RestoreReplica();
    Sql("primary", std::string("DROP DATABASE IF EXISTS ") + kSchema);
    EXPECT_TRUE(WaitCaughtUp());
  }

  collect::TargetSession Open(const mysql::ConnectOptions& options) {
    auto target = collect::OpenTargetSession(factory_, options, clock_);
    EXPECT_TRUE(target) << target.error().ToString();
    return std::move(*target);
  }

  std::vector<Finding> RunStep(const mysql::ConnectOptions& options,
                               ReplicationThresholds thresholds = {}) {
    collect::TargetSession target = Open(options);
    InvestigateOptions investigate;
    StepContext context{target, clock_, investigate,
                        clock_.MonotonicNow() + investigate.step_budget};
    ReplicationStep step(thresholds);
    auto findings = step.Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  // Makes the replica's SQL thread stop on a duplicate key: the row exists on the replica
  // (inserted there as root without binary logging), then the primary inserts it. Returns the
  // GTID of the primary's insert.
  std::string BreakOnDuplicateKey(int id, int replica_value, int primary_value) {
    Sql("replica", "SET SESSION sql_log_bin = 0; INSERT INTO " + std::string(kSchema) +
                       ".t VALUES (" + std::to_string(id) + ", " + std::to_string(replica_value) +
                       ")");
    std::string gtid =
        Sql("primary", "INSERT INTO " + std::string(kSchema) + ".t VALUES (" + std::to_string(id) +
                           ", " + std::to_string(primary_value) + "); SELECT @@last_gtid");
    EXPECT_TRUE(WaitFor([] { return ReplicaStatus()["Last_SQL_Errno"] == "1062"; },
                        std::chrono::seconds(20)))
        << "the replica's SQL thread did not stop on the duplicate key";
    EXPECT_EQ(ReplicaStatus()["Slave_SQL_Running"], "No");
    return gtid;
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
  testing::SandboxServer replica_;
};

TEST_F(ReplicationIntegrationTest, SqlThreadStoppedOnADuplicateKey) {
  ScopeGuard repair([] {
    // Whatever happened: remove the replica-only row and let it apply the primary's.
    Sql("replica",
        std::string("SET SESSION sql_log_bin = 0; DELETE FROM ") + kSchema + ".t WHERE id = 1");
    if (ReplicaStatus()["Slave_SQL_Running"] != "Yes") Sql("replica", "START SLAVE");
  });
  const std::string gtid = BreakOnDuplicateKey(1, 100, 1);
  ASSERT_FALSE(gtid.empty());

  const auto findings = RunStep(replica_.MonitorOptions());
  const Finding* broken = Find(findings, "replication.broken");
  ASSERT_NE(broken, nullptr) << Codes(findings);
  EXPECT_EQ(broken->severity, Severity::kCritical);
  EXPECT_EQ(broken->title.rfind("replica SQL thread stopped on error 1062: ", 0), 0u)
      << broken->title;
  EXPECT_NE(broken->title.find("Duplicate entry '1' for key 'PRIMARY'"), std::string::npos)
      << broken->title;
  EXPECT_EQ(Str(*broken, "errno"), "1062");
  EXPECT_EQ(Str(*broken, "thread"), "SQL");
  EXPECT_EQ(Str(*broken, "source"), "127.0.0.1:" + std::to_string(primary_.port));
  // The monitoring account (SLAVE MONITOR) reads the failing event from the relay log.
  EXPECT_EQ(Str(*broken, "failing_gtid"), gtid);
  EXPECT_EQ(Str(*broken, "failing_statement"),
            std::string("INSERT INTO ") + kSchema + ".t VALUES (1, 1)");
  EXPECT_EQ(Str(*broken, "tables"), std::string(kSchema) + ".t");
  // Suggestions: look, fix then START SLAVE SQL_THREAD, or skip exactly that GTID.
  EXPECT_NE(SuggestionWith(*broken, "SHOW RELAYLOG EVENTS IN 'relay-bin."), nullptr);
  EXPECT_NE(SuggestionWith(*broken, "START SLAVE SQL_THREAD"), nullptr);
  const Suggestion* skip = SuggestionWith(*broken, "SET GLOBAL gtid_slave_pos = '" + gtid + "'");
  ASSERT_NE(skip, nullptr);
  EXPECT_NE(skip->text.find("diverges"), std::string::npos);
  EXPECT_EQ(Find(findings, "check.partial"), nullptr) << Codes(findings);

  // The same through the real binary, as JSON, with exit status 2 (critical).
  const RunResult cli =
      RunCli("investigate --dsn 'mysql://monitor@127.0.0.1:" + std::to_string(replica_.port) +
             "/' --password-file '" + replica_.monitor_password_file +
             "' --only replication --format json");
  EXPECT_EQ(cli.status, 2) << cli.out;
  const auto json = nlohmann::json::parse(cli.out, nullptr, false);
  ASSERT_TRUE(json.is_object()) << cli.out;
  bool seen = false;
  for (const auto& f : json["findings"]) {
    if (f["code"] != "replication.broken") continue;
    seen = true;
    EXPECT_EQ(f["severity"], "critical");
    EXPECT_EQ(f["evidence"][0]["errno"], 1062);
    EXPECT_EQ(f["evidence"][0]["failing_gtid"], gtid);
    EXPECT_TRUE(f["suggestions"].is_array() && !f["suggestions"].empty());
  }
  EXPECT_TRUE(seen) << cli.out;

  // Repair as the finding says: fix the row without binary logging, restart the SQL thread.
  Sql("replica",
      std::string("SET SESSION sql_log_bin = 0; DELETE FROM ") + kSchema + ".t WHERE id = 1");
  Sql("replica", "START SLAVE SQL_THREAD");
  ASSERT_TRUE(WaitCaughtUp());
  EXPECT_EQ(Sql("replica", std::string("SELECT v FROM ") + kSchema + ".t WHERE id = 1"), "1");
  const auto after = RunStep(replica_.MonitorOptions());
  EXPECT_EQ(Find(after, "replication.broken"), nullptr) << Codes(after);
  EXPECT_NE(Find(after, "replication.status"), nullptr) << Codes(after);
}

// The skip statements the finding suggests work on MariaDB 10.11 with GTID. The conflicting
// rows are identical on both sides, so skipping loses nothing here.
TEST_F(ReplicationIntegrationTest, SuggestedSkipStatementsWork) {
  ScopeGuard repair([] {
    if (ReplicaStatus()["Slave_SQL_Running"] != "Yes") {
      Sql("replica", std::string("SET SESSION sql_log_bin = 0; DELETE FROM ") + kSchema +
                         ".t WHERE id IN (2, 3)");
      Sql("replica", "START SLAVE");
    }
  });
  // gtid_slave_pos: records the failing GTID as applied.
  const std::string gtid = BreakOnDuplicateKey(2, 2, 2);
  auto findings = RunStep(replica_.MonitorOptions());
  const Finding* broken = Find(findings, "replication.broken");
  ASSERT_NE(broken, nullptr) << Codes(findings);
  const Suggestion* by_position = SuggestionWith(*broken, "SET GLOBAL gtid_slave_pos");
  ASSERT_NE(by_position, nullptr);
  EXPECT_EQ(by_position->sql,
            "STOP SLAVE; SET GLOBAL gtid_slave_pos = '" + gtid + "'; START SLAVE");
  Sql("replica", by_position->sql);
  ASSERT_TRUE(WaitCaughtUp());
  EXPECT_EQ(Sql("replica", "SELECT @@GLOBAL.gtid_slave_pos"),
            Sql("primary", "SELECT @@GLOBAL.gtid_binlog_pos"));

  // sql_slave_skip_counter: skips the one event group.
  BreakOnDuplicateKey(3, 3, 3);
  findings = RunStep(replica_.MonitorOptions());
  broken = Find(findings, "replication.broken");
  ASSERT_NE(broken, nullptr) << Codes(findings);
  const Suggestion* by_counter = SuggestionWith(*broken, "sql_slave_skip_counter");
  ASSERT_NE(by_counter, nullptr);
  Sql("replica", by_counter->sql);
  ASSERT_TRUE(WaitCaughtUp());
  EXPECT_EQ(ReplicaStatus()["Slave_SQL_Running"], "Yes");
  EXPECT_EQ(
      Sql("replica", std::string("SELECT COUNT(*) FROM ") + kSchema + ".t WHERE id IN (2, 3)"),
      "2");
}

TEST_F(ReplicationIntegrationTest, StoppedSqlThreadWithABacklog) {
  ScopeGuard restart([] {
    if (ReplicaStatus()["Slave_SQL_Running"] != "Yes") Sql("replica", "START SLAVE SQL_THREAD");
  });
  Sql("replica", "STOP SLAVE SQL_THREAD");
  Sql("primary", std::string("INSERT INTO ") + kSchema +
                     ".t VALUES (10, 10), (11, 11); INSERT INTO " + kSchema + ".t VALUES (12, 12)");
  ASSERT_TRUE(WaitFor(
      [] {
        auto s = ReplicaStatus();
        return s["Read_Master_Log_Pos"] != s["Exec_Master_Log_Pos"];
      },
      std::chrono::seconds(10)));

  const auto findings = RunStep(replica_.MonitorOptions());
  const Finding* stopped = Find(findings, "replication.stopped");
  ASSERT_NE(stopped, nullptr) << Codes(findings);
  EXPECT_EQ(stopped->severity, Severity::kWarning);
  EXPECT_NE(stopped->title.find("replica SQL thread is stopped without an error"),
            std::string::npos)
      << stopped->title;
  EXPECT_EQ(Str(*stopped, "sql_thread"), "stopped");
  EXPECT_EQ(Str(*stopped, "io_thread"), "running");
  // The backlog: bytes fetched but not applied, and the GTIDs on both sides of it.
  const auto gap = core::ParseInt64(Str(*stopped, "position_gap_bytes"));
  ASSERT_TRUE(gap.has_value()) << Str(*stopped, "position_gap_bytes");
  EXPECT_GT(*gap, 0);
  EXPECT_NE(Str(*stopped, "retrieved_gtid"), Str(*stopped, "executed_gtid"));
  EXPECT_EQ(Str(*stopped, "retrieved_gtid"), Sql("primary", "SELECT @@GLOBAL.gtid_binlog_pos"));
  EXPECT_EQ(Str(*stopped, "seconds_behind"), "");  // NULL while the SQL thread is stopped
  EXPECT_EQ(Find(findings, "replication.lag"), nullptr);
  ASSERT_EQ(stopped->suggestions.size(), 1u);
  EXPECT_EQ(stopped->suggestions[0].sql, "START SLAVE SQL_THREAD");

  Sql("replica", stopped->suggestions[0].sql);
  ASSERT_TRUE(WaitCaughtUp());
}

TEST_F(ReplicationIntegrationTest, DelayedReplicaIsReportedAsDelayedNotLagging) {
  ScopeGuard undelay([] {
    if (ReplicaStatus()["SQL_Delay"] != "0") {
      Sql("replica", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
    }
  });
  Sql("replica", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 30; START SLAVE");
  Sql("primary", std::string("INSERT INTO ") + kSchema + ".t VALUES (20, 20)");
  ASSERT_TRUE(WaitFor(
      [] {
        auto s = ReplicaStatus();
        return s["Slave_SQL_Running_State"].find("MASTER_DELAY") != std::string::npos &&
               s["Seconds_Behind_Master"] != "NULL" && s["Seconds_Behind_Master"] != "0";
      },
      std::chrono::seconds(15)));

  ReplicationThresholds thresholds;
  thresholds.lag_warning_seconds = 1;  // Seconds_Behind_Master is > 0, all of it the delay
  const auto findings = RunStep(replica_.MonitorOptions(), thresholds);
  EXPECT_EQ(Find(findings, "replication.lag"), nullptr) << Codes(findings);
  const Finding* delayed = Find(findings, "replication.delayed");
  ASSERT_NE(delayed, nullptr) << Codes(findings);
  EXPECT_EQ(delayed->severity, Severity::kInfo);
  EXPECT_NE(delayed->title.find("applies 30s behind 127.0.0.1:" + std::to_string(primary_.port) +
                                " on purpose"),
            std::string::npos)
      << delayed->title;
  EXPECT_NE(delayed->title.find("the next event is applied in"), std::string::npos)
      << delayed->title;
  EXPECT_EQ(Str(*delayed, "sql_delay"), "30");
  EXPECT_EQ(Str(*delayed, "lag_seconds"), "0");
  const auto gap = core::ParseInt64(Str(*delayed, "position_gap_bytes"));
  ASSERT_TRUE(gap.has_value());
  EXPECT_GT(*gap, 0);  // the insert waits in the relay log
  ASSERT_EQ(delayed->suggestions.size(), 1u);
  EXPECT_EQ(delayed->suggestions[0].sql,
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");

  Sql("replica", delayed->suggestions[0].sql);
  ASSERT_TRUE(WaitCaughtUp());
  EXPECT_EQ(ReplicaStatus()["SQL_Delay"], "0");
}

// Real lag: the applier replays an UPDATE on a table without a primary key and waits for a
// row lock a local session holds on the replica. The step names the blocker (the test's own
// connection), the table, and single-threaded apply (the sandbox's slave_parallel_threads = 0).
TEST_F(ReplicationIntegrationTest, LagAndItsLikelyCauses) {
  Sql("primary", std::string("CREATE TABLE ") + kSchema +
                     ".nopk (id INT, v INT) ENGINE=InnoDB; INSERT INTO " + kSchema +
                     ".nopk VALUES (1, 1), (2, 2); GRANT SELECT ON " + kSchema +
                     ".* TO 'monitor'@'%'");
  ScopeGuard revoke(
      [] { Sql("primary", std::string("REVOKE SELECT ON ") + kSchema + ".* FROM 'monitor'@'%'"); });
  ASSERT_TRUE(WaitCaughtUp());
  ASSERT_EQ(Sql("replica", "SELECT @@GLOBAL.slave_parallel_threads"), "0");

  auto local = factory_.Connect(replica_.RootOptions());
  ASSERT_TRUE(local) << local.error().ToString();
  ScopeGuard rollback([&local] { (void)(*local)->Query("ROLLBACK"); });
  ASSERT_TRUE((*local)->Query("BEGIN"));
  ASSERT_TRUE(
      (*local)->Query(std::string("SELECT * FROM ") + kSchema + ".nopk WHERE id = 1 FOR UPDATE"));
  Sql("primary", std::string("UPDATE ") + kSchema + ".nopk SET v = v + 1 WHERE id = 2");
  ASSERT_TRUE(WaitFor(
      [] {
        auto behind = core::ParseInt64(ReplicaStatus()["Seconds_Behind_Master"]);
        return behind && *behind >= 3;
      },
      std::chrono::seconds(20)));

  ReplicationThresholds thresholds;
  thresholds.lag_warning_seconds = 2;
  thresholds.applier_transaction_seconds = 1;
  const auto findings = RunStep(replica_.MonitorOptions(), thresholds);
  const Finding* lag = Find(findings, "replication.lag");
  ASSERT_NE(lag, nullptr) << Codes(findings);
  EXPECT_EQ(lag->severity, Severity::kWarning);
  EXPECT_GE(core::ParseDouble(Str(*lag, "lag_seconds")).value_or(0), 2.0);

  const Finding* lock =
      Find(findings, "replication.lag_cause", "cause", "applier waits for a lock");
  ASSERT_NE(lock, nullptr) << Codes(findings);
  EXPECT_EQ(Str(*lock, "blocking_connection_id"), std::to_string((*local)->info().connection_id));
  EXPECT_EQ(Str(*lock, "trx_state"), "LOCK WAIT");
  EXPECT_EQ(Str(*lock, "db"), kSchema);
  EXPECT_EQ(Str(*lock, "statement"),
            std::string("UPDATE ") + kSchema + ".nopk SET v = v + 1 WHERE id = 2");
  EXPECT_NE(
      SuggestionWith(*lock, "KILL CONNECTION " + std::to_string((*local)->info().connection_id)),
      nullptr);

  const Finding* single = Find(findings, "replication.lag_cause", "cause", "single-threaded apply");
  ASSERT_NE(single, nullptr) << Codes(findings);
  EXPECT_EQ(Str(*single, "variable"), "slave_parallel_threads");

  const Finding* nopk =
      Find(findings, "replication.lag_cause", "cause", "table without primary key");
  ASSERT_NE(nopk, nullptr) << Codes(findings);
  ASSERT_EQ(nopk->evidence.size(), 1u) << Codes(findings);  // t has a primary key
  EXPECT_EQ(Str(*nopk, "table_schema"), kSchema);
  EXPECT_EQ(Str(*nopk, "table_name"), "nopk");
  const Suggestion* add_key = SuggestionWith(*nopk, "ALTER TABLE");
  ASSERT_NE(add_key, nullptr);

  // Let the applier go; it catches up.
  ASSERT_TRUE((*local)->Query("ROLLBACK"));
  ASSERT_TRUE(WaitCaughtUp());

  // The suggested repairs are valid MariaDB: the invisible primary key (run on the primary,
  // replicated), and parallel apply (then put back as found).
  Sql("primary", add_key->sql);
  ASSERT_TRUE(WaitCaughtUp());
  EXPECT_EQ(Sql("replica", std::string("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
                                       "TABLE_SCHEMA = '") +
                               kSchema + "' AND TABLE_NAME = 'nopk' AND INDEX_NAME = 'PRIMARY'"),
            "1");
  EXPECT_EQ(Sql("replica", std::string("SELECT COUNT(*) FROM ") + kSchema + ".nopk"), "2");
  const Suggestion* parallel = SuggestionWith(*single, "slave_parallel_threads = 4");
  ASSERT_NE(parallel, nullptr);
  ScopeGuard serial([] {
    if (Sql("replica", "SELECT @@GLOBAL.slave_parallel_threads") != "0") {
      Sql("replica", "STOP ALL SLAVES; SET GLOBAL slave_parallel_threads = 0; START ALL SLAVES");
    }
  });
  Sql("replica", parallel->sql);
  EXPECT_EQ(Sql("replica", "SELECT @@GLOBAL.slave_parallel_threads"), "4");
  EXPECT_TRUE(WaitCaughtUp());
}

TEST_F(ReplicationIntegrationTest, PrimaryListsItsReplica) {
  // The monitoring account may not run SHOW REPLICA HOSTS (REPLICATION MASTER ADMIN): the
  // Binlog Dump thread of the replica's connection is the source.
  auto findings = RunStep(primary_.MonitorOptions());
  const Finding* replicas = Find(findings, "replication.replicas");
  ASSERT_NE(replicas, nullptr) << Codes(findings);
  EXPECT_EQ(replicas->severity, Severity::kInfo);
  EXPECT_EQ(replicas->title, "1 replica connected (source: processlist (Binlog Dump threads))");
  EXPECT_NE(replicas->detail.find("REPLICATION MASTER ADMIN"), std::string::npos)
      << replicas->detail;
  ASSERT_EQ(replicas->evidence.size(), 1u);
  EXPECT_EQ(Str(*replicas, "user"), "repl");
  EXPECT_EQ(Str(*replicas, "host").rfind("127.0.0.1:", 0), 0u) << Str(*replicas, "host");
  EXPECT_EQ(Str(*replicas, "command"), "Binlog Dump");
  // Not a replica itself.
  EXPECT_EQ(Find(findings, "replication.status"), nullptr) << Codes(findings);

  // An account that may (root) gets the registered replica: server id and port.
  findings = RunStep(primary_.RootOptions());
  replicas = Find(findings, "replication.replicas");
  ASSERT_NE(replicas, nullptr) << Codes(findings);
  EXPECT_EQ(replicas->title, "1 replica connected (source: SHOW REPLICA HOSTS)");
  EXPECT_EQ(Str(*replicas, "server_id"), std::to_string(replica_.server_id));
  EXPECT_EQ(Str(*replicas, "port"), std::to_string(replica_.port));
  EXPECT_EQ(Str(*replicas, "source_server_id"), std::to_string(primary_.server_id));
}

// Every read statement of the dialect runs on MariaDB 10.11 as the monitoring account (SHOW
// REPLICA HOSTS is refused, which the step degrades from).
TEST_F(ReplicationIntegrationTest, DialectReadsRunAsTheMonitoringAccount) {
  collect::TargetSession target = Open(replica_.MonitorOptions());
  const dialect::Dialect& d = target.dialect;
  auto status = ReplicaStatus();
  const std::string relay_file = status["Relay_Log_File"];
  ASSERT_FALSE(relay_file.empty());
  for (const std::string& sql :
       {dialect::ReplicationVariables(d), dialect::ApplierTransactions(d),
        dialect::TablesWithoutPrimaryKey(d, {}, 20),
        dialect::TablesWithoutPrimaryKey(d, {kSchema}, 20),
        dialect::VisibleTableCount(d, {kSchema}), dialect::BinlogDumpThreads(d),
        dialect::RelayLogEvents(d, "", relay_file, 4, 3), dialect::BinaryLogStatus(d)}) {
    auto result = target.session->Query(sql);
    EXPECT_TRUE(result) << sql << ": " << result.error().ToString();
  }
  auto variables = target.session->Query(dialect::ReplicationVariables(d));
  ASSERT_TRUE(variables);
  std::map<std::string, std::string> values;
  for (const auto& row : variables->rows) {
    values[row.at(0).StringOr("")] = row.at(1).StringOr("");
  }
  EXPECT_EQ(values["slave_parallel_threads"], "0");
  EXPECT_EQ(values["gtid_slave_pos"], Sql("replica", "SELECT @@GLOBAL.gtid_slave_pos"));
  auto hosts = target.session->Query(dialect::ReplicaHosts(d));
  ASSERT_FALSE(hosts);
  EXPECT_EQ(hosts.error().code, core::ErrorCode::kPrivilege) << hosts.error().ToString();
  EXPECT_TRUE(dialect::AuroraReplicaHostStatus(d).empty());
}

}  // namespace
}  // namespace dbrunbook::steps
