// The "mdl" and "open_tables" steps against the real sandbox primary (MariaDB 10.11), with
// every situation created for real by root sessions:
//   - the classic pile-up: a transaction reads a table and goes idle, an ALTER TABLE on it
//     blocks, three SELECTs queue behind the ALTER; the step (and the real CLI) must report
//     exactly one mdl.pileup whose root is the idle transaction's connection;
//   - the same with the MDL instrument disabled (processlist fallback, lower confidence), and
//     with the METADATA_LOCK_INFO plugin loaded instead (granted locks only);
//   - LOCK TABLES ... WRITE and FLUSH TABLES WITH READ LOCK holders (mdl.wait).
// Every test leaves the server as it found it, also when an assertion fails: the scope guards
// kill what still waits, roll the root back, restore the instrument, uninstall the plugin if
// the test installed it, and drop the schema.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collect/target_session.h"
#include "dialect/mdl.h"
#include "mysql/connector_session.h"
#include "steps/investigate.h"
#include "steps/investigate_mdl.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSchema = "mdl_test";

// Runs `f` when the scope ends, whatever happened.
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> f) : f_(std::move(f)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (f_) f_();
  }

 private:
  std::function<void()> f_;
};

// A statement a root session runs in a thread because it blocks. When the guard ends and
// the statement still runs, its connection is killed; the thread is always joined.
class Blocked {
 public:
  Blocked(mysql::SessionFactory& factory, const mysql::ConnectOptions& root, std::string sql) {
    auto session = factory.Connect(root);
    EXPECT_TRUE(session) << session.error().ToString();
    if (!session) return;
    session_ = std::move(*session);
    id_ = session_->info().connection_id;
    thread_ = std::thread([this, sql = std::move(sql)] {
      auto result = session_->Query(sql);
      ok_ = result.has_value();
      done_ = true;
    });
  }
  Blocked(const Blocked&) = delete;
  Blocked& operator=(const Blocked&) = delete;
  ~Blocked() {
    if (!thread_.joinable()) return;
    if (!done_) (void)testing::SandboxSql("primary", fmt::format("KILL CONNECTION {}", id_));
    thread_.join();
  }
  uint64_t id() const { return id_; }
  bool done() const { return done_; }
  // Waits (at most `limit`) for the statement to finish; true if it did.
  bool Join(std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (!done_ && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!done_) return false;
    thread_.join();
    return ok_;
  }

 private:
  std::unique_ptr<mysql::Session> session_;
  uint64_t id_ = 0;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<bool> ok_{false};
};

class MdlIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto setup = testing::SandboxSql(
        "primary", fmt::format("DROP DATABASE IF EXISTS {0}; CREATE DATABASE {0}; "
                               "CREATE TABLE {0}.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
                               "INSERT INTO {0}.t VALUES (1, 1), (2, 2);",
                               kSchema));
    ASSERT_TRUE(setup) << setup.error().ToString();
    observer_ = Root();
    ASSERT_NE(observer_, nullptr);
  }

  void TearDown() override {
    observer_.reset();
    auto dropped =
        testing::SandboxSql("primary", fmt::format("DROP DATABASE IF EXISTS {}", kSchema));
    EXPECT_TRUE(dropped) << dropped.error().ToString();
  }

  std::unique_ptr<mysql::Session> Root() {
    auto session = factory_.Connect(primary_.RootOptions());
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  // Polls the processlist until `count` sessions wait for a metadata lock on our schema.
  bool WaitForWaiters(size_t count) {
    const auto end = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < end) {
      auto rs = observer_->Query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE "
          "'Waiting for %lock' AND INFO LIKE '%mdl_test%'");
      if (rs && !rs->rows.empty() && rs->rows[0]["n"].AsUint64().value_or(0) >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // Turns the MDL instrument off; the returned guard puts back what it was (ENABLED and
  // TIMED), even when the test fails.
  ScopeExit DisableMdlInstrument() {
    auto before = observer_->Query(
        "SELECT ENABLED, TIMED FROM performance_schema.setup_instruments WHERE NAME = "
        "'wait/lock/metadata/sql/mdl'");
    EXPECT_TRUE(before && before->rows.size() == 1);
    const std::string enabled =
        before && !before->rows.empty() ? before->rows[0]["ENABLED"].StringOr("YES") : "YES";
    const std::string timed =
        before && !before->rows.empty() ? before->rows[0]["TIMED"].StringOr("YES") : "YES";
    EXPECT_TRUE(
        observer_->Query("UPDATE performance_schema.setup_instruments SET ENABLED = "
                         "'NO' WHERE NAME = 'wait/lock/metadata/sql/mdl'"));
    return ScopeExit([enabled, timed] {
      auto restored = testing::SandboxSql(
          "primary", fmt::format("UPDATE performance_schema.setup_instruments SET ENABLED = "
                                 "'{}', TIMED = '{}' WHERE NAME = 'wait/lock/metadata/sql/mdl'",
                                 enabled, timed));
      EXPECT_TRUE(restored) << restored.error().ToString();
    });
  }

  collect::TargetSession Monitor() {
    auto target = collect::OpenTargetSession(factory_, primary_.MonitorOptions(), clock_);
    EXPECT_TRUE(target) << target.error().ToString();
    return std::move(*target);
  }

  std::vector<Finding> Investigate(collect::TargetSession& target,
                                   std::set<std::string> only = {"mdl"}) {
    InvestigateOptions options;
    options.only = std::move(only);
    const auto steps = MakeInvestigationSteps();
    Investigation inv = RunInvestigation(target, clock_, options, steps);
    for (const auto& s : inv.steps) {
      if (s.ran) {
        EXPECT_FALSE(s.failed) << s.name;
      }
    }
    return inv.findings;
  }

  static std::vector<const Finding*> All(const std::vector<Finding>& findings,
                                         std::string_view code) {
    std::vector<const Finding*> out;
    for (const auto& f : findings) {
      if (f.code == code) out.push_back(&f);
    }
    return out;
  }

  static std::set<int64_t> Ids(const Finding& f, std::string_view role) {
    std::set<int64_t> ids;
    for (const auto& row : f.evidence) {
      const auto* r = row.Find("role");
      if (r != nullptr && std::get<std::string>(*r) == role) {
        ids.insert(std::get<int64_t>(*row.Find("connection_id")));
      }
    }
    return ids;
  }

  // The classic scenario: root transaction, ALTER, three SELECTs. Returns false if it could
  // not be set up (the test then fails).
  struct Pileup {
    std::unique_ptr<mysql::Session> root;
    std::unique_ptr<Blocked> alter;
    std::vector<std::unique_ptr<Blocked>> selects;
  };
  bool StartPileup(Pileup& p) {
    p.root = Root();
    if (p.root == nullptr) return false;
    if (!p.root->Query("BEGIN") || !p.root->Query("SELECT * FROM mdl_test.t WHERE id = 1")) {
      return false;
    }
    // The transaction must be older than the ALTER's wait (whole-second trx_started).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    p.alter = std::make_unique<Blocked>(factory_, primary_.RootOptions(),
                                        "ALTER TABLE mdl_test.t ADD COLUMN c INT");
    if (!WaitForWaiters(1)) return false;
    for (int i = 0; i < 3; ++i) {
      p.selects.push_back(std::make_unique<Blocked>(
          factory_, primary_.RootOptions(),
          fmt::format("SELECT v FROM mdl_test.t WHERE id = {} /* queued-{} */", 1 + i % 2, i)));
    }
    return WaitForWaiters(4);
  }
  // Ends the scenario the way a DBA would: the root rolls back, the ALTER then runs and the
  // SELECTs after it.
  void EndPileup(Pileup& p) {
    if (p.root != nullptr) {
      EXPECT_TRUE(p.root->Query("ROLLBACK"));
    }
    if (p.alter) {
      EXPECT_TRUE(p.alter->Join(std::chrono::seconds(20)));
    }
    for (auto& s : p.selects) EXPECT_TRUE(s->Join(std::chrono::seconds(20)));
  }

  void ExpectOnePileup(const std::vector<Finding>& findings, const Pileup& p,
                       std::string_view root_role) {
    const auto pileups = All(findings, "mdl.pileup");
    ASSERT_EQ(pileups.size(), 1u);
    const Finding& f = *pileups.front();
    EXPECT_EQ(f.severity, Severity::kCritical);  // three queued
    EXPECT_EQ(Ids(f, root_role),
              std::set<int64_t>{static_cast<int64_t>(p.root->info().connection_id)});
    EXPECT_EQ(Ids(f, "waiting"), std::set<int64_t>{static_cast<int64_t>(p.alter->id())});
    std::set<int64_t> queued;
    for (const auto& s : p.selects) queued.insert(static_cast<int64_t>(s->id()));
    EXPECT_EQ(Ids(f, "queued"), queued);
    EXPECT_NE(f.title.find(fmt::format("ALTER TABLE on mdl_test.t (connection {})", p.alter->id())),
              std::string::npos)
        << f.title;
    EXPECT_NE(f.title.find("3 sessions queued behind it"), std::string::npos) << f.title;
    ASSERT_GE(f.suggestions.size(), 2u);
    EXPECT_EQ(f.suggestions[0].sql,
              fmt::format("KILL CONNECTION {}", p.root->info().connection_id));
    EXPECT_EQ(f.suggestions[1].sql, fmt::format("KILL QUERY {}", p.alter->id()));
    EXPECT_TRUE(All(findings, "mdl.wait").empty());
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
  std::unique_ptr<mysql::Session> observer_;
};

TEST_F(MdlIntegrationTest, AlterBehindIdleTransactionIsOnePileupWithItsRoot) {
  Pileup p;
  ScopeExit cleanup([&] { EndPileup(p); });
  ASSERT_TRUE(StartPileup(p));

  collect::TargetSession target = Monitor();
  ASSERT_EQ(target.flavor().capabilities.mdl_instrument, true);
  const auto findings = Investigate(target);
  ExpectOnePileup(findings, p, "root");
  const Finding& f = *All(findings, "mdl.pileup").front();
  EXPECT_NE(f.detail.find("performance_schema.metadata_locks; confidence high"), std::string::npos)
      << f.detail;
  EXPECT_TRUE(All(findings, "check.partial").empty());
  for (const auto& row : f.evidence) {
    if (std::get<std::string>(*row.Find("role")) == "root") {
      EXPECT_EQ(std::get<std::string>(*row.Find("lock")), "SHARED_READ (granted)");
      EXPECT_GE(std::get<double>(*row.Find("transaction_seconds")), 1.0);
      EXPECT_EQ(std::get<std::string>(*row.Find("command")), "Sleep");
    }
  }

  // Open tables in use, as the monitor account sees them: SHOW OPEN TABLES shows it none of
  // mdl_test's tables (no privilege on the schema), root sees the table in use;
  // performance_schema.table_handles shows it to the monitor with the ALTER's connection.
  auto monitor_show = target.session->Query("SHOW OPEN TABLES FROM mdl_test WHERE In_use > 0");
  ASSERT_TRUE(monitor_show) << monitor_show.error().ToString();
  EXPECT_TRUE(monitor_show->rows.empty());
  auto root_show = observer_->Query("SHOW OPEN TABLES FROM mdl_test WHERE In_use > 0");
  ASSERT_TRUE(root_show);
  ASSERT_EQ(root_show->rows.size(), 1u);
  EXPECT_EQ(root_show->rows[0]["Table"].StringOr(""), "t");
  const auto tables = Investigate(target, {"open_tables"});
  const auto in_use = All(tables, "table.in_use");
  ASSERT_EQ(in_use.size(), 1u);
  bool seen = false;
  for (const auto& row : in_use.front()->evidence) {
    if (std::get<std::string>(*row.Find("schema")) != kSchema) continue;
    seen = true;
    EXPECT_EQ(std::get<std::string>(*row.Find("table")), "t");
    EXPECT_TRUE(std::holds_alternative<std::monostate>(*row.Find("in_use")));  // not visible
    const std::string ids = std::get<std::string>(*row.Find("connection_ids"));
    EXPECT_NE(ids.find(std::to_string(p.alter->id())), std::string::npos) << ids;
  }
  EXPECT_TRUE(seen);
  EXPECT_NE(in_use.front()->detail.find("SHOW OPEN TABLES showed 0 of these"), std::string::npos)
      << in_use.front()->detail;
}

// The real binary end to end: --only mdl --format json, exit status 2 for the critical
// pile-up.
TEST_F(MdlIntegrationTest, CommandReportsThePileupAsJson) {
  const char* binary = std::getenv("DBRUNBOOK_BINARY");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(binary, nullptr);
  Pileup p;
  ScopeExit cleanup([&] { EndPileup(p); });
  ASSERT_TRUE(StartPileup(p));
  const std::string command = fmt::format(
      "{} investigate --dsn mysql://monitor@127.0.0.1:{}/ --password-file {} --only mdl "
      "--format json 2>/dev/null",
      binary, primary_.port, primary_.monitor_password_file);
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c): test harness
  ASSERT_NE(pipe, nullptr);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  const auto json = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << out;
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_EQ(json["exit_code"], 2);
  int pileups = 0;
  for (const auto& f : json["findings"]) {
    if (f["code"] != "mdl.pileup") continue;
    ++pileups;
    EXPECT_EQ(f["severity"], "critical");
    std::set<int64_t> queued;
    int64_t root = 0;
    int64_t waiting = 0;
    for (const auto& row : f["evidence"]) {
      ASSERT_TRUE(row["connection_id"].is_number_integer());
      if (row["role"] == "root") root = row["connection_id"];
      if (row["role"] == "waiting") waiting = row["connection_id"];
      if (row["role"] == "queued") queued.insert(row["connection_id"].get<int64_t>());
    }
    EXPECT_EQ(root, static_cast<int64_t>(p.root->info().connection_id));
    EXPECT_EQ(waiting, static_cast<int64_t>(p.alter->id()));
    EXPECT_EQ(queued.size(), 3u);
    EXPECT_EQ(f["suggestions"][0]["sql"],
              fmt::format("KILL CONNECTION {}", p.root->info().connection_id));
  }
  EXPECT_EQ(pileups, 1) << out;
  for (const auto& step : json["steps"]) EXPECT_EQ(step["ran"], step["group"] == "mdl");
}

