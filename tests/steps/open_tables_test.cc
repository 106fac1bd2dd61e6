// Unit tests of the "open_tables" step over a fake session replaying MariaDB 10.11.19 output
// captured on the sandbox (tests/steps/data/mdl--mariadb-10.11.19--*; see mdl_test.cc):
// SHOW OPEN TABLES WHERE In_use > 0 as the monitor account returned nothing while root saw the
// tables, and performance_schema.table_handles showed them to the monitor account.
#include <gtest/gtest.h>

#include "dialect/mdl.h"
#include "steps/investigate_open_tables.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";

mysql::ResultSet Capture(const std::string& name) {
  auto text = testing::ReadSourceFile("tests/steps/data/mdl--mariadb-10.11.19--" + name + ".txt");
  EXPECT_TRUE(text) << text.error().ToString();
  auto results = testing::ParseRecordedOutput(text ? *text : "");
  EXPECT_EQ(results.size(), 1u) << name;
  return results.empty() ? mysql::ResultSet{} : results.front();
}

// What the mysql client prints nothing for: an empty SHOW OPEN TABLES.
mysql::ResultSet NoOpenTables() {
  return mysql::MakeResultSet({"Database", "Table", "In_use", "Name_locked"}, {});
}

class OpenTablesStepTest : public ::testing::Test {
 protected:
  collect::TargetSession Target(bool performance_schema) {
    auto text = testing::ReadSourceFile(kMariaDbVariables);
    EXPECT_TRUE(text);
    dialect::Flavor flavor = dialect::DetectFlavor(testing::ParseVariables(text ? *text : ""));
    flavor.capabilities.performance_schema = performance_schema;
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    return collect::TargetSession{std::move(fake), dialect::Dialect(flavor), {}, {}, {}};
  }

  core::Result<std::vector<Finding>> Run(collect::TargetSession& target) {
    OpenTablesStep step;
    StepContext context{target, clock_, options_, clock_.MonotonicNow() + std::chrono::seconds(20)};
    return step.Run(context);
  }

  core::SimulatedClock clock_;
  InvestigateOptions options_;
  FakeSession* fake_ = nullptr;
};

TEST_F(OpenTablesStepTest, MonitorAccountSeesTablesThroughTableHandles) {
  auto target = Target(true);
  const auto& d = target.dialect;
  fake_->On(dialect::OpenTablesInUse(d), NoOpenTables());
  fake_->On(dialect::TableHandlesInUse(d, 200), Capture("classic-table_handles"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  ASSERT_EQ(findings->size(), 1u);
  const Finding& f = findings->front();
  EXPECT_EQ(f.code, "table.in_use");
  EXPECT_EQ(f.severity, Severity::kInfo);
  EXPECT_EQ(f.title, "1 table in use: mdlx.t (1)");
  EXPECT_NE(f.detail.find("SHOW OPEN TABLES showed 0 of these 1 tables"), std::string::npos)
      << f.detail;
  ASSERT_EQ(f.evidence.size(), 1u);
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("schema")), "mdlx");
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("table")), "t");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*f.evidence[0].Find("in_use")));
  EXPECT_EQ(std::get<int64_t>(*f.evidence[0].Find("handles")), 1);
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("connection_ids")), "64");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*f.evidence[0].Find("locks")));
}

TEST_F(OpenTablesStepTest, BothSourcesMergePerTable) {
  auto target = Target(true);
  const auto& d = target.dialect;
  fake_->On(dialect::OpenTablesInUse(d), Capture("classic-show_open_tables-root"));
  fake_->On(dialect::TableHandlesInUse(d, 200), Capture("lock_tables-table_handles"));
  auto findings = Run(target);
  ASSERT_TRUE(findings) << findings.error().ToString();
  ASSERT_EQ(findings->size(), 1u);
  const Finding& f = findings->front();
  EXPECT_EQ(f.title, "2 tables in use: mdlx.t (1), mysql.db (1)");
  ASSERT_EQ(f.evidence.size(), 2u);
  EXPECT_EQ(std::get<int64_t>(*f.evidence[0].Find("in_use")), 1);
  EXPECT_EQ(std::get<bool>(*f.evidence[0].Find("name_locked")), false);
  EXPECT_EQ(std::get<int64_t>(*f.evidence[0].Find("handles")), 1);
  EXPECT_EQ(std::get<std::string>(*f.evidence[0].Find("locks")), "WRITE EXTERNAL");
  // mysql.* is not instrumented by default (setup_objects): SHOW OPEN TABLES alone has it.
  EXPECT_EQ(std::get<std::string>(*f.evidence[1].Find("schema")), "mysql");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*f.evidence[1].Find("handles")));
  EXPECT_EQ(f.detail.find("showed"), std::string::npos);  // every table came from SHOW
}

