// assess_bench: what one `dbrunbook assess` costs a server and how long it takes, next to the
// peers a DBA would use for the same initial assessment, measured in the same run against the
// same server (DESIGN.md, Testing). bench/assess is the one command that builds this, starts
// sandbox servers and runs it; bench/README.md explains how to read the output.
//
// What it measures, per run of each tool:
//   - wall time; for dbrunbook also the sampling interval it measured between its two status
//     samples (wall time excl. interval = the tool's own work), the connect time and the time
//     until the session was ready (connect + flavor detection + session settings);
//   - the statements dbrunbook says it sent (Session::statements_sent: init statements,
//     detection, SHOW WARNINGS fetches included);
//   - the server's own view, from a SEPARATE probe connection (root over the Unix socket):
//     SHOW GLOBAL STATUS right before and right after the run. Deltas of Questions, every
//     Com_*, Created_tmp_tables, Created_tmp_disk_tables, Connections and Bytes_sent, minus
//     what one probe pair costs by itself (calibrated at start: the second SHOW GLOBAL STATUS
//     counts itself and creates a temporary table). On a quiet server the corrected Questions
//     delta of an in-process run equals dbrunbook's statements_sent exactly; the program
//     checks that. When other clients run statements (a load generator), calibration notices
//     and the server-side columns are shown as "busy" instead of wrong numbers.
//
// Tools:
//   - "dbrunbook (library)": OpenTargetSession + RunAssessment in this process, the session
//     kept open until the second probe (so no disconnect races the counters);
//   - "dbrunbook CLI": the `dbrunbook assess --format json` binary as a process (what a user
//     runs; compares like for like with the peers, which are processes too);
//   - peers given with --peer NAME[@RUNS]=COMMAND, run with /bin/sh -c, stdout and stderr to
//     files. The probe waits --settle after a peer exits before reading the counters.
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "bench/bench_support.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/strings.h"
#include "mysql/connector_session.h"
#include "steps/assess.h"
#include "steps/level.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace dbrunbook::bench {
namespace {

double Ms(core::Duration d) { return core::ToSeconds(d) * 1000; }

// --- the sandbox's env file ----------------------------------------------------------------

// --- statistics ----------------------------------------------------------------------------

struct Stats {
  double mean = 0;
  double median = 0;
  double p95 = 0;  // nearest rank
  double max = 0;
};

std::optional<Stats> Summarize(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  Stats s;
  double sum = 0;
  for (double v : values) sum += v;
  const size_t n = values.size();
  s.mean = sum / static_cast<double>(n);
  s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  const auto rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(n)));
  s.p95 = values[std::clamp<size_t>(rank, 1, n) - 1];
  s.max = values.back();
  return s;
}

// --- the probe -----------------------------------------------------------------------------

// Counters that nothing but statements moves: on a quiet server, equal in every probe pair.
bool IsExactCounter(std::string_view name) {
  return name == "Questions" || name == "Connections" || name == "Created_tmp_tables" ||
         name == "Created_tmp_disk_tables" || core::StartsWithIgnoreCase(name, "Com_");
}

// Counters reported for each tool (besides the Com_* breakdown).
const std::vector<std::string>& ReportedCounters() {
  static const std::vector<std::string> kNames = {
      "Questions", "Created_tmp_tables", "Created_tmp_disk_tables", "Connections", "Bytes_sent"};
  return kNames;
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
    const auto stats = Summarize(values);
    c.baseline[name] = stats->median;
    if (IsExactCounter(name) && *std::max_element(values.begin(), values.end()) !=
                                    *std::min_element(values.begin(), values.end())) {
      c.quiet = false;
      c.moving.push_back(name);
    }
  }
  return c;
}

// --- processes -----------------------------------------------------------------------------

struct ProcessResult {
  int exit_code = -1;  // -1: did not run or was killed by a signal
  core::Duration wall{};
  std::string error;  // why it could not run
};

// strerror() shares a buffer between threads; this is thread-safe.
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
  const auto start = clock.MonotonicNow();
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
  r.wall = clock.MonotonicNow() - start;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else {
    r.error = fmt::format("{} killed by signal {}", argv[0], WTERMSIG(status));
  }
  return r;
}

// --- tools and runs ------------------------------------------------------------------------

struct Run {
  double wall_ms = 0;
  double interval_ms = 0;  // dbrunbook's sampling interval, between its two samples; 0 for peers
  double waited_ms = 0;    // time spent in the deliberate wait (see excl_ms); 0 for peers
  std::optional<double> connect_ms;
  std::optional<double> open_ms;  // until the session was ready: connect + detect + setup
  std::optional<double> statements_sent;
  Counters server;  // probe-corrected deltas
  // The tool's own work: wall time minus the deliberate sampling wait.
  double excl_ms() const { return wall_ms - waited_ms; }
};

