#include "steps/assess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "collect/activity.h"
#include "collect/status.h"
#include "core/duration.h"
#include "core/text.h"

namespace dbrunbook::steps {
namespace {

using collect::StatusSample;

constexpr Threshold Above(double warn, double critical) {
  return Threshold{warn, critical, Direction::kAbove};
}

// The runbook's defaults: slow queries > 5 s, long runners > 60 s, replication lag > 60 s.
const std::vector<CheckSpec>& Specs() {
  static const std::vector<CheckSpec> kSpecs = {
      {"connect_latency_ms", "Connect + authenticate", "ms", Above(200, 1000),
       "time to open a connection and authenticate (TCP/socket + TLS + auth)"},
      {"uptime_seconds", "Uptime", "s", Threshold{600, std::nullopt, Direction::kBelow},
       "time since the server started; a recent restart is worth knowing"},
      {"read_only", "Read-only", "", Threshold{},
       "read_only/super_read_only against the expected role (replicas read-only, primaries not)"},
      {"connections_used_ratio", "Connections in use", "ratio", Above(0.75, 0.90),
       "Threads_connected / max_connections"},
      {"peak_connections_ratio", "Peak connections since start", "ratio", Above(0.90, 1.0),
       "Max_used_connections / max_connections"},
      {"threads_running", "Threads running", "", Above(20, 50),
       "statements executing right now (Threads_running)"},
      {"aborted_connects_per_sec", "Aborted connects", "/s", Above(1, 10),
       "failed connection attempts per second (Aborted_connects)"},
      {"connection_errors_per_sec", "Connection errors", "/s", Above(0.1, 1),
       "sum of Connection_errors_* per second (max_connections, accept, internal ...)"},
      {"queries_per_sec", "Queries", "/s", Threshold{}, "statements per second (Questions)"},
      {"slow_queries_per_sec", "Slow queries", "/s", Above(1, 10),
       "statements slower than long_query_time per second (Slow_queries)"},
      {"tmp_disk_tables_per_sec", "Temporary tables on disk", "/s", Above(5, 50),
       "implicit temporary tables created on disk per second (Created_tmp_disk_tables)"},
      {"row_lock_waits_per_sec", "InnoDB row-lock waits", "/s", Above(1, 10),
       "row-lock waits per second (Innodb_row_lock_waits)"},
      {"buffer_pool_hit_ratio", "Buffer pool hit ratio", "ratio",
       Threshold{0.99, 0.95, Direction::kBelow},
       "logical reads served from memory during the interval"},
      {"buffer_pool_free_ratio", "Buffer pool free pages", "ratio", Threshold{},
       "free pages / total pages in the InnoDB buffer pool"},
      {"history_list_length", "History list length", "", Above(100000, 1000000),
       "undo records not yet purged; grows behind long transactions"},
      {"longest_query_seconds", "Longest running query", "s", Above(5, 60),
       "the longest statement executing now (runbook: slow > 5 s, long-running > 60 s)"},
      {"longest_transaction_seconds", "Longest open transaction", "s", Above(60, 300),
       "the oldest open InnoDB transaction, idle or not"},
      {"replication_role", "Replication role", "", Threshold{},
       "primary / replica / standalone, against the configured role"},
      {"replicas_connected", "Replicas connected", "", Threshold{},
       "replicas streaming the binary log from this server, against the configured replicas"},
      {"replication_io_thread", "Replica IO thread", "", Threshold{},
       "the replica's connection to its source"},
      {"replication_sql_thread", "Replica SQL thread", "", Threshold{}, "the replica's applier"},
      {"replication_lag_seconds", "Replication lag", "s", Above(60, 300),
       "Seconds_Behind_Master / Seconds_Behind_Source (runbook: > 60 s)"},
      // The cloud's view (targets with a cloud: section; app/cloud_checks.h). Metrics are over
      // the last 15 minutes of CloudWatch.
      {"cloud_instance_status", "Cloud instance status", "", Threshold{},
       "RDS DBInstanceStatus: available ok; modifying, backing-up ... warn; rebooting, failed, "
       "storage-full, stopped ... critical"},
      {"cloud_cluster_status", "Cloud cluster status", "", Threshold{},
       "Aurora cluster status and its writer, leveled like the instance status"},
      {"cloud_replicas", "Cloud replicas", "", Threshold{},
       "read replicas (or cluster readers) available, of those RDS lists"},
      {"cloud_pending_changes", "Cloud pending changes", "", Threshold{},
       "modifications RDS will apply at the next maintenance window or reboot"},
      {"cloud_cpu_percent", "Cloud CPU (15 min avg)", "%", Above(70, 90),
       "CloudWatch CPUUtilization, average over the last 15 minutes (min and max shown)"},
      {"cloud_freeable_memory_bytes", "Cloud freeable memory (15 min min)", "bytes",
       Threshold{512.0 * 1024 * 1024, 128.0 * 1024 * 1024, Direction::kBelow},
       "CloudWatch FreeableMemory, lowest over the last 15 minutes"},
      {"cloud_connections", "Cloud connections (15 min max)", "", Threshold{},
       "CloudWatch DatabaseConnections, highest over the last 15 minutes"},
      {"cloud_read_iops", "Cloud read IOPS (15 min avg)", "/s", Threshold{},
       "CloudWatch ReadIOPS, average over the last 15 minutes"},
      {"cloud_write_iops", "Cloud write IOPS (15 min avg)", "/s", Threshold{},
       "CloudWatch WriteIOPS, average over the last 15 minutes"},
      {"cloud_replica_lag_seconds", "Cloud replica lag (15 min max)", "s", Above(60, 300),
       "CloudWatch ReplicaLag (RDS replica) or AuroraReplicaLag (Aurora reader), highest over "
       "the last 15 minutes (runbook: > 60 s)"},
  };
  return kSpecs;
}

std::string Percent(double ratio) { return fmt::format("{:.1f}%", ratio * 100); }

// Per-second rates with as many decimals as they deserve: 0.25/s, 12.5/s, 19969/s.
std::string PerSecond(double rate) {
  if (rate >= 100) return fmt::format("{:.0f}/s", rate);
  if (rate >= 10) return fmt::format("{:.1f}/s", rate);
  return fmt::format("{:.2f}/s", rate);
}

std::string Number(double value) {
  if (std::fabs(value - std::round(value)) < 1e-9 && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(std::round(value)));
  }
  return fmt::format("{:.2f}", value);
}

class Builder {
 public:
  Builder(const AssessOptions& options) : options_(options) {}

