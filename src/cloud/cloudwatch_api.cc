#include "cloud/cloudwatch_api.h"

#include <fmt/format.h>

#include <utility>

#include "cloud/query_xml.h"

namespace dbrunbook::cloud::cloudwatch {
namespace {

core::Status Invalid(std::string_view action, std::string message) {
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         fmt::format("CloudWatch {}: {}", action, message),
                         "this is a bug in the caller of the CloudWatch API: no request was sent");
}

// CloudWatch takes periods of 1, 5, 10 or 30 seconds (high resolution) or multiples of 60.
bool ValidPeriod(int64_t seconds) {
  return seconds == 1 || seconds == 5 || seconds == 10 || seconds == 30 ||
         (seconds > 0 && seconds % 60 == 0);
}

core::Status CheckDimensions(std::string_view action, const std::vector<Dimension>& dimensions) {
  if (dimensions.size() > 30) return Invalid(action, "more than 30 dimensions");
  for (const Dimension& d : dimensions) {
    if (d.name.empty() || d.value.empty()) {
      return Invalid(action, "a dimension needs a name and a value");
    }
  }
  return core::Ok();
}

void AddDimensions(QueryRequest& q, const std::string& prefix,
                   const std::vector<Dimension>& dimensions) {
  for (size_t i = 0; i < dimensions.size(); ++i) {
    const std::string item = QueryRequest::ItemPrefix(prefix, kMemberList, i + 1);
    q.Add(item + ".Name", dimensions[i].name);
    q.Add(item + ".Value", dimensions[i].value);
  }
}

using xml::FieldReader;
using xml::ParseWith;

std::vector<MessageData> ReadMessages(FieldReader& r, pugi::xml_node parent) {
  std::vector<MessageData> out;
  r.ForEach(parent, "Messages", "member", [&](pugi::xml_node m) {
    MessageData message;
    r.Read(m, "Code", message.code);
    r.Read(m, "Value", message.value);
    out.push_back(std::move(message));
  });
  return out;
}

}  // namespace

core::Result<QueryRequest> BuildQuery(const GetMetricDataRequest& request) {
  constexpr std::string_view kAction = "GetMetricData";
  if (request.queries.empty() || request.queries.size() > 500) {
    return core::Fail(
        Invalid(kAction, fmt::format("{} queries; 1 to 500 allowed", request.queries.size()))
            .error());
  }
  if (request.start_time >= request.end_time) {
    return core::Fail(Invalid(kAction, "StartTime is not before EndTime").error());
  }
  for (const MetricDataQuery& query : request.queries) {
    if (query.id.empty() || query.id.front() < 'a' || query.id.front() > 'z') {
      return core::Fail(
          Invalid(kAction,
                  fmt::format("query id '{}' must start with a lower-case letter", query.id))
              .error());
    }
    if (query.metric_stat.has_value() == query.expression.has_value()) {
      return core::Fail(
          Invalid(kAction, fmt::format("query '{}' needs exactly one of MetricStat and Expression",
                                       query.id))
              .error());
    }
    if (const auto& stat = query.metric_stat) {
      if (stat->metric.metric_name.empty() || stat->stat.empty() ||
          !ValidPeriod(stat->period_seconds)) {
        return core::Fail(Invalid(kAction, fmt::format("query '{}' needs a metric name, a "
                                                       "statistic and a valid period",
                                                       query.id))
                              .error());
      }
      if (auto ok = CheckDimensions(kAction, stat->metric.dimensions); !ok) {
        return core::Fail(ok.error());
      }
    }
  }
  QueryRequest q{std::string(kAction), std::string(kApiVersion)};
  for (size_t i = 0; i < request.queries.size(); ++i) {
    const MetricDataQuery& query = request.queries[i];
    const std::string p = QueryRequest::ItemPrefix("MetricDataQueries", kMemberList, i + 1);
    q.Add(p + ".Id", query.id);
    if (const auto& stat = query.metric_stat) {
      if (!stat->metric.namespace_name.empty()) {
        q.Add(p + ".MetricStat.Metric.Namespace", stat->metric.namespace_name);
      }
      q.Add(p + ".MetricStat.Metric.MetricName", stat->metric.metric_name);
      AddDimensions(q, p + ".MetricStat.Metric.Dimensions", stat->metric.dimensions);
      q.AddInt(p + ".MetricStat.Period", stat->period_seconds);
      q.Add(p + ".MetricStat.Stat", stat->stat);
      if (stat->unit) q.Add(p + ".MetricStat.Unit", *stat->unit);
    }
    if (query.expression) q.Add(p + ".Expression", *query.expression);
    if (query.label) q.Add(p + ".Label", *query.label);
    if (query.return_data) q.AddBool(p + ".ReturnData", *query.return_data);
    if (query.period_seconds) q.AddInt(p + ".Period", *query.period_seconds);
  }
  q.AddTimestamp("StartTime", request.start_time);
  q.AddTimestamp("EndTime", request.end_time);
  if (request.next_token) q.Add("NextToken", *request.next_token);
  if (request.scan_by) q.Add("ScanBy", *request.scan_by);
  if (request.max_datapoints) q.AddInt("MaxDatapoints", *request.max_datapoints);
  return q;
}

