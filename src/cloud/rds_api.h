// The RDS Query API (version 2014-10-31) actions the incident responder uses: describe instances,
// clusters, parameters and events; modify an instance, a cluster (including Aurora Serverless v2
// capacity) and a parameter group; promote a read replica; fail over a cluster; reboot (with
// failover). Typed requests in, Query parameters out (BuildQuery); response bodies in, typed
// results out (Parse*Response).
//
// Wire names follow the service model (../shared/conformance/aws/models/rds-...service-2.json):
// parameters are sent in the model's member order, lists with their member names
// (Filters.Filter.N.Name, Filters.Filter.N.Values.Value.N, Parameters.Parameter.N.ParameterName).
// Only members the caller set are sent (std::optional / non-empty).
//
// Failure: BuildQuery validates the whole request first and returns kInvalidArgument without a
// request when a required member is missing or a value is out of range. Parse*Response returns
// kParse naming the action for anything that is not the action's response document, and the
// AwsError's core::Error when the body is an <ErrorResponse>. Pagination: results carry the
// `marker` to pass in the next request's `marker`, empty on the last page.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/query_protocol.h"
#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud::rds {

inline constexpr std::string_view kApiVersion = "2014-10-31";

// ---- requests ---------------------------------------------------------------------------------

// A describe filter ("engine" = {"mysql", "aurora-mysql"}).
struct Filter {
  std::string name;
  std::vector<std::string> values;
};

struct DescribeDBInstancesRequest {
  std::string db_instance_identifier;  // empty: all instances
  std::vector<Filter> filters;
  std::optional<int64_t> max_records;  // 20..100
  std::string marker;
};

struct DescribeDBClustersRequest {
  std::string db_cluster_identifier;  // empty: all clusters
  std::vector<Filter> filters;
  std::optional<int64_t> max_records;
  std::string marker;
};

struct ModifyDBInstanceRequest {
  std::string db_instance_identifier;  // required
  std::optional<int64_t> allocated_storage;
  std::optional<std::string> db_instance_class;
  std::optional<bool> apply_immediately;
  std::optional<std::string> db_parameter_group_name;
  std::optional<int64_t> backup_retention_period;
  std::optional<bool> multi_az;
  std::optional<std::string> engine_version;
  std::optional<bool> allow_major_version_upgrade;
  std::optional<int64_t> iops;
  std::optional<std::string> storage_type;
  std::optional<int64_t> promotion_tier;
  std::optional<bool> enable_performance_insights;
  std::optional<bool> deletion_protection;
  std::optional<int64_t> max_allocated_storage;
};

// Aurora Serverless v2 capacity, in ACUs (0.5 steps).
struct ServerlessV2Scaling {
  std::optional<double> min_capacity;
  std::optional<double> max_capacity;
};

struct ModifyDBClusterRequest {
  std::string db_cluster_identifier;  // required
  std::optional<bool> apply_immediately;
  std::optional<int64_t> backup_retention_period;
  std::optional<std::string> db_cluster_parameter_group_name;
  std::optional<std::string> engine_version;
  std::optional<bool> allow_major_version_upgrade;
  std::optional<std::string> db_instance_parameter_group_name;
  std::optional<bool> deletion_protection;
  std::optional<std::string> db_cluster_instance_class;
  std::optional<int64_t> allocated_storage;
  std::optional<std::string> storage_type;
  std::optional<int64_t> iops;
  std::optional<ServerlessV2Scaling> serverless_v2_scaling;
};

enum class ApplyMethod { kImmediate, kPendingReboot };
std::string_view ApplyMethodName(ApplyMethod method);  // "immediate", "pending-reboot"

struct ParameterChange {
  std::string name;
  std::string value;
  ApplyMethod apply_method = ApplyMethod::kPendingReboot;
};

// RDS takes at most 20 parameters per ModifyDBParameterGroup call.
inline constexpr size_t kMaxParametersPerModify = 20;

struct ModifyDBParameterGroupRequest {
  std::string db_parameter_group_name;      // required
  std::vector<ParameterChange> parameters;  // required, 1..20
};

struct DescribeDBParametersRequest {
  std::string db_parameter_group_name;  // required
  std::optional<std::string> source;    // "user", "system", "engine-default"
  std::vector<Filter> filters;
  std::optional<int64_t> max_records;
  std::string marker;
};

struct PromoteReadReplicaRequest {
  std::string db_instance_identifier;  // required
  std::optional<int64_t> backup_retention_period;
  std::optional<std::string> preferred_backup_window;
};