// The instrument off: the step falls back to the processlist (the METADATA_LOCK_INFO plugin
// is not loaded on the sandbox) and says how sure it is. The capability is detected per
// session, at connect: the monitor session is opened after the instrument is turned off.
TEST_F(MdlIntegrationTest, WithoutTheInstrumentTheRootIsInferredFromTheProcesslist) {
  ScopeExit restore = DisableMdlInstrument();
  auto plugin = observer_->Query(
      "SELECT COUNT(*) AS n FROM information_schema.PLUGINS WHERE PLUGIN_NAME = "
      "'METADATA_LOCK_INFO'");
  ASSERT_TRUE(plugin);
  ASSERT_EQ(plugin->rows[0]["n"].AsInt64(), 0) << "the sandbox is expected without the plugin";

  Pileup p;
  ScopeExit cleanup([&] { EndPileup(p); });
  ASSERT_TRUE(StartPileup(p));
  collect::TargetSession target = Monitor();
  ASSERT_EQ(target.flavor().capabilities.mdl_instrument, false);
  const auto findings = Investigate(target);
  ExpectOnePileup(findings, p, "root (inferred)");
  const Finding& f = *All(findings, "mdl.pileup").front();
  EXPECT_NE(f.title.find(fmt::format("probably for connection {}", p.root->info().connection_id)),
            std::string::npos)
      << f.title;
  EXPECT_NE(f.detail.find("Source: processlist; confidence low"), std::string::npos) << f.detail;
  const auto partial = All(findings, "check.partial");
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial.front()->severity, Severity::kInfo);
  EXPECT_NE(partial.front()->detail.find("instrument is disabled"), std::string::npos);
  EXPECT_NE(partial.front()->detail.find("METADATA_LOCK_INFO plugin is not loaded"),
            std::string::npos);
}

