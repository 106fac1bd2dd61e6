// Requests made by the typed builders (rds_api.h, cloudwatch_api.h):
//  - validated against the service-2 models (../shared/conformance/aws/models/): the action
//    exists, every parameter name resolves through the model's shapes (structure members, list
//    member/locationName/flattened rules, maps), every value has the member's type, and every
//    required member of every structure sent is present;
//  - compared with the bodies awscli 2.9.19 really sent for the same parameters
//    (../shared/conformance/aws/sigv4/awscli-2.9.19-rds-cloudwatch/*/request.txt): byte-equal,
//    parameter order included, after one normalisation: botocore writes a space as '+', we write
//    "%20" (FormUrlEncode), so '+' in the captured body (a literal '+' would be "%2B") is read as
//    "%20".
// Plus the parsers of the actions with no published sample (DescribeDBParameters,
// DescribeEvents, RebootDBInstance), pagination markers, and the RDS metric helpers.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cloud/cloudwatch_api.h"
#include "cloud/query_protocol.h"
#include "cloud/rds_api.h"
#include "core/strings.h"
#include "support/recorded_output.h"

namespace dbrunbook::cloud {
namespace {

using Json = nlohmann::json;

// Checks a Query request against a botocore service model.
class ModelValidator {
 public:
  explicit ModelValidator(const std::string& model_file) {
    auto text = testing::ReadSharedFile("conformance/aws/models/" + model_file);
    if (text) model_ = Json::parse(*text);
  }
  bool loaded() const { return !model_.is_null(); }

  // Problems found, empty when the request conforms.
  std::vector<std::string> Check(const QueryRequest& q) {
    problems_.clear();
    structures_.clear();
    if (q.version() != model_["metadata"]["apiVersion"]) problems_.push_back("wrong Version");
    if (!model_["operations"].contains(q.action())) {
      problems_.push_back("no operation " + q.action());
      return problems_;
    }
    const Json& op = model_["operations"][q.action()];
    const std::string input = op["input"]["shape"];
    structures_[""] = input;
    for (const auto& [key, value] : q.params()) {
      const auto segments = core::Split(key, '.');
      Resolve(input, Json::object(), std::vector<std::string>(segments.begin(), segments.end()), 0,
              "", key, value);
    }
    // Required members of every structure instance that was sent.
    for (const auto& [prefix, shape_name] : structures_) {
      const Json& shape = model_["shapes"][shape_name];
      for (const auto& required : shape.value("required", Json::array())) {
        const Json& member = shape["members"][required.get<std::string>()];
        const std::string wire = prefix + (prefix.empty() ? "" : ".") +
                                 member.value("locationName", required.get<std::string>());
        bool present = false;
        for (const auto& [key, value] : q.params()) {
          if (key == wire || key.starts_with(wire + ".")) present = true;
        }
        if (!present) problems_.push_back("required " + wire + " missing");
      }
    }
    return problems_;
  }

