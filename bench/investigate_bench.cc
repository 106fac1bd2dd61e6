// investigate_bench: what one full `dbrunbook investigate` costs a server and how long it takes,
// next to what a DBA runs by hand for the same answers, measured in the same run against the
// same server (DESIGN.md, Testing). bench/investigate is the one command that builds this,
// starts a sandbox server with a 5,000-table schema and row-lock chains, and runs it;
// bench/README.md explains how to read the output.
//
// What it measures, per run of each tool:
//   - wall time; for dbrunbook also the wait of the statement-digest step between its two
//     snapshots (metered in process, the requested --since for the CLI), so that "wall time
//     excl. interval" is the tool's own work; per step: time (digest wait excluded) and
//     statements, from the Investigation (in process) or the JSON report (CLI);
//   - statements dbrunbook says it sent, and the server's own view from a SEPARATE probe
//     connection (root over the Unix socket): SHOW GLOBAL STATUS right before and right after
//     the run, deltas of Questions, Com_*, Created_tmp_tables, Created_tmp_disk_tables,
//     Connections, Bytes_sent, minus what one probe pair costs by itself (calibrated at start,
//     as in assess_bench);
//   - with --writer-table: whether the tool stalls other sessions. A writer thread (its own
//     root session) runs small autocommit UPDATEs and INSERTs on that table back to back with
//     a short pause; its statement latencies are collected while nothing else runs (idle) and
//     while each tool runs (the tools are run again for this, the counters are not read then).
//
// Tools:
//   - "dbrunbook (library)": OpenTargetSession + RunInvestigation in this process, the session
//     kept open until the second probe (so no disconnect races the counters);
//   - "dbrunbook CLI": `dbrunbook investigate --format json` as a process;
//   - peers given with --peer NAME[@RUNS]=COMMAND, run with /bin/sh -c, stdout and stderr to
//     files in --output-dir (the last run's are kept there).
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_support.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/strings.h"
#include "mysql/connector_session.h"
#include "steps/investigate.h"
#include "steps/step.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace dbrunbook::bench {
namespace {

constexpr std::string_view kDigestStep = "investigate.digest";

double Ms(core::Duration d) { return core::ToSeconds(d) * 1000; }

// --- statistics ----------------------------------------------------------------------------

struct Stats {
  double median = 0;
  double p99 = 0;  // nearest rank
  double min = 0;
  double max = 0;
  size_t n = 0;
};

std::optional<Stats> Summarize(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  Stats s;
  const size_t n = values.size();
  s.n = n;
  s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  const auto rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(n)));
  s.p99 = values[std::clamp<size_t>(rank, 1, n) - 1];
  s.min = values.front();
  s.max = values.back();
  return s;
}

std::string Num(double v, int decimals = 1) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.{}f}", v, decimals);
}

std::string Slug(std::string_view name) {
  std::string s;
  for (char c : name) s.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
  return s;
}

// --- the probe -----------------------------------------------------------------------------

// Counters that nothing but statements moves: on a quiet server, equal in every probe pair.
bool IsExactCounter(std::string_view name) {
  return name == "Questions" || name == "Connections" || name == "Created_tmp_tables" ||
         name == "Created_tmp_disk_tables" || core::StartsWithIgnoreCase(name, "Com_");
}

struct Calibration {
  Counters baseline;  // median delta of a probe pair with nothing in between
  bool quiet = true;
  std::vector<std::string> moving;  // exact counters that differed between pairs
};

core::Result<Calibration> Calibrate(mysql::Session& probe, core::Clock& clock, int pairs,
                                    core::Duration gap) {
  std::map<std::string, std::vector<double>> deltas;
  for (int i = 0; i < pairs; ++i) {
    auto before = ReadStatus(probe);
    if (!before) return core::Fail(before.error());
    clock.SleepFor(gap);
    auto after = ReadStatus(probe);
    if (!after) return core::Fail(after.error());
    for (const auto& [name, value] : Delta(*before, *after)) deltas[name].push_back(value);
  }
  Calibration c;
  for (auto& [name, values] : deltas) {
    c.baseline[name] = Summarize(values)->median;
    if (IsExactCounter(name) && *std::max_element(values.begin(), values.end()) !=
                                    *std::min_element(values.begin(), values.end())) {
      c.quiet = false;
      c.moving.push_back(name);
    }
  }
  return c;
}

// One number from the probe ("SELECT COUNT(*) ..."); nullopt when the server says no.
std::optional<double> ProbeNumber(mysql::Session& probe, const std::string& sql) {
  auto result = probe.Query(sql);
  if (!result || result->rows.empty()) return std::nullopt;
  auto text = result->rows[0].at(0).AsString();
  return text ? core::ParseDouble(*text) : std::nullopt;
}

// --- processes -----------------------------------------------------------------------------

struct ProcessResult {
  int exit_code = -1;  // -1: did not run or was killed by a signal
  core::MonoTime start{};
  core::MonoTime end{};
  std::string error;  // why it could not run
};

std::string ErrorText(int err) { return std::generic_category().message(err); }

// Runs argv with stdin from /dev/null and stdout/stderr into files; waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
                         const std::string& stderr_path, char* const* envp, const std::string& cwd,
                         core::Clock& clock) {
  ProcessResult r;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  r.start = clock.MonotonicNow();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.error = fmt::format("cannot run {}: {}", argv[0], ErrorText(rc));
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      r.error = fmt::format("waitpid: {}", ErrorText(errno));
      return r;
    }
  }
  r.end = clock.MonotonicNow();
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else {
    r.error = fmt::format("{} killed by signal {}", argv[0], WTERMSIG(status));
  }
  return r;
}

// --- the concurrent writer -----------------------------------------------------------------

// Small autocommit writes on one table from its own session and thread, back to back with a
// pause, each timed. Thread-safety: Start/Stop/Samples from one thread (the bench's); the
// session is used only by the writer thread between Start and Stop.
class Writer {
 public:
  struct Sample {
    core::MonoTime start{};
    core::MonoTime end{};
    bool ok = true;
  };

  Writer(std::unique_ptr<mysql::Session> session, std::string table, core::Duration pause)
      : session_(std::move(session)), table_(std::move(table)), pause_(pause) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { Stop(); }