// The instrument off and the METADATA_LOCK_INFO plugin loaded: granted locks are exact, so
// the root is named without guessing; the monitor account reads the plugin table.
TEST_F(MdlIntegrationTest, MetadataLockInfoNamesTheRootWithoutTheInstrument) {
  ScopeExit restore = DisableMdlInstrument();
  auto loaded = observer_->Query(
      "SELECT COUNT(*) AS n FROM information_schema.PLUGINS WHERE PLUGIN_NAME = "
      "'METADATA_LOCK_INFO'");
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->rows[0]["n"].AsInt64(), 0) << "the sandbox is expected without the plugin";
  ASSERT_TRUE(observer_->Query("INSTALL SONAME 'metadata_lock_info'"));
  ScopeExit uninstall([] {
    auto removed = testing::SandboxSql("primary", "UNINSTALL SONAME 'metadata_lock_info'");
    EXPECT_TRUE(removed) << removed.error().ToString();
  });

  Pileup p;
  ScopeExit cleanup([&] { EndPileup(p); });
  ASSERT_TRUE(StartPileup(p));
  collect::TargetSession target = Monitor();
  const auto findings = Investigate(target);
  ExpectOnePileup(findings, p, "root");
  const Finding& f = *All(findings, "mdl.pileup").front();
  EXPECT_NE(f.detail.find("information_schema.METADATA_LOCK_INFO; confidence medium"),
            std::string::npos)
      << f.detail;
  const auto partial = All(findings, "check.partial");
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_NE(partial.front()->detail.find("granted locks only"), std::string::npos);
}

