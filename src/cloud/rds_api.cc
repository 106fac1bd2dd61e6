#include "cloud/rds_api.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "cloud/query_xml.h"

namespace dbrunbook::cloud::rds {
namespace {

constexpr ListStyle kFilterList{"Filter"};
constexpr ListStyle kFilterValueList{"Value"};

core::Status Invalid(std::string_view action, std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         fmt::format("RDS {}: {}", action, message),
                         "this is a bug in the caller of the RDS API: no request was sent");
}

core::Status Required(std::string_view action, std::string_view member, bool present) {
  if (present) return core::Ok();
  return Invalid(action, fmt::format("{} is required", member));
}

core::Status CheckMaxRecords(std::string_view action, const std::optional<int64_t>& max_records) {
  // The RDS describe actions accept 20..100.
  if (max_records && (*max_records < 20 || *max_records > 100)) {
    return Invalid(action, fmt::format("MaxRecords {} is outside 20..100", *max_records));
  }
  return core::Ok();
}

core::Status CheckFilters(std::string_view action, const std::vector<Filter>& filters) {
  for (const Filter& f : filters) {
    // Filter's Name and Values are both required members in the model.
    if (f.name.empty() || f.values.empty()) {
      return Invalid(action, "every filter needs a name and at least one value");
    }
  }
  return core::Ok();
}

void AddString(QueryRequest& q, std::string name, const std::optional<std::string>& value) {
  if (value) q.Add(std::move(name), *value);
}
void AddString(QueryRequest& q, std::string name, const std::string& value) {
  if (!value.empty()) q.Add(std::move(name), value);
}
void AddInt(QueryRequest& q, std::string name, const std::optional<int64_t>& value) {
  if (value) q.AddInt(std::move(name), *value);
}
void AddBool(QueryRequest& q, std::string name, const std::optional<bool>& value) {
  if (value) q.AddBool(std::move(name), *value);
}

void AddFilters(QueryRequest& q, const std::vector<Filter>& filters) {
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::string prefix = QueryRequest::ItemPrefix("Filters", kFilterList, i + 1);
    q.Add(prefix + ".Name", filters[i].name);
    q.AddStringList(prefix + ".Values", kFilterValueList, filters[i].values);
  }
}

QueryRequest NewRequest(std::string_view action) {
  return QueryRequest(std::string(action), std::string(kApiVersion));
}

// ---- parsing ----------------------------------------------------------------------------------

using xml::Child;
using xml::FieldReader;
using xml::ParseWith;

