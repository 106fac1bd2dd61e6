// Unit tests of the locks step: the statement chosen per flavor, the findings built from
// lock-wait pairs, session statements and SHOW ENGINE INNODB STATUS, their severity rules,
// and how the step degrades.
//
// The server answers are what the sandbox MariaDB 10.11.19 returned for a real three-session
// chain (session 38 idle in a transaction holding row 1; 39 holding row 2 and waiting for row
// 1; 40 waiting for row 2) and a real deadlock, captured with the dialect's own statements;
// the MariaDB flavor comes from the captured variables. The end-to-end proof is
// locks_integration_test.cc against the sandbox.
#include "dialect/locks.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "report/findings.h"
#include "steps/investigate.h"
#include "steps/investigate_locks.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using dialect::Platform;
using dialect::Product;
using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";

const std::vector<std::string> kPairColumns = {
    "waiting_trx_id",     "waiting_id",           "waiting_user",
    "waiting_host",       "wait_seconds",         "waiting_query",
    "waiting_lock_mode",  "waiting_lock_type",    "locked_table",
    "locked_index",       "blocking_trx_id",      "blocking_id",
    "blocking_user",      "blocking_host",        "blocking_trx_seconds",
    "blocking_trx_state", "blocking_rows_locked", "blocking_rows_modified",
    "blocking_query",     "blocking_command",     "blocking_command_seconds",
    "blocking_lock_mode"};

using Row = std::vector<std::optional<std::string>>;

// The chain as the sandbox reported it (RowLockWaits on MariaDB 10.11.19).
mysql::ResultSet ChainPairs() {
  return mysql::MakeResultSet(kPairColumns,
                              {Row{"50",         "39",        "root",
                                   "localhost",  "2",         "UPDATE lk.t SET v=v+1 WHERE id=1",
                                   "X",          "RECORD",    "`lk`.`t`",
                                   "PRIMARY",    "49",        "38",
                                   "root",       "localhost", "2",
                                   "RUNNING",    "2",         "2",
                                   std::nullopt, "Sleep",     "1",
                                   "X"},
                               Row{"51",
                                   "40",
                                   "root",
                                   "localhost",
                                   "2",
                                   "UPDATE lk.t SET v=v+1 WHERE id=2",
                                   "X",
                                   "RECORD",
                                   "`lk`.`t`",
                                   "PRIMARY",
                                   "50",
                                   "39",
                                   "root",
                                   "localhost",
                                   "2",
                                   "LOCK WAIT",
                                   "2",
                                   "1",
                                   "UPDATE lk.t SET v=v+1 WHERE id=1",
                                   "Query",
                                   "2",
                                   "X"}});
}

// SessionStatements for connection 38 as the sandbox returned it.
mysql::ResultSet ChainRootStatements() {
  return mysql::MakeResultSet({"connection_id", "event_id", "sql_text", "finished", "source"},
                              {Row{"38", "1", "BEGIN", "1", "history"},
                               Row{"38", "2", "UPDATE lk.t SET v=v+1 WHERE id=2", "1", "history"},
                               Row{"38", "3", "UPDATE lk.t SET v=v+1 WHERE id=1", "1", "current"},
                               Row{"38", "3", "UPDATE lk.t SET v=v+1 WHERE id=1", "1", "history"}});
}

// The LATEST DETECTED DEADLOCK the sandbox printed (3 s before the output's header time).
constexpr std::string_view kDeadlockStatus = R"(=====================================
2026-11-26 17:47:42 0x7f89c00ae6c0 INNODB MONITOR OUTPUT
=====================================
------------------------
LATEST DETECTED DEADLOCK
------------------------
2026-11-26 17:47:39 0x7f89c00636c0
*** (1) TRANSACTION:
TRANSACTION 45, ACTIVE 2 sec starting index read
mysql tables in use 1, locked 1
LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 1
MariaDB thread id 29, OS thread handle 140229608879808, query id 156 localhost root Updating
UPDATE lk.t SET v=v+1 WHERE id=1
*** WAITING FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 5 page no 3 n bits 320 index PRIMARY of table `lk`.`t` trx id 45 lock_mode X locks rec but not gap waiting
*** CONFLICTING WITH:
RECORD LOCKS space id 5 page no 3 n bits 320 index PRIMARY of table `lk`.`t` trx id 46 lock_mode X locks rec but not gap

