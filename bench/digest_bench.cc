// digest_bench: `dbrunbook digest` next to pt-query-digest on the same slow log, in the same run
// (DESIGN.md, Testing), with `wc -l` and `cat` as the cost of reading the file at all.
// bench/digest is the one command that builds this, generates (or takes) a large slow log and
// runs it; bench/README.md explains how to read the output.
//
// Every tool runs as a child process (posix_spawn, stdin /dev/null, stdout and stderr to files
// in --output-dir, no DBRUNBOOK_* variables in its environment) and is measured from spawn to
// exit: wall time, user + system CPU time, peak resident memory (ru_maxrss from wait4(), the
// child's own figure, which includes the pages of a memory-mapped input) and peak anonymous
// memory (RssAnon of /proc/PID/status sampled every 10 ms: what the child allocated). The file
// is read once before anything is timed, so every tool reads it from the page cache.
//
//   - wc -l FILE, cat FILE (to /dev/null): reading the file, nothing more;
//   - pt-query-digest --no-version-check --limit 100000 --output json FILE: every class
//     (--limit 100000), as JSON; --pt-report also times its default report once;
//   - dbrunbook digest --format json --limit 0 --no-progress --threads T FILE, for each T.
//
// The measured runs go round by round (wc, cat, dbrunbook with each T, then again), best of
// --runs; pt-query-digest runs --pt-runs times (once by default: 3-8 MB/s). Then the outputs are
// compared class by class, keyed by pt's checksum (32 hex digits, "0x" dropped if present) and
// dbrunbook's query_id: the counts must agree, and so must the Query_time sums (relative
// tolerance --tolerance; pt prints times with 6 decimals). Other numeric attributes present in
// both are compared too and listed, but do not fail the run. The outputs for different --threads
// must agree with each other in the same way. Exit status: 0 everything agreed; 1 a
// disagreement or a tool failed (after printing everything); 2 usage.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
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

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace dbrunbook::bench {
namespace {

using Json = nlohmann::json;

std::string ErrorText(int err) { return std::generic_category().message(err); }

// --- processes -----------------------------------------------------------------------------

struct Run {
  bool ok = false;           // ran and exited 0
  int exit_code = -1;        // -1: did not run or was killed by a signal
  std::string error;         // why it could not run, or the signal
  double wall = 0;           // seconds, spawn to exit
  double cpu = 0;            // user + system seconds
  double peak_rss_mib = 0;   // ru_maxrss: includes resident pages of mapped files
  double peak_anon_mib = 0;  // sampled RssAnon: allocated memory only
};

// The environment without DBRUNBOOK_* variables (no configuration changes what is measured).
std::vector<char*> CleanEnvironment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "DBRUNBOOK_", 10) != 0) env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

// The largest RssAnon of /proc/PID/status seen while a process runs (every 10 ms, from a
// thread): the memory a process allocates, without the file pages it maps (which ru_maxrss
// counts, e.g. a memory-mapped log).
class AnonSampler {
 public:
  explicit AnonSampler(pid_t pid)
      : path_(fmt::format("/proc/{}/status", pid)), thread_([this] { Loop(); }) {}
  AnonSampler(const AnonSampler&) = delete;
  AnonSampler& operator=(const AnonSampler&) = delete;
  ~AnonSampler() { Stop(); }

  double Stop() {  // MiB
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return static_cast<double>(peak_kib_) / 1024.0;
  }

 private:
  void Sample() {
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("RssAnon:", 0) == 0) {
        peak_kib_ = std::max(peak_kib_, std::strtoll(line.c_str() + 8, nullptr, 10));
        return;
      }
    }
  }
  void Loop() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      Sample();
      wake_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stop_; });
    }
  }

  std::string path_;
  long long peak_kib_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// Runs argv with stdin from /dev/null and stdout/stderr into files; waits for it with wait4()