DBInstance ReadInstance(FieldReader& r, pugi::xml_node n) {
  DBInstance i;
  r.Read(n, "DBInstanceIdentifier", i.db_instance_identifier);
  r.Read(n, "DBInstanceClass", i.db_instance_class);
  r.Read(n, "Engine", i.engine);
  r.Read(n, "EngineVersion", i.engine_version);
  r.Read(n, "DBInstanceStatus", i.status);
  r.Read(n, "MultiAZ", i.multi_az);
  if (const pugi::xml_node e = Child(n, "Endpoint")) {
    Endpoint endpoint;
    r.Read(e, "Address", endpoint.address);
    r.Read(e, "Port", endpoint.port);
    r.Read(e, "HostedZoneId", endpoint.hosted_zone_id);
    i.endpoint = std::move(endpoint);
  }
  r.Read(n, "AvailabilityZone", i.availability_zone);
  r.Read(n, "SecondaryAvailabilityZone", i.secondary_availability_zone);
  r.Read(n, "PreferredMaintenanceWindow", i.preferred_maintenance_window);
  r.Read(n, "ReadReplicaSourceDBInstanceIdentifier", i.read_replica_source_db_instance_identifier);
  i.read_replica_db_instance_identifiers =
      r.Strings(n, "ReadReplicaDBInstanceIdentifiers", "ReadReplicaDBInstanceIdentifier");
  i.read_replica_db_cluster_identifiers =
      r.Strings(n, "ReadReplicaDBClusterIdentifiers", "ReadReplicaDBClusterIdentifier");
  r.Read(n, "DBClusterIdentifier", i.db_cluster_identifier);
  r.Read(n, "PromotionTier", i.promotion_tier);
  r.ForEach(n, "DBParameterGroups", "DBParameterGroup", [&](pugi::xml_node g) {
    DBParameterGroupStatus status;
    r.Read(g, "DBParameterGroupName", status.name);
    r.Read(g, "ParameterApplyStatus", status.apply_status);
    i.db_parameter_groups.push_back(std::move(status));
  });
  if (const pugi::xml_node p = Child(n, "PendingModifiedValues")) {
    PendingModifiedValues& v = i.pending_modified_values;
    r.Read(p, "DBInstanceClass", v.db_instance_class);
    r.Read(p, "AllocatedStorage", v.allocated_storage);
    r.Read(p, "Port", v.port);
    r.Read(p, "BackupRetentionPeriod", v.backup_retention_period);
    r.Read(p, "MultiAZ", v.multi_az);
    r.Read(p, "EngineVersion", v.engine_version);
    r.Read(p, "Iops", v.iops);
    r.Read(p, "DBInstanceIdentifier", v.db_instance_identifier);
    r.Read(p, "StorageType", v.storage_type);
    r.Read(p, "StorageThroughput", v.storage_throughput);
  }
  r.Read(n, "AllocatedStorage", i.allocated_storage);
  r.Read(n, "MaxAllocatedStorage", i.max_allocated_storage);
  r.Read(n, "StorageType", i.storage_type);
  r.Read(n, "Iops", i.iops);
  r.Read(n, "BackupRetentionPeriod", i.backup_retention_period);
  r.Read(n, "InstanceCreateTime", i.instance_create_time);
  r.Read(n, "PerformanceInsightsEnabled", i.performance_insights_enabled);
  r.Read(n, "DeletionProtection", i.deletion_protection);
  r.Read(n, "DBInstanceArn", i.db_instance_arn);
  r.Read(n, "DbiResourceId", i.dbi_resource_id);
  return i;
}

DBCluster ReadCluster(FieldReader& r, pugi::xml_node n) {
  DBCluster c;
  r.Read(n, "DBClusterIdentifier", c.db_cluster_identifier);
  r.Read(n, "Status", c.status);
  r.Read(n, "Engine", c.engine);
  r.Read(n, "EngineVersion", c.engine_version);
  r.Read(n, "EngineMode", c.engine_mode);
  r.Read(n, "Endpoint", c.endpoint);
  r.Read(n, "ReaderEndpoint", c.reader_endpoint);
  r.Read(n, "Port", c.port);
  r.Read(n, "MultiAZ", c.multi_az);
  r.ForEach(n, "DBClusterMembers", "DBClusterMember", [&](pugi::xml_node m) {
    DBClusterMember member;
    r.Read(m, "DBInstanceIdentifier", member.db_instance_identifier);
    r.Read(m, "IsClusterWriter", member.is_cluster_writer);
    r.Read(m, "DBClusterParameterGroupStatus", member.db_cluster_parameter_group_status);
    r.Read(m, "PromotionTier", member.promotion_tier);
    c.members.push_back(std::move(member));
  });
  c.read_replica_identifiers = r.Strings(n, "ReadReplicaIdentifiers", "ReadReplicaIdentifier");
  r.Read(n, "ReplicationSourceIdentifier", c.replication_source_identifier);
  r.Read(n, "DBClusterParameterGroup", c.db_cluster_parameter_group);
  r.Read(n, "DBClusterInstanceClass", c.db_cluster_instance_class);
  if (const pugi::xml_node s = Child(n, "ServerlessV2ScalingConfiguration")) {
    ServerlessV2Scaling scaling;
    r.Read(s, "MinCapacity", scaling.min_capacity);
    r.Read(s, "MaxCapacity", scaling.max_capacity);
    c.serverless_v2_scaling = scaling;
  }
  r.Read(n, "BackupRetentionPeriod", c.backup_retention_period);
  r.Read(n, "ClusterCreateTime", c.cluster_create_time);
  r.Read(n, "DeletionProtection", c.deletion_protection);
  r.Read(n, "DBClusterArn", c.db_cluster_arn);
  r.Read(n, "DbClusterResourceId", c.db_cluster_resource_id);
  return c;
}

