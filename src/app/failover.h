// `dbrunbook mitigate failover` (app/failover_command.cc, app/failover_cloud.cc): what the
// command's two paths (self-managed replication, RDS/Aurora through the cloud API) share, and
// the pieces unit tests reach: the cluster a target belongs to, its replica candidates, the
// hook runner, and the cloud pre-checks.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "cloud/provider.h"
#include "config/config.h"
#include "steps/mitigate_failover.h"
#include "store/store.h"

namespace dbrunbook::app {

struct HookResult {
  std::string command;
  std::optional<int> exit_status;
  bool ok = false;
  std::string detail;
};

// One run, as printed (table or JSON) and audited.
// status: planned, refused, done, hook_failed, unverified, rolled_back, failed, error
struct FailoverRun : ActionRun {
  std::string replica;  // the chosen replica's target name (Aurora: may be an instance id)
  std::string cluster;
  std::string kind;  // replication, rds, aurora
  std::string old_endpoint;
  std::string new_endpoint;
  bool force = false;
  bool acknowledge = false;
  std::vector<std::string> reasons;  // why refused
  std::vector<steps::PreCheck> checks;
  std::vector<std::string> planned_steps;
  std::vector<steps::FailoverStep> steps;
  bool fenced = false;
  bool promoted = false;
  bool rolled_back = false;
  bool verified = false;
  std::vector<std::string> manual;
  std::optional<store::Recovery> previous;
  int64_t block_period_seconds = 0;
  std::optional<HookResult> hook;
  std::string application_change;
};

struct FailoverContext {
  Env& env;
  const config::Config& config;
  const config::TargetConfig& target;
  const TargetLookup& lookup;
  store::Store* store;  // null: not audited (dry run without a store)
  Auditor& audit;
  FailoverRun& run;
  const MitigateFailoverOptions& options;
};

// The cluster's name for the lock and the block period: the `cluster` tag of any target of the
// connected replica_of / replicas group around `target`, else the smallest target name of that
// group — the same name whichever member is the primary.
std::string ClusterName(const config::Config& config, const config::TargetConfig& target);
// The targets configured as replicas of `target`: its replicas, and those whose replica_of
// names it.
std::vector<std::string> ReplicaCandidates(const config::Config& config,
                                           const config::TargetConfig& target);
// Runs `command` with /bin/sh -c, our environment without the variables named in `scrub`
// plus `vars`, stdin from /dev/null and stdout to our stderr; killed after `timeout`.
HookResult RunHook(const std::string& command, const std::map<std::string, std::string>& vars,
                   const std::vector<std::string>& scrub, core::Duration timeout);
// Whether a process with that id exists (a lock holder still running).
bool ProcessAlive(int64_t pid);

// After the pre-checks: audits the plan as refused (exit 1, when run.reasons is not empty) or
// planned, and finishes a refusal or a dry run; nullopt when the failover goes ahead.
std::optional<int> AuditPlanOrFinish(FailoverContext& context, const nlohmann::json& plan);
// The recovery this run is about to start, for the cluster's lock and the block period.
store::Recovery StartingRecovery(Env& env, const FailoverRun& run, std::string new_primary);

int RunReplicationFailover(FailoverContext& context);
int RunCloudFailover(FailoverContext& context);
void RunFailoverHook(FailoverContext& context);
int FinishFailover(Env& env, const MitigateFailoverOptions& options, FailoverRun& run);

// The cloud path's pre-checks from the provider's status of the target: RDS (the chosen read
// replica of the target's instance: a replica of it, available, ReplicaLag within the bound)
// or Aurora (the cluster available with a writer; the chosen reader a member, not the writer,
// available, AuroraReplicaLag within the bound). `chosen` is the instance identifier (empty for
// Aurora: RDS picks the reader).
std::vector<steps::PreCheck> CloudPreChecks(const cloud::CloudStatus& status, bool aurora,
                                            const std::string& primary_instance,
                                            const std::string& chosen, double max_lag_seconds,
                                            bool force);

}  // namespace dbrunbook::app
