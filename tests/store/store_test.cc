// The audit store on temporary files: creation with its directory and modes, the schema and
// its migration, appends and reads, two handles on one file, and the failures a user meets —
// a path that cannot be opened, a file that is not a database, a damaged one, a newer schema.
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace dbrunbook::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dbrunbook-store-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  static AuditEntry Entry(std::string target, Phase phase, std::string result = "") {
    AuditEntry e;
    e.run_id = "run-1";
    e.target = std::move(target);
    e.action = "kill-queries";
    e.subject = "connection 42";
    e.phase = phase;
    e.plan = "KILL QUERY ID 7";
    e.result = std::move(result);
    return e;
  }

  // Runs one statement directly with SQLite (test setup, not the code under test).
  static void Sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    const std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << text;
  }

  std::string dir_;
};

TEST_F(StoreTest, CreatesTheFileAndItsDirectoryPrivately) {
  const std::string path = dir_ + "/state/dbrunbook/dbrunbook.db";
  auto store = Store::Open(path);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ((*store)->schema_version(), kSchemaVersion);
  EXPECT_EQ((*store)->path(), path);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/state/dbrunbook").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(StoreTest, UsesWalAndRecordsTheSchemaVersion) {
  const std::string path = dir_ + "/a.db";
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store) << store.error().ToString();
    ASSERT_TRUE((*store)->Append(Entry("t", Phase::kPlanned)));
    EXPECT_TRUE(fs::exists(path + "-wal"));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), kSchemaVersion);
  EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);  // one row
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(StoreTest, AppendsAndReadsNewestFirstFillingWhoAndWhen) {
  auto store = Store::Open(dir_ + "/a.db");
  ASSERT_TRUE(store) << store.error().ToString();
  auto first = (*store)->Append(Entry("orders", Phase::kPlanned));
  ASSERT_TRUE(first) << first.error().ToString();
  AuditEntry failed = Entry("orders", Phase::kFailed, "not killed");
  failed.error = "You are not owner of thread 42";
  failed.at = "2026-01-02T03:04:05.000Z";
  failed.os_user = "alice";
  auto second = (*store)->Append(failed);
  ASSERT_TRUE(second);
  EXPECT_GT(*second, *first);
  ASSERT_TRUE((*store)->Append(Entry("other", Phase::kVerified)));

  auto all = (*store)->Recent(10);
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].entry.target, "other");

  auto orders = (*store)->Recent(10, "orders");
  ASSERT_TRUE(orders);
  ASSERT_EQ(orders->size(), 2u);
  const AuditEntry& newest = (*orders)[0].entry;
  EXPECT_EQ(newest.phase, Phase::kFailed);
  EXPECT_EQ(newest.result, "not killed");
  EXPECT_EQ(newest.error, "You are not owner of thread 42");
  EXPECT_EQ(newest.at, "2026-01-02T03:04:05.000Z");
  EXPECT_EQ(newest.os_user, "alice");
  EXPECT_EQ(newest.plan, "KILL QUERY ID 7");
  EXPECT_EQ(newest.subject, "connection 42");
  const AuditEntry& oldest = (*orders)[1].entry;
  EXPECT_FALSE(oldest.os_user.empty());
  EXPECT_EQ(oldest.os_user, CurrentOsUser(core::MapEnvironment()));
  // RFC 3339 UTC, filled in by Append.
  EXPECT_EQ(oldest.at.size(), std::string("2026-01-02T03:04:05.000Z").size()) << oldest.at;
  EXPECT_TRUE(oldest.at.ends_with("Z")) << oldest.at;

  auto limited = (*store)->Recent(1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 1u);
}

TEST_F(StoreTest, ReopeningKeepsEntriesAndTwoHandlesShareTheFile) {
  const std::string path = dir_ + "/a.db";
  auto a = Store::Open(path);
  auto b = Store::Open(path);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->Append(Entry("t", Phase::kApplied)));
  ASSERT_TRUE((*b)->Append(Entry("t", Phase::kVerified)));
  a->reset();
  b->reset();
  auto again = Store::Open(path);
  ASSERT_TRUE(again);
  auto all = (*again)->Recent(10);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(StoreTest, MigratesAFileWithoutTheAuditLog) {
  // A file at schema version 0 (only the version table, no row): the migration creates the
  // audit log and records version 1.
  const std::string path = dir_ + "/old.db";
  Sql(path, "CREATE TABLE schema_version (version INTEGER NOT NULL)");
  auto store = Store::Open(path);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ((*store)->schema_version(), kSchemaVersion);
  EXPECT_TRUE((*store)->Append(Entry("t", Phase::kPlanned)));
}