// LOCK TABLES ... WRITE and FLUSH TABLES WITH READ LOCK held by idle sessions: mdl.wait with
// the holder.
TEST_F(MdlIntegrationTest, LockTablesAndGlobalReadLockHoldersAreNamed) {
  {
    auto holder = Root();
    ASSERT_NE(holder, nullptr);
    ASSERT_TRUE(holder->Query("LOCK TABLES mdl_test.t WRITE"));
    ScopeExit unlock([&] { EXPECT_TRUE(holder->Query("UNLOCK TABLES")); });
    Blocked reader(factory_, primary_.RootOptions(), "SELECT * FROM mdl_test.t");
    ASSERT_TRUE(WaitForWaiters(1));
    collect::TargetSession target = Monitor();
    const auto findings = Investigate(target);
    const auto waits = All(findings, "mdl.wait");
    ASSERT_EQ(waits.size(), 1u);
    EXPECT_TRUE(All(findings, "mdl.pileup").empty());
    EXPECT_EQ(Ids(*waits.front(), "root"),
              std::set<int64_t>{static_cast<int64_t>(holder->info().connection_id)});
    EXPECT_EQ(Ids(*waits.front(), "waiting"), std::set<int64_t>{static_cast<int64_t>(reader.id())});
    EXPECT_EQ(waits.front()->suggestions[0].sql,
              fmt::format("KILL CONNECTION {}", holder->info().connection_id));
  }
  {
    auto holder = Root();
    ASSERT_NE(holder, nullptr);
    ASSERT_TRUE(holder->Query("FLUSH TABLES WITH READ LOCK"));
    ScopeExit unlock([&] { EXPECT_TRUE(holder->Query("UNLOCK TABLES")); });
    Blocked writer(factory_, primary_.RootOptions(), "INSERT INTO mdl_test.t VALUES (3, 3)");
    Blocked ddl(factory_, primary_.RootOptions(), "ALTER TABLE mdl_test.t ADD COLUMN d INT");
    ASSERT_TRUE(WaitForWaiters(2));
    collect::TargetSession target = Monitor();
    const auto findings = Investigate(target);
    const auto waits = All(findings, "mdl.wait");
    ASSERT_EQ(waits.size(), 1u) << (findings.empty() ? "" : findings.front().title);
    EXPECT_EQ(Ids(*waits.front(), "root"),
              std::set<int64_t>{static_cast<int64_t>(holder->info().connection_id)});
    EXPECT_EQ(Ids(*waits.front(), "waiting"), (std::set<int64_t>{static_cast<int64_t>(writer.id()),
                                                                 static_cast<int64_t>(ddl.id())}));
    EXPECT_NE(waits.front()->title.find("the backup lock"), std::string::npos)
        << waits.front()->title;
  }
}

// Nobody waits: no finding, one statement after the grant check (SHOW GRANTS, read once per
// session and shared with the other steps).
TEST_F(MdlIntegrationTest, QuietServerCostsOneStatementAfterTheGrantCheck) {
  collect::TargetSession target = Monitor();
  const uint64_t before = target.session->statements_sent();
  MetadataLocksStep step;
  InvestigateOptions options;
  StepContext context{target, clock_, options, clock_.MonotonicNow() + std::chrono::seconds(20)};
  auto findings = step.Run(context);
  ASSERT_TRUE(findings) << findings.error().ToString();
  EXPECT_TRUE(findings->empty());
  EXPECT_EQ(target.session->statements_sent() - before, 2u);
  ASSERT_TRUE(target.grants.has_value());
  auto again = step.Run(context);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(target.session->statements_sent() - before, 3u);
}

}  // namespace
}  // namespace dbrunbook::steps
