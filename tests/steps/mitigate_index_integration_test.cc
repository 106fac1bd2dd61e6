// mitigate index's re-check against the primary sandbox: an index of the planned name (or one
// covering the planned columns) created between the plan and --apply makes ApplyIndex refuse
// without sending the ALTER; the same plan applied to an unchanged table adds and verifies the
// index. Planning and execution are separate calls, so the test changes the server between
// them (no hook).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>

#include "collect/target_session.h"
#include "mysql/connector_session.h"
#include "steps/mitigate_index.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

using ::testing::HasSubstr;

constexpr const char* kQuery = "SELECT id FROM items WHERE k = 7 ORDER BY id";

class MitigateIndexIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto filled = testing::SandboxSql(
        "primary",
        "DROP DATABASE IF EXISTS mi_step; CREATE DATABASE mi_step; "
        "CREATE TABLE mi_step.items (id INT PRIMARY KEY, k INT NOT NULL, v VARCHAR(20)) "
        "ENGINE=InnoDB; INSERT INTO mi_step.items SELECT seq, seq % 500, 'x' FROM "
        "mi_step.seq_1_to_50000; ANALYZE TABLE mi_step.items;");
    ASSERT_TRUE(filled) << filled.error().ToString();
  }

  StatementAdvice Plan(collect::TargetSession& target) {
    StatementInput input{kQuery, "mi_step", "test"};
    auto advice = AdviseStatement(target, input, AdviseOptions{});
    EXPECT_TRUE(advice) << advice.error().ToString();
    if (!advice) return {};
    EXPECT_FALSE(advice->error) << advice->error->ToString();
    EXPECT_EQ(advice->tables.size(), 1u);
    return *advice;
  }

  std::string ShowIndex() {
    auto out = testing::SandboxSql("primary", "SHOW INDEX FROM mi_step.items");
    EXPECT_TRUE(out) << out.error().ToString();
    return out.value_or("");
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
};

TEST_F(MitigateIndexIntegrationTest, AnIndexCreatedBetweenPlanAndApplyIsNotAddedAgain) {
  auto target = collect::OpenTargetSession(factory_, primary_.RootOptions(), clock_);
  ASSERT_TRUE(target) << target.error().ToString();
  const StatementAdvice advice = Plan(*target);
  ASSERT_EQ(advice.tables.size(), 1u);
  const TableAdvice& table = advice.tables[0];
  ASSERT_TRUE(table.candidate) << table.skipped;
  EXPECT_EQ(table.candidate->name, "dbr_k_id");

  // Someone adds an index of that name meanwhile (on other columns).
  ASSERT_TRUE(testing::SandboxSql("primary", "ALTER TABLE mi_step.items ADD INDEX dbr_k_id (v)"));
  const std::string before = ShowIndex();
  ApplyOutcome o = ApplyIndex(*target, nullptr, advice, table, ApplyOptions{}, clock_);
  EXPECT_EQ(o.status, ApplyStatus::kRefused) << o.detail;
  EXPECT_THAT(o.detail, HasSubstr("exists now"));
  EXPECT_TRUE(o.sql.empty());
  EXPECT_EQ(ShowIndex(), before);

  // Or an index covering the columns under another name.
  ASSERT_TRUE(testing::SandboxSql("primary",
                                  "ALTER TABLE mi_step.items DROP INDEX dbr_k_id, ADD INDEX "
                                  "by_k (k, id)"));
  o = ApplyIndex(*target, nullptr, advice, table, ApplyOptions{}, clock_);
  EXPECT_EQ(o.status, ApplyStatus::kRefused) << o.detail;
  EXPECT_THAT(o.detail, HasSubstr("by_k"));

  // The table as planned: added (progress polled from a second session), and verified.
  ASSERT_TRUE(testing::SandboxSql("primary", "ALTER TABLE mi_step.items DROP INDEX by_k"));
  auto progress = collect::OpenTargetSession(factory_, primary_.RootOptions(), clock_);
  ASSERT_TRUE(progress) << progress.error().ToString();
  ApplyOptions with_progress;
  with_progress.poll_interval = std::chrono::milliseconds(20);
  int progress_lines = 0;
  with_progress.progress = [&](const std::string& line) {
    ++progress_lines;
    std::cout << "progress: " << line << "\n";
  };
  o = ApplyIndex(*target, &*progress, advice, table, with_progress, clock_);
  // How many lines depends on how long the build takes; printed, not asserted.
  std::cout << progress_lines << " progress line(s) in " << o.seconds << " s\n";
  EXPECT_EQ(o.status, ApplyStatus::kVerified) << o.detail;
  EXPECT_EQ(o.key_after, "dbr_k_id");
  ASSERT_TRUE(o.rows_after);
  EXPECT_LT(*o.rows_after, table.rows_before);
  EXPECT_THAT(ShowIndex(), HasSubstr("dbr_k_id"));
}

}  // namespace
}  // namespace dbrunbook::steps
