// Unit tests of the "mdl" step: the statements chosen per flavor, the lock-compatibility
// matrices, the statement-text helpers, the pile-up analysis, and the whole step over a fake
// session replaying real server output.
//
// Recordings used:
//   tests/steps/data/mdl--mariadb-10.11.19--*: the step's own statements run as the sandbox's
//     monitor account on MariaDB 10.11.19 (Debian 12) while three scenarios were held open by
//     root sessions (mysql -B output):
//       classic      BEGIN; SELECT * FROM t (idle) <- ALTER TABLE mdlx.t ADD COLUMN c1 INT
//                    <- SELECT v FROM t ..., UPDATE t ..., SELECT COUNT(*) FROM mdlx.t
//       ftwrl        FLUSH TABLES WITH READ LOCK (idle) <- INSERT INTO t ..., ALTER TABLE t ...
//       lock_tables  LOCK TABLES t WRITE (idle) <- SELECT * FROM t
//     SHOW OPEN TABLES WHERE In_use > 0 returned nothing for the monitor account in all three
//     (it lists only tables the account has a privilege on); classic-show_open_tables-root is
//     the same statement as root.
//   ../shared/conformance/server-outputs/lock-waits: MariaDB's METADATA_LOCK_INFO examples
//     (docs) and sys.schema_table_lock_waits from MySQL 5.7 (mysql-sys README) and Aurora 2.09
//     (AWS guide): the blocking_pid sys reports must be the root the analysis names.
#include "dialect/mdl.h"

#include <gtest/gtest.h>

#include "steps/investigate.h"
#include "steps/investigate_mdl.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using mdl::Analysis;
using mdl::Confidence;
using mdl::Lock;
using mdl::Session;
using mdl::Snapshot;
using mdl::Source;
using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kPerconaVariables =
    "conformance/server-outputs/variables/"
    "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kLockWaits = "conformance/server-outputs/lock-waits/";

mysql::ResultSet Recorded(const std::string& relative, bool shared = false) {
  auto text = shared ? testing::ReadSharedFile(relative) : testing::ReadSourceFile(relative);
  EXPECT_TRUE(text) << text.error().ToString();
  if (!text) return {};
  auto results = testing::ParseRecordedOutput(*text);
  EXPECT_FALSE(results.empty()) << relative;
  return results.empty() ? mysql::ResultSet{} : results.front();
}

mysql::ResultSet Capture(const std::string& scenario, const std::string& statement) {
  return Recorded("tests/steps/data/mdl--mariadb-10.11.19--" + scenario + "-" + statement + ".txt");
}

dialect::Flavor MariaDb(bool performance_schema, std::optional<bool> mdl_instrument) {
  auto text = testing::ReadSourceFile(kMariaDbVariables);
  EXPECT_TRUE(text);
  dialect::Flavor flavor = dialect::DetectFlavor(testing::ParseVariables(text ? *text : ""));
  flavor.capabilities.performance_schema = performance_schema;
  flavor.capabilities.mdl_instrument = mdl_instrument;
  return flavor;
}

dialect::Flavor Flavor(dialect::Product product, dialect::Version version,
                       std::optional<bool> performance_schema = true,
                       std::optional<bool> mdl_instrument = true,
                       dialect::Platform platform = dialect::Platform::kSelfManaged) {
  dialect::Flavor f;
  f.product = product;
  f.platform = platform;
  f.version = version;
  f.version_string = version.ToString();
  f.capabilities.performance_schema = performance_schema;
  f.capabilities.mdl_instrument = mdl_instrument;
  return f;
}

Lock L(uint64_t id, std::string object_type, std::string schema, std::string name, std::string type,
       bool granted) {
  Lock l;
  l.connection_id = id;
  l.object_type = std::move(object_type);
  l.schema = std::move(schema);
  l.name = std::move(name);
  l.lock_type = std::move(type);
  l.granted = granted;
  return l;
}

Lock Table(uint64_t id, std::string type, bool granted, std::string name = "t") {
  return L(id, "TABLE", "shop", std::move(name), std::move(type), granted);
}

Session S(uint64_t id, std::string command, double time, std::optional<std::string> statement,
          std::optional<double> trx = std::nullopt, std::string state = "") {
  Session s;
  s.id = id;
  s.user = "app";
  s.host = "10.0.0.9";
  s.db = "shop";
  s.command = std::move(command);
  s.state = std::move(state);
  s.time_seconds = time;
  s.statement = std::move(statement);
  s.trx_seconds = trx;
  return s;
}

Session Waiter(uint64_t id, double time, std::string statement,
               std::string state = "Waiting for table metadata lock") {
  return S(id, "Query", time, std::move(statement), std::nullopt, std::move(state));
}

void Add(Snapshot& snapshot, Session s, bool waiter = false) {
  if (waiter) snapshot.waiters.push_back(s.id);
  snapshot.sessions[s.id] = std::move(s);
}

// The classic case with exact locks: 10 idle in a transaction that read shop.t, 20's ALTER
// holds SU and waits for X, 30/31/32 queue behind it.
Snapshot Classic() {
  Snapshot s;
  s.source = Source::kPerformanceSchema;
  Add(s, S(10, "Sleep", 300, std::nullopt, 310.0));
  Add(s, Waiter(20, 40, "ALTER TABLE shop.t ADD COLUMN c INT"), true);
  Add(s, Waiter(30, 35, "SELECT * FROM t WHERE id = 1"), true);
  Add(s, Waiter(31, 20, "UPDATE t SET v = 2"), true);
  Add(s, Waiter(32, 5, "SELECT COUNT(*) FROM shop.t"), true);
  s.locks = {Table(10, "SHARED_READ", true),   Table(20, "SHARED_UPGRADABLE", true),
             Table(20, "EXCLUSIVE", false),    Table(30, "SHARED_READ", false),
             Table(31, "SHARED_WRITE", false), Table(32, "SHARED_READ", false)};
  return s;
}

// --- the statements per flavor --------------------------------------------------------------