core::Result<QueryRequest> BuildQuery(const GetMetricStatisticsRequest& request) {
  constexpr std::string_view kAction = "GetMetricStatistics";
  if (request.namespace_name.empty() || request.metric_name.empty()) {
    return core::Fail(Invalid(kAction, "Namespace and MetricName are required").error());
  }
  if (request.start_time >= request.end_time) {
    return core::Fail(Invalid(kAction, "StartTime is not before EndTime").error());
  }
  if (!ValidPeriod(request.period_seconds)) {
    return core::Fail(
        Invalid(kAction, fmt::format("period {} s is not 1, 5, 10, 30 or a multiple of 60",
                                     request.period_seconds))
            .error());
  }
  // The service insists on exactly one of the two (InvalidParameterCombination otherwise).
  if (request.statistics.empty() == request.extended_statistics.empty()) {
    return core::Fail(
        Invalid(kAction, "give either Statistics or ExtendedStatistics, not both or neither")
            .error());
  }
  if (request.statistics.size() > 5 || request.extended_statistics.size() > 10) {
    return core::Fail(Invalid(kAction, "at most 5 statistics and 10 extended statistics").error());
  }
  if (auto ok = CheckDimensions(kAction, request.dimensions); !ok) return core::Fail(ok.error());
  QueryRequest q{std::string(kAction), std::string(kApiVersion)};
  q.Add("Namespace", request.namespace_name);
  q.Add("MetricName", request.metric_name);
  AddDimensions(q, "Dimensions", request.dimensions);
  q.AddTimestamp("StartTime", request.start_time);
  q.AddTimestamp("EndTime", request.end_time);
  q.AddInt("Period", request.period_seconds);
  if (!request.statistics.empty()) q.AddStringList("Statistics", kMemberList, request.statistics);
  if (!request.extended_statistics.empty()) {
    q.AddStringList("ExtendedStatistics", kMemberList, request.extended_statistics);
  }
  if (request.unit) q.Add("Unit", *request.unit);
  return q;
}