*** (2) TRANSACTION:
TRANSACTION 46, ACTIVE 1 sec starting index read
mysql tables in use 1, locked 1
LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s), undo log entries 1
MariaDB thread id 30, OS thread handle 140229246822080, query id 152 localhost root Updating
UPDATE lk.t SET v=v+1 WHERE id=2
*** WAITING FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 5 page no 3 n bits 320 index PRIMARY of table `lk`.`t` trx id 46 lock_mode X locks rec but not gap waiting
*** CONFLICTING WITH:
RECORD LOCKS space id 5 page no 3 n bits 320 index PRIMARY of table `lk`.`t` trx id 45 lock_mode X locks rec but not gap

*** WE ROLL BACK TRANSACTION (1)
------------
TRANSACTIONS
------------
Trx id counter 47
History list length 2
----------------------------
END OF INNODB MONITOR OUTPUT
============================
)";

constexpr std::string_view kIdleStatus = R"(=====================================
2026-11-26 17:47:42 0x7f89c00ae6c0 INNODB MONITOR OUTPUT
=====================================
------------
TRANSACTIONS
------------
Trx id counter 47
History list length 2
----------------------------
END OF INNODB MONITOR OUTPUT
============================
)";

mysql::ResultSet Status(std::string_view text) {
  return mysql::MakeResultSet({"Type", "Name", "Status"}, {Row{"InnoDB", "", std::string(text)}});
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

FakeSession::Matcher Has(std::string needle) {
  return [needle](std::string_view sql) { return Contains(sql, needle); };
}

dialect::Flavor MariaDbFlavor() {
  auto text = testing::ReadSourceFile(kMariaDbVariables);
  EXPECT_TRUE(text);
  dialect::Flavor flavor = dialect::DetectFlavor(testing::ParseVariables(text.value_or("")));
  EXPECT_TRUE(flavor.detected());
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  return flavor;
}

dialect::Flavor MakeFlavor(Product product, dialect::Version version,
                           Platform platform = Platform::kSelfManaged,
                           std::optional<bool> performance_schema = true) {
  dialect::Flavor f;
  f.product = product;
  f.version = version;
  f.platform = platform;
  f.capabilities.performance_schema = performance_schema;
  if (platform == Platform::kAurora) f.aurora_version = version.major == 8 ? "3.04.0" : "2.11.1";
  return f;
}

const Finding* FindCode(const std::vector<Finding>& findings, std::string_view code) {
  for (const auto& f : findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

size_t CountCode(const std::vector<Finding>& findings, std::string_view code) {
  size_t n = 0;
  for (const auto& f : findings) n += f.code == code ? 1 : 0;
  return n;
}

std::optional<int64_t> Int(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  if (v == nullptr || !std::holds_alternative<int64_t>(*v)) return std::nullopt;
  return std::get<int64_t>(*v);
}

std::string Str(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  if (v == nullptr || !std::holds_alternative<std::string>(*v)) return {};
  return std::get<std::string>(*v);
}

std::optional<bool> Bool(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  if (v == nullptr || !std::holds_alternative<bool>(*v)) return std::nullopt;
  return std::get<bool>(*v);
}

class LocksStepTest : public ::testing::Test {
 protected:
  FakeSession& Target(const dialect::Flavor& flavor) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    target_.emplace(collect::TargetSession{std::move(fake), dialect::Dialect(flavor), {}, {}, {}});
    return *fake_;
  }

  core::Result<std::vector<Finding>> Run() {
    StepContext context{*target_, clock_, options_, clock_.MonotonicNow() + options_.step_budget};
    return step_.Run(context);
  }

  LocksStep step_;
  core::SimulatedClock clock_;
  InvestigateOptions options_;
  FakeSession* fake_ = nullptr;
  std::optional<collect::TargetSession> target_;
};

TEST_F(LocksStepTest, MariaDbChainRootIsTheIdleSession) {
  Target(MariaDbFlavor())
      .OnMatch("row lock waits", Has("FROM information_schema.INNODB_LOCK_WAITS"), ChainPairs())
      .OnMatch("session statements", Has("events_statements_current"), ChainRootStatements())
      .On("SHOW ENGINE INNODB STATUS", Status(kDeadlockStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();

  // Three statements: the pairs, the root's statements (connection 38 only), the status.
  ASSERT_EQ(fake_->statements().size(), 3u);
  EXPECT_TRUE(Contains(fake_->statements()[0], "INNODB_LOCK_WAITS"));
  EXPECT_TRUE(Contains(fake_->statements()[1], "IN (38)"));
  EXPECT_EQ(fake_->statements()[2], "SHOW ENGINE INNODB STATUS");

  ASSERT_EQ(CountCode(*findings, "lock.root_blocker"), 1u);
  const Finding& root = *FindCode(*findings, "lock.root_blocker");
  EXPECT_EQ(root.severity, Severity::kCritical);  // idle in transaction
  EXPECT_TRUE(Contains(root.title, "connection 38 (root@localhost)")) << root.title;
  EXPECT_TRUE(Contains(root.title, "2 sessions (1 directly)")) << root.title;
  EXPECT_TRUE(Contains(root.title, "idle in an open transaction")) << root.title;
  EXPECT_TRUE(Contains(root.detail, "BEGIN; UPDATE lk.t SET v=v+1 WHERE id=2")) << root.detail;
  ASSERT_EQ(root.evidence.size(), 3u);
  const EvidenceRow& r = root.evidence[0];
  EXPECT_EQ(Str(r, "role"), "root");
  EXPECT_EQ(Int(r, "connection_id"), 38);
  EXPECT_EQ(Bool(r, "idle"), true);
  EXPECT_EQ(Int(r, "blocks_total"), 2);
  EXPECT_EQ(Int(r, "blocks_directly"), 1);
  EXPECT_EQ(Int(r, "rows_modified"), 2);
  EXPECT_EQ(Str(r, "statement"), "UPDATE lk.t SET v=v+1 WHERE id=1");
  EXPECT_TRUE(Contains(Str(r, "statement_source"), "events_statements_current"));
  EXPECT_EQ(Str(root.evidence[1], "role"), "waiter");
  EXPECT_EQ(Int(root.evidence[1], "connection_id"), 39);
  EXPECT_EQ(Int(root.evidence[1], "depth"), 1);
  EXPECT_EQ(Str(root.evidence[1], "blocked_by"), "38");
  EXPECT_EQ(Str(root.evidence[1], "locked_table"), "`lk`.`t`");
  EXPECT_EQ(Str(root.evidence[1], "locked_index"), "PRIMARY");
  EXPECT_EQ(Str(root.evidence[1], "lock_mode"), "X");
  EXPECT_EQ(Int(root.evidence[2], "connection_id"), 40);
  EXPECT_EQ(Int(root.evidence[2], "depth"), 2);
  EXPECT_EQ(Str(root.evidence[2], "blocked_by"), "39");
  EXPECT_EQ(Str(root.evidence[2], "statement"), "UPDATE lk.t SET v=v+1 WHERE id=2");
  ASSERT_EQ(root.suggestions.size(), 3u);
  EXPECT_TRUE(Contains(root.suggestions[2].text, "kill-queries TARGET --root-blockers"));
  EXPECT_EQ(root.suggestions[0].sql, "KILL CONNECTION 38");
  EXPECT_TRUE(Contains(root.suggestions[1].text, "find the application"));
  EXPECT_TRUE(Contains(root.suggestions[1].text, "root@localhost"));

  const Finding* waits = FindCode(*findings, "lock.waits");
  ASSERT_NE(waits, nullptr);
  EXPECT_EQ(waits->severity, Severity::kInfo);
  ASSERT_EQ(waits->evidence.size(), 2u);
  EXPECT_EQ(Int(waits->evidence[0], "waiting_id"), 39);
  EXPECT_EQ(Int(waits->evidence[0], "blocking_id"), 38);
  EXPECT_EQ(Bool(waits->evidence[0], "blocking_idle"), true);

  const Finding* deadlock = FindCode(*findings, "lock.deadlock");
  ASSERT_NE(deadlock, nullptr);
  EXPECT_EQ(deadlock->severity, Severity::kWarning);  // 3 s before the output
  EXPECT_TRUE(Contains(deadlock->title, "2026-11-26 17:47:39")) << deadlock->title;
  EXPECT_TRUE(Contains(deadlock->title, "InnoDB rolled back connection 29")) << deadlock->title;
  ASSERT_EQ(deadlock->evidence.size(), 2u);
  EXPECT_EQ(Int(deadlock->evidence[0], "connection_id"), 29);
  EXPECT_EQ(Bool(deadlock->evidence[0], "rolled_back"), true);
  EXPECT_EQ(Bool(deadlock->evidence[1], "rolled_back"), false);
  EXPECT_EQ(Str(deadlock->evidence[1], "statement"), "UPDATE lk.t SET v=v+1 WHERE id=2");
  EXPECT_EQ(Str(deadlock->evidence[0], "holds"), "X rec but not gap on `lk`.`t` index PRIMARY");
  EXPECT_EQ(Str(deadlock->evidence[0], "waits_for"), "X rec but not gap on `lk`.`t` index PRIMARY");
  for (const auto& s : deadlock->suggestions) EXPECT_TRUE(s.sql.empty());
  EXPECT_EQ(FindCode(*findings, "check.partial"), nullptr);
}

TEST_F(LocksStepTest, NothingToReport) {
  Target(MariaDbFlavor())
      .OnMatch("row lock waits", Has("INNODB_LOCK_WAITS"), mysql::MakeResultSet(kPairColumns, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_TRUE(findings->empty());
  EXPECT_EQ(fake_->statements().size(), 2u);  // no session statements without roots
}

// One pair: waiter 7 waits `wait` seconds for root 5, which is running `statement`.
mysql::ResultSet OnePair(const std::string& wait, std::optional<std::string> root_statement,
                         const std::string& root_command, const std::string& root_id = "5") {
  return mysql::MakeResultSet(kPairColumns, {Row{"71",
                                                 "7",
                                                 "app",
                                                 "10.0.0.7:5500",
                                                 wait,
                                                 "UPDATE orders SET x=1",
                                                 "X,REC_NOT_GAP",
                                                 "RECORD",
                                                 "`shop`.`orders`",
                                                 "PRIMARY",
                                                 "51",
                                                 root_id,
                                                 "batch",
                                                 "10.0.0.5:4400",
                                                 "40",
                                                 "RUNNING",
                                                 "10",
                                                 "10",
                                                 root_statement,
                                                 root_command,
                                                 "3",
                                                 "X,REC_NOT_GAP"}});
}

TEST_F(LocksStepTest, RunningRootWithOneShortWaitIsAWarning) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"),
               OnePair("5", std::string("UPDATE orders SET y=2 WHERE id < 100"), "Query"))
      .OnMatch(
          "statements", Has("events_statements"),
          mysql::MakeResultSet({"connection_id", "event_id", "sql_text", "finished", "source"}, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* root = FindCode(*findings, "lock.root_blocker");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->severity, Severity::kWarning);
  EXPECT_TRUE(Contains(root->title, "connection 5 (batch@10.0.0.5:4400)")) << root->title;
  EXPECT_TRUE(Contains(root->title, "running: UPDATE orders SET y=2")) << root->title;
  EXPECT_EQ(Bool(root->evidence[0], "idle"), false);
  EXPECT_EQ(Str(root->evidence[0], "statement_source"), "running now");
  EXPECT_EQ(Str(root->evidence[0], "lock_mode"), "X,REC_NOT_GAP");
  ASSERT_EQ(root->suggestions.size(), 3u);
  EXPECT_TRUE(Contains(root->suggestions[2].text, "--root-blockers"));
  EXPECT_EQ(root->suggestions[0].sql, "KILL CONNECTION 5");
  EXPECT_TRUE(Contains(root->suggestions[1].text, "KILL QUERY"));
}

TEST_F(LocksStepTest, LongWaitMakesTheRootCritical) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), OnePair("31", std::string("SELECT 1"), "Query"))
      .OnMatch(
          "statements", Has("events_statements"),
          mysql::MakeResultSet({"connection_id", "event_id", "sql_text", "finished", "source"}, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings);
  EXPECT_EQ(FindCode(*findings, "lock.root_blocker")->severity, Severity::kCritical);
}

TEST_F(LocksStepTest, ThreeBlockedSessionsMakeTheRootCritical) {
  auto pairs = mysql::MakeResultSet(
      kPairColumns,
      {Row{"71", "7", "a", "h", "1",       "q", "X", "RECORD",   "`d`.`t`", "PRIMARY", "51",
           "5",  "b", "h", "9", "RUNNING", "1", "1", "SELECT 1", "Query",   "1",       "X"},
       Row{"81", "8", "a", "h", "1",       "q", "X", "RECORD",   "`d`.`t`", "PRIMARY", "51",
           "5",  "b", "h", "9", "RUNNING", "1", "1", "SELECT 1", "Query",   "1",       "X"},
       Row{"91", "9", "a", "h", "1",         "q", "X", "RECORD", "`d`.`t`", "PRIMARY", "71",
           "7",  "a", "h", "9", "LOCK WAIT", "1", "1", "q",      "Query",   "1",       "X"}});
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), pairs)
      .OnMatch(
          "statements", Has("events_statements"),
          mysql::MakeResultSet({"connection_id", "event_id", "sql_text", "finished", "source"}, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings);
  const Finding* root = FindCode(*findings, "lock.root_blocker");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->severity, Severity::kCritical);
  EXPECT_EQ(Int(root->evidence[0], "blocks_total"), 3);
  EXPECT_EQ(Int(root->evidence[0], "blocks_directly"), 2);
}

TEST_F(LocksStepTest, IdleRootWithoutStatementHistoryFallsBackToProcesslist) {
  // performance_schema OFF: no statement events; the root is idle, its last statement unknown.
  dialect::Flavor flavor = MariaDbFlavor();
  flavor.capabilities.performance_schema = false;
  Target(flavor)
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), OnePair("2", std::nullopt, "Sleep"))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(fake_->statements().size(), 2u);
  const Finding* root = FindCode(*findings, "lock.root_blocker");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->severity, Severity::kCritical);
  EXPECT_EQ(root->evidence[0].Find("statement")->index(), 0u);  // null
  EXPECT_TRUE(Contains(Str(root->evidence[0], "statement_source"), "processlist"));
  EXPECT_TRUE(Contains(Str(root->evidence[0], "statement_source"), "performance_schema is OFF"));
}

