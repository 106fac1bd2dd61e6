// Unit tests of the slow log step, its statements per flavor, and the --enable-slow-log /
// --restore-slow-log action (planning, the state file, and runs against a FakeSession).
//
// Server answers come from real recordings: the live-captured MariaDB 10.11.19 variables,
// MySQL 9.7.1 and Percona Server 8.0.32 / 5.5.23 (pt-mysql-summary). RDS and Aurora have no
// public recording of their variables: their flavors are built from the documented facts
// the flavor tests use (basedir under /rdsdbbin/, aurora_version), with MySQL's recorded slow
// log variables, and are labelled as constructed.
#include "dialect/slowlog.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "app/slow_log_action.h"
#include "core/log.h"
#include "steps/investigate_slowlog.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

namespace fs = std::filesystem;
using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kMySql97Variables =
    "conformance/server-outputs/variables/variables--mysql-9.7.1--pt-summary-temp010.txt";
constexpr const char* kPercona80Variables =
    "conformance/server-outputs/variables/"
    "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kPercona55Variables =
    "conformance/server-outputs/variables/variables--percona-server-5.5.23--pt-summary.txt";

dialect::VariableMap Recorded(const char* path, bool shared = true) {
  auto text = shared ? testing::ReadSharedFile(path) : testing::ReadSourceFile(path);
  EXPECT_TRUE(text) << path;
  return text ? testing::ParseVariables(*text) : dialect::VariableMap{};
}

// What SHOW GLOBAL VARIABLES WHERE Variable_name IN (...) returns from `variables`: the
// rows whose names the statement lists.
mysql::ResultSet Answer(const std::string& statement, const dialect::VariableMap& variables) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  const std::regex name("'([a-z_]+)'");
  for (auto it = std::sregex_iterator(statement.begin(), statement.end(), name);
       it != std::sregex_iterator(); ++it) {
    auto found = variables.find((*it)[1].str());
    if (found != variables.end()) rows.push_back({found->first, found->second});
  }
  return mysql::MakeResultSet({"Variable_name", "Value"}, rows);
}

// Constructed from documented facts (see tests/dialect/flavor_test.cc).
dialect::VariableMap RdsMySql80() {
  return {{"version", "8.0.35"}, {"basedir", "/rdsdbbin/mysql/"}, {"datadir", "/rdsdbdata/db/"}};
}
dialect::VariableMap AuroraV3() {
  return {{"version", "8.0.28"},
          {"aurora_version", "3.04.0"},
          {"basedir", "/rdsdbbin/oscar-8.0.mysql_aurora.3.04.0.0.32961.0/"},
          {"version_comment", "Source distribution"}};
}
dialect::VariableMap MySql80() {
  return {{"version", "8.0.35"}, {"version_comment", "MySQL Community Server - GPL"}};
}

// The slow log variables of `recording` on the flavor of `identity` (RDS/Aurora: MySQL's
// recorded slow log settings on a constructed AWS flavor).
struct Target {
  FakeSession* fake = nullptr;
  std::optional<collect::TargetSession> session;
};

Target MakeTarget(const dialect::VariableMap& identity, const dialect::VariableMap& slow) {
  Target t;
  auto fake = std::make_unique<FakeSession>();
  t.fake = fake.get();
  dialect::VariableMap variables = identity;
  variables["hostname"] = "db1";
  variables["port"] = "3306";
  variables["server_id"] = "7";
  const dialect::Flavor flavor = dialect::DetectFlavor(variables);
  EXPECT_TRUE(flavor.detected());
  t.session.emplace(
      collect::TargetSession{std::move(fake), dialect::Dialect(flavor), variables, {}, {}});
  t.fake->On(dialect::SlowLogVariables(t.session->dialect),
             Answer(dialect::SlowLogVariables(t.session->dialect), slow));
  return t;
}

std::vector<Finding> RunStep(Target& t) {
  core::SimulatedClock clock;
  InvestigateOptions options;
  StepContext context{*t.session, clock, options, clock.MonotonicNow() + std::chrono::seconds(20)};
  SlowLogStep step;
  auto findings = step.Run(context);
  EXPECT_TRUE(findings) << findings.error().ToString();
  return findings ? *findings : std::vector<Finding>{};
}

