// Every response and error document in ../shared/conformance/aws/responses/ parses, and every
// field the parsers extract equals botocore's parse of the same file
// (botocore-1.29.27-parsed/<name>.json, and <name>.expected-parse.json where botocore ships
// one). Fields botocore did not produce must be absent/empty in ours.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cloud/cloudwatch_api.h"
#include "cloud/query_protocol.h"
#include "cloud/rds_api.h"
#include "support/recorded_output.h"

namespace dbrunbook::cloud {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kDir = "conformance/aws/responses/";

void Expect(const Json& j, const char* key, const std::string& got) {
  if (j.contains(key)) {
    EXPECT_EQ(got, j.at(key).get<std::string>()) << key;
  } else {
    EXPECT_EQ(got, "") << key << " is not in botocore's parse";
  }
}
void Expect(const Json& j, const char* key, const std::optional<std::string>& got) {
  if (j.contains(key)) {
    EXPECT_EQ(got, j.at(key).get<std::string>()) << key;
  } else {
    EXPECT_FALSE(got) << key;
  }
}
void Expect(const Json& j, const char* key, bool got) {
  EXPECT_EQ(got, j.contains(key) && j.at(key).get<bool>()) << key;
}
void Expect(const Json& j, const char* key, const std::optional<bool>& got) {
  if (j.contains(key)) {
    EXPECT_EQ(got, j.at(key).get<bool>()) << key;
  } else {
    EXPECT_FALSE(got) << key;
  }
}
void Expect(const Json& j, const char* key, int64_t got) {
  EXPECT_EQ(got, j.contains(key) ? j.at(key).get<int64_t>() : 0) << key;
}
void Expect(const Json& j, const char* key, const std::optional<int64_t>& got) {
  if (j.contains(key)) {
    EXPECT_EQ(got, j.at(key).get<int64_t>()) << key;
  } else {
    EXPECT_FALSE(got) << key;
  }
}
void Expect(const Json& j, const char* key, const std::optional<double>& got) {
  if (j.contains(key)) {
    ASSERT_TRUE(got) << key;
    EXPECT_DOUBLE_EQ(*got, j.at(key).get<double>()) << key;
  } else {
    EXPECT_FALSE(got) << key;
  }
}
// botocore prints timestamps as "2023-02-13T14:50:12.138000+00:00" (or keeps the raw text in
// its older fixtures); both are compared as instants.
void ExpectTime(const Json& j, const char* key, const std::optional<core::WallTime>& got) {
  if (j.contains(key)) {
    const auto want = ParseIso8601(j.at(key).get<std::string>());
    ASSERT_TRUE(want) << key;
    EXPECT_EQ(got, want) << key;
  } else {
    EXPECT_FALSE(got) << key;
  }
}
void ExpectList(const Json& j, const char* key, const std::vector<std::string>& got) {
  std::vector<std::string> want;
  if (j.contains(key)) want = j.at(key).get<std::vector<std::string>>();
  EXPECT_EQ(got, want) << key;
}
size_t Count(const Json& j, const char* key) { return j.contains(key) ? j.at(key).size() : 0; }

void ExpectInstance(const Json& j, const rds::DBInstance& i) {
  SCOPED_TRACE(i.db_instance_identifier);
  Expect(j, "DBInstanceIdentifier", i.db_instance_identifier);
  Expect(j, "DBInstanceClass", i.db_instance_class);
  Expect(j, "Engine", i.engine);
  Expect(j, "EngineVersion", i.engine_version);
  Expect(j, "DBInstanceStatus", i.status);
  Expect(j, "MultiAZ", i.multi_az);
  ASSERT_EQ(i.endpoint.has_value(), j.contains("Endpoint"));
  if (i.endpoint) {
    Expect(j["Endpoint"], "Address", i.endpoint->address);
    Expect(j["Endpoint"], "Port", i.endpoint->port);
    Expect(j["Endpoint"], "HostedZoneId", i.endpoint->hosted_zone_id);
  }
  Expect(j, "AvailabilityZone", i.availability_zone);
  Expect(j, "SecondaryAvailabilityZone", i.secondary_availability_zone);
  Expect(j, "PreferredMaintenanceWindow", i.preferred_maintenance_window);
  Expect(j, "ReadReplicaSourceDBInstanceIdentifier", i.read_replica_source_db_instance_identifier);
  ExpectList(j, "ReadReplicaDBInstanceIdentifiers", i.read_replica_db_instance_identifiers);
  ExpectList(j, "ReadReplicaDBClusterIdentifiers", i.read_replica_db_cluster_identifiers);
  Expect(j, "DBClusterIdentifier", i.db_cluster_identifier);
  Expect(j, "PromotionTier", i.promotion_tier);
  ASSERT_EQ(i.db_parameter_groups.size(), Count(j, "DBParameterGroups"));
  for (size_t k = 0; k < i.db_parameter_groups.size(); ++k) {
    Expect(j["DBParameterGroups"][k], "DBParameterGroupName", i.db_parameter_groups[k].name);
    Expect(j["DBParameterGroups"][k], "ParameterApplyStatus",
           i.db_parameter_groups[k].apply_status);
  }
  const Json pending = j.value("PendingModifiedValues", Json::object());
  const rds::PendingModifiedValues& p = i.pending_modified_values;
  Expect(pending, "DBInstanceClass", p.db_instance_class);
  Expect(pending, "AllocatedStorage", p.allocated_storage);
  Expect(pending, "Port", p.port);
  Expect(pending, "BackupRetentionPeriod", p.backup_retention_period);
  Expect(pending, "MultiAZ", p.multi_az);
  Expect(pending, "EngineVersion", p.engine_version);
  Expect(pending, "Iops", p.iops);
  Expect(pending, "DBInstanceIdentifier", p.db_instance_identifier);
  Expect(pending, "StorageType", p.storage_type);
  Expect(pending, "StorageThroughput", p.storage_throughput);
  Expect(j, "AllocatedStorage", i.allocated_storage);
  Expect(j, "MaxAllocatedStorage", i.max_allocated_storage);
  Expect(j, "StorageType", i.storage_type);
  Expect(j, "Iops", i.iops);
  Expect(j, "BackupRetentionPeriod", i.backup_retention_period);
  ExpectTime(j, "InstanceCreateTime", i.instance_create_time);
  Expect(j, "PerformanceInsightsEnabled", i.performance_insights_enabled);
  Expect(j, "DeletionProtection", i.deletion_protection);
  Expect(j, "DBInstanceArn", i.db_instance_arn);
  Expect(j, "DbiResourceId", i.dbi_resource_id);
}

void ExpectCluster(const Json& j, const rds::DBCluster& c) {
  SCOPED_TRACE(c.db_cluster_identifier);
  Expect(j, "DBClusterIdentifier", c.db_cluster_identifier);
  Expect(j, "Status", c.status);
  Expect(j, "Engine", c.engine);
  Expect(j, "EngineVersion", c.engine_version);
  Expect(j, "EngineMode", c.engine_mode);
  Expect(j, "Endpoint", c.endpoint);
  Expect(j, "ReaderEndpoint", c.reader_endpoint);
  Expect(j, "Port", c.port);
  Expect(j, "MultiAZ", c.multi_az);
  ASSERT_EQ(c.members.size(), Count(j, "DBClusterMembers"));
  for (size_t k = 0; k < c.members.size(); ++k) {
    const Json& m = j["DBClusterMembers"][k];
    Expect(m, "DBInstanceIdentifier", c.members[k].db_instance_identifier);
    Expect(m, "IsClusterWriter", c.members[k].is_cluster_writer);
    Expect(m, "DBClusterParameterGroupStatus", c.members[k].db_cluster_parameter_group_status);
    Expect(m, "PromotionTier", c.members[k].promotion_tier);
  }
  ExpectList(j, "ReadReplicaIdentifiers", c.read_replica_identifiers);
  Expect(j, "ReplicationSourceIdentifier", c.replication_source_identifier);
  Expect(j, "DBClusterParameterGroup", c.db_cluster_parameter_group);
  Expect(j, "DBClusterInstanceClass", c.db_cluster_instance_class);
  ASSERT_EQ(c.serverless_v2_scaling.has_value(), j.contains("ServerlessV2ScalingConfiguration"));
  if (c.serverless_v2_scaling) {
    Expect(j["ServerlessV2ScalingConfiguration"], "MinCapacity",
           c.serverless_v2_scaling->min_capacity);
    Expect(j["ServerlessV2ScalingConfiguration"], "MaxCapacity",
           c.serverless_v2_scaling->max_capacity);
  }
  Expect(j, "BackupRetentionPeriod", c.backup_retention_period);
  ExpectTime(j, "ClusterCreateTime", c.cluster_create_time);
  Expect(j, "DeletionProtection", c.deletion_protection);
  Expect(j, "DBClusterArn", c.db_cluster_arn);
  Expect(j, "DbClusterResourceId", c.db_cluster_resource_id);
}

void ExpectRequestId(const Json& j, const std::string& got) {
  EXPECT_EQ(got, j.at("ResponseMetadata").at("RequestId").get<std::string>());
}

// Checks one success document against one botocore parse; returns the action it dispatched on.
void CheckSuccess(const std::string& action, const std::string& body, const Json& want) {
  if (action == "DescribeDBInstances") {
    auto got = rds::ParseDescribeDBInstancesResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_EQ(got->instances.size(), Count(want, "DBInstances"));
    for (size_t k = 0; k < got->instances.size(); ++k) {
      ExpectInstance(want["DBInstances"][k], got->instances[k]);
    }
    Expect(want, "Marker", got->marker);
    ExpectRequestId(want, got->request_id);
  } else if (action == "DescribeDBClusters") {
    auto got = rds::ParseDescribeDBClustersResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_EQ(got->clusters.size(), Count(want, "DBClusters"));
    for (size_t k = 0; k < got->clusters.size(); ++k) {
      ExpectCluster(want["DBClusters"][k], got->clusters[k]);
    }
    Expect(want, "Marker", got->marker);
    ExpectRequestId(want, got->request_id);
  } else if (action == "ModifyDBInstance" || action == "PromoteReadReplica") {
    auto got = action == "ModifyDBInstance" ? rds::ParseModifyDBInstanceResponse(body)
                                            : rds::ParsePromoteReadReplicaResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    ExpectInstance(want.at("DBInstance"), got->instance);
    ExpectRequestId(want, got->request_id);
  } else if (action == "ModifyDBCluster" || action == "FailoverDBCluster") {
    auto got = action == "ModifyDBCluster" ? rds::ParseModifyDBClusterResponse(body)
                                           : rds::ParseFailoverDBClusterResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    ExpectCluster(want.at("DBCluster"), got->cluster);
    ExpectRequestId(want, got->request_id);
  } else if (action == "ModifyDBParameterGroup") {
    auto got = rds::ParseModifyDBParameterGroupResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    Expect(want, "DBParameterGroupName", got->db_parameter_group_name);
    ExpectRequestId(want, got->request_id);
  } else if (action == "GetMetricData") {
    auto got = cloudwatch::ParseGetMetricDataResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    ASSERT_EQ(got->results.size(), Count(want, "MetricDataResults"));
    for (size_t k = 0; k < got->results.size(); ++k) {
      const Json& w = want["MetricDataResults"][k];
      const cloudwatch::MetricDataResult& r = got->results[k];
      Expect(w, "Id", r.id);
      Expect(w, "Label", r.label);
      Expect(w, "StatusCode", r.status_code);
      ASSERT_EQ(r.timestamps.size(), Count(w, "Timestamps"));
      ASSERT_EQ(r.values.size(), Count(w, "Values"));
      for (size_t t = 0; t < r.timestamps.size(); ++t) {
        EXPECT_EQ(r.timestamps[t], ParseIso8601(w["Timestamps"][t].get<std::string>()));
        EXPECT_DOUBLE_EQ(r.values[t], w["Values"][t].get<double>());
      }
      EXPECT_EQ(r.messages.size(), Count(w, "Messages"));
    }
    Expect(want, "NextToken", got->next_token);
    ExpectRequestId(want, got->request_id);
  } else if (action == "GetMetricStatistics") {
    auto got = cloudwatch::ParseGetMetricStatisticsResponse(body);
    ASSERT_TRUE(got) << got.error().ToString();
    Expect(want, "Label", got->label);
    ASSERT_EQ(got->datapoints.size(), Count(want, "Datapoints"));
    for (size_t k = 0; k < got->datapoints.size(); ++k) {
      const Json& w = want["Datapoints"][k];
      const cloudwatch::Datapoint& d = got->datapoints[k];
      ExpectTime(w, "Timestamp", d.timestamp);
      Expect(w, "SampleCount", d.sample_count);
      Expect(w, "Average", d.average);
      Expect(w, "Sum", d.sum);
      Expect(w, "Minimum", d.minimum);
      Expect(w, "Maximum", d.maximum);
      Expect(w, "Unit", d.unit);
    }
    ExpectRequestId(want, got->request_id);
  } else {
    ADD_FAILURE() << "no parser for action " << action;
  }
}

void CheckError(const std::string& action, const std::string& body, const Json& want) {
  // README: every error file parses as HTTP 400 for botocore.
  const AwsError error = ParseAwsError(action, 400, body);
  const Json& e = want.at("Error");
  Expect(e, "Code", error.code);
  Expect(e, "Message", error.message);
  Expect(e, "Type", error.type);
  ExpectRequestId(want, error.request_id);
  const core::Error core_error = error.ToError();
  EXPECT_NE(core_error.message.find(action), std::string::npos) << core_error.message;
  EXPECT_NE(core_error.message.find(error.code), std::string::npos) << core_error.message;
  EXPECT_FALSE(core_error.hint.empty());
}

struct Sample {
  std::string name;  // file name without .xml
  std::string action;
  bool is_error = false;
};

std::vector<Sample> Samples() {
  std::vector<Sample> out;
  for (const auto& entry : fs::directory_iterator(testing::SharedPath(kDir))) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".xml") continue;
    Sample s;
    s.name = file.substr(0, file.size() - 4);
    s.is_error = s.name.starts_with("error--");
    // <Action>--<source>... or error--<Code>--<Action>--<source>
    const size_t start = s.is_error ? s.name.find("--", 7) + 2 : 0;
    s.action = s.name.substr(start, s.name.find("--", start) - start);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const Sample& a, const Sample& b) { return a.name < b.name; });
  return out;
}

