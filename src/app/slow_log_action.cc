#include "app/slow_log_action.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "dialect/slowlog.h"

namespace dbrunbook::app {
namespace {

namespace fs = std::filesystem;
using steps::SlowLogState;

constexpr std::string_view kStateSchema = "dbrunbook.slow_log_state";
constexpr std::string_view kActionSchema = "dbrunbook.slow_log_action";
constexpr int kSchemaVersion = 1;
constexpr double kLongQueryTimeMax = 31536000;
constexpr std::uintmax_t kMaxStateFileBytes = std::uintmax_t{64} * 1024;
// Below this a busy server writes a lot of log: said in the plan.
constexpr double kLowThresholdSeconds = 0.1;

constexpr std::string_view kSlowQueryLog = "slow_query_log";
constexpr std::string_view kLongQueryTime = "long_query_time";
constexpr std::string_view kLogOutput = "log_output";
// The order restore sets them in: the log off first, so it never logs with a half-restored
// configuration.
constexpr std::string_view kRestoreOrder[] = {kSlowQueryLog, kLogOutput, kLongQueryTime};

std::optional<bool> ParseOnOff(std::string_view text) {
  text = core::Trim(text);
  if (core::EqualsIgnoreCase(text, "ON") || text == "1") return true;
  if (core::EqualsIgnoreCase(text, "OFF") || text == "0") return false;
  return std::nullopt;
}

// The statement that sets `variable` to `value` (as the server printed it, or as dbrunbook
// wrote it); empty when the value is not valid for the variable.
std::string SetStatement(const dialect::Dialect& d, std::string_view variable,
                         std::string_view value) {
  if (variable == kSlowQueryLog) {
    auto on = ParseOnOff(value);
    return on ? dialect::SetSlowQueryLog(d, *on) : std::string();
  }
  if (variable == kLongQueryTime) {
    auto seconds = core::ParseDouble(core::Trim(value));
    return seconds ? dialect::SetLongQueryTime(d, *seconds) : std::string();
  }
  if (variable == kLogOutput) return dialect::SetLogOutput(d, value);
  return {};
}

bool SameValue(std::string_view variable, std::string_view a, std::string_view b) {
  if (variable == kSlowQueryLog) {
    auto x = ParseOnOff(a);
    return x.has_value() && x == ParseOnOff(b);
  }
  if (variable == kLongQueryTime) {
    auto x = core::ParseDouble(core::Trim(a));
    auto y = core::ParseDouble(core::Trim(b));
    return x && y && std::fabs(*x - *y) < 5e-7;  // microsecond precision
  }
  if (variable == kLogOutput) {
    const std::string x = dialect::NormalizeLogOutput(a);
    return !x.empty() && x == dialect::NormalizeLogOutput(b);
  }
  return a == b;
}

std::string CurrentValue(const SlowLogState& s, std::string_view variable) {
  if (variable == kSlowQueryLog) return s.enabled_text;
  if (variable == kLongQueryTime) return s.long_query_time_text;
  if (variable == kLogOutput) {
    auto it = s.variables.find(std::string(kLogOutput));
    return it != s.variables.end() ? it->second : s.log_output;
  }
  return {};
}

const std::string* Find(const std::vector<std::pair<std::string, std::string>>& values,
                        std::string_view name) {
  for (const auto& [n, v] : values) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string VariableOr(const collect::TargetSession& target, const char* name) {
  auto it = target.variables.find(name);
  return it == target.variables.end() ? std::string() : it->second;
}

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool SafeNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// strerror is not thread-safe; the error_code message is.
std::string ErrnoText() { return std::error_code(errno, std::generic_category()).message(); }

core::Error IoError(std::string message) {
  return core::Error{core::ErrorCode::kIo, std::move(message), "", 0, {}};
}

core::Result<std::string> ReadStateFile(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return core::Fail(IoError(fmt::format("cannot read {}: {}", path, ec.message())));
  if (size > kMaxStateFileBytes) {
    return core::Fail(
        IoError(fmt::format("{} is not a dbrunbook state file ({} bytes)", path, size)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Fail(IoError(fmt::format("cannot read {}: {}", path, ErrnoText())));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to `path` atomically (a 0600 temporary file renamed over it), creating the
// state directory (0700) if needed.
core::Status WriteStateFile(const std::string& dir, const std::string& path,
                            const std::string& text) {
  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  if (ec) return core::Fail(IoError(fmt::format("cannot create {}: {}", dir, ec.message())));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return core::Fail(IoError(fmt::format("cannot create {}: {}", dir, ErrnoText())));
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return core::Fail(IoError(fmt::format("cannot create {}: {}", tmp, ErrnoText())));
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = ErrnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::Fail(IoError(fmt::format("cannot write {}: {}", tmp, reason)));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string reason = ErrnoText();
    ::unlink(tmp.c_str());
    return core::Fail(IoError(fmt::format("cannot write {}: {}", tmp, reason)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = ErrnoText();
    ::unlink(tmp.c_str());
    return core::Fail(IoError(fmt::format("cannot write {}: {}", path, reason)));
  }
  return core::Ok();
}

bool SameServer(const SlowLogRecord& record, const collect::TargetSession& target) {
  return record.server_hostname == VariableOr(target, "hostname") &&
         record.server_port == VariableOr(target, "port") &&
         record.server_id == VariableOr(target, "server_id");
}

std::string ServerText(const SlowLogRecord& r) {
  return fmt::format("{}:{} (server_id {})", r.server_hostname, r.server_port, r.server_id);
}

struct FoundRecord {
  std::string path;
  core::Result<SlowLogRecord> record;
};

// The state file of this target, else any state file in `dir` recorded on this server.
std::optional<FoundRecord> FindRecord(const std::string& dir, const std::string& own_path,
                                      const collect::TargetSession& target) {
  std::error_code ec;
  if (fs::exists(own_path, ec)) {
    auto text = ReadStateFile(own_path);
    if (!text) return FoundRecord{own_path, core::Fail(text.error())};
    return FoundRecord{own_path, ParseSlowLogRecord(*text, own_path)};
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with("slow-log-") || !name.ends_with(".json")) continue;
    auto text = ReadStateFile(it->path().string());
    if (!text) continue;
    auto record = ParseSlowLogRecord(*text, it->path().string());
    if (record && SameServer(*record, target)) return FoundRecord{it->path().string(), *record};
  }
  return std::nullopt;
}

core::Error Refusal(core::ErrorCode code, std::string message, std::string hint = {}) {
  return core::Error{code, std::move(message), std::move(hint), 0, {}};
}

// --- output -------------------------------------------------------------------------------

struct Outcome {
  SlowLogActionKind kind = SlowLogActionKind::kEnable;
  bool apply = false;
  std::string status;  // planned, nothing_to_change, applied, restored, refused, failed
  SlowLogPlan plan;
  std::vector<std::pair<std::string, std::string>> read_back;  // after applying
  std::string state_file;
  std::string grant;  // the GRANT the statements need (self-managed only)
  std::optional<core::Error> error;
  int exit_code = kSlowLogDone;
};

std::string ActionName(SlowLogActionKind kind) {
  return kind == SlowLogActionKind::kEnable ? "enable" : "restore";
}

std::string Pad(std::string_view text, size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// Text for a terminal: every value that came from the server, the state file or the
// configuration goes through SanitizeForTerminal.
std::string RenderText(const Outcome& o, const collect::TargetSession& target) {
  const auto clean = [](std::string_view text) { return core::SanitizeForTerminal(text); };
  std::string out;
  const auto& info = target.session->info();
  const std::string what = o.kind == SlowLogActionKind::kEnable ? "enable the slow query log"
                                                                : "restore the slow query log";
  std::string headline;
  if (o.status == "planned") {
    headline = fmt::format("plan to {} — nothing was changed (add --apply to run it)", what);
  } else if (o.status == "nothing_to_change") {
    headline = fmt::format("{}: nothing to change", what);
  } else if (o.status == "applied") {
    headline = "the slow query log is enabled";
  } else if (o.status == "restored") {
    headline = "the slow query log settings are restored";
  } else {
    headline = fmt::format("could not {}", what);
  }
  out += fmt::format("Slow query log on {} ({}, {}): {}\n", clean(info.target_name),
                     clean(target.flavor().Name()), clean(info.endpoint), headline);

  const std::string need = o.grant.empty() ? "" : fmt::format(" (need: {})", o.grant);
  if (o.status == "failed" && o.read_back.empty()) {
    // A statement was refused: what ran before it (and was set back, see the message).
    if (!o.plan.changes.empty()) {
      out += "\nStatements run before the failure:\n";
      for (const auto& c : o.plan.changes) out += fmt::format("  {};\n", c.statement);
    }
  } else if (!o.plan.changes.empty()) {
    const bool done = !o.read_back.empty();
    size_t width = 16;
    for (const auto& c : o.plan.changes) width = std::max(width, clean(c.current).size() + 2);
    out += fmt::format("\n  {}{}{}\n", Pad("VARIABLE", 18), Pad(done ? "BEFORE" : "NOW", width),
                       done ? "NOW (read back)" : "NEW");
    for (const auto& c : o.plan.changes) {
      std::string after = c.value;
      if (done) {
        const std::string* back = Find(o.read_back, c.variable);
        after = back != nullptr ? *back : "?";
      }
      out += fmt::format("  {}{}{}\n", Pad(c.variable, 18), Pad(clean(c.current), width),
                         clean(after));
    }
    out += fmt::format("\n{}{}:\n", done ? "Statements run" : "Statements", need);
    for (const auto& c : o.plan.changes) out += fmt::format("  {};\n", c.statement);
  }
  if (o.status == "failed" && o.error) {
    out += fmt::format("\n{}\n", clean(o.error->message));
    if (!o.error->hint.empty()) out += fmt::format("  {}\n", clean(o.error->hint));
  } else if (!o.plan.notes.empty()) {
    out += "\nNotes:\n";
    for (const auto& note : o.plan.notes) out += fmt::format("  - {}\n", clean(note));
  }
  const std::string file = clean(o.state_file);
  if (o.status == "planned" && o.kind == SlowLogActionKind::kEnable && file.empty()) {
    out += "\n--apply needs a place for the state file: set HOME (or XDG_STATE_HOME).\n";
  } else if (o.status == "planned" && o.kind == SlowLogActionKind::kEnable) {
    out += fmt::format(
        "\nWith --apply the previous values are first recorded in {}; the same command with "
        "--restore-slow-log --apply puts them back.\n",
        file);
  } else if (o.status == "planned") {
    out += fmt::format("\nWith --apply these values are set and {} is removed.\n", file);
  } else if (o.status == "applied") {
    out += fmt::format(
        "\nThe previous values are recorded in {}. Put them back with the same command, "
        "--restore-slow-log --apply instead of --enable-slow-log.\n",
        file);
  } else if (o.status == "restored") {
    out += fmt::format("\nRemoved {}.\n", file);
  }
  return out;
}

nlohmann::json RenderJson(const Outcome& o, const collect::TargetSession& target) {
  const auto& info = target.session->info();
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : o.plan.changes) {
    changes.push_back({{"variable", c.variable},
                       {"current", c.current},
                       {"value", c.value},
                       {"statement", c.statement}});
  }
  nlohmann::json read_back = nullptr;
  if (!o.read_back.empty()) {
    read_back = nlohmann::json::object();
    for (const auto& [name, value] : o.read_back) read_back[name] = value;
  }
  return {
      {"schema", kActionSchema},
      {"schema_version", kSchemaVersion},
      {"target", info.target_name},
      {"endpoint", info.endpoint},
      {"server",
       {{"version", info.server_version}, {"flavor", report::FlavorJson(target.flavor())}}},
      {"action", ActionName(o.kind)},
      {"apply", o.apply},
      {"status", o.status},
      {"exit_code", o.exit_code},
      {"changes", changes},
      {"read_back", read_back},
      {"required_grant", o.grant.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.grant)},
      {"notes", o.plan.notes},
      {"state_file", o.state_file.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.state_file)},
      {"error", o.error ? report::ErrorJson(*o.error) : nlohmann::json(nullptr)},
  };
}

// JSON: the whole outcome on stdout. Text: the plan or result on stdout (nothing for a
// refusal), the error on stderr.
int Finish(Env& env, const collect::TargetSession& target, Outcome& o, report::Format format) {
  if (format == report::Format::kJson) {
    env.out << report::ToJsonText(RenderJson(o, target)) << "\n";
  } else if (o.status != "refused") {
    env.out << RenderText(o, target);
  }
  if (o.error) {
    env.err << "dbrunbook investigate: " << core::SanitizeForTerminal(o.error->ToString()) << "\n";
  }
  return o.exit_code;
}

int Refuse(Env& env, const collect::TargetSession& target, Outcome& o, report::Format format,
           core::Error error) {
  o.status = "refused";
  o.plan.changes.clear();
  o.plan.notes.clear();
  o.error = std::move(error);
  o.exit_code = kSlowLogRefused;
  return Finish(env, target, o, format);
}

// The error for a statement the server refused, with the GRANT when it is a privilege.
core::Error StatementError(collect::TargetSession& target, const core::Error& error,
                           std::string_view what) {
  core::Error e = error;
  e.message = fmt::format("{}: {}", what, error.message);
  if (error.code == core::ErrorCode::kPrivilege) {
    const std::string account = collect::QuotedAccount(target);
    e.hint = fmt::format(
        "the account {} may not change global variables: {}; or run this with an "
        "administrative account (e.g. --defaults-file with its [client] settings)",
        account, steps::GrantSetGlobalVariables(target.flavor(), account));
  }
  return e;
}

void ReadBack(collect::TargetSession& target, Outcome& o,
              const std::vector<std::pair<std::string, std::string>>& variables,
              std::optional<SlowLogState>& after) {
  auto state = steps::ReadSlowLogState(target);
  if (!state) return;
  after = *state;
  for (const auto& [name, value] : variables) {
    o.read_back.emplace_back(name, CurrentValue(*state, name));
  }
}

int Enable(Env& env, collect::TargetSession& target, const SlowLogActionOptions& options,
           report::Format format, Outcome& o, const core::Result<std::string>& state_dir,
           const SlowLogState& now) {
  const std::string dir = state_dir.value_or("");
  o.plan = PlanEnableSlowLog(target.dialect, now, options.seconds);
  if (o.plan.refusal) return Refuse(env, target, o, format, *o.plan.refusal);

  if (!dir.empty()) {
    if (auto found = FindRecord(dir, o.state_file, target)) {
      if (!found->record) {
        return Refuse(env, target, o, format,
                      Refusal(core::ErrorCode::kInvalidArgument,
                              fmt::format("{} exists but is not a dbrunbook state file: {}",
                                          found->path, found->record.error().message),
                              "look at it, and remove it if it is stale"));
      }
      const SlowLogRecord& r = *found->record;
      if (!SameServer(r, target)) {
        return Refuse(env, target, o, format,
                      Refusal(core::ErrorCode::kInvalidArgument,
                              fmt::format("{} records slow log changes on another server, {} "
                                          "(target '{}', {})",
                                          found->path, ServerText(r), r.target, r.recorded_at),
                              "restore them on that server first, or remove the file if they "
                              "no longer matter"));
      }
      std::string previous;
      for (const auto& [name, value] : r.previous) {
        previous += fmt::format("{}{}={}", previous.empty() ? "" : ", ", name, value);
      }
      return Refuse(
          env, target, o, format,
          Refusal(core::ErrorCode::kInvalidArgument,
                  fmt::format("dbrunbook already changed the slow log on this server at {} "
                              "(target '{}'); {} keeps the values from before: {}",
                              r.recorded_at, r.target, found->path, previous),
                  "restore them first (--restore-slow-log --apply), then enable again; a second "
                  "enable would record dbrunbook's own values as the ones to go back to"));
    }
  }
  if (o.plan.changes.empty()) {
    o.status = "nothing_to_change";
    o.plan.notes.insert(o.plan.notes.begin(),
                        fmt::format("the slow log is already on with long_query_time {}: no "
                                    "state file is written, there is nothing to restore",
                                    now.long_query_time_text));
    return Finish(env, target, o, format);
  }
  if (!options.apply) {
    o.status = "planned";
    return Finish(env, target, o, format);
  }
  if (!state_dir) return Refuse(env, target, o, format, state_dir.error());

  SlowLogRecord record;
  const auto& info = target.session->info();
  record.target = info.target_name;
  record.endpoint = info.endpoint;
  record.server_hostname = VariableOr(target, "hostname");
  record.server_port = VariableOr(target, "port");
  record.server_id = VariableOr(target, "server_id");
  record.server_version = info.server_version;
  record.recorded_at = core::FormatRfc3339(env.clock.WallNow());
  record.previous.emplace_back(kSlowQueryLog, now.enabled_text);
  record.previous.emplace_back(kLongQueryTime, now.long_query_time_text);
  for (const auto& c : o.plan.changes) {
    if (c.variable != kSlowQueryLog && c.variable != kLongQueryTime) {
      record.previous.emplace_back(c.variable, c.current);
    }
    record.applied.emplace_back(c.variable, c.value);
  }
  if (auto written = WriteStateFile(dir, o.state_file, SlowLogRecordJson(record)); !written) {
    return Refuse(env, target, o, format,
                  Refusal(core::ErrorCode::kIo,
                          fmt::format("nothing was changed: the previous values could not be "
                                      "recorded ({})",
                                      written.error().message)));
  }

  for (size_t i = 0; i < o.plan.changes.size(); ++i) {
    auto result = target.session->Query(o.plan.changes[i].statement);
    if (result) continue;
    core::Error error = StatementError(target, result.error(), "cannot enable the slow query log");
    // Put back what was already set, newest first.
    std::vector<std::string> not_undone;
    for (size_t j = i; j-- > 0;) {
      const SlowLogChange& c = o.plan.changes[j];
      if (!target.session->Query(SetStatement(target.dialect, c.variable, c.current))) {
        not_undone.push_back(c.variable);
      }
    }
    std::error_code ec;
    if (not_undone.empty()) {
      fs::remove(o.state_file, ec);
      error.message += i == 0 ? "; nothing was changed" : "; the changes already made were undone";
    } else {
      error.message += fmt::format(
          "; {} could not be set back: {} keeps the previous values (run --restore-slow-log "
          "--apply once the cause is fixed)",
          fmt::join(not_undone, ", "), o.state_file);
    }
    o.status = "failed";
    o.error = std::move(error);
    o.exit_code = kSlowLogFailed;
    o.plan.changes.resize(i);  // what is shown as run
    return Finish(env, target, o, format);
  }

  std::optional<SlowLogState> after;
  ReadBack(target, o, record.applied, after);
  o.status = "applied";
  for (const auto& c : o.plan.changes) {
    const std::string* back = Find(o.read_back, c.variable);
    if (back == nullptr || !SameValue(c.variable, *back, c.value)) {
      o.status = "failed";
      o.exit_code = kSlowLogFailed;
      o.error = Refusal(core::ErrorCode::kServerError,
                        fmt::format("{} reads back as '{}' after setting it to {}", c.variable,
                                    back != nullptr ? *back : "?", c.value),
                        fmt::format("{} keeps the previous values: --restore-slow-log --apply "
                                    "puts them back",
                                    o.state_file));
      break;
    }
  }
  return Finish(env, target, o, format);
}

int Restore(Env& env, collect::TargetSession& target, const SlowLogActionOptions& options,
            report::Format format, Outcome& o, const core::Result<std::string>& state_dir,
            const SlowLogState& now) {
  if (!state_dir) return Refuse(env, target, o, format, state_dir.error());
  const std::string& dir = *state_dir;
  if (dialect::SlowLogUsesParameterGroups(target.flavor())) {
    return Refuse(
        env, target, o, format,
        Refusal(core::ErrorCode::kUnsupported,
                fmt::format("dbrunbook does not change the slow log on {}: it is set in "
                            "the parameter group, so there is nothing to restore here",
                            target.flavor().Name()),
                steps::ParameterGroupAdvice(target.flavor(), steps::kRunbookLongQueryTime)));
  }
  std::optional<FoundRecord> found = FindRecord(dir, o.state_file, target);
  if (!found) {
    return Refuse(env, target, o, format,
                  Refusal(core::ErrorCode::kNotFound,
                          fmt::format("nothing to restore: no state file {} (nor any other in {} "
                                      "recorded on this server)",
                                      o.state_file, dir),
                          "dbrunbook records the previous values when --enable-slow-log --apply "
                          "changes them"));
  }
  if (!found->record) {
    return Refuse(env, target, o, format,
                  Refusal(core::ErrorCode::kParse, found->record.error().message,
                          "restore by hand (SET GLOBAL slow_query_log / long_query_time) and "
                          "remove the file"));
  }
  const SlowLogRecord& record = *found->record;
  o.state_file = found->path;
  if (!SameServer(record, target)) {
    return Refuse(
        env, target, o, format,
        Refusal(core::ErrorCode::kInvalidArgument,
                fmt::format("{} was recorded on another server, {}, not on this one "
                            "({}:{}, server_id {})",
                            found->path, ServerText(record), VariableOr(target, "hostname"),
                            VariableOr(target, "port"), VariableOr(target, "server_id")),
                "restore through a target that reaches that server"));
  }
  o.plan = PlanRestoreSlowLog(target.dialect, now, record);
  if (o.plan.refusal) return Refuse(env, target, o, format, *o.plan.refusal);
  o.plan.notes.insert(o.plan.notes.begin(),
                      fmt::format("previous values recorded at {} by target '{}' in {}",
                                  record.recorded_at, record.target, found->path));
  if (!options.apply) {
    o.status = o.plan.changes.empty() ? "nothing_to_change" : "planned";
    if (o.plan.changes.empty()) {
      o.plan.notes.push_back(
          "the server already has the recorded values; --apply removes the "
          "state file");
    }
    return Finish(env, target, o, format);
  }

  for (size_t i = 0; i < o.plan.changes.size(); ++i) {
    auto result = target.session->Query(o.plan.changes[i].statement);
    if (result) continue;
    core::Error error = StatementError(target, result.error(), "cannot restore the slow query log");
    error.message += fmt::format("; {} keeps the values to restore{}", found->path,
                                 i == 0 ? " (nothing was changed)" : " (restored in part)");
    o.status = "failed";
    o.error = std::move(error);
    o.exit_code = kSlowLogFailed;
    o.plan.changes.resize(i);
    return Finish(env, target, o, format);
  }
  std::optional<SlowLogState> after;
  ReadBack(target, o, record.previous, after);
  for (const auto& [name, value] : record.previous) {
    const std::string* back = Find(o.read_back, name);
    if (back == nullptr || !SameValue(name, *back, value)) {
      o.status = "failed";
      o.exit_code = kSlowLogFailed;
      o.error =
          Refusal(core::ErrorCode::kServerError,
                  fmt::format("{} reads back as '{}', not the recorded '{}'", name,
                              back != nullptr ? *back : "?", value),
                  fmt::format("{} is kept; run --restore-slow-log --apply again", found->path));
      return Finish(env, target, o, format);
    }
  }
  std::error_code ec;
  fs::remove(found->path, ec);
  if (ec) {
    o.status = "failed";
    o.exit_code = kSlowLogFailed;
    o.error = Refusal(core::ErrorCode::kIo,
                      fmt::format("the values are restored, but {} could not be removed: {}",
                                  found->path, ec.message()),
                      "remove it by hand");
    return Finish(env, target, o, format);
  }
  o.status = "restored";
  return Finish(env, target, o, format);
}

}  // namespace

std::string SlowLogRecordJson(const SlowLogRecord& r) {
  nlohmann::ordered_json previous = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.previous) previous[name] = value;
  nlohmann::ordered_json applied = nlohmann::ordered_json::object();
  for (const auto& [name, value] : r.applied) applied[name] = value;
  nlohmann::ordered_json doc = {
      {"schema", kStateSchema},
      {"schema_version", kSchemaVersion},
      {"target", r.target},
      {"endpoint", r.endpoint},
      {"server",
       {{"hostname", r.server_hostname},
        {"port", r.server_port},
        {"server_id", r.server_id},
        {"version", r.server_version}}},
      {"recorded_at", r.recorded_at},
      {"previous", previous},
      {"applied", applied},
  };
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

core::Result<SlowLogRecord> ParseSlowLogRecord(std::string_view text, std::string_view origin) {
  auto fail = [&](std::string_view why) {
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("{}: not a dbrunbook slow log state file ({})", origin, why));
  };
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail("invalid JSON");
  if (doc.value("schema", "") != kStateSchema) return fail("schema");
  if (!doc.contains("schema_version") || !doc["schema_version"].is_number_integer() ||
      doc["schema_version"].get<int>() != kSchemaVersion) {
    return fail("schema_version");
  }
  auto text_of = [](const nlohmann::ordered_json& obj,
                    const char* key) -> std::optional<std::string> {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return std::nullopt;
    return obj[key].get<std::string>();
  };
  SlowLogRecord r;
  const auto& server = doc.contains("server") ? doc["server"] : nlohmann::ordered_json();
  auto target = text_of(doc, "target");
  auto endpoint = text_of(doc, "endpoint");
  auto recorded_at = text_of(doc, "recorded_at");
  auto hostname = text_of(server, "hostname");
  auto port = text_of(server, "port");
  auto server_id = text_of(server, "server_id");
  if (!target || !recorded_at || !hostname || !port || !server_id) return fail("missing fields");
  r.target = *target;
  r.endpoint = endpoint.value_or("");
  r.recorded_at = *recorded_at;
  r.server_hostname = *hostname;
  r.server_port = *port;
  r.server_id = *server_id;
  r.server_version = text_of(server, "version").value_or("");
  for (const char* key : {"previous", "applied"}) {
    if (!doc.contains(key) || !doc[key].is_object()) return fail(key);
    auto& out = std::string_view(key) == "previous" ? r.previous : r.applied;
    for (const auto& [name, value] : doc[key].items()) {
      if (!value.is_string()) return fail(fmt::format("{}.{}", key, name));
      out.emplace_back(name, value.get<std::string>());
    }
  }
  if (r.previous.empty()) return fail("no previous values");
  return r;
}

SlowLogPlan PlanEnableSlowLog(const dialect::Dialect& d, const SlowLogState& now, double seconds) {
  SlowLogPlan plan;
  plan.kind = SlowLogActionKind::kEnable;
  const dialect::Flavor& flavor = d.flavor();
  if (dialect::SlowLogUsesParameterGroups(flavor)) {
    plan.refusal = Refusal(
        core::ErrorCode::kUnsupported,
        fmt::format("dbrunbook cannot turn the slow log on with SET GLOBAL on {}", flavor.Name()),
        steps::ParameterGroupAdvice(flavor, seconds));
    return plan;
  }
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > kLongQueryTimeMax) {
    plan.refusal = Refusal(core::ErrorCode::kInvalidArgument,
                           fmt::format("--enable-slow-log: {} is not a threshold in seconds "
                                       "above 0 and up to 31536000",
                                       seconds),
                           "0 would log every statement; the runbook uses 2");
    return plan;
  }
  if (!now.enabled) {
    plan.refusal = Refusal(core::ErrorCode::kUnsupported,
                           "the server did not report slow_query_log: dbrunbook cannot tell "
                           "what it would change");
    return plan;
  }
  plan.changes = steps::EnableChanges(d, now, seconds);
  for (const auto& c : plan.changes) {
    if (c.variable != kLongQueryTime) continue;
    plan.notes.push_back(
        "long_query_time applies to connections opened after the change: existing connections "
        "(a pool's) keep their own value until they reconnect");
  }
  if (now.writes_file() || now.writes_nowhere()) {
    plan.notes.push_back(fmt::format("the log is written to {}",
                                     now.file.empty() ? "the server's slow log file" : now.file));
  }
  if (now.writes_table()) {
    plan.notes.push_back(now.writes_file()
                             ? "log_output includes TABLE: the log is also the table mysql.slow_log"
                             : "log_output is TABLE: the log is the table mysql.slow_log");
  }
  if (now.min_examined_row_limit && *now.min_examined_row_limit > 0) {
    plan.notes.push_back(
        fmt::format("min_examined_row_limit = {}: statements examining fewer "
                    "rows are not logged",
                    *now.min_examined_row_limit));
  }
  if (now.rate_limit && *now.rate_limit > 1) {
    plan.notes.push_back(fmt::format("log_slow_rate_limit = {}: only one statement in {} is logged",
                                     *now.rate_limit, *now.rate_limit));
  }
  if (seconds < kLowThresholdSeconds) {
    plan.notes.push_back("a threshold this low can write a lot of log on a busy server");
  }
  if (!plan.changes.empty()) {
    plan.notes.push_back(
        "SET GLOBAL lasts until the server restarts; the configuration file keeps its values");
  }
  return plan;
}

SlowLogPlan PlanRestoreSlowLog(const dialect::Dialect& d, const SlowLogState& now,
                               const SlowLogRecord& record) {
  SlowLogPlan plan;
  plan.kind = SlowLogActionKind::kRestore;
  if (dialect::SlowLogUsesParameterGroups(d.flavor())) {
    plan.refusal =
        Refusal(core::ErrorCode::kUnsupported,
                fmt::format("the slow log of {} is set in its parameter group", d.flavor().Name()));
    return plan;
  }
  for (const auto& [name, value] : record.previous) {
    if (std::find(std::begin(kRestoreOrder), std::end(kRestoreOrder), name) ==
            std::end(kRestoreOrder) ||
        SetStatement(d, name, value).empty()) {
      plan.refusal = Refusal(core::ErrorCode::kParse,
                             fmt::format("the state file holds '{}' = '{}', which dbrunbook does "
                                         "not write: it will not run it",
                                         name, value));
      return plan;
    }
  }
  for (std::string_view name : kRestoreOrder) {
    const std::string* previous = Find(record.previous, name);
    if (previous == nullptr) continue;
    const std::string current = CurrentValue(now, name);
    const std::string* applied = Find(record.applied, name);
    if (applied != nullptr && !SameValue(name, current, *applied) &&
        !SameValue(name, current, *previous)) {
      plan.notes.push_back(
          fmt::format("{} was changed since dbrunbook set it to {} (now {}): "
                      "it is set back to {} anyway",
                      name, *applied, current, *previous));
    }
    if (SameValue(name, current, *previous)) continue;
    plan.changes.push_back(
        {std::string(name), current, *previous, SetStatement(d, name, *previous)});
  }
  return plan;
}

core::Result<std::string> SlowLogStateDir(const core::Environment& environment) {
  if (auto xdg = environment.Get("XDG_STATE_HOME"); xdg && xdg->starts_with("/")) {
    return *xdg + "/dbrunbook";
  }
  if (auto home = environment.Get("HOME"); home && !home->empty()) {
    return *home + "/.local/state/dbrunbook";
  }
  return core::MakeError(core::ErrorCode::kInvalidConfig,
                         "cannot place the slow log state file: neither XDG_STATE_HOME nor HOME "
                         "is set",
                         "set HOME (or XDG_STATE_HOME to an absolute path)");
}

std::string SlowLogStateFileName(std::string_view target) {
  const bool safe = !target.empty() && target.size() <= 64 && target.front() != '.' &&
                    std::all_of(target.begin(), target.end(), SafeNameChar);
  if (safe) return fmt::format("slow-log-{}.json", target);
  std::string cleaned;
  for (char c : target) {
    if (cleaned.size() >= 48) break;
    const char mapped = SafeNameChar(c) ? c : '_';
    if (mapped == '_' && !cleaned.empty() && cleaned.back() == '_') continue;
    cleaned += mapped;
  }
  while (!cleaned.empty() && (cleaned.front() == '.' || cleaned.front() == '_'))
    cleaned.erase(0, 1);
  return fmt::format("slow-log-{}{}{:016x}.json", cleaned, cleaned.empty() ? "" : "-",
                     Fnv1a64(target));
}

int RunSlowLogAction(Env& env, collect::TargetSession& target, const SlowLogActionOptions& options,
                     report::Format format) {
  Outcome o;
  o.kind = options.kind;
  o.apply = options.apply;
  o.grant = steps::SetGlobalPrivilege(target.flavor());
  const core::Result<std::string> dir = SlowLogStateDir(env.environment);
  if (dir) o.state_file = (fs::path(*dir) / SlowLogStateFileName(target.target_name())).string();

  auto now = steps::ReadSlowLogState(target);
  if (!now) {
    o.status = "failed";
    o.error = now.error();
    o.exit_code = kSlowLogFailed;
    return Finish(env, target, o, format);
  }
  if (options.kind == SlowLogActionKind::kEnable) {
    return Enable(env, target, options, format, o, dir, *now);
  }
  return Restore(env, target, options, format, o, dir, *now);
}

}  // namespace dbrunbook::app