// for its resource usage.
Run RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
               const std::string& stderr_path) {
  Run r;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto env = CleanEnvironment();
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    r.error = fmt::format("cannot run {}: {}", argv[0], ErrorText(rc));
    return r;
  }
  // Sample the child's anonymous memory until it exits; waitid(WNOWAIT) leaves it a zombie, so
  // its pid cannot be reused before the sampler has stopped.
  AnonSampler sampler(pid);
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  r.peak_anon_mib = sampler.Stop();
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      r.error = fmt::format("wait4: {}", ErrorText(errno));
      return r;
    }
  }
  r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  r.cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    r.ok = r.exit_code == 0;
    if (!r.ok) r.error = fmt::format("{} exited with status {}", argv[0], r.exit_code);
  } else {
    r.error = fmt::format("{} killed by signal {}", argv[0], WTERMSIG(status));
  }
  return r;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last `max_chars` characters of a file, for the error output of a failed process.
std::string Tail(const std::string& path, std::size_t max_chars = 800) {
  auto text = ReadFile(path);
  if (!text) return "";
  std::string t = text->size() > max_chars ? text->substr(text->size() - max_chars) : *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

// --- tools ---------------------------------------------------------------------------------

struct Tool {
  std::string name;
  std::vector<std::string> argv;
  std::string stdout_path;  // the last run's output
  std::string stderr_path;
  int threads = 0;  // dbrunbook: --threads; 0 otherwise
  std::vector<Run> runs;

  [[nodiscard]] bool AllOk() const {
    return !runs.empty() &&
           std::all_of(runs.begin(), runs.end(), [](const Run& r) { return r.ok; });
  }
  [[nodiscard]] const Run* Best() const {  // fastest successful run
    const Run* best = nullptr;
    for (const auto& r : runs) {
      if (r.ok && (best == nullptr || r.wall < best->wall)) best = &r;
    }
    return best;
  }
  [[nodiscard]] double MedianWall() const {
    std::vector<double> w;
    for (const auto& r : runs) {
      if (r.ok) w.push_back(r.wall);
    }
    if (w.empty()) return 0;
    std::sort(w.begin(), w.end());
    return w.size() % 2 == 1 ? w[w.size() / 2] : (w[w.size() / 2 - 1] + w[w.size() / 2]) / 2;
  }
  [[nodiscard]] double MaxRss() const {
    double m = 0;
    for (const auto& r : runs) m = std::max(m, r.peak_rss_mib);
    return m;
  }
  [[nodiscard]] double MaxAnon() const {
    double m = 0;
    for (const auto& r : runs) m = std::max(m, r.peak_anon_mib);
    return m;
  }
};

void RunTool(Tool& tool, bool verbose) {
  Run r = RunProcess(tool.argv, tool.stdout_path, tool.stderr_path);
  if (verbose) {
    fmt::print(stderr,
               "  {:<34} {:>9.3f} s  CPU {:>8.3f} s  RSS {:>7.1f} MiB  anon {:>7.1f} MiB{}\n",
               tool.name, r.wall, r.cpu, r.peak_rss_mib, r.peak_anon_mib,
               r.ok ? "" : "  FAILED: " + r.error);
  }
  if (!r.ok) {
    const std::string tail = Tail(tool.stderr_path);
    if (!tail.empty()) fmt::print(stderr, "    stderr: {}\n", tail);
  }
  tool.runs.push_back(std::move(r));
}

// --- the digests ---------------------------------------------------------------------------

// pt prints every number as a string ("0.390338"); dbrunbook as a JSON number.
std::optional<double> Number(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && *end == '\0') return d;
  }
  return std::nullopt;
}

struct ClassDigest {
  std::string fingerprint;
  double count = 0;
  std::map<std::string, double> sums;  // numeric attributes: name -> sum
};

struct Digest {
  bool ok = false;
  std::string error;
  std::optional<double> events;                // overall count, when the output has one
  std::map<std::string, ClassDigest> classes;  // by query ID: 32 upper-case hex digits

  [[nodiscard]] double CountSum() const {
    double n = 0;
    for (const auto& [id, c] : classes) n += c.count;
    return n;
  }
};

