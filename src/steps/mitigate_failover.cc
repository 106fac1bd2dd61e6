#include "steps/mitigate_failover.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "dialect/replication.h"

namespace dbrunbook::steps {
namespace {

// ER_OPTION_PREVENTS_STATEMENT: "running with the --read-only option".
constexpr int kErrReadOnly = 1290;

bool HasSuperReadOnly(const dialect::Flavor& flavor) {
  return flavor.is_mysql_family() && flavor.version.AtLeast(5, 7, 8);
}

std::optional<bool> AsBool(const mysql::Row& row, std::string_view column) {
  return row[column].AsBool();
}

// One row of variables read with SELECT @@x AS x, ...
core::Result<mysql::ResultSet> SelectVariables(collect::TargetSession& target,
                                               const std::vector<std::string>& names) {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += fmt::format("@@GLOBAL.{0} AS `{0}`", names[i]);
  }
  return target.session->Query(sql);
}

std::string ChannelName(const ReplicaFacts& r) { return r.channel.channel; }

std::string Endpoint(const std::string& host, const std::optional<int64_t>& port) {
  return fmt::format("{}:{}", host, port.value_or(3306));
}

bool SameHost(std::string_view a, std::string_view b) {
  auto local = [](std::string_view h) {
    return h == "127.0.0.1" || h == "localhost" || h == "::1";
  };
  return a == b || (local(a) && local(b));
}

}  // namespace

core::Result<PrimaryFacts> ReadPrimaryFacts(collect::TargetSession& target) {
  PrimaryFacts f;
  f.reachable = true;
  f.flavor = target.flavor();
  std::vector<std::string> names = {"server_id", "read_only"};
  if (HasSuperReadOnly(f.flavor)) names.emplace_back("super_read_only");
  if (f.flavor.is_mariadb()) names.emplace_back("gtid_binlog_pos");
  if (f.flavor.is_mysql_family() && f.flavor.version.AtLeast(5, 6)) {
    names.emplace_back("gtid_executed");
  }
  auto vars = SelectVariables(target, names);
  if (!vars) return core::Fail(vars.error());
  if (!vars->rows.empty()) {
    const auto& row = vars->rows.front();
    f.server_id = row["server_id"].AsInt64();
    f.read_only = AsBool(row, "read_only");
    if (HasSuperReadOnly(f.flavor)) f.super_read_only = AsBool(row, "super_read_only");
    f.gtid_position =
        row[f.flavor.is_mariadb() ? "gtid_binlog_pos" : "gtid_executed"].AsText().value_or("");
  }
  if (auto status = target.session->Query(dialect::BinaryLogStatus(target.dialect));
      status && !status->rows.empty()) {
    f.binlog_file = status->rows.front()["File"].AsText().value_or("");
    f.binlog_pos = status->rows.front()["Position"].AsUint64();
  }
  auto channels = target.session->Query(target.dialect.ReplicaStatus());
  if (!channels) return core::Fail(channels.error());
  f.channels = collect::ParseReplicaStatus(*channels, target.dialect.replica_columns());
  const auto detail = dialect::ReplicaDetailColumnsFor(target.dialect);
  for (const auto& row : channels->rows) {
    f.channel_source_server_ids.push_back(row[detail.source_server_id].AsInt64());
  }
  return f;
}