TEST_F(LocksStepTest, WaitCycleIsCritical) {
  auto pairs = mysql::MakeResultSet(kPairColumns, {Row{"71",
                                                       "7",
                                                       "a",
                                                       "h",
                                                       "40",
                                                       "UPDATE t SET v=1 WHERE id=2",
                                                       "X",
                                                       "RECORD",
                                                       "`d`.`t`",
                                                       "PRIMARY",
                                                       "81",
                                                       "8",
                                                       "b",
                                                       "h",
                                                       "45",
                                                       "LOCK WAIT",
                                                       "3",
                                                       "1",
                                                       "UPDATE t SET v=1 WHERE id=1",
                                                       "Query",
                                                       "40",
                                                       "X"},
                                                   Row{"81",
                                                       "8",
                                                       "b",
                                                       "h",
                                                       "41",
                                                       "UPDATE t SET v=1 WHERE id=1",
                                                       "X",
                                                       "RECORD",
                                                       "`d`.`t`",
                                                       "PRIMARY",
                                                       "71",
                                                       "7",
                                                       "a",
                                                       "h",
                                                       "44",
                                                       "LOCK WAIT",
                                                       "2",
                                                       "5",
                                                       "UPDATE t SET v=1 WHERE id=2",
                                                       "Query",
                                                       "41",
                                                       "X"}});
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), pairs)
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(FindCode(*findings, "lock.root_blocker"), nullptr);
  const Finding* cycle = FindCode(*findings, "lock.wait_cycle");
  ASSERT_NE(cycle, nullptr);
  EXPECT_EQ(cycle->severity, Severity::kCritical);
  EXPECT_TRUE(Contains(cycle->title, "connection 7 (a@h), connection 8 (b@h) wait for each other"))
      << cycle->title;
  ASSERT_EQ(cycle->evidence.size(), 2u);
  ASSERT_EQ(cycle->suggestions.size(), 1u);
  EXPECT_EQ(cycle->suggestions[0].sql, "KILL CONNECTION 8");  // 1 row modified, fewer than 7's 5
}