  Check& Add(std::string_view id) {
    const CheckSpec* spec = FindAssessCheck(id);
    Check check;
    check.id = std::string(id);
    if (spec != nullptr) {
      check.title = std::string(spec->title);
      check.unit = std::string(spec->unit);
      check.threshold = spec->defaults;
      if (auto it = options_.thresholds.find(check.id); it != options_.thresholds.end()) {
        if (it->second.warn) check.threshold.warn = it->second.warn;
        if (it->second.critical) check.threshold.critical = it->second.critical;
      }
    }
    checks_.push_back(std::move(check));
    return checks_.back();
  }

  // A check with a numeric value judged by its thresholds.
  Check& Measured(std::string_view id, double value, std::string display, std::string detail = {}) {
    Check& check = Add(id);
    check.value = value;
    check.display = std::move(display);
    check.detail = std::move(detail);
    check.level = check.threshold.Evaluate(value);
    return check;
  }

  Check& Unknown(std::string_view id, std::string reason) {
    Check& check = Add(id);
    check.level = Level::kUnknown;
    check.display = "unknown";
    check.detail = std::move(reason);
    return check;
  }

  // A check whose level the caller decides (states rather than numbers).
  Check& Judged(std::string_view id, Level level, std::string display, std::string detail = {}) {
    Check& check = Add(id);
    check.level = level;
    check.display = std::move(display);
    check.detail = std::move(detail);
    return check;
  }

  void Append(Check check) { checks_.push_back(std::move(check)); }