core::Result<ReplicaFacts> ReadReplicaFacts(collect::TargetSession& target) {
  ReplicaFacts f;
  f.reachable = true;
  f.flavor = target.flavor();
  std::vector<std::string> names = {"server_id", "read_only", "log_bin"};
  if (HasSuperReadOnly(f.flavor)) names.emplace_back("super_read_only");
  auto vars = SelectVariables(target, names);
  if (!vars) return core::Fail(vars.error());
  if (!vars->rows.empty()) {
    const auto& row = vars->rows.front();
    f.server_id = row["server_id"].AsInt64();
    f.read_only = AsBool(row, "read_only");
    f.log_bin = AsBool(row, "log_bin");
    if (HasSuperReadOnly(f.flavor)) f.super_read_only = AsBool(row, "super_read_only");
  }
  auto status = target.session->Query(target.dialect.ReplicaStatus());
  if (!status) return core::Fail(status.error());
  const auto channels = collect::ParseReplicaStatus(*status, target.dialect.replica_columns());
  f.channel_count = static_cast<int>(channels.size());
  if (channels.empty()) return f;
  f.channel = channels.front();
  const auto c = dialect::ReplicaDetailColumnsFor(target.dialect);
  const auto& row = status->rows.front();
  auto text = [&](const std::string& column) {
    return column.empty() ? std::string() : row[column].AsText().value_or("");
  };
  f.source_server_id = row[c.source_server_id].AsInt64();
  f.read_file = text(c.source_log_file);
  f.read_pos = row[c.read_source_log_pos].AsUint64();
  f.exec_file = text(c.relay_source_log_file);
  f.exec_pos = row[c.exec_source_log_pos].AsUint64();
  f.retrieved_gtid = text(c.retrieved_gtid);
  f.executed_gtid = text(c.executed_gtid);
  f.using_gtid = text(c.using_gtid);
  return f;
}