std::string NormalizeId(std::string id) {
  if (id.size() > 2 && id[0] == '0' && (id[1] == 'x' || id[1] == 'X')) id.erase(0, 2);
  for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

// Numeric attributes' sums, and Yes/No attributes' "yes" counts as "NAME.yes" (pt puts both in
// a class's metrics; dbrunbook puts the second in booleans).
void ReadSums(const Json& metrics, ClassDigest& c) {
  if (!metrics.is_object()) return;
  for (const auto& [name, m] : metrics.items()) {
    if (!m.is_object()) continue;
    if (m.contains("sum")) {
      if (auto sum = Number(m["sum"])) c.sums[name] = *sum;
    } else if (m.contains("yes")) {
      if (auto yes = Number(m["yes"])) c.sums[name + ".yes"] = *yes;
    }
  }
}

// The JSON object of a tool's output file when it has a "classes" array; else nullopt with
// d.error saying why (`what` names the expected format).
std::optional<Json> ReadClassesJson(const std::string& path, const std::string& what, Digest& d) {
  auto text = ReadFile(path);
  if (!text) {
    d.error = "cannot read " + path;
    return std::nullopt;
  }
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("classes") || !j["classes"].is_array()) {
    d.error = path + " is not " + what + " (no classes array)";
    return std::nullopt;
  }
  return j;
}

Digest ParsePt(const std::string& path) {
  Digest d;
  auto parsed = ReadClassesJson(path, "pt-query-digest JSON", d);
  if (!parsed) return d;
  Json& j = *parsed;
  if (j.contains("global") && j["global"].contains("query_count")) {
    d.events = Number(j["global"]["query_count"]);
  }
  for (const auto& cls : j["classes"]) {
    if (!cls.contains("checksum") || !cls["checksum"].is_string()) continue;
    ClassDigest c;
    c.fingerprint = cls.value("fingerprint", "");
    if (cls.contains("query_count")) {
      c.count = Number(cls["query_count"]).value_or(0);
    } else if (cls.contains("metrics") && cls["metrics"].contains("Query_time")) {
      c.count = Number(cls["metrics"]["Query_time"].value("cnt", Json())).value_or(0);
    }
    if (cls.contains("metrics")) ReadSums(cls["metrics"], c);
    d.classes[NormalizeId(cls["checksum"].get<std::string>())] = std::move(c);
  }
  d.ok = true;
  return d;
}

Digest ParseDbrunbook(const std::string& path) {
  Digest d;
  auto parsed = ReadClassesJson(path, "`dbrunbook digest --format json` output", d);
  if (!parsed) return d;
  Json& j = *parsed;
  if (j.contains("overall") && j["overall"].is_object()) {
    for (const char* key : {"count", "events", "query_count"}) {
      if (j["overall"].contains(key)) {
        d.events = Number(j["overall"][key]);
        break;
      }
    }
  }
  for (const auto& cls : j["classes"]) {
    if (!cls.contains("query_id") || !cls["query_id"].is_string()) continue;
    ClassDigest c;
    c.fingerprint = cls.value("fingerprint", "");
    if (cls.contains("count")) c.count = Number(cls["count"]).value_or(0);
    if (cls.contains("metrics")) ReadSums(cls["metrics"], c);
    if (cls.contains("booleans")) ReadSums(cls["booleans"], c);
    d.classes[NormalizeId(cls["query_id"].get<std::string>())] = std::move(c);
  }
  d.ok = true;
  return d;
}

// pt prints times with 6 decimals ("%.6f") and other numbers truncated to integers ("%d").
bool SumsAgree(const std::string& attribute, double a, double b, double tolerance) {
  const bool time =
      attribute.size() >= 4 && (attribute.ends_with("time") || attribute.ends_with("wait"));
  const double rounding = time ? 1e-6 : 1.0;
  return std::fabs(a - b) <= std::max(tolerance * std::max(std::fabs(a), std::fabs(b)), rounding);
}

std::string Short(const std::string& s, std::size_t n = 90) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

struct Comparison {
  std::size_t classes_a = 0;
  std::size_t classes_b = 0;
  std::size_t count_agree = 0;
  std::size_t count_differ = 0;
  std::size_t only_a = 0;
  std::size_t only_b = 0;
  std::size_t query_time_agree = 0;
  std::size_t query_time_differ = 0;
  std::size_t other_sums_compared = 0;
  std::size_t other_sums_differ = 0;
  std::set<std::string> attributes_compared;
  [[nodiscard]] bool Agrees() const {
    return count_differ == 0 && only_a == 0 && only_b == 0 && query_time_differ == 0;
  }
};