TEST(MdlDialectTest, MariaDbReadsTheProcesslistWithMillisecondsAndBothLockTables) {
  const dialect::Dialect d(MariaDb(true, true));
  const std::string waiters = dialect::MetadataLockWaiters(d, 500);
  EXPECT_NE(waiters.find("FROM information_schema.PROCESSLIST"), std::string::npos);
  EXPECT_NE(waiters.find("ROUND(TIME_MS / 1000, 3) AS `time_seconds`"), std::string::npos);
  EXPECT_NE(waiters.find("STATE LIKE 'Waiting for %metadata lock'"), std::string::npos);
  EXPECT_NE(waiters.find("'Waiting for backup lock'"), std::string::npos);
  EXPECT_NE(waiters.find("ID <> CONNECTION_ID()"), std::string::npos);
  EXPECT_NE(waiters.find("LIMIT 500"), std::string::npos);
  EXPECT_TRUE(dialect::HasMetadataLocksTable(d.flavor()));
  const std::string locks = dialect::MetadataLocks(d, 100);
  EXPECT_NE(locks.find("FROM performance_schema.metadata_locks m"), std::string::npos);
  EXPECT_NE(locks.find("JOIN performance_schema.threads t"), std::string::npos);
  EXPECT_NE(locks.find("WHERE LOCK_STATUS = 'PENDING'"), std::string::npos);
  EXPECT_NE(locks.find("information_schema.INNODB_TRX"), std::string::npos);
  const std::string info = dialect::MetadataLockInfo(d, 100);
  EXPECT_NE(info.find("FROM information_schema.METADATA_LOCK_INFO m"), std::string::npos);
  EXPECT_NE(info.find("m.LOCK_TYPE <> 'User lock'"), std::string::npos);
  EXPECT_EQ(info.find("LOCK_DURATION"), std::string::npos);  // NULL on release builds
  EXPECT_NE(dialect::TableHandlesInUse(d, 10).find("performance_schema.table_handles"),
            std::string::npos);
  EXPECT_EQ(dialect::OpenTablesInUse(d), "SHOW OPEN TABLES WHERE In_use > 0");
}

TEST(MdlDialectTest, LockTablesOnlyWhereTheyExistAndAreFilled) {
  using dialect::Product;
  // MariaDB 10.11 with the instrument off (its default), or not probed.
  EXPECT_FALSE(dialect::HasMetadataLocksTable(MariaDb(true, false)));
  EXPECT_FALSE(dialect::HasMetadataLocksTable(MariaDb(true, std::nullopt)));
  EXPECT_FALSE(dialect::HasMetadataLocksTable(MariaDb(false, true)));
  EXPECT_EQ(dialect::MetadataLocks(dialect::Dialect(MariaDb(true, false)), 10), "");
  // MariaDB before 10.5.2 has neither metadata_locks nor table_handles.
  const auto maria104 = Flavor(Product::kMariaDB, {10, 4, 30});
  EXPECT_FALSE(dialect::HasMetadataLocksTable(maria104));
  EXPECT_EQ(dialect::TableHandlesInUse(dialect::Dialect(maria104), 10), "");
  EXPECT_TRUE(dialect::MayHaveMetadataLockInfo(maria104));
  EXPECT_TRUE(dialect::HasMetadataLocksTable(Flavor(Product::kMariaDB, {10, 5, 2})));
  EXPECT_FALSE(dialect::MayHaveMetadataLockInfo(Flavor(Product::kMariaDB, {10, 0, 6})));
  // MySQL family: 5.7.3+, but 5.7 leaves the instrument off by default.
  EXPECT_TRUE(dialect::HasMetadataLocksTable(Flavor(Product::kMySQL, {5, 7, 3})));
  EXPECT_FALSE(dialect::HasMetadataLocksTable(Flavor(Product::kMySQL, {5, 7, 44}, true, false)));
  EXPECT_FALSE(dialect::HasMetadataLocksTable(Flavor(Product::kMySQL, {5, 6, 51})));
  EXPECT_EQ(dialect::TableHandlesInUse(dialect::Dialect(Flavor(Product::kMySQL, {5, 6, 51})), 5),
            "");
  EXPECT_NE(dialect::TableHandlesInUse(dialect::Dialect(Flavor(Product::kMySQL, {5, 7, 44})), 5),
            "");
  EXPECT_EQ(dialect::TableHandlesInUse(
                dialect::Dialect(Flavor(Product::kMySQL, {8, 0, 36}, false, std::nullopt)), 5),
            "");
  // METADATA_LOCK_INFO is MariaDB's.
  EXPECT_FALSE(dialect::MayHaveMetadataLockInfo(Flavor(Product::kMySQL, {8, 0, 36})));
  EXPECT_EQ(dialect::MetadataLockInfo(dialect::Dialect(Flavor(Product::kMySQL, {8, 0, 36})), 5),
            "");
}

TEST(MdlDialectTest, MySql8ReadsPerformanceSchemaProcesslist) {
  using dialect::Product;
  const dialect::Dialect mysql8(Flavor(Product::kMySQL, {8, 0, 36}));
  EXPECT_NE(dialect::MetadataLockWaiters(mysql8, 5).find("FROM performance_schema.processlist"),
            std::string::npos);
  EXPECT_NE(dialect::MetadataLockWaiters(mysql8, 5).find("TIME AS `time_seconds`"),
            std::string::npos);
  EXPECT_NE(dialect::MetadataLockHolderCandidates(mysql8, 5).find(
                "FROM performance_schema.processlist p"),
            std::string::npos);
  // Without performance_schema, and before 8.0.22: information_schema, whole seconds.
  const dialect::Dialect mysql57(Flavor(Product::kMySQL, {5, 7, 44}, false, std::nullopt));
  EXPECT_NE(dialect::MetadataLockWaiters(mysql57, 5).find("FROM information_schema.PROCESSLIST"),
            std::string::npos);
  EXPECT_EQ(dialect::MetadataLockWaiters(mysql57, 5).find("TIME_MS"), std::string::npos);
  // Percona Server 8.0 has TIME_MS in information_schema (performance_schema off here).
  auto text = testing::ReadSharedFile(kPerconaVariables);
  ASSERT_TRUE(text);
  dialect::Flavor percona = dialect::DetectFlavor(testing::ParseVariables(*text));
  percona.capabilities.performance_schema = false;
  EXPECT_NE(dialect::MetadataLockWaiters(dialect::Dialect(percona), 5).find("TIME_MS"),
            std::string::npos);
  // Aurora MySQL 3 is MySQL 8.0 for this step.
  const dialect::Dialect aurora(
      Flavor(Product::kMySQL, {8, 0, 28}, true, true, dialect::Platform::kAurora));
  EXPECT_NE(dialect::MetadataLocks(aurora, 5), "");
}

// --- matrices -------------------------------------------------------------------------------