struct Tool {
  std::string name;
  std::string how;
  int planned_runs = 0;
  std::vector<Run> runs;
  int failures = 0;
  std::string last_error;
  // Library runs only: runs where the server's Questions equalled statements_sent, and what
  // the others saw.
  int questions_match = 0;
  std::vector<std::string> mismatches;
  bool is_dbrunbook = false;
};

// The real clock, metering the time spent in SleepFor (the assessment's deliberate wait
// between its two status samples), so that wall time minus that wait is exactly the work.
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

// One statement of an in-process run, timed around Session::Query (round trip, server time
// and building the result rows).
struct StatementTime {
  std::string label;
  double ms = 0;
  size_t rows = 0;
};

// "SHOW GLOBAL STATUS", "SELECT … information_schema.PROCESSLIST", "SET SESSION …".
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
  if (flat.starts_with("SHOW GLOBAL VARIABLES WHERE")) return "SHOW GLOBAL VARIABLES WHERE ...";
  return flat.size() > 44 ? flat.substr(0, 41) + "..." : flat;
}

// A Session that times every statement of the session it wraps (the Session seam).
class TimingSession final : public mysql::Session {
 public:
  TimingSession(std::unique_ptr<mysql::Session> inner, core::Clock& clock,
                std::vector<StatementTime>& log)
      : inner_(std::move(inner)), clock_(clock), log_(log) {}
  core::Result<mysql::ResultSet> Query(std::string_view sql) override {
    const auto start = clock_.MonotonicNow();
    auto result = inner_->Query(sql);
    log_.push_back(StatementTime{Label(sql), Ms(clock_.MonotonicNow() - start),
                                 result ? result->rows.size() : 0});
    return result;
  }
  const mysql::ConnectionInfo& info() const override { return inner_->info(); }
  uint64_t statements_sent() const override { return inner_->statements_sent(); }

 private:
  std::unique_ptr<mysql::Session> inner_;
  core::Clock& clock_;
  std::vector<StatementTime>& log_;
};

class TimingFactory final : public mysql::SessionFactory {
 public:
  TimingFactory(mysql::SessionFactory& inner, core::Clock& clock) : inner_(inner), clock_(clock) {}
  core::Result<std::unique_ptr<mysql::Session>> Connect(
      const mysql::ConnectOptions& options) override {
    log.clear();
    auto session = inner_.Connect(options);
    if (!session) return core::Fail(session.error());
    return std::unique_ptr<mysql::Session>(
        std::make_unique<TimingSession>(std::move(*session), clock_, log));
  }
  std::vector<StatementTime> log;  // of the last session opened

 private:
  mysql::SessionFactory& inner_;
  core::Clock& clock_;
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
  // Library runs: per position in the run, the statement and its times (and the connect and
  // init-statement times under the positions "connect" and "init").
  std::vector<std::pair<std::string, std::vector<double>>> statement_times;
  std::vector<double> setup_times;
  bool statements_differ = false;
  core::Duration interval{};
  core::Duration settle{};
  std::string out_dir;
  std::vector<std::string> cli_env_storage;
  std::vector<char*> cli_env;
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

core::Result<Run> RunLibrary(Context& ctx, const steps::AssessOptions& options,
                             std::optional<steps::Assessment>& last) {
  auto before = ReadStatus(*ctx.probe);
  if (!before) return core::Fail(before.error());
  ctx.clock.TakeSlept();
  const auto start = ctx.clock.MonotonicNow();
  auto target = collect::OpenTargetSession(*ctx.timing, ctx.monitor, ctx.clock);
  if (!target) return core::Fail(target.error());
  const auto ready = ctx.clock.MonotonicNow();
  steps::Assessment assessment = steps::RunAssessment(*target, ctx.clock, options);
  const auto done = ctx.clock.MonotonicNow();
  // The session stays open until the probe has read: its counters are all in.
  auto after = ReadStatus(*ctx.probe);
  if (!after) return core::Fail(after.error());
  Run run;
  run.wall_ms = Ms(done - start);
  run.interval_ms = Ms(assessment.interval);
  run.waited_ms = Ms(ctx.clock.TakeSlept());
  run.connect_ms = Ms(target->session->info().connect_time);
  run.open_ms = Ms(ready - start);
  run.statements_sent = static_cast<double>(assessment.statements_sent);
  run.server = Corrected(ctx, *before, *after);
  last = std::move(assessment);
  ctx.setup_times.push_back(Ms(target->session->info().setup_time));
  const auto& log = ctx.timing->log;
  if (ctx.statement_times.empty()) {
    for (const auto& t : log) ctx.statement_times.push_back({t.label, {}});
  }
  if (log.size() != ctx.statement_times.size()) {
    ctx.statements_differ = true;
  } else {
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].label != ctx.statement_times[i].first) ctx.statements_differ = true;
      ctx.statement_times[i].second.push_back(log[i].ms);
    }
  }
  // Close now and let the server process the COM_QUIT (it counts as a Question) before the
  // next run's first probe.
  target->session.reset();
  ctx.clock.SleepFor(ctx.settle);
  ctx.clock.TakeSlept();
  return run;
}