  void Start() {
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Copies of what was recorded so far (call after Stop for a complete list).
  std::vector<Sample> Samples() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return samples_;
  }
  std::string last_error() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
  }

 private:
  void Loop() {
    core::RealClock clock;
    for (uint64_t i = 0; !stop_; ++i) {
      const std::string sql =
          i % 2 == 0
              ? fmt::format("UPDATE {} SET v = v + 1 WHERE id = {}", table_, 1 + (i / 2) % 100)
              : fmt::format("INSERT INTO {} (k, v) VALUES ({}, 0)", table_, i % 1000);
      Sample s;
      s.start = clock.MonotonicNow();
      auto result = session_->Query(sql);
      s.end = clock.MonotonicNow();
      s.ok = result.has_value();
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        samples_.push_back(s);
        if (!result) last_error_ = result.error().ToString();
      }
      clock.SleepFor(pause_);
    }
  }

  std::unique_ptr<mysql::Session> session_;
  std::string table_;
  core::Duration pause_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Sample> samples_;
  std::string last_error_;
};

struct Window {
  core::MonoTime start{};
  core::MonoTime end{};
};

// Latencies (ms) of the writer's statements that overlapped any of the windows.
std::vector<double> LatenciesIn(const std::vector<Writer::Sample>& samples,
                                const std::vector<Window>& windows, int& failed) {
  std::vector<double> out;
  for (const auto& s : samples) {
    for (const auto& w : windows) {
      if (s.start < w.end && s.end > w.start) {
        out.push_back(Ms(s.end - s.start));
        if (!s.ok) ++failed;
        break;
      }
    }
  }
  return out;
}

// --- timing the library's statements -------------------------------------------------------

// The real clock, metering the time spent in SleepFor (the digest step's deliberate wait
// between its two snapshots), so that wall time minus that wait is exactly the work.
class MeteringClock final : public core::Clock {
 public:
  core::WallTime WallNow() const override { return real_.WallNow(); }
  core::MonoTime MonotonicNow() const override { return real_.MonotonicNow(); }
  void SleepFor(core::Duration d) override {
    const auto start = real_.MonotonicNow();
    real_.SleepFor(d);
    slept_ += real_.MonotonicNow() - start;
  }
  // Time slept since the last call.
  core::Duration TakeSlept() { return std::exchange(slept_, core::Duration{}); }

 private:
  core::RealClock real_;
  core::Duration slept_{};
};

struct StatementTime {
  std::string step;  // the step that sent it, or "(session setup)"
  std::string label;
  double ms = 0;
  size_t rows = 0;
};

// "SHOW GLOBAL STATUS", "SELECT ... FROM information_schema.TABLES", "SET SESSION ...".
std::string Label(std::string_view sql) {
  std::string flat;
  for (char c : sql) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !flat.empty() && flat.back() == ' ') continue;
    flat.push_back(c);
  }
  if (flat.starts_with("/*")) {  // the statement tag, if the session adds one
    if (const size_t end = flat.find("*/"); end != std::string::npos) {
      flat = std::string(core::Trim(flat.substr(end + 2)));
    }
  }
  if (flat.starts_with("SELECT")) {
    const size_t from = flat.find(" FROM ");
    if (from != std::string::npos) {
      const size_t start = from + 6;
      const size_t end = flat.find_first_of(" )", start);
      return "SELECT ... FROM " + flat.substr(start, end == std::string::npos ? end : end - start);
    }
  }
  return flat.size() > 48 ? flat.substr(0, 45) + "..." : flat;
}

// Shared by the timing session and the step wrappers: which step is running, and the log.
struct TimingLog {
  std::string current_step = "(session setup)";
  std::vector<StatementTime> statements;
};

// A Session that times every statement of the session it wraps (the Session seam).
class TimingSession final : public mysql::Session {
 public:
  TimingSession(std::unique_ptr<mysql::Session> inner, core::Clock& clock, TimingLog& log)
      : inner_(std::move(inner)), clock_(clock), log_(log) {}
  core::Result<mysql::ResultSet> Query(std::string_view sql) override {
    const auto start = clock_.MonotonicNow();
    auto result = inner_->Query(sql);
    log_.statements.push_back(StatementTime{log_.current_step, Label(sql),
                                            Ms(clock_.MonotonicNow() - start),
                                            result ? result->rows.size() : 0});
    return result;
  }
  const mysql::ConnectionInfo& info() const override { return inner_->info(); }
  uint64_t statements_sent() const override { return inner_->statements_sent(); }

 private:
  std::unique_ptr<mysql::Session> inner_;
  core::Clock& clock_;
  TimingLog& log_;
};

class TimingFactory final : public mysql::SessionFactory {
 public:
  TimingFactory(mysql::SessionFactory& inner, core::Clock& clock) : inner_(inner), clock_(clock) {}
  core::Result<std::unique_ptr<mysql::Session>> Connect(
      const mysql::ConnectOptions& options) override {
    log = TimingLog{};
    auto session = inner_.Connect(options);
    if (!session) return core::Fail(session.error());
    return std::unique_ptr<mysql::Session>(
        std::make_unique<TimingSession>(std::move(*session), clock_, log));
  }
  TimingLog log;  // of the last session opened

 private:
  mysql::SessionFactory& inner_;
  core::Clock& clock_;
};

// A step that tells the timing log which step its statements belong to.
class NamedStep final : public steps::Step {
 public:
  NamedStep(std::unique_ptr<steps::Step> inner, TimingLog& log)
      : inner_(std::move(inner)), log_(log) {}
  std::string_view name() const override { return inner_->name(); }
  std::string_view group() const override { return inner_->group(); }
  std::string_view description() const override { return inner_->description(); }
  std::string RequiredGrant(const dialect::Flavor& flavor,
                            std::string_view account) const override {
    return inner_->RequiredGrant(flavor, account);
  }
  core::Result<std::vector<steps::Finding>> Run(steps::StepContext& context) override {
    log_.current_step = std::string(inner_->name());
    auto result = inner_->Run(context);
    log_.current_step = "(after the steps)";
    return result;
  }

 private:
  std::unique_ptr<steps::Step> inner_;
  TimingLog& log_;
};

// --- tools and runs ------------------------------------------------------------------------

struct Run {
  double wall_ms = 0;
  double waited_ms = 0;            // the digest step's wait (metered, or the requested --since)
  std::optional<double> steps_ms;  // the Investigation's own elapsed (all steps), wait excluded
  std::optional<double> connect_ms;
  std::optional<double> statements_sent;
  std::map<std::string, double> step_ms;  // own work, the digest wait excluded
  std::map<std::string, double> step_statements;
  std::map<std::string, int> finding_codes;
  Counters server;  // probe-corrected deltas
  double excl_ms() const { return wall_ms - waited_ms; }
};