TEST(MdlMatrixTest, ObjectLocks) {
  // A SELECT passes an ALTER's granted SU and another reader, not LOCK TABLES WRITE.
  EXPECT_FALSE(
      mdl::BlockedByGranted(Table(1, "SHARED_READ", false), Table(2, "SHARED_UPGRADABLE", true)));
  EXPECT_FALSE(
      mdl::BlockedByGranted(Table(1, "SHARED_READ", false), Table(2, "SHARED_READ", true)));
  EXPECT_TRUE(mdl::BlockedByGranted(Table(1, "SHARED_READ", false),
                                    Table(2, "SHARED_NO_READ_WRITE", true)));
  // X waits for every granted lock of another session, not for its own.
  EXPECT_TRUE(mdl::BlockedByGranted(Table(1, "EXCLUSIVE", false), Table(2, "SHARED_READ", true)));
  EXPECT_FALSE(
      mdl::BlockedByGranted(Table(1, "EXCLUSIVE", false), Table(1, "SHARED_UPGRADABLE", true)));
  // Two ALTERs: SU is incompatible with SU.
  EXPECT_TRUE(mdl::BlockedByGranted(Table(1, "SHARED_UPGRADABLE", false),
                                    Table(2, "SHARED_UPGRADABLE", true)));
  // LOCK TABLES READ (SRO) blocks writers, not readers.
  EXPECT_TRUE(
      mdl::BlockedByGranted(Table(1, "SHARED_WRITE", false), Table(2, "SHARED_READ_ONLY", true)));
  // Priorities: a pending X makes new SR/SW/S requests wait, not SH or another X.
  EXPECT_TRUE(mdl::BlockedByPending(Table(1, "SHARED_READ", false), Table(2, "EXCLUSIVE", false)));
  EXPECT_TRUE(mdl::BlockedByPending(Table(1, "SHARED_WRITE", false), Table(2, "EXCLUSIVE", false)));
  EXPECT_FALSE(
      mdl::BlockedByPending(Table(1, "SHARED_HIGH_PRIO", false), Table(2, "EXCLUSIVE", false)));
  EXPECT_FALSE(mdl::BlockedByPending(Table(1, "EXCLUSIVE", false), Table(2, "EXCLUSIVE", false)));
  EXPECT_TRUE(
      mdl::BlockedByPending(Table(1, "SHARED_NO_READ_WRITE", false), Table(2, "EXCLUSIVE", false)));
  // An unknown request type waits for anything granted, never for the queue.
  EXPECT_TRUE(mdl::BlockedByGranted(Table(1, "UNKNOWN", false), Table(2, "SHARED_READ", true)));
  EXPECT_FALSE(mdl::BlockedByPending(Table(1, "UNKNOWN", false), Table(2, "EXCLUSIVE", false)));
}

TEST(MdlMatrixTest, ScopedAndBackupLocks) {
  auto global = [](uint64_t id, std::string type, bool granted) {
    return L(id, "GLOBAL", "", "", std::move(type), granted);
  };
  auto backup = [](uint64_t id, std::string type, bool granted) {
    return L(id, "BACKUP", "", "", std::move(type), granted);
  };
  // MySQL FTWRL: GLOBAL S blocks every IX (writes, DDL).
  EXPECT_TRUE(
      mdl::BlockedByGranted(global(1, "INTENTION_EXCLUSIVE", false), global(2, "SHARED", true)));
  EXPECT_FALSE(mdl::BlockedByGranted(global(1, "INTENTION_EXCLUSIVE", false),
                                     global(2, "INTENTION_EXCLUSIVE", true)));
  EXPECT_TRUE(
      mdl::BlockedByPending(global(1, "INTENTION_EXCLUSIVE", false), global(2, "SHARED", false)));
  // MariaDB backup locks: FTWRL1/2 block DML and DDL, DML blocks FTWRL1, DDL does not block
  // DML.
  EXPECT_TRUE(mdl::BlockedByGranted(backup(1, "BACKUP_TRANS_DML", false),
                                    backup(2, "BACKUP_FTWRL1", true)));
  EXPECT_TRUE(
      mdl::BlockedByGranted(backup(1, "BACKUP_DDL", false), backup(2, "BACKUP_FTWRL2", true)));
  EXPECT_TRUE(
      mdl::BlockedByGranted(backup(1, "BACKUP_FTWRL1", false), backup(2, "BACKUP_DML", true)));
  EXPECT_FALSE(
      mdl::BlockedByGranted(backup(1, "BACKUP_DML", false), backup(2, "BACKUP_DDL", true)));
  EXPECT_FALSE(
      mdl::BlockedByGranted(backup(1, "BACKUP_COMMIT", false), backup(2, "BACKUP_FTWRL1", true)));
  EXPECT_TRUE(mdl::BlockedByPending(backup(1, "BACKUP_TRANS_DML", false),
                                    backup(2, "BACKUP_FTWRL1", false)));
}

// --- statement text -------------------------------------------------------------------------

TEST(MdlStatementTest, KindsAndTables) {
  EXPECT_EQ(mdl::StatementKind("ALTER TABLE shop.t ADD COLUMN c INT"), "ALTER TABLE");
  EXPECT_EQ(mdl::StatementKind("/* gh-ost */ alter online ignore table t add c int"),
            "ALTER TABLE");
  EXPECT_EQ(mdl::StatementKind("create unique index i on t (a)"), "CREATE INDEX");
  EXPECT_EQ(mdl::StatementKind("TRUNCATE sbtest.sbtest1"), "TRUNCATE TABLE");
  EXPECT_EQ(mdl::StatementKind("flush tables with read lock"), "FLUSH TABLES WITH READ LOCK");
  EXPECT_EQ(mdl::StatementKind("FLUSH TABLES t1"), "FLUSH TABLES");
  EXPECT_EQ(mdl::StatementKind("lock tables t write"), "LOCK TABLES");
  EXPECT_EQ(mdl::StatementKind("(SELECT 1)"), "SELECT");
  EXPECT_EQ(mdl::StatementKind(""), "");

  auto table = [](std::string_view sql) {
    auto t = mdl::StatementTable(sql);
    return t ? (t->schema.empty() ? t->name : t->schema + "." + t->name) : std::string("-");
  };
  EXPECT_EQ(table("ALTER TABLE shop.t ADD COLUMN c INT"), "shop.t");
  EXPECT_EQ(table("alter online table `my db`.`odd``name` add c int"), "my db.odd`name");
  EXPECT_EQ(table("TRUNCATE TABLE sbtest.sbtest1"), "sbtest.sbtest1");
  EXPECT_EQ(table("truncate t"), "t");
  EXPECT_EQ(table("DROP TEMPORARY TABLE IF EXISTS a.b, c"), "a.b");
  EXPECT_EQ(table("RENAME TABLE t TO t_old"), "t");
  EXPECT_EQ(table("CREATE INDEX i ON shop.orders (customer_id)"), "shop.orders");
  EXPECT_EQ(table("DROP INDEX i ON orders"), "orders");
  EXPECT_EQ(table("OPTIMIZE NO_WRITE_TO_BINLOG TABLE t"), "t");
  EXPECT_EQ(table("LOCK TABLES t AS a WRITE, u READ"), "t");
  EXPECT_EQ(table("SELECT * FROM t"), "-");
  EXPECT_EQ(table("ALTER TABLE"), "-");

  const mdl::TableName t{"shop", "orders"};
  EXPECT_TRUE(mdl::StatementMentions("SELECT * FROM orders WHERE id = 1", t, "shop"));
  EXPECT_TRUE(mdl::StatementMentions("select * from `shop`.`ORDERS`", t, ""));
  EXPECT_TRUE(mdl::StatementMentions("SELECT o.id FROM shop.orders o", t, "other"));
  EXPECT_FALSE(mdl::StatementMentions("SELECT * FROM orders", t, "other"));
  EXPECT_FALSE(mdl::StatementMentions("SELECT * FROM archive.orders", t, "shop"));
  EXPECT_FALSE(mdl::StatementMentions("SELECT 'orders' FROM customers", t, "shop"));
  EXPECT_FALSE(mdl::StatementMentions("SELECT * FROM orders_2024 /* orders */", t, "shop"));
}

