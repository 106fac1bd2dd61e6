// The statement digest step against the real sandbox primary, with a real workload running
// during the interval: a thread sends SELECTs of two distinctive shapes on a table the test
// creates (20,000 rows), one filtering on a column without an index, one on the primary key.
// The step runs with the monitor account (SELECT on performance_schema only).
//
// Cleanup: the workload stops and the schema is dropped after every test, also on failure.
// The reset test truncates the digest table (statistics only, no configuration).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "collect/target_session.h"
#include "mysql/connector_session.h"
#include "steps/investigate_digest.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFullScanText = "SELECT ID FROM `digest_it` . `orders` WHERE `note` = ?";
constexpr const char* kPrimaryKeyText = "SELECT `note` FROM `digest_it` . `orders` WHERE ID = ?";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The dbrunbook binary with `args`; stdout, stderr and the exit status.
struct ProcessResult {
  int status = -1;
  std::string out;
  std::string err;
};

ProcessResult RunBinary(const std::vector<std::string>& args, const fs::path& dir) {
  ProcessResult result;
  const char* binary = std::getenv("DBRUNBOOK_BINARY");
  if (binary == nullptr) {
    result.err = "DBRUNBOOK_BINARY is not set: run through ctest";
    return result;
  }
  std::vector<std::string> strings = {binary};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string path_var = "PATH=/usr/bin:/bin";
  std::string home_var = "HOME=" + dir.string();
  char* envp[] = {path_var.data(), home_var.data(), nullptr};
  const int out_fd =
      ::open((dir / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd =
      ::open((dir / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = fork();
  if (pid == 0) {
    if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  int wstatus = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (waitpid(pid, &wstatus, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = ReadAll(dir / "stdout");
  result.err = ReadAll(dir / "stderr");
  return result;
}

// Sends the two statement shapes in a loop, as root on its own connection, until stopped.
class Workload {
 public:
  explicit Workload(const testing::SandboxServer& server) {
    thread_ = std::thread([this, options = server.RootOptions()] {
      core::RealClock clock;
      mysql::ConnectorSessionFactory factory(clock);
      auto session = factory.Connect(options);
      if (!session) {
        failed_ = true;
        return;
      }
      for (int i = 0; !stop_; ++i) {
        const bool ok = (*session)
                            ->Query("SELECT id FROM digest_it.orders WHERE note = 'needle-" +
                                    std::to_string(i) + "'")
                            .has_value() &&
                        (*session)
                            ->Query("SELECT note FROM digest_it.orders WHERE id = " +
                                    std::to_string(i % 20000 + 1))
                            .has_value();
        if (!ok) {
          failed_ = true;
          return;
        }
        ++rounds_;
      }
    });
  }
  ~Workload() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int rounds() const { return rounds_; }
  bool failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;
};

class DigestIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto setup = testing::SandboxSql(
        "primary",
        "DROP DATABASE IF EXISTS digest_it; CREATE DATABASE digest_it; USE digest_it; "
        "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, note VARCHAR(40)) "
        "ENGINE=InnoDB; INSERT INTO orders (note) SELECT CONCAT('n', seq) FROM seq_1_to_20000;");
    ASSERT_TRUE(setup) << setup.error().ToString();
    created_ = true;
    dir_ = fs::temp_directory_path() / ("dbrunbook-digest-it-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }

  void TearDown() override {
    if (created_) {
      auto drop = testing::SandboxSql("primary", "DROP DATABASE IF EXISTS digest_it");
      EXPECT_TRUE(drop) << drop.error().ToString();
    }
    fs::remove_all(dir_);
  }

  std::vector<Finding> RunStep(core::Duration interval) {
    core::RealClock clock;
    mysql::ConnectorSessionFactory factory(clock);
    auto target = collect::OpenTargetSession(factory, primary_.MonitorOptions(), clock);
    EXPECT_TRUE(target) << target.error().ToString();
    if (!target) return {};
    EXPECT_EQ(target->flavor().capabilities.statement_digests, true);
    InvestigateOptions options;
    options.digest_interval = interval;
    StepContext context{*target, clock, options, clock.MonotonicNow() + options.step_budget};
    const auto start = std::chrono::steady_clock::now();
    auto findings = DigestStep().Run(context);
    EXPECT_GE(std::chrono::steady_clock::now() - start, interval);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  testing::SandboxServer primary_;
  bool created_ = false;
  fs::path dir_;
};

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

int64_t Int(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  return v != nullptr && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}

TEST_F(DigestIntegrationTest, TopStatementAndFullScanOfARealWorkload) {
  Workload workload(primary_);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // running before snapshot 1
  const auto findings = RunStep(std::chrono::seconds(2));
  workload.Stop();
  ASSERT_FALSE(workload.failed());
  ASSERT_GT(workload.rounds(), 20);

  const Finding* top = FindCode(findings, "digest.top");
  ASSERT_NE(top, nullptr);
  ASSERT_FALSE(top->evidence.empty()) << top->title;
  const EvidenceRow& first = top->evidence[0];
  EXPECT_EQ(Text(first, "statement"), kFullScanText) << top->title;
  const int64_t calls = Int(first, "calls");
  EXPECT_GT(calls, 10);
  EXPECT_LE(calls, workload.rounds() + 1);
  EXPECT_EQ(Int(first, "rows_examined"), calls * 20000);
  EXPECT_EQ(Int(first, "no_index_used"), calls);
  bool primary_key_seen = false;
  for (const auto& row : top->evidence) {
    // dbrunbook's own snapshot statement is never among them.
    EXPECT_EQ(Text(row, "statement").find("dbrunbook_digest_snapshot"), std::string::npos);
    if (Text(row, "statement") == kPrimaryKeyText) {
      primary_key_seen = true;
      EXPECT_EQ(Int(row, "no_index_used"), 0);
      EXPECT_EQ(Int(row, "rows_examined"), Int(row, "calls"));
    }
  }
  EXPECT_TRUE(primary_key_seen);

  // One full-scan finding: the unindexed filter, not the primary-key lookup.
  int full_scans = 0;
  for (const auto& f : findings) {
    if (f.code != "digest.full_scan") continue;
    ++full_scans;
    EXPECT_EQ(f.severity, Severity::kWarning);
    EXPECT_EQ(Text(f.evidence.at(0), "statement"), kFullScanText);
    EXPECT_DOUBLE_EQ(std::get<double>(*f.evidence.at(0).Find("rows_examined_per_call")), 20000.0);
  }
  EXPECT_EQ(full_scans, 1);
  EXPECT_EQ(FindCode(findings, "digest.reset"), nullptr);
}

// sysbench sends binary-protocol prepared statements (COM_STMT_EXECUTE), which MariaDB counts
// but does not digest: the step must count them instead of calling the server idle.
TEST_F(DigestIntegrationTest, PreparedStatementsThatMariaDbDoesNotDigestAreCounted) {
  const std::string sysbench = fmt::format(
      "sysbench --db-driver=mysql --mysql-socket='{}' --mysql-user=root --mysql-db=digest_it "
      "--tables=1 --table-size=1000 --db-ps-mode=auto ",
      primary_.socket);
  ASSERT_EQ(std::system((sysbench + "oltp_point_select prepare >/dev/null 2>&1").c_str()), 0);
  int run_status = -1;
  std::thread load([&] {
    run_status = std::system(
        (sysbench + "--threads=1 --time=4 oltp_point_select run >/dev/null 2>&1").c_str());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // running before the read
  const auto findings = RunStep(std::chrono::seconds(2));
  load.join();
  ASSERT_EQ(run_status, 0);

  const Finding* unseen = FindCode(findings, "digest.prepared_unseen");
  ASSERT_NE(unseen, nullptr);
  EXPECT_GT(Int(unseen->evidence.at(0), "executions"), 100);
  // Nearly all the statement time of the interval is sysbench's.
  EXPECT_EQ(unseen->severity, Severity::kWarning) << unseen->title;
  const Finding* top = FindCode(findings, "digest.top");
  ASSERT_NE(top, nullptr);
  for (const auto& row : top->evidence) {
    EXPECT_EQ(Text(row, "statement").find("sbtest1"), std::string::npos)
        << "a prepared statement was digested after all: " << Text(row, "statement");
  }
}

TEST_F(DigestIntegrationTest, TruncatingTheTableDuringTheIntervalIsReported) {
  Workload workload(primary_);
  std::thread truncate([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    (void)testing::SandboxSql(
        "primary", "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest");
  });
  const auto findings = RunStep(std::chrono::seconds(2));
  truncate.join();
  workload.Stop();
  ASSERT_FALSE(workload.failed());
  const Finding* reset = FindCode(findings, "digest.reset");
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->severity, Severity::kInfo);
  EXPECT_GT(Int(reset->evidence.at(0), "vanished"), 0);
  // The figures are never negative: the workload's row counts what ran after the reset.
  const Finding* top = FindCode(findings, "digest.top");
  ASSERT_NE(top, nullptr);
  for (const auto& row : top->evidence) EXPECT_GE(Int(row, "calls"), 1);
}

TEST_F(DigestIntegrationTest, TheCliReportsItAsJson) {
  Workload workload(primary_);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const ProcessResult r = RunBinary(
      {"investigate", "--dsn", "mysql://monitor@127.0.0.1:" + std::to_string(primary_.port) + "/",
       "--password-file", primary_.monitor_password_file, "--only", "digest", "--since", "2",
       "--format", "json"},
      dir_);
  workload.Stop();
  ASSERT_EQ(r.status, 1) << r.out << r.err;  // the full scan is a warning
  const json doc = json::parse(r.out);
  bool top = false;
  bool full_scan = false;
  for (const auto& f : doc["findings"]) {
    if (f["code"] == "digest.top") {
      top = true;
      EXPECT_EQ(f["evidence"][0]["statement"], kFullScanText);
      EXPECT_TRUE(f["evidence"][0]["calls"].is_number_integer());
      EXPECT_TRUE(f["evidence"][0]["total_seconds"].is_number());
    }
    if (f["code"] == "digest.full_scan") {
      full_scan = true;
      EXPECT_EQ(f["severity"], "warning");
      EXPECT_EQ(f["evidence"][0]["statement"], kFullScanText);
    }
  }
  EXPECT_TRUE(top) << r.out;
  EXPECT_TRUE(full_scan) << r.out;
  bool digest_ran = false;
  for (const auto& s : doc["steps"]) {
    if (s["group"] == "digest") {
      digest_ran = s["ran"].get<bool>();
      EXPECT_GE(s["elapsed_seconds"].get<double>(), 2.0);
      // Prepared-statement count, two snapshots, prepared-statement count, texts.
      EXPECT_EQ(s["statements"], 5);
    }
  }
  EXPECT_TRUE(digest_ran);
}

}  // namespace
}  // namespace dbrunbook::steps