core::Result<DBInstanceResult> ParseInstanceResult(std::string_view action, std::string_view body) {
  return ParseWith<DBInstanceResult>(action, body, [](FieldReader& r, pugi::xml_node result) {
    DBInstanceResult out;
    const pugi::xml_node n = Child(result, "DBInstance");
    if (!n) r.Fail(result, "a result with a <DBInstance>");
    out.instance = ReadInstance(r, n);
    return out;
  });
}

core::Result<DBClusterResult> ParseClusterResult(std::string_view action, std::string_view body) {
  return ParseWith<DBClusterResult>(action, body, [](FieldReader& r, pugi::xml_node result) {
    DBClusterResult out;
    const pugi::xml_node n = Child(result, "DBCluster");
    if (!n) r.Fail(result, "a result with a <DBCluster>");
    out.cluster = ReadCluster(r, n);
    return out;
  });
}

}  // namespace

std::string_view ApplyMethodName(ApplyMethod method) {
  return method == ApplyMethod::kImmediate ? "immediate" : "pending-reboot";
}

bool PendingModifiedValues::empty() const {
  return !db_instance_class && !allocated_storage && !port && !backup_retention_period &&
         !multi_az && !engine_version && !iops && !db_instance_identifier && !storage_type &&
         !storage_throughput;
}

const DBClusterMember* DBCluster::Writer() const {
  for (const DBClusterMember& m : members) {
    if (m.is_cluster_writer) return &m;
  }
  return nullptr;
}

core::Result<QueryRequest> BuildQuery(const DescribeDBInstancesRequest& request) {
  constexpr std::string_view kAction = "DescribeDBInstances";
  if (auto ok = CheckFilters(kAction, request.filters); !ok) return core::Fail(ok.error());
  if (auto ok = CheckMaxRecords(kAction, request.max_records); !ok) return core::Fail(ok.error());
  QueryRequest q = NewRequest(kAction);
  AddString(q, "DBInstanceIdentifier", request.db_instance_identifier);
  AddFilters(q, request.filters);
  AddInt(q, "MaxRecords", request.max_records);
  AddString(q, "Marker", request.marker);
  return q;
}

core::Result<QueryRequest> BuildQuery(const DescribeDBClustersRequest& request) {
  constexpr std::string_view kAction = "DescribeDBClusters";
  if (auto ok = CheckFilters(kAction, request.filters); !ok) return core::Fail(ok.error());
  if (auto ok = CheckMaxRecords(kAction, request.max_records); !ok) return core::Fail(ok.error());
  QueryRequest q = NewRequest(kAction);
  AddString(q, "DBClusterIdentifier", request.db_cluster_identifier);
  AddFilters(q, request.filters);
  AddInt(q, "MaxRecords", request.max_records);
  AddString(q, "Marker", request.marker);
  return q;
}