const Finding* FindCode(const std::vector<Finding>& findings, std::string_view code) {
  for (const auto& f : findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

std::string Text(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  return v != nullptr ? EvidenceText(*v) : "<missing>";
}

// --- statements per flavor ---------------------------------------------------------------

TEST(SlowLogDialectTest, VariablesStatementPerFlavor) {
  const dialect::Dialect mariadb(dialect::DetectFlavor(Recorded(kMariaDbVariables, false)));
  const std::string m = dialect::SlowLogVariables(mariadb);
  EXPECT_TRUE(
      m.starts_with("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('slow_query_log', "
                    "'long_query_time', 'slow_query_log_file', 'log_output', "));
  EXPECT_NE(m.find("'log_slow_query'"), std::string::npos);
  EXPECT_NE(m.find("'log_slow_query_time'"), std::string::npos);
  EXPECT_NE(m.find("'log_slow_rate_limit'"), std::string::npos);
  EXPECT_EQ(m.find("'log_slow_extra'"), std::string::npos);

  const dialect::Dialect mysql(dialect::DetectFlavor(MySql80()));
  const std::string y = dialect::SlowLogVariables(mysql);
  EXPECT_NE(y.find("'log_slow_extra'"), std::string::npos);
  EXPECT_NE(y.find("'log_slow_replica_statements'"), std::string::npos);
  EXPECT_EQ(y.find("'log_slow_query'"), std::string::npos);
  EXPECT_EQ(y.find("'log_slow_rate_limit'"), std::string::npos);

  const dialect::Dialect percona(dialect::DetectFlavor(Recorded(kPercona80Variables)));
  EXPECT_NE(dialect::SlowLogVariables(percona).find("'log_slow_rate_limit'"), std::string::npos);

  // RDS and Aurora read the same variables as MySQL.
  EXPECT_EQ(dialect::SlowLogVariables(dialect::Dialect(dialect::DetectFlavor(RdsMySql80()))), y);
}

TEST(SlowLogDialectTest, SetStatementsAndTheirAbsenceOnAws) {
  for (const auto& variables : {Recorded(kMariaDbVariables, false), MySql80()}) {
    const dialect::Dialect d(dialect::DetectFlavor(variables));
    EXPECT_EQ(dialect::SetSlowQueryLog(d, true), "SET GLOBAL slow_query_log = ON");
    EXPECT_EQ(dialect::SetSlowQueryLog(d, false), "SET GLOBAL slow_query_log = OFF");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 2), "SET GLOBAL long_query_time = 2");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 10.0), "SET GLOBAL long_query_time = 10");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 0.5), "SET GLOBAL long_query_time = 0.5");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 0.000001), "SET GLOBAL long_query_time = 0.000001");
    EXPECT_EQ(dialect::SetLongQueryTime(d, -1), "");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 31536001), "");
    EXPECT_EQ(dialect::SetLogOutput(d, "file"), "SET GLOBAL log_output = 'FILE'");
    EXPECT_EQ(dialect::SetLogOutput(d, "TABLE,FILE"), "SET GLOBAL log_output = 'FILE,TABLE'");
    EXPECT_EQ(dialect::SetLogOutput(d, "FILE'; DROP TABLE x; --"), "");
  }
  for (const auto& variables : {RdsMySql80(), AuroraV3()}) {
    const dialect::Dialect d(dialect::DetectFlavor(variables));
    EXPECT_TRUE(dialect::SlowLogUsesParameterGroups(d.flavor()));
    EXPECT_EQ(dialect::SetSlowQueryLog(d, true), "");
    EXPECT_EQ(dialect::SetLongQueryTime(d, 2), "");
    EXPECT_EQ(dialect::SetLogOutput(d, "FILE"), "");
  }
  // Checked on MariaDB 10.11: the server prints the set as NONE, FILE, TABLE.
  EXPECT_EQ(dialect::NormalizeLogOutput("TABLE,NONE"), "NONE,TABLE");
  EXPECT_EQ(dialect::NormalizeLogOutput(" table , file ,FILE"), "FILE,TABLE");
  EXPECT_EQ(dialect::NormalizeLogOutput(""), "");
  EXPECT_EQ(dialect::FormatLongQueryTime(2.0), "2");
  EXPECT_EQ(dialect::FormatLongQueryTime(10.0000001), "10");
}

TEST(SlowLogDialectTest, GrantsPerFlavor) {
  const auto grant = [](const dialect::VariableMap& v) {
    return GrantSetGlobalVariables(dialect::DetectFlavor(v), "'dba'@'%'");
  };
  EXPECT_EQ(grant(Recorded(kMariaDbVariables, false)), "GRANT SUPER ON *.* TO 'dba'@'%'");
  EXPECT_EQ(grant(MySql80()), "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO 'dba'@'%'");
  EXPECT_EQ(grant(Recorded(kPercona55Variables)), "GRANT SUPER ON *.* TO 'dba'@'%'");
  EXPECT_EQ(grant(RdsMySql80()), "");
  EXPECT_EQ(grant(AuroraV3()), "");
}

