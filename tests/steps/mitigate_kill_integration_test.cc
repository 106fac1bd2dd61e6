// mitigate kill-queries' re-check against the primary sandbox: a victim whose statement ends
// and whose connection starts a new, identical-looking statement between the plan and the kill
// is not killed; the same plan executed without that change kills and verifies. Planning and
// execution are separate calls, so the test changes the server between them (no hook).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "collect/activity.h"
#include "mysql/connector_session.h"
#include "steps/mitigate_kill.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

constexpr const char* kMarker = "mitigate_kill_integration";

class MitigateKillIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
  }

  std::unique_ptr<mysql::Session> Root() {
    auto session = factory_.Connect(primary_.RootOptions());
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  KillMatcher Matcher() {
    KillCriteria c;
    c.busy_seconds = 0;
    c.match_info = kMarker;
    auto m = KillMatcher::Create(c);
    EXPECT_TRUE(m) << m.error().ToString();
    return std::move(*m);
  }

  // Waits until connection `id` runs a statement with the marker (at most 10 s).
  void WaitRunning(collect::TargetSession& target, uint64_t id) {
    for (int i = 0; i < 100; ++i) {
      auto s = collect::ReadSession(target, id);
      ASSERT_TRUE(s) << s.error().ToString();
      if (s->has_value() && (*s)->command == "Query" && (*s)->info &&
          (*s)->info->find(kMarker) != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "connection " << id << " never ran the statement";
  }

  std::string Sleep() const { return std::string("SELECT SLEEP(600) /* ") + kMarker + " */"; }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
};

TEST_F(MitigateKillIntegrationTest, AStatementReplacedBetweenPlanAndKillIsNotKilled) {
  auto victim = Root();
  ASSERT_NE(victim, nullptr);
  const uint64_t id = victim->info().connection_id;
  auto target = collect::OpenTargetSession(factory_, primary_.RootOptions(), clock_);
  ASSERT_TRUE(target) << target.error().ToString();

  std::thread first([&] { (void)victim->Query(Sleep()); });
  WaitRunning(*target, id);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto plan = ReadAndPlanKills(*target, clock_, Matcher());
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->victims.size(), 1u);
  ASSERT_EQ(plan->victims[0].session.id, id);
  EXPECT_EQ(plan->victims[0].sql, "KILL CONNECTION " + std::to_string(id));

  // The planned statement ends; the same connection starts the same text again.
  ASSERT_TRUE(testing::SandboxSql("primary", "KILL QUERY " + std::to_string(id)));
  first.join();
  std::thread second([&] { (void)victim->Query(Sleep()); });
  WaitRunning(*target, id);

  const auto outcomes = ExecuteKills(*target, clock_, *plan, ExecuteOptions{});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kChanged) << outcomes[0].detail;
  EXPECT_TRUE(outcomes[0].sql.empty());
  // The new statement still runs on its connection.
  auto still = collect::ReadSession(*target, id);
  ASSERT_TRUE(still);
  ASSERT_TRUE(still->has_value());
  EXPECT_EQ((*still)->command, "Query");

  // Planned afresh, the kill goes through and is verified.
  auto again = ReadAndPlanKills(*target, clock_, Matcher());
  ASSERT_TRUE(again);
  ASSERT_EQ(again->victims.size(), 1u);
  const auto killed = ExecuteKills(*target, clock_, *again, ExecuteOptions{});
  ASSERT_EQ(killed.size(), 1u);
  EXPECT_EQ(killed[0].status, KillStatus::kKilled) << killed[0].detail;
  second.join();
  auto gone = collect::ReadSession(*target, id);
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

// The lock investigation's root blocker, killed: a session idle in a transaction holds a row
// lock two others wait for. The plan names it (and only it), a protected user spares it, and
// the kill is verified once its connection is gone and the two waits are released: both
// waiting UPDATEs then complete.
TEST_F(MitigateKillIntegrationTest, TheRootBlockerIsKilledAndItsLockWaitsReleased) {
  auto setup = Root();
  ASSERT_NE(setup, nullptr);
  for (const char* sql :
       {"CREATE DATABASE IF NOT EXISTS mitigate_kill_locks",
        "CREATE OR REPLACE TABLE mitigate_kill_locks.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB",
        "INSERT INTO mitigate_kill_locks.t VALUES (1, 0), (2, 0)"}) {
    ASSERT_TRUE(setup->Query(sql)) << sql;
  }
  auto blocker = Root();
  ASSERT_NE(blocker, nullptr);
  const uint64_t blocker_id = blocker->info().connection_id;
  ASSERT_TRUE(blocker->Query("BEGIN"));
  ASSERT_TRUE(blocker->Query("UPDATE mitigate_kill_locks.t SET v = v + 1 WHERE id = 1"));

  std::vector<std::unique_ptr<mysql::Session>> waiters;
  std::vector<std::thread> threads;
  std::vector<bool> done(2, false);
  for (int i = 0; i < 2; ++i) {
    waiters.push_back(Root());
    ASSERT_NE(waiters.back(), nullptr);
    ASSERT_TRUE(waiters.back()->Query("SET SESSION innodb_lock_wait_timeout = 60"));
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      done[i] =
          waiters[i]->Query("UPDATE mitigate_kill_locks.t SET v = v + 10 WHERE id = 1").has_value();
    });
  }
  auto target = collect::OpenTargetSession(factory_, primary_.RootOptions(), clock_);
  ASSERT_TRUE(target) << target.error().ToString();
  size_t waits = 0;
  for (int i = 0; i < 100 && waits < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto read = ReadLockWaits(*target);
    ASSERT_TRUE(read) << read.error().ToString();
    waits = read->edges.size();
  }
  ASSERT_GE(waits, 2u) << "the two UPDATEs never waited for the blocker's lock";

  KillCriteria c;
  c.root_blockers = true;
  c.min_wait_seconds = 0;
  c.victims = VictimPolicy::kAll;
  auto matcher = KillMatcher::Create(c);
  ASSERT_TRUE(matcher) << matcher.error().ToString();
  auto plan = ReadAndPlanKills(*target, clock_, *matcher);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_EQ(plan->victims.size(), 1u) << "only the root, never the waiters";
  const Victim& v = plan->victims[0];
  EXPECT_EQ(v.session.id, blocker_id);
  EXPECT_EQ(v.held_up, 2u);
  EXPECT_FALSE(v.blocker_trx_id.empty());
  EXPECT_TRUE(v.idle_in_transaction);
  EXPECT_EQ(v.sql, "KILL CONNECTION " + std::to_string(blocker_id));
  EXPECT_NE(v.why.find("root blocker"), std::string::npos) << v.why;

  // A protected user is spared even as a root blocker; a high --min-wait finds nothing yet.
  KillCriteria guarded = c;
  guarded.protected_users = {"root"};
  auto spared = ReadAndPlanKills(*target, clock_, *KillMatcher::Create(guarded));
  ASSERT_TRUE(spared);
  EXPECT_TRUE(spared->victims.empty());
  ASSERT_EQ(spared->excluded.size(), 1u);
  EXPECT_TRUE(spared->excluded[0].guardrail);
  KillCriteria patient = c;
  patient.min_wait_seconds = 3600;
  auto none = ReadAndPlanKills(*target, clock_, *KillMatcher::Create(patient));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->victims.empty());

  const auto outcomes = ExecuteKills(*target, clock_, *plan, ExecuteOptions{});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kKilled) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].waits_before, 2u);
  EXPECT_EQ(outcomes[0].waits_remaining, 0u);
  EXPECT_NE(outcomes[0].detail.find("released"), std::string::npos) << outcomes[0].detail;
  for (auto& t : threads) t.join();
  EXPECT_TRUE(done[0]);
  EXPECT_TRUE(done[1]);
  ASSERT_TRUE(setup->Query("DROP DATABASE mitigate_kill_locks"));
}

