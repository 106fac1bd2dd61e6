// CloudProvider: what dbrunbook asks of a database's cloud, whatever the cloud. The runbook's
// own commands are cloud calls: the instance and cluster status, the last 15 minutes of CPU,
// freeable memory, connections, IOPS and replica lag, and the mitigations (scale up, change a
// parameter, promote a replica, fail a cluster over, reboot). AWS (aws_provider.h) is the one
// implementation; another provider implements the same interface.
//
// Errors are values (core::Result). Actions change the cloud: they are called only by the
// mitigation layer, after its plan/approve step, never by status or metrics.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cloud/cloudwatch_api.h"
#include "cloud/rds_api.h"
#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud {

// Which database the cloud knows: an RDS instance, an Aurora cluster, or an instance and its
// cluster. Region, profile and endpoint say where and as whom to ask.
struct CloudResource {
  std::string provider = "aws";
  std::string region;  // empty: resolved (AWS_REGION, AWS_DEFAULT_REGION, profile, metadata)
  std::string instance_identifier;
  std::string cluster_identifier;
  std::string profile;       // empty: AWS_PROFILE, else "default"
  std::string endpoint_url;  // empty: the service's standard endpoint
};

// The status the runbook's assessment wants: the instance and/or cluster as the API reports
// them, the replicas (read replicas of the instance, or the cluster's other members) with their
// own status, and recent events. A part that could not be read is a note, not a failure.
struct CloudStatus {
  std::string region;
  std::optional<rds::DBInstance> instance;
  std::optional<rds::DBCluster> cluster;
  std::vector<rds::DBInstance> replicas;  // read replicas, or cluster readers
  // By replica id: its lag in seconds, the highest of the last 5 minutes (ReplicaLag of an RDS
  // read replica, AuroraReplicaLag of an Aurora reader); absent when CloudWatch has no data.
  std::map<std::string, double> replica_lag_seconds;
  // What RDS has scheduled for the instance or cluster (OS and engine updates, certificate
  // rotation), from DescribePendingMaintenanceActions.
  std::vector<rds::PendingMaintenanceAction> pending_maintenance;
  std::vector<rds::Event> events;  // the last hour, oldest first
  std::vector<std::string> notes;
};

// One metric over the window: its datapoints (per period, the period's average) and the
// window's min (of the minimums), avg (of the averages, weighted by sample counts) and max.
struct MetricSummary {
  std::string name;       // "CPUUtilization"
  std::string unit;       // CloudWatch's unit for the metric: "Percent", "Bytes", "Milliseconds"
  std::string dimension;  // "DBInstanceIdentifier=orders-db"
  std::vector<core::WallTime> timestamps;  // oldest first
  std::vector<double> averages;            // per period, same length as timestamps
  std::optional<double> min;               // nullopt: no datapoint in the window
  std::optional<double> avg;
  std::optional<double> max;
  double samples = 0;  // SampleCount over the window
};

struct MetricsReport {
  core::WallTime start{};
  core::WallTime end{};
  std::chrono::seconds period{};
  std::vector<MetricSummary> metrics;
};

class CloudProvider {
 public:
  virtual ~CloudProvider() = default;

  virtual core::Result<CloudStatus> Status(const CloudResource& resource) = 0;
  // The runbook's metrics for `resource` over the `length` before now, in `period` steps.
  // Which metrics apply depends on what the resource is (a replica has ReplicaLag): `known`, a
  // Status() of it just read, saves describing it again; null reads what is needed.
  virtual core::Result<MetricsReport> Metrics(const CloudResource& resource,
                                              std::chrono::seconds length,
                                              std::chrono::seconds period,
                                              const CloudStatus* known = nullptr) = 0;

  // --- actions (the mitigation layer's; each changes the cloud) ---
  virtual core::Result<rds::DBInstance> ModifyInstance(const rds::ModifyDBInstanceRequest& r) = 0;
  virtual core::Result<rds::DBCluster> ModifyCluster(const rds::ModifyDBClusterRequest& r) = 0;
  virtual core::Result<std::vector<rds::Parameter>> DescribeParameters(
      const std::string& parameter_group) = 0;
  virtual core::Result<std::string> ModifyParameterGroup(
      const rds::ModifyDBParameterGroupRequest& r) = 0;
  // With the backup settings the promoted instance keeps (BackupRetentionPeriod,
  // PreferredBackupWindow), as the runbook does.
  virtual core::Result<rds::DBInstance> PromoteReadReplica(
      const rds::PromoteReadReplicaRequest& r) = 0;
  virtual core::Result<rds::DBCluster> FailoverCluster(
      const std::string& cluster, const std::optional<std::string>& target_instance) = 0;
  virtual core::Result<rds::DBInstance> RebootInstance(const std::string& instance,
                                                       bool force_failover) = 0;
};

// The metrics the runbook reads for an instance (replica lag only where it applies: ReplicaLag
// for an RDS read replica, AuroraReplicaLag for an Aurora reader).
std::vector<std::string> RunbookMetricsFor(const CloudStatus& status);

}  // namespace dbrunbook::cloud
