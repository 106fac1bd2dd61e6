// The slow log step and the --enable-slow-log / --restore-slow-log action against the real
// sandbox primary (whose slow log is OFF by design, long_query_time 2, log_output FILE).
//
// The action runs through the real binary ($DBRUNBOOK_BINARY) with a HOME in a temporary
// directory (so the state file lands there), as root over the socket through an ad-hoc
// --defaults-file (the monitor account cannot SET GLOBAL), and once as the monitor to see it
// refused. The server's global values are read back with the mariadb client (scripts/sandbox
// sql), never through the code under test, and put back as they were after every test, also
// when an assertion fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collect/target_session.h"
#include "mysql/connector_session.h"
#include "steps/investigate_slowlog.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ProcessResult {
  int status = -1;
  std::string out;
  std::string err;
  std::string Describe() const {
    return "exit " + std::to_string(status) + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
  }
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the dbrunbook binary with `args`, environment `env` (nothing inherited), stdout and
// stderr captured in files of `dir`; killed after 60 s.
ProcessResult RunBinary(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env, const fs::path& dir) {
  ProcessResult result;
  const char* binary = std::getenv("DBRUNBOOK_BINARY");
  if (binary == nullptr) {
    result.err = "DBRUNBOOK_BINARY is not set: run through ctest";
    return result;
  }
  std::vector<std::string> arg_strings = {binary};
  arg_strings.insert(arg_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const fs::path out_path = dir / "stdout";
  const fs::path err_path = dir / "stderr";
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {
    if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int wstatus = 0;
  while (true) {
    const pid_t done = waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      result.err = "timed out\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  result.out = ReadAll(out_path);
  result.err += ReadAll(err_path);
  return result;
}

struct Globals {
  std::string slow_query_log;
  std::string long_query_time;
  std::string log_output;
  bool operator==(const Globals&) const = default;
};

// The server's global values, read with the mariadb client as root.
core::Result<Globals> ReadGlobals() {
  auto out = testing::SandboxSql(
      "primary", "SELECT @@GLOBAL.slow_query_log, @@GLOBAL.long_query_time, @@GLOBAL.log_output",
      {"--skip-column-names"});
  if (!out) return core::Fail(out.error());
  std::istringstream in(*out);
  Globals g;
  std::getline(in, g.slow_query_log, '\t');
  std::getline(in, g.long_query_time, '\t');
  std::getline(in, g.log_output);
  return g;
}

class SlowLogIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto globals = ReadGlobals();
    ASSERT_TRUE(globals) << globals.error().ToString();
    original_ = *globals;
    saved_ = true;
    home_ = fs::temp_directory_path() /
            ("dbrunbook-slowlog-it-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
    root_defaults_ = home_ / "root.cnf";
    std::ofstream(root_defaults_) << "[client]\nsocket=" << primary_.socket << "\nuser=root\n";
    fs::permissions(root_defaults_, fs::perms::owner_read | fs::perms::owner_write);
  }

  // The server as it was, whatever happened in the test.
  void TearDown() override {
    if (saved_) {
      auto put_back = testing::SandboxSql(
          "primary", "SET GLOBAL slow_query_log = " + original_.slow_query_log +
                         ", GLOBAL long_query_time = " + original_.long_query_time +
                         ", GLOBAL log_output = '" + original_.log_output + "'");
      EXPECT_TRUE(put_back) << put_back.error().ToString();
    }
    fs::remove_all(home_);
  }

  std::map<std::string, std::string> Env() const {
    return {{"PATH", "/usr/bin:/bin"}, {"HOME", home_.string()}, {"LANG", "C.UTF-8"}};
  }

  ProcessResult AsRoot(std::vector<std::string> args) {
    args.insert(args.begin(), {"investigate", "--defaults-file", root_defaults_.string()});
    return RunBinary(args, Env(), home_);
  }

  ProcessResult AsMonitor(std::vector<std::string> args) {
    args.insert(args.begin(), {"investigate", "--dsn",
                               "mysql://monitor@127.0.0.1:" + std::to_string(primary_.port) + "/",
                               "--password-file", primary_.monitor_password_file});
    return RunBinary(args, Env(), home_);
  }

  std::vector<fs::path> StateFiles() const {
    std::vector<fs::path> files;
    const fs::path dir = home_ / ".local/state/dbrunbook";
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      files.push_back(it->path());
    }
    return files;
  }

  std::vector<Finding> RunStepAsMonitor() {
    core::RealClock clock;
    mysql::ConnectorSessionFactory factory(clock);
    auto target = collect::OpenTargetSession(factory, primary_.MonitorOptions(), clock);
    EXPECT_TRUE(target) << target.error().ToString();
    if (!target) return {};
    InvestigateOptions options;
    StepContext context{*target, clock, options, clock.MonotonicNow() + std::chrono::seconds(20)};
    auto findings = SlowLogStep().Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  testing::SandboxServer primary_;
  Globals original_;
  bool saved_ = false;
  fs::path home_;
  fs::path root_defaults_;
};

TEST_F(SlowLogIntegrationTest, TheSandboxLogIsOffAndTheStepSaysSo) {
  ASSERT_EQ(original_.slow_query_log, "0");  // the sandbox's design
  const auto findings = RunStepAsMonitor();
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.code, "slowlog.off");
  EXPECT_EQ(f.severity, Severity::kWarning);
  const EvidenceRow& row = f.evidence.at(0);
  EXPECT_EQ(EvidenceText(*row.Find("slow_query_log")), "OFF");
  EXPECT_EQ(EvidenceText(*row.Find("slow_query_log_file")), primary_.slow_log);
  EXPECT_EQ(EvidenceText(*row.Find("log_output")), "FILE");
  EXPECT_DOUBLE_EQ(std::get<double>(*row.Find("long_query_time_seconds")), 2.0);
  // long_query_time is already the runbook's 2 there: only the log is turned on.
  EXPECT_EQ(f.suggestions.at(0).sql, "SET GLOBAL slow_query_log = ON");

  // The same through the CLI, as JSON.
  const ProcessResult r = AsMonitor({"--only", "slowlog", "--format", "json"});
  ASSERT_EQ(r.status, 1) << r.Describe();
  const json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << r.out;
  EXPECT_EQ(doc["findings"][0]["code"], "slowlog.off");
  EXPECT_EQ(doc["findings"][0]["severity"], "warning");
  EXPECT_EQ(doc["findings"][0]["evidence"][0]["slow_query_log_file"], primary_.slow_log);
}

TEST_F(SlowLogIntegrationTest, EnableWithApplyRecordsThenRestorePutsBack) {
  // Without --apply: the plan, and nothing changes.
  ProcessResult r = AsRoot({"--enable-slow-log=1"});
  ASSERT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.out.find("SET GLOBAL long_query_time = 1;"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SET GLOBAL slow_query_log = ON;"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was changed"), std::string::npos) << r.out;
  EXPECT_EQ(*ReadGlobals(), original_);
  EXPECT_TRUE(StateFiles().empty());

  // --apply: the previous values recorded, then the globals changed.
  r = AsRoot({"--enable-slow-log=1", "--apply", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json applied = json::parse(r.out);
  EXPECT_EQ(applied["status"], "applied");
  EXPECT_EQ(applied["read_back"]["slow_query_log"], "ON");
  EXPECT_EQ(applied["read_back"]["long_query_time"], "1.000000");
  const Globals on = *ReadGlobals();
  EXPECT_EQ(on.slow_query_log, "1");
  EXPECT_EQ(on.long_query_time, "1.000000");
  EXPECT_EQ(on.log_output, original_.log_output);
  const auto files = StateFiles();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].string(), applied["state_file"].get<std::string>());
  struct stat st {};
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const json state = json::parse(ReadAll(files[0]));
  EXPECT_EQ(state["schema"], "dbrunbook.slow_log_state");
  EXPECT_EQ(state["previous"]["slow_query_log"], "OFF");
  EXPECT_EQ(state["previous"]["long_query_time"], "2.000000");
  EXPECT_EQ(state["server"]["port"], std::to_string(primary_.port));
  EXPECT_EQ(state["server"]["server_id"], std::to_string(primary_.server_id));

  // The log really records now: a new connection's 1.2 s statement is in it.
  auto slept = testing::SandboxSql("primary", "SELECT SLEEP(1.2) AS slowlog_it_marker");
  ASSERT_TRUE(slept) << slept.error().ToString();
  EXPECT_NE(ReadAll(primary_.slow_log).find("slowlog_it_marker"), std::string::npos);
  // And the step sees it on.
  const auto findings = RunStepAsMonitor();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "slowlog.state");

  // A second enable is refused and changes nothing.
  r = AsRoot({"--enable-slow-log", "--apply"});
  EXPECT_EQ(r.status, 1) << r.Describe();
  EXPECT_NE(r.err.find("already changed the slow log"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadGlobals(), on);

  // Restore: the plan, then --apply.
  r = AsRoot({"--restore-slow-log"});
  ASSERT_EQ(r.status, 0) << r.Describe();
  EXPECT_NE(r.out.find("SET GLOBAL slow_query_log = OFF;"), std::string::npos) << r.out;
  EXPECT_EQ(*ReadGlobals(), on);
  r = AsRoot({"--restore-slow-log", "--apply"});
  ASSERT_EQ(r.status, 0) << r.Describe();
  EXPECT_EQ(*ReadGlobals(), original_);
  EXPECT_TRUE(StateFiles().empty());

  // Nothing left to restore.
  r = AsRoot({"--restore-slow-log", "--apply"});
  EXPECT_EQ(r.status, 1) << r.Describe();
  EXPECT_NE(r.err.find("nothing to restore"), std::string::npos) << r.err;
}

TEST_F(SlowLogIntegrationTest, TheMonitorAccountIsRefusedWithTheGrantAndNothingChanges) {
  const ProcessResult r = AsMonitor({"--enable-slow-log", "--apply"});
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_NE(r.err.find("GRANT SUPER ON *.* TO 'monitor'@'%'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadGlobals(), original_);
  EXPECT_TRUE(StateFiles().empty());

  // --apply alone is a usage error: the investigation never changes anything.
  const ProcessResult usage = AsMonitor({"--apply"});
  EXPECT_EQ(usage.status, 3) << usage.Describe();
}

}  // namespace
}  // namespace dbrunbook::steps