TEST_F(OpenTablesStepTest, MonitoringReadsAreLeftOut) {
  auto target = Target(true);
  const auto& d = target.dialect;
  fake_->On(dialect::OpenTablesInUse(d),
            mysql::MakeResultSet({"Database", "Table", "In_use", "Name_locked"},
                                 {{"performance_schema", "threads", "1", "0"},
                                  {"information_schema", "PROCESSLIST", "1", "0"}}));
  fake_->On(dialect::TableHandlesInUse(d, 200),
            mysql::MakeResultSet(
                {"table_schema", "table_name", "handles", "connection_ids", "locks"}, {}));
  auto findings = Run(target);
  ASSERT_TRUE(findings);
  EXPECT_TRUE(findings->empty());
  // The handles statement itself leaves performance_schema and ourselves out.
  const std::string sql = dialect::TableHandlesInUse(d, 200);
  EXPECT_NE(sql.find("NOT IN ('performance_schema', 'information_schema')"), std::string::npos);
  EXPECT_NE(sql.find("t.PROCESSLIST_ID <> CONNECTION_ID()"), std::string::npos);
}

TEST_F(OpenTablesStepTest, WithoutPerformanceSchemaNothingVisibleIsSaid) {
  auto target = Target(false);
  fake_->On(dialect::OpenTablesInUse(target.dialect), NoOpenTables());
  auto findings = Run(target);
  ASSERT_TRUE(findings);
  EXPECT_EQ(fake_->statements().size(), 1u);
  ASSERT_EQ(findings->size(), 1u);
  const Finding& f = findings->front();
  EXPECT_EQ(f.code, "check.partial");
  EXPECT_EQ(f.severity, Severity::kInfo);
  EXPECT_NE(f.title.find("only tables this account has a privilege on"), std::string::npos);
  EXPECT_NE(f.detail.find("table_handles is not available"), std::string::npos) << f.detail;
}

TEST_F(OpenTablesStepTest, TableHandlesErrorKeepsShowOpenTables) {
  auto target = Target(true);
  const auto& d = target.dialect;
  fake_->On(dialect::OpenTablesInUse(d), Capture("classic-show_open_tables-root"));
  fake_->On(dialect::TableHandlesInUse(d, 200),
            FakeSession::ServerError(core::ErrorCode::kPrivilege, 1142, "42000",
                                     "SELECT command denied to user 'monitor'@'%' for table "
                                     "'table_handles'"));
  auto findings = Run(target);
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(findings->front().code, "table.in_use");
  EXPECT_NE(findings->front().detail.find("table_handles could not be read"), std::string::npos);
  OpenTablesStep step;
  EXPECT_EQ(step.RequiredGrant(target.flavor(), "'monitor'@'%'"),
            "GRANT SELECT ON performance_schema.* TO 'monitor'@'%'");
}

TEST_F(OpenTablesStepTest, ShowOpenTablesErrorIsTheStepsError) {
  auto target = Target(true);
  fake_->On(dialect::OpenTablesInUse(target.dialect),
            FakeSession::ServerError(core::ErrorCode::kServerError, 1317, "70100",
                                     "Query execution was interrupted"));
  auto findings = Run(target);
  ASSERT_FALSE(findings);
  EXPECT_EQ(fake_->statements().size(), 1u);
}

}  // namespace
}  // namespace dbrunbook::steps
