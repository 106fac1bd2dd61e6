#include "cloud/aws_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

namespace dbrunbook::cloud {
namespace {

// At most this many pages of one Describe* or GetMetricData (a runaway Marker loop from a
// broken endpoint must end).
constexpr int kMaxPages = 100;

core::Error PagesExceeded(std::string_view action) {
  return core::Error{core::ErrorCode::kParse,
                     fmt::format("{}: more than {} pages (the endpoint keeps returning a Marker)",
                                 action, kMaxPages),
                     "check endpoint_url: the endpoint does not behave like AWS",
                     0,
                     {}};
}

template <typename T>
core::Result<T> CallAndParse(AwsQueryClient& client, core::Result<QueryRequest> request,
                             Idempotency idempotency, core::Result<T> (*parse)(std::string_view)) {
  if (!request) return core::Fail(request.error());
  auto body = client.Call(*request, idempotency);
  if (!body) return core::Fail(body.error());
  return parse(*body);
}

}  // namespace

std::vector<std::string> RunbookMetricsFor(const CloudStatus& status) {
  std::vector<std::string> names = {"CPUUtilization", "FreeableMemory", "DatabaseConnections",
                                    "ReadIOPS", "WriteIOPS"};
  if (status.instance) {
    const rds::DBInstance& i = *status.instance;
    if (!i.read_replica_source_db_instance_identifier.empty()) names.emplace_back("ReplicaLag");
    if (!i.db_cluster_identifier.empty()) {
      bool writer = false;
      if (status.cluster) {
        const rds::DBClusterMember* w = status.cluster->Writer();
        writer = w != nullptr && w->db_instance_identifier == i.db_instance_identifier;
      }
      if (!writer) names.emplace_back("AuroraReplicaLag");
    }
  } else if (status.cluster) {
    names.emplace_back("AuroraReplicaLagMaximum");
  }
  return names;
}

AwsProvider::AwsProvider(AwsProviderOptions options, const core::Environment& environment,
                         HttpTransport& transport, core::Clock& clock)
    : clock_(clock),
      resolver_(std::move(options.resolver), environment, transport, clock),
      retry_(options.retry, clock),
      rds_(kRdsService, resolver_, transport, retry_, clock, signer_),
      cloudwatch_(kCloudWatchService, resolver_, transport, retry_, clock, signer_) {}

AwsProvider::~AwsProvider() = default;

core::Result<std::unique_ptr<AwsProvider>> AwsProvider::Create(AwsProviderOptions options,
                                                               const core::Environment& environment,
                                                               core::Clock& clock) {
  CurlTransportOptions transport_options;
  transport_options.ca_file = options.ca_file;
  transport_options.connect_timeout = options.connect_timeout;
  transport_options.timeout = options.request_timeout;
  auto transport = CurlTransport::Create(transport_options);
  if (!transport) return core::Fail(transport.error());
  auto provider =
      std::make_unique<AwsProvider>(std::move(options), environment, **transport, clock);
  provider->owned_transport_ = std::move(*transport);
  return provider;
}

core::Result<std::vector<rds::DBInstance>> AwsProvider::DescribeInstances(
    const rds::DescribeDBInstancesRequest& request) {
  std::vector<rds::DBInstance> out;
  rds::DescribeDBInstancesRequest page = request;
  for (int n = 0; n < kMaxPages; ++n) {
    auto result = CallAndParse(rds_, rds::BuildQuery(page), Idempotency::kIdempotent,
                               &rds::ParseDescribeDBInstancesResponse);
    if (!result) return core::Fail(result.error());
    for (auto& i : result->instances) out.push_back(std::move(i));
    if (result->marker.empty()) return out;
    page.marker = result->marker;
  }
  return core::Fail(PagesExceeded("DescribeDBInstances"));
}

core::Result<CloudStatus> AwsProvider::Status(const CloudResource& resource) {
  CloudStatus status;
  auto region = resolver_.Region();
  if (!region) return core::Fail(region.error());
  status.region = *region;
  if (resource.instance_identifier.empty() && resource.cluster_identifier.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           "no RDS instance or cluster identifier to ask AWS about",
                           "set cloud.db_instance_identifier and/or cloud.db_cluster_identifier");
  }
  if (!resource.instance_identifier.empty()) {
    rds::DescribeDBInstancesRequest request;
    request.db_instance_identifier = resource.instance_identifier;
    auto instances = DescribeInstances(request);
    if (!instances) return core::Fail(instances.error());
    if (instances->empty()) {
      return core::MakeError(core::ErrorCode::kNotFound,
                             fmt::format("RDS DescribeDBInstances: no instance '{}' in {}",
                                         resource.instance_identifier, status.region),
                             "check cloud.db_instance_identifier and the region");
    }
    status.instance = std::move(instances->front());
  }
  std::string cluster_id = resource.cluster_identifier;
  if (cluster_id.empty() && status.instance) cluster_id = status.instance->db_cluster_identifier;
  if (!cluster_id.empty()) {
    rds::DescribeDBClustersRequest request;
    request.db_cluster_identifier = cluster_id;
    auto clusters = CallAndParse(rds_, rds::BuildQuery(request), Idempotency::kIdempotent,
                                 &rds::ParseDescribeDBClustersResponse);
    if (!clusters) {
      // Asked for by name: a failure is the answer. Found through the instance: a note.
      if (!resource.cluster_identifier.empty()) return core::Fail(clusters.error());
      status.notes.push_back(fmt::format("cluster {}: {}", cluster_id, clusters.error().message));
    } else if (!clusters->clusters.empty()) {
      status.cluster = std::move(clusters->clusters.front());
    }
  }