const MetricDataResult* GetMetricDataResult::Find(std::string_view id) const {
  for (const MetricDataResult& r : results) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

core::Result<GetMetricDataResult> ParseGetMetricDataResponse(std::string_view body) {
  constexpr std::string_view kAction = "GetMetricData";
  return ParseWith<GetMetricDataResult>(kAction, body, [&](FieldReader& r, pugi::xml_node result) {
    GetMetricDataResult out;
    r.ForEach(result, "MetricDataResults", "member", [&](pugi::xml_node n) {
      MetricDataResult m;
      r.Read(n, "Id", m.id);
      r.Read(n, "Label", m.label);
      r.ForEach(n, "Timestamps", "member", [&](pugi::xml_node t) {
        if (auto time = r.Time(t)) m.timestamps.push_back(*time);
      });
      r.ForEach(n, "Values", "member", [&](pugi::xml_node v) {
        if (auto value = r.Double(v)) m.values.push_back(*value);
      });
      r.Read(n, "StatusCode", m.status_code);
      m.messages = ReadMessages(r, n);
      // Values[i] belongs to Timestamps[i]; lists of different lengths cannot be paired.
      if (r.ok() && m.timestamps.size() != m.values.size()) {
        r.Fail(n, fmt::format("a result with as many Values as Timestamps ({} and {})",
                              m.values.size(), m.timestamps.size()));
      }
      out.results.push_back(std::move(m));
    });
    r.Read(result, "NextToken", out.next_token);
    out.messages = ReadMessages(r, result);
    return out;
  });
}

core::Result<GetMetricStatisticsResult> ParseGetMetricStatisticsResponse(std::string_view body) {
  constexpr std::string_view kAction = "GetMetricStatistics";
  return ParseWith<GetMetricStatisticsResult>(
      kAction, body, [&](FieldReader& r, pugi::xml_node result) {
        GetMetricStatisticsResult out;
        r.Read(result, "Label", out.label);
        r.ForEach(result, "Datapoints", "member", [&](pugi::xml_node n) {
          Datapoint d;
          std::optional<core::WallTime> time;
          r.Read(n, "Timestamp", time);
          if (time) {
            d.timestamp = *time;
          } else if (r.ok()) {
            r.Fail(n, "a datapoint with a Timestamp");
          }
          r.Read(n, "SampleCount", d.sample_count);
          r.Read(n, "Average", d.average);
          r.Read(n, "Sum", d.sum);
          r.Read(n, "Minimum", d.minimum);
          r.Read(n, "Maximum", d.maximum);
          r.Read(n, "Unit", d.unit);
          r.ForEach(n, "ExtendedStatistics", "entry", [&](pugi::xml_node e) {
            std::string key;
            std::optional<double> value;
            r.Read(e, "key", key);
            r.Read(e, "value", value);
            if (value) d.extended_statistics[key] = *value;
          });
          out.datapoints.push_back(std::move(d));
        });
        return out;
      });
}

const std::vector<RdsMetric>& RdsMetrics() {
  // Units as CloudWatch reports them for AWS/RDS (RDS User Guide, "Amazon CloudWatch metrics
  // for Amazon RDS" and "... for Amazon Aurora").
  static const std::vector<RdsMetric> kMetrics = {
      {"CPUUtilization", "Percent", 1.0},
      {"FreeableMemory", "Bytes", 1.0},
      {"DatabaseConnections", "Count", 1.0},
      {"ReadIOPS", "Count/Second", 1.0},
      {"WriteIOPS", "Count/Second", 1.0},
      {"ReadLatency", "Seconds", 1.0},
      {"WriteLatency", "Seconds", 1.0},
      {"ReadThroughput", "Bytes/Second", 1.0},
      {"WriteThroughput", "Bytes/Second", 1.0},
      {"DiskQueueDepth", "Count", 1.0},
      {"FreeStorageSpace", "Bytes", 1.0},
      {"SwapUsage", "Bytes", 1.0},
      {"BinLogDiskUsage", "Bytes", 1.0},
      {"ReplicaLag", "Seconds", 1.0},
      {"AuroraReplicaLag", "Milliseconds", 0.001},
      {"AuroraReplicaLagMaximum", "Milliseconds", 0.001},
      {"AuroraBinlogReplicaLag", "Seconds", 1.0},
      {"NetworkReceiveThroughput", "Bytes/Second", 1.0},
      {"NetworkTransmitThroughput", "Bytes/Second", 1.0},
      {"CPUCreditBalance", "Count", 1.0},
      {"BufferCacheHitRatio", "Percent", 1.0},
      {"Deadlocks", "Count/Second", 1.0},
      {"Queries", "Count/Second", 1.0},
      {"DMLLatency", "Milliseconds", 0.001},
      {"SelectLatency", "Milliseconds", 0.001},
      {"CommitLatency", "Milliseconds", 0.001},
      {"ServerlessDatabaseCapacity", "Count", 1.0},
      {"ACUUtilization", "Percent", 1.0},
  };
  return kMetrics;
}

const RdsMetric* FindRdsMetric(std::string_view name) {
  for (const RdsMetric& m : RdsMetrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::optional<double> UnitToBase(std::string_view unit) {
  struct Factor {
    std::string_view unit;
    double factor;
  };
  static constexpr Factor kFactors[] = {
      {"Seconds", 1.0},
      {"Microseconds", 1e-6},
      {"Milliseconds", 1e-3},
      {"Bytes", 1.0},
      {"Kilobytes", 1024.0},
      {"Megabytes", 1024.0 * 1024},
      {"Gigabytes", 1024.0 * 1024 * 1024},
      {"Terabytes", 1024.0 * 1024 * 1024 * 1024},
      {"Bits", 1.0 / 8},
      {"Kilobits", 1000.0 / 8},
      {"Megabits", 1e6 / 8},
      {"Gigabits", 1e9 / 8},
      {"Terabits", 1e12 / 8},
      {"Percent", 1.0},
      {"Count", 1.0},
      {"Bytes/Second", 1.0},
      {"Kilobytes/Second", 1024.0},
      {"Megabytes/Second", 1024.0 * 1024},
      {"Gigabytes/Second", 1024.0 * 1024 * 1024},
      {"Terabytes/Second", 1024.0 * 1024 * 1024 * 1024},
      {"Bits/Second", 1.0 / 8},
      {"Kilobits/Second", 1000.0 / 8},
      {"Megabits/Second", 1e6 / 8},
      {"Gigabits/Second", 1e9 / 8},
      {"Terabits/Second", 1e12 / 8},
      {"Count/Second", 1.0},
      {"None", 1.0},
  };
  for (const Factor& f : kFactors) {
    if (f.unit == unit) return f.factor;
  }
  return std::nullopt;
}

Dimension RdsResource::AsDimension() const {
  return Dimension{kind == Kind::kCluster ? "DBClusterIdentifier" : "DBInstanceIdentifier",
                   identifier};
}

MetricWindow WindowEndingAt(core::WallTime now, std::chrono::seconds length,
                            std::chrono::seconds period) {
  using std::chrono::floor;
  auto end = floor<std::chrono::seconds>(now);
  if (period.count() > 0) {
    const auto since_epoch = end.time_since_epoch();
    end -= since_epoch % period;
    if (since_epoch.count() < 0 && (since_epoch % period).count() != 0) end -= period;
  }
  return MetricWindow{end - length, end};
}

core::Result<GetMetricDataRequest> RdsMetricDataRequest(
    const RdsResource& resource, const std::vector<std::string>& metric_names,
    std::string_view stat, MetricWindow window, std::chrono::seconds period) {
  constexpr std::string_view kAction = "GetMetricData";
  if (resource.identifier.empty()) {
    return core::Fail(Invalid(kAction, "no RDS instance or cluster identifier").error());
  }
  if (metric_names.empty()) return core::Fail(Invalid(kAction, "no metrics asked for").error());
  if (!ValidPeriod(period.count())) {
    return core::Fail(
        Invalid(kAction, fmt::format("period {} s is not valid", period.count())).error());
  }
  GetMetricDataRequest request;
  request.start_time = window.start;
  request.end_time = window.end;
  for (size_t i = 0; i < metric_names.size(); ++i) {
    if (FindRdsMetric(metric_names[i]) == nullptr) {
      return core::Fail(
          Invalid(kAction, fmt::format("unknown AWS/RDS metric '{}'", metric_names[i])).error());
    }
    MetricDataQuery query;
    query.id = fmt::format("m{}", i);
    query.metric_stat =
        MetricStat{Metric{std::string(kRdsNamespace), metric_names[i], {resource.AsDimension()}},
                   period.count(), std::string(stat), std::nullopt};
    query.label = metric_names[i];
    request.queries.push_back(std::move(query));
  }
  return request;
}

}  // namespace dbrunbook::cloud::cloudwatch
