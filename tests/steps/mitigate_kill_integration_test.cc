// mitigate kill-queries' re-check against the primary sandbox: a victim whose statement ends
// and whose connection starts a new, identical-looking statement between the plan and the kill
// is not killed; the same plan executed without that change kills and verifies. Planning and
// execution are separate calls, so the test changes the server between them (no hook).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace dbrunbook::steps