  // Replicas: the instance's read replicas, or the cluster's members other than the writer.
  std::vector<std::string> replica_ids;
  if (status.instance) replica_ids = status.instance->read_replica_db_instance_identifiers;
  if (status.cluster) {
    for (const auto& m : status.cluster->members) {
      if (m.is_cluster_writer) continue;
      if (status.instance && m.db_instance_identifier == status.instance->db_instance_identifier) {
        continue;
      }
      replica_ids.push_back(m.db_instance_identifier);
    }
  }
  for (const std::string& id : replica_ids) {
    rds::DescribeDBInstancesRequest request;
    request.db_instance_identifier = id;
    auto replica = DescribeInstances(request);
    if (!replica || replica->empty()) {
      status.notes.push_back(
          fmt::format("replica {}: {}", id, replica ? "not found" : replica.error().message));
      continue;
    }
    status.replicas.push_back(std::move(replica->front()));
  }

  // Each replica's lag: the highest of the last 5 minutes, in seconds.
  if (!status.replicas.empty()) {
    cloudwatch::GetMetricDataRequest lag;
    const cloudwatch::MetricWindow window = cloudwatch::WindowEndingAt(
        clock_.WallNow(), std::chrono::minutes(5), std::chrono::seconds(60));
    lag.start_time = window.start;
    lag.end_time = window.end;
    for (size_t k = 0; k < status.replicas.size(); ++k) {
      const rds::DBInstance& r = status.replicas[k];
      cloudwatch::MetricDataQuery q;
      q.id = fmt::format("r{}", k);
      q.metric_stat = cloudwatch::MetricStat{
          cloudwatch::Metric{std::string(cloudwatch::kRdsNamespace),
                             r.db_cluster_identifier.empty() ? "ReplicaLag" : "AuroraReplicaLag",
                             {{"DBInstanceIdentifier", r.db_instance_identifier}}},
          60, "Maximum", std::nullopt};
      lag.queries.push_back(std::move(q));
    }
    auto result = CallAndParse(cloudwatch_, cloudwatch::BuildQuery(lag), Idempotency::kIdempotent,
                               &cloudwatch::ParseGetMetricDataResponse);
    if (!result) {
      status.notes.push_back(fmt::format("replica lag: {}", result.error().message));
    } else {
      for (size_t k = 0; k < status.replicas.size(); ++k) {
        const cloudwatch::MetricDataResult* r = result->Find(fmt::format("r{}", k));
        if (r == nullptr || r->values.empty()) continue;
        const double scale = status.replicas[k].db_cluster_identifier.empty() ? 1.0 : 0.001;
        status.replica_lag_seconds[status.replicas[k].db_instance_identifier] =
            *std::max_element(r->values.begin(), r->values.end()) * scale;
      }
    }
  }

  // Scheduled maintenance of the instance (or the cluster).
  {
    rds::DescribePendingMaintenanceActionsRequest request;
    request.filters.push_back(
        status.instance ? rds::Filter{"db-instance-id", {status.instance->db_instance_identifier}}
                        : rds::Filter{"db-cluster-id", {cluster_id}});
    for (int n = 0; n < kMaxPages; ++n) {
      auto page = CallAndParse(rds_, rds::BuildQuery(request), Idempotency::kIdempotent,
                               &rds::ParseDescribePendingMaintenanceActionsResponse);
      if (!page) {
        status.notes.push_back(fmt::format("pending maintenance: {}", page.error().message));
        break;
      }
      for (auto& resource : page->resources) {
        for (auto& a : resource.actions) status.pending_maintenance.push_back(std::move(a));
      }
      if (page->marker.empty()) break;
      request.marker = page->marker;
    }
  }