std::vector<PreCheck> EvaluatePreChecks(const PrimaryFacts& primary, const ReplicaFacts& replica,
                                        const FailoverCheckSettings& settings) {
  std::vector<PreCheck> checks;
  auto add = [&](std::string name, bool passed, bool forceable, std::string detail) {
    PreCheck c{std::move(name), passed, forceable, false, std::move(detail)};
    c.forced = !c.passed && c.forceable && settings.force;
    checks.push_back(std::move(c));
  };
  const std::string target_endpoint = Endpoint(settings.target_host, settings.target_port);

  // The old primary: reachable (else it cannot be fenced), and a primary.
  if (primary.reachable) {
    add("primary_reachable", true, true, fmt::format("{} answers", primary.flavor.Name()));
    bool foreign_source = false;
    std::string sources;
    for (size_t i = 0; i < primary.channels.size(); ++i) {
      const auto& ch = primary.channels[i];
      const auto source_id = i < primary.channel_source_server_ids.size()
                                 ? primary.channel_source_server_ids[i]
                                 : std::nullopt;
      const bool from_replica = replica.server_id && source_id && *source_id == *replica.server_id;
      if (!from_replica) foreign_source = true;
      sources += fmt::format("{}{}:{}", sources.empty() ? "" : ", ", ch.source_host,
                             ch.source_port.value_or(0));
    }
    if (primary.channels.empty()) {
      add("target_is_primary", true, false, "the target replicates from no server");
    } else if (foreign_source) {
      add("target_is_primary", false, false,
          fmt::format("the target is itself a replica (of {}): fail over its primary, or "
                      "repair the topology first",
                      sources));
    } else {
      add("target_is_primary", true, false,
          fmt::format("the target replicates only from the chosen replica ({}: co-primaries)",
                      sources));
    }
  } else {
    // Only a primary that is down may be failed over without its fence. One that answers but
    // refuses us (credentials, TLS, a privilege) is alive and writable: never lifted.
    const core::ErrorCode code =
        primary.error ? primary.error->code : core::ErrorCode::kUnavailable;
    const bool down = code == core::ErrorCode::kUnavailable || code == core::ErrorCode::kTimeout ||
                      code == core::ErrorCode::kDnsFailure;
    add("primary_reachable", false, down,
        down ? fmt::format("the old primary cannot be reached ({}): it cannot be fenced (made "
                           "read-only); a failover goes on only with --force",
                           primary.error ? primary.error->message : "unknown error")
             : fmt::format("the old primary answers but cannot be used ({}): it would stay "
                           "writable — fix the account first",
                           primary.error ? primary.error->message : "unknown error"));
  }

  // The replica: reachable, one channel, from the target, same family.
  if (!replica.reachable) {
    add("replica_reachable", false, false,
        fmt::format("the replica cannot be reached: {}",
                    replica.error ? replica.error->message : "unknown error"));
    return checks;
  }
  add("replica_reachable", true, false, fmt::format("{} answers", replica.flavor.Name()));
  if (replica.flavor.platform != dialect::Platform::kSelfManaged) {
    add("self_managed", false, false,
        fmt::format("the replica is {}: fail over through the cloud (a cloud: section)",
                    replica.flavor.Name()));
  }
  if (replica.flavor.capabilities.galera == true) {
    add("not_galera", false, false, "the replica is a Galera node: not a replication failover");
  }
  if (primary.reachable && primary.flavor.is_mariadb() != replica.flavor.is_mariadb()) {
    add("same_family", false, false,
        fmt::format("the old primary is {} and the replica {}: not one family",
                    primary.flavor.Name(), replica.flavor.Name()));
  }
  if (replica.channel_count == 0) {
    add("replica_of_target", false, false,
        "the server is not a replica (no replication channel): never fail over to it");
    return checks;
  }
  if (replica.channel_count > 1) {
    add("single_channel", false, false,
        fmt::format("the replica has {} replication channels (multi-source): promoting it "
                    "would drop the others",
                    replica.channel_count));
    return checks;
  }
  const std::string source = Endpoint(replica.channel.source_host, replica.channel.source_port);
  if (primary.reachable && primary.server_id) {
    const bool same = replica.source_server_id && *replica.source_server_id == *primary.server_id;
    add("replica_of_target", same, false,
        same ? fmt::format("replicates from server_id {} ({}), the target", *primary.server_id,
                           source)
             : fmt::format("replicates from server_id {} ({}), not from the target "
                           "(server_id {}): never fail over to it",
                           replica.source_server_id ? std::to_string(*replica.source_server_id)
                                                    : std::string("unknown"),
                           source, *primary.server_id));
  } else {
    const bool same =
        SameHost(replica.channel.source_host, settings.target_host) &&
        replica.channel.source_port.value_or(3306) == settings.target_port.value_or(3306);
    add("replica_of_target", same, !same,
        same ? fmt::format("replicates from {}, the target's configured endpoint (the target "
                           "cannot be asked for its server_id)",
                           source)
             : fmt::format("replicates from {}, which is not the target's configured "
                           "endpoint {}, and the target cannot be asked to prove it",
                           source, target_endpoint));
  }

  // Health of the channel (--force lifts these).
  add("io_thread_running", replica.channel.io == collect::ThreadState::kRunning, true,
      replica.channel.io == collect::ThreadState::kRunning
          ? "the IO thread runs"
          : fmt::format("the IO thread is {}{}", collect::ThreadStateName(replica.channel.io),
                        replica.channel.last_io_errno != 0
                            ? fmt::format(" (error {}: {})", replica.channel.last_io_errno,
                                          replica.channel.last_io_error)
                            : std::string()));
  add("sql_thread_running", replica.channel.sql == collect::ThreadState::kRunning, true,
      replica.channel.sql == collect::ThreadState::kRunning
          ? "the SQL thread runs"
          : fmt::format("the SQL thread is {}{}", collect::ThreadStateName(replica.channel.sql),
                        replica.channel.last_sql_errno != 0
                            ? fmt::format(" (error {}: {})", replica.channel.last_sql_errno,
                                          replica.channel.last_sql_error)
                            : std::string()));
  if (!replica.channel.seconds_behind) {
    add("lag", false, true,
        fmt::format("the lag is unknown (Seconds_Behind_Master is NULL), the bound is {:g} s",
                    settings.max_lag_seconds));
  } else {
    const auto lag = static_cast<double>(*replica.channel.seconds_behind);
    add("lag", lag <= settings.max_lag_seconds, true,
        fmt::format("{:g} s behind, the bound is {:g} s (--max-lag)", lag,
                    settings.max_lag_seconds));
  }
  const bool applied = !replica.read_file.empty() && replica.read_file == replica.exec_file &&
                       replica.read_pos && replica.exec_pos &&
                       *replica.read_pos == *replica.exec_pos;
  add("relay_log_applied", applied, true,
      fmt::format("executed {}:{} of read {}:{}{}", replica.exec_file,
                  replica.exec_pos ? std::to_string(*replica.exec_pos) : "?", replica.read_file,
                  replica.read_pos ? std::to_string(*replica.read_pos) : "?",
                  replica.executed_gtid.empty() && replica.retrieved_gtid.empty()
                      ? std::string()
                      : fmt::format(" (GTID executed {}, retrieved {})", replica.executed_gtid,
                                    replica.retrieved_gtid)));
  if (replica.log_bin == false) {
    // Not a refusal: a primary without a binary log works, but has no replicas of its own.
    add("replica_log_bin", true, false,
        "note: the replica has no binary log: the new primary cannot serve replicas");
  }
  return checks;
}