struct Tool {
  std::string name;
  std::string how;
  std::vector<Run> runs;
  int failures = 0;
  std::string last_error;
  bool is_dbrunbook = false;
  int questions_match = 0;  // library runs where Questions == statements_sent
  std::vector<std::string> mismatches;
  std::vector<std::string> argv;  // how to run it again (processes)
  std::string slug;
  bool dbrunbook_json = false;
};

struct Context {
  std::string name;
  mysql::ConnectOptions monitor;
  std::string dsn;
  std::string password_file;
  std::unique_ptr<mysql::Session> probe;
  Calibration calibration;
  MeteringClock clock;
  std::unique_ptr<mysql::ConnectorSessionFactory> factory;
  std::unique_ptr<TimingFactory> timing;
  steps::InvestigateOptions options;
  std::string since_text;
  core::Duration settle{};
  std::string out_dir;
  std::vector<std::string> cli_env_storage;
  std::vector<char*> cli_env;
  std::string cli_home;
  std::vector<std::string> step_order;
  // Library runs: per position, (step, label) and the times; rows of the last run.
  std::vector<std::pair<std::pair<std::string, std::string>, std::vector<double>>> statements;
  std::vector<size_t> statement_rows;
  bool statements_differ = false;
  std::optional<steps::Investigation> last;
};

Counters Corrected(const Context& ctx, const Counters& before, const Counters& after) {
  Counters delta = Delta(before, after);
  for (auto& [name, value] : delta) {
    if (auto it = ctx.calibration.baseline.find(name); it != ctx.calibration.baseline.end()) {
      value -= it->second;
    }
  }
  return delta;
}

// One in-process investigation. With `probe` false the counters are not read (writer phase).
core::Result<Run> RunLibrary(Context& ctx, bool probe, Window* window) {
  std::optional<Counters> before;
  if (probe) {
    auto read = ReadStatus(*ctx.probe);
    if (!read) return core::Fail(read.error());
    before = std::move(*read);
  }
  std::vector<std::unique_ptr<steps::Step>> steps;
  for (auto& step : steps::MakeInvestigationSteps()) {
    steps.push_back(std::make_unique<NamedStep>(std::move(step), ctx.timing->log));
  }
  ctx.clock.TakeSlept();
  const auto start = ctx.clock.MonotonicNow();
  auto target = collect::OpenTargetSession(*ctx.timing, ctx.monitor, ctx.clock);
  if (!target) return core::Fail(target.error());
  steps::Investigation inv = steps::RunInvestigation(*target, ctx.clock, ctx.options, steps);
  const auto done = ctx.clock.MonotonicNow();
  if (window != nullptr) *window = Window{start, done};
  Run run;
  if (before) {
    // The session stays open until the probe has read: its counters are all in.
    auto after = ReadStatus(*ctx.probe);
    if (!after) return core::Fail(after.error());
    run.server = Corrected(ctx, *before, *after);
  }
  const double slept = Ms(ctx.clock.TakeSlept());
  run.wall_ms = Ms(done - start);
  run.waited_ms = slept;
  run.steps_ms = Ms(inv.elapsed) - slept;
  run.connect_ms = Ms(target->session->info().connect_time);
  run.statements_sent = static_cast<double>(inv.statements_sent);
  if (ctx.step_order.empty()) {
    for (const auto& s : inv.steps) ctx.step_order.push_back(s.name);
  }
  for (const auto& s : inv.steps) {
    if (!s.ran) continue;
    run.step_ms[s.name] = Ms(s.elapsed) - (s.name == kDigestStep ? slept : 0);
    run.step_statements[s.name] = static_cast<double>(s.statements);
  }
  for (const auto& f : inv.findings) ++run.finding_codes[f.code];
  if (probe) {
    const auto& log = ctx.timing->log.statements;
    if (ctx.statements.empty()) {
      for (const auto& t : log) ctx.statements.push_back({{t.step, t.label}, {}});
    }
    if (log.size() != ctx.statements.size()) {
      ctx.statements_differ = true;
    } else {
      ctx.statement_rows.clear();
      for (size_t i = 0; i < log.size(); ++i) {
        if (log[i].label != ctx.statements[i].first.second) ctx.statements_differ = true;
        ctx.statements[i].second.push_back(log[i].ms);
        ctx.statement_rows.push_back(log[i].rows);
      }
    }
  }
  if (probe) ctx.last = std::move(inv);
  // Close now and let the server process the COM_QUIT before the next run's first probe.
  target->session.reset();
  ctx.clock.SleepFor(ctx.settle);
  ctx.clock.TakeSlept();
  return run;
}

core::Result<Run> RunCommand(Context& ctx, const Tool& tool, bool probe, Window* window) {
  const std::string out = fmt::format("{}/{}.stdout", ctx.out_dir, tool.slug);
  const std::string err = fmt::format("{}/{}.stderr", ctx.out_dir, tool.slug);
  std::optional<Counters> before;
  if (probe) {
    auto read = ReadStatus(*ctx.probe);
    if (!read) return core::Fail(read.error());
    before = std::move(*read);
  }
  const ProcessResult p =
      RunProcess(tool.argv, out, err, tool.dbrunbook_json ? ctx.cli_env.data() : environ,
                 tool.dbrunbook_json ? ctx.cli_home : "", ctx.clock);
  if (!p.error.empty()) return core::MakeError(core::ErrorCode::kInternal, p.error);
  if (window != nullptr) *window = Window{p.start, p.end};
  Run run;
  run.wall_ms = Ms(p.end - p.start);
  if (before) {
    // Let the server finish the disconnects before reading its counters.
    ctx.clock.SleepFor(ctx.settle);
    auto after = ReadStatus(*ctx.probe);
    if (!after) return core::Fail(after.error());
    run.server = Corrected(ctx, *before, *after);
  }
  if (!tool.dbrunbook_json) {
    if (p.exit_code != 0) {
      return core::MakeError(core::ErrorCode::kInternal,
                             fmt::format("exit {}: {}", p.exit_code, Tail(err)));
    }
    return run;
  }
  // investigate exits 0 nothing above info, 1 warnings, 2 critical, 3 could not investigate.
  if (p.exit_code < 0 || p.exit_code > 2) {
    return core::MakeError(core::ErrorCode::kInternal,
                           fmt::format("exit {}: {}", p.exit_code, Tail(err)));
  }
  auto json = nlohmann::json::parse(ReadFile(out).value_or(""), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return core::MakeError(core::ErrorCode::kInternal,
                           fmt::format("no JSON on stdout (stderr: {})", Tail(err)));
  }
  // The process cannot be metered: its wait is the requested interval (a sleep overshoots by
  // well under a millisecond, counted as work here).
  const double since_ms = Ms(ctx.options.digest_interval);
  run.waited_ms = since_ms;
  run.steps_ms = json.value("elapsed_seconds", 0.0) * 1000 - since_ms;
  run.statements_sent = json.value("statements_sent", 0.0);
  for (const auto& s : json.value("steps", nlohmann::json::array())) {
    if (!s.value("ran", false)) continue;
    const std::string name = s.value("name", "");
    run.step_ms[name] =
        s.value("elapsed_seconds", 0.0) * 1000 - (name == kDigestStep ? since_ms : 0);
    run.step_statements[name] = s.value("statements", 0.0);
  }
  for (const auto& f : json.value("findings", nlohmann::json::array())) {
    ++run.finding_codes[f.value("code", "?")];
  }
  return run;
}