  // Events of the last hour for the instance (or the cluster).
  rds::DescribeEventsRequest events;
  events.source_identifier = status.instance ? status.instance->db_instance_identifier : cluster_id;
  events.source_type = status.instance ? "db-instance" : "db-cluster";
  events.duration_minutes = 60;
  for (int n = 0; n < kMaxPages; ++n) {
    auto page = CallAndParse(rds_, rds::BuildQuery(events), Idempotency::kIdempotent,
                             &rds::ParseDescribeEventsResponse);
    if (!page) {
      status.notes.push_back(fmt::format("events: {}", page.error().message));
      break;
    }
    for (auto& e : page->events) status.events.push_back(std::move(e));
    if (page->marker.empty()) break;
    events.marker = page->marker;
  }
  std::stable_sort(status.events.begin(), status.events.end(),
                   [](const rds::Event& a, const rds::Event& b) {
                     return a.date.value_or(core::WallTime{}) < b.date.value_or(core::WallTime{});
                   });
  return status;
}

core::Result<MetricsReport> AwsProvider::Metrics(const CloudResource& resource,
                                                 std::chrono::seconds length,
                                                 std::chrono::seconds period,
                                                 const CloudStatus* known) {
  using cloudwatch::RdsResource;
  if (period.count() <= 0 || length < period) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("a window of {} s cannot hold a period of {} s",
                                       length.count(), period.count()),
                           "e.g. --since 15m --period 300");
  }
  // Which metrics depend on what the resource is (a replica has ReplicaLag): a light status,
  // unless the caller has just read one.
  CloudStatus shape;
  RdsResource target;
  if (!resource.instance_identifier.empty() && known != nullptr) {
    target = RdsResource{RdsResource::Kind::kInstance, resource.instance_identifier};
    shape.instance = known->instance;
    shape.cluster = known->cluster;
  } else if (!resource.instance_identifier.empty()) {
    target = RdsResource{RdsResource::Kind::kInstance, resource.instance_identifier};
    rds::DescribeDBInstancesRequest request;
    request.db_instance_identifier = resource.instance_identifier;
    auto instances = DescribeInstances(request);
    if (!instances) return core::Fail(instances.error());
    if (!instances->empty()) shape.instance = std::move(instances->front());
    if (shape.instance && !shape.instance->db_cluster_identifier.empty()) {
      rds::DescribeDBClustersRequest c;
      c.db_cluster_identifier = shape.instance->db_cluster_identifier;
      auto clusters = CallAndParse(rds_, rds::BuildQuery(c), Idempotency::kIdempotent,
                                   &rds::ParseDescribeDBClustersResponse);
      if (clusters && !clusters->clusters.empty()) shape.cluster = clusters->clusters.front();
    }
  } else if (!resource.cluster_identifier.empty()) {
    target = RdsResource{RdsResource::Kind::kCluster, resource.cluster_identifier};
    shape.cluster = rds::DBCluster{};
  } else {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           "no RDS instance or cluster identifier to read metrics for",
                           "set cloud.db_instance_identifier and/or cloud.db_cluster_identifier");
  }
  const std::vector<std::string> names = RunbookMetricsFor(shape);

  MetricsReport report;
  const cloudwatch::MetricWindow window =
      cloudwatch::WindowEndingAt(clock_.WallNow(), length, period);
  report.start = window.start;
  report.end = window.end;
  report.period = period;

  // One GetMetricData: per metric, its Average, Minimum, Maximum and SampleCount per period.
  static constexpr std::string_view kStats[] = {"Average", "Minimum", "Maximum", "SampleCount"};
  cloudwatch::GetMetricDataRequest request;
  request.start_time = window.start;
  request.end_time = window.end;
  request.scan_by = "TimestampAscending";
  for (size_t s = 0; s < std::size(kStats); ++s) {
    auto part = cloudwatch::RdsMetricDataRequest(target, names, kStats[s], window, period);
    if (!part) return core::Fail(part.error());
    for (auto& q : part->queries) {
      q.id = fmt::format("s{}{}", s, q.id);  // "s0m3": stat 0 of metric 3
      request.queries.push_back(std::move(q));
    }
  }
  std::map<std::string, cloudwatch::MetricDataResult> by_id;
  for (int n = 0; n < kMaxPages; ++n) {
    auto page = CallAndParse(cloudwatch_, cloudwatch::BuildQuery(request), Idempotency::kIdempotent,
                             &cloudwatch::ParseGetMetricDataResponse);
    if (!page) return core::Fail(page.error());
    for (auto& r : page->results) {
      auto& into = by_id[r.id];
      into.id = r.id;
      into.timestamps.insert(into.timestamps.end(), r.timestamps.begin(), r.timestamps.end());
      into.values.insert(into.values.end(), r.values.begin(), r.values.end());
    }
    if (page->next_token.empty()) break;
    if (n + 1 == kMaxPages) return core::Fail(PagesExceeded("GetMetricData"));
    request.next_token = page->next_token;
  }

  const cloudwatch::Dimension dimension = target.AsDimension();
  for (size_t m = 0; m < names.size(); ++m) {
    MetricSummary summary;
    summary.name = names[m];
    const cloudwatch::RdsMetric* info = cloudwatch::FindRdsMetric(names[m]);
    summary.unit = info != nullptr ? std::string(info->unit) : "";
    summary.dimension = dimension.name + "=" + dimension.value;
    // Per timestamp: the four statistics.
    struct Cell {
      std::optional<double> avg, min, max, count;
    };
    std::map<core::WallTime, Cell> cells;
    for (size_t s = 0; s < std::size(kStats); ++s) {
      const auto it = by_id.find(fmt::format("s{}m{}", s, m));
      if (it == by_id.end()) continue;
      const auto& r = it->second;
      for (size_t k = 0; k < r.timestamps.size() && k < r.values.size(); ++k) {
        Cell& c = cells[r.timestamps[k]];
        (s == 0 ? c.avg : s == 1 ? c.min : s == 2 ? c.max : c.count) = r.values[k];
      }
    }
    double weighted = 0;
    double weight = 0;
    for (const auto& [t, c] : cells) {
      if (!c.avg) continue;
      summary.timestamps.push_back(t);
      summary.averages.push_back(*c.avg);
      const double w = c.count.value_or(1);
      weighted += *c.avg * w;
      weight += w;
      if (c.min) summary.min = summary.min ? std::min(*summary.min, *c.min) : *c.min;
      if (c.max) summary.max = summary.max ? std::max(*summary.max, *c.max) : *c.max;
    }
    summary.samples = weight;
    if (weight > 0) summary.avg = weighted / weight;
    report.metrics.push_back(std::move(summary));
  }
  return report;
}