TEST(ResponsesTest, EveryDocumentMatchesBotocoresParse) {
  int successes = 0;
  int errors = 0;
  int expected_parses = 0;
  for (const Sample& s : Samples()) {
    SCOPED_TRACE(s.name);
    auto body = testing::ReadSharedFile(kDir + s.name + ".xml");
    ASSERT_TRUE(body);
    std::vector<std::string> parses = {"botocore-1.29.27-parsed/" + s.name + ".json"};
    if (fs::exists(testing::SharedPath(kDir + s.name + ".expected-parse.json"))) {
      parses.push_back(s.name + ".expected-parse.json");
      ++expected_parses;
    }
    for (const std::string& parse : parses) {
      SCOPED_TRACE(parse);
      auto text = testing::ReadSharedFile(kDir + parse);
      ASSERT_TRUE(text) << text.error().ToString();
      const Json want = Json::parse(*text);
      if (s.is_error) {
        CheckError(s.action, *body, want);
      } else {
        CheckSuccess(s.action, *body, want);
      }
    }
    (s.is_error ? errors : successes)++;
  }
  EXPECT_EQ(successes, 21);
  EXPECT_EQ(errors, 9);
  EXPECT_EQ(expected_parses, 2);
}

TEST(ResponsesTest, ErrorDocumentsGiveTypedErrors) {
  auto body = testing::ReadSharedFile(
      kDir + "error--DBInstanceNotFound--DescribeDBInstances--aws-doc-sdk-examples.xml");
  ASSERT_TRUE(body);
  const AwsError e = ParseAwsError("DescribeDBInstances", 404, *body);
  EXPECT_EQ(e.kind, AwsErrorKind::kNotFound);
  EXPECT_EQ(e.ToError().code, core::ErrorCode::kNotFound);
  // A success parser handed the error document returns that error, not a parse failure.
  auto parsed = rds::ParseDescribeDBInstancesResponse(*body);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(parsed.error().message.find("DBInstance doc-example-instance not found"),
            std::string::npos);

  body = testing::ReadSharedFile(kDir + "error--Throttling--route53--boto2-fixture.xml");
  ASSERT_TRUE(body);
  EXPECT_EQ(ParseAwsError("DescribeDBInstances", 400, *body).ToError().code,
            core::ErrorCode::kThrottled);
  body = testing::ReadSharedFile(
      kDir + "error--InvalidParameterCombination--GetMetricStatistics--moto-5.2.1.xml");
  ASSERT_TRUE(body);
  EXPECT_EQ(ParseAwsError("GetMetricStatistics", 400, *body).kind, AwsErrorKind::kInvalidParameter);
  body = testing::ReadSharedFile(
      kDir + "error--DBClusterNotFoundFault--FailoverDBCluster--moto-5.2.1.xml");
  ASSERT_TRUE(body);
  EXPECT_EQ(ParseAwsError("FailoverDBCluster", 404, *body).kind, AwsErrorKind::kNotFound);
}