  std::vector<Check> Take() { return std::move(checks_); }

 private:
  const AssessOptions& options_;
  std::vector<Check> checks_;
};

std::optional<double> Variable(const collect::TargetSession& target, std::string_view name) {
  auto it = target.variables.find(name);
  if (it == target.variables.end()) return std::nullopt;
  return core::ParseDouble(it->second);
}

std::optional<bool> BoolVariable(const collect::TargetSession& target, std::string_view name) {
  auto it = target.variables.find(name);
  if (it == target.variables.end()) return std::nullopt;
  return core::ParseBool(it->second);
}

void RateCheck(Builder& b, std::string_view id, const StatusSample& s1, const StatusSample& s2,
               std::string_view counter) {
  auto rate = collect::Rate(s1, s2, counter);
  if (!rate) {
    b.Unknown(id, fmt::format("{} not available or reset during the interval", counter));
    return;
  }
  auto delta = collect::Delta(s1, s2, counter);
  b.Measured(id, *rate, PerSecond(*rate),
             fmt::format("{} {} in {}", Number(delta.value_or(0)), counter,
                         core::FormatSeconds(core::ToSeconds(s2.taken - s1.taken))));
}

// Questions counts our own second SHOW GLOBAL STATUS too: subtract what we sent.
void QueriesCheck(Builder& b, const StatusSample& s1, const StatusSample& s2,
                  uint64_t own_statements) {
  auto delta = collect::Delta(s1, s2, "Questions");
  const double seconds = core::ToSeconds(s2.taken - s1.taken);
  if (!delta || seconds <= 0) {
    b.Unknown("queries_per_sec", "Questions not available or reset during the interval");
    return;
  }
  const double others = std::max(0.0, *delta - static_cast<double>(own_statements));
  b.Measured("queries_per_sec", others / seconds, PerSecond(others / seconds),
             fmt::format("{} Questions in {} (not counting dbrunbook's own {})", Number(others),
                         core::FormatSeconds(seconds), own_statements));
}

void ConnectionChecks(Builder& b, const collect::TargetSession& target, const StatusSample& s1,
                      const StatusSample& s2) {
  const auto max_connections = Variable(target, "max_connections");
  const auto connected = s2.Get("Threads_connected");
  if (max_connections && *max_connections > 0 && connected) {
    const double ratio = *connected / *max_connections;
    b.Measured(
        "connections_used_ratio", ratio,
        fmt::format("{} of {} ({})", Number(*connected), Number(*max_connections), Percent(ratio)));
  } else {
    b.Unknown("connections_used_ratio", "Threads_connected or max_connections not available");
  }
  const auto peak = s2.Get("Max_used_connections");
  if (max_connections && *max_connections > 0 && peak) {
    const double ratio = *peak / *max_connections;
    std::string detail;
    if (auto it = s2.values.find("Max_used_connections_time"); it != s2.values.end()) {
      detail = fmt::format("peak reached at {}", it->second);
    }
    b.Measured(
        "peak_connections_ratio", ratio,
        fmt::format("{} of {} ({})", Number(*peak), Number(*max_connections), Percent(ratio)),
        detail);
  } else {
    b.Unknown("peak_connections_ratio", "Max_used_connections or max_connections not available");
  }
  if (auto running = s2.Get("Threads_running")) {
    b.Measured("threads_running", *running, Number(*running));
  } else {
    b.Unknown("threads_running", "Threads_running not available");
  }
  RateCheck(b, "aborted_connects_per_sec", s1, s2, "Aborted_connects");

  // Connection_errors_* exist on MySQL 5.6+ and MariaDB 10.0.4+.
  double total = 0;
  bool any = false;
  std::vector<std::string> moved;
  for (const auto& [name, value] : s2.values) {
    if (!core::StartsWithIgnoreCase(name, "Connection_errors_")) continue;
    any = true;
    if (auto delta = collect::Delta(s1, s2, name); delta && *delta > 0) {
      total += *delta;
      moved.push_back(fmt::format("{} +{}", name, Number(*delta)));
    }
  }
  const double seconds = core::ToSeconds(s2.taken - s1.taken);
  if (any && seconds > 0) {
    std::string detail = moved.empty() ? "no Connection_errors_* counter moved" : "";
    for (const auto& m : moved) detail += (detail.empty() ? "" : ", ") + m;
    b.Measured("connection_errors_per_sec", total / seconds, PerSecond(total / seconds), detail);
  } else {
    b.Unknown("connection_errors_per_sec", "Connection_errors_* counters not available");
  }
}

void BufferPoolChecks(Builder& b, const StatusSample& s1, const StatusSample& s2) {
  const auto requests = collect::Delta(s1, s2, "Innodb_buffer_pool_read_requests");
  const auto disk_reads = collect::Delta(s1, s2, "Innodb_buffer_pool_reads");
  if (requests && disk_reads) {
    if (*requests > 0) {
      const double ratio = std::max(0.0, 1.0 - *disk_reads / *requests);
      b.Measured(
          "buffer_pool_hit_ratio", ratio, Percent(ratio),
          fmt::format("{} logical reads, {} from disk", Number(*requests), Number(*disk_reads)));
    } else {
      b.Judged("buffer_pool_hit_ratio", Level::kOk, "idle", "no logical reads in the interval");
    }
  } else {
    b.Unknown("buffer_pool_hit_ratio", "Innodb_buffer_pool_read* counters not available");
  }
  const auto free_pages = s2.Get("Innodb_buffer_pool_pages_free");
  const auto total_pages = s2.Get("Innodb_buffer_pool_pages_total");
  if (free_pages && total_pages && *total_pages > 0) {
    const double ratio = *free_pages / *total_pages;
    b.Measured("buffer_pool_free_ratio", ratio,
               fmt::format("{} of {} pages free ({})", Number(*free_pages), Number(*total_pages),
                           Percent(ratio)));
  } else {
    b.Unknown("buffer_pool_free_ratio", "Innodb_buffer_pool_pages_* not available");
  }
}

void UptimeCheck(Builder& b, const StatusSample& s2) {
  if (auto uptime = s2.Get("Uptime")) {
    b.Measured("uptime_seconds", *uptime, core::FormatSeconds(*uptime),
               *uptime < 600 ? "the server restarted recently" : "");
  } else {
    b.Unknown("uptime_seconds", "Uptime not available");
  }
}

void QueryChecks(Builder& b, collect::TargetSession& target) {
  auto statements = collect::ReadActiveStatements(target, 10);
  if (!statements) {
    b.Unknown("longest_query_seconds", statements.error().ToString());
    return;
  }
  if (statements->empty()) {
    b.Measured("longest_query_seconds", 0, "none running");
    return;
  }
  const auto& top = statements->front();
  Check& check =
      b.Measured("longest_query_seconds", top.time_seconds, core::FormatSeconds(top.time_seconds));
  std::string detail = fmt::format("id {} {}@{}", top.id, top.user, top.host);
  if (!top.db.empty()) detail += fmt::format(" db={}", top.db);
  if (!top.state.empty()) detail += fmt::format(" state='{}'", top.state);
  if (top.progress && *top.progress > 0) detail += fmt::format(" progress={:.1f}%", *top.progress);
  if (top.info) detail += ": " + core::OneLine(*top.info, 120);
  if (check.threshold.warn) {
    const auto over = std::count_if(statements->begin(), statements->end(), [&](const auto& s) {
      return s.time_seconds >= *check.threshold.warn;
    });
    if (over > 1) {
      detail +=
          fmt::format(" ({}{} statements running >= {})", over, statements->size() >= 10 ? "+" : "",
                      core::FormatSeconds(*check.threshold.warn));
    }
  }
  check.detail = std::move(detail);
}

void TransactionCheck(Builder& b, collect::TargetSession& target) {
  auto transactions = collect::ReadOldestTransactions(target, 1);
  if (!transactions) {
    b.Unknown("longest_transaction_seconds", transactions.error().ToString());
    return;
  }
  if (transactions->empty()) {
    b.Measured("longest_transaction_seconds", 0, "none open");
    return;
  }
  const auto& t = transactions->front();
  std::string activity;
  if (t.idle_in_transaction()) {
    activity = "idle in transaction";
  } else if (!t.query && !t.command.empty()) {
    activity = fmt::format("between statements ({})", t.command);  // e.g. a replication applier
  } else {
    activity = fmt::format("state {}", t.state);
  }
  b.Measured("longest_transaction_seconds", t.age_seconds, core::FormatSeconds(t.age_seconds),
             fmt::format("{} on connection {}{}, {}, {} rows locked, {} modified{}",
                         // MariaDB shows read-only transactions with id 0.
                         t.trx_id.empty() || t.trx_id == "0" ? std::string("read-only trx")
                                                             : "trx " + t.trx_id,
                         t.thread_id, t.user.empty() ? std::string() : " (" + t.user + ")",
                         activity, t.rows_locked, t.rows_modified,
                         t.query ? ": " + core::OneLine(*t.query, 100) : std::string()));
}

void HistoryCheck(Builder& b, collect::TargetSession& target, const StatusSample& s2) {
  auto history = collect::ReadHistoryListLength(target, s2);
  if (!history) {
    b.Unknown("history_list_length", history.error().ToString());
  } else if (!history->has_value()) {
    b.Unknown("history_list_length",
              "not exposed by this server (no status variable and no "
              "INNODB_METRICS trx_rseg_history_len)");
  } else {
    const double value = static_cast<double>(**history);
    b.Measured("history_list_length", value, Number(value));
  }
}

Level ThreadLevel(collect::ThreadState state, int64_t last_errno) {
  switch (state) {
    case collect::ThreadState::kRunning:
      return Level::kOk;
    case collect::ThreadState::kConnecting:
      return Level::kCritical;
    case collect::ThreadState::kStopped:
      // Stopped with an error is a replication failure; stopped cleanly was probably an
      // operator (still worth a warning: lag grows from now on).
      return last_errno != 0 ? Level::kCritical : Level::kWarn;
    case collect::ThreadState::kUnknown:
      return Level::kUnknown;
  }
  return Level::kUnknown;
}

void ReplicationChecks(Builder& b, collect::TargetSession& target, const AssessOptions& options) {
  auto channels = collect::ReadReplicaStatus(target);
  auto replicas = collect::ReadConnectedReplicas(target);

  // Role.
  const bool is_replica = channels && !channels->empty();
  const int64_t connected = replicas ? *replicas : 0;
  std::string role;
  if (!channels) {
    role = "unknown";
  } else if (is_replica) {
    const auto& first = channels->front();
    role = fmt::format("replica of {}:{}", first.source_host, first.source_port.value_or(0));
    if (channels->size() > 1) role += fmt::format(" (+{} more channels)", channels->size() - 1);
  } else if (connected > 0) {
    role = "primary";
  } else {
    role = "standalone";
  }
  if (!channels) {
    b.Unknown("replication_role", channels.error().ToString());
  } else if (options.expected_role == ExpectedRole::kReplica && !is_replica) {
    b.Judged("replication_role", Level::kCritical, role,
             "configured as a replica (replica_of), but the server has no replication "
             "configured");
  } else if (options.expected_role == ExpectedRole::kPrimary && is_replica) {
    b.Judged("replication_role", Level::kWarn, role,
             "configured as a primary, but the server replicates from another server");
  } else {
    b.Judged("replication_role", Level::kOk, role);
  }

  // Replicas streaming from this server.
  if (!replicas) {
    b.Unknown("replicas_connected", replicas.error().ToString());
  } else if (options.expected_replicas > 0 || connected > 0) {
    Check& check = b.Judged(
        "replicas_connected", connected < options.expected_replicas ? Level::kWarn : Level::kOk,
        options.expected_replicas > 0
            ? fmt::format("{} of {} configured", connected, options.expected_replicas)
            : fmt::format("{}", connected),
        connected < options.expected_replicas ? "a configured replica is not connected" : "");
    check.value = static_cast<double>(connected);
  }

  // Read-only against the role.
  const auto read_only = BoolVariable(target, "read_only");
  const auto super_read_only = BoolVariable(target, "super_read_only");
  if (!read_only) {
    b.Unknown("read_only", "read_only not available");
  } else {
    std::string display = *read_only ? "ON" : "OFF";
    if (super_read_only && *super_read_only) display = "ON (super_read_only)";
    const bool acts_as_replica = is_replica || options.expected_role == ExpectedRole::kReplica;
    if (acts_as_replica && !*read_only) {
      b.Judged("read_only", Level::kWarn, display,
               "a replica that accepts writes can diverge from its source");
    } else if (!acts_as_replica && *read_only &&
               (connected > 0 || options.expected_role == ExpectedRole::kPrimary)) {
      b.Judged("read_only", Level::kCritical, display, "the primary refuses writes");
    } else {
      b.Judged("read_only", Level::kOk, display);
    }
  }

  if (!channels || !is_replica) return;
  for (const auto& ch : *channels) {
    const std::string label = ch.channel.empty() ? "" : fmt::format(" [{}]", ch.channel);
    Check& io = b.Judged("replication_io_thread", ThreadLevel(ch.io, ch.last_io_errno),
                         std::string(collect::ThreadStateName(ch.io)),
                         ch.last_io_errno != 0
                             ? fmt::format("error {}: {}", ch.last_io_errno, ch.last_io_error)
                             : ch.io_state);
    io.channel = ch.channel;
    Check& sql = b.Judged("replication_sql_thread", ThreadLevel(ch.sql, ch.last_sql_errno),
                          std::string(collect::ThreadStateName(ch.sql)),
                          ch.last_sql_errno != 0
                              ? fmt::format("error {}: {}", ch.last_sql_errno, ch.last_sql_error)
                              : ch.sql_state);
    sql.channel = ch.channel;
    if (ch.seconds_behind) {
      Check& lag = b.Measured(
          "replication_lag_seconds", static_cast<double>(*ch.seconds_behind),
          core::FormatSeconds(static_cast<double>(*ch.seconds_behind)),
          fmt::format("source {}:{}{}", ch.source_host, ch.source_port.value_or(0), label));
      lag.channel = ch.channel;
    } else if (ch.sql != collect::ThreadState::kRunning ||
               ch.io != collect::ThreadState::kRunning) {
      // No lag while a thread is down: the thread checks above carry the problem and its
      // level; counting it again as unknown would hide a known cause.
      Check& lag = b.Judged(
          "replication_lag_seconds",
          Worse(ThreadLevel(ch.io, ch.last_io_errno), ThreadLevel(ch.sql, ch.last_sql_errno)),
          "n/a",
          fmt::format("not measurable while the {} thread is not running{}",
                      ch.sql != collect::ThreadState::kRunning ? "SQL" : "IO", label));
      lag.channel = ch.channel;
    } else {
      Check& lag =
          b.Unknown("replication_lag_seconds", "Seconds_Behind is NULL although both threads run");
      lag.channel = ch.channel;
    }
  }
}

void AddSourceChecks(Builder& b, CheckSource& source, const AssessOptions& options) {
  for (auto& check : RunCheckSource(source, options)) b.Append(std::move(check));
}

}  // namespace