core::Result<rds::DBInstance> AwsProvider::ModifyInstance(const rds::ModifyDBInstanceRequest& r) {
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParseModifyDBInstanceResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->instance);
}

core::Result<rds::DBCluster> AwsProvider::ModifyCluster(const rds::ModifyDBClusterRequest& r) {
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParseModifyDBClusterResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->cluster);
}

core::Result<std::vector<rds::Parameter>> AwsProvider::DescribeParameters(
    const std::string& parameter_group) {
  std::vector<rds::Parameter> out;
  rds::DescribeDBParametersRequest request;
  request.db_parameter_group_name = parameter_group;
  for (int n = 0; n < kMaxPages; ++n) {
    auto page = CallAndParse(rds_, rds::BuildQuery(request), Idempotency::kIdempotent,
                             &rds::ParseDescribeDBParametersResponse);
    if (!page) return core::Fail(page.error());
    for (auto& p : page->parameters) out.push_back(std::move(p));
    if (page->marker.empty()) return out;
    request.marker = page->marker;
  }
  return core::Fail(PagesExceeded("DescribeDBParameters"));
}

core::Result<std::string> AwsProvider::ModifyParameterGroup(
    const rds::ModifyDBParameterGroupRequest& r) {
  // ModifyDBParameterGroup sets values: sending the same values twice changes nothing, but it is
  // still a change to the cloud and is not retried after it may have been sent.
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParseModifyDBParameterGroupResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->db_parameter_group_name);
}

core::Result<rds::DBInstance> AwsProvider::PromoteReadReplica(
    const rds::PromoteReadReplicaRequest& r) {
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParsePromoteReadReplicaResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->instance);
}

core::Result<rds::DBCluster> AwsProvider::FailoverCluster(
    const std::string& cluster, const std::optional<std::string>& target_instance) {
  rds::FailoverDBClusterRequest r;
  r.db_cluster_identifier = cluster;
  r.target_db_instance_identifier = target_instance;
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParseFailoverDBClusterResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->cluster);
}

core::Result<rds::DBInstance> AwsProvider::RebootInstance(const std::string& instance,
                                                          bool force_failover) {
  rds::RebootDBInstanceRequest r;
  r.db_instance_identifier = instance;
  if (force_failover) r.force_failover = true;
  auto result = CallAndParse(rds_, rds::BuildQuery(r), Idempotency::kNonIdempotent,
                             &rds::ParseRebootDBInstanceResponse);
  if (!result) return core::Fail(result.error());
  return std::move(result->instance);
}

}  // namespace dbrunbook::cloud