TEST_F(LocksStepTest, BlockerWithoutSessionSuggestsXaRecover) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), OnePair("3", std::nullopt, "", "0"))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* root = FindCode(*findings, "lock.root_blocker");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(Contains(root->title, "transaction 51 (no session)")) << root->title;
  ASSERT_EQ(root->suggestions.size(), 1u);
  EXPECT_EQ(root->suggestions[0].sql, "XA RECOVER");
}

TEST_F(LocksStepTest, MySql80ReadsPerformanceSchemaAndRdsKillsWithRdsKill) {
  Target(MakeFlavor(Product::kMySQL, {8, 0, 35}, Platform::kRds))
      .OnMatch("pairs", Has("FROM performance_schema.data_lock_waits"), ChainPairs())
      .OnMatch("statements", Has("events_statements_history"), ChainRootStatements())
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* root = FindCode(*findings, "lock.root_blocker");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->suggestions[0].sql, "CALL mysql.rds_kill(38)");
}

TEST_F(LocksStepTest, AuroraV3WithoutPerformanceSchemaKnowsWaitersButNotBlockers) {
  Target(MakeFlavor(Product::kMySQL, {8, 0, 28}, Platform::kAurora, false))
      .OnMatch("waiting transactions", Has("trx_state = 'LOCK WAIT'"),
               mysql::MakeResultSet({"waiting_trx_id", "waiting_id", "waiting_user", "waiting_host",
                                     "wait_seconds", "waiting_query"},
                                    {Row{"1688153", "4244", "reinvent", "172.31.14.179", "24",
                                         "select id1 from test.t1 where id1=1 for update"}}))
      .On("SHOW ENGINE INNODB STATUS", Status(kIdleStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(fake_->statements().size(), 2u);
  const Finding* waits = FindCode(*findings, "lock.waits");
  ASSERT_NE(waits, nullptr);
  EXPECT_TRUE(Contains(waits->title, "blockers unknown")) << waits->title;
  EXPECT_EQ(Int(waits->evidence[0], "waiting_id"), 4244);
  const Finding* partial = FindCode(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_EQ(partial->severity, Severity::kInfo);
  EXPECT_TRUE(Contains(partial->title, "performance_schema is OFF")) << partial->title;
}

TEST_F(LocksStepTest, MissingPrivilegeRefusesTheStep) {
  Target(MakeFlavor(Product::kMySQL, {8, 0, 35}))
      .OnMatch("pairs", Has("data_lock_waits"),
               FakeSession::ServerError(core::ErrorCode::kPrivilege, 1142, "42000",
                                        "SELECT command denied to user 'm'@'%' for table "
                                        "'data_lock_waits'"));
  auto findings = Run();
  ASSERT_FALSE(findings);
  EXPECT_EQ(findings.error().code, core::ErrorCode::kPrivilege);
  EXPECT_EQ(step_.RequiredGrant(MakeFlavor(Product::kMySQL, {8, 0, 35}), "'m'@'%'"),
            "GRANT PROCESS ON *.* TO 'm'@'%'; GRANT SELECT ON performance_schema.* TO 'm'@'%'");
  EXPECT_EQ(step_.RequiredGrant(MariaDbFlavor(), "'m'@'%'"), "GRANT PROCESS ON *.* TO 'm'@'%'");
  EXPECT_EQ(step_.RequiredGrant(MakeFlavor(Product::kMySQL, {5, 7, 44}), "'m'@'%'"),
            "GRANT PROCESS ON *.* TO 'm'@'%'");
}

TEST_F(LocksStepTest, RefusedStatusKeepsTheWaitFindings) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), ChainPairs())
      .OnMatch("statements", Has("events_statements"), ChainRootStatements())
      .On("SHOW ENGINE INNODB STATUS",
          FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                   "Access denied; you need (at least one of) the PROCESS "
                                   "privilege(s) for this operation"));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_NE(FindCode(*findings, "lock.root_blocker"), nullptr);
  const Finding* partial = FindCode(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_TRUE(Contains(partial->title, "the latest deadlock not checked")) << partial->title;
  ASSERT_EQ(partial->suggestions.size(), 1u);
  EXPECT_TRUE(Contains(partial->suggestions[0].text, "PROCESS"));
}