// --- output --------------------------------------------------------------------------------

std::optional<Stats> StatsOf(const Tool& tool,
                             const std::function<std::optional<double>(const Run&)>& field) {
  std::vector<double> values;
  for (const auto& run : tool.runs) {
    if (auto v = field(run)) values.push_back(*v);
  }
  return Summarize(std::move(values));
}

std::optional<double> Server(const Context& ctx, const Run& run, const std::string& name) {
  if (!ctx.calibration.quiet || run.server.empty()) return std::nullopt;
  auto it = run.server.find(name);
  return it == run.server.end() ? std::optional<double>(0.0) : std::optional<double>(it->second);
}

// "median (min–max)" of a field, or "-".
std::string MedianRange(const std::optional<Stats>& s, int decimals = 1) {
  if (!s) return "-";
  if (s->n == 1 || s->min == s->max) return Num(s->median, decimals);
  return fmt::format("{} ({}–{})", Num(s->median, decimals), Num(s->min, decimals),
                     Num(s->max, decimals));
}

void PrintFindings(const std::map<std::string, int>& codes, const steps::Investigation* inv) {
  std::vector<std::string> parts;
  int lock_findings = 0;
  for (const auto& [code, n] : codes) {
    parts.push_back(fmt::format("{} {}", code, n));
    if (code.starts_with("lock.")) lock_findings += n;
  }
  fmt::print("  findings by code: {}\n", fmt::join(parts, ", "));
  fmt::print("  lock.* findings: {} (the row-lock chains {})\n", lock_findings,
             lock_findings > 0 ? "were seen" : "were NOT seen");
  if (inv == nullptr) return;
  for (const auto& f : inv->findings) {
    if (f.code.starts_with("lock.") || f.code == "check.limited" || f.code == "check.incomplete" ||
        f.code == "check.partial") {
      fmt::print("    {:<18} {}\n", f.code, f.title.substr(0, 140));
    }
  }
}