// Compares digest b against the reference a (names for the output); prints disagreements.
Comparison Compare(const Digest& a, const std::string& name_a, const Digest& b,
                   const std::string& name_b, double tolerance, std::size_t max_listed) {
  Comparison c;
  c.classes_a = a.classes.size();
  c.classes_b = b.classes.size();
  std::vector<std::string> lines;
  auto note = [&](std::string line) {
    if (lines.size() < max_listed) lines.push_back(std::move(line));
  };
  std::vector<std::string> other_lines;
  for (const auto& [id, ca] : a.classes) {
    auto it = b.classes.find(id);
    if (it == b.classes.end()) {
      ++c.only_a;
      note(fmt::format("    only in {}: {} count {} {}", name_a, id, ca.count,
                       Short(ca.fingerprint)));
      continue;
    }
    const ClassDigest& cb = it->second;
    if (ca.count == cb.count) {
      ++c.count_agree;
    } else {
      ++c.count_differ;
      note(fmt::format("    count differs: {} {} {} vs {} {}  {}", id, name_a, ca.count, name_b,
                       cb.count, Short(ca.fingerprint)));
    }
    for (const auto& [attribute, sum_a] : ca.sums) {
      auto s = cb.sums.find(attribute);
      if (s == cb.sums.end()) continue;
      const bool agree = SumsAgree(attribute, sum_a, s->second, tolerance);
      if (attribute == "Query_time") {
        if (agree) {
          ++c.query_time_agree;
        } else {
          ++c.query_time_differ;
          note(fmt::format("    Query_time sum differs: {} {} {:.6f} vs {} {:.6f}  {}", id, name_a,
                           sum_a, name_b, s->second, Short(ca.fingerprint)));
        }
        continue;
      }
      ++c.other_sums_compared;
      c.attributes_compared.insert(attribute);
      if (!agree) {
        ++c.other_sums_differ;
        if (other_lines.size() < max_listed) {
          other_lines.push_back(fmt::format("    {} sum differs: {} {} {} vs {} {}  {}", attribute,
                                            id, name_a, sum_a, name_b, s->second,
                                            Short(ca.fingerprint, 60)));
        }
      }
    }
  }
  for (const auto& [id, cb] : b.classes) {
    if (a.classes.count(id) == 0) {
      ++c.only_b;
      note(fmt::format("    only in {}: {} count {} {}", name_b, id, cb.count,
                       Short(cb.fingerprint)));
    }
  }
  const std::size_t problems = c.only_a + c.only_b + c.count_differ + c.query_time_differ;
  fmt::print("  {} vs {}: {} / {} classes; counts agree in {} of {}{}; Query_time sums agree in {}",
             name_b, name_a, c.classes_b, c.classes_a, c.count_agree, c.classes_a,
             c.only_a + c.only_b > 0 ? fmt::format(" ({} only in {}, {} only in {})", c.only_a,
                                                   name_a, c.only_b, name_b)
                                     : "",
             c.query_time_agree);
  fmt::print(" of {}\n", c.query_time_agree + c.query_time_differ);
  if (a.events && b.events) {
    fmt::print("    events: {} {}, {} {}{}\n", name_a, *a.events, name_b, *b.events,
               *a.events == *b.events ? " (equal)" : "  DIFFER");
  }
  fmt::print("    events in classes (sum of counts): {} {}, {} {}\n", name_a, a.CountSum(), name_b,
             b.CountSum());
  for (const auto& l : lines) fmt::print("{}\n", l);
  if (problems > lines.size()) fmt::print("    ... {} more\n", problems - lines.size());
  fmt::print("    other attribute sums: {} compared ({} attributes), {} differ{}\n",
             c.other_sums_compared, c.attributes_compared.size(), c.other_sums_differ,
             c.other_sums_differ > 0 ? " (listed, not failing the run):" : "");
  for (const auto& l : other_lines) fmt::print("{}\n", l);
  if (c.other_sums_differ > other_lines.size()) {
    fmt::print("    ... {} more\n", c.other_sums_differ - other_lines.size());
  }
  return c;
}