TEST_F(LocksStepTest, FailedWaitsKeepTheDeadlock) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"),
               FakeSession::ServerError(core::ErrorCode::kTimeout, 1969, "70100",
                                        "Query execution was interrupted (max_statement_time "
                                        "exceeded)"))
      .On("SHOW ENGINE INNODB STATUS", Status(kDeadlockStatus));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_NE(FindCode(*findings, "lock.deadlock"), nullptr);
  const Finding* partial = FindCode(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_TRUE(Contains(partial->title, "row-lock waits not checked")) << partial->title;
}

TEST_F(LocksStepTest, BothFailingIsAnError) {
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"),
               FakeSession::ServerError(core::ErrorCode::kUnavailable, 2013, "HY000",
                                        "Lost connection to server during query"))
      .On("SHOW ENGINE INNODB STATUS",
          FakeSession::ServerError(core::ErrorCode::kUnavailable, 2006, "HY000", "gone away"));
  auto findings = Run();
  ASSERT_FALSE(findings);
  EXPECT_EQ(findings.error().server_errno, 2013);
}

TEST_F(LocksStepTest, OldDeadlockIsInfo) {
  auto text = testing::ReadSharedFile(
      "conformance/server-outputs/innodb-status/"
      "innodb-status--mysql-5.5-or-earlier--innotop-007.txt");
  ASSERT_TRUE(text);
  Target(MakeFlavor(Product::kMySQL, {5, 5, 30}, Platform::kSelfManaged, false))
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), mysql::MakeResultSet(kPairColumns, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(*text));
  auto findings = Run();
  ASSERT_TRUE(findings) << findings.error().ToString();
  ASSERT_EQ(findings->size(), 1u);
  const Finding& f = (*findings)[0];
  EXPECT_EQ(f.code, "lock.deadlock");
  EXPECT_EQ(f.severity, Severity::kInfo);  // 11 h 19 min before the output
  EXPECT_TRUE(Contains(f.title, "2012-09-06 06:03:32")) << f.title;
  EXPECT_TRUE(Contains(f.title, "InnoDB rolled back connection 384855 (robot@10.8.0.86)"))
      << f.title;
  EXPECT_EQ(Str(f.evidence[0], "statement"), "replace into foo values(1)");
  EXPECT_EQ(Int(f.evidence[1], "connection_id"), 383438);
}

