// The "queries" step and the investigate command against a real server: a long runner and a
// session idle in an open transaction, created for real on the sandbox primary.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "mysql/connector_session.h"
#include "steps/investigate.h"
#include "steps/investigate_queries.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

class QueriesIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto setup = testing::SandboxSql(
        "primary",
        "CREATE DATABASE IF NOT EXISTS queries_test; "
        "CREATE TABLE IF NOT EXISTS queries_test.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB; "
        "INSERT IGNORE INTO queries_test.t VALUES (1, 1), (2, 2);");
    ASSERT_TRUE(setup) << setup.error().ToString();
  }
  void TearDown() override {
    (void)testing::SandboxSql("primary", "DROP DATABASE IF EXISTS queries_test");
  }

  std::unique_ptr<mysql::Session> Root() {
    auto session = factory_.Connect(primary_.RootOptions());
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
};

TEST_F(QueriesIntegrationTest, FindsTheLongRunnerAndTheIdleTransaction) {
  // A session idle inside a transaction that changed a row, and a long statement.
  auto idle = Root();
  ASSERT_NE(idle, nullptr);
  ASSERT_TRUE(idle->Query("BEGIN"));
  ASSERT_TRUE(idle->Query("UPDATE queries_test.t SET v = v + 1 WHERE id = 1"));
  auto runner = Root();
  ASSERT_NE(runner, nullptr);
  const uint64_t runner_id = runner->info().connection_id;
  std::thread long_query(
      [&runner] { (void)runner->Query("SELECT SLEEP(5) AS report /* queries-integration */"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));

  auto target = collect::OpenTargetSession(factory_, primary_.MonitorOptions(), clock_);
  ASSERT_TRUE(target) << target.error().ToString();
  InvestigateOptions options;
  options.long_query_seconds = 2;
  options.idle_transaction_seconds = 2;
  options.only = {"queries"};
  const auto steps = MakeInvestigationSteps();
  const Investigation inv = RunInvestigation(*target, clock_, options, steps);
  long_query.join();

  const Finding* long_running = nullptr;
  const Finding* idle_trx = nullptr;
  for (const auto& f : inv.findings) {
    if (f.code == "query.long_running") long_running = &f;
    if (f.code == "transaction.idle") idle_trx = &f;
  }
  ASSERT_NE(long_running, nullptr);
  EXPECT_EQ(std::get<int64_t>(*long_running->evidence[0].Find("connection_id")),
            static_cast<int64_t>(runner_id));
  EXPECT_NE(std::get<std::string>(*long_running->evidence[0].Find("statement"))
                .find("queries-integration"),
            std::string::npos);
  EXPECT_EQ(long_running->suggestions[1].sql, fmt::format("KILL QUERY {}", runner_id));
  ASSERT_NE(idle_trx, nullptr);
  EXPECT_EQ(std::get<int64_t>(*idle_trx->evidence[0].Find("connection_id")),
            static_cast<int64_t>(idle->info().connection_id));
  EXPECT_EQ(std::get<int64_t>(*idle_trx->evidence[0].Find("rows_modified")), 1);
  EXPECT_GE(std::get<double>(*idle_trx->evidence[0].Find("idle_seconds")), 2.0);
  EXPECT_EQ(idle_trx->suggestions.back().sql,
            fmt::format("KILL CONNECTION {}", idle->info().connection_id));
  ASSERT_TRUE(idle->Query("ROLLBACK"));
}

// The command end to end: JSON with a findings array, exit status from the worst finding.
// An account without PROCESS sees only its own sessions: the processlist is not refused, it
// is narrowed. The queries and metadata-lock steps must say they could not check, with the
// GRANT, instead of reporting a server with a long runner as clean.
TEST_F(QueriesIntegrationTest, WithoutProcessTheStepsSayTheyCouldNotCheck) {
  ASSERT_TRUE(
      testing::SandboxSql("primary",
                          "SET SESSION sql_log_bin = 0; DROP USER IF EXISTS 'dbr_noproc'@'%'; "
                          "CREATE USER 'dbr_noproc'@'%' IDENTIFIED BY 'noproc-pw-1'; "
                          "GRANT SELECT ON performance_schema.* TO 'dbr_noproc'@'%';"));
  auto runner = Root();
  ASSERT_NE(runner, nullptr);
  std::thread long_query([&runner] { (void)runner->Query("SELECT SLEEP(3) AS hidden_runner"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  mysql::ConnectOptions options = primary_.MonitorOptions();
  options.user = "dbr_noproc";
  options.password = core::Secret("noproc-pw-1");
  auto target = collect::OpenTargetSession(factory_, options, clock_);
  ASSERT_TRUE(target) << target.error().ToString();
  InvestigateOptions investigate;
  investigate.long_query_seconds = 1;
  investigate.only = {"queries", "mdl"};
  const auto steps = MakeInvestigationSteps();
  const Investigation inv = RunInvestigation(*target, clock_, investigate, steps);
  long_query.join();
  (void)testing::SandboxSql("primary",
                            "SET SESSION sql_log_bin = 0; DROP USER IF EXISTS 'dbr_noproc'@'%'");

  std::set<std::string> incomplete_steps;
  for (const auto& f : inv.findings) {
    EXPECT_NE(f.code, "query.long_running") << "the runner is not visible without PROCESS";
    if (f.code != "check.incomplete") continue;
    incomplete_steps.insert(f.step);
    EXPECT_EQ(f.severity, Severity::kWarning);
    EXPECT_NE(f.title.find("PROCESS"), std::string::npos) << f.title;
    ASSERT_FALSE(f.suggestions.empty());
    EXPECT_NE(f.suggestions[0].sql.find("GRANT PROCESS ON *.* TO 'dbr_noproc'@'%'"),
              std::string::npos)
        << f.suggestions[0].sql;
  }
  EXPECT_EQ(incomplete_steps, (std::set<std::string>{"investigate.queries", "investigate.mdl"}));
  EXPECT_EQ(ExitCodeFor(inv), 1);
}

TEST_F(QueriesIntegrationTest, CommandPrintsFindingsAsJson) {
  const char* binary = std::getenv("DBRUNBOOK_BINARY");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(binary, nullptr);
  auto runner = Root();
  ASSERT_NE(runner, nullptr);
  std::thread long_query([&runner] { (void)runner->Query("SELECT SLEEP(4) AS cli_probe"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string command = fmt::format(
      "{} investigate --dsn mysql://monitor@127.0.0.1:{}/ --password-file {} "
      "--only queries --format json 2>/dev/null",
      binary, primary_.port, primary_.monitor_password_file);
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c): test harness
  ASSERT_NE(pipe, nullptr);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = pclose(pipe);
  long_query.join();
  const auto json = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << out;
  EXPECT_EQ(json["schema"], "dbrunbook.investigation");
  ASSERT_TRUE(json["findings"].is_array());
  bool active_seen = false;
  for (const auto& f : json["findings"]) {
    EXPECT_TRUE(f.contains("code") && f.contains("severity") && f.contains("title") &&
                f.contains("evidence") && f.contains("suggestions"));
    if (f["code"] == "query.active") {
      for (const auto& row : f["evidence"]) {
        if (row["statement"].is_string() &&
            row["statement"].get<std::string>().find("cli_probe") != std::string::npos) {
          active_seen = true;
          EXPECT_TRUE(row["connection_id"].is_number_integer());
        }
      }
    }
  }
  EXPECT_TRUE(active_seen) << out;
  EXPECT_EQ(WEXITSTATUS(status), json["exit_code"].get<int>());
  // The other groups were not run.
  for (const auto& step : json["steps"]) EXPECT_EQ(step["ran"], step["group"] == "queries");
}

}  // namespace
}  // namespace dbrunbook::steps