TEST(ResponsesTest, ClusterWriterAndReplicaRelations) {
  auto body = testing::ReadSharedFile(kDir + "DescribeDBClusters--aws-api-reference--multi-az.xml");
  ASSERT_TRUE(body);
  auto clusters = rds::ParseDescribeDBClustersResponse(*body);
  ASSERT_TRUE(clusters);
  ASSERT_EQ(clusters->clusters.size(), 1u);
  const rds::DBClusterMember* writer = clusters->clusters[0].Writer();
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->db_instance_identifier, "my-multi-az-cluster-instance-1");
}

// Malformed, truncated and foreign documents give kParse naming the action; never a crash.
TEST(ResponsesTest, BrokenDocumentsGiveParseErrorsNamingTheAction) {
  auto body = testing::ReadSharedFile(kDir + "DescribeDBInstances--moto-5.2.1.xml");
  ASSERT_TRUE(body);
  const std::string doc = *body;
  for (size_t cut = 0; cut < doc.size(); cut += 7) {
    auto r = rds::ParseDescribeDBInstancesResponse(std::string_view(doc).substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code, core::ErrorCode::kParse) << cut;
    EXPECT_NE(r.error().message.find("DescribeDBInstances"), std::string::npos);
  }
  // The right document for another action.
  auto wrong = rds::ParseDescribeDBClustersResponse(doc);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, core::ErrorCode::kParse);
  EXPECT_NE(wrong.error().message.find("<DescribeDBInstancesResponse>"), std::string::npos);
  EXPECT_NE(wrong.error().message.find("DescribeDBClusters"), std::string::npos);
  // Not XML, HTML, JSON.
  for (const char* junk : {"", "   ", "not xml", "<html><body>502</body></html>",
                           "{\"MetricDataResults\":[]}", "<a><b></a>", "\xff\xfe<\x00"}) {
    auto r = cloudwatch::ParseGetMetricDataResponse(junk);
    ASSERT_FALSE(r) << junk;
    EXPECT_EQ(r.error().code, core::ErrorCode::kParse);
    EXPECT_NE(r.error().message.find("GetMetricData"), std::string::npos);
  }
  // A DTD, external entity or not, is refused (and never fetched).
  auto xxe = rds::ParseDescribeDBInstancesResponse(
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"http://169.254.169.254/\">]>"
      "<DescribeDBInstancesResponse><DescribeDBInstancesResult><Marker>&x;</Marker>"
      "</DescribeDBInstancesResult></DescribeDBInstancesResponse>");
  ASSERT_FALSE(xxe);
  EXPECT_NE(xxe.error().message.find("DOCTYPE"), std::string::npos);
  // Over the size bound.
  auto big = cloudwatch::ParseGetMetricStatisticsResponse(std::string(kMaxResponseBytes + 1, ' '));
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("limit"), std::string::npos);
  // A modify answer without the instance it modified.
  auto no_instance = rds::ParseModifyDBInstanceResponse("<ModifyDBInstanceResponse/>");
  ASSERT_FALSE(no_instance);
  EXPECT_EQ(no_instance.error().code, core::ErrorCode::kParse);
  EXPECT_NE(no_instance.error().message.find("ModifyDBInstance"), std::string::npos);
  // A malformed field names its path.
  auto bad_bool = rds::ParseDescribeDBInstancesResponse(
      "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
      "<MultiAZ>maybe</MultiAZ></DBInstance></DBInstances></DescribeDBInstancesResult>"
      "</DescribeDBInstancesResponse>");
  ASSERT_FALSE(bad_bool);
  EXPECT_EQ(bad_bool.error().code, core::ErrorCode::kParse);
  EXPECT_NE(bad_bool.error().message.find("/DBInstances/DBInstance/MultiAZ is not a boolean"),
            std::string::npos)
      << bad_bool.error().message;
  auto uneven = cloudwatch::ParseGetMetricDataResponse(
      "<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member><Id>a</Id>"
      "<Timestamps><member>2026-11-26T15:15:00Z</member></Timestamps><Values/></member>"
      "</MetricDataResults></GetMetricDataResult></GetMetricDataResponse>");
  ASSERT_FALSE(uneven);
  EXPECT_NE(uneven.error().message.find("as many Values as Timestamps"), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::cloud