 private:
  void Resolve(const std::string& shape_name, const Json& member,
               const std::vector<std::string>& segs, size_t i, const std::string& prefix,
               const std::string& key, const std::string& value) {
    const Json& shape = model_["shapes"][shape_name];
    const std::string type = shape["type"];
    auto fail = [&](const std::string& why) { problems_.push_back(key + ": " + why); };
    auto index_ok = [&](size_t at) {
      return at < segs.size() && core::ParseInt64(segs[at]).value_or(0) >= 1;
    };
    auto join = [&](size_t upto) {
      std::string out = prefix;
      for (size_t k = i; k < upto; ++k) out += (out.empty() ? "" : ".") + segs[k];
      return out;
    };
    if (type == "structure") {
      if (i >= segs.size()) return fail("stops at structure " + shape_name);
      structures_[prefix] = shape_name;
      for (const auto& [name, m] : shape["members"].items()) {
        if (m.value("locationName", name) == segs[i]) {
          return Resolve(m["shape"], m, segs, i + 1, join(i + 1), key, value);
        }
      }
      return fail("no member " + segs[i] + " in " + shape_name);
    }
    if (type == "list") {
      if (i == segs.size()) {  // the empty-list form "Name="
        if (!value.empty()) fail("list value without an index");
        return;
      }
      const Json& item = shape["member"];
      const bool flattened = member.value("flattened", shape.value("flattened", false));
      size_t at = i;
      if (!flattened) {
        if (segs[at] != item.value("locationName", "member")) {
          return fail("list " + shape_name + " expects ." + item.value("locationName", "member") +
                      ".N, got " + segs[at]);
        }
        ++at;
      }
      if (!index_ok(at)) return fail("bad list index");
      return Resolve(item["shape"], item, segs, at + 1, join(at + 1), key, value);
    }
    if (type == "map") {
      const bool flattened = member.value("flattened", shape.value("flattened", false));
      size_t at = i;
      if (!flattened) {
        if (at >= segs.size() || segs[at] != "entry") return fail("map expects .entry.N");
        ++at;
      }
      if (!index_ok(at) || at + 1 >= segs.size()) return fail("bad map index");
      const Json& part =
          segs[at + 1] == shape["key"].value("locationName", "key") ? shape["key"] : shape["value"];
      return Resolve(part["shape"], part, segs, at + 2, join(at + 2), key, value);
    }
    if (i != segs.size()) return fail("goes past scalar " + shape_name);
    if (type == "boolean" && value != "true" && value != "false") fail("not a boolean");
    if ((type == "integer" || type == "long") && !core::ParseInt64(value)) fail("not an integer");
    if ((type == "double" || type == "float") && !core::ParseDouble(value)) fail("not a number");
    if (type == "timestamp" && !ParseIso8601(value)) fail("not a timestamp");
    if (shape.contains("enum")) {
      bool known = false;
      for (const auto& e : shape["enum"]) known = known || e == value;
      if (!known) fail("'" + value + "' not in enum " + shape_name);
    }
    if (shape.contains("min") && type == "string" && value.size() < shape["min"].get<size_t>()) {
      fail("shorter than min");
    }
  }