// --- state -------------------------------------------------------------------------------

TEST(SlowLogStateTest, ParsesRecordedVariables) {
  {
    const auto v = Recorded(kMariaDbVariables, false);
    const dialect::Dialect d(dialect::DetectFlavor(v));
    const SlowLogState s = ParseSlowLogState(Answer(dialect::SlowLogVariables(d), v));
    EXPECT_EQ(s.enabled, false);
    EXPECT_EQ(s.enabled_text, "OFF");
    EXPECT_DOUBLE_EQ(*s.long_query_time, 10.0);
    EXPECT_EQ(s.long_query_time_text, "10.000000");
    EXPECT_EQ(s.file, "vm-slow.log");
    EXPECT_EQ(s.log_output, "FILE");
    EXPECT_EQ(s.min_examined_row_limit, 0);
    EXPECT_EQ(s.rate_limit, 1);
    EXPECT_FALSE(s.recording());
  }
  {
    const auto v = Recorded(kMySql97Variables);
    const dialect::Dialect d(dialect::DetectFlavor(v));
    const SlowLogState s = ParseSlowLogState(Answer(dialect::SlowLogVariables(d), v));
    EXPECT_EQ(s.enabled, true);
    EXPECT_DOUBLE_EQ(*s.long_query_time, 0.0);
    EXPECT_EQ(s.file, "/tmp/12345/data/slow.log");
    EXPECT_TRUE(s.writes_file());
    EXPECT_FALSE(s.writes_table());
    EXPECT_TRUE(s.recording());
    EXPECT_FALSE(s.rate_limit.has_value());
  }
  {
    // Percona 5.5 still has log_slow_queries next to slow_query_log.
    const auto v = Recorded(kPercona55Variables);
    const dialect::Dialect d(dialect::DetectFlavor(v));
    const SlowLogState s = ParseSlowLogState(Answer(dialect::SlowLogVariables(d), v));
    EXPECT_EQ(s.enabled, false);
    EXPECT_DOUBLE_EQ(*s.long_query_time, 10.0);
    EXPECT_EQ(s.rate_limit, 1);
  }
  {
    // Only the MariaDB 10.11 names (log_slow_query ...): the aliases are read.
    const SlowLogState s = ParseSlowLogState(mysql::MakeResultSet(
        {"Variable_name", "Value"},
        {{"log_slow_query", "ON"}, {"log_slow_query_time", "1.500000"}, {"log_output", "TABLE"}}));
    EXPECT_EQ(s.enabled, true);
    EXPECT_DOUBLE_EQ(*s.long_query_time, 1.5);
    EXPECT_TRUE(s.writes_table());
  }
}

// --- the step ----------------------------------------------------------------------------

TEST(SlowLogStepTest, MariaDbWithTheLogOffIsAWarningWithTheStatements) {
  const auto v = Recorded(kMariaDbVariables, false);
  Target t = MakeTarget(v, v);
  const auto findings = RunStep(t);
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, "slowlog.off");
  EXPECT_EQ(f.severity, Severity::kWarning);
  EXPECT_EQ(Text(f.evidence.at(0), "slow_query_log"), "OFF");
  EXPECT_EQ(Text(f.evidence.at(0), "slow_query_log_file"), "vm-slow.log");
  ASSERT_GE(f.suggestions.size(), 2u);
  EXPECT_EQ(f.suggestions[0].sql, "SET GLOBAL long_query_time = 2; SET GLOBAL slow_query_log = ON");
  EXPECT_NE(f.suggestions[0].text.find("SUPER"), std::string::npos);
  EXPECT_NE(f.suggestions[1].text.find("--enable-slow-log=2 --apply"), std::string::npos);
  EXPECT_EQ(t.fake->statements().size(), 1u);  // one statement
}

TEST(SlowLogStepTest, MySqlWithTheLogOnIsInfo) {
  const auto v = Recorded(kMySql97Variables);
  Target t = MakeTarget(v, v);
  const auto findings = RunStep(t);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "slowlog.state");
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_NE(findings[0].title.find("/tmp/12345/data/slow.log"), std::string::npos);
}