// --- the analysis ---------------------------------------------------------------------------

TEST(MdlAnalysisTest, ClassicPileupIsOneFindingWithItsRootAndQueue) {
  const Analysis a = mdl::Analyze(Classic());
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_TRUE(a.waits.empty());
  EXPECT_TRUE(a.uncovered.empty());
  const auto& p = a.pileups[0];
  EXPECT_EQ(p.head, 20u);
  EXPECT_EQ(p.request.lock_type, "EXCLUSIVE");
  EXPECT_EQ(p.roots, std::vector<uint64_t>{10});
  EXPECT_EQ(p.queued, (std::vector<uint64_t>{30, 31, 32}));  // longest waiting first
  EXPECT_FALSE(p.roots_inferred);
  EXPECT_EQ(p.confidence, Confidence::kHigh);
}

TEST(MdlAnalysisTest, SecondAlterAndTwoRoots) {
  Snapshot s = Classic();
  // Another idle transaction that read the table, older than the first.
  Add(s, S(11, "Sleep", 100, std::nullopt, 900.0));
  s.locks.push_back(Table(11, "SHARED_READ", true));
  // A second ALTER waits for the first one's SU: it is queued behind the first, not a second
  // pile-up.
  Add(s, Waiter(21, 10, "ALTER TABLE t ADD INDEX (v)"), true);
  s.locks.push_back(Table(21, "SHARED_UPGRADABLE", false));
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_TRUE(a.waits.empty());
  EXPECT_EQ(a.pileups[0].roots, (std::vector<uint64_t>{11, 10}));  // oldest transaction first
  EXPECT_EQ(a.pileups[0].queued, (std::vector<uint64_t>{30, 31, 21, 32}));
}

TEST(MdlAnalysisTest, RootFoundThroughAChainOfWaits) {
  // 20's ALTER on t waits for 40, which holds SR on t but itself waits for LOCK TABLES u
  // WRITE held by 50: the root is 50, the session that waits for nothing.
  Snapshot s;
  s.source = Source::kPerformanceSchema;
  Add(s, Waiter(20, 50, "ALTER TABLE t ENGINE=InnoDB"), true);
  Add(s, Waiter(40, 60, "SELECT * FROM u"), true);
  Add(s, S(50, "Sleep", 120, std::nullopt));
  s.locks = {Table(40, "SHARED_READ", true), Table(20, "SHARED_UPGRADABLE", true),
             Table(20, "EXCLUSIVE", false), Table(40, "SHARED_READ", false, "u"),
             Table(50, "SHARED_NO_READ_WRITE", true, "u")};
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_EQ(a.pileups[0].roots, std::vector<uint64_t>{50});
  // 40 waits for 50, not behind the ALTER: its own wait group with the same root.
  ASSERT_EQ(a.waits.size(), 1u);
  EXPECT_EQ(a.waits[0].roots, std::vector<uint64_t>{50});
  EXPECT_EQ(a.waits[0].waiters, std::vector<uint64_t>{40});
}

TEST(MdlAnalysisTest, LockTablesWriteIsAWaitNotAPileup) {
  Snapshot s;
  s.source = Source::kPerformanceSchema;
  Add(s, S(83, "Sleep", 30, std::nullopt));
  Add(s, Waiter(84, 20, "SELECT * FROM t"), true);
  s.locks = {Table(83, "SHARED_NO_READ_WRITE", true), Table(84, "SHARED_READ", false)};
  const Analysis a = mdl::Analyze(s);
  EXPECT_TRUE(a.pileups.empty());
  ASSERT_EQ(a.waits.size(), 1u);
  EXPECT_EQ(a.waits[0].roots, std::vector<uint64_t>{83});
  EXPECT_EQ(a.waits[0].waiters, std::vector<uint64_t>{84});
  EXPECT_EQ(a.waits[0].confidence, Confidence::kHigh);
}

TEST(MdlAnalysisTest, FlushTablesWithReadLockWaitingForAWriteIsAPileup) {
  // 60's INSERT runs (holds BACKUP_TRANS_DML); 70's FTWRL waits for it; 80's INSERT queues
  // behind the waiting FTWRL.
  auto backup = [](uint64_t id, std::string type, bool granted) {
    return L(id, "BACKUP", "", "", std::move(type), granted);
  };
  Snapshot s;
  s.source = Source::kPerformanceSchema;
  Add(s, S(60, "Query", 50, "INSERT INTO big SELECT * FROM staging", 50.0, "Sending data"));
  Add(s, Waiter(70, 45, "FLUSH TABLES WITH READ LOCK", "Waiting for backup lock"), true);
  Add(s, Waiter(80, 3, "INSERT INTO t VALUES (1)", "Waiting for backup lock"), true);
  s.locks = {backup(60, "BACKUP_TRANS_DML", true), backup(70, "BACKUP_FTWRL1", false),
             backup(80, "BACKUP_TRANS_DML", false)};
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_EQ(a.pileups[0].head, 70u);
  EXPECT_EQ(a.pileups[0].roots, std::vector<uint64_t>{60});
  EXPECT_EQ(a.pileups[0].queued, std::vector<uint64_t>{80});
  EXPECT_TRUE(a.waits.empty());
}