struct FailoverDBClusterRequest {
  std::string db_cluster_identifier;  // required
  std::optional<std::string> target_db_instance_identifier;
};

struct RebootDBInstanceRequest {
  std::string db_instance_identifier;  // required
  std::optional<bool> force_failover;  // Multi-AZ: reboot through a failover
};

struct DescribeEventsRequest {
  std::optional<std::string> source_identifier;
  std::optional<std::string> source_type;  // "db-instance", "db-cluster", ...
  std::optional<core::WallTime> start_time;
  std::optional<core::WallTime> end_time;
  std::optional<int64_t> duration_minutes;
  std::vector<std::string> event_categories;
  std::vector<Filter> filters;
  std::optional<int64_t> max_records;
  std::string marker;
};

core::Result<QueryRequest> BuildQuery(const DescribeDBInstancesRequest& request);
core::Result<QueryRequest> BuildQuery(const DescribeDBClustersRequest& request);
core::Result<QueryRequest> BuildQuery(const ModifyDBInstanceRequest& request);
core::Result<QueryRequest> BuildQuery(const ModifyDBClusterRequest& request);
core::Result<QueryRequest> BuildQuery(const ModifyDBParameterGroupRequest& request);
core::Result<QueryRequest> BuildQuery(const DescribeDBParametersRequest& request);
core::Result<QueryRequest> BuildQuery(const PromoteReadReplicaRequest& request);
core::Result<QueryRequest> BuildQuery(const FailoverDBClusterRequest& request);
core::Result<QueryRequest> BuildQuery(const RebootDBInstanceRequest& request);
core::Result<QueryRequest> BuildQuery(const DescribeEventsRequest& request);

// DescribePendingMaintenanceActions: the maintenance RDS has scheduled (OS and engine updates,
// certificate rotation) for a resource, by its ARN; or for every resource with filters.
struct DescribePendingMaintenanceActionsRequest {
  std::optional<std::string> resource_identifier;  // an instance or cluster ARN
  std::vector<Filter> filters;                     // db-instance-id, db-cluster-id
  std::optional<int64_t> max_records;
  std::string marker;
};
core::Result<QueryRequest> BuildQuery(const DescribePendingMaintenanceActionsRequest& request);

// ---- results ----------------------------------------------------------------------------------

struct Endpoint {
  std::string address;
  int64_t port = 0;
  std::string hosted_zone_id;
};

struct DBParameterGroupStatus {
  std::string name;
  std::string apply_status;  // "in-sync", "pending-reboot", "applying"
};

// What a modification not yet applied will change (empty when nothing is pending).
struct PendingModifiedValues {
  std::optional<std::string> db_instance_class;
  std::optional<int64_t> allocated_storage;
  std::optional<int64_t> port;
  std::optional<int64_t> backup_retention_period;
  std::optional<bool> multi_az;
  std::optional<std::string> engine_version;
  std::optional<int64_t> iops;
  std::optional<std::string> db_instance_identifier;
  std::optional<std::string> storage_type;
  std::optional<int64_t> storage_throughput;
  bool empty() const;
};

struct DBInstance {
  std::string db_instance_identifier;
  std::string db_instance_class;
  std::string engine;
  std::string engine_version;
  std::string status;  // DBInstanceStatus: "available", "modifying", "rebooting", ...
  bool multi_az = false;
  std::optional<Endpoint> endpoint;
  std::string availability_zone;
  std::string secondary_availability_zone;
  std::string preferred_maintenance_window;  // "wed:03:32-wed:04:02" (UTC)
  std::string read_replica_source_db_instance_identifier;  // set on a replica
  std::vector<std::string> read_replica_db_instance_identifiers;
  std::vector<std::string> read_replica_db_cluster_identifiers;
  std::string db_cluster_identifier;  // set on an Aurora cluster member
  std::optional<int64_t> promotion_tier;
  std::vector<DBParameterGroupStatus> db_parameter_groups;
  PendingModifiedValues pending_modified_values;
  int64_t allocated_storage = 0;
  std::optional<int64_t> max_allocated_storage;
  std::string storage_type;
  std::optional<int64_t> iops;
  int64_t backup_retention_period = 0;
  std::optional<core::WallTime> instance_create_time;
  std::optional<bool> performance_insights_enabled;
  bool deletion_protection = false;
  std::string db_instance_arn;
  std::string dbi_resource_id;
};

struct DBClusterMember {
  std::string db_instance_identifier;
  bool is_cluster_writer = false;
  std::string db_cluster_parameter_group_status;
  std::optional<int64_t> promotion_tier;
};