TEST(SlowLogStepTest, HighThresholdOnMySql8IsNotedWithItsPrivilege) {
  auto v = Recorded(kPercona80Variables);
  v["long_query_time"] = "10.000000";
  v["min_examined_row_limit"] = "100";
  Target t = MakeTarget(v, v);
  const auto findings = RunStep(t);
  ASSERT_EQ(findings.size(), 2u);
  const Finding* state = FindCode(findings, "slowlog.state");
  ASSERT_NE(state, nullptr);
  EXPECT_NE(state->detail.find("fewer than 100 rows"), std::string::npos);
  const Finding* high = FindCode(findings, "slowlog.threshold_high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->severity, Severity::kInfo);
  EXPECT_NE(high->title.find("10.0s"), std::string::npos);
  EXPECT_EQ(high->suggestions.at(0).sql, "SET GLOBAL long_query_time = 2");
  EXPECT_NE(high->suggestions.at(0).text.find("SYSTEM_VARIABLES_ADMIN"), std::string::npos);
}

TEST(SlowLogStepTest, OnButWritingNowhereIsOff) {
  auto v = Recorded(kMySql97Variables);
  v["log_output"] = "NONE";
  v["long_query_time"] = "2.000000";
  Target t = MakeTarget(v, v);
  const auto findings = RunStep(t);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "slowlog.off");
  EXPECT_NE(findings[0].title.find("log_output is NONE"), std::string::npos);
  EXPECT_EQ(findings[0].suggestions.at(0).sql, "SET GLOBAL log_output = 'FILE'");
}

TEST(SlowLogStepTest, TableOutputNamesTheTable) {
  auto v = Recorded(kMySql97Variables);
  v["log_output"] = "TABLE";
  v["long_query_time"] = "1.000000";
  Target t = MakeTarget(v, v);
  const auto findings = RunStep(t);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].title.find("mysql.slow_log"), std::string::npos);
}

TEST(SlowLogStepTest, RdsAndAuroraGetTheParameterGroupChangeNotSetGlobal) {
  // Constructed AWS flavors, with MySQL's recorded slow log settings turned off.
  auto slow = Recorded(kMySql97Variables);
  slow["slow_query_log"] = "OFF";
  for (const auto& [identity, group] : {std::pair{RdsMySql80(), "DB instance's parameter group"},
                                        std::pair{AuroraV3(), "DB cluster parameter group"}}) {
    Target t = MakeTarget(identity, slow);
    const auto findings = RunStep(t);
    ASSERT_EQ(findings.size(), 1u);
    const Finding& f = findings[0];
    EXPECT_EQ(f.code, "slowlog.off");
    ASSERT_EQ(f.suggestions.size(), 1u);
    EXPECT_EQ(f.suggestions[0].sql, "");
    EXPECT_NE(f.suggestions[0].text.find(group), std::string::npos) << f.suggestions[0].text;
    EXPECT_NE(f.suggestions[0].text.find("slow_query_log = 1"), std::string::npos);
    EXPECT_NE(f.suggestions[0].text.find("long_query_time = 2"), std::string::npos);
    EXPECT_NE(f.suggestions[0].text.find("log_output = FILE"), std::string::npos);
  }
}

TEST(SlowLogStepTest, AReadErrorFailsTheStep) {
  const auto v = Recorded(kMariaDbVariables, false);
  Target t = MakeTarget(v, v);
  auto fake = std::make_unique<FakeSession>();
  fake->On(dialect::SlowLogVariables(t.session->dialect),
           FakeSession::ServerError(core::ErrorCode::kUnavailable, 2013, "HY000",
                                    "Lost connection to server during query"));
  t.session->session = std::move(fake);
  core::SimulatedClock clock;
  InvestigateOptions options;
  StepContext context{*t.session, clock, options, clock.MonotonicNow()};
  EXPECT_FALSE(SlowLogStep().Run(context));
}

// --- action planning ---------------------------------------------------------------------

SlowLogState StateOf(const dialect::VariableMap& identity, const dialect::VariableMap& slow) {
  const dialect::Dialect d(dialect::DetectFlavor(identity));
  return ParseSlowLogState(Answer(dialect::SlowLogVariables(d), slow));
}

TEST(SlowLogPlanTest, EnableOnMariaDbSetsTheThresholdThenTurnsItOn) {
  const auto v = Recorded(kMariaDbVariables, false);
  const dialect::Dialect d(dialect::DetectFlavor(v));
  const app::SlowLogPlan plan = app::PlanEnableSlowLog(d, StateOf(v, v), 2);
  ASSERT_FALSE(plan.refusal);
  ASSERT_EQ(plan.changes.size(), 2u);
  EXPECT_EQ(plan.changes[0].variable, "long_query_time");
  EXPECT_EQ(plan.changes[0].current, "10.000000");
  EXPECT_EQ(plan.changes[0].value, "2");
  EXPECT_EQ(plan.changes[0].statement, "SET GLOBAL long_query_time = 2");
  EXPECT_EQ(plan.changes[1].variable, "slow_query_log");
  EXPECT_EQ(plan.changes[1].current, "OFF");
  EXPECT_EQ(plan.changes[1].statement, "SET GLOBAL slow_query_log = ON");
  bool new_connections_note = false;
  for (const auto& note : plan.notes) {
    if (note.find("connections opened after the change") != std::string::npos) {
      new_connections_note = true;
    }
  }
  EXPECT_TRUE(new_connections_note);
}