TEST(MdlAnalysisTest, ProcesslistOnlyInfersTheRootFromOlderTransactions) {
  Snapshot s;
  s.source = Source::kProcesslist;
  Add(s, Waiter(20, 40, "ALTER TABLE shop.t ADD COLUMN c INT"), true);
  Add(s, Waiter(30, 35, "SELECT * FROM t WHERE id = 1"), true);
  Add(s, Waiter(31, 20, "UPDATE `t` SET v = 2"), true);
  Add(s, Waiter(32, 5, "SELECT COUNT(*) FROM shop.t"), true);
  Add(s, Waiter(33, 4, "SELECT * FROM other_table"), true);
  // Candidates: 10 idle in a transaction older than the ALTER's wait; 12's transaction is
  // younger (started after the ALTER began waiting); 13 runs a statement on another table.
  Add(s, S(10, "Sleep", 300, std::nullopt, 310.0));
  Add(s, S(12, "Sleep", 1, std::nullopt, 12.0));
  Add(s, S(13, "Query", 100, "SELECT SLEEP(1000) FROM other_table", std::nullopt, "User sleep"));
  s.candidates = {10, 12, 13};
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  const auto& p = a.pileups[0];
  EXPECT_EQ(p.head, 20u);
  EXPECT_EQ(p.request.ObjectText(), "shop.t");
  EXPECT_EQ(p.roots, std::vector<uint64_t>{10});
  EXPECT_TRUE(p.roots_inferred);
  EXPECT_EQ(p.confidence, Confidence::kLow);
  EXPECT_EQ(p.queued, (std::vector<uint64_t>{30, 31, 32}));
  EXPECT_EQ(a.uncovered.size(), 5u);
  // 33 names no contended table: its holder is unknown.
  ASSERT_EQ(a.waits.size(), 1u);
  EXPECT_EQ(a.waits[0].waiters, std::vector<uint64_t>{33});
  EXPECT_TRUE(a.waits[0].roots.empty());
}

TEST(MdlAnalysisTest, ProcesslistOnlyWithoutCandidatesLeavesTheHolderUnknown) {
  Snapshot s;
  s.source = Source::kProcesslist;
  Add(s, Waiter(20, 40, "TRUNCATE TABLE shop.t"), true);
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_TRUE(a.pileups[0].roots.empty());
  EXPECT_EQ(a.pileups[0].confidence, Confidence::kLow);
}

TEST(MdlAnalysisTest, InstrumentTurnedOnLateInfersTheMissingRoot) {
  // performance_schema shows the ALTER's pending X but not the root's SR (taken while the
  // instrument was off): the root is inferred from the open transactions.
  Snapshot s = Classic();
  s.locks.erase(s.locks.begin());  // the root's granted SR
  s.candidates = {10};
  const Analysis a = mdl::Analyze(s);
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_EQ(a.pileups[0].roots, std::vector<uint64_t>{10});
  EXPECT_TRUE(a.pileups[0].roots_inferred);
  EXPECT_EQ(a.pileups[0].queued.size(), 3u);
}

TEST(MdlAnalysisTest, WaiterMissingFromTheLockTableIsInferred) {
  Snapshot s = Classic();
  Add(s, Waiter(34, 1, "SELECT * FROM shop.t"), true);  // no pending row for 34
  const Analysis a = mdl::Analyze(s);
  EXPECT_EQ(a.uncovered, std::vector<uint64_t>{34});
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_EQ(a.pileups[0].queued.back(), 34u);
  EXPECT_EQ(a.pileups[0].confidence, Confidence::kMedium);
}

// sys.schema_table_lock_waits (MySQL 5.7, Aurora 2.09): one row per waiting/blocking pair.
// Turned into the locks metadata_locks would show; the analysis must name the same blocker.
Snapshot FromSchemaTableLockWaits(const mysql::ResultSet& rs) {
  Snapshot s;
  s.source = Source::kPerformanceSchema;
  for (const auto& row : rs.rows) {
    const uint64_t waiting = *row["waiting_pid"].AsUint64();
    const uint64_t blocking = *row["blocking_pid"].AsUint64();
    const std::string schema = row["object_schema"].StringOr("");
    const std::string name = row["object_name"].StringOr("");
    s.locks.push_back(
        L(waiting, "TABLE", schema, name, row["waiting_lock_type"].StringOr(""), false));
    s.locks.push_back(
        L(blocking, "TABLE", schema, name, row["blocking_lock_type"].StringOr(""), true));
    Session w;
    w.id = waiting;
    w.command = "Query";
    w.state = "Waiting for table metadata lock";
    w.time_seconds = row["waiting_query_secs"].AsDouble().value_or(0);
    w.statement = std::string(row["waiting_query"].StringOr(""));
    Add(s, w, true);
    Session b;
    b.id = blocking;
    b.command = "Sleep";
    Add(s, b);
  }
  return s;
}

TEST(MdlAnalysisTest, AgreesWithSysSchemaTableLockWaits) {
  // Aurora 2.09: TRUNCATE waits for X behind a SHARED_READ held by pid 76.
  const auto aurora = Recorded(std::string(kLockWaits) +
                                   "lock-waits--aurora-mysql-2.09.0--aws-aurora-guide-"
                                   "schema_table_lock_waits.txt",
                               true);
  ASSERT_EQ(aurora.rows.size(), 1u);
  const Analysis a = mdl::Analyze(FromSchemaTableLockWaits(aurora));
  ASSERT_EQ(a.pileups.size(), 1u);
  EXPECT_EQ(a.pileups[0].head, 89u);
  EXPECT_EQ(a.pileups[0].roots, std::vector<uint64_t>{76});
  EXPECT_EQ(a.pileups[0].request.ObjectText(), "sbtest.sbtest1");
  // MySQL 5.7 README: an ALTER waits for SU behind SHARED_NO_READ_WRITE (LOCK TABLES ...
  // WRITE) held by pid 20; an SU request queues nobody behind it: a wait, not a pile-up.
  const auto readme = Recorded(std::string(kLockWaits) +
                                   "lock-waits--mysql-5.7--mysql-sys-readme-"
                                   "schema_table_lock_waits.txt",
                               true);
  ASSERT_EQ(readme.rows.size(), 1u);
  const Analysis b = mdl::Analyze(FromSchemaTableLockWaits(readme));
  EXPECT_TRUE(b.pileups.empty());
  ASSERT_EQ(b.waits.size(), 1u);
  EXPECT_EQ(b.waits[0].roots, std::vector<uint64_t>{20});
  EXPECT_EQ(b.waits[0].waiters, std::vector<uint64_t>{21});
}