bool PreChecksAllow(const std::vector<PreCheck>& checks) {
  return std::all_of(checks.begin(), checks.end(),
                     [](const PreCheck& c) { return c.passed || c.forced; });
}

std::vector<std::string> BlockingChecks(const std::vector<PreCheck>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) {
    if (c.passed || c.forced) continue;
    out.push_back(fmt::format(
        "{}: {}{}", c.name, c.detail,
        c.forceable ? " (--force lifts this check)" : " (never lifted, not even by --force)"));
  }
  return out;
}

std::vector<std::string> FenceStatements(const dialect::Flavor& flavor) {
  std::vector<std::string> out = {"SET GLOBAL read_only = ON"};
  if (HasSuperReadOnly(flavor)) out.emplace_back("SET GLOBAL super_read_only = ON");
  return out;
}

std::string UnfenceStatement(const dialect::Flavor&) {
  // On MySQL, read_only = OFF turns super_read_only off too.
  return "SET GLOBAL read_only = OFF";
}

std::string ResetReplicaAll(const dialect::Flavor& flavor, std::string_view channel) {
  if (flavor.is_mariadb()) {
    return channel.empty() ? "RESET SLAVE ALL"
                           : fmt::format("RESET SLAVE {} ALL", dialect::SqlString(channel));
  }
  const std::string base =
      dialect::UsesReplicaKeywords(flavor) ? "RESET REPLICA ALL" : "RESET SLAVE ALL";
  return channel.empty() ? base
                         : fmt::format("{} FOR CHANNEL {}", base, dialect::SqlString(channel));
}

std::string WaitStatement(const dialect::Flavor& flavor, WaitKind kind, std::string_view gtid,
                          std::string_view file, uint64_t pos, std::string_view channel,
                          int seconds) {
  switch (kind) {
    case WaitKind::kMariaDbGtid:
      return fmt::format("SELECT MASTER_GTID_WAIT({}, {}) AS result", dialect::SqlString(gtid),
                         seconds);
    case WaitKind::kMySqlGtid:
      return fmt::format("SELECT WAIT_FOR_EXECUTED_GTID_SET({}, {}) AS result",
                         dialect::SqlString(gtid), seconds);
    case WaitKind::kPosition:
      break;
  }
  const bool source = flavor.is_mysql_family() && flavor.version.AtLeast(8, 0, 26);
  return fmt::format(
      "SELECT {}({}, {}, {}{}) AS result", source ? "SOURCE_POS_WAIT" : "MASTER_POS_WAIT",
      dialect::SqlString(file), pos, seconds,
      channel.empty() ? std::string() : fmt::format(", {}", dialect::SqlString(channel)));
}

WaitResult ReadWaitResult(WaitKind kind, const std::optional<int64_t>& value) {
  if (!value) return WaitResult::kError;
  // MASTER_POS_WAIT / SOURCE_POS_WAIT: the events waited for (>= 0), -1 timed out.
  if (kind == WaitKind::kPosition) return *value >= 0 ? WaitResult::kDone : WaitResult::kTimedOut;
  // MASTER_GTID_WAIT: 0 reached, -1 timed out; WAIT_FOR_EXECUTED_GTID_SET: 0 reached, 1 timed
  // out.
  return *value == 0 ? WaitResult::kDone : WaitResult::kTimedOut;
}

WaitKind ChooseWaitKind(const ReplicaFacts& replica, const PrimaryFacts& primary) {
  if (!primary.reachable || primary.gtid_position.empty()) return WaitKind::kPosition;
  if (replica.flavor.is_mariadb()) {
    return !replica.using_gtid.empty() && replica.using_gtid != "No" ? WaitKind::kMariaDbGtid
                                                                     : WaitKind::kPosition;
  }
  return replica.using_gtid == "1" ? WaitKind::kMySqlGtid : WaitKind::kPosition;
}