core::Result<Run> RunCommand(Context& ctx, const std::vector<std::string>& argv, char* const* envp,
                             const std::string& cwd, const std::string& slug, bool dbrunbook_json) {
  const std::string out = fmt::format("{}/{}.stdout", ctx.out_dir, slug);
  const std::string err = fmt::format("{}/{}.stderr", ctx.out_dir, slug);
  auto before = ReadStatus(*ctx.probe);
  if (!before) return core::Fail(before.error());
  const ProcessResult p = RunProcess(argv, out, err, envp, cwd, ctx.clock);
  if (!p.error.empty()) return core::MakeError(core::ErrorCode::kInternal, p.error);
  // Let the server finish the disconnects before reading its counters.
  ctx.clock.SleepFor(ctx.settle);
  auto after = ReadStatus(*ctx.probe);
  if (!after) return core::Fail(after.error());
  Run run;
  run.wall_ms = Ms(p.wall);
  run.server = Corrected(ctx, *before, *after);
  if (dbrunbook_json) {
    // assess exits 0 ok, 1 warn/unknown, 2 critical, 3 could not assess.
    if (p.exit_code < 0 || p.exit_code > 2) {
      return core::MakeError(core::ErrorCode::kInternal,
                             fmt::format("exit {}: {}", p.exit_code, Tail(err)));
    }
    auto json = nlohmann::json::parse(ReadFile(out).value_or(""), nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return core::MakeError(core::ErrorCode::kInternal,
                             fmt::format("no JSON on stdout (stderr: {})", Tail(err)));
    }
    run.interval_ms = json.value("interval_seconds", 0.0) * 1000;
    // The process cannot be metered: its wait is the requested interval (a sleep overshoots
    // by well under a millisecond, counted as work here).
    run.waited_ms = Ms(ctx.interval);
    run.statements_sent = json.value("statements_sent", 0.0);
    for (const auto& check : json.value("checks", nlohmann::json::array())) {
      if (check.value("id", "") == "connect_latency_ms" && check["value"].is_number()) {
        run.connect_ms = check["value"].get<double>();
      }
    }
  } else if (p.exit_code != 0) {
    return core::MakeError(core::ErrorCode::kInternal,
                           fmt::format("exit {}: {}", p.exit_code, Tail(err)));
  }
  return run;
}

// --- output --------------------------------------------------------------------------------

std::string Num(double v, int decimals = 1) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.{}f}", v, decimals);
}

std::string Slug(std::string_view name) {
  std::string s;
  for (char c : name) s.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
  return s;
}

std::optional<Stats> StatsOf(const Tool& tool,
                             const std::function<std::optional<double>(const Run&)>& field) {
  std::vector<double> values;
  for (const auto& run : tool.runs) {
    if (auto v = field(run)) values.push_back(*v);
  }
  return Summarize(std::move(values));
}

std::optional<double> Server(const Context& ctx, const Run& run, const std::string& name) {
  if (!ctx.calibration.quiet) return std::nullopt;
  auto it = run.server.find(name);
  return it == run.server.end() ? std::optional<double>(0.0) : std::optional<double>(it->second);
}

void PrintStatsRow(std::string_view label, const std::optional<Stats>& s, int decimals,
                   double scale = 1, std::string_view missing = "") {
  if (!s && missing.empty()) return;  // nothing measured for this tool
  if (!s) {
    fmt::print("  {:<44} {:>9} {:>9} {:>9} {:>9}\n", label, missing, missing, missing, missing);
    return;
  }
  fmt::print("  {:<44} {:>9} {:>9} {:>9} {:>9}\n", label, Num(s->mean / scale, decimals),
             Num(s->median / scale, decimals), Num(s->p95 / scale, decimals),
             Num(s->max / scale, decimals));
}

