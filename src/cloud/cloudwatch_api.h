// CloudWatch metrics over the Query API (version 2010-08-01): GetMetricData (preferred: many
// metrics in one call) and GetMetricStatistics, plus what the tool needs to ask for RDS metrics:
// the AWS/RDS metric catalogue with units, the DBInstanceIdentifier / DBClusterIdentifier
// dimension, and a query window computed in UTC from the clock (no shell `date` arithmetic).
//
// Wire names follow the model (../shared/conformance/aws/models/cloudwatch-...service-2.json):
// lists are member lists (Dimensions.member.N.Name, Statistics.member.N,
// MetricDataQueries.member.N.MetricStat.Metric.Dimensions.member.N.Value).
//
// Failure: BuildQuery validates first (kInvalidArgument, nothing built); Parse*Response returns
// kParse naming the action, or the AwsError's core::Error for an <ErrorResponse> body.
// Pagination: GetMetricDataResult::next_token goes into the next request's next_token.
// Thread-safety: pure functions over values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/query_protocol.h"
#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud::cloudwatch {

inline constexpr std::string_view kApiVersion = "2010-08-01";
inline constexpr std::string_view kRdsNamespace = "AWS/RDS";

struct Dimension {
  std::string name;
  std::string value;
};

struct Metric {
  std::string namespace_name;  // "AWS/RDS"
  std::string metric_name;
  std::vector<Dimension> dimensions;
};

struct MetricStat {
  Metric metric;
  int64_t period_seconds = 60;  // 1, 5, 10, 30 or a multiple of 60
  std::string stat;             // "Average", "Maximum", "p99", ...
  std::optional<std::string> unit;
};

// One query: either a metric_stat or an expression over other queries' ids.
struct MetricDataQuery {
  std::string id;  // [a-z][a-zA-Z0-9_]*
  std::optional<MetricStat> metric_stat;
  std::optional<std::string> expression;
  std::optional<std::string> label;
  std::optional<bool> return_data;
  std::optional<int64_t> period_seconds;
};

struct GetMetricDataRequest {
  std::vector<MetricDataQuery> queries;  // 1..500
  core::WallTime start_time;
  core::WallTime end_time;
  std::optional<std::string> next_token;
  std::optional<std::string> scan_by;  // "TimestampDescending" (default) or "TimestampAscending"
  std::optional<int64_t> max_datapoints;
};

struct GetMetricStatisticsRequest {
  std::string namespace_name;
  std::string metric_name;
  std::vector<Dimension> dimensions;
  core::WallTime start_time;
  core::WallTime end_time;
  int64_t period_seconds = 60;
  std::vector<std::string> statistics;           // SampleCount, Average, Sum, Minimum, Maximum
  std::vector<std::string> extended_statistics;  // p99, ...
  std::optional<std::string> unit;
};

core::Result<QueryRequest> BuildQuery(const GetMetricDataRequest& request);
core::Result<QueryRequest> BuildQuery(const GetMetricStatisticsRequest& request);

struct MessageData {
  std::string code;
  std::string value;
};

struct MetricDataResult {
  std::string id;
  std::string label;
  std::vector<core::WallTime> timestamps;  // same length as values
  std::vector<double> values;
  std::string status_code;  // "Complete", "PartialData" (more in the next page), ...
  std::vector<MessageData> messages;
};

struct GetMetricDataResult {
  std::vector<MetricDataResult> results;
  std::string next_token;
  std::vector<MessageData> messages;
  std::string request_id;

  const MetricDataResult* Find(std::string_view id) const;
};

struct Datapoint {
  core::WallTime timestamp;
  std::optional<double> sample_count;
  std::optional<double> average;
  std::optional<double> sum;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::string unit;
  std::map<std::string, double> extended_statistics;
};

struct GetMetricStatisticsResult {
  std::string label;
  std::vector<Datapoint> datapoints;  // in no particular order (as CloudWatch returns them)
  std::string request_id;
};

core::Result<GetMetricDataResult> ParseGetMetricDataResponse(std::string_view body);
core::Result<GetMetricStatisticsResult> ParseGetMetricStatisticsResponse(std::string_view body);

// ---- RDS metrics ------------------------------------------------------------------------------

// An AWS/RDS metric and the unit CloudWatch reports it in. `to_base` converts a value to the
// tool's base units (seconds, bytes, percent, counts): AuroraReplicaLag is reported in
// milliseconds, so its to_base is 0.001 and it reads as seconds like ReplicaLag.
struct RdsMetric {
  std::string_view name;
  std::string_view unit;  // CloudWatch StandardUnit
  double to_base = 1.0;
};

// The catalogue entry for `name`, or nullptr for a metric the tool does not know.
const RdsMetric* FindRdsMetric(std::string_view name);
const std::vector<RdsMetric>& RdsMetrics();

// Multiplier from a CloudWatch StandardUnit to base units (Milliseconds -> 0.001 s,
// Kilobytes -> 1024 bytes, ...); nullopt for an unknown unit name.
std::optional<double> UnitToBase(std::string_view unit);

// What the metrics are about: an instance (DBInstanceIdentifier) or an Aurora cluster
// (DBClusterIdentifier).
struct RdsResource {
  enum class Kind { kInstance, kCluster };
  Kind kind = Kind::kInstance;
  std::string identifier;
  Dimension AsDimension() const;
};

// [start, end) in UTC. `end` is `now` rounded down to a whole period (periods count from the
// Unix epoch, as CloudWatch aligns them), so the last, still-filling period is left out.
struct MetricWindow {
  core::WallTime start;
  core::WallTime end;
};
MetricWindow WindowEndingAt(core::WallTime now, std::chrono::seconds length,
                            std::chrono::seconds period);

// One GetMetricData request for `metric_names` of `resource` with statistic `stat`: query ids
// are "m0", "m1", ... in the order of `metric_names`, labels are the metric names.
// kInvalidArgument for an unknown metric, an empty list, or a bad period.
core::Result<GetMetricDataRequest> RdsMetricDataRequest(
    const RdsResource& resource, const std::vector<std::string>& metric_names,
    std::string_view stat, MetricWindow window, std::chrono::seconds period);

}  // namespace dbrunbook::cloud::cloudwatch
