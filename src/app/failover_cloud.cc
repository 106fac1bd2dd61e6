// `dbrunbook mitigate failover` for a target with a `cloud:` section: RDS PromoteReadReplica of
// the chosen read replica, or Aurora FailoverDBCluster (to --to's reader, else the one RDS
// picks), after pre-checks on the provider's status (replica of the target, available, lag
// within --max-lag), verified by polling the status until the promoted instance stands alone
// and is available / the cluster is available with the new writer (bounded by
// --verify-timeout).
//
// RDS cannot fence the old primary through the API (read_only is a parameter-group setting and
// the master user may not SET GLOBAL read_only): the old primary stays writable, which the
// output says, and the application must stop writing to it.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "app/cloud.h"
#include "app/failover.h"
#include "core/duration.h"

namespace dbrunbook::app {
namespace {

const cloud::rds::DBInstance* FindInstance(const cloud::CloudStatus& status,
                                           const std::string& id) {
  for (const auto& r : status.replicas) {
    if (r.db_instance_identifier == id) return &r;
  }
  if (status.instance && status.instance->db_instance_identifier == id) return &*status.instance;
  return nullptr;
}

std::string EndpointOf(const cloud::rds::DBInstance& i) {
  return i.endpoint ? fmt::format("{}:{}", i.endpoint->address, i.endpoint->port) : "";
}

}  // namespace

std::vector<steps::PreCheck> CloudPreChecks(const cloud::CloudStatus& status, bool aurora,
                                            const std::string& primary_instance,
                                            const std::string& chosen, double max_lag_seconds,
                                            bool force) {
  std::vector<steps::PreCheck> checks;
  auto add = [&](std::string name, bool passed, bool forceable, std::string detail) {
    steps::PreCheck c{std::move(name), passed, forceable, false, std::move(detail)};
    c.forced = !c.passed && c.forceable && force;
    checks.push_back(std::move(c));
  };
  auto lag = [&](const std::string& id, const std::string& metric) {
    auto it = status.replica_lag_seconds.find(id);
    if (it == status.replica_lag_seconds.end()) {
      add("lag", false, true,
          fmt::format("no {} datapoint for {} in the last 5 minutes: the lag is unknown", metric,
                      id));
    } else {
      add("lag", it->second <= max_lag_seconds, true,
          fmt::format("{} {:g} s (highest of the last 5 minutes), the bound is {:g} s "
                      "(--max-lag)",
                      metric, it->second, max_lag_seconds));
    }
  };
  if (aurora) {
    if (!status.cluster) {
      add("cluster_found", false, false, "the cloud does not describe the cluster");
      return checks;
    }
    const auto& cluster = *status.cluster;
    add("cluster_available", cluster.status == "available", false,
        fmt::format("the cluster is {}", cluster.status));
    const auto* writer = cluster.Writer();
    add("cluster_has_writer", writer != nullptr, false,
        writer != nullptr ? fmt::format("the writer is {}", writer->db_instance_identifier)
                          : "no writer (a failover under way?)");
    if (cluster.members.size() < 2) {
      add("cluster_has_reader", false, false,
          "the cluster has no reader to fail over to: add one first");
      return checks;
    }
    if (chosen.empty()) {
      add("target_reader", true, false, "RDS chooses the reader (promotion tiers)");
      return checks;
    }
    const auto member = std::find_if(
        cluster.members.begin(), cluster.members.end(),
        [&](const cloud::rds::DBClusterMember& m) { return m.db_instance_identifier == chosen; });
    if (member == cluster.members.end()) {
      add("replica_of_target", false, false,
          fmt::format("{} is not a member of cluster {}: never fail over to it", chosen,
                      cluster.db_cluster_identifier));
      return checks;
    }
    if (member->is_cluster_writer) {
      add("replica_of_target", false, false, fmt::format("{} is already the writer", chosen));
      return checks;
    }
    add("replica_of_target", true, false,
        fmt::format("{} is a reader of {}", chosen, cluster.db_cluster_identifier));
    const auto* instance = FindInstance(status, chosen);
    add("replica_available", instance != nullptr && instance->status == "available", false,
        instance != nullptr ? fmt::format("{} is {}", chosen, instance->status)
                            : fmt::format("{} is not described", chosen));
    lag(chosen, "AuroraReplicaLag");
    return checks;
  }
  if (!status.instance) {
    add("primary_found", false, false, "the cloud does not describe the target's instance");
    return checks;
  }
  add("primary_is_source", status.instance->read_replica_source_db_instance_identifier.empty(),
      false,
      status.instance->read_replica_source_db_instance_identifier.empty()
          ? fmt::format("{} is not itself a read replica", primary_instance)
          : fmt::format("{} is itself a read replica of {}: fail over its source", primary_instance,
                        status.instance->read_replica_source_db_instance_identifier));
  const cloud::rds::DBInstance* replica = nullptr;
  for (const auto& r : status.replicas) {
    if (r.db_instance_identifier == chosen) replica = &r;
  }
  if (replica == nullptr || replica->read_replica_source_db_instance_identifier !=
                                status.instance->db_instance_identifier) {
    add("replica_of_target", false, false,
        fmt::format("{} is not a read replica of {}: never fail over to it", chosen,
                    primary_instance));
    return checks;
  }
  add("replica_of_target", true, false,
      fmt::format("{} is a read replica of {}", chosen, primary_instance));
  add("replica_available", replica->status == "available", false,
      fmt::format("{} is {}", chosen, replica->status));
  add("primary_available", status.instance->status == "available", true,
      fmt::format("the old primary is {}", status.instance->status));
  lag(chosen, "ReplicaLag");
  return checks;
}

int RunCloudFailover(FailoverContext& c) {
  Env& env = c.env;
  FailoverRun& run = c.run;
  const MitigateFailoverOptions& options = c.options;
  const bool aurora = run.kind == "aurora";
  const config::CloudIdentity& identity = *c.target.cloud;
  const cloud::CloudResource resource = CloudResourceOf(identity, options.aws_endpoint_url);

  // The chosen replica's instance identifier: its target's cloud section, or (Aurora) --to.
  std::string chosen;
  if (!run.replica.empty()) {
    const config::TargetConfig* replica = c.config.Find(run.replica);
    if (replica != nullptr && replica->cloud && !replica->cloud->instance_identifier.empty()) {
      chosen = replica->cloud->instance_identifier;
    } else if (replica == nullptr && aurora) {
      chosen = run.replica;
    } else {
      run.Fail(
          "error", kExitUsage,
          core::Error{core::ErrorCode::kInvalidConfig,
                      fmt::format("replica '{}' has no cloud.db_instance_identifier", run.replica),
                      "configure the replica's RDS instance in its cloud: section",
                      0,
                      {}});
      return FinishFailover(env, options, run);
    }
  }
  if (!aurora && identity.instance_identifier.empty()) {
    run.Fail("error", kExitUsage,
             core::Error{core::ErrorCode::kInvalidConfig,
                         "the target's cloud: section names no db_instance_identifier",
                         "",
                         0,
                         {}});
    return FinishFailover(env, options, run);
  }

  auto provider = MakeCloudProvider(env, resource);
  if (!provider) {
    run.Fail("error", kExitCannotAssess, provider.error());
    return FinishFailover(env, options, run);
  }
  auto status = (*provider)->Status(resource);
  if (!status) {
    run.Fail("error", kExitCannotAssess, status.error());
    if (options.apply) {
      c.audit.Write(store::Phase::kFailed, "", "", "cannot read the cloud status",
                    status.error().ToString());
    }
    return FinishFailover(env, options, run);
  }
  if (status->instance) run.old_endpoint = EndpointOf(*status->instance);
  if (aurora && status->cluster) {
    run.old_endpoint =
        fmt::format("{}:{}", status->cluster->endpoint, status->cluster->port.value_or(3306));
    if (const auto* w = status->cluster->Writer()) {
      run.old_endpoint += fmt::format(" (writer {})", w->db_instance_identifier);
    }
  }
  if (!chosen.empty()) {
    if (const auto* i = FindInstance(*status, chosen)) run.new_endpoint = EndpointOf(*i);
  }
  run.checks = CloudPreChecks(*status, aurora, identity.instance_identifier, chosen,
                              options.max_lag_seconds, options.force);
  for (auto& reason : steps::BlockingChecks(run.checks)) run.reasons.push_back(reason);

  cloud::rds::PromoteReadReplicaRequest promote;
  promote.db_instance_identifier = chosen;
  promote.backup_retention_period =
      options.backup_retention_period
          ? options.backup_retention_period
          : (status->instance && status->instance->backup_retention_period > 0
                 ? std::optional<int64_t>(status->instance->backup_retention_period)
                 : std::optional<int64_t>(7));
  promote.preferred_backup_window = options.preferred_backup_window;
  if (aurora) {
    run.planned_steps = {
        fmt::format(
            "FailoverDBCluster {}{}",
            status->cluster ? status->cluster->db_cluster_identifier : identity.cluster_identifier,
            chosen.empty() ? " (RDS picks the reader)"
                           : fmt::format(", TargetDBInstanceIdentifier {}", chosen)),
        "poll DescribeDBClusters until the cluster is available with the new writer "
        "(--verify-timeout)",
        "the cluster endpoint follows the writer: applications on it reconnect; those on "
        "instance endpoints must change",
        "run the hook"};
  } else {
    run.planned_steps = {
        "the old primary is NOT fenced (RDS: read_only is a parameter-group setting): stop the "
        "application writing to it",
        fmt::format("PromoteReadReplica {} (BackupRetentionPeriod {}{})", chosen,
                    promote.backup_retention_period.value_or(0),
                    promote.preferred_backup_window
                        ? ", PreferredBackupWindow " + *promote.preferred_backup_window
                        : std::string()),
        "poll DescribeDBInstances until it is available and no longer a read replica "
        "(--verify-timeout)",
        "print the application's new endpoint and run the hook"};
  }
  nlohmann::json plan = {{"cluster", run.cluster},
                         {"kind", run.kind},
                         {"chosen", chosen},
                         {"steps", run.planned_steps}};
  if (auto finished = AuditPlanOrFinish(c, plan)) return *finished;

  store::Recovery recovery =
      StartingRecovery(env, run, chosen.empty() ? "(chosen by RDS)" : chosen);
  auto lock = c.store->BeginRecovery(recovery);
  if (!lock || !lock->id) {
    run.status = "refused";
    run.exit_code = 1;
    run.reasons.push_back(lock ? fmt::format("another recovery of cluster '{}' is running (run "
                                             "{}, pid {})",
                                             run.cluster, lock->holder->run_id, lock->holder->pid)
                               : "cannot take the cluster's lock: " + lock.error().ToString());
    c.audit.Write(store::Phase::kRefused, "", plan.dump(), "refused",
                  fmt::format("{}", fmt::join(run.reasons, "; ")));
    return FinishFailover(env, options, run);
  }

  auto record = [&](steps::FailoverStep s) {
    store::Phase phase = s.status == steps::FailoverStepStatus::kFailed ? store::Phase::kFailed
                         : s.name == "verify" && s.status == steps::FailoverStepStatus::kDone
                             ? store::Phase::kVerified
                             : store::Phase::kApplied;
    c.audit.Write(phase, s.server + " " + s.name, s.sql,
                  std::string(steps::FailoverStepStatusName(s.status)) + ": " + s.detail,
                  s.error ? s.error->ToString() : "");
    run.steps.push_back(std::move(s));
  };

  std::string old_writer;
  if (aurora && status->cluster && status->cluster->Writer() != nullptr) {
    old_writer = status->cluster->Writer()->db_instance_identifier;
  }
  if (aurora) {
    const std::string cluster_id = status->cluster->db_cluster_identifier;
    auto done = (*provider)->FailoverCluster(
        cluster_id, chosen.empty() ? std::nullopt : std::optional<std::string>(chosen));
    const std::string call =
        fmt::format("FailoverDBCluster {}{}", cluster_id, chosen.empty() ? "" : " -> " + chosen);
    if (!done) {
      record({"failover_cluster", "cluster", call, steps::FailoverStepStatus::kFailed,
              "the cloud refused the failover", done.error()});
    } else {
      record({"failover_cluster", "cluster", call, steps::FailoverStepStatus::kDone,
              "failover requested", std::nullopt});
      run.promoted = true;
    }
  } else {
    record({"fence", "old primary", "", steps::FailoverStepStatus::kSkipped,
            "RDS: not fenced (read_only is a parameter-group setting); the old primary stays "
            "writable",
            std::nullopt});
    run.manual.push_back(
        fmt::format("the old primary {} was not fenced: stop the application writing to it (or set "
                    "read_only=1 in its parameter group)",
                    identity.instance_identifier));
    auto done = (*provider)->PromoteReadReplica(promote);
    const std::string call =
        fmt::format("PromoteReadReplica {} BackupRetentionPeriod={}{}", chosen,
                    promote.backup_retention_period.value_or(0),
                    promote.preferred_backup_window
                        ? " PreferredBackupWindow=" + *promote.preferred_backup_window
                        : std::string());
    if (!done) {
      record({"promote", "new primary", call, steps::FailoverStepStatus::kFailed,
              "the cloud refused the promotion", done.error()});
    } else {
      record({"promote", "new primary", call, steps::FailoverStepStatus::kDone,
              fmt::format("promotion requested (status {})", done->status), std::nullopt});
      run.promoted = true;
    }
  }

  // Verify by polling (bounded).
  if (run.promoted) {
    const auto deadline = env.clock.MonotonicNow() + options.verify_timeout;
    std::string last;
    bool ok = false;
    while (true) {
      if (aurora) {
        auto s = (*provider)->Status(resource);
        if (s && s->cluster) {
          const auto* w = s->cluster->Writer();
          const std::string writer = w != nullptr ? w->db_instance_identifier : "";
          ok = s->cluster->status == "available" && !writer.empty() &&
               (chosen.empty() ? writer != old_writer : writer == chosen);
          last = fmt::format("cluster {}, writer {}", s->cluster->status,
                             writer.empty() ? "none" : writer);
          if (ok) {
            for (const auto& r : s->replicas) {
              if (r.db_instance_identifier == writer) run.new_endpoint = EndpointOf(r);
            }
            if (s->instance && s->instance->db_instance_identifier == writer) {
              run.new_endpoint = EndpointOf(*s->instance);
            }
            run.replica = writer;
          }
        } else {
          last = s ? "the cluster is not described" : s.error().ToString();
        }
      } else {
        cloud::CloudResource replica_resource = resource;
        replica_resource.instance_identifier = chosen;
        replica_resource.cluster_identifier.clear();
        auto s = (*provider)->Status(replica_resource);
        if (s && s->instance) {
          const auto& i = *s->instance;
          ok = i.status == "available" && i.read_replica_source_db_instance_identifier.empty();
          last = fmt::format(
              "{} is {}{}", chosen, i.status,
              i.read_replica_source_db_instance_identifier.empty()
                  ? ", no longer a read replica"
                  : ", still a read replica of " + i.read_replica_source_db_instance_identifier);
          if (i.endpoint) run.new_endpoint = EndpointOf(i);
        } else {
          last = s ? "the instance is not described" : s.error().ToString();
        }
      }
      if (ok || env.clock.MonotonicNow() >= deadline) break;
      env.clock.SleepFor(std::chrono::seconds(aurora ? 5 : 10));
    }
    run.verified = ok;
    record(
        {"verify", "new primary", aurora ? "DescribeDBClusters" : "DescribeDBInstances",
         ok ? steps::FailoverStepStatus::kDone : steps::FailoverStepStatus::kFailed,
         ok ? last
            : fmt::format(
                  "not verified within {} s (--verify-timeout): {}",
                  std::chrono::duration_cast<std::chrono::seconds>(options.verify_timeout).count(),
                  last),
         std::nullopt});
    run.status = ok ? "done" : "unverified";
    run.application_change =
        aurora ? fmt::format("the cluster endpoint {} now points at {}; instance endpoints: {}",
                             run.old_endpoint, run.replica, run.new_endpoint)
               : fmt::format("{} (instance {}) instead of {} (instance {})", run.new_endpoint,
                             chosen, run.old_endpoint, identity.instance_identifier);
  } else {
    run.status = "failed";
  }
  run.exit_code = run.status == "done" ? kExitOk : 1;
  if (auto ended =
          c.store->EndRecovery(*lock->id, run.status == "done" ? "done" : "failed", run.status);
      !ended) {
    run.warnings.push_back("the cluster's lock was not released: " + ended.error().ToString());
  }
  if (run.promoted) RunFailoverHook(c);
  return FinishFailover(env, options, run);
}

}  // namespace dbrunbook::app