void PrintToolDetail(const Context& ctx, const Tool& tool) {
  fmt::print("\n{} — {} runs{}\n", tool.name, tool.runs.size(),
             tool.failures ? fmt::format(", {} FAILED: {}", tool.failures, tool.last_error) : "");
  fmt::print("  {}\n", tool.how);
  fmt::print("  {:<44} {:>9} {:>9} {:>9} {:>9}\n", "per run", "mean", "median", "p95", "max");
  const std::string_view busy = ctx.calibration.quiet ? "-" : "busy";
  if (!ctx.calibration.quiet) {
    fmt::print("  (server busy: server-side deltas include other clients and are not shown)\n");
  }
  PrintStatsRow("wall time (ms)", StatsOf(tool, [](const Run& r) { return r.wall_ms; }), 1);
  if (tool.is_dbrunbook) {
    PrintStatsRow("sampling interval, between samples (ms)",
                  StatsOf(tool, [](const Run& r) { return r.interval_ms; }), 1);
    PrintStatsRow(tool.name == "dbrunbook (library)" ? "waited in the interval, metered (ms)"
                                                     : "waited in the interval, requested (ms)",
                  StatsOf(tool, [](const Run& r) { return r.waited_ms; }), 1);
    PrintStatsRow("wall time excl. interval (ms)",
                  StatsOf(tool, [](const Run& r) { return r.excl_ms(); }), 1);
    PrintStatsRow("connect: TCP + TLS + auth (ms)",
                  StatsOf(tool, [](const Run& r) { return r.connect_ms; }), 1);
    PrintStatsRow("connect + init + detect: session ready (ms)",
                  StatsOf(tool, [](const Run& r) { return r.open_ms; }), 1);
    PrintStatsRow("statements sent (dbrunbook's count)",
                  StatsOf(tool, [](const Run& r) { return r.statements_sent; }), 1);
  }
  PrintStatsRow("Questions (server delta)",
                StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Questions"); }), 1, 1,
                busy);
  PrintStatsRow("Created_tmp_tables",
                StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Created_tmp_tables"); }),
                1, 1, busy);
  PrintStatsRow(
      "Created_tmp_disk_tables",
      StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Created_tmp_disk_tables"); }), 1, 1,
      busy);
  PrintStatsRow("Connections",
                StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Connections"); }), 1, 1,
                busy);
  PrintStatsRow("Bytes_sent by the server (KiB)",
                StatsOf(tool, [&](const Run& r) { return Server(ctx, r, "Bytes_sent"); }), 1, 1024,
                busy);
  if (tool.name == "dbrunbook (library)" && ctx.calibration.quiet && !tool.runs.empty()) {
    fmt::print("  server Questions == statements sent in {} of {} runs{}{}\n", tool.questions_match,
               tool.runs.size(), tool.mismatches.empty() ? "" : "; ",
               fmt::join(tool.mismatches, ", "));
  }
}

// Where the in-process time goes, statement by statement (medians over the measured runs).
void PrintTimeline(const Context& ctx, const Tool& tool) {
  if (ctx.statement_times.empty() || tool.runs.empty()) return;
  fmt::print("\n{}: where the time goes (median ms per run)\n", tool.name);
  auto median = [](std::vector<double> v) { return Summarize(std::move(v))->median; };
  double total = 0;
  auto row = [&](std::string_view label, double ms) {
    fmt::print("  {:<52} {:>8.2f}\n", label, ms);
    total += ms;
  };
  row("connect: TCP + TLS + auth",
      StatsOf(tool, [](const Run& r) { return r.connect_ms; })->median);
  row("init statement(s) at connect (SET SESSION ...)", median(ctx.setup_times));
  const double waited = StatsOf(tool, [](const Run& r) { return r.waited_ms; })->median;
  int status_samples = 0;
  for (size_t i = 0; i < ctx.statement_times.size(); ++i) {
    const auto& [label, times] = ctx.statement_times[i];
    if (times.empty()) continue;
    row(fmt::format("{:>2}. {}", i + 1, label), median(times));
    // The wait comes right after the first status sample.
    if (label == "SHOW GLOBAL STATUS" && ++status_samples == 1) {
      fmt::print("  {:<52} {:>8.2f}  (excluded)\n", "    wait between the status samples", waited);
    }
  }
  const double excl = StatsOf(tool, [](const Run& r) { return r.excl_ms(); })->median;
  fmt::print("  {:<52} {:>8.2f}\n", "rest (client-side: detection, checks, between calls)",
             excl - total);
  fmt::print("  {:<52} {:>8.2f}\n", "= wall time excl. interval", excl);
  if (ctx.statements_differ) {
    fmt::print("  (the statement sequence differed between runs; positions are approximate)\n");
  }
}