// --- the report ----------------------------------------------------------------------------

std::string LoadAverage() {
  auto text = ReadFile("/proc/loadavg");
  if (!text) return "?";
  std::istringstream in(*text);
  std::string a;
  std::string b;
  std::string c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string Ratio(double r) {
  if (r <= 0 || !std::isfinite(r)) return "-";
  return r >= 100 ? fmt::format("{:.0f}x", r) : fmt::format("{:.1f}x", r);
}

int Main(int argc, char** argv) {
  CLI::App app{
      "digest_bench: `dbrunbook digest` next to pt-query-digest on the same slow log, with "
      "`wc -l` and `cat` as the cost of reading it; compares their per-class counts. See "
      "bench/README.md.",
      "digest_bench"};
  std::string file;
  std::string dbrunbook = DBRUNBOOK_CLI_PATH;
  std::string pt = "pt-query-digest";
  std::vector<int> threads{1, 2};
  int runs = 3;
  int pt_runs = 1;
  bool pt_report = false;
  bool no_cat = false;
  bool no_dbrunbook = false;
  std::string pt_json;
  std::string output_dir;
  double tolerance = 1e-6;
  std::size_t max_listed = 20;
  app.add_option("file", file, "the slow log")->required()->check(CLI::ExistingFile);
  app.add_option("--dbrunbook", dbrunbook, "dbrunbook binary (default: the one built with this)");
  app.add_option("--threads", threads, "dbrunbook digest --threads values (default 1 2)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--runs", runs, "measured runs of wc, cat and each dbrunbook (default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--pt", pt, "pt-query-digest command (default pt-query-digest)");
  app.add_option("--pt-runs", pt_runs, "runs of pt-query-digest --output json (default 1; 0: skip)")
      ->check(CLI::Range(0, 100));
  app.add_flag("--pt-report", pt_report,
               "also time pt-query-digest's default report once (not compared)");
  app.add_option("--pt-json", pt_json,
                 "compare against this saved pt-query-digest --output json instead of running "
                 "pt (no pt timing then)")
      ->check(CLI::ExistingFile);
  app.add_flag("--no-cat", no_cat, "do not time cat FILE > /dev/null");
  app.add_flag("--no-dbrunbook", no_dbrunbook, "do not run dbrunbook digest");
  app.add_option("--output-dir", output_dir,
                 "keep each tool's last stdout/stderr here (default: a temp dir, removed)");
  app.add_option("--tolerance", tolerance, "relative tolerance of sums (default 1e-6)");
  app.add_option("--max-listed", max_listed, "disagreements listed per comparison (default 20)");
  CLI11_PARSE(app, argc, argv);
  if (!pt_json.empty()) pt_runs = 0;

  namespace fs = std::filesystem;
  file = fs::absolute(file).string();
  bool remove_output_dir = false;
  if (output_dir.empty()) {
    std::string templ = (fs::temp_directory_path() / "digest-bench.XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) {
      std::cerr << "digest_bench: mkdtemp: " << ErrorText(errno) << "\n";
      return 2;
    }
    output_dir = templ;
    remove_output_dir = true;
  }
  fs::create_directories(output_dir);
  struct Cleanup {
    std::string dir;
    bool remove;
    ~Cleanup() {
      std::error_code ec;
      if (remove) fs::remove_all(dir, ec);
    }
  } cleanup{output_dir, remove_output_dir};
  auto out = [&](const std::string& name) { return (fs::path(output_dir) / name).string(); };

  struct stat st {};
  if (stat(file.c_str(), &st) != 0) {
    std::cerr << "digest_bench: " << file << ": " << ErrorText(errno) << "\n";
    return 2;
  }
  const double bytes = static_cast<double>(st.st_size);
  const double mb = bytes / 1e6;

  // Warm the page cache: every tool then reads the file from memory.
  fmt::print(stderr, "digest_bench: reading {} ({:.1f} MB) once to warm the page cache\n", file,
             mb);
  {
    Run warm = RunProcess({"cat", file}, "/dev/null", out("warmup.err"));
    if (!warm.ok) {
      std::cerr << "digest_bench: cannot read " << file << ": " << warm.error << "\n";
      return 2;
    }
  }

  // Is `dbrunbook digest` there (it is being written as this bench is)?
  std::string dbrunbook_missing;
  if (no_dbrunbook) {
    dbrunbook_missing = "--no-dbrunbook";
  } else {
    Run probe = RunProcess({dbrunbook, "digest", "--help"}, out("dbrunbook-help.out"),
                           out("dbrunbook-help.err"));
    // Without the subcommand, CLI11 prints the main help (exit 0): its usage line lacks "digest".
    const std::string help = ReadFile(out("dbrunbook-help.out")).value_or("");
    const std::size_t usage = help.find("Usage: ");
    const std::string usage_line =
        usage == std::string::npos ? "" : help.substr(usage, help.find('\n', usage) - usage);
    if (!probe.ok) {
      dbrunbook_missing = fmt::format("`{} digest --help` failed ({}): {}", dbrunbook, probe.error,
                                      Tail(out("dbrunbook-help.err"), 200));
    } else if (usage_line.find("digest") == std::string::npos) {
      dbrunbook_missing = fmt::format(
          "{} has no digest command yet (`digest --help` printed the main help)", dbrunbook);
    }
  }

  std::vector<Tool> readers;
  readers.push_back({"wc -l", {"wc", "-l", file}, out("wc.out"), out("wc.err")});
  if (!no_cat) {
    readers.push_back({"cat > /dev/null", {"cat", file}, "/dev/null", out("cat.err")});
  }
  std::vector<Tool> dbr;
  if (dbrunbook_missing.empty()) {
    for (int t : threads) {
      Tool tool{fmt::format("dbrunbook digest --threads {}", t),
                {dbrunbook, "digest", "--format", "json", "--limit", "0", "--no-progress",
                 "--threads", std::to_string(t), file},
                out(fmt::format("dbrunbook-t{}.json", t)),
                out(fmt::format("dbrunbook-t{}.err", t))};
      tool.threads = t;
      dbr.push_back(std::move(tool));
    }
  }
  Tool pt_tool{"pt-query-digest --output json",
               {pt, "--no-version-check", "--limit", "100000", "--output", "json", file},
               out("pt-query-digest.json"),
               out("pt-query-digest.err")};
  Tool pt_report_tool{"pt-query-digest (report)",
                      {pt, "--no-version-check", file},
                      out("pt-query-digest-report.txt"),
                      out("pt-query-digest-report.err")};

  fmt::print(stderr, "digest_bench: {} rounds of wc -l{}{}\n", runs, no_cat ? "" : ", cat",
             dbr.empty() ? " (dbrunbook digest not run)" : ", dbrunbook digest per --threads");
  for (int r = 0; r < runs; ++r) {
    for (auto& t : readers) RunTool(t, true);
    for (auto& t : dbr) RunTool(t, true);
  }
  if (pt_runs > 0) {
    fmt::print(stderr, "digest_bench: pt-query-digest {} time(s) (3-8 MB/s: ~{:.0f} s each)\n",
               pt_runs, mb / 5);
    for (int r = 0; r < pt_runs; ++r) RunTool(pt_tool, true);
  }
  if (pt_report) RunTool(pt_report_tool, true);

  // --- report ---
  bool failed = false;
  std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));  // NOLINT
  std::string lines_text;
  if (auto wc = ReadFile(out("wc.out"))) {
    std::istringstream in(*wc);
    in >> lines_text;
  }
  fmt::print("\ndigest_bench {}: {} — {:.1f} MB ({} bytes){}\n", when, file, mb,
             static_cast<std::uint64_t>(st.st_size),
             lines_text.empty() ? "" : fmt::format(", {} lines", lines_text));

  std::vector<const Tool*> all;
  for (const auto& t : readers) all.push_back(&t);
  if (!pt_tool.runs.empty()) all.push_back(&pt_tool);
  if (!pt_report_tool.runs.empty()) all.push_back(&pt_report_tool);
  for (const auto& t : dbr) all.push_back(&t);

  const Run* pt_best = pt_tool.Best();
  const Run* wc_best = readers.front().Best();
  fmt::print(
      "\n| tool | runs | wall s (best) | median | MB/s | CPU s | peak RSS MiB | peak anon MiB | "
      "pt-query-digest ÷ tool | same, CPU time | tool ÷ wc -l |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Tool* t : all) {
    const Run* b = t->Best();
    if (b == nullptr) {
      fmt::print("| {} | {} | failed: {} | | | | | | | | |\n", t->name, t->runs.size(),
                 t->runs.empty() ? "not run" : t->runs.back().error);
      failed = true;
      continue;
    }
    if (!t->AllOk()) failed = true;
    fmt::print("| {} | {} | {:.3f} | {:.3f} | {:.1f} | {:.2f} | {:.1f} | {:.1f} | {} | {} | {} |\n",
               t->name, t->runs.size(), b->wall, t->MedianWall(), mb / b->wall, b->cpu, t->MaxRss(),
               t->MaxAnon(), pt_best != nullptr ? Ratio(pt_best->wall / b->wall) : "-",
               pt_best != nullptr && b->cpu > 0 ? Ratio(pt_best->cpu / b->cpu) : "-",
               wc_best != nullptr ? Ratio(b->wall / wc_best->wall) : "-");
  }
  fmt::print(
      "(best run of each; peak RSS = ru_maxrss, with the pages of a memory-mapped input; peak "
      "anon = largest RssAnon sampled every 10 ms; load average now {})\n",
      LoadAverage());
  if (!dbrunbook_missing.empty()) {
    fmt::print("\ndbrunbook digest was not run: {}\n", dbrunbook_missing);
  }
  for (const auto& t : dbr) {
    const Run* b = t.Best();
    if (t.threads == 1 && b != nullptr && pt_best != nullptr) {
      const double speedup = pt_best->wall / b->wall;
      fmt::print("\ngoal (issue 4): ≥ 100x pt-query-digest on one thread: {} ({})\n",
                 speedup >= 100 ? "met" : "NOT met", Ratio(speedup));
    }
  }

  // --- agreement ---
  fmt::print("\nagreement (classes keyed by query ID; counts and Query_time sums must agree):\n");
  Digest pt_digest;
  std::string pt_name = "pt";
  if (!pt_json.empty()) {
    pt_digest = ParsePt(pt_json);
    pt_name = "pt (saved)";
  } else if (pt_tool.AllOk()) {
    pt_digest = ParsePt(pt_tool.stdout_path);
  } else {
    pt_digest.error = pt_runs == 0 ? "pt-query-digest not run" : "pt-query-digest failed";
  }
  if (pt_digest.ok) {
    fmt::print("  pt-query-digest: {} events, {} classes\n", pt_digest.events.value_or(-1),
               pt_digest.classes.size());
  } else {
    fmt::print("  pt-query-digest: {}\n", pt_digest.error);
  }
  std::optional<Digest> first_dbr;
  std::string first_dbr_name;
  for (const auto& t : dbr) {
    if (!t.AllOk()) {
      fmt::print("  dbrunbook --threads {}: failed, nothing to compare\n", t.threads);
      failed = true;
      continue;
    }
    const std::string name = fmt::format("dbrunbook(t{})", t.threads);
    Digest d = ParseDbrunbook(t.stdout_path);
    if (!d.ok) {
      fmt::print("  {}: {}\n", name, d.error);
      failed = true;
      continue;
    }
    if (pt_digest.ok) {
      if (!Compare(pt_digest, pt_name, d, name, tolerance, max_listed).Agrees()) failed = true;
      if (d.events && pt_digest.events && *d.events != *pt_digest.events) failed = true;
    }
    if (first_dbr) {
      if (!Compare(*first_dbr, first_dbr_name, d, name, tolerance, max_listed).Agrees()) {
        failed = true;
      }
    } else {
      first_dbr = std::move(d);
      first_dbr_name = name;
    }
  }
  if (!remove_output_dir) fmt::print("\noutputs of the last runs: {}\n", output_dir);
  fmt::print("{}\n", failed ? "RESULT: FAILED (see above)" : "RESULT: ok");
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace dbrunbook::bench

int main(int argc, char** argv) {
  try {
    return dbrunbook::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "digest_bench: " << e.what() << "\n";
    return 2;
  }
}