TEST_F(LocksStepTest, DeadlockWithoutHeaderTimeIsInfo) {
  auto text = testing::ReadSharedFile(
      "conformance/server-outputs/innodb-status/innodb-status--mariadb-10.x--mariadb-docs-"
      "deadlock.txt");
  ASSERT_TRUE(text);
  Target(MariaDbFlavor())
      .OnMatch("pairs", Has("INNODB_LOCK_WAITS"), mysql::MakeResultSet(kPairColumns, {}))
      .On("SHOW ENGINE INNODB STATUS", Status(*text));
  auto findings = Run();
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ((*findings)[0].severity, Severity::kInfo);
  EXPECT_TRUE(Contains((*findings)[0].title, "InnoDB rolled back connection 39"));
}

TEST_F(LocksStepTest, JsonKeepsEvidenceTypes) {
  Target(MariaDbFlavor())
      .OnMatch("row lock waits", Has("INNODB_LOCK_WAITS"), ChainPairs())
      .OnMatch("session statements", Has("events_statements_current"), ChainRootStatements())
      .On("SHOW ENGINE INNODB STATUS", Status(kDeadlockStatus))
      .On(dialect::Dialect::CurrentAccount(),
          mysql::MakeResultSet({"account"}, {Row{"monitor@%"}}));
  options_.only = {"locks"};
  const auto steps = MakeInvestigationSteps();
  const Investigation inv = RunInvestigation(*target_, clock_, options_, steps);
  const nlohmann::json json = report::InvestigationJson(inv);
  EXPECT_EQ(json["exit_code"], 2);
  bool seen = false;
  for (const auto& f : json["findings"]) {
    if (f["code"] != "lock.root_blocker") continue;
    seen = true;
    EXPECT_EQ(f["severity"], "critical");
    EXPECT_EQ(f["evidence"][0]["connection_id"], 38);
    EXPECT_EQ(f["evidence"][0]["idle"], true);
    EXPECT_TRUE(f["evidence"][0]["wait_seconds"].is_null());
    EXPECT_EQ(f["evidence"][2]["depth"], 2);
    EXPECT_EQ(f["suggestions"][0]["sql"], "KILL CONNECTION 38");
    EXPECT_EQ(f["step"], "investigate.locks");
  }
  EXPECT_TRUE(seen) << json.dump(2);
}