TEST(SlowLogPlanTest, EnableOnMySql8ChangesOnlyWhatDiffers) {
  auto v = Recorded(kMySql97Variables);  // ON, long_query_time 0
  const dialect::Dialect d(dialect::DetectFlavor(MySql80()));
  app::SlowLogPlan plan = app::PlanEnableSlowLog(d, StateOf(MySql80(), v), 1.5);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].statement, "SET GLOBAL long_query_time = 1.5");

  v["long_query_time"] = "2.000000";
  plan = app::PlanEnableSlowLog(d, StateOf(MySql80(), v), 2);
  EXPECT_FALSE(plan.refusal);
  EXPECT_TRUE(plan.changes.empty());

  v["log_output"] = "NONE";
  plan = app::PlanEnableSlowLog(d, StateOf(MySql80(), v), 2);
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].variable, "log_output");
  EXPECT_EQ(plan.changes[0].current, "NONE");
  EXPECT_EQ(plan.changes[0].statement, "SET GLOBAL log_output = 'FILE'");
}

TEST(SlowLogPlanTest, RdsAndAuroraAreRefusedWithTheParameterGroup) {
  auto slow = Recorded(kMySql97Variables);
  slow["slow_query_log"] = "OFF";
  for (const auto& identity : {RdsMySql80(), AuroraV3()}) {
    const dialect::Dialect d(dialect::DetectFlavor(identity));
    const app::SlowLogPlan plan = app::PlanEnableSlowLog(d, StateOf(identity, slow), 2);
    ASSERT_TRUE(plan.refusal);
    EXPECT_EQ(plan.refusal->code, core::ErrorCode::kUnsupported);
    EXPECT_NE(plan.refusal->hint.find("parameter group"), std::string::npos);
    EXPECT_NE(plan.refusal->hint.find("log_output = FILE"), std::string::npos);
    EXPECT_TRUE(plan.changes.empty());
  }
}

TEST(SlowLogPlanTest, BadThresholdsAreRefused) {
  const auto v = Recorded(kMariaDbVariables, false);
  const dialect::Dialect d(dialect::DetectFlavor(v));
  for (double seconds : {0.0, -1.0, 31536001.0}) {
    EXPECT_TRUE(app::PlanEnableSlowLog(d, StateOf(v, v), seconds).refusal) << seconds;
  }
}

app::SlowLogRecord RecordFor(std::string hostname = "db1") {
  app::SlowLogRecord r;
  r.target = "orders-primary";
  r.endpoint = "tcp 10.0.0.5:3306";
  r.server_hostname = std::move(hostname);
  r.server_port = "3306";
  r.server_id = "7";
  r.server_version = "10.11.19-MariaDB";
  r.recorded_at = "2026-11-26T03:12:00.000Z";
  r.previous = {{"slow_query_log", "OFF"}, {"long_query_time", "10.000000"}};
  r.applied = {{"long_query_time", "2"}, {"slow_query_log", "ON"}};
  return r;
}

TEST(SlowLogPlanTest, RestoreSetsBackWhatDiffersLogFirst) {
  auto v = Recorded(kMariaDbVariables, false);
  v["slow_query_log"] = "ON";
  v["long_query_time"] = "2.000000";
  const dialect::Dialect d(dialect::DetectFlavor(v));
  app::SlowLogPlan plan = app::PlanRestoreSlowLog(d, StateOf(v, v), RecordFor());
  ASSERT_FALSE(plan.refusal);
  ASSERT_EQ(plan.changes.size(), 2u);
  EXPECT_EQ(plan.changes[0].statement, "SET GLOBAL slow_query_log = OFF");
  EXPECT_EQ(plan.changes[1].statement, "SET GLOBAL long_query_time = 10");
  EXPECT_EQ(plan.changes[1].value, "10.000000");
  EXPECT_TRUE(plan.notes.empty());

  // Someone changed long_query_time in between: restored anyway, and said so.
  v["long_query_time"] = "5.000000";
  plan = app::PlanRestoreSlowLog(d, StateOf(v, v), RecordFor());
  ASSERT_EQ(plan.changes.size(), 2u);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("long_query_time was changed since"), std::string::npos);
}