void PrintToolDetail(const Context& ctx, const Tool& tool) {
  fmt::print("\n{} — {} runs{}\n", tool.name, tool.runs.size(),
             tool.failures ? fmt::format(", {} FAILED: {}", tool.failures, tool.last_error) : "");
  fmt::print("  {}\n", tool.how);
  auto row = [](std::string_view label, const std::optional<Stats>& s, int decimals = 1,
                double scale = 1) {
    if (!s) return;
    fmt::print("  {:<46} {:>10} {:>10} {:>10}\n", label, Num(s->median / scale, decimals),
               Num(s->min / scale, decimals), Num(s->max / scale, decimals));
  };
  fmt::print("  {:<46} {:>10} {:>10} {:>10}\n", "per run", "median", "min", "max");
  row("wall time (ms)", StatsOf(tool, [](const Run& r) { return r.wall_ms; }));
  if (tool.is_dbrunbook) {
    row("digest wait (ms, excluded below)",
        StatsOf(tool, [](const Run& r) { return r.waited_ms; }));
    row("wall time excl. digest wait (ms)",
        StatsOf(tool, [](const Run& r) { return r.excl_ms(); }));
    row("  of which the steps (ms)", StatsOf(tool, [](const Run& r) { return r.steps_ms; }));
    row("  of which connect: TCP + TLS + auth (ms)",
        StatsOf(tool, [](const Run& r) { return r.connect_ms; }));
    row("statements sent (dbrunbook's count)",
        StatsOf(tool, [](const Run& r) { return r.statements_sent; }));
  }
  if (!ctx.calibration.quiet) {
    fmt::print("  (server busy: server-side deltas include other clients and are not shown)\n");
    return;
  }
  for (const std::string name : {"Questions", "Created_tmp_tables", "Created_tmp_disk_tables",
                                 "Connections", "Handler_read_rnd_next"}) {
    row(name, StatsOf(tool, [&](const Run& r) { return Server(ctx, r, name); }));
  }
  row("Bytes_sent by the server (KiB)",
      StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Bytes_sent"); }), 1, 1024);
  row("Opened_tables",
      StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Opened_tables"); }));
  if (tool.name == "dbrunbook (library)" && !tool.runs.empty()) {
    fmt::print("  server Questions == statements sent in {} of {} runs{}{}\n", tool.questions_match,
               tool.runs.size(), tool.mismatches.empty() ? "" : "; ",
               fmt::join(tool.mismatches, ", "));
  }
}

void PrintSteps(const Context& ctx, const Tool& library, const Tool* cli) {
  fmt::print("\nper step (median ms, digest wait excluded; statements per run)\n");
  fmt::print("  {:<26} {:>10} {:>22} {:>22}\n", "step", "statements", library.name,
             cli ? cli->name : "");
  for (const auto& name : ctx.step_order) {
    auto ms = [&](const Tool& t) {
      return StatsOf(t, [&](const Run& r) -> std::optional<double> {
        auto it = r.step_ms.find(name);
        return it == r.step_ms.end() ? std::nullopt : std::optional<double>(it->second);
      });
    };
    auto statements = StatsOf(library, [&](const Run& r) -> std::optional<double> {
      auto it = r.step_statements.find(name);
      return it == r.step_statements.end() ? std::nullopt : std::optional<double>(it->second);
    });
    fmt::print("  {:<26} {:>10} {:>22} {:>22}\n", name, statements ? Num(statements->median) : "-",
               MedianRange(ms(library), 2), cli ? MedianRange(ms(*cli), 2) : "");
  }
}

void PrintStatements(const Context& ctx, const Tool& library) {
  if (ctx.statements.empty() || library.runs.empty()) return;
  fmt::print("\n{}: every statement (median ms over the runs; rows of the last run)\n",
             library.name);
  double total = 0;
  std::string step;
  for (size_t i = 0; i < ctx.statements.size(); ++i) {
    const auto& [key, times] = ctx.statements[i];
    if (times.empty()) continue;
    const double ms = Summarize(times)->median;
    total += ms;
    if (key.first != step) {
      step = key.first;
      fmt::print("  {}\n", step);
    }
    fmt::print(
        "    {:>2}. {:<56} {:>9.2f} {:>7}\n", i + 1, key.second, ms,
        i < ctx.statement_rows.size() ? Num(static_cast<double>(ctx.statement_rows[i])) : "");
  }
  fmt::print("  {:<60} {:>9.2f}\n", "sum of the statements", total);
  const auto excl = StatsOf(library, [](const Run& r) { return r.excl_ms(); });
  const auto connect = StatsOf(library, [](const Run& r) { return r.connect_ms; });
  if (excl && connect) {
    fmt::print("  {:<60} {:>9.2f}\n", "connect: TCP + TLS + auth", connect->median);
    fmt::print("  {:<60} {:>9.2f}\n", "rest (client side; medians, so only roughly additive)",
               excl->median - total - connect->median);
  }
  if (ctx.statements_differ) {
    fmt::print("  (the statement sequence differed between runs; positions are approximate)\n");
  }
}

void PrintBreakdown(const Context& ctx, const std::vector<Tool>& tools) {
  if (!ctx.calibration.quiet) return;
  std::set<std::string> names;
  std::map<std::pair<size_t, std::string>, double> medians;
  for (size_t t = 0; t < tools.size(); ++t) {
    std::map<std::string, std::vector<double>> values;
    for (const auto& run : tools[t].runs) {
      for (const auto& [name, value] : run.server) {
        if (core::StartsWithIgnoreCase(name, "Com_")) values[name].push_back(value);
      }
    }
    for (auto& [name, v] : values) {
      const double median = Summarize(v)->median;
      medians[{t, name}] = median;
      if (std::fabs(median) >= 0.5) names.insert(name);
    }
  }
  fmt::print("\nstatement types per run (server Com_* deltas, median over runs)\n");
  fmt::print("  {:<24}", "");
  for (const auto& tool : tools) fmt::print(" {:>16}", tool.name.substr(0, 16));
  fmt::print("\n");
  for (const auto& name : names) {
    fmt::print("  {:<24}", name);
    for (size_t t = 0; t < tools.size(); ++t) {
      auto it = medians.find({t, name});
      fmt::print(" {:>16}", it == medians.end() || tools[t].runs.empty() ? "-" : Num(it->second));
    }
    fmt::print("\n");
  }
}

void PrintComparison(const Context& ctx, const std::vector<Tool>& tools) {
  const Tool* reference = nullptr;
  for (const auto& tool : tools) {
    if (tool.is_dbrunbook && !tool.runs.empty()) reference = &tool;
  }
  if (reference == nullptr) return;
  auto excl = [](const Tool& t) { return StatsOf(t, [](const Run& r) { return r.excl_ms(); }); };
  auto counter = [&](const Tool& t, const std::string& name) {
    return StatsOf(t, [&](const Run& r) { return Server(ctx, r, name); });
  };
  auto ratio = [](const std::optional<Stats>& a, const std::optional<Stats>& b) -> std::string {
    if (!a || !b || b->median <= 0) return "-";
    return fmt::format("{:.2f}x", a->median / b->median);
  };
  const auto ref_time = excl(*reference);
  const auto ref_q = counter(*reference, "Questions");
  fmt::print("\ncomparison (medians; ratio = tool ÷ {})\n", reference->name);
  fmt::print("  {:<34} {:>4} {:>13} {:>9} {:>10} {:>11} {:>10} {:>11}\n", "tool", "runs",
             "excl.wait ms", "Questions", "tmp(disk)", "Opened_tbl", "time ratio", "Quest.ratio");
  for (const auto& tool : tools) {
    if (tool.runs.empty()) {
      fmt::print("  {:<34} {:>4} {}\n", tool.name, 0, tool.last_error);
      continue;
    }
    const auto t = excl(tool);
    const auto q = counter(tool, "Questions");
    const auto k = counter(tool, "Created_tmp_tables");
    const auto d = counter(tool, "Created_tmp_disk_tables");
    const auto o = counter(tool, "Opened_tables");
    fmt::print("  {:<34} {:>4} {:>13} {:>9} {:>10} {:>11} {:>10} {:>11}\n", tool.name.substr(0, 34),
               tool.runs.size(), Num(t->median), q ? Num(q->median) : "busy",
               k && d ? fmt::format("{}({})", Num(k->median), Num(d->median)) : "busy",
               o ? Num(o->median) : "busy", ratio(t, ref_time), ratio(q, ref_q));
  }
  fmt::print(
      "  excl.wait: wall time minus the digest step's wait between its two snapshots (metered\n"
      "  in process, the requested --since for the CLI); the peers have no wait. Questions\n"
      "  counts every command but COM_PING/COM_STATISTICS, so a process adds one COM_QUIT per\n"
      "  connection; the library run is read while its session is still open.\n");
}

// --- main ----------------------------------------------------------------------------------

struct PeerSpec {
  std::string name;
  int runs = 0;  // 0: --peer-runs
  std::string command;
};

std::optional<PeerSpec> ParsePeer(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) return std::nullopt;
  PeerSpec spec;
  spec.name = text.substr(0, eq);
  spec.command = text.substr(eq + 1);
  if (const size_t at = spec.name.find('@'); at != std::string::npos) {
    auto runs = core::ParseInt64(spec.name.substr(at + 1));
    if (!runs || *runs < 1) return std::nullopt;
    spec.runs = static_cast<int>(*runs);
    spec.name.resize(at);
  }
  return spec;
}

// Runs a tool until `warmup + runs` runs succeeded (or `runs` failed), counters read; failures
// are counted and shown.
void Measure(Context& ctx, Tool& tool, int warmup, int runs) {
  for (int i = 0; i < warmup + runs && tool.failures < std::max(runs, 1);) {
    auto run =
        tool.argv.empty() ? RunLibrary(ctx, true, nullptr) : RunCommand(ctx, tool, true, nullptr);
    if (!run) {
      ++tool.failures;
      tool.last_error = run.error().ToString();
      continue;
    }
    if (i++ < warmup) continue;
    if (tool.argv.empty() && ctx.calibration.quiet) {
      auto q = run->server.find("Questions");
      if (q != run->server.end() && run->statements_sent && q->second == *run->statements_sent) {
        ++tool.questions_match;
      } else {
        tool.mismatches.push_back(fmt::format("run {}: Questions {} for {} sent", i - warmup,
                                              q == run->server.end() ? "?" : Num(q->second),
                                              Num(run->statements_sent.value_or(0))));
      }
    }
    tool.runs.push_back(std::move(*run));
  }
}

struct WriterResult {
  std::string name;
  int tool_failures = 0;  // runs of the tool that failed (not in the windows)
  std::vector<double> latencies;
  int failed = 0;
  double seconds = 0;
};

void PrintWriter(const std::vector<WriterResult>& results, const std::string& table,
                 const std::string& pause_text, const std::string& last_error) {
  fmt::print(
      "\nconcurrent writer: autocommit UPDATE/INSERT on {} from its own session, {} pause "
      "between statements;\nlatency (ms) of its statements while nothing else ran (idle) and "
      "while each tool ran\n",
      table, pause_text);
  fmt::print("  {:<34} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}\n", "during", "stmts", "median",
             "p99", "max", "≥100ms", "max÷idle", "errors");
  std::optional<double> idle_max;
  for (const auto& r : results) {
    const auto s = Summarize(r.latencies);
    if (!s) {
      fmt::print("  {:<34} {:>7}   (no run of the tool succeeded: {} failed)\n",
                 r.name.substr(0, 34), 0, r.tool_failures);
      continue;
    }
    if (!idle_max) idle_max = s->max;
    const auto slow =
        std::count_if(r.latencies.begin(), r.latencies.end(), [](double v) { return v >= 100; });
    fmt::print("  {:<34} {:>7} {:>8.2f} {:>8.2f} {:>8.2f} {:>8} {:>8.1f}x {:>6}\n",
               fmt::format("{} ({:.1f} s)", r.name.substr(0, 26), r.seconds), s->n, s->median,
               s->p99, s->max, slow, *idle_max > 0 ? s->max / *idle_max : 0.0, r.failed);
    if (r.tool_failures > 0) {
      fmt::print("    ({} run(s) of the tool failed and are not in the window)\n", r.tool_failures);
    }
  }
  if (!last_error.empty()) fmt::print("  writer's last error: {}\n", last_error);
}

int Main(int argc, char** argv) {
  CLI::App app{
      "investigate_bench: what one full `dbrunbook investigate` costs a MySQL/MariaDB server, "
      "next to the peers run against the same server. See bench/README.md.",
      "investigate_bench"};
  std::string sandbox_dir;
  std::string server;
  int runs = 5;
  int warmup = 1;
  int peer_runs = 3;
  int cli_runs = -1;
  int default_since_runs = 1;
  int calibration_pairs = 5;
  int writer_runs = 3;
  std::string since_text = "100ms";
  std::string settle_text = "50ms";
  std::string writer_table;
  std::string writer_pause_text = "5ms";
  std::string writer_idle_text = "10s";
  std::string cli_path = DBRUNBOOK_CLI_PATH;
  std::string label;
  std::string output_dir;
  std::vector<std::string> peer_texts;
  std::string ssl_mode = "preferred";
  app.add_option("--sandbox-dir", sandbox_dir,
                 "scripts/sandbox base dir (default $DBRUNBOOK_SANDBOX_DIR)");
  app.add_option("--server", server, "sandbox NAME: reads <sandbox dir>/NAME/env")->required();
  app.add_option("--runs", runs, "investigations to measure, in process and CLI (default 5)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "unmeasured runs of each tool first (default 1)")
      ->check(CLI::Range(0, 100));
  app.add_option("--cli-runs", cli_runs, "runs of the dbrunbook CLI (default --runs; 0: skip)");
  app.add_option("--default-since-runs", default_since_runs,
                 "CLI runs with the default digest interval (10s) to show it whole (default 1)")
      ->check(CLI::Range(0, 100));
  app.add_option("--peer-runs", peer_runs, "runs of each peer without @RUNS (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--since", since_text,
                 "digest interval of the measured runs (default 100ms; excluded from the "
                 "times; 0 skips the digest step)");
  app.add_option("--settle", settle_text,
                 "wait after a run before reading the counters (default 50ms)");
  app.add_option("--calibration-pairs", calibration_pairs, "probe pairs to calibrate (default 5)")
      ->check(CLI::Range(2, 100));
  app.add_option("--cli", cli_path, "dbrunbook binary (default: the one built with this)");
  app.add_option("--peer", peer_texts,
                 "NAME[@RUNS]=SHELL COMMAND, a peer to time and count (repeatable)");
  app.add_option("--ssl-mode", ssl_mode, "dbrunbook's TLS mode (default preferred)");
  app.add_option("--writer-table", writer_table,
                 "SCHEMA.TABLE (id INT AUTO_INCREMENT PRIMARY KEY, k INT, v INT, rows id 1-100) "
                 "for the concurrent writer; empty: no writer phase");
  app.add_option("--writer-pause", writer_pause_text,
                 "writer's pause between statements (default 5ms)");
  app.add_option("--writer-idle", writer_idle_text,
                 "how long the writer runs alone for its idle latencies (default 10s)");
  app.add_option("--writer-runs", writer_runs,
                 "runs of each tool under the writer (peers: at most their own run count; "
                 "default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--label", label, "shown in the title");
  app.add_option("--output-dir", output_dir,
                 "keep the last stdout/stderr of each process here (default: a temp dir, removed)");
  CLI11_PARSE(app, argc, argv);

  auto since = core::ParseDuration(since_text, /*bare_unit_seconds=*/true);
  auto settle = core::ParseDuration(settle_text);
  auto writer_pause = core::ParseDuration(writer_pause_text);
  auto writer_idle = core::ParseDuration(writer_idle_text);
  if (!since || !settle || !writer_pause || !writer_idle) {
    std::cerr << "investigate_bench: --since, --settle, --writer-pause and --writer-idle take "
                 "durations such as 100ms\n";
    return 2;
  }
  std::vector<PeerSpec> peers;
  for (const auto& text : peer_texts) {
    auto spec = ParsePeer(text);
    if (!spec) {
      std::cerr << "investigate_bench: --peer wants NAME[@RUNS]=COMMAND, got '" << text << "'\n";
      return 2;
    }
    peers.push_back(std::move(*spec));
  }

  Context ctx;
  ctx.factory = std::make_unique<mysql::ConnectorSessionFactory>(ctx.clock);
  ctx.timing = std::make_unique<TimingFactory>(*ctx.factory, ctx.clock);
  ctx.options.digest_interval = *since;
  ctx.since_text = since_text;
  ctx.settle = *settle;
  ctx.monitor.program_name = "dbrunbook";
  if (sandbox_dir.empty()) {
    const char* env = std::getenv("DBRUNBOOK_SANDBOX_DIR");  // NOLINT(concurrency-mt-unsafe)
    if (env != nullptr) sandbox_dir = env;
  }
  if (sandbox_dir.empty()) {
    std::cerr << "investigate_bench: --server needs --sandbox-dir or $DBRUNBOOK_SANDBOX_DIR\n";
    return 2;
  }
  auto env = ParseEnvFile(fmt::format("{}/{}/env", sandbox_dir, server));
  if (!env) {
    std::cerr << "investigate_bench: " << env.error().ToString() << "\n";
    return 2;
  }
  auto get = [&](const char* key) {
    auto it = env->find(key);
    return it == env->end() ? std::string() : it->second;
  };
  const std::string host = get("SANDBOX_HOST");
  const int port = static_cast<int>(core::ParseInt64(get("SANDBOX_PORT")).value_or(0));
  const std::string user = get("SANDBOX_MONITOR_USER");
  const std::string probe_socket = get("SANDBOX_SOCKET");
  ctx.password_file = get("SANDBOX_MONITOR_PASSWORD_FILE");
  ctx.dsn = get("SANDBOX_DSN");
  ctx.name = server;
  if (port <= 0 || port > 65535 || user.empty() || probe_socket.empty() || ctx.dsn.empty()) {
    std::cerr << "investigate_bench: the env file of " << server << " is incomplete\n";
    return 2;
  }
  const auto tls_mode = mysql::ParseTlsMode(ssl_mode);
  if (!tls_mode) {
    std::cerr << "investigate_bench: unknown --ssl-mode '" << ssl_mode << "'\n";
    return 2;
  }
  const std::string ssl_ca = get("SANDBOX_TLS_CA");
  ctx.monitor.tls.mode = *tls_mode;
  if (*tls_mode >= mysql::TlsMode::kVerifyCa) ctx.monitor.tls.ca = ssl_ca;
  if (*tls_mode != mysql::TlsMode::kPreferred) {
    ctx.dsn += fmt::format("{}ssl-mode={}", ctx.dsn.find('?') == std::string::npos ? "?" : "&",
                           mysql::TlsModeName(*tls_mode));
    if (*tls_mode >= mysql::TlsMode::kVerifyCa) ctx.dsn += "&ssl-ca=" + ssl_ca;
  }
  ctx.monitor.target_name = ctx.name;
  ctx.monitor.host = host;
  ctx.monitor.port = static_cast<uint16_t>(port);
  ctx.monitor.user = user;
  {
    auto secret = ReadSecret(ctx.password_file);
    if (!secret) {
      std::cerr << "investigate_bench: " << secret.error().ToString() << "\n";
      return 2;
    }
    ctx.monitor.password = std::move(*secret);
  }

  // Root over the socket, no TLS: the probe, and the writer's own session.
  mysql::ConnectOptions root;
  root.target_name = ctx.name + " (probe)";
  root.socket = probe_socket;
  root.user = "root";
  root.tls.mode = mysql::TlsMode::kDisabled;
  root.program_name = "investigate_bench-probe";
  auto probe = ctx.factory->Connect(root);
  if (!probe) {
    std::cerr << "investigate_bench: probe: " << probe.error().ToString() << "\n";
    return 2;
  }
  ctx.probe = std::move(*probe);

  bool remove_out_dir = false;
  if (output_dir.empty()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "investigate_bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "investigate_bench: cannot create a temporary directory\n";
      return 2;
    }
    output_dir = pattern;
    remove_out_dir = true;
  } else {
    std::filesystem::create_directories(output_dir);
  }
  ctx.out_dir = output_dir;
  // The CLI runs in an empty directory with no DBRUNBOOK_* variables and HOME there, so no
  // configuration file or override changes what it does.
  ctx.cli_home = output_dir + "/cli-home";
  std::filesystem::create_directories(ctx.cli_home);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("DBRUNBOOK_") || entry.starts_with("HOME=")) continue;
    ctx.cli_env_storage.emplace_back(entry);
  }
  ctx.cli_env_storage.push_back("HOME=" + ctx.cli_home);
  for (auto& entry : ctx.cli_env_storage) ctx.cli_env.push_back(entry.data());
  ctx.cli_env.push_back(nullptr);

  // What the server holds, read before calibration (these statements are not measured).
  const auto tables =
      ProbeNumber(*ctx.probe,
                  "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN "
                  "('mysql', 'information_schema', 'performance_schema', 'sys')");
  const auto lock_waits =
      ProbeNumber(*ctx.probe, "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS");
  const auto trx = ProbeNumber(*ctx.probe, "SELECT COUNT(*) FROM information_schema.INNODB_TRX");

  auto calibration = Calibrate(*ctx.probe, ctx.clock, calibration_pairs, ctx.settle);
  if (!calibration) {
    std::cerr << "investigate_bench: probe: " << calibration.error().ToString() << "\n";
    return 2;
  }
  ctx.calibration = std::move(*calibration);

  const auto now = std::chrono::system_clock::to_time_t(ctx.clock.WallNow());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &utc);
  fmt::print("== dbrunbook investigate benchmark: {}{} ==\n", ctx.name,
             label.empty() ? "" : fmt::format(" ({})", label));
  const std::string load = ReadFile("/proc/loadavg").value_or("?");
  fmt::print("server {} at {}; probe root@socket; {}; load average {}\n",
             ctx.probe->info().server_version, ctx.monitor.Endpoint(), date,
             load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1)));
  fmt::print(
      "server holds {} application tables; {} InnoDB transactions, {} row-lock waits "
      "(INNODB_LOCK_WAITS)\n",
      tables ? Num(*tables) : "?", trx ? Num(*trx) : "?", lock_waits ? Num(*lock_waits) : "?");
  if (ctx.calibration.quiet) {
    std::vector<std::string> cost;
    for (const auto& [name, value] : ctx.calibration.baseline) {
      if (IsExactCounter(name) && value != 0) {
        cost.push_back(fmt::format("{} {}", name, Num(value)));
      }
    }
    fmt::print("server quiet: one probe pair costs {} (subtracted from every delta below)\n",
               fmt::join(cost, ", "));
  } else {
    fmt::print("server BUSY: other clients move {}; server-side deltas are not shown\n",
               fmt::join(ctx.calibration.moving, ", "));
  }
  std::fflush(stdout);

  // The tools.
  std::vector<Tool> tools;
  {
    Tool tool;
    tool.name = "dbrunbook (library)";
    tool.how = fmt::format(
        "OpenTargetSession + RunInvestigation (all steps) in this process, {} over TCP "
        "(ssl-mode {}), digest interval {}",
        user, mysql::TlsModeName(ctx.monitor.tls.mode), since_text);
    tool.is_dbrunbook = true;
    tools.push_back(std::move(tool));
  }
  if (cli_runs < 0) cli_runs = runs;
  if (cli_runs > 0) {
    Tool tool;
    tool.name = "dbrunbook CLI";
    tool.is_dbrunbook = true;
    tool.dbrunbook_json = true;
    tool.slug = "dbrunbook-cli";
    tool.argv = {cli_path,          "investigate", "--dsn",    ctx.dsn,    "--password-file",
                 ctx.password_file, "--since",     since_text, "--format", "json"};
    tool.how = fmt::format(
        "process: dbrunbook investigate --dsn {} --password-file FILE --since {} --format json",
        ctx.dsn, since_text);
    tools.push_back(std::move(tool));
  }
  std::map<std::string, int> peer_run_counts;
  for (const auto& peer : peers) {
    Tool tool;
    tool.name = peer.name;
    tool.how = "process: " + peer.command;
    tool.slug = Slug(peer.name);
    tool.argv = {"/bin/sh", "-c", peer.command};
    peer_run_counts[peer.name] = peer.runs > 0 ? peer.runs : peer_runs;
    tools.push_back(std::move(tool));
  }

  // Phase 1: counters exact (quiet server), every tool in turn.
  for (auto& tool : tools) {
    const int n = tool.name == "dbrunbook (library)" ? runs
                  : tool.dbrunbook_json              ? cli_runs
                                                     : peer_run_counts[tool.name];
    Measure(ctx, tool, warmup, n);
    fmt::print("measured {}: {} runs{}\n", tool.name, tool.runs.size(),
               tool.failures ? fmt::format(", {} failed: {}", tool.failures, tool.last_error) : "");
    std::fflush(stdout);
  }
  // The default digest interval, whole, as a user runs it.
  std::optional<Stats> default_wall;
  std::optional<Stats> default_steps;
  if (default_since_runs > 0 && cli_runs > 0) {
    Tool tool = tools[1];
    tool.runs.clear();
    tool.argv = {cli_path,          "investigate",     "--dsn",    ctx.dsn,
                 "--password-file", ctx.password_file, "--format", "json"};
    const auto saved = ctx.options.digest_interval;
    ctx.options.digest_interval = steps::InvestigateOptions{}.digest_interval;
    Measure(ctx, tool, 0, default_since_runs);
    ctx.options.digest_interval = saved;
    default_wall = StatsOf(tool, [](const Run& r) { return r.wall_ms; });
    default_steps = StatsOf(tool, [](const Run& r) { return r.excl_ms(); });
    if (tool.failures > 0) fmt::print("default-interval run failed: {}\n", tool.last_error);
  }

  // Phase 2: the concurrent writer.
  std::vector<WriterResult> writer_results;
  std::string writer_error;
  if (!writer_table.empty()) {
    mysql::ConnectOptions writer_options = root;
    writer_options.target_name = ctx.name + " (writer)";
    writer_options.program_name = "investigate_bench-writer";
    auto session = ctx.factory->Connect(writer_options);
    if (!session) {
      std::cerr << "investigate_bench: writer: " << session.error().ToString() << "\n";
      return 2;
    }
    Writer writer(std::move(*session), writer_table, *writer_pause);
    std::vector<std::pair<std::string, std::vector<Window>>> windows;
    std::map<std::string, int> failed_runs;
    writer.Start();
    ctx.clock.SleepFor(std::chrono::seconds(1));  // let it warm up, unmeasured
    const auto idle_start = ctx.clock.MonotonicNow();
    ctx.clock.SleepFor(*writer_idle);
    windows.push_back({"idle (writer alone)", {Window{idle_start, ctx.clock.MonotonicNow()}}});
    for (auto& tool : tools) {
      const int n = tool.argv.empty() || tool.dbrunbook_json
                        ? writer_runs
                        : std::min(writer_runs, peer_run_counts[tool.name]);
      std::vector<Window> tool_windows;
      for (int i = 0; i < n; ++i) {
        Window w;
        auto run =
            tool.argv.empty() ? RunLibrary(ctx, false, &w) : RunCommand(ctx, tool, false, &w);
        if (run) {
          tool_windows.push_back(w);
        } else {
          ++failed_runs[tool.name];
          fmt::print("under the writer, {} failed: {}\n", tool.name, run.error().ToString());
        }
        ctx.clock.SleepFor(std::chrono::milliseconds(200));  // gaps the writer catches up in
      }
      windows.emplace_back(tool.name, std::move(tool_windows));
    }
    ctx.clock.TakeSlept();
    writer.Stop();
    const auto samples = writer.Samples();
    writer_error = writer.last_error();
    for (const auto& [name, ws] : windows) {
      WriterResult r;
      r.name = name;
      r.latencies = LatenciesIn(samples, ws, r.failed);
      r.tool_failures = failed_runs[name];
      for (const auto& w : ws) r.seconds += core::ToSeconds(w.end - w.start);
      writer_results.push_back(std::move(r));
    }
  }

  // Report.
  const Tool& library = tools[0];
  fmt::print("\nlast investigation (library):\n");
  if (ctx.last) {
    PrintFindings(
        library.runs.empty() ? std::map<std::string, int>{} : library.runs.back().finding_codes,
        &*ctx.last);
  }
  const Tool* cli = cli_runs > 0 ? &tools[1] : nullptr;
  if (cli != nullptr && !cli->runs.empty()) {
    fmt::print("last investigation (CLI):\n");
    PrintFindings(cli->runs.back().finding_codes, nullptr);
  }
  for (const auto& tool : tools) PrintToolDetail(ctx, tool);
  PrintSteps(ctx, library, cli);
  PrintStatements(ctx, library);
  if (default_wall) {
    fmt::print(
        "\nwith the default digest interval (10 s, no --since), CLI, {} run(s): wall time {} ms, "
        "of which work (wall minus 10 s) {} ms\n",
        default_wall->n, Num(default_wall->median), Num(default_steps->median));
  }
  PrintBreakdown(ctx, tools);
  PrintComparison(ctx, tools);
  if (!writer_results.empty()) {
    PrintWriter(writer_results, writer_table, writer_pause_text, writer_error);
  }
  std::fflush(stdout);

  if (remove_out_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(output_dir, ignored);
  }
  int failures = 0;
  for (const auto& tool : tools) failures += tool.failures;
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace dbrunbook::bench

int main(int argc, char** argv) {
  try {
    return dbrunbook::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "investigate_bench: " << e.what() << "\n";
    return 2;
  }
}
