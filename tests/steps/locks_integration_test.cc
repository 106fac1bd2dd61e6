// The locks step against the sandbox MariaDB, with the situations created for real:
//   - a three-deep row-lock chain whose root is a session idle in an open transaction
//     (A holds row 1 and sleeps; B holds row 2 and waits for row 1; C waits for row 2),
//     checked against the sys schema's own answer (sys.innodb_lock_waits) and through the
//     real binary's JSON output;
//   - a real deadlock between two sessions.
// Sessions are opened as root (the scenario); the step runs as the sandbox's monitoring
// account (PROCESS, SELECT on performance_schema, SELECT/EXECUTE on sys). Every session the
// test opens is rolled back or killed and the schema dropped, also when an assertion fails.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "collect/target_session.h"
#include "core/clock.h"
#include "mysql/connector_session.h"
#include "steps/investigate_locks.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

constexpr const char* kSchema = "locks_it";

// Kills the scenario's connections (which unblocks their waiting threads) and joins the
// threads: the cleanup that must happen even when an assertion returned early.
class ScenarioGuard {
 public:
  ScenarioGuard(mysql::Session* admin, std::vector<std::thread>& threads)
      : admin_(admin), threads_(threads) {}
  ScenarioGuard(const ScenarioGuard&) = delete;
  ScenarioGuard& operator=(const ScenarioGuard&) = delete;
  ~ScenarioGuard() {
    for (uint64_t id : ids_) {
      if (admin_ != nullptr) (void)admin_->Query("KILL CONNECTION " + std::to_string(id));
    }
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  void Add(uint64_t id) { ids_.push_back(id); }

 private:
  mysql::Session* admin_;
  std::vector<std::thread>& threads_;
  std::vector<uint64_t> ids_;
};

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

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

class LocksIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto setup = testing::SandboxSql(
        "primary", std::string("DROP DATABASE IF EXISTS ") + kSchema + "; CREATE DATABASE " +
                       kSchema + "; CREATE TABLE " + kSchema +
                       ".t (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB; INSERT INTO " +
                       kSchema + ".t VALUES (1, 0), (2, 0), (3, 0);");
    ASSERT_TRUE(setup) << setup.error().ToString();
  }

  void TearDown() override {
    auto drop = testing::SandboxSql("primary", std::string("DROP DATABASE IF EXISTS ") + kSchema);
    EXPECT_TRUE(drop) << drop.error().ToString();
  }

  std::unique_ptr<mysql::Session> Root() {
    auto session = factory_.Connect(primary_.RootOptions());
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  // Waits until connection `id` is in a row-lock wait (at most 10 s). InnoDB refreshes the
  // cache behind information_schema.INNODB_TRX only when nobody has read it for 100 ms, so
  // polling faster than that would keep reading the same stale snapshot.
  bool WaitsForALock(mysql::Session& admin, uint64_t id) {
    const std::string sql =
        "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' "
        "AND trx_mysql_thread_id = " +
        std::to_string(id);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      auto rs = admin.Query(sql);
      if (rs && !rs->rows.empty() && rs->rows[0]["n"].AsInt64() == 1) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }

  collect::TargetSession Monitor() {
    auto target = collect::OpenTargetSession(factory_, primary_.MonitorOptions(), clock_);
    EXPECT_TRUE(target) << target.error().ToString();
    return std::move(*target);
  }

  std::vector<Finding> RunStep(collect::TargetSession& target) {
    LocksStep step;
    InvestigateOptions options;
    StepContext context{target, clock_, options, clock_.MonotonicNow() + options.step_budget};
    auto findings = step.Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? std::move(*findings) : std::vector<Finding>{};
  }

  std::string Update(int id, std::string_view marker) {
    return std::string("UPDATE ") + kSchema + ".t SET v = v + 1 WHERE id = " + std::to_string(id) +
           " /* " + std::string(marker) + " */";
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
};

TEST_F(LocksIntegrationTest, ThreeDeepChainWhoseRootIsAnIdleTransaction) {
  auto admin = Root();
  auto a = Root();
  auto b = Root();
  auto c = Root();
  ASSERT_TRUE(admin && a && b && c);
  const uint64_t a_id = a->info().connection_id;
  const uint64_t b_id = b->info().connection_id;
  const uint64_t c_id = c->info().connection_id;
  std::vector<std::thread> threads;
  core::Result<mysql::ResultSet> b_wait = mysql::ResultSet{};
  core::Result<mysql::ResultSet> c_wait = mysql::ResultSet{};
  ScenarioGuard guard(admin.get(), threads);
  guard.Add(c_id);
  guard.Add(b_id);
  guard.Add(a_id);

  // A: takes row 1 and goes idle inside its transaction.
  ASSERT_TRUE(a->Query("BEGIN"));
  ASSERT_TRUE(a->Query(Update(1, "chain-a")));
  // B: takes row 2, then waits for row 1 (A).
  ASSERT_TRUE(b->Query("BEGIN"));
  ASSERT_TRUE(b->Query(Update(2, "chain-b1")));
  threads.emplace_back([&] { b_wait = b->Query(Update(1, "chain-b2")); });
  ASSERT_TRUE(WaitsForALock(*admin, b_id));
  // C: waits for row 2 (B).
  ASSERT_TRUE(c->Query("BEGIN"));
  threads.emplace_back([&] { c_wait = c->Query(Update(2, "chain-c")); });
  ASSERT_TRUE(WaitsForALock(*admin, c_id));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // waits of at least 1 s

  collect::TargetSession target = Monitor();
  const uint64_t sent_before = target.session->statements_sent();
  const std::vector<Finding> findings = RunStep(target);
  EXPECT_EQ(target.session->statements_sent() - sent_before, 3u);

  std::vector<const Finding*> roots;
  const Finding* waits = nullptr;
  for (const auto& f : findings) {
    if (f.code == "lock.root_blocker") roots.push_back(&f);
    if (f.code == "lock.waits") waits = &f;
  }
  ASSERT_EQ(roots.size(), 1u);
  const Finding& root = *roots[0];
  EXPECT_EQ(root.severity, Severity::kCritical);
  EXPECT_TRUE(Contains(root.title, "connection " + std::to_string(a_id) + " (root@localhost)"))
      << root.title;
  EXPECT_TRUE(Contains(root.title, "2 sessions (1 directly)")) << root.title;
  EXPECT_TRUE(Contains(root.title, "idle in an open transaction")) << root.title;
  ASSERT_EQ(root.evidence.size(), 3u);
  const EvidenceRow& r = root.evidence[0];
  EXPECT_EQ(Str(r, "role"), "root");
  EXPECT_EQ(Int(r, "connection_id"), static_cast<int64_t>(a_id));  // exactly A
  EXPECT_EQ(Str(r, "user"), "root");
  EXPECT_EQ(Bool(r, "idle"), true);
  EXPECT_EQ(Int(r, "blocks_total"), 2);
  EXPECT_EQ(Int(r, "blocks_directly"), 1);
  EXPECT_EQ(Int(r, "rows_modified"), 1);
  // Its last statement from performance_schema (the processlist shows none: it is idle).
  EXPECT_TRUE(Contains(Str(r, "statement"), "chain-a")) << Str(r, "statement");
  EXPECT_TRUE(Contains(Str(r, "statement_source"), "events_statements_current"));
  EXPECT_TRUE(Contains(root.detail, "BEGIN")) << root.detail;

  const EvidenceRow& rb = root.evidence[1];
  EXPECT_EQ(Str(rb, "role"), "waiter");
  EXPECT_EQ(Int(rb, "connection_id"), static_cast<int64_t>(b_id));
  EXPECT_EQ(Int(rb, "depth"), 1);
  EXPECT_EQ(Str(rb, "blocked_by"), std::to_string(a_id));
  EXPECT_TRUE(Contains(Str(rb, "statement"), "chain-b2"));
  EXPECT_EQ(Str(rb, "locked_table"), "`locks_it`.`t`");
  EXPECT_EQ(Str(rb, "locked_index"), "PRIMARY");
  EXPECT_EQ(Str(rb, "lock_mode"), "X");
  const EvidenceValue* wait = rb.Find("wait_seconds");
  ASSERT_NE(wait, nullptr);
  ASSERT_TRUE(std::holds_alternative<double>(*wait));
  EXPECT_GE(std::get<double>(*wait), 1.0);
  // The waiter's own transaction: open at least as long as it has waited.
  const EvidenceValue* waiter_trx = rb.Find("transaction_seconds");
  ASSERT_NE(waiter_trx, nullptr);
  ASSERT_TRUE(std::holds_alternative<double>(*waiter_trx)) << EvidenceText(*waiter_trx);
  EXPECT_GE(std::get<double>(*waiter_trx), std::get<double>(*wait));

  const EvidenceRow& rc = root.evidence[2];
  EXPECT_EQ(Int(rc, "connection_id"), static_cast<int64_t>(c_id));
  EXPECT_EQ(Int(rc, "depth"), 2);
  EXPECT_EQ(Str(rc, "blocked_by"), std::to_string(b_id));
  EXPECT_TRUE(Contains(Str(rc, "statement"), "chain-c"));

  ASSERT_GE(root.suggestions.size(), 2u);
  EXPECT_EQ(root.suggestions[0].sql, "KILL CONNECTION " + std::to_string(a_id));
  EXPECT_TRUE(Contains(root.suggestions[1].text, "find the application"));

  // The peer: sys.innodb_lock_waits on the same situation gives the same pairs.
  ASSERT_NE(waits, nullptr);
  std::set<std::pair<int64_t, int64_t>> ours;
  for (const auto& row : waits->evidence) {
    ours.emplace(Int(row, "waiting_id").value_or(-1), Int(row, "blocking_id").value_or(-1));
  }
  auto sys = target.session->Query("SELECT waiting_pid, blocking_pid FROM sys.innodb_lock_waits");
  ASSERT_TRUE(sys) << sys.error().ToString();
  std::set<std::pair<int64_t, int64_t>> peer;
  for (const auto& row : sys->rows) {
    peer.emplace(row["waiting_pid"].AsInt64().value_or(-2),
                 row["blocking_pid"].AsInt64().value_or(-2));
  }
  EXPECT_EQ(ours, peer);
  const std::set<std::pair<int64_t, int64_t>> expected = {
      {static_cast<int64_t>(b_id), static_cast<int64_t>(a_id)},
      {static_cast<int64_t>(c_id), static_cast<int64_t>(b_id)}};
  EXPECT_EQ(ours, expected);

  // The real binary, end to end: JSON with the same root.
  const char* binary = std::getenv("DBRUNBOOK_BINARY");
  ASSERT_NE(binary, nullptr) << "DBRUNBOOK_BINARY is not set: run through ctest";
  const std::string command =
      std::string("cd /tmp && '") + binary +
      "' investigate --dsn 'mysql://monitor@127.0.0.1:" + std::to_string(primary_.port) +
      "/' --password-file '" + primary_.monitor_password_file + "' --only locks --format json 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;  // a critical finding
  const nlohmann::json json = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << out;
  bool found = false;
  for (const auto& f : json["findings"]) {
    if (f["code"] != "lock.root_blocker") continue;
    found = true;
    EXPECT_EQ(f["severity"], "critical");
    EXPECT_EQ(f["evidence"][0]["connection_id"], a_id);
    EXPECT_EQ(f["evidence"][0]["idle"], true);
    EXPECT_EQ(f["evidence"].size(), 3u);
    EXPECT_EQ(f["evidence"][2]["connection_id"], c_id);
    EXPECT_EQ(f["suggestions"][0]["sql"], "KILL CONNECTION " + std::to_string(a_id));
  }
  EXPECT_TRUE(found) << out;

  // Unwind in order: A's rollback lets B take row 1, B's lets C take row 2.
  ASSERT_TRUE(a->Query("ROLLBACK"));
  threads[0].join();
  EXPECT_TRUE(b_wait) << b_wait.error().ToString();
  ASSERT_TRUE(b->Query("ROLLBACK"));
  threads[1].join();
  EXPECT_TRUE(c_wait) << c_wait.error().ToString();
  ASSERT_TRUE(c->Query("ROLLBACK"));
}

TEST_F(LocksIntegrationTest, RealDeadlockIsReported) {
  auto admin = Root();
  auto a = Root();
  auto b = Root();
  ASSERT_TRUE(admin && a && b);
  const uint64_t a_id = a->info().connection_id;
  const uint64_t b_id = b->info().connection_id;
  std::vector<std::thread> threads;
  core::Result<mysql::ResultSet> a_second = mysql::ResultSet{};
  ScenarioGuard guard(admin.get(), threads);
  guard.Add(a_id);
  guard.Add(b_id);

  ASSERT_TRUE(a->Query("BEGIN"));
  ASSERT_TRUE(a->Query(Update(1, "dl-a1")));
  ASSERT_TRUE(b->Query("BEGIN"));
  ASSERT_TRUE(b->Query(Update(2, "dl-b1")));
  threads.emplace_back([&] { a_second = a->Query(Update(2, "dl-a2")); });
  ASSERT_TRUE(WaitsForALock(*admin, a_id));
  auto b_second = b->Query(Update(1, "dl-b2"));  // closes the cycle
  threads[0].join();
  // Exactly one of them was chosen as the victim and got ER_LOCK_DEADLOCK.
  ASSERT_NE(static_cast<bool>(a_second), static_cast<bool>(b_second));
  const auto& failed = a_second ? b_second : a_second;
  EXPECT_EQ(failed.error().server_errno, 1213) << failed.error().ToString();
  const uint64_t victim = a_second ? b_id : a_id;
  const uint64_t survivor = a_second ? a_id : b_id;

  collect::TargetSession target = Monitor();
  const std::vector<Finding> findings = RunStep(target);
  const Finding* deadlock = nullptr;
  for (const auto& f : findings) {
    if (f.code == "lock.deadlock") deadlock = &f;
  }
  ASSERT_NE(deadlock, nullptr);
  EXPECT_EQ(deadlock->severity, Severity::kWarning);  // just now by the server clock
  EXPECT_TRUE(Contains(deadlock->title, "InnoDB rolled back connection " + std::to_string(victim) +
                                            " (root@localhost)"))
      << deadlock->title;
  ASSERT_EQ(deadlock->evidence.size(), 2u);
  std::map<int64_t, const EvidenceRow*> by_connection;
  for (const auto& row : deadlock->evidence) {
    by_connection[Int(row, "connection_id").value_or(-1)] = &row;
  }
  ASSERT_EQ(by_connection.count(static_cast<int64_t>(a_id)), 1u);
  ASSERT_EQ(by_connection.count(static_cast<int64_t>(b_id)), 1u);
  const EvidenceRow& ra = *by_connection[static_cast<int64_t>(a_id)];
  const EvidenceRow& rb = *by_connection[static_cast<int64_t>(b_id)];
  // Each transaction's statement at the time of the deadlock, and what it waited for.
  EXPECT_TRUE(Contains(Str(ra, "statement"), "dl-a2")) << Str(ra, "statement");
  EXPECT_TRUE(Contains(Str(rb, "statement"), "dl-b2")) << Str(rb, "statement");
  EXPECT_TRUE(Contains(Str(ra, "waits_for"), "on `locks_it`.`t` index PRIMARY"));
  EXPECT_TRUE(Contains(Str(rb, "waits_for"), "on `locks_it`.`t` index PRIMARY"));
  EXPECT_EQ(Bool(*by_connection[static_cast<int64_t>(victim)], "rolled_back"), true);
  EXPECT_EQ(Bool(*by_connection[static_cast<int64_t>(survivor)], "rolled_back"), false);
  EXPECT_EQ(Str(ra, "user"), "root");
  for (const auto& s : deadlock->suggestions) EXPECT_TRUE(s.sql.empty());

  // The survivor still holds its rows; end both transactions.
  ASSERT_TRUE(a->Query("ROLLBACK"));
  ASSERT_TRUE(b->Query("ROLLBACK"));
}

}  // namespace
}  // namespace dbrunbook::steps