// --- statements per flavor -------------------------------------------------------------------

TEST(LocksDialectTest, RowLockWaitSourcePerFlavor) {
  const std::vector<std::pair<dialect::Flavor, std::string>> cases = {
      {MakeFlavor(Product::kMySQL, {8, 0, 36}), "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kMySQL, {8, 4, 2}), "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kMySQL, {9, 2, 0}), "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kPerconaServer, {8, 0, 32}), "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kMySQL, {8, 0, 28}, Platform::kAurora),
       "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kMySQL, {8, 0, 35}, Platform::kRds),
       "performance_schema.data_lock_waits"},
      {MakeFlavor(Product::kMySQL, {5, 7, 44}), "information_schema.INNODB_LOCK_WAITS"},
      {MakeFlavor(Product::kMySQL, {5, 7, 12}, Platform::kAurora),
       "information_schema.INNODB_LOCK_WAITS"},
      {MakeFlavor(Product::kMySQL, {5, 6, 51}), "information_schema.INNODB_LOCK_WAITS"},
      {MakeFlavor(Product::kMariaDB, {10, 11, 19}), "information_schema.INNODB_LOCK_WAITS"},
      {MakeFlavor(Product::kMariaDB, {11, 4, 5}), "information_schema.INNODB_LOCK_WAITS"},
      {MakeFlavor(Product::kMariaDB, {10, 6, 12}, Platform::kRds),
       "information_schema.INNODB_LOCK_WAITS"},
  };
  for (const auto& [flavor, source] : cases) {
    const dialect::Dialect d(flavor);
    const std::string sql = dialect::RowLockWaits(d, 500);
    SCOPED_TRACE(flavor.Id());
    EXPECT_TRUE(Contains(sql, source)) << sql;
    EXPECT_TRUE(Contains(sql, "LIMIT 500"));
    for (std::string_view alias :
         {"`waiting_trx_id`", "`waiting_id`", "`wait_seconds`", "`waiting_query`", "`locked_table`",
          "`locked_index`", "`waiting_lock_mode`", "`blocking_trx_id`", "`blocking_id`",
          "`blocking_query`", "`blocking_command`", "`blocking_rows_modified`",
          "`blocking_command_seconds`", "`blocking_lock_mode`"}) {
      EXPECT_TRUE(Contains(sql, alias)) << alias;
    }
  }
  // MySQL 8.0 with performance_schema OFF: no pair source; waiters only.
  const dialect::Dialect off(
      MakeFlavor(Product::kMySQL, {8, 0, 36}, Platform::kSelfManaged, false));
  EXPECT_EQ(dialect::RowLockWaits(off, 10), "");
  EXPECT_TRUE(Contains(dialect::LockWaitingTransactions(off, 10), "trx_state = 'LOCK WAIT'"));
  EXPECT_TRUE(
      Contains(dialect::RowLockWaits(dialect::Dialect(MakeFlavor(Product::kMySQL, {5, 7, 1})), 0),
               "LIMIT 1"));
}