  Json model_;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> structures_;
};

const core::WallTime kCaptureTime{std::chrono::seconds(1440938160)};  // 2015-08-30T12:36:00Z

// Every RDS builder, with every member it supports set.
std::vector<QueryRequest> AllRdsRequests() {
  std::vector<core::Result<QueryRequest>> built;
  const std::vector<rds::Filter> filters = {{"engine", {"mysql", "aurora-mysql"}},
                                            {"db-cluster-id", {"c1"}}};
  built.push_back(rds::BuildQuery(rds::DescribeDBInstancesRequest{"db1", filters, 50, "m1"}));
  built.push_back(rds::BuildQuery(rds::DescribeDBClustersRequest{"c1", filters, 100, "m2"}));
  built.push_back(rds::BuildQuery(rds::ModifyDBInstanceRequest{"db1", 200, "db.r6g.xlarge", true,
                                                               "pg1", 7, true, "8.0.35", false,
                                                               3000, "gp3", 1, true, true, 1000}));
  built.push_back(rds::BuildQuery(rds::ModifyDBClusterRequest{
      "c1", true, 7, "cpg1", "8.0.mysql_aurora.3.05.2", true, "pg1", true, "db.r6gd.large", 100,
      "io1", 1000, rds::ServerlessV2Scaling{0.5, 64}}));
  built.push_back(rds::BuildQuery(rds::ModifyDBParameterGroupRequest{
      "pg1",
      {{"max_connections", "{DBInstanceClassMemory/12582880}", rds::ApplyMethod::kPendingReboot},
       {"long_query_time", "1.5", rds::ApplyMethod::kImmediate}}}));
  built.push_back(rds::BuildQuery(
      rds::DescribeDBParametersRequest{"pg1", "user", {{"parameter-name", {"x"}}}, 20, "m3"}));
  built.push_back(rds::BuildQuery(rds::PromoteReadReplicaRequest{"db1-replica", 7, "03:00-04:00"}));
  built.push_back(rds::BuildQuery(rds::FailoverDBClusterRequest{"c1", "c1-instance-2"}));
  built.push_back(rds::BuildQuery(rds::RebootDBInstanceRequest{"db1", true}));
  built.push_back(rds::BuildQuery(rds::DescribeEventsRequest{"db1",
                                                             "db-instance",
                                                             kCaptureTime - std::chrono::hours(1),
                                                             kCaptureTime,
                                                             60,
                                                             {"failover", "availability"},
                                                             {},
                                                             100,
                                                             "m4"}));
  built.push_back(rds::BuildQuery(rds::DescribePendingMaintenanceActionsRequest{
      "arn:aws:rds:us-east-1:123456789012:db:db1", {{"db-instance-id", {"db1"}}}, 50, "m5"}));
  std::vector<QueryRequest> out;
  for (auto& b : built) {
    EXPECT_TRUE(b) << b.error().ToString();
    if (b) out.push_back(std::move(*b));
  }
  return out;
}

std::vector<QueryRequest> AllCloudWatchRequests() {
  using namespace cloudwatch;  // NOLINT(google-build-using-namespace)
  std::vector<core::Result<QueryRequest>> built;
  GetMetricDataRequest data;
  data.queries.push_back(MetricDataQuery{
      "cpu",
      MetricStat{Metric{"AWS/RDS", "CPUUtilization", {{"DBInstanceIdentifier", "db1"}}}, 60,
                 "Average", "Percent"},
      std::nullopt, "CPU", true, std::nullopt});
  data.queries.push_back(MetricDataQuery{"e1", std::nullopt, "cpu * 2", "x2", false, 60});
  data.start_time = kCaptureTime - std::chrono::hours(1);
  data.end_time = kCaptureTime;
  data.next_token = "tok";
  data.scan_by = "TimestampAscending";
  data.max_datapoints = 1000;
  built.push_back(BuildQuery(data));
  built.push_back(BuildQuery(GetMetricStatisticsRequest{"AWS/RDS",
                                                        "FreeableMemory",
                                                        {{"DBClusterIdentifier", "c1"}},
                                                        data.start_time,
                                                        data.end_time,
                                                        300,
                                                        {"Average", "Minimum"},
                                                        {},
                                                        "Bytes"}));
  built.push_back(BuildQuery(GetMetricStatisticsRequest{
      "AWS/RDS", "ReplicaLag", {}, data.start_time, data.end_time, 60, {}, {"p99"}, {}}));
  auto rds_metrics = RdsMetricDataRequest(
      {RdsResource::Kind::kCluster, "c1"}, {"AuroraReplicaLag", "CPUUtilization"}, "Maximum",
      WindowEndingAt(kCaptureTime, std::chrono::minutes(15), std::chrono::seconds(60)),
      std::chrono::seconds(60));
  EXPECT_TRUE(rds_metrics);
  if (rds_metrics) built.push_back(BuildQuery(*rds_metrics));
  std::vector<QueryRequest> out;
  for (auto& b : built) {
    EXPECT_TRUE(b) << b.error().ToString();
    if (b) out.push_back(std::move(*b));
  }
  return out;
}

TEST(RequestsTest, EveryRequestConformsToTheServiceModels) {
  ModelValidator rds_model("rds-2014-10-31.service-2.json");
  ModelValidator cw_model("cloudwatch-2010-08-01.service-2.json");
  ASSERT_TRUE(rds_model.loaded());
  ASSERT_TRUE(cw_model.loaded());
  std::set<std::string> actions;
  for (const QueryRequest& q : AllRdsRequests()) {
    EXPECT_EQ(rds_model.Check(q), std::vector<std::string>()) << q.Body();
    actions.insert(q.action());
  }
  for (const QueryRequest& q : AllCloudWatchRequests()) {
    EXPECT_EQ(cw_model.Check(q), std::vector<std::string>()) << q.Body();
    actions.insert(q.action());
  }
  EXPECT_EQ(actions.size(), 13u);  // 11 RDS actions, 2 CloudWatch
}

TEST(RequestsTest, TheValidatorCatchesWrongNames) {
  ModelValidator rds_model("rds-2014-10-31.service-2.json");
  ASSERT_TRUE(rds_model.loaded());
  QueryRequest q("ModifyDBParameterGroup", "2014-10-31");
  q.Add("DBParameterGroupName", "pg");
  q.Add("Parameters.member.1.ParameterName", "x");  // RDS wants Parameters.Parameter.N
  EXPECT_EQ(rds_model.Check(q).size(), 1u);
  QueryRequest missing("ModifyDBParameterGroup", "2014-10-31");
  missing.Add("DBParameterGroupName", "pg");
  EXPECT_EQ(rds_model.Check(missing), std::vector<std::string>{"required Parameters missing"});
  QueryRequest bad_bool("RebootDBInstance", "2014-10-31");
  bad_bool.Add("DBInstanceIdentifier", "db");
  bad_bool.Add("ForceFailover", "yes");
  EXPECT_EQ(rds_model.Check(bad_bool).size(), 1u);
}

std::string CapturedBody(const std::string& case_name) {
  auto text = testing::ReadSharedFile("conformance/aws/sigv4/awscli-2.9.19-rds-cloudwatch/" +
                                      case_name + "/request.txt");
  EXPECT_TRUE(text) << case_name;
  if (!text) return {};
  const size_t blank = text->find("\n\n");
  std::string body = text->substr(blank + 2);
  for (char& c : body) {
    if (c == '+') c = ' ';
  }
  std::string out;
  for (char c : body) out += c == ' ' ? std::string("%20") : std::string(1, c);
  return out;
}

std::string Body(const core::Result<QueryRequest>& q) {
  EXPECT_TRUE(q) << q.error().ToString();
  return q ? q->Body() : std::string();
}

TEST(RequestsTest, BodiesEqualWhatAwscliSent) {
  const auto t0 = kCaptureTime - std::chrono::hours(1);
  EXPECT_EQ(Body(rds::BuildQuery(rds::DescribeDBInstancesRequest{"mydb"})),
            CapturedBody("rds-DescribeDBInstances"));
  EXPECT_EQ(Body(rds::BuildQuery(rds::DescribeDBInstancesRequest{"mydb"})),
            CapturedBody("rds-DescribeDBInstances-session-token"));
  EXPECT_EQ(Body(rds::BuildQuery(rds::DescribeDBInstancesRequest{})),
            CapturedBody("rds-DescribeDBInstances-eu-west-1"));
  EXPECT_EQ(Body(rds::BuildQuery(
                rds::DescribeDBInstancesRequest{"", {{"engine", {"mysql", "aurora-mysql"}}}, 50})),
            CapturedBody("rds-DescribeDBInstances-filters"));
  EXPECT_EQ(Body(rds::BuildQuery(rds::DescribeDBClustersRequest{"my-cluster"})),
            CapturedBody("rds-DescribeDBClusters"));
  rds::ModifyDBInstanceRequest modify_instance;
  modify_instance.db_instance_identifier = "mydb";
  modify_instance.db_instance_class = "db.r6g.xlarge";
  modify_instance.apply_immediately = true;
  EXPECT_EQ(Body(rds::BuildQuery(modify_instance)), CapturedBody("rds-ModifyDBInstance"));
  rds::ModifyDBClusterRequest modify_cluster;
  modify_cluster.db_cluster_identifier = "my-cluster";
  modify_cluster.backup_retention_period = 7;
  modify_cluster.apply_immediately = true;
  EXPECT_EQ(Body(rds::BuildQuery(modify_cluster)), CapturedBody("rds-ModifyDBCluster"));
  EXPECT_EQ(Body(rds::BuildQuery(rds::PromoteReadReplicaRequest{"mydb-replica", 7})),
            CapturedBody("rds-PromoteReadReplica"));
  EXPECT_EQ(
      Body(rds::BuildQuery(rds::FailoverDBClusterRequest{"my-cluster", "my-cluster-instance-2"})),
      CapturedBody("rds-FailoverDBCluster"));
  EXPECT_EQ(Body(rds::BuildQuery(rds::ModifyDBParameterGroupRequest{
                "mysql80-custom",
                {{"max_connections", "{DBInstanceClassMemory/12582880}",
                  rds::ApplyMethod::kPendingReboot},
                 {"long_query_time", "1.5", rds::ApplyMethod::kImmediate}}})),
            CapturedBody("rds-ModifyDBParameterGroup"));

  using namespace cloudwatch;  // NOLINT(google-build-using-namespace)
  EXPECT_EQ(Body(BuildQuery(GetMetricStatisticsRequest{"AWS/RDS",
                                                       "CPUUtilization",
                                                       {{"DBInstanceIdentifier", "mydb"}},
                                                       t0,
                                                       kCaptureTime,
                                                       60,
                                                       {"Average", "Maximum"}})),
            CapturedBody("cloudwatch-GetMetricStatistics"));
  GetMetricDataRequest data;
  data.queries.push_back(
      {"cpu",
       MetricStat{Metric{"AWS/RDS", "CPUUtilization", {{"DBInstanceIdentifier", "mydb"}}}, 60,
                  "Average"},
       std::nullopt, std::nullopt, true});
  data.queries.push_back(
      {"lag",
       MetricStat{Metric{"AWS/RDS", "ReplicaLag", {{"DBInstanceIdentifier", "mydb-replica"}}}, 60,
                  "Maximum"}});
  data.queries.push_back({"e1", std::nullopt, "cpu * 2", "cpu x2"});
  data.start_time = t0;
  data.end_time = kCaptureTime;
  data.scan_by = "TimestampDescending";
  EXPECT_EQ(Body(BuildQuery(data)), CapturedBody("cloudwatch-GetMetricData"));
}

TEST(RequestsTest, ServerlessV2ScalingIsANestedStructure) {
  rds::ModifyDBClusterRequest r;
  r.db_cluster_identifier = "c1";
  r.serverless_v2_scaling = rds::ServerlessV2Scaling{0.5, 64};
  r.apply_immediately = true;
  EXPECT_EQ(Body(rds::BuildQuery(r)),
            "Action=ModifyDBCluster&Version=2014-10-31&DBClusterIdentifier=c1"
            "&ApplyImmediately=true&ServerlessV2ScalingConfiguration.MinCapacity=0.5"
            "&ServerlessV2ScalingConfiguration.MaxCapacity=64.0");
}

TEST(RequestsTest, InvalidRequestsAreRefusedBeforeAnythingIsBuilt) {
  EXPECT_EQ(rds::BuildQuery(rds::ModifyDBInstanceRequest{}).error().code,
            core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(rds::BuildQuery(rds::ModifyDBParameterGroupRequest{"pg", {}}));
  EXPECT_FALSE(rds::BuildQuery(
      rds::ModifyDBParameterGroupRequest{"pg", std::vector<rds::ParameterChange>(21, {"x", "1"})}));
  EXPECT_FALSE(rds::BuildQuery(rds::DescribeDBInstancesRequest{"", {}, 5}));
  EXPECT_FALSE(rds::BuildQuery(rds::DescribeDBInstancesRequest{"", {{"engine", {}}}}));
  rds::ModifyDBClusterRequest inverted;
  inverted.db_cluster_identifier = "c1";
  inverted.serverless_v2_scaling = rds::ServerlessV2Scaling{8, 2};
  EXPECT_FALSE(rds::BuildQuery(inverted));
  EXPECT_FALSE(rds::BuildQuery(rds::FailoverDBClusterRequest{}));
  EXPECT_FALSE(rds::BuildQuery(rds::RebootDBInstanceRequest{}));
  EXPECT_FALSE(rds::BuildQuery(rds::PromoteReadReplicaRequest{"r", 36}));

  using namespace cloudwatch;  // NOLINT(google-build-using-namespace)
  GetMetricStatisticsRequest both{
      "AWS/RDS", "CPUUtilization", {},     kCaptureTime - std::chrono::hours(1), kCaptureTime,
      60,        {"Average"},      {"p99"}};
  EXPECT_FALSE(BuildQuery(both));
  GetMetricStatisticsRequest bad_period{
      "AWS/RDS", "CPUUtilization", {}, kCaptureTime - std::chrono::hours(1), kCaptureTime,
      90,        {"Average"}};
  EXPECT_FALSE(BuildQuery(bad_period));
  GetMetricDataRequest empty;
  empty.start_time = kCaptureTime - std::chrono::hours(1);
  empty.end_time = kCaptureTime;
  EXPECT_FALSE(BuildQuery(empty));
  empty.queries.push_back({"Upper", std::nullopt, "1"});
  EXPECT_FALSE(BuildQuery(empty));
}

TEST(RequestsTest, RdsMetricsWindowAndUnits) {
  using namespace cloudwatch;  // NOLINT(google-build-using-namespace)
  const core::WallTime now = kCaptureTime + std::chrono::seconds(42) + std::chrono::milliseconds(7);
  const MetricWindow w = WindowEndingAt(now, std::chrono::minutes(15), std::chrono::seconds(60));
  EXPECT_EQ(FormatIso8601(w.end), "2015-08-30T12:36:00Z");
  EXPECT_EQ(FormatIso8601(w.start), "2015-08-30T12:21:00Z");
  const MetricWindow five = WindowEndingAt(now, std::chrono::hours(1), std::chrono::minutes(5));
  EXPECT_EQ(FormatIso8601(five.end), "2015-08-30T12:35:00Z");

  ASSERT_NE(FindRdsMetric("FreeableMemory"), nullptr);
  EXPECT_EQ(FindRdsMetric("FreeableMemory")->unit, "Bytes");
  EXPECT_EQ(FindRdsMetric("ReplicaLag")->unit, "Seconds");
  EXPECT_EQ(FindRdsMetric("AuroraReplicaLag")->unit, "Milliseconds");
  EXPECT_DOUBLE_EQ(2500 * FindRdsMetric("AuroraReplicaLag")->to_base, 2.5);
  EXPECT_EQ(FindRdsMetric("QueryCacheHits"), nullptr);
  for (const RdsMetric& m : RdsMetrics()) {
    ASSERT_TRUE(UnitToBase(m.unit)) << m.name;
    EXPECT_DOUBLE_EQ(*UnitToBase(m.unit), m.to_base) << m.name;
  }

  auto request = RdsMetricDataRequest({RdsResource::Kind::kInstance, "db1"},
                                      {"CPUUtilization", "FreeableMemory"}, "Average", w,
                                      std::chrono::seconds(60));
  ASSERT_TRUE(request);
  ASSERT_EQ(request->queries.size(), 2u);
  EXPECT_EQ(request->queries[1].id, "m1");
  EXPECT_EQ(request->queries[1].metric_stat->metric.dimensions[0].name, "DBInstanceIdentifier");
  EXPECT_FALSE(RdsMetricDataRequest({RdsResource::Kind::kInstance, "db1"}, {"Bogus"}, "Average", w,
                                    std::chrono::seconds(60)));
  EXPECT_EQ(RdsResource({RdsResource::Kind::kCluster, "c"}).AsDimension().name,
            "DBClusterIdentifier");
}

// Actions without a published sample: documents written from the model's output shapes.
TEST(RequestsTest, ParsesParametersEventsRebootAndPages) {
  auto params = rds::ParseDescribeDBParametersResponse(R"(
<DescribeDBParametersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBParametersResult>
    <Marker>bWFya2Vy</Marker>
    <Parameters>
      <Parameter>
        <ParameterName>innodb_buffer_pool_size</ParameterName>
        <ParameterValue>{DBInstanceClassMemory*3/4}</ParameterValue>
        <Source>system</Source><ApplyType>static</ApplyType><DataType>integer</DataType>
        <AllowedValues>5242880-18446744073709551615</AllowedValues>
        <IsModifiable>true</IsModifiable><ApplyMethod>pending-reboot</ApplyMethod>
      </Parameter>
      <Parameter>
        <ParameterName>long_query_time</ParameterName>
        <Source>engine-default</Source><ApplyType>dynamic</ApplyType>
        <IsModifiable>true</IsModifiable>
      </Parameter>
      <Parameter>
        <ParameterName>basedir</ParameterName><ParameterValue>/rdsdbbin/mysql</ParameterValue>
        <ApplyType>static</ApplyType><IsModifiable>false</IsModifiable>
      </Parameter>
    </Parameters>
  </DescribeDBParametersResult>
  <ResponseMetadata><RequestId>req-params</RequestId></ResponseMetadata>
</DescribeDBParametersResponse>)");
  ASSERT_TRUE(params) << params.error().ToString();
  ASSERT_EQ(params->parameters.size(), 3u);
  EXPECT_EQ(params->marker, "bWFya2Vy");
  EXPECT_EQ(params->request_id, "req-params");
  EXPECT_EQ(params->parameters[0].value, "{DBInstanceClassMemory*3/4}");
  EXPECT_EQ(params->parameters[0].apply_type, "static");
  EXPECT_FALSE(params->parameters[1].value);
  EXPECT_EQ(params->parameters[1].apply_type, "dynamic");
  EXPECT_FALSE(params->parameters[2].is_modifiable);

  auto events = rds::ParseDescribeEventsResponse(R"(<DescribeEventsResponse>
  <DescribeEventsResult><Events>
    <Event><SourceIdentifier>db1</SourceIdentifier><SourceType>db-instance</SourceType>
      <Message>Multi-AZ instance failover started.</Message>
      <EventCategories><EventCategory>failover</EventCategory></EventCategories>
      <Date>2015-08-30T12:30:01.123Z</Date><SourceArn>arn:aws:rds:us-east-1:1:db:db1</SourceArn>
    </Event>
  </Events></DescribeEventsResult>
  <ResponseMetadata><RequestId>req-events</RequestId></ResponseMetadata>
</DescribeEventsResponse>)");
  ASSERT_TRUE(events) << events.error().ToString();
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].event_categories, std::vector<std::string>{"failover"});
  EXPECT_EQ(events->events[0].date, ParseIso8601("2015-08-30T12:30:01.123Z"));
  EXPECT_EQ(events->marker, "");