// Any victim that holds locks others wait for (here one matched by --idle-time, not as a root
// blocker) is verified only once those waits are gone, and the plan says it holds them up.
TEST_F(MitigateKillIntegrationTest, AnIdleVictimsKillIsVerifiedByItsLockWaitsReleased) {
  auto setup = Root();
  ASSERT_NE(setup, nullptr);
  for (const char* sql :
       {"CREATE DATABASE IF NOT EXISTS mitigate_kill_idle",
        "CREATE OR REPLACE TABLE mitigate_kill_idle.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB",
        "INSERT INTO mitigate_kill_idle.t VALUES (1, 0)"}) {
    ASSERT_TRUE(setup->Query(sql)) << sql;
  }
  auto idle = Root();
  ASSERT_NE(idle, nullptr);
  const uint64_t idle_id = idle->info().connection_id;
  ASSERT_TRUE(idle->Query("BEGIN"));
  ASSERT_TRUE(idle->Query("UPDATE mitigate_kill_idle.t SET v = 1 WHERE id = 1"));
  auto waiter = Root();
  ASSERT_NE(waiter, nullptr);
  ASSERT_TRUE(waiter->Query("SET SESSION innodb_lock_wait_timeout = 60"));
  bool updated = false;
  std::thread t([&] {
    updated = waiter->Query("UPDATE mitigate_kill_idle.t SET v = 2 WHERE id = 1").has_value();
  });
  auto target = collect::OpenTargetSession(factory_, primary_.RootOptions(), clock_);
  ASSERT_TRUE(target) << target.error().ToString();
  size_t waits = 0;
  for (int i = 0; i < 100 && waits < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto read = ReadLockWaits(*target);
    ASSERT_TRUE(read) << read.error().ToString();
    waits = read->edges.size();
  }
  ASSERT_GE(waits, 1u);

  KillCriteria c;
  c.idle_seconds = 0;
  c.victims = VictimPolicy::kAll;
  auto plan = ReadAndPlanKills(*target, clock_, *KillMatcher::Create(c));
  ASSERT_TRUE(plan) << plan.error().ToString();
  const Victim* victim = nullptr;
  for (const auto& v : plan->victims) {
    if (v.session.id == idle_id) victim = &v;
  }
  ASSERT_NE(victim, nullptr);
  EXPECT_EQ(victim->held_up, 1u);
  EXPECT_FALSE(victim->blocker_trx_id.empty());
  EXPECT_NE(victim->why.find("holds up 1 transaction"), std::string::npos) << victim->why;
  KillPlan only = *plan;
  only.victims = {*victim};
  const auto outcomes = ExecuteKills(*target, clock_, only, ExecuteOptions{});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kKilled) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].waits_remaining, 0u);
  EXPECT_NE(outcomes[0].detail.find("lock waits it caused are released"), std::string::npos)
      << outcomes[0].detail;
  t.join();
  EXPECT_TRUE(updated);
  ASSERT_TRUE(setup->Query("DROP DATABASE mitigate_kill_idle"));
}

}  // namespace
}  // namespace dbrunbook::steps
