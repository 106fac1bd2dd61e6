// `dbrunbook digest` as a process ($DBRUNBOOK_BINARY): the JSON contract of the issue (query_id,
// fingerprint, count, metrics), limits, filters, stdin and gzip input, threads giving the same
// answer, exit statuses and errors that lose nothing, and the live digest of a real sandbox
// server (performance_schema) reported in the same format.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "support/cli_fixture.h"
#include "support/recorded_output.h"
#include "support/sandbox.h"

namespace dbrunbook::app {
namespace {

namespace fs = std::filesystem;

using testing::RunResult;

class DigestCliTest : public testing::CliFixture {
 protected:
  DigestCliTest() : CliFixture("digest-cli") {}
  static std::string Log(const std::string& name) {
    return testing::SharedPath("conformance/slowlogs/" + name);
  }
};

// A log with several classes, dbs, users and times, big enough for several chunks.
std::string SyntheticLog(int events) {
  std::ostringstream log;
  for (int i = 0; i < events; ++i) {
    if (i % 10 == 0)
      log << "# Time: 241126 10:" << 10 + i / 600 << ":" << (i / 10 % 60 < 10 ? "0" : "")
          << i / 10 % 60 << "\n";
    log << "# User@Host: " << (i % 3 == 0 ? "batch" : "app") << "[x] @ localhost []\n";
    log << "# Query_time: 0.00" << i % 10 << "5  Lock_time: 0.000010  Rows_sent: " << i % 7
        << "  Rows_examined: " << (i % 5) * 1000 << "\n";
    if (i % 50 == 0) log << "use " << (i % 100 == 0 ? "shop" : "crm") << ";\n";
    switch (i % 4) {
      case 0:
        log << "SELECT * FROM orders WHERE id = " << i << ";\n";
        break;
      case 1:
        log << "UPDATE stock SET n = n - 1 WHERE item = " << i << ";\n";
        break;
      case 2:
        log << "SELECT name FROM customers WHERE email = 'u" << i << "@example.com';\n";
        break;
      default:
        log << "INSERT INTO audit VALUES (" << i << ", 'x');\n";
        break;
    }
  }
  return log.str();
}

TEST_F(DigestCliTest, JsonHasTheIssuesContract) {
  const RunResult r = Shell("\"$B\" digest --format json --limit 0 '" + Log("slow002.txt") + "'");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("overall"));
  ASSERT_TRUE(j["classes"].is_array());
  ASSERT_GT(j["classes"].size(), 1U);
  const std::regex id("^[0-9A-F]{32}$");
  double previous = 1e300;
  std::uint64_t total = 0;
  for (const auto& c : j["classes"]) {
    EXPECT_TRUE(std::regex_match(c["query_id"].get<std::string>(), id)) << c["query_id"];
    EXPECT_FALSE(c["fingerprint"].get<std::string>().empty());
    EXPECT_GE(c["count"].get<std::uint64_t>(), 1U);
    const auto& qt = c["metrics"]["Query_time"];
    for (const char* k : {"sum", "min", "max", "avg", "p95", "stddev", "median"}) {
      EXPECT_TRUE(qt.contains(k)) << k;
    }
    EXPECT_LE(qt["sum"].get<double>(), previous);  // ranked by Query_time:sum
    previous = qt["sum"].get<double>();
    total += c["count"].get<std::uint64_t>();
    EXPECT_TRUE(c["metrics"].contains("Rows_examined"));
  }
  EXPECT_EQ(total, j["overall"]["events"].get<std::uint64_t>());  // --limit 0: every class
}

TEST_F(DigestCliTest, LimitsOrderAndFilters) {
  const std::string log = Write("synthetic.log", SyntheticLog(400));
  auto classes = [&](const std::string& args) {
    const RunResult r = Shell("\"$B\" digest --format json " + args + " '" + log + "'");
    EXPECT_EQ(r.status, 0) << r.Describe();
    return r.status == 0 ? nlohmann::json::parse(r.out)["classes"] : nlohmann::json::array();
  };
  EXPECT_EQ(classes("--limit 0").size(), 4U);
  EXPECT_EQ(classes("--limit 2").size(), 2U);
  EXPECT_EQ(classes("--limit 100%:1").size(), 1U);
  const auto by_count = classes("--limit 0 --order-by Rows_examined:max");
  ASSERT_EQ(by_count.size(), 4U);
  EXPECT_DOUBLE_EQ(by_count[0]["metrics"]["Rows_examined"]["max"].get<double>(), 4000);
  // Filters: one user, one db, numeric comparisons, a regular expression on the statement.
  const auto batch = classes("--limit 0 --filter 'user = batch'");
  std::uint64_t n = 0;
  for (const auto& c : batch) n += c["count"].get<std::uint64_t>();
  EXPECT_EQ(n, 134U);  // i % 3 == 0 for i < 400
  const auto updates = classes("--limit 0 --filter 'arg =~ (?i)^update'");
  ASSERT_EQ(updates.size(), 1U);
  EXPECT_NE(updates[0]["fingerprint"].get<std::string>().find("update stock"), std::string::npos);
  const auto big = classes("--limit 0 --filter 'Rows_examined >= 3000 and db = shop'");
  n = 0;
  for (const auto& c : big) n += c["count"].get<std::uint64_t>();
  EXPECT_GT(n, 0U);
  EXPECT_LT(n, 400U);
  // --since / --until: the log covers 10:10:00 .. 10:10:39.
  const auto late = classes("--limit 0 --since '241126 10:10:30'");
  n = 0;
  for (const auto& c : late) n += c["count"].get<std::uint64_t>();
  EXPECT_EQ(n, 100U);
  const auto early = classes("--limit 0 --until '2024-11-26 10:10:10'");
  n = 0;
  for (const auto& c : early) n += c["count"].get<std::uint64_t>();
  EXPECT_EQ(n, 100U);
}

TEST_F(DigestCliTest, GroupByDbUserHostAndTables) {
  const std::string log = Write("groups.log", SyntheticLog(400));
  auto classes = [&](const std::string& group) {
    const RunResult r =
        Shell("\"$B\" digest --format json --limit 0 --group-by " + group + " '" + log + "'");
    EXPECT_EQ(r.status, 0) << r.Describe();
    std::map<std::string, std::uint64_t> counts;
    if (r.status != 0) return counts;
    const auto j = nlohmann::json::parse(r.out);
    for (const auto& c : j["classes"]) {
      counts[c["fingerprint"].get<std::string>()] = c["count"].get<std::uint64_t>();
    }
    return counts;
  };
  // Users: i % 3 == 0 is batch (134 of 400); one host; dbs from the "use" lines (the first
  // events, before any "use", have none and are in no class).
  EXPECT_EQ(classes("user"), (std::map<std::string, std::uint64_t>{{"app", 266}, {"batch", 134}}));
  EXPECT_EQ(classes("host"), (std::map<std::string, std::uint64_t>{{"localhost", 400}}));
  const auto dbs = classes("db");
  ASSERT_EQ(dbs.size(), 2U);
  EXPECT_EQ(dbs.at("shop") + dbs.at("crm"), 400U);
  // Tables, prefixed with the event's db: each statement names one table.
  const auto tables = classes("tables");
  std::uint64_t n = 0;
  for (const auto& [table, count] : tables) {
    EXPECT_TRUE(table.starts_with("shop.") || table.starts_with("crm.")) << table;
    n += count;
  }
  EXPECT_EQ(n, 400U);
  EXPECT_EQ(tables.count("shop.orders") + tables.count("crm.orders"), 2U);
}

TEST_F(DigestCliTest, ThreadsStdinAndGzipGiveTheSameAnswer) {
  const std::string text = SyntheticLog(3000);
  const std::string log = Write("big.log", text);
  const RunResult one = Shell("\"$B\" digest --format json --limit 0 --threads 1 '" + log + "'");
  ASSERT_EQ(one.status, 0) << one.Describe();
  const RunResult two = Shell("\"$B\" digest --format json --limit 0 --threads 2 '" + log + "'");
  EXPECT_EQ(two.out, one.out);
  const RunResult in = Shell("\"$B\" digest --format json --limit 0 -", text);
  ASSERT_EQ(in.status, 0) << in.Describe();
  auto without_files = [](const std::string& s) {
    auto j = nlohmann::json::parse(s);
    j.erase("files");
    for (auto& c : j["classes"]) c["sample"].erase("file");
    return j.dump();
  };
  EXPECT_EQ(without_files(in.out), without_files(one.out));
  ASSERT_EQ(std::system(("gzip -c '" + log + "' > '" + log + ".gz'").c_str()), 0);  // NOLINT
  const RunResult gz = Shell("\"$B\" digest --format json --limit 0 '" + log + ".gz'");
  ASSERT_EQ(gz.status, 0) << gz.Describe();
  EXPECT_EQ(without_files(gz.out), without_files(one.out));
}

TEST_F(DigestCliTest, ProgressBarOnlyOnATerminal) {
  if (std::system("command -v script > /dev/null") != 0) GTEST_SKIP() << "no script(1)";  // NOLINT
  const std::string log = Write("progress.log", SyntheticLog(2000));
  const std::string typescript = (dir_ / "typescript").string();
  // script(1) gives the command a pseudo-terminal: stderr is a terminal, stdout a file.
  const RunResult r = Shell("script -qec \"'$B' digest --format json --limit 1 '" + log + "' > '" +
                            (dir_ / "report.json").string() + "'\" '" + typescript + "'");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const std::string tty = Slurp(typescript);
  EXPECT_NE(tty.find("events"), std::string::npos) << tty;
  EXPECT_NE(tty.find("MB/s"), std::string::npos) << tty;
  EXPECT_NE(tty.find("100%"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\r\x1b[K"), std::string::npos) << tty;  // the bar is erased at the end
  EXPECT_FALSE(nlohmann::json::parse(Slurp(dir_ / "report.json"), nullptr, false).is_discarded())
      << "the report is JSON";
  const RunResult quiet = Shell("script -qec \"'$B' digest --no-progress --format json '" + log +
                                "' > /dev/null\" '" + typescript + "'");
  ASSERT_EQ(quiet.status, 0) << quiet.Describe();
  EXPECT_EQ(Slurp(typescript).find("MB/s"), std::string::npos);
}

TEST_F(DigestCliTest, TextReportAndPtJson) {
  const RunResult r = Shell("\"$B\" digest '" + Log("slow002.txt") + "'");
  ASSERT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.out.find("# Overall: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# Profile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# Query 1: "), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;  // not a terminal: no progress bar
  const RunResult pt = Shell("\"$B\" digest --format pt-json '" + Log("slow002.txt") + "'");
  ASSERT_EQ(pt.status, 0) << pt.Describe();
  const auto j = nlohmann::json::parse(pt.out);
  EXPECT_TRUE(j.contains("global"));
  EXPECT_TRUE(j["classes"].is_array());
}

TEST_F(DigestCliTest, BadInputIsAClearErrorAndPrintsNothing) {
  RunResult r =
      Shell("\"$B\" digest '" + Log("slow002.txt") + "' " + (dir_ / "missing.log").string());
  EXPECT_EQ(r.status, 1) << r.Describe();
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("missing.log"), std::string::npos) << r.err;
  r = Shell("\"$B\" digest --limit lots '" + Log("slow002.txt") + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_NE(r.err.find("--limit 'lots'"), std::string::npos) << r.err;
  r = Shell("\"$B\" digest --filter 'Query_time >' '" + Log("slow002.txt") + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_NE(r.err.find("missing value"), std::string::npos) << r.err;
  r = Shell("\"$B\" digest --since yesterday '" + Log("slow002.txt") + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  r = Shell("\"$B\" digest --order-by Query_time:median '" + Log("slow002.txt") + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  r = Shell("\"$B\" digest --group-by colour '" + Log("slow002.txt") + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  // Garbage is skipped and counted, never fatal: binary bytes before the first event (they
  // become part of the first record, as in pt), a truncated event at the end.
  const std::string junk =
      Write("junk.log", std::string("\x01\x02garbage;\n#\xff\n", 15) + SyntheticLog(8) +
                            "# User@Host: a[a] @ b []\n# Query_time: 1");
  r = Shell("\"$B\" digest --format json '" + junk + "'");
  ASSERT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.err.find("skipped 1 records"), std::string::npos) << r.err;
  const int events = nlohmann::json::parse(r.out)["overall"]["events"].get<int>();
  EXPECT_GE(events, 6);
  EXPECT_LE(events, 8);
}

TEST_F(DigestCliTest, LiveDigestOfTheSandboxUsesTheSameReport) {
  auto server = testing::LoadSandbox("primary");
  if (!server) GTEST_SKIP() << server.error().message;
  const std::string dsn =
      "mysql://" + server->monitor_user + "@127.0.0.1:" + std::to_string(server->port) + "/";
  const std::string out = (dir_ / "live.json").string();
  const std::string err = (dir_ / "live.err").string();
  // The digest samples for 3 s in the background while distinctive statements run.
  std::thread digest([&] {
    const std::string line = "'" + binary_ + "' digest --dsn '" + dsn + "' --password-file '" +
                             server->monitor_password_file +
                             "' --interval 3s --format json --limit 0 > '" + out + "' 2> '" + err +
                             "'";
    EXPECT_EQ(std::system(line.c_str()), 0) << Slurp(err);  // NOLINT(concurrency-mt-unsafe)
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  std::string sql;
  for (int i = 0; i < 25; ++i)
    sql += "SELECT " + std::to_string(i) + " AS dbrunbook_live_probe_col;\n";
  auto ran = testing::SandboxSql("primary", sql);
  ASSERT_TRUE(ran.has_value()) << ran.error().message;
  digest.join();
  const auto j = nlohmann::json::parse(Slurp(out));
  bool found = false;
  for (const auto& c : j["classes"]) {
    if (c["fingerprint"].get<std::string>().find("dbrunbook_live_probe_col") == std::string::npos)
      continue;
    found = true;
    EXPECT_EQ(c["count"].get<int>(), 25);
    EXPECT_TRUE(std::regex_match(c["query_id"].get<std::string>(), std::regex("^[0-9A-F]{32}$")));
    EXPECT_GE(c["metrics"]["Query_time"]["sum"].get<double>(), 0.0);
    EXPECT_TRUE(c["metrics"]["Query_time"]["max"].is_null());  // only totals are known
  }
  EXPECT_TRUE(found) << j.dump(1).substr(0, 4000);
  EXPECT_EQ(j["source"]["type"], "performance_schema");
  EXPECT_EQ(Slurp(out).find(server->monitor_password.Reveal()), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::app