TEST(MdlAnalysisTest, ParsesMetadataLockInfoAsDocumented) {
  // MariaDB docs: START TRANSACTION; INSERT INTO t ...; then METADATA_LOCK_INFO \G.
  const auto rs = Recorded(
      std::string(kLockWaits) + "lock-waits--mariadb-10.x--mariadb-docs-metadata_lock_info.txt",
      true);
  ASSERT_EQ(rs.rows.size(), 1u);
  // The plugin's own column names, aliased as the dialect statement does.
  mysql::ResultSet aliased = mysql::MakeResultSet(
      {"connection_id", "object_type", "object_schema", "object_name", "lock_type", "lock_status"},
      {{std::string(*rs.rows[0]["THREAD_ID"].AsString()),
        std::string(*rs.rows[0]["LOCK_TYPE"].AsString()),
        std::string(*rs.rows[0]["TABLE_SCHEMA"].AsString()),
        std::string(*rs.rows[0]["TABLE_NAME"].AsString()),
        std::string(*rs.rows[0]["LOCK_MODE"].AsString()), "GRANTED"}});
  const auto locks = mdl::ParseLocks(aliased);
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0].connection_id, 4u);
  EXPECT_EQ(locks[0].object_type, "TABLE");
  EXPECT_EQ(locks[0].ObjectText(), "test.t");
  EXPECT_EQ(locks[0].lock_type, "SHARED_WRITE");
  EXPECT_TRUE(locks[0].granted);
}

TEST(MdlAnalysisTest, GlobalReadLockFromTheMariaDbDocsExample) {
  // The docs' SHOW PROCESSLIST: thread 3's INSERT "Waiting for global read lock", thread 2
  // idle; WhoLocksWho says 2 holds it. With the plugin's view of 2's global lock (the docs
  // show only the join), the analysis names 2; without it, the holder is unknown.
  auto text = testing::ReadSharedFile(std::string(kLockWaits) +
                                      "lock-waits--mariadb-10.x--mariadb-docs-metadata-lock-"
                                      "info-plugin-who-locks-who.txt");
  ASSERT_TRUE(text);
  const auto results = testing::ParseRecordedOutput(*text);
  ASSERT_EQ(results.size(), 2u);
  const mysql::ResultSet& processlist = results[1];
  Snapshot s;
  s.source = Source::kMetadataLockInfo;
  for (const auto& row : processlist.rows) {
    Session session;
    session.id = *row["Id"].AsUint64();
    session.user = row["User"].StringOr("");
    session.command = row["Command"].StringOr("");
    session.state = row["State"].StringOr("");
    session.time_seconds = row["Time"].AsDouble().value_or(0);
    if (auto info = row["Info"].AsString()) session.statement = std::string(*info);
    if (session.statement && session.statement->rfind("SHOW", 0) == 0) continue;
    Add(s, session, session.waits_for_metadata_lock());
  }
  EXPECT_EQ(s.waiters, std::vector<uint64_t>{3});
  const Analysis unknown = mdl::Analyze(s);
  ASSERT_EQ(unknown.waits.size(), 1u);
  EXPECT_TRUE(unknown.waits[0].roots.empty());
  EXPECT_EQ(unknown.waits[0].requests[0].object_type, "GLOBAL");
  EXPECT_EQ(unknown.waits[0].requests[0].lock_type, "INTENTION_EXCLUSIVE");
  s.locks.push_back(L(2, "GLOBAL", "", "", "SHARED", true));
  const Analysis known = mdl::Analyze(s);
  ASSERT_EQ(known.waits.size(), 1u);
  EXPECT_EQ(known.waits[0].roots, std::vector<uint64_t>{2});
  EXPECT_EQ(known.waits[0].confidence, Confidence::kMedium);
}

// --- the step over recorded MariaDB 10.11 output ----------------------------------------------

class MdlStepTest : public ::testing::Test {
 protected:
  collect::TargetSession Target(const dialect::Flavor& flavor, bool grant_process = true) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    // The step first checks the account can see other sessions (SHOW GRANTS: one statement).
    if (grant_process) {
      fake_->On(dialect::ShowGrantsStatement(),
                mysql::MakeResultSet({"Grants for monitor@%"},
                                     {{"GRANT PROCESS, SLAVE MONITOR ON *.* TO `monitor`@`%`"}}));
    }
    return collect::TargetSession{std::move(fake), dialect::Dialect(flavor), {}, {}, {}};
  }

  core::Result<std::vector<Finding>> Run(collect::TargetSession& target) {
    MetadataLocksStep step;
    StepContext context{target, clock_, options_, clock_.MonotonicNow() + std::chrono::seconds(20)};
    return step.Run(context);
  }

  static const Finding* Find(const std::vector<Finding>& findings, std::string_view code) {
    for (const auto& f : findings) {
      if (f.code == code) return &f;
    }
    return nullptr;
  }

  static std::vector<int64_t> Ids(const Finding& f, std::string_view role) {
    std::vector<int64_t> ids;
    for (const auto& row : f.evidence) {
      const auto* r = row.Find("role");
      if (r != nullptr && std::get<std::string>(*r) == role) {
        ids.push_back(std::get<int64_t>(*row.Find("connection_id")));
      }
    }
    return ids;
  }

  core::SimulatedClock clock_;
  InvestigateOptions options_;
  FakeSession* fake_ = nullptr;
};

TEST_F(MdlStepTest, NobodyWaitingCostsTheGrantCheckAndOneStatement) {
  auto target = Target(MariaDb(true, true));
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500),
            mysql::MakeResultSet({"connection_id", "user", "host", "db", "command", "state",
                                  "time_seconds", "statement"},
                                 {}));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_TRUE(findings->empty());
  EXPECT_EQ(fake_->statements().size(), 2u);
}