TEST_F(StoreTest, MigratesAVersion1FileKeepingItsAuditLog) {
  // A file as dbrunbook wrote it at schema version 1 (the audit log, one entry): versions 2
  // and 3 add the recoveries and the incidents and keep the entry.
  const std::string path = dir_ + "/v1.db";
  Sql(path,
      "CREATE TABLE schema_version (version INTEGER NOT NULL);"
      "INSERT INTO schema_version VALUES (1);"
      "CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"
      " at TEXT NOT NULL, os_user TEXT NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL,"
      " subject TEXT NOT NULL, phase TEXT NOT NULL CHECK (phase IN "
      " ('planned', 'applied', 'failed', 'verified', 'refused')), plan TEXT NOT NULL,"
      " result TEXT NOT NULL, error TEXT NOT NULL);"
      "CREATE INDEX audit_log_target ON audit_log (target, id);"
      "CREATE INDEX audit_log_run ON audit_log (run_id);"
      "INSERT INTO audit_log (run_id, at, os_user, target, action, subject, phase, plan, result,"
      " error) VALUES ('r', '2026-01-01T00:00:00Z', 'u', 't', 'kill-queries', '', 'planned',"
      " 'p', 'x', '')");
  auto store = Store::Open(path);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ((*store)->schema_version(), kSchemaVersion);
  auto entries = (*store)->Recent(10);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().entry.run_id, "r");
  auto none = (*store)->LastRecovery("c");
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_FALSE(none->has_value());
  auto incidents = (*store)->Incidents(false, 10);
  ASSERT_TRUE(incidents) << incidents.error().ToString();
  EXPECT_TRUE(incidents->empty());
}

TEST_F(StoreTest, OneRecoveryPerClusterAtATime) {
  const std::string path = dir_ + "/r.db";
  auto a = Store::Open(path);
  auto b = Store::Open(path);
  ASSERT_TRUE(a && b);
  Recovery r;
  r.cluster = "orders";
  r.action = "failover";
  r.run_id = "run-1";
  r.os_user = "u";
  r.pid = 4242;
  r.started_at = "2026-11-27T03:00:00.000Z";
  r.started_epoch = 1000;
  r.old_primary = "orders-primary";
  r.new_primary = "orders-replica";
  auto first = (*a)->BeginRecovery(r);
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_TRUE(first->id.has_value());
  // The other handle (another process) finds the lock held, and by whom.
  r.run_id = "run-2";
  auto second = (*b)->BeginRecovery(r);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_FALSE(second->id.has_value());
  ASSERT_TRUE(second->holder.has_value());
  EXPECT_EQ(second->holder->run_id, "run-1");
  EXPECT_EQ(second->holder->pid, 4242);
  EXPECT_EQ(second->holder->outcome, "running");
  // Another cluster is not locked.
  Recovery other = r;
  other.cluster = "billing";
  auto third = (*b)->BeginRecovery(other);
  ASSERT_TRUE(third && third->id);
  // Ended, the lock is free again; the ended recovery is the one the block period reads.
  ASSERT_TRUE((*a)->EndRecovery(*first->id, "done", "promoted", "2026-11-27T03:01:00.000Z"));
  auto last = (*b)->LastRecovery("orders");
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ((*last)->outcome, "done");
  EXPECT_EQ((*last)->ended_at, "2026-11-27T03:01:00.000Z");
  EXPECT_EQ((*last)->started_epoch, 1000);
  auto again = (*b)->BeginRecovery(r);
  ASSERT_TRUE(again && again->id);
  // A refused recovery does not count for the block period.
  ASSERT_TRUE((*b)->EndRecovery(*again->id, "refused", "pre-checks failed"));
  last = (*a)->LastRecovery("orders");
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ((*last)->run_id, "run-1");
  auto all = (*a)->Recoveries("orders");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(StoreTest, RefusesAFileFromANewerDbrunbook) {
  const std::string path = dir_ + "/new.db";
  Sql(path,
      "CREATE TABLE schema_version (version INTEGER NOT NULL); "
      "INSERT INTO schema_version VALUES (99)");
  auto store = Store::Open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr("schema version 99, newer than"));
  EXPECT_THAT(store.error().message, HasSubstr(path));
}