std::vector<Check> RunCheckSource(CheckSource& source, const AssessOptions& options) {
  auto checks = source.Collect();
  if (!checks) {
    Check failed;
    failed.id = std::string(source.name());
    failed.title = std::string(source.name());
    failed.level = Level::kUnknown;
    failed.display = "unknown";
    failed.detail = checks.error().ToString();
    return {std::move(failed)};
  }
  for (auto& check : *checks) {
    if (auto it = options.thresholds.find(check.id); it != options.thresholds.end()) {
      if (it->second.warn) check.threshold.warn = it->second.warn;
      if (it->second.critical) check.threshold.critical = it->second.critical;
    }
    if (check.value) check.level = check.threshold.Evaluate(*check.value);
  }
  return std::move(*checks);
}

const std::vector<CheckSpec>& AssessChecks() { return Specs(); }

const CheckSpec* FindAssessCheck(std::string_view id) {
  for (const auto& spec : Specs()) {
    if (spec.id == id) return &spec;
  }
  return nullptr;
}

int ExitCodeFor(Level overall) {
  switch (overall) {
    case Level::kOk:
      return 0;
    case Level::kWarn:
    case Level::kUnknown:
      return 1;
    case Level::kCritical:
      return 2;
  }
  return 1;
}

Assessment RunAssessment(collect::TargetSession& target, core::Clock& clock,
                         const AssessOptions& options) {
  Assessment a;
  const auto& info = target.session->info();
  a.target = info.target_name;
  a.endpoint = info.endpoint;
  a.flavor = target.flavor();
  a.server_version = info.server_version;
  a.notes = target.setup_notes;

  Builder b(options);
  const double connect_ms = core::ToSeconds(info.connect_time) * 1000;
  b.Measured("connect_latency_ms", connect_ms, fmt::format("{:.1f}ms", connect_ms),
             info.tls ? fmt::format("{}, {} {}", info.endpoint, info.tls_version, info.tls_cipher)
                      : fmt::format("{}, no TLS", info.endpoint));

  // The two status samples are taken back to back with only the sleep between them, so the
  // rates describe the server's load and not our own diagnostics (information_schema reads
  // create temporary tables and count as Questions). The other reads come after.
  auto first = collect::SampleStatus(target, clock);
  const uint64_t sent_before = target.session->statements_sent();
  if (first) clock.SleepFor(options.interval);
  auto second = first ? collect::SampleStatus(target, clock) : first;
  const uint64_t own_statements = target.session->statements_sent() - sent_before;
  QueryChecks(b, target);
  TransactionCheck(b, target);
  ReplicationChecks(b, target, options);

  if (first && second) {
    a.assessed_at = second->wall;
    a.interval = second->taken - first->taken;
    UptimeCheck(b, *second);
    ConnectionChecks(b, target, *first, *second);
    QueriesCheck(b, *first, *second, own_statements);
    RateCheck(b, "slow_queries_per_sec", *first, *second, "Slow_queries");
    RateCheck(b, "tmp_disk_tables_per_sec", *first, *second, "Created_tmp_disk_tables");
    RateCheck(b, "row_lock_waits_per_sec", *first, *second, "Innodb_row_lock_waits");
    BufferPoolChecks(b, *first, *second);
    HistoryCheck(b, target, *second);
  } else {
    a.assessed_at = clock.WallNow();
    const auto& error = first ? second.error() : first.error();
    for (const char* id :
         {"uptime_seconds", "connections_used_ratio", "peak_connections_ratio", "threads_running",
          "aborted_connects_per_sec", "connection_errors_per_sec", "queries_per_sec",
          "slow_queries_per_sec", "tmp_disk_tables_per_sec", "row_lock_waits_per_sec",
          "buffer_pool_hit_ratio", "buffer_pool_free_ratio", "history_list_length"}) {
      b.Unknown(id, error.ToString());
    }
  }

  for (CheckSource* source : options.extra_sources) AddSourceChecks(b, *source, options);

  // Display order follows AssessChecks() (checks of other sources last); several checks may
  // share an id (per channel).
  auto checks = b.Take();
  std::stable_sort(checks.begin(), checks.end(), [](const Check& x, const Check& y) {
    auto pos = [](const std::string& id) {
      const auto& specs = Specs();
      for (size_t i = 0; i < specs.size(); ++i) {
        if (specs[i].id == id) return i;
      }
      return specs.size();
    };
    return pos(x.id) < pos(y.id);
  });
  a.checks = std::move(checks);
  for (const auto& check : a.checks) a.overall = Worse(a.overall, check.level);
  a.statements_sent = target.session->statements_sent();
  return a;
}

}  // namespace dbrunbook::steps