std::string_view FailoverStepStatusName(FailoverStepStatus status) {
  switch (status) {
    case FailoverStepStatus::kDone:
      return "done";
    case FailoverStepStatus::kFailed:
      return "failed";
    case FailoverStepStatus::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::optional<core::Error> ProbeWrite(collect::TargetSession& target) {
  auto started = target.session->Query("START TRANSACTION READ WRITE");
  if (!started) return started.error();
  (void)target.session->Query("ROLLBACK");
  return std::nullopt;
}

namespace {

class Runner {
 public:
  Runner(collect::TargetSession* primary, collect::TargetSession& replica,
         const PrimaryFacts& primary_facts, const ReplicaFacts& replica_facts, core::Clock& clock,
         const FailoverExecuteOptions& options)
      : primary_(primary),
        replica_(replica),
        pf_(primary_facts),
        rf_(replica_facts),
        clock_(clock),
        options_(options) {}

  FailoverOutcome Run() {
    if (!Fence()) {
      // read_only set but super_read_only refused: undo the half fence.
      if (statements_done_ > 0 && pf_.read_only != true) {
        fenced_by_us_ = true;
        return Rollback();
      }
      return Finish();
    }
    if (!Wait()) return Rollback();
    if (!StopReplica()) return Rollback();
    if (!ResetReplica()) return Rollback();
    if (!Unfence()) return Finish();
    out_.promoted = true;
    Verify();
    return Finish();
  }

 private:
  void Record(FailoverStep step) {
    if (options_.on_step) options_.on_step(step);
    out_.steps.push_back(std::move(step));
  }

  // Runs `sql` on `target`; records the step; true when it succeeded.
  bool Step(const std::string& name, const std::string& server, collect::TargetSession& target,
            const std::vector<std::string>& statements, const std::string& done_detail) {
    FailoverStep step{name, server, "", FailoverStepStatus::kDone, done_detail, std::nullopt};
    statements_done_ = 0;
    for (const auto& sql : statements) {
      step.sql += (step.sql.empty() ? "" : "; ") + sql;
      auto result = target.session->Query(sql);
      if (!result) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = fmt::format("{} failed", sql);
        step.error = result.error();
        Record(std::move(step));
        return false;
      }
      ++statements_done_;
    }
    Record(std::move(step));
    return true;
  }

  bool Fence() {
    if (primary_ == nullptr) {
      Record({"fence", "old primary", "", FailoverStepStatus::kSkipped,
              "the old primary cannot be reached: NOT fenced (--force); if it comes back it "
              "still accepts writes — keep the application away from it",
              std::nullopt});
      out_.manual.emplace_back(
          "the old primary was not fenced: make it read-only (SET GLOBAL read_only = ON) or "
          "keep it down before it comes back");
      return true;
    }
    const bool ok = Step("fence", "old primary", *primary_, FenceStatements(pf_.flavor),
                         "the old primary is read-only");
    if (ok) {
      fenced_by_us_ = pf_.read_only != true;
      out_.fenced = true;
      return true;
    }
    if (options_.force) {
      Record({"fence", "old primary", "", FailoverStepStatus::kSkipped,
              "fencing failed; going on because of --force: the old primary still accepts "
              "writes",
              std::nullopt});
      out_.manual.emplace_back(
          "the old primary was not fenced: make it read-only (SET GLOBAL read_only = ON)");
      // A partial fence (read_only set, super_read_only refused) is undone on rollback too.
      fenced_by_us_ = pf_.read_only != true;
      return true;
    }
    return false;
  }

  bool Wait() {
    const WaitKind kind = ChooseWaitKind(rf_, pf_);
    std::string gtid;
    std::string file = rf_.read_file;
    uint64_t pos = rf_.read_pos.value_or(0);
    std::string where = "the replica's own read position (the old primary is not asked)";
    if (primary_ != nullptr) {
      // The old primary's final position, read after the fence.
      auto facts = ReadPrimaryFacts(*primary_);
      if (!facts) {
        Record({"read_position", "old primary", "", FailoverStepStatus::kFailed,
                "cannot read the old primary's position", facts.error()});
        return false;
      }
      gtid = facts->gtid_position;
      if (!facts->binlog_file.empty() && facts->binlog_pos) {
        file = facts->binlog_file;
        pos = *facts->binlog_pos;
      }
      where = kind == WaitKind::kPosition ? fmt::format("{}:{}", file, pos)
                                          : fmt::format("GTID {}", gtid);
      Record({"read_position", "old primary", "", FailoverStepStatus::kDone,
              fmt::format("final position {}", where), std::nullopt});
    }
    if (rf_.channel.sql != collect::ThreadState::kRunning) {
      Record({"wait", "new primary", "", FailoverStepStatus::kSkipped,
              "the SQL thread does not run (--force): what the relay log holds unapplied is "
              "discarded by the reset",
              std::nullopt});
      return true;
    }
    if (kind == WaitKind::kPosition && file.empty()) {
      Record({"wait", "new primary", "", FailoverStepStatus::kFailed,
              "no position to wait for (the replica reports no source binlog)", std::nullopt});
      return false;
    }
    const auto deadline = clock_.MonotonicNow() + options_.wait_timeout;
    // Each wait lasts at most a second: never more rounds than seconds (a clock that does not
    // move, in tests, still ends the loop).
    const int64_t rounds =
        std::chrono::duration_cast<std::chrono::seconds>(options_.wait_timeout).count() + 1;
    std::string sql;
    for (int64_t round = 1;; ++round) {
      sql = WaitStatement(replica_.flavor(), kind, gtid, file, pos, ChannelName(rf_), 1);
      auto result = replica_.session->Query(sql);
      if (!result) {
        Record({"wait", "new primary", sql, FailoverStepStatus::kFailed,
                fmt::format("waiting for {} failed", where), result.error()});
        return false;
      }
      const std::optional<int64_t> value =
          result->rows.empty() ? std::nullopt : result->rows.front()["result"].AsInt64();
      const WaitResult r = ReadWaitResult(kind, value);
      if (r == WaitResult::kDone) {
        Record({"wait", "new primary", sql, FailoverStepStatus::kDone,
                fmt::format("the replica has applied {}", where), std::nullopt});
        return true;
      }
      if (r == WaitResult::kError) {
        Record({"wait", "new primary", sql, FailoverStepStatus::kFailed,
                fmt::format("the wait for {} returned NULL (the SQL thread stopped, or the "
                            "position is not the replica's source's)",
                            where),
                std::nullopt});
        return false;
      }
      if (clock_.MonotonicNow() >= deadline || round >= rounds) {
        Record(
            {"wait", "new primary", sql, FailoverStepStatus::kFailed,
             fmt::format(
                 "the replica had not applied {} after {} s (--wait-timeout)", where,
                 std::chrono::duration_cast<std::chrono::seconds>(options_.wait_timeout).count()),
             std::nullopt});
        return false;
      }
    }
  }

  bool StopReplica() {
    const bool ok =
        Step("stop_replica", "new primary", replica_,
             {dialect::StopReplica(replica_.dialect, ChannelName(rf_))}, "replication stopped");
    if (ok) stopped_ = true;
    return ok;
  }

  bool ResetReplica() {
    return Step("reset_replica", "new primary", replica_,
                {ResetReplicaAll(replica_.flavor(), ChannelName(rf_))},
                "the replication configuration is removed: the server is no replica any more");
  }

  bool Unfence() {
    const bool ok = Step("unfence", "new primary", replica_, {UnfenceStatement(replica_.flavor())},
                         "the new primary accepts writes");
    if (!ok) {
      out_.manual.emplace_back(
          "the new primary is still read-only and no longer replicates: run SET GLOBAL "
          "read_only = OFF on it (the old primary is read-only: nothing accepts writes)");
    }
    return ok;
  }

  // Undoes what was done before the replica's replication was reset.
  FailoverOutcome Rollback() {
    if (stopped_) {
      if (Step("rollback_start_replica", "new primary", replica_,
               {dialect::StartReplica(replica_.dialect, ChannelName(rf_))},
               "replication restarted")) {
        stopped_ = false;
      } else {
        out_.manual.emplace_back(
            "restart replication on the replica (START SLAVE / START "
            "REPLICA)");
      }
    }
    if (primary_ != nullptr && fenced_by_us_) {
      if (Step("rollback_unfence", "old primary", *primary_, {UnfenceStatement(pf_.flavor)},
               "the old primary accepts writes again, as before")) {
        out_.fenced = false;
      } else {
        out_.manual.emplace_back(
            "the old primary is still read-only: run SET GLOBAL read_only = OFF on it to let "
            "the application write again");
      }
    }
    out_.rolled_back = true;
    return Finish();
  }

  void Verify() {
    bool ok = true;
    // The new primary: writable, no replication left, accepts a read-write transaction.
    {
      FailoverStep step{"verify",
                        "new primary",
                        "SELECT @@GLOBAL.read_only; " + replica_.dialect.ReplicaStatus() +
                            "; START TRANSACTION READ WRITE; ROLLBACK",
                        FailoverStepStatus::kDone,
                        "",
                        std::nullopt};
      auto after = ReadReplicaFacts(replica_);
      if (!after) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = "cannot read the new primary's state";
        step.error = after.error();
      } else if (after->read_only != false) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = "the new primary is still read_only";
      } else if (after->channel_count != 0) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = "the new primary still has a replication channel";
      } else if (auto refused = ProbeWrite(replica_)) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = "the new primary refuses a read-write transaction";
        step.error = *refused;
      } else {
        step.detail = "read_only OFF, no replication channel, a read-write transaction is accepted";
      }
      ok = ok && step.status == FailoverStepStatus::kDone;
      Record(std::move(step));
    }
    if (primary_ == nullptr) {
      Record({"verify", "old primary", "", FailoverStepStatus::kSkipped,
              "the old primary cannot be reached: not verified", std::nullopt});
      out_.verified = ok;
      return;
    }
    FailoverStep step{"verify",
                      "old primary",
                      "SELECT @@GLOBAL.read_only; START TRANSACTION READ WRITE; ROLLBACK",
                      FailoverStepStatus::kDone,
                      "",
                      std::nullopt};
    auto after = ReadPrimaryFacts(*primary_);
    if (!after) {
      step.status = FailoverStepStatus::kFailed;
      step.detail = "cannot read the old primary's state";
      step.error = after.error();
    } else if (after->read_only != true) {
      step.status = FailoverStepStatus::kFailed;
      step.detail = "the old primary is NOT read-only: it still accepts writes";
    } else {
      auto refused = ProbeWrite(*primary_);
      const bool super_ro = after->super_read_only == true;
      if (refused && refused->server_errno == kErrReadOnly) {
        step.detail = fmt::format("read_only ON{}, a read-write transaction is refused ({})",
                                  super_ro ? ", super_read_only ON" : "", refused->message);
      } else if (refused) {
        step.detail = fmt::format("read_only ON; the probe failed otherwise: {}", refused->message);
      } else if (super_ro) {
        step.status = FailoverStepStatus::kFailed;
        step.detail = "super_read_only ON, yet a read-write transaction was accepted";
      } else {
        step.detail =
            "read_only ON (verified by the variable: this account may write through read_only "
            "— READ_ONLY ADMIN or SUPER — so its own probe is accepted; accounts without that "
            "privilege are refused)";
      }
    }
    ok = ok && step.status == FailoverStepStatus::kDone;
    Record(std::move(step));
    out_.verified = ok;
  }

  FailoverOutcome Finish() { return std::move(out_); }

  collect::TargetSession* primary_;
  collect::TargetSession& replica_;
  const PrimaryFacts& pf_;
  const ReplicaFacts& rf_;
  core::Clock& clock_;
  const FailoverExecuteOptions& options_;
  FailoverOutcome out_;
  bool fenced_by_us_ = false;
  bool stopped_ = false;
  size_t statements_done_ = 0;  // of the last Step
};

}  // namespace

FailoverOutcome ExecuteFailover(collect::TargetSession* primary, collect::TargetSession& replica,
                                const PrimaryFacts& primary_facts,
                                const ReplicaFacts& replica_facts, core::Clock& clock,
                                const FailoverExecuteOptions& options) {
  return Runner(primary, replica, primary_facts, replica_facts, clock, options).Run();
}

}  // namespace dbrunbook::steps