TEST(SlowLogPlanTest, RestoreRefusesValuesDbrunbookNeverWrites) {
  const auto v = Recorded(kMariaDbVariables, false);
  const dialect::Dialect d(dialect::DetectFlavor(v));
  app::SlowLogRecord r = RecordFor();
  r.previous = {{"long_query_time", "1; DROP DATABASE x"}};
  auto plan = app::PlanRestoreSlowLog(d, StateOf(v, v), r);
  ASSERT_TRUE(plan.refusal);
  EXPECT_TRUE(plan.changes.empty());
  r.previous = {{"general_log", "ON"}};
  EXPECT_TRUE(app::PlanRestoreSlowLog(d, StateOf(v, v), r).refusal);
  r.previous = {{"log_output", "FILE,EVIL"}};
  EXPECT_TRUE(app::PlanRestoreSlowLog(d, StateOf(v, v), r).refusal);
}

TEST(SlowLogRecordTest, RoundTripsAndRejectsOtherFiles) {
  const app::SlowLogRecord r = RecordFor();
  const std::string json = app::SlowLogRecordJson(r);
  const auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["schema"], "dbrunbook.slow_log_state");
  EXPECT_EQ(doc["previous"]["long_query_time"], "10.000000");
  auto back = app::ParseSlowLogRecord(json, "f.json");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->target, r.target);
  EXPECT_EQ(back->server_hostname, "db1");
  EXPECT_EQ(back->previous, r.previous);  // order kept
  EXPECT_EQ(back->applied, r.applied);
  EXPECT_FALSE(app::ParseSlowLogRecord("not json", "f.json"));
  EXPECT_FALSE(app::ParseSlowLogRecord("{\"schema\": \"other\"}", "f.json"));
  auto no_previous = doc;
  no_previous["previous"] = nlohmann::json::object();
  EXPECT_FALSE(app::ParseSlowLogRecord(no_previous.dump(), "f.json"));
  auto number = doc;
  number["previous"]["long_query_time"] = 10;
  EXPECT_FALSE(app::ParseSlowLogRecord(number.dump(), "f.json"));
}

TEST(SlowLogRecordTest, StateFileNamesAndDirectory) {
  EXPECT_EQ(app::SlowLogStateFileName("orders-primary"), "slow-log-orders-primary.json");
  const std::string a = app::SlowLogStateFileName("mysql://root@localhost/?socket=/a/b.sock");
  const std::string b = app::SlowLogStateFileName("mysql://root@localhost/?socket=/a/b_sock");
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("slow-log-[A-Za-z0-9._-]+-[0-9a-f]{16}\\.json"))) << a;
  EXPECT_TRUE(std::regex_match(app::SlowLogStateFileName("../../etc/passwd"),
                               std::regex("slow-log-[A-Za-z0-9_-][A-Za-z0-9._-]*\\.json")));

  core::MapEnvironment env;
  EXPECT_FALSE(app::SlowLogStateDir(env));
  env.Set("HOME", "/home/dba");
  EXPECT_EQ(*app::SlowLogStateDir(env), "/home/dba/.local/state/dbrunbook");
  env.Set("XDG_STATE_HOME", "relative/ignored");
  EXPECT_EQ(*app::SlowLogStateDir(env), "/home/dba/.local/state/dbrunbook");
  env.Set("XDG_STATE_HOME", "/var/state");
  EXPECT_EQ(*app::SlowLogStateDir(env), "/var/state/dbrunbook");
}

// --- the action on a FakeSession -------------------------------------------------------------

class NoSessions final : public mysql::SessionFactory {
 public:
  core::Result<std::unique_ptr<mysql::Session>> Connect(const mysql::ConnectOptions&) override {
    return core::MakeError(core::ErrorCode::kInternal, "not in this test");
  }
};

class SlowLogActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() /
            fmt::format("dbrunbook-slowlog-test-{}-{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
    environment_.Set("HOME", home_.string());
  }
  void TearDown() override { fs::remove_all(home_); }

  // A MariaDB target whose first slow log read answers `before`, later ones `after`.
  void Make(const dialect::VariableMap& identity, const dialect::VariableMap& before,
            const dialect::VariableMap& after) {
    target_ = MakeTarget(identity, before);
    const std::string read = dialect::SlowLogVariables(target_.session->dialect);
    target_.fake->On(read, Answer(read, after));
    target_.fake->OnPrefix("SET GLOBAL ", mysql::ResultSet{});
    target_.fake->On(dialect::Dialect::CurrentAccount(),
                     mysql::MakeResultSet({"account"}, {{"dba@%"}}));
  }

  int Run(app::SlowLogActionKind kind, bool apply, double seconds = 2,
          report::Format format = report::Format::kTable) {
    out_.str("");
    err_.str("");
    app::Env env{clock_, sessions_, environment_, out_, err_, *logger_};
    app::SlowLogActionOptions options;
    options.kind = kind;
    options.apply = apply;
    options.seconds = seconds;
    return app::RunSlowLogAction(env, *target_.session, options, format);
  }

  fs::path StateFile() const {
    return home_ / ".local/state/dbrunbook" / app::SlowLogStateFileName("fake-target");
  }

  std::vector<std::string> Sets() const {
    std::vector<std::string> sets;
    for (const auto& s : target_.fake->statements()) {
      if (s.starts_with("SET GLOBAL")) sets.push_back(s);
    }
    return sets;
  }

  fs::path home_;
  core::MapEnvironment environment_;
  core::SimulatedClock clock_;
  NoSessions sessions_;
  std::shared_ptr<core::Logger> logger_ = core::MakeNullLogger();
  std::ostringstream out_;
  std::ostringstream err_;
  Target target_;
};

dialect::VariableMap MariaDbOn(dialect::VariableMap v) {
  v["slow_query_log"] = "ON";
  v["log_slow_query"] = "ON";
  v["long_query_time"] = "2.000000";
  v["log_slow_query_time"] = "2.000000";
  return v;
}

TEST_F(SlowLogActionTest, WithoutApplyOnlyThePlanIsShown) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, false), app::kSlowLogDone);
  EXPECT_TRUE(Sets().empty());
  EXPECT_FALSE(fs::exists(StateFile()));
  EXPECT_NE(out_.str().find("SET GLOBAL long_query_time = 2;"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("nothing was changed"), std::string::npos);
  EXPECT_NE(out_.str().find(StateFile().string()), std::string::npos);
}

TEST_F(SlowLogActionTest, ApplyRecordsThePreviousValuesThenRestorePutsThemBack) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, MariaDbOn(v));
  ASSERT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogDone) << err_.str();
  EXPECT_EQ(Sets(), (std::vector<std::string>{"SET GLOBAL long_query_time = 2",
                                              "SET GLOBAL slow_query_log = ON"}));
  ASSERT_TRUE(fs::exists(StateFile()));
  struct stat st {};
  ASSERT_EQ(::stat(StateFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat(StateFile().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  std::ifstream in(StateFile());
  const auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["target"], "fake-target");
  EXPECT_EQ(doc["server"]["server_id"], "7");
  EXPECT_EQ(doc["previous"]["slow_query_log"], "OFF");
  EXPECT_EQ(doc["previous"]["long_query_time"], "10.000000");
  EXPECT_EQ(doc["applied"]["slow_query_log"], "ON");

  // A second enable is refused: the file keeps the values from before the first.
  Make(v, MariaDbOn(v), MariaDbOn(v));
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true, 1), app::kSlowLogRefused);
  EXPECT_TRUE(Sets().empty());
  EXPECT_NE(err_.str().find("already changed the slow log"), std::string::npos) << err_.str();

  // Restore: plan first, then apply.
  Make(v, MariaDbOn(v), v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, false), app::kSlowLogDone);
  EXPECT_TRUE(Sets().empty());
  EXPECT_TRUE(fs::exists(StateFile()));
  Make(v, MariaDbOn(v), v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, true, 2, report::Format::kJson),
            app::kSlowLogDone)
      << out_.str() << err_.str();
  EXPECT_EQ(Sets(), (std::vector<std::string>{"SET GLOBAL slow_query_log = OFF",
                                              "SET GLOBAL long_query_time = 10"}));
  EXPECT_FALSE(fs::exists(StateFile()));
  const auto result = nlohmann::json::parse(out_.str());
  EXPECT_EQ(result["schema"], "dbrunbook.slow_log_action");
  EXPECT_EQ(result["status"], "restored");
  EXPECT_EQ(result["read_back"]["long_query_time"], "10.000000");

  // Nothing left to restore.
  Make(v, v, v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, true), app::kSlowLogRefused);
  EXPECT_NE(err_.str().find("nothing to restore"), std::string::npos);
}

TEST_F(SlowLogActionTest, MissingPrivilegeChangesNothingAndNamesTheGrant) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  target_.fake->On("SET GLOBAL long_query_time = 2",
                   FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                            "Access denied; you need (at least one of) the "
                                            "SUPER privilege(s) for this operation"));
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogFailed);
  EXPECT_EQ(Sets(), (std::vector<std::string>{"SET GLOBAL long_query_time = 2"}));
  EXPECT_FALSE(fs::exists(StateFile()));
  EXPECT_NE(err_.str().find("GRANT SUPER ON *.* TO 'dba'@'%'"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("nothing was changed"), std::string::npos);
}