core::Result<QueryRequest> BuildQuery(const ModifyDBInstanceRequest& r) {
  constexpr std::string_view kAction = "ModifyDBInstance";
  if (auto ok = Required(kAction, "DBInstanceIdentifier", !r.db_instance_identifier.empty()); !ok) {
    return core::Fail(ok.error());
  }
  if (r.db_instance_class && r.db_instance_class->empty()) {
    return core::Fail(Invalid(kAction, "DBInstanceClass is empty").error());
  }
  QueryRequest q = NewRequest(kAction);
  // The model's member order.
  q.Add("DBInstanceIdentifier", r.db_instance_identifier);
  AddInt(q, "AllocatedStorage", r.allocated_storage);
  AddString(q, "DBInstanceClass", r.db_instance_class);
  AddBool(q, "ApplyImmediately", r.apply_immediately);
  AddString(q, "DBParameterGroupName", r.db_parameter_group_name);
  AddInt(q, "BackupRetentionPeriod", r.backup_retention_period);
  AddBool(q, "MultiAZ", r.multi_az);
  AddString(q, "EngineVersion", r.engine_version);
  AddBool(q, "AllowMajorVersionUpgrade", r.allow_major_version_upgrade);
  AddInt(q, "Iops", r.iops);
  AddString(q, "StorageType", r.storage_type);
  AddInt(q, "PromotionTier", r.promotion_tier);
  AddBool(q, "EnablePerformanceInsights", r.enable_performance_insights);
  AddBool(q, "DeletionProtection", r.deletion_protection);
  AddInt(q, "MaxAllocatedStorage", r.max_allocated_storage);
  return q;
}

core::Result<QueryRequest> BuildQuery(const ModifyDBClusterRequest& r) {
  constexpr std::string_view kAction = "ModifyDBCluster";
  if (auto ok = Required(kAction, "DBClusterIdentifier", !r.db_cluster_identifier.empty()); !ok) {
    return core::Fail(ok.error());
  }
  if (const auto& s = r.serverless_v2_scaling) {
    for (const auto& capacity : {s->min_capacity, s->max_capacity}) {
      if (capacity && (!std::isfinite(*capacity) || *capacity < 0)) {
        return core::Fail(
            Invalid(kAction, "ServerlessV2 capacity must be a finite ACU count >= 0").error());
      }
    }
    if (s->min_capacity && s->max_capacity && *s->min_capacity > *s->max_capacity) {
      return core::Fail(Invalid(kAction, fmt::format("ServerlessV2 MinCapacity {} is above "
                                                     "MaxCapacity {}",
                                                     *s->min_capacity, *s->max_capacity))
                            .error());
    }
  }
  QueryRequest q = NewRequest(kAction);
  q.Add("DBClusterIdentifier", r.db_cluster_identifier);
  AddBool(q, "ApplyImmediately", r.apply_immediately);
  AddInt(q, "BackupRetentionPeriod", r.backup_retention_period);
  AddString(q, "DBClusterParameterGroupName", r.db_cluster_parameter_group_name);
  AddString(q, "EngineVersion", r.engine_version);
  AddBool(q, "AllowMajorVersionUpgrade", r.allow_major_version_upgrade);
  AddString(q, "DBInstanceParameterGroupName", r.db_instance_parameter_group_name);
  AddBool(q, "DeletionProtection", r.deletion_protection);
  AddString(q, "DBClusterInstanceClass", r.db_cluster_instance_class);
  AddInt(q, "AllocatedStorage", r.allocated_storage);
  AddString(q, "StorageType", r.storage_type);
  AddInt(q, "Iops", r.iops);
  if (const auto& s = r.serverless_v2_scaling) {
    if (s->min_capacity)
      q.AddDouble("ServerlessV2ScalingConfiguration.MinCapacity", *s->min_capacity);
    if (s->max_capacity)
      q.AddDouble("ServerlessV2ScalingConfiguration.MaxCapacity", *s->max_capacity);
  }
  return q;
}