  // (No recorded DescribePendingMaintenanceActions answer exists in the conformance set and
  // moto 5.2.1 does not implement the action: this document is built from the rds model's
  // shapes, PendingMaintenanceActionsMessage and the lists' member names.)
  auto maintenance = rds::ParseDescribePendingMaintenanceActionsResponse(
      R"(<DescribePendingMaintenanceActionsResponse>
  <DescribePendingMaintenanceActionsResult><PendingMaintenanceActions>
    <ResourcePendingMaintenanceActions>
      <ResourceIdentifier>arn:aws:rds:us-east-1:1:db:db1</ResourceIdentifier>
      <PendingMaintenanceActionDetails>
        <PendingMaintenanceAction><Action>system-update</Action>
          <Description>New Operating System update is available</Description>
          <AutoAppliedAfterDate>2015-09-01T00:00:00Z</AutoAppliedAfterDate>
          <ForcedApplyDate>2015-10-01T00:00:00Z</ForcedApplyDate>
          <OptInStatus>next-maintenance</OptInStatus>
        </PendingMaintenanceAction>
        <PendingMaintenanceAction><Action>db-upgrade</Action></PendingMaintenanceAction>
      </PendingMaintenanceActionDetails>
    </ResourcePendingMaintenanceActions>
  </PendingMaintenanceActions><Marker>m6</Marker></DescribePendingMaintenanceActionsResult>
</DescribePendingMaintenanceActionsResponse>)");
  ASSERT_TRUE(maintenance) << maintenance.error().ToString();
  ASSERT_EQ(maintenance->resources.size(), 1u);
  EXPECT_EQ(maintenance->resources[0].resource_identifier, "arn:aws:rds:us-east-1:1:db:db1");
  ASSERT_EQ(maintenance->resources[0].actions.size(), 2u);
  EXPECT_EQ(maintenance->resources[0].actions[0].action, "system-update");
  EXPECT_EQ(maintenance->resources[0].actions[0].opt_in_status, "next-maintenance");
  EXPECT_EQ(maintenance->resources[0].actions[0].forced_apply_date,
            ParseIso8601("2015-10-01T00:00:00Z"));
  EXPECT_EQ(maintenance->resources[0].actions[1].action, "db-upgrade");
  EXPECT_EQ(maintenance->marker, "m6");