void PrintAssessment(const steps::Assessment& a) {
  int counts[4] = {0, 0, 0, 0};
  for (const auto& c : a.checks) ++counts[static_cast<int>(c.level)];
  fmt::print("last assessment: overall {}; {} checks: {} ok, {} warn, {} critical, {} unknown\n",
             steps::LevelName(a.overall), a.checks.size(), counts[0], counts[1], counts[2],
             counts[3]);
  for (const auto& c : a.checks) {
    const bool replication = core::StartsWithIgnoreCase(c.id, "replica");
    if (c.level == steps::Level::kOk && !replication) continue;
    fmt::print("  {:<8} {:<28} {}{}\n", steps::LevelName(c.level), c.id, c.display,
               c.detail.empty() ? "" : fmt::format("  ({})", c.detail.substr(0, 100)));
  }
  for (const auto& note : a.notes) fmt::print("  note: {}\n", note);
}

void PrintBreakdown(const Context& ctx, const std::vector<Tool>& tools) {
  if (!ctx.calibration.quiet) return;
  // Com_* counters that moved for any tool, by median over its runs.
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
  fmt::print("  {:<30}", "");
  for (const auto& tool : tools) fmt::print(" {:>22}", tool.name.substr(0, 22));
  fmt::print("\n");
  for (const auto& name : names) {
    fmt::print("  {:<30}", name);
    for (size_t t = 0; t < tools.size(); ++t) {
      auto it = medians.find({t, name});
      fmt::print(" {:>22}", it == medians.end() || tools[t].runs.empty() ? "-" : Num(it->second));
    }
    fmt::print("\n");
  }
  for (const auto& name : ReportedCounters()) {
    if (name == "Bytes_sent") continue;
    fmt::print("  {:<30}", name);
    for (const auto& tool : tools) {
      auto s = StatsOf(tool, [&](const Run& r) { return Server(ctx, r, name); });
      fmt::print(" {:>22}", s ? Num(s->median) : "-");
    }
    fmt::print("\n");
  }
}