core::Result<QueryRequest> BuildQuery(const ModifyDBParameterGroupRequest& r) {
  constexpr std::string_view kAction = "ModifyDBParameterGroup";
  if (auto ok = Required(kAction, "DBParameterGroupName", !r.db_parameter_group_name.empty());
      !ok) {
    return core::Fail(ok.error());
  }
  if (r.parameters.empty() || r.parameters.size() > kMaxParametersPerModify) {
    return core::Fail(
        Invalid(kAction, fmt::format("{} parameters given; RDS takes 1 to {} per call",
                                     r.parameters.size(), kMaxParametersPerModify))
            .error());
  }
  for (const ParameterChange& p : r.parameters) {
    if (p.name.empty()) return core::Fail(Invalid(kAction, "a parameter has no name").error());
  }
  QueryRequest q = NewRequest(kAction);
  q.Add("DBParameterGroupName", r.db_parameter_group_name);
  for (size_t i = 0; i < r.parameters.size(); ++i) {
    const std::string prefix = QueryRequest::ItemPrefix("Parameters", {"Parameter"}, i + 1);
    q.Add(prefix + ".ParameterName", r.parameters[i].name);
    q.Add(prefix + ".ParameterValue", r.parameters[i].value);
    q.Add(prefix + ".ApplyMethod", std::string(ApplyMethodName(r.parameters[i].apply_method)));
  }
  return q;
}

core::Result<QueryRequest> BuildQuery(const DescribeDBParametersRequest& r) {
  constexpr std::string_view kAction = "DescribeDBParameters";
  if (auto ok = Required(kAction, "DBParameterGroupName", !r.db_parameter_group_name.empty());
      !ok) {
    return core::Fail(ok.error());
  }
  if (auto ok = CheckFilters(kAction, r.filters); !ok) return core::Fail(ok.error());
  if (auto ok = CheckMaxRecords(kAction, r.max_records); !ok) return core::Fail(ok.error());
  QueryRequest q = NewRequest(kAction);
  q.Add("DBParameterGroupName", r.db_parameter_group_name);
  AddString(q, "Source", r.source);
  AddFilters(q, r.filters);
  AddInt(q, "MaxRecords", r.max_records);
  AddString(q, "Marker", r.marker);
  return q;
}

core::Result<QueryRequest> BuildQuery(const PromoteReadReplicaRequest& r) {
  constexpr std::string_view kAction = "PromoteReadReplica";
  if (auto ok = Required(kAction, "DBInstanceIdentifier", !r.db_instance_identifier.empty()); !ok) {
    return core::Fail(ok.error());
  }
  if (r.backup_retention_period &&
      (*r.backup_retention_period < 0 || *r.backup_retention_period > 35)) {
    return core::Fail(Invalid(kAction, "BackupRetentionPeriod must be 0..35 days").error());
  }
  QueryRequest q = NewRequest(kAction);
  q.Add("DBInstanceIdentifier", r.db_instance_identifier);
  AddInt(q, "BackupRetentionPeriod", r.backup_retention_period);
  AddString(q, "PreferredBackupWindow", r.preferred_backup_window);
  return q;
}

core::Result<QueryRequest> BuildQuery(const FailoverDBClusterRequest& r) {
  constexpr std::string_view kAction = "FailoverDBCluster";
  if (auto ok = Required(kAction, "DBClusterIdentifier", !r.db_cluster_identifier.empty()); !ok) {
    return core::Fail(ok.error());
  }
  QueryRequest q = NewRequest(kAction);
  q.Add("DBClusterIdentifier", r.db_cluster_identifier);
  AddString(q, "TargetDBInstanceIdentifier", r.target_db_instance_identifier);
  return q;
}

core::Result<QueryRequest> BuildQuery(const RebootDBInstanceRequest& r) {
  constexpr std::string_view kAction = "RebootDBInstance";
  if (auto ok = Required(kAction, "DBInstanceIdentifier", !r.db_instance_identifier.empty()); !ok) {
    return core::Fail(ok.error());
  }
  QueryRequest q = NewRequest(kAction);
  q.Add("DBInstanceIdentifier", r.db_instance_identifier);
  AddBool(q, "ForceFailover", r.force_failover);
  return q;
}