  auto reboot = rds::ParseRebootDBInstanceResponse(R"(<RebootDBInstanceResponse>
  <RebootDBInstanceResult><DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier>
    <DBInstanceStatus>rebooting</DBInstanceStatus><MultiAZ>true</MultiAZ>
    <PendingModifiedValues><DBInstanceClass>db.r6g.2xlarge</DBInstanceClass></PendingModifiedValues>
  </DBInstance></RebootDBInstanceResult></RebootDBInstanceResponse>)");
  ASSERT_TRUE(reboot) << reboot.error().ToString();
  EXPECT_EQ(reboot->instance.status, "rebooting");
  EXPECT_EQ(reboot->instance.pending_modified_values.db_instance_class, "db.r6g.2xlarge");
  EXPECT_FALSE(reboot->instance.pending_modified_values.empty());

  auto page = cloudwatch::ParseGetMetricDataResponse(R"(<GetMetricDataResponse>
  <GetMetricDataResult><MetricDataResults><member><Id>m0</Id><Label>ReplicaLag</Label>
    <Timestamps><member>2015-08-30T12:35:00Z</member></Timestamps><Values><member>NaN</member></Values>
    <StatusCode>PartialData</StatusCode>
    <Messages><member><Code>MaxDatapointsExceeded</Code><Value>x</Value></member></Messages>
  </member></MetricDataResults><NextToken>next-page</NextToken></GetMetricDataResult>
</GetMetricDataResponse>)");
  ASSERT_TRUE(page) << page.error().ToString();
  EXPECT_EQ(page->next_token, "next-page");
  ASSERT_NE(page->Find("m0"), nullptr);
  EXPECT_EQ(page->Find("m0")->status_code, "PartialData");
  EXPECT_EQ(page->Find("m0")->messages.size(), 1u);

  auto stats = cloudwatch::ParseGetMetricStatisticsResponse(R"(<GetMetricStatisticsResponse>
  <GetMetricStatisticsResult><Label>ReplicaLag</Label><Datapoints><member>
    <Timestamp>2015-08-30T12:35:00Z</Timestamp><Unit>Seconds</Unit>
    <ExtendedStatistics><entry><key>p99</key><value>12.5</value></entry></ExtendedStatistics>
  </member></Datapoints></GetMetricStatisticsResult></GetMetricStatisticsResponse>)");
  ASSERT_TRUE(stats) << stats.error().ToString();
  ASSERT_EQ(stats->datapoints.size(), 1u);
  EXPECT_DOUBLE_EQ(stats->datapoints[0].extended_statistics.at("p99"), 12.5);
  EXPECT_EQ(stats->datapoints[0].unit, "Seconds");
}

}  // namespace
}  // namespace dbrunbook::cloud