TEST_F(MdlStepTest, ClassicPileupFromPerformanceSchema) {
  auto target = Target(MariaDb(true, true));
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("classic", "waiters"));
  fake_->On(dialect::MetadataLocks(d, 5000), Capture("classic", "metadata_locks"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(fake_->statements().size(), 3u);
  ASSERT_EQ(findings->size(), 1u);  // exact source: no check.partial
  const Finding& f = findings->front();
  EXPECT_EQ(f.code, "mdl.pileup");
  EXPECT_EQ(f.severity, Severity::kCritical);  // three sessions queued
  EXPECT_EQ(Ids(f, "root"), std::vector<int64_t>{63});
  EXPECT_EQ(Ids(f, "waiting"), std::vector<int64_t>{64});
  EXPECT_EQ(Ids(f, "queued"), (std::vector<int64_t>{65, 66, 67}));
  EXPECT_NE(f.title.find("ALTER TABLE on mdlx.t (connection 64)"), std::string::npos) << f.title;
  EXPECT_NE(f.title.find("connection 63 (root@localhost, idle in a transaction open for"),
            std::string::npos)
      << f.title;
  EXPECT_NE(f.title.find("3 sessions queued behind it"), std::string::npos) << f.title;
  EXPECT_NE(f.detail.find("performance_schema.metadata_locks; confidence high"), std::string::npos);
  // The root's granted lock and the ALTER's request are in the evidence.
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("lock")), "SHARED_READ (granted)");
  EXPECT_EQ(std::get<std::string>(*f.evidence[1].Find("lock")), "EXCLUSIVE (waiting)");
  EXPECT_EQ(std::get<std::string>(*f.evidence[1].Find("object")), "mdlx.t");
  ASSERT_GE(f.suggestions.size(), 3u);
  EXPECT_EQ(f.suggestions[0].sql, "KILL CONNECTION 63");
  EXPECT_EQ(f.suggestions[1].sql, "KILL QUERY 64");
  EXPECT_NE(f.suggestions[1].text.find("the 3 statements queued behind it"), std::string::npos);
  EXPECT_NE(f.suggestions[2].text.find("pt-online-schema-change or gh-ost"), std::string::npos);
  EXPECT_EQ(f.suggestions[2].sql, "SET SESSION lock_wait_timeout = 5");
}

TEST_F(MdlStepTest, RdsSuggestsRdsKill) {
  dialect::Flavor flavor = MariaDb(true, true);
  flavor.platform = dialect::Platform::kRds;
  auto target = Target(flavor);
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("classic", "waiters"));
  fake_->On(dialect::MetadataLocks(d, 5000), Capture("classic", "metadata_locks"));
  auto findings = Run(target);
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(findings->front().suggestions[0].sql, "CALL mysql.rds_kill(63)");
  EXPECT_EQ(findings->front().suggestions[1].sql, "CALL mysql.rds_kill_query(64)");
}

TEST_F(MdlStepTest, ClassicPileupFromMetadataLockInfo) {
  // performance_schema OFF (MariaDB's default): the plugin shows the granted locks.
  auto target = Target(MariaDb(false, std::nullopt));
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("classic", "waiters"));
  fake_->On(dialect::MetadataLockInfo(d, 5000), Capture("classic", "metadata_lock_info"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* f = Find(*findings, "mdl.pileup");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Ids(*f, "root"), std::vector<int64_t>{63});
  EXPECT_EQ(Ids(*f, "waiting"), std::vector<int64_t>{64});
  // Unqualified "FROM t" with db mdlx, and "FROM mdlx.t": all three found behind the ALTER.
  EXPECT_EQ(Ids(*f, "queued"), (std::vector<int64_t>{65, 66, 67}));
  EXPECT_NE(f->detail.find("confidence medium"), std::string::npos);
  EXPECT_EQ(std::get<std::string>(*f->evidence[1].Find("lock")), "EXCLUSIVE (waiting, inferred)");
  const Finding* partial = Find(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_EQ(partial->severity, Severity::kInfo);
  EXPECT_NE(partial->detail.find("granted locks only"), std::string::npos);
  EXPECT_EQ(findings->size(), 2u);
}

TEST_F(MdlStepTest, ProcesslistFallbackWhenThePluginIsNotLoaded) {
  auto target = Target(MariaDb(true, false));  // instrument off
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("classic", "waiters"));
  fake_->On(dialect::MetadataLockInfo(d, 5000),
            FakeSession::ServerError(core::ErrorCode::kNotFound, 1109, "42S02",
                                     "Unknown table 'METADATA_LOCK_INFO' in information_schema"));
  fake_->On(dialect::MetadataLockHolderCandidates(d, 200), Capture("classic", "candidates"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_EQ(fake_->statements().size(), 4u);
  const Finding* f = Find(*findings, "mdl.pileup");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Ids(*f, "root (inferred)"), std::vector<int64_t>{63});
  EXPECT_EQ(Ids(*f, "waiting"), std::vector<int64_t>{64});
  EXPECT_EQ(Ids(*f, "queued"), (std::vector<int64_t>{65, 66, 67}));
  EXPECT_NE(f->title.find("probably for connection 63"), std::string::npos) << f->title;
  EXPECT_NE(f->detail.find("confidence low"), std::string::npos);
  EXPECT_NE(f->suggestions[0].text.find("inferred: check first"), std::string::npos);
  const Finding* partial = Find(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_NE(partial->detail.find("instrument is disabled"), std::string::npos);
  EXPECT_NE(partial->detail.find("METADATA_LOCK_INFO plugin is not loaded"), std::string::npos);
  ASSERT_FALSE(partial->suggestions.empty());
  EXPECT_NE(partial->suggestions[0].sql.find("UPDATE performance_schema.setup_instruments"),
            std::string::npos);
}

TEST_F(MdlStepTest, FlushTablesWithReadLockFromBothSources) {
  for (const bool pfs : {true, false}) {
    SCOPED_TRACE(pfs ? "performance_schema" : "METADATA_LOCK_INFO");
    auto target = Target(MariaDb(pfs, pfs ? std::optional<bool>(true) : std::nullopt));
    const auto& d = target.dialect;
    fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("ftwrl", "waiters"));
    if (pfs) {
      fake_->On(dialect::MetadataLocks(d, 5000), Capture("ftwrl", "metadata_locks"));
    } else {
      fake_->On(dialect::MetadataLockInfo(d, 5000), Capture("ftwrl", "metadata_lock_info"));
    }
    auto findings = Run(target);
    ASSERT_TRUE(findings) << findings.error().ToString();
    EXPECT_EQ(Find(*findings, "mdl.pileup"), nullptr);
    const Finding* f = Find(*findings, "mdl.wait");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(Ids(*f, "root"), std::vector<int64_t>{74});
    EXPECT_EQ(Ids(*f, "waiting"), (std::vector<int64_t>{75, 76}));
    EXPECT_NE(f->title.find("2 sessions wait"), std::string::npos) << f->title;
    EXPECT_NE(f->title.find("the backup lock"), std::string::npos) << f->title;
    EXPECT_EQ(f->suggestions[0].sql, "KILL CONNECTION 74");
  }
}

TEST_F(MdlStepTest, LockTablesWriteFromPerformanceSchema) {
  auto target = Target(MariaDb(true, true));
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("lock_tables", "waiters"));
  fake_->On(dialect::MetadataLocks(d, 5000), Capture("lock_tables", "metadata_locks"));
  auto findings = Run(target);
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 1u);
  const Finding& f = findings->front();
  EXPECT_EQ(f.code, "mdl.wait");
  EXPECT_EQ(f.severity, Severity::kWarning);  // one waiter, 2 s
  EXPECT_EQ(Ids(f, "root"), std::vector<int64_t>{83});
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("lock")), "SHARED_NO_READ_WRITE (granted)");
  EXPECT_NE(f.title.find("1 session waits"), std::string::npos) << f.title;
  EXPECT_NE(f.title.find("a metadata lock on mdlx.t held by connection 83"), std::string::npos)
      << f.title;
}