TEST(LocksDialectTest, SessionStatementsNeedPerformanceSchema) {
  const dialect::Dialect maria(MakeFlavor(Product::kMariaDB, {10, 11, 19}));
  const std::string sql = dialect::SessionStatements(maria, {38, 41});
  EXPECT_TRUE(Contains(sql, "IN (38, 41)")) << sql;
  EXPECT_TRUE(Contains(sql, "events_statements_current"));
  EXPECT_TRUE(Contains(sql, "events_statements_history"));
  EXPECT_TRUE(Contains(sql, "c.NAME = 'events_statements_history' AND c.ENABLED = 'YES'"));
  EXPECT_EQ(dialect::SessionStatements(maria, {}), "");
  EXPECT_EQ(
      dialect::SessionStatements(dialect::Dialect(MakeFlavor(Product::kMySQL, {8, 0, 36},
                                                             Platform::kSelfManaged, std::nullopt)),
                                 {1}),
      "");
  EXPECT_EQ(dialect::SessionStatements(dialect::Dialect(MakeFlavor(Product::kMySQL, {8, 0, 36},
                                                                   Platform::kSelfManaged, false)),
                                       {1}),
            "");
  EXPECT_EQ(
      dialect::SessionStatements(dialect::Dialect(MakeFlavor(Product::kMySQL, {5, 5, 62})), {1}),
      "");
  EXPECT_NE(
      dialect::SessionStatements(dialect::Dialect(MakeFlavor(Product::kMySQL, {5, 6, 51})), {1}),
      "");
  EXPECT_EQ(dialect::InnodbStatus(maria), "SHOW ENGINE INNODB STATUS");
}

}  // namespace
}  // namespace dbrunbook::steps