core::Result<QueryRequest> BuildQuery(const DescribeEventsRequest& r) {
  constexpr std::string_view kAction = "DescribeEvents";
  if (auto ok = CheckFilters(kAction, r.filters); !ok) return core::Fail(ok.error());
  if (auto ok = CheckMaxRecords(kAction, r.max_records); !ok) return core::Fail(ok.error());
  if (r.start_time && r.end_time && *r.start_time > *r.end_time) {
    return core::Fail(Invalid(kAction, "StartTime is after EndTime").error());
  }
  QueryRequest q = NewRequest(kAction);
  AddString(q, "SourceIdentifier", r.source_identifier);
  AddString(q, "SourceType", r.source_type);
  if (r.start_time) q.AddTimestamp("StartTime", *r.start_time);
  if (r.end_time) q.AddTimestamp("EndTime", *r.end_time);
  AddInt(q, "Duration", r.duration_minutes);
  if (!r.event_categories.empty()) {
    q.AddStringList("EventCategories", {"EventCategory"}, r.event_categories);
  }
  AddFilters(q, r.filters);
  AddInt(q, "MaxRecords", r.max_records);
  AddString(q, "Marker", r.marker);
  return q;
}

core::Result<QueryRequest> BuildQuery(const DescribePendingMaintenanceActionsRequest& r) {
  constexpr std::string_view kAction = "DescribePendingMaintenanceActions";
  if (auto ok = CheckFilters(kAction, r.filters); !ok) return core::Fail(ok.error());
  if (auto ok = CheckMaxRecords(kAction, r.max_records); !ok) return core::Fail(ok.error());
  QueryRequest q = NewRequest(kAction);
  AddString(q, "ResourceIdentifier", r.resource_identifier);
  AddFilters(q, r.filters);
  AddString(q, "Marker", r.marker);
  AddInt(q, "MaxRecords", r.max_records);
  return q;
}

core::Result<DescribeDBInstancesResult> ParseDescribeDBInstancesResponse(std::string_view body) {
  return ParseWith<DescribeDBInstancesResult>(
      "DescribeDBInstances", body, [](FieldReader& r, pugi::xml_node result) {
        DescribeDBInstancesResult out;
        r.ForEach(result, "DBInstances", "DBInstance",
                  [&](pugi::xml_node n) { out.instances.push_back(ReadInstance(r, n)); });
        r.Read(result, "Marker", out.marker);
        return out;
      });
}

core::Result<DescribeDBClustersResult> ParseDescribeDBClustersResponse(std::string_view body) {
  return ParseWith<DescribeDBClustersResult>(
      "DescribeDBClusters", body, [](FieldReader& r, pugi::xml_node result) {
        DescribeDBClustersResult out;
        r.ForEach(result, "DBClusters", "DBCluster",
                  [&](pugi::xml_node n) { out.clusters.push_back(ReadCluster(r, n)); });
        r.Read(result, "Marker", out.marker);
        return out;
      });
}

core::Result<DBInstanceResult> ParseModifyDBInstanceResponse(std::string_view body) {
  return ParseInstanceResult("ModifyDBInstance", body);
}

core::Result<DBInstanceResult> ParsePromoteReadReplicaResponse(std::string_view body) {
  return ParseInstanceResult("PromoteReadReplica", body);
}

core::Result<DBInstanceResult> ParseRebootDBInstanceResponse(std::string_view body) {
  return ParseInstanceResult("RebootDBInstance", body);
}

core::Result<DBClusterResult> ParseModifyDBClusterResponse(std::string_view body) {
  return ParseClusterResult("ModifyDBCluster", body);
}

core::Result<DBClusterResult> ParseFailoverDBClusterResponse(std::string_view body) {
  return ParseClusterResult("FailoverDBCluster", body);
}