TEST_F(SlowLogActionTest, AFailureHalfwayUndoesWhatWasSet) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  target_.fake->On("SET GLOBAL long_query_time = 2", mysql::ResultSet{});
  target_.fake->On("SET GLOBAL slow_query_log = ON",
                   FakeSession::ServerError(core::ErrorCode::kServerError, 29, "HY000",
                                            "File 'vm-slow.log' not found (Errcode: 13)"));
  target_.fake->On("SET GLOBAL long_query_time = 10", mysql::ResultSet{});
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogFailed);
  EXPECT_EQ(Sets(), (std::vector<std::string>{"SET GLOBAL long_query_time = 2",
                                              "SET GLOBAL slow_query_log = ON",
                                              "SET GLOBAL long_query_time = 10"}));
  EXPECT_FALSE(fs::exists(StateFile()));
  EXPECT_NE(err_.str().find("undone"), std::string::npos) << err_.str();
}

TEST_F(SlowLogActionTest, AFailedUndoKeepsTheStateFile) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  target_.fake->On("SET GLOBAL long_query_time = 2", mysql::ResultSet{});
  target_.fake->On(
      "SET GLOBAL slow_query_log = ON",
      FakeSession::ServerError(core::ErrorCode::kUnavailable, 2013, "HY000", "Lost connection"));
  target_.fake->On("SET GLOBAL long_query_time = 10",
                   FakeSession::ServerError(core::ErrorCode::kUnavailable, 2006, "HY000",
                                            "server has gone away"));
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogFailed);
  EXPECT_TRUE(fs::exists(StateFile()));
  EXPECT_NE(err_.str().find("could not be set back"), std::string::npos) << err_.str();
}

TEST_F(SlowLogActionTest, AlreadyOnIsNothingToChange) {
  const auto v = MariaDbOn(Recorded(kMariaDbVariables, false));
  Make(v, v, v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogDone);
  EXPECT_TRUE(Sets().empty());
  EXPECT_FALSE(fs::exists(StateFile()));
}

TEST_F(SlowLogActionTest, RestoreRefusesAFileFromAnotherServer) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  fs::create_directories(StateFile().parent_path());
  std::ofstream(StateFile()) << app::SlowLogRecordJson(RecordFor("other-host"));
  EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, true), app::kSlowLogRefused);
  EXPECT_TRUE(Sets().empty());
  EXPECT_TRUE(fs::exists(StateFile()));
  EXPECT_NE(err_.str().find("another server"), std::string::npos) << err_.str();
}

TEST_F(SlowLogActionTest, AFileOfThisServerUnderAnotherTargetNameCounts) {
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, MariaDbOn(v), v);
  const fs::path other = StateFile().parent_path() / "slow-log-orders-primary.json";
  fs::create_directories(other.parent_path());
  std::ofstream(other) << app::SlowLogRecordJson(RecordFor());
  // Enabling through this target is refused ...
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogRefused);
  EXPECT_NE(err_.str().find("orders-primary"), std::string::npos) << err_.str();
  // ... and restoring through it uses that file.
  Make(v, MariaDbOn(v), v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, true), app::kSlowLogDone) << err_.str();
  EXPECT_FALSE(fs::exists(other));
}

TEST_F(SlowLogActionTest, AwsTargetsAreRefusedWithoutAStatement) {
  auto slow = Recorded(kMySql97Variables);
  slow["slow_query_log"] = "OFF";
  for (const auto& identity : {RdsMySql80(), AuroraV3()}) {
    Make(identity, slow, slow);
    EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogRefused);
    EXPECT_TRUE(Sets().empty());
    EXPECT_NE(err_.str().find("parameter group"), std::string::npos) << err_.str();
    EXPECT_FALSE(fs::exists(StateFile()));
    EXPECT_EQ(Run(app::SlowLogActionKind::kRestore, true), app::kSlowLogRefused);
  }
}

TEST_F(SlowLogActionTest, NoHomeRefusesToApplyButStillPlans) {
  environment_ = core::MapEnvironment();
  const auto v = Recorded(kMariaDbVariables, false);
  Make(v, v, v);
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, false), app::kSlowLogDone);
  EXPECT_EQ(Run(app::SlowLogActionKind::kEnable, true), app::kSlowLogRefused);
  EXPECT_TRUE(Sets().empty());
}

}  // namespace
}  // namespace dbrunbook::steps