TEST_F(StoreTest, AFileThatIsNotADatabaseIsAClearError) {
  const std::string path = dir_ + "/notes.txt";
  std::ofstream(path) << std::string(8192, 'x');
  auto store = Store::Open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr("audit store " + path));
  EXPECT_THAT(store.error().message, HasSubstr("not a database"));
  EXPECT_THAT(store.error().hint, HasSubstr("--store"));
}

TEST_F(StoreTest, ADamagedDatabaseIsAClearError) {
  // A real store whose pages after the header were overwritten: SQLite reports the damage
  // when the schema is read, which Open does.
  const std::string path = dir_ + "/damaged.db";
  {
    auto store = Store::Open(path);
    ASSERT_TRUE(store);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*store)->Append(Entry("t", Phase::kPlanned)));
  }
  Sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
  const auto size = fs::file_size(path);
  ASSERT_GT(size, 4096u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);  // past the 100-byte header: the schema page
    const std::string garbage(size - 100, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto store = Store::Open(path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr("audit store " + path));
  EXPECT_THAT(store.error().message, HasSubstr("malformed"));
}

TEST_F(StoreTest, APathThatCannotBeOpenedIsAClearError) {
  // A directory where the file should be.
  fs::create_directories(dir_ + "/dir.db");
  auto dir = Store::Open(dir_ + "/dir.db");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, core::ErrorCode::kIo);
  EXPECT_THAT(dir.error().message, HasSubstr("is a directory"));

  // A file under a regular file.
  std::ofstream(dir_ + "/plain") << "x";
  auto under_file = Store::Open(dir_ + "/plain/dbrunbook.db");
  ASSERT_FALSE(under_file);
  EXPECT_EQ(under_file.error().code, core::ErrorCode::kIo);
  EXPECT_THAT(under_file.error().message, HasSubstr(dir_ + "/plain/dbrunbook.db"));

  // A directory without write permission (not meaningful as root, who may write anyway).
  if (geteuid() != 0) {
    fs::create_directories(dir_ + "/ro");
    fs::permissions(dir_ + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    auto read_only = Store::Open(dir_ + "/ro/dbrunbook.db");
    ASSERT_FALSE(read_only);
    EXPECT_THAT(read_only.error().message, HasSubstr("cannot open"));
    fs::permissions(dir_ + "/ro", fs::perms::owner_all);
  }

  auto empty = Store::Open("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, core::ErrorCode::kInvalidArgument);
}

TEST(StorePathTest, FollowsXdgStateHomeThenHome) {
  core::MapEnvironment env({{"XDG_STATE_HOME", "/x/state"}, {"HOME", "/home/u"}});
  EXPECT_EQ(DefaultStorePath(env).value(), "/x/state/dbrunbook/dbrunbook.db");
  // A relative XDG_STATE_HOME is ignored, as the XDG specification says.
  core::MapEnvironment relative({{"XDG_STATE_HOME", "state"}, {"HOME", "/home/u"}});
  EXPECT_EQ(DefaultStorePath(relative).value(), "/home/u/.local/state/dbrunbook/dbrunbook.db");
  auto none = DefaultStorePath(core::MapEnvironment());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_THAT(none.error().hint, HasSubstr("--store"));
}

TEST(StorePhaseTest, NamesRoundTrip) {
  for (Phase p :
       {Phase::kPlanned, Phase::kApplied, Phase::kFailed, Phase::kVerified, Phase::kRefused}) {
    EXPECT_EQ(ParsePhase(PhaseName(p)), p);
  }
  EXPECT_FALSE(ParsePhase("approved"));
}

}  // namespace
}  // namespace dbrunbook::store