core::Result<ModifyDBParameterGroupResult> ParseModifyDBParameterGroupResponse(
    std::string_view body) {
  return ParseWith<ModifyDBParameterGroupResult>(
      "ModifyDBParameterGroup", body, [](FieldReader& r, pugi::xml_node result) {
        ModifyDBParameterGroupResult out;
        r.Read(result, "DBParameterGroupName", out.db_parameter_group_name);
        return out;
      });
}

core::Result<DescribeDBParametersResult> ParseDescribeDBParametersResponse(std::string_view body) {
  return ParseWith<DescribeDBParametersResult>(
      "DescribeDBParameters", body, [](FieldReader& r, pugi::xml_node result) {
        DescribeDBParametersResult out;
        r.ForEach(result, "Parameters", "Parameter", [&](pugi::xml_node n) {
          Parameter p;
          r.Read(n, "ParameterName", p.name);
          r.Read(n, "ParameterValue", p.value);
          r.Read(n, "Description", p.description);
          r.Read(n, "Source", p.source);
          r.Read(n, "ApplyType", p.apply_type);
          r.Read(n, "DataType", p.data_type);
          r.Read(n, "AllowedValues", p.allowed_values);
          r.Read(n, "IsModifiable", p.is_modifiable);
          r.Read(n, "MinimumEngineVersion", p.minimum_engine_version);
          r.Read(n, "ApplyMethod", p.apply_method);
          out.parameters.push_back(std::move(p));
        });
        r.Read(result, "Marker", out.marker);
        return out;
      });
}

core::Result<DescribeEventsResult> ParseDescribeEventsResponse(std::string_view body) {
  return ParseWith<DescribeEventsResult>(
      "DescribeEvents", body, [](FieldReader& r, pugi::xml_node result) {
        DescribeEventsResult out;
        r.ForEach(result, "Events", "Event", [&](pugi::xml_node n) {
          Event e;
          r.Read(n, "SourceIdentifier", e.source_identifier);
          r.Read(n, "SourceType", e.source_type);
          r.Read(n, "Message", e.message);
          e.event_categories = r.Strings(n, "EventCategories", "EventCategory");
          r.Read(n, "Date", e.date);
          r.Read(n, "SourceArn", e.source_arn);
          out.events.push_back(std::move(e));
        });
        r.Read(result, "Marker", out.marker);
        return out;
      });
}

// The model's PendingMaintenanceActionsMessage: PendingMaintenanceActions is a list of
// ResourcePendingMaintenanceActions, each with PendingMaintenanceActionDetails, a list of
// PendingMaintenanceAction.
core::Result<DescribePendingMaintenanceActionsResult>
ParseDescribePendingMaintenanceActionsResponse(std::string_view body) {
  return ParseWith<DescribePendingMaintenanceActionsResult>(
      "DescribePendingMaintenanceActions", body, [](FieldReader& r, pugi::xml_node result) {
        DescribePendingMaintenanceActionsResult out;
        r.ForEach(result, "PendingMaintenanceActions", "ResourcePendingMaintenanceActions",
                  [&](pugi::xml_node n) {
                    ResourcePendingMaintenance resource;
                    r.Read(n, "ResourceIdentifier", resource.resource_identifier);
                    r.ForEach(n, "PendingMaintenanceActionDetails", "PendingMaintenanceAction",
                              [&](pugi::xml_node a) {
                                PendingMaintenanceAction action;
                                r.Read(a, "Action", action.action);
                                r.Read(a, "Description", action.description);
                                r.Read(a, "AutoAppliedAfterDate", action.auto_applied_after_date);
                                r.Read(a, "ForcedApplyDate", action.forced_apply_date);
                                r.Read(a, "CurrentApplyDate", action.current_apply_date);
                                r.Read(a, "OptInStatus", action.opt_in_status);
                                resource.actions.push_back(std::move(action));
                              });
                    out.resources.push_back(std::move(resource));
                  });
        r.Read(result, "Marker", out.marker);
        return out;
      });
}

}  // namespace dbrunbook::cloud::rds