TEST_F(MdlStepTest, MissingProcessPrivilegeIsTheStepsError) {
  auto target = Target(MariaDb(true, true));
  fake_->On(dialect::MetadataLockWaiters(target.dialect, 500),
            FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                     "Access denied; you need the PROCESS privilege"));
  auto findings = Run(target);
  ASSERT_FALSE(findings);
  EXPECT_EQ(findings.error().code, core::ErrorCode::kPrivilege);
  MetadataLocksStep step;
  EXPECT_EQ(step.RequiredGrant(target.flavor(), "'monitor'@'%'"),
            "GRANT PROCESS ON *.* TO 'monitor'@'%'; GRANT SELECT ON performance_schema.* TO "
            "'monitor'@'%'");
  EXPECT_EQ(step.RequiredGrant(MariaDb(false, std::nullopt), "'m'@'%'"),
            "GRANT PROCESS ON *.* TO 'm'@'%'");
}

// Without PROCESS the processlist is narrowed, not refused: the step must not read it and
// report "nobody waiting".
TEST_F(MdlStepTest, AccountWithoutProcessIsRefusedBeforeReading) {
  auto target = Target(MariaDb(true, true), /*grant_process=*/false);
  fake_->On(dialect::ShowGrantsStatement(),
            mysql::MakeResultSet({"Grants for monitor@%"},
                                 {{"GRANT USAGE ON *.* TO `monitor`@`%`"},
                                  {"GRANT SELECT ON `performance_schema`.* TO `monitor`@`%`"}}));
  auto findings = Run(target);
  ASSERT_FALSE(findings);
  EXPECT_EQ(findings.error().code, core::ErrorCode::kPrivilege);
  EXPECT_NE(findings.error().message.find("PROCESS"), std::string::npos);
  EXPECT_EQ(fake_->statements().size(), 1u);  // SHOW GRANTS only
}

TEST_F(MdlStepTest, LockTableErrorFallsBackToTheProcesslist) {
  auto target = Target(MariaDb(true, true));
  const auto& d = target.dialect;
  fake_->On(dialect::MetadataLockWaiters(d, 500), Capture("classic", "waiters"));
  fake_->On(dialect::MetadataLocks(d, 5000),
            FakeSession::ServerError(core::ErrorCode::kPrivilege, 1142, "42000",
                                     "SELECT command denied to user 'monitor'"));
  fake_->On(dialect::MetadataLockInfo(d, 5000),
            FakeSession::ServerError(core::ErrorCode::kNotFound, 1109, "42S02", "Unknown table"));
  fake_->On(dialect::MetadataLockHolderCandidates(d, 200), Capture("classic", "candidates"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* f = Find(*findings, "mdl.pileup");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Ids(*f, "root (inferred)"), std::vector<int64_t>{63});
  const Finding* partial = Find(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  EXPECT_NE(partial->detail.find("SELECT command denied"), std::string::npos);
}

// Aurora MySQL 2.09 (MySQL 5.7.12; the MDL instrument is off by default on 5.7): the AWS
// guide's SHOW PROCESSLIST, aliased as the dialect's processlist statements return it. Only
// the processlist is available, and no session there has a transaction older than the
// TRUNCATE's wait on record: the holder is unknown, and the kill is Aurora's procedure.
TEST_F(MdlStepTest, AuroraProcesslistOnly) {
  auto text = testing::ReadSharedFile(
      "conformance/server-outputs/processlist/"
      "processlist--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt");
  ASSERT_TRUE(text);
  const auto results = testing::ParseRecordedOutput(*text);
  ASSERT_EQ(results.size(), 2u);  // SELECT @@version, @@aurora_version; SHOW PROCESSLIST
  const mysql::ResultSet& recorded = results[1];
  const std::vector<std::string> columns = {"connection_id", "user",         "host",  "db",
                                            "command",       "time_seconds", "state", "statement"};
  std::vector<std::vector<std::optional<std::string>>> waiting;
  std::vector<std::vector<std::optional<std::string>>> candidates;
  for (const auto& row : recorded.rows) {
    std::vector<std::optional<std::string>> values;
    for (const char* c : {"Id", "User", "Host", "db", "Command", "Time", "State", "Info"}) {
      auto v = row[c].AsString();
      values.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
    }
    const std::string state = row["State"].StringOr("");
    if (state.rfind("Waiting for", 0) == 0 && state.ends_with("lock")) waiting.push_back(values);
    if (row["Command"].StringOr("") != "Sleep") candidates.push_back(values);
  }
  ASSERT_EQ(waiting.size(), 1u);
  std::vector<std::string> with_trx = columns;
  with_trx.emplace_back("trx_seconds");
  for (auto& c : candidates) c.emplace_back(std::nullopt);

  auto target =
      Target(Flavor(dialect::Product::kMySQL, {5, 7, 12}, true, false, dialect::Platform::kAurora));
  const auto& d = target.dialect;
  EXPECT_EQ(dialect::MetadataLocks(d, 5000), "");
  fake_->On(dialect::MetadataLockWaiters(d, 500), mysql::MakeResultSet(columns, waiting));
  fake_->On(dialect::MetadataLockHolderCandidates(d, 200),
            mysql::MakeResultSet(with_trx, candidates));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  const Finding* f = Find(*findings, "mdl.pileup");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->title.find("TRUNCATE TABLE on sbtest.sbtest1 (connection 89) has waited 5.0s; "
                          "the holder could not be determined"),
            std::string::npos)
      << f->title;
  EXPECT_EQ(f->severity, Severity::kWarning);
  bool kill_query = false;
  for (const auto& s : f->suggestions) kill_query |= s.sql == "CALL mysql.rds_kill_query(89)";
  EXPECT_TRUE(kill_query);
  const Finding* partial = Find(*findings, "check.partial");
  ASSERT_NE(partial, nullptr);
  ASSERT_FALSE(partial->suggestions.empty());
  EXPECT_NE(partial->suggestions[0].sql.find("wait/lock/metadata/sql/mdl"), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::steps