void PrintComparison(const Context& ctx, const std::vector<Tool>& tools) {
  // The reference is the dbrunbook CLI (a process, like the peers) when it was measured.
  const Tool* reference = nullptr;
  for (const auto& tool : tools) {
    if (tool.is_dbrunbook && !tool.runs.empty()) reference = &tool;
  }
  if (reference == nullptr) return;
  auto excl = [](const Tool& t) { return StatsOf(t, [](const Run& r) { return r.excl_ms(); }); };
  auto questions = [&](const Tool& t) {
    return StatsOf(t, [&](const Run& r) { return Server(ctx, r, "Questions"); });
  };
  auto tmp = [&](const Tool& t) {
    return StatsOf(t, [&](const Run& r) { return Server(ctx, r, "Created_tmp_tables"); });
  };
  const auto ref_time = excl(*reference);
  const auto ref_q = questions(*reference);
  fmt::print("\ncomparison (medians; ratio = tool ÷ {})\n", reference->name);
  fmt::print("  {:<24} {:>5} {:>14} {:>10} {:>10} {:>11} {:>11}\n", "tool", "runs", "excl.interval",
             "Questions", "tmp tables", "time ratio", "Quest.ratio");
  for (const auto& tool : tools) {
    if (tool.runs.empty()) {
      fmt::print("  {:<24} {:>5} {}\n", tool.name, 0, tool.last_error);
      continue;
    }
    const auto t = excl(tool);
    const auto q = questions(tool);
    const auto k = tmp(tool);
    auto ratio = [](const std::optional<Stats>& a, const std::optional<Stats>& b) -> std::string {
      if (!a || !b || b->median <= 0) return "-";
      return fmt::format("{:.2f}x", a->median / b->median);
    };
    fmt::print("  {:<24} {:>5} {:>11} ms {:>10} {:>10} {:>11} {:>11}\n", tool.name.substr(0, 24),
               tool.runs.size(), Num(t->median), q ? Num(q->median) : "busy",
               k ? Num(k->median) : "busy", ratio(t, ref_time), ratio(q, ref_q));
  }
  fmt::print(
      "  excl.interval: wall time minus dbrunbook's wait between its two status samples "
      "(metered in\n  process, the requested interval for the CLI); the peers run without a "
      "wait here.\n  Questions counts every command but COM_PING/COM_STATISTICS, so a process adds "
      "one COM_QUIT per\n  connection; the library run is read while its session is still "
      "open.\n");
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

int Main(int argc, char** argv) {
  CLI::App app{
      "assess_bench: what one `dbrunbook assess` costs a MySQL/MariaDB server, next to peer "
      "tools run against the same server. See bench/README.md.",
      "assess_bench"};
  std::string sandbox_dir;
  std::string server;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user;
  std::string password_file;
  std::string probe_socket;
  std::string probe_user = "root";
  std::string probe_password_file;
  int runs = 20;
  int warmup = 1;
  int peer_runs = 3;
  int cli_runs = -1;
  int calibration_pairs = 5;
  std::string interval_text = "100ms";
  std::string settle_text = "50ms";
  std::string cli_path = DBRUNBOOK_CLI_PATH;
  std::string label;
  std::string output_dir;
  std::vector<std::string> peer_texts;
  std::string ssl_mode = "preferred";
  std::string ssl_ca;
  app.add_option("--sandbox-dir", sandbox_dir,
                 "scripts/sandbox base dir (default $DBRUNBOOK_SANDBOX_DIR)");
  app.add_option("--server", server, "sandbox NAME: reads <sandbox dir>/NAME/env");
  app.add_option("--host", host, "without --server: monitor host (TCP)");
  app.add_option("--port", port, "without --server: monitor port");
  app.add_option("--user", user, "without --server: monitor user");
  app.add_option("--password-file", password_file, "without --server: file with the password");
  app.add_option("--probe-socket", probe_socket,
                 "without --server: Unix socket for the counter probe");
  app.add_option("--probe-user", probe_user, "probe account (default root)");
  app.add_option("--probe-password-file", probe_password_file,
                 "probe password file (default: none)");
  app.add_option("--runs", runs, "assessments to measure (default 20)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--warmup", warmup, "unmeasured runs of each tool first (default 1)")
      ->check(CLI::Range(0, 100));
  app.add_option("--cli-runs", cli_runs, "runs of the dbrunbook CLI (default --runs; 0: skip)");
  app.add_option("--peer-runs", peer_runs, "runs of each peer without @RUNS (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--interval", interval_text, "assessment sampling interval (default 100ms)");
  app.add_option("--settle", settle_text,
                 "wait after a process exits before reading counters (default 50ms)");
  app.add_option("--calibration-pairs", calibration_pairs, "probe pairs to calibrate (default 5)")
      ->check(CLI::Range(2, 100));
  app.add_option("--cli", cli_path, "dbrunbook binary (default: the one built with this)");
  app.add_option("--peer", peer_texts,
                 "NAME[@RUNS]=SHELL COMMAND, a peer to time and count (repeatable)");
  app.add_option("--ssl-mode", ssl_mode,
                 "dbrunbook's TLS mode: preferred (default, as the product), disabled, "
                 "required, verify-ca, verify-identity");
  app.add_option("--ssl-ca", ssl_ca,
                 "CA file for verify-ca/verify-identity (default with --server: the sandbox CA)");
  app.add_option("--label", label, "shown in the title, e.g. 'quiet' or 'under load'");
  app.add_option("--output-dir", output_dir,
                 "keep the last stdout/stderr of each process here (default: a temp dir, removed)");
  CLI11_PARSE(app, argc, argv);

  auto interval = core::ParseDuration(interval_text);
  auto settle = core::ParseDuration(settle_text);
  if (!interval || !settle) {
    std::cerr << "assess_bench: --interval and --settle take durations such as 100ms\n";
    return 2;
  }
  std::vector<PeerSpec> peers;
  for (const auto& text : peer_texts) {
    auto spec = ParsePeer(text);
    if (!spec) {
      std::cerr << "assess_bench: --peer wants NAME[@RUNS]=COMMAND, got '" << text << "'\n";
      return 2;
    }
    peers.push_back(std::move(*spec));
  }

  Context ctx;
  ctx.factory = std::make_unique<mysql::ConnectorSessionFactory>(ctx.clock);
  ctx.timing = std::make_unique<TimingFactory>(*ctx.factory, ctx.clock);
  ctx.interval = *interval;
  ctx.settle = *settle;
  ctx.monitor.program_name = "dbrunbook";
  if (!server.empty()) {
    if (sandbox_dir.empty()) {
      const char* env = std::getenv("DBRUNBOOK_SANDBOX_DIR");  // NOLINT(concurrency-mt-unsafe)
      if (env != nullptr) sandbox_dir = env;
    }
    if (sandbox_dir.empty()) {
      std::cerr << "assess_bench: --server needs --sandbox-dir or $DBRUNBOOK_SANDBOX_DIR\n";
      return 2;
    }
    auto env = ParseEnvFile(fmt::format("{}/{}/env", sandbox_dir, server));
    if (!env) {
      std::cerr << "assess_bench: " << env.error().ToString() << "\n";
      return 2;
    }
    auto get = [&](const char* key) {
      auto it = env->find(key);
      return it == env->end() ? std::string() : it->second;
    };
    host = get("SANDBOX_HOST");
    port = static_cast<int>(core::ParseInt64(get("SANDBOX_PORT")).value_or(0));
    user = get("SANDBOX_MONITOR_USER");
    password_file = get("SANDBOX_MONITOR_PASSWORD_FILE");
    probe_socket = get("SANDBOX_SOCKET");
    ctx.dsn = get("SANDBOX_DSN");
    if (ssl_ca.empty()) ssl_ca = get("SANDBOX_TLS_CA");
    ctx.name = server;
  }
  if (port <= 0 || port > 65535 || user.empty() || probe_socket.empty()) {
    std::cerr << "assess_bench: give --server NAME, or --port, --user and --probe-socket\n";
    return 2;
  }
  if (ctx.name.empty()) ctx.name = fmt::format("{}:{}", host, port);
  if (ctx.dsn.empty()) ctx.dsn = fmt::format("mysql://{}@{}:{}/", user, host, port);
  const auto tls_mode = mysql::ParseTlsMode(ssl_mode);
  if (!tls_mode) {
    std::cerr << "assess_bench: unknown --ssl-mode '" << ssl_mode << "'\n";
    return 2;
  }
  ctx.monitor.tls.mode = *tls_mode;
  if (*tls_mode >= mysql::TlsMode::kVerifyCa) ctx.monitor.tls.ca = ssl_ca;
  if (*tls_mode != mysql::TlsMode::kPreferred) {
    // The CLI gets the same mode through the DSN (paths here need no percent-encoding).
    ctx.dsn += fmt::format("{}ssl-mode={}", ctx.dsn.find('?') == std::string::npos ? "?" : "&",
                           mysql::TlsModeName(*tls_mode));
    if (*tls_mode >= mysql::TlsMode::kVerifyCa) ctx.dsn += "&ssl-ca=" + ssl_ca;
  }
  ctx.monitor.target_name = ctx.name;
  ctx.monitor.host = host;
  ctx.monitor.port = static_cast<uint16_t>(port);
  ctx.monitor.user = user;
  ctx.password_file = password_file;
  if (!password_file.empty()) {
    auto secret = ReadSecret(password_file);
    if (!secret) {
      std::cerr << "assess_bench: " << secret.error().ToString() << "\n";
      return 2;
    }
    ctx.monitor.password = std::move(*secret);
  }

  mysql::ConnectOptions probe_options;
  probe_options.target_name = ctx.name + " (probe)";
  probe_options.socket = probe_socket;
  probe_options.user = probe_user;
  probe_options.tls.mode = mysql::TlsMode::kDisabled;
  probe_options.program_name = "assess_bench-probe";
  if (!probe_password_file.empty()) {
    auto secret = ReadSecret(probe_password_file);
    if (!secret) {
      std::cerr << "assess_bench: " << secret.error().ToString() << "\n";
      return 2;
    }
    probe_options.password = std::move(*secret);
  }
  auto probe = ctx.factory->Connect(probe_options);
  if (!probe) {
    std::cerr << "assess_bench: probe: " << probe.error().ToString() << "\n";
    return 2;
  }
  ctx.probe = std::move(*probe);

  // Where the processes' output goes.
  bool remove_out_dir = false;
  if (output_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "assess_bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "assess_bench: cannot create a temporary directory\n";
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
  const std::string cli_home = output_dir + "/cli-home";
  std::filesystem::create_directories(cli_home);
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("DBRUNBOOK_") || entry.starts_with("HOME=")) continue;
    ctx.cli_env_storage.emplace_back(entry);
  }
  ctx.cli_env_storage.push_back("HOME=" + cli_home);
  for (auto& entry : ctx.cli_env_storage) ctx.cli_env.push_back(entry.data());
  ctx.cli_env.push_back(nullptr);

  auto calibration = Calibrate(*ctx.probe, ctx.clock, calibration_pairs, ctx.settle);
  if (!calibration) {
    std::cerr << "assess_bench: probe: " << calibration.error().ToString() << "\n";
    return 2;
  }
  ctx.calibration = std::move(*calibration);

  const auto now = std::chrono::system_clock::to_time_t(ctx.clock.WallNow());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &utc);
  fmt::print("== dbrunbook assess benchmark: {}{} ==\n", ctx.name,
             label.empty() ? "" : fmt::format(" ({})", label));
  const std::string load = ReadFile("/proc/loadavg").value_or("?");
  fmt::print("server {} at {}; probe {}@socket; {}; load average {}\n",
             ctx.probe->info().server_version, ctx.monitor.Endpoint(), probe_user, date,
             load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1)));
  if (ctx.calibration.quiet) {
    std::vector<std::string> cost;
    for (const auto& [name, value] : ctx.calibration.baseline) {
      if (IsExactCounter(name) && value != 0)
        cost.push_back(fmt::format("{} {}", name, Num(value)));
    }
    fmt::print("server quiet: one probe pair costs {} (subtracted from every delta below)\n",
               fmt::join(cost, ", "));
  } else {
    fmt::print(
        "server BUSY: other clients move {} between probes, so server-side deltas are not "
        "attributable to one tool and are shown as 'busy'; wall times are still measured\n",
        fmt::join(ctx.calibration.moving.size() > 6
                      ? std::vector<std::string>(ctx.calibration.moving.begin(),
                                                 ctx.calibration.moving.begin() + 6)
                      : ctx.calibration.moving,
                  ", "));
  }

  std::vector<Tool> tools;
  // 1. In-process.
  {
    steps::AssessOptions options;
    options.interval = ctx.interval;
    Tool tool;
    tool.name = "dbrunbook (library)";
    tool.how = fmt::format(
        "OpenTargetSession + RunAssessment in this process, {} over TCP (ssl-mode {}), "
        "interval {}",
        user, mysql::TlsModeName(ctx.monitor.tls.mode), interval_text);
    tool.is_dbrunbook = true;
    std::optional<steps::Assessment> last;
    for (int i = 0; i < warmup + runs; ++i) {
      auto run = RunLibrary(ctx, options, last);
      if (!run) {
        ++tool.failures;
        tool.last_error = run.error().ToString();
        continue;
      }
      if (i < warmup) continue;
      auto q = run->server.find("Questions");
      if (q != run->server.end() && run->statements_sent && q->second == *run->statements_sent) {
        ++tool.questions_match;
      } else if (ctx.calibration.quiet) {
        tool.mismatches.push_back(fmt::format("run {}: Questions {} for {} sent", i - warmup + 1,
                                              q == run->server.end() ? "?" : Num(q->second),
                                              Num(run->statements_sent.value_or(0))));
      }
      tool.runs.push_back(std::move(*run));
    }
    if (last) PrintAssessment(*last);
    tools.push_back(std::move(tool));
  }
  // 2. The CLI as a process.
  if (cli_runs < 0) cli_runs = runs;
  if (cli_runs > 0) {
    Tool tool;
    tool.name = "dbrunbook CLI";
    tool.is_dbrunbook = true;
    std::vector<std::string> args = {cli_path,     "assess",      "--dsn",    ctx.dsn,
                                     "--interval", interval_text, "--format", "json"};
    if (!ctx.password_file.empty()) {
      args.insert(args.begin() + 4, {"--password-file", ctx.password_file});
    }
    tool.how = fmt::format(
        "process: dbrunbook assess --dsn {} --password-file FILE --interval {} "
        "--format json",
        ctx.dsn, interval_text);
    for (int i = 0; i < warmup + cli_runs; ++i) {
      auto run = RunCommand(ctx, args, ctx.cli_env.data(), cli_home, "dbrunbook-cli", true);
      if (!run) {
        ++tool.failures;
        tool.last_error = run.error().ToString();
        continue;
      }
      if (i >= warmup) tool.runs.push_back(std::move(*run));
    }
    tools.push_back(std::move(tool));
  }
  // 3. Peers.
  for (const auto& peer : peers) {
    Tool tool;
    tool.name = peer.name;
    tool.how = "process: " + peer.command;
    const int n = peer.runs > 0 ? peer.runs : peer_runs;
    const std::vector<std::string> args = {"/bin/sh", "-c", peer.command};
    for (int i = 0; i < warmup + n; ++i) {
      auto run = RunCommand(ctx, args, environ, "", Slug(peer.name), false);
      if (!run) {
        ++tool.failures;
        tool.last_error = run.error().ToString();
        continue;
      }
      if (i >= warmup) tool.runs.push_back(std::move(*run));
    }
    tools.push_back(std::move(tool));
  }

  for (const auto& tool : tools) {
    PrintToolDetail(ctx, tool);
    if (tool.name == "dbrunbook (library)") PrintTimeline(ctx, tool);
  }
  PrintBreakdown(ctx, tools);
  PrintComparison(ctx, tools);
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
    std::cerr << "assess_bench: " << e.what() << "\n";
    return 2;
  }
}