struct DBCluster {
  std::string db_cluster_identifier;
  std::string status;
  std::string engine;
  std::string engine_version;
  std::string engine_mode;  // "provisioned", "serverless", ...
  std::string endpoint;
  std::string reader_endpoint;
  std::optional<int64_t> port;
  std::optional<bool> multi_az;
  std::vector<DBClusterMember> members;
  std::vector<std::string> read_replica_identifiers;
  std::string replication_source_identifier;
  std::string db_cluster_parameter_group;
  std::string db_cluster_instance_class;
  std::optional<ServerlessV2Scaling> serverless_v2_scaling;
  std::optional<int64_t> backup_retention_period;
  std::optional<core::WallTime> cluster_create_time;
  std::optional<bool> deletion_protection;
  std::string db_cluster_arn;
  std::string db_cluster_resource_id;

  // The member whose IsClusterWriter is true, or nullptr (a cluster mid-failover can have none).
  const DBClusterMember* Writer() const;
};

struct Parameter {
  std::string name;
  std::optional<std::string> value;  // absent when the parameter has no value set
  std::string description;
  std::string source;      // "engine-default", "system", "user"
  std::string apply_type;  // "static" (needs a reboot) or "dynamic"
  std::string data_type;
  std::string allowed_values;
  bool is_modifiable = false;
  std::string minimum_engine_version;
  std::string apply_method;
};

struct Event {
  std::string source_identifier;
  std::string source_type;
  std::string message;
  std::vector<std::string> event_categories;
  std::optional<core::WallTime> date;
  std::string source_arn;
};

struct DescribeDBInstancesResult {
  std::vector<DBInstance> instances;
  std::string marker;
  std::string request_id;
};

struct DescribeDBClustersResult {
  std::vector<DBCluster> clusters;
  std::string marker;
  std::string request_id;
};

// ModifyDBInstance, PromoteReadReplica and RebootDBInstance answer with the instance.
struct DBInstanceResult {
  DBInstance instance;
  std::string request_id;
};

// ModifyDBCluster and FailoverDBCluster answer with the cluster.
struct DBClusterResult {
  DBCluster cluster;
  std::string request_id;
};

struct ModifyDBParameterGroupResult {
  std::string db_parameter_group_name;
  std::string request_id;
};

struct DescribeDBParametersResult {
  std::vector<Parameter> parameters;
  std::string marker;
  std::string request_id;
};

struct PendingMaintenanceAction {
  std::string action;  // "system-update", "db-upgrade", "ca-certificate-rotation", ...
  std::string description;
  std::optional<core::WallTime> auto_applied_after_date;
  std::optional<core::WallTime> forced_apply_date;
  std::optional<core::WallTime> current_apply_date;
  std::string opt_in_status;  // "immediate", "next-maintenance", "undo-opt-in"
};
struct ResourcePendingMaintenance {
  std::string resource_identifier;  // ARN
  std::vector<PendingMaintenanceAction> actions;
};
struct DescribePendingMaintenanceActionsResult {
  std::vector<ResourcePendingMaintenance> resources;
  std::string marker;
  std::string request_id;
};

struct DescribeEventsResult {
  std::vector<Event> events;
  std::string marker;
  std::string request_id;
};

core::Result<DescribeDBInstancesResult> ParseDescribeDBInstancesResponse(std::string_view body);
core::Result<DescribeDBClustersResult> ParseDescribeDBClustersResponse(std::string_view body);
core::Result<DBInstanceResult> ParseModifyDBInstanceResponse(std::string_view body);
core::Result<DBInstanceResult> ParsePromoteReadReplicaResponse(std::string_view body);
core::Result<DBInstanceResult> ParseRebootDBInstanceResponse(std::string_view body);
core::Result<DBClusterResult> ParseModifyDBClusterResponse(std::string_view body);
core::Result<DBClusterResult> ParseFailoverDBClusterResponse(std::string_view body);
core::Result<ModifyDBParameterGroupResult> ParseModifyDBParameterGroupResponse(
    std::string_view body);
core::Result<DescribeDBParametersResult> ParseDescribeDBParametersResponse(std::string_view body);
core::Result<DescribeEventsResult> ParseDescribeEventsResponse(std::string_view body);
core::Result<DescribePendingMaintenanceActionsResult>
ParseDescribePendingMaintenanceActionsResponse(std::string_view body);

}  // namespace dbrunbook::cloud::rds
