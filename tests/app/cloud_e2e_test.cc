// End to end against moto (the AWS emulator) behind the SigV4-verifying proxy (botocore checks
// every request's signature and refuses bad ones): `dbrunbook cloud status`, `cloud metrics`
// and `assess` as a user runs them (the binary, a configuration file, AWS_* variables), and the
// provider's actions, checked afterwards in moto's own state through boto3. Expected values
// come from what moto_seed.py wrote (its manifest), never from numbers of our own.
//
// The tests run in declaration order; the actions come last because they change moto's state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "cloud/aws_provider.h"
#include "cloud/query_protocol.h"
#include "core/clock.h"
#include "core/environment.h"
#include "support/cli_fixture.h"
#include "support/moto.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CloudE2eTest : public testing::CliFixture {
 protected:
  CloudE2eTest() : CliFixture("cloud-e2e") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    moto_ = *moto;
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    config_ = Write("dbrunbook.yaml", Config(*primary));
    log_offset_ = testing::ProxyLogSize(moto_);
  }

  std::string Config(const testing::SandboxServer& db) const {
    auto cloud = [&](const std::string& ids) {
      return "    cloud: {region: " + moto_.region + ", " + ids + ", endpoint_url: \"" +
             moto_.endpoint_url + "\"}\n";
    };
    const std::string server = "    host: 127.0.0.1\n    port: " + std::to_string(db.port) +
                               "\n    user: monitor\n    password_file: " + db.dir +
                               "/monitor.password\n";
    return "targets:\n  - name: orders-primary\n" + server +
           cloud("db_instance_identifier: orders-primary-db") + "  - name: orders-replica\n" +
           server + cloud("db_instance_identifier: orders-replica-db") + "  - name: aurora\n" +
           server + cloud("db_cluster_identifier: orders-cluster") + "  - name: aurora-reader\n" +
           server +
           cloud("db_instance_identifier: orders-aurora-2, db_cluster_identifier: orders-cluster") +
           "  - name: ghost\n" + server + cloud("db_instance_identifier: no-such-db") +
           "  - name: orders-down\n    host: 127.0.0.1\n    port: 1\n    user: monitor\n" +
           cloud("db_instance_identifier: orders-primary-db");
  }

  // Runs dbrunbook with the fixture's credentials in its environment (not on its command line).
  testing::RunResult Dbrunbook(const std::string& args, const std::string& secret = "") {
    const std::string env = "AWS_ACCESS_KEY_ID='" + moto_.access_key + "' AWS_SECRET_ACCESS_KEY='" +
                            (secret.empty() ? moto_.secret_key : secret) +
                            "' AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent "
                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent ";
    return Shell(env + "\"$B\" --config '" + config_ + "' " + args);
  }

  void ExpectAllRequestsVerified(int at_least) {
    auto verdicts = testing::ProxyVerdicts(moto_, log_offset_);
    ASSERT_TRUE(verdicts) << verdicts.error().ToString();
    EXPECT_EQ(verdicts->rejected, 0);
    EXPECT_GE(verdicts->accepted, at_least);
  }

  // The seeded values of `metric` for `dimension_value` that fall in [start, end): minute m
  // was written at now - m minutes - 30 s.
  std::vector<double> Seeded(const std::string& metric, const std::string& dimension_value,
                             core::WallTime start, core::WallTime end) const {
    auto now = cloud::ParseIso8601(moto_.manifest.at("now").get<std::string>());
    EXPECT_TRUE(now.has_value());
    std::vector<double> out;
    for (const auto& m : moto_.manifest.at("metrics")) {
      if (m.at("metric") != metric || m.at("value") != dimension_value) continue;
      const auto& values = m.at("values");
      for (size_t k = 0; k < values.size(); ++k) {
        const core::WallTime t = *now - std::chrono::minutes(k) - std::chrono::seconds(30);
        if (t >= start && t < end) out.push_back(values[k].get<double>());
      }
    }
    return out;
  }

  testing::MotoFixture moto_;
  std::string config_;
  std::uint64_t log_offset_ = 0;
};

TEST_F(CloudE2eTest, StatusOfAnInstanceWithItsReplica) {
  const auto run = Dbrunbook("cloud status orders-primary --format json");
  ASSERT_EQ(run.status, 0) << run.Describe();
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["target"], "orders-primary");
  EXPECT_EQ(j["region"], moto_.region);
  const auto& i = j["instance"];
  EXPECT_EQ(i["db_instance_identifier"], "orders-primary-db");
  EXPECT_EQ(i["status"], "available");
  EXPECT_EQ(i["class"], "db.r6g.large");
  EXPECT_EQ(i["engine"], "mysql");
  EXPECT_EQ(i["multi_az"], true);
  EXPECT_EQ(i["parameter_groups"][0]["name"], "orders-params");
  ASSERT_EQ(j["replicas"].size(), 1U) << run.out;
  EXPECT_EQ(j["replicas"][0]["db_instance_identifier"], "orders-replica-db");
  EXPECT_EQ(j["replicas"][0]["read_replica_source"], "orders-primary-db");
  // The replica's lag (the highest of the last 5 minutes) is one of the values seeded for it.
  ASSERT_TRUE(j["replicas"][0]["lag_seconds"].is_number()) << run.out;
  const auto seeded_lag =
      Seeded("ReplicaLag", "orders-replica-db", core::WallTime{}, core::WallTime::max());
  EXPECT_THAT(seeded_lag, ::testing::Contains(j["replicas"][0]["lag_seconds"].get<double>()));
  // moto 5.2.1 does not implement DescribePendingMaintenanceActions (it answers HTTP 500): the
  // status says so in a note and goes on.
  EXPECT_TRUE(j["pending_maintenance"].is_array());
  EXPECT_THAT(j["notes"].dump(), HasSubstr("DescribePendingMaintenanceActions"));
  ExpectAllRequestsVerified(2);  // DescribeDBInstances (instance, replica), DescribeEvents

  const auto text = Dbrunbook("cloud status orders-primary");
  ASSERT_EQ(text.status, 0) << text.Describe();
  EXPECT_THAT(text.out, HasSubstr("instance  orders-primary-db  available  db.r6g.large"));
  EXPECT_THAT(text.out, HasSubstr("parameter group  orders-params (in-sync)"));
}

TEST_F(CloudE2eTest, StatusOfAnAuroraCluster) {
  const auto run = Dbrunbook("cloud status aurora --format json");
  ASSERT_EQ(run.status, 0) << run.Describe();
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["instance"].is_null());
  const auto& c = j["cluster"];
  EXPECT_EQ(c["db_cluster_identifier"], "orders-cluster");
  EXPECT_EQ(c["engine"], "aurora-mysql");
  // The writer and readers as seeded.
  std::string writer;
  for (const auto& m : c["members"]) {
    if (m["writer"] == true) writer = m["db_instance_identifier"];
  }
  EXPECT_EQ(writer, "orders-aurora-1");
  ASSERT_EQ(j["replicas"].size(), 1U) << run.out;
  EXPECT_EQ(j["replicas"][0]["db_instance_identifier"], "orders-aurora-2");
  ExpectAllRequestsVerified(3);
}

TEST_F(CloudE2eTest, MetricsEqualWhatWasSeeded) {
  const auto run = Dbrunbook("cloud metrics orders-replica --since 15m --period 60 --format json");
  ASSERT_EQ(run.status, 0) << run.Describe();
  const auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["period_seconds"], 60);
  const auto start = cloud::ParseIso8601(j["start"].get<std::string>());
  const auto end = cloud::ParseIso8601(j["end"].get<std::string>());
  ASSERT_TRUE(start && end);
  EXPECT_EQ(*end - *start, std::chrono::minutes(15));
  std::vector<std::string> names;
  for (const auto& m : j["metrics"]) names.push_back(m["name"]);
  EXPECT_THAT(names,
              ::testing::ElementsAre("CPUUtilization", "FreeableMemory", "DatabaseConnections",
                                     "ReadIOPS", "WriteIOPS", "ReplicaLag"));
  for (const auto& m : j["metrics"]) {
    const std::string name = m["name"];
    const auto seeded = Seeded(name, "orders-replica-db", *start, *end);
    ASSERT_FALSE(seeded.empty()) << name;
    const double min = *std::min_element(seeded.begin(), seeded.end());
    const double max = *std::max_element(seeded.begin(), seeded.end());
    double sum = 0;
    for (double v : seeded) sum += v;
    EXPECT_DOUBLE_EQ(m["min"].get<double>(), min) << name;
    EXPECT_DOUBLE_EQ(m["max"].get<double>(), max) << name;
    EXPECT_NEAR(m["avg"].get<double>(), sum / static_cast<double>(seeded.size()),
                1e-9 * std::abs(max))
        << name;
    EXPECT_EQ(m["datapoints"].size(), seeded.size()) << name;  // one a minute at period 60
    EXPECT_EQ(m["dimension"], "DBInstanceIdentifier=orders-replica-db");
  }
  EXPECT_EQ(j["metrics"][1]["unit"], "Bytes");
  EXPECT_EQ(j["metrics"][5]["unit"], "Seconds");
  ExpectAllRequestsVerified(2);  // DescribeDBInstances, GetMetricData
}

TEST_F(CloudE2eTest, AuroraReplicaLagIsReadInSeconds) {
  const auto run = Dbrunbook("cloud metrics aurora-reader --since 15m --period 60 --format json");
  ASSERT_EQ(run.status, 0) << run.Describe();
  const auto j = nlohmann::json::parse(run.out);
  const auto start = cloud::ParseIso8601(j["start"].get<std::string>());
  const auto end = cloud::ParseIso8601(j["end"].get<std::string>());
  const auto seeded = Seeded("AuroraReplicaLag", "orders-aurora-2", *start, *end);
  ASSERT_FALSE(seeded.empty());
  bool found = false;
  for (const auto& m : j["metrics"]) {
    if (m["name"] != "AuroraReplicaLag") continue;
    found = true;
    EXPECT_EQ(m["unit"], "Milliseconds");  // as CloudWatch has it; assess converts
    EXPECT_DOUBLE_EQ(m["max"].get<double>(), *std::max_element(seeded.begin(), seeded.end()));
  }
  EXPECT_TRUE(found) << run.out;
}

TEST_F(CloudE2eTest, AssessAddsTheCloudChecks) {
  const auto run = Dbrunbook("assess orders-replica --format json --interval 200ms");
  ASSERT_LE(run.status, 2) << run.Describe();
  const auto j = nlohmann::json::parse(run.out);
  std::map<std::string, nlohmann::json> checks;
  for (const auto& c : j["checks"]) checks[c["id"]] = c;
  ASSERT_TRUE(checks.count("cloud_instance_status")) << run.out;
  EXPECT_EQ(checks["cloud_instance_status"]["status"], "ok");
  ASSERT_TRUE(checks.count("cloud_replica_lag_seconds")) << run.out;
  // The seeded lag reaches above the runbook's 60 s in the last 15 minutes: a warning.
  const double lag = checks["cloud_replica_lag_seconds"]["value"].get<double>();
  EXPECT_GE(lag, 60);
  EXPECT_EQ(checks["cloud_replica_lag_seconds"]["status"], lag >= 300 ? "critical" : "warn");
  ASSERT_TRUE(checks.count("cloud_cpu_percent"));
  EXPECT_EQ(checks["cloud_cpu_percent"]["status"], "ok");
  ASSERT_TRUE(checks.count("cloud_freeable_memory_bytes"));
  EXPECT_GT(checks["cloud_freeable_memory_bytes"]["value"].get<double>(), 1e9);
  // The server's own checks are there too.
  EXPECT_TRUE(checks.count("threads_running"));
  ExpectAllRequestsVerified(3);
}

// The database cannot be reached: the assessment cannot be made (exit 3), but what the cloud
// says about the instance is still there, which is what a DBA asks next.
TEST_F(CloudE2eTest, AnUnreachableDatabaseStillGetsTheCloudsView) {
  const auto json = Dbrunbook("assess orders-down --format json");
  EXPECT_EQ(json.status, 3) << json.Describe();
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_FALSE(j["error"].is_null());
  std::map<std::string, nlohmann::json> checks;
  for (const auto& c : j["checks"]) checks[c["id"]] = c;
  ASSERT_TRUE(checks.count("cloud_instance_status")) << json.out;
  EXPECT_THAT(checks["cloud_instance_status"]["display"].get<std::string>(),
              HasSubstr("available"));
  EXPECT_TRUE(checks.count("cloud_cpu_percent"));
  EXPECT_FALSE(checks.count("threads_running"));  // nothing from the server itself

  const auto table = Dbrunbook("assess orders-down");
  EXPECT_EQ(table.status, 3) << table.Describe();
  EXPECT_THAT(table.out, HasSubstr("orders-down cannot be reached; what the cloud says about it"));
  EXPECT_THAT(table.out, HasSubstr("Cloud instance status"));
  EXPECT_THAT(table.err, HasSubstr("cannot assess orders-down"));
}

TEST_F(CloudE2eTest, ErrorsAreClearAndSecretFree) {
  const auto missing = Dbrunbook("cloud status ghost");
  EXPECT_EQ(missing.status, 3) << missing.Describe();
  EXPECT_THAT(missing.err, HasSubstr("DescribeDBInstances"));
  EXPECT_THAT(missing.err, HasSubstr("DBInstanceNotFound"));

  // A wrong secret: the proxy (botocore) refuses the signature; dbrunbook says so, and neither
  // secret shows anywhere.
  const std::string wrong = "wrongSecretKeyThatMustNotLeakAnywhere0000";
  const auto denied = Dbrunbook("cloud status orders-primary", wrong);
  EXPECT_EQ(denied.status, 3) << denied.Describe();
  EXPECT_THAT(denied.err, HasSubstr("SignatureDoesNotMatch"));
  for (const auto& text : {denied.out, denied.err}) {
    EXPECT_THAT(text, Not(HasSubstr(wrong)));
    EXPECT_THAT(text, Not(HasSubstr(moto_.secret_key)));
  }
  auto verdicts = testing::ProxyVerdicts(moto_, log_offset_);
  ASSERT_TRUE(verdicts);
  EXPECT_GE(verdicts->rejected, 1);

  const auto usage = Dbrunbook("cloud metrics orders-primary --period 45");
  EXPECT_EQ(usage.status, 2) << usage.Describe();
  EXPECT_THAT(usage.err, HasSubstr("--period"));
  const auto unknown = Dbrunbook("cloud status no-such-target");
  EXPECT_EQ(unknown.status, 2) << unknown.Describe();
  EXPECT_THAT(unknown.err, HasSubstr("no target 'no-such-target'"));
  const auto no_file = Shell("\"$B\" --config /nonexistent/dbrunbook.yaml cloud status x");
  EXPECT_EQ(no_file.status, 2) << no_file.Describe();
}

// The actions, on resources of their own (created here with boto3) so that the seeded ones
// stay as other tests expect them. Each action goes through the verifying proxy; its effect
// is read back from moto directly with boto3.
TEST_F(CloudE2eTest, ActionsThroughTheProvider) {
  core::MapEnvironment env({{"AWS_ACCESS_KEY_ID", moto_.access_key},
                            {"AWS_SECRET_ACCESS_KEY", moto_.secret_key},
                            {"AWS_EC2_METADATA_DISABLED", "true"},
                            {"AWS_CONFIG_FILE", "/nonexistent"},
                            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}});
  core::RealClock clock;
  cloud::AwsProviderOptions options;
  options.resolver.region = moto_.region;
  options.resolver.endpoint_url = moto_.endpoint_url;
  auto provider = cloud::AwsProvider::Create(options, env, clock);
  ASSERT_TRUE(provider) << provider.error().ToString();
  auto boto = [&](const std::string& code) {
    auto out = testing::RunBoto3(moto_, code);
    EXPECT_TRUE(out) << out.error().ToString();
    return out ? *out : std::string();
  };

  boto(
      "rds.create_db_parameter_group(DBParameterGroupName='act-params', "
      "DBParameterGroupFamily='mysql8.0', Description='actions test')\n"
      "rds.create_db_instance(DBInstanceIdentifier='act-primary', DBInstanceClass='db.r6g.large', "
      "Engine='mysql', MasterUsername='admin', MasterUserPassword='not-a-real-password', "
      "AllocatedStorage=20, MultiAZ=True, DBParameterGroupName='act-params')\n"
      "rds.create_db_instance_read_replica(DBInstanceIdentifier='act-replica', "
      "SourceDBInstanceIdentifier='act-primary')\n"
      "rds.create_db_cluster(DBClusterIdentifier='act-cluster', Engine='aurora-mysql', "
      "MasterUsername='admin', MasterUserPassword='not-a-real-password')\n"
      "for n in ('act-aurora-1', 'act-aurora-2'):\n"
      "    rds.create_db_instance(DBInstanceIdentifier=n, DBInstanceClass='db.r6g.large', "
      "Engine='aurora-mysql', DBClusterIdentifier='act-cluster')\n"
      "print('ok')");
  const auto start = testing::ProxyLogSize(moto_);

  // Scale up.
  cloud::rds::ModifyDBInstanceRequest scale;
  scale.db_instance_identifier = "act-primary";
  scale.db_instance_class = "db.r6g.xlarge";
  scale.apply_immediately = true;
  auto scaled = (*provider)->ModifyInstance(scale);
  ASSERT_TRUE(scaled) << scaled.error().ToString();
  EXPECT_THAT(boto("print(rds.describe_db_instances(DBInstanceIdentifier='act-primary')"
                   "['DBInstances'][0]['DBInstanceClass'])"),
              HasSubstr("db.r6g.xlarge"));

  // A parameter change, after reading what is modifiable.
  auto parameters = (*provider)->DescribeParameters("act-params");
  ASSERT_TRUE(parameters) << parameters.error().ToString();
  cloud::rds::ModifyDBParameterGroupRequest change;
  change.db_parameter_group_name = "act-params";
  change.parameters.push_back({"max_connections", "2000", cloud::rds::ApplyMethod::kImmediate});
  auto changed = (*provider)->ModifyParameterGroup(change);
  ASSERT_TRUE(changed) << changed.error().ToString();
  EXPECT_EQ(*changed, "act-params");
  EXPECT_THAT(boto("ps = rds.describe_db_parameters(DBParameterGroupName='act-params')"
                   "['Parameters']\n"
                   "print([p.get('ParameterValue') for p in ps "
                   "if p['ParameterName'] == 'max_connections'])"),
              HasSubstr("2000"));

  // Aurora Serverless v2 capacity (the scale-up form of a cluster).
  cloud::rds::ModifyDBClusterRequest capacity;
  capacity.db_cluster_identifier = "act-cluster";
  capacity.serverless_v2_scaling = cloud::rds::ServerlessV2Scaling{0.5, 16};
  capacity.apply_immediately = true;
  auto resized = (*provider)->ModifyCluster(capacity);
  ASSERT_TRUE(resized) << resized.error().ToString();
  ASSERT_TRUE(resized->serverless_v2_scaling);
  EXPECT_EQ(resized->serverless_v2_scaling->max_capacity, 16);
  EXPECT_THAT(boto("print(rds.describe_db_clusters(DBClusterIdentifier='act-cluster')"
                   "['DBClusters'][0]['ServerlessV2ScalingConfiguration'])"),
              HasSubstr("'MaxCapacity': 16.0"));

  // Cluster failover to the reader.
  auto failed_over = (*provider)->FailoverCluster("act-cluster", "act-aurora-2");
  ASSERT_TRUE(failed_over) << failed_over.error().ToString();
  EXPECT_THAT(boto("c = rds.describe_db_clusters(DBClusterIdentifier='act-cluster')"
                   "['DBClusters'][0]\n"
                   "print([m['DBInstanceIdentifier'] for m in c['DBClusterMembers'] "
                   "if m['IsClusterWriter']])"),
              HasSubstr("act-aurora-2"));

  // Reboot with failover, then promote the replica.
  auto rebooted = (*provider)->RebootInstance("act-primary", /*force_failover=*/true);
  ASSERT_TRUE(rebooted) << rebooted.error().ToString();
  EXPECT_EQ(rebooted->db_instance_identifier, "act-primary");
  auto promoted = (*provider)->PromoteReadReplica({"act-replica", 5, "04:00-04:30"});
  ASSERT_TRUE(promoted) << promoted.error().ToString();
  // (moto 5.2.1 answers with the instance but keeps its ReadReplicaSourceDBInstanceIdentifier:
  // its emulation of a promotion stops there, so only the answer is checked.)
  EXPECT_EQ(promoted->db_instance_identifier, "act-replica");
  EXPECT_THAT(boto("i = rds.describe_db_instances(DBInstanceIdentifier='act-replica')"
                   "['DBInstances'][0]\n"
                   "print(i['BackupRetentionPeriod'], i['PreferredBackupWindow'])"),
              HasSubstr("5 04:00-04:30"));

  // A change to something that does not exist: a typed error.
  cloud::rds::ModifyDBInstanceRequest ghost;
  ghost.db_instance_identifier = "no-such-db";
  ghost.db_instance_class = "db.r6g.xlarge";
  auto nothing = (*provider)->ModifyInstance(ghost);
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code, core::ErrorCode::kNotFound) << nothing.error().ToString();
  EXPECT_THAT(nothing.error().ToString(), HasSubstr("ModifyDBInstance"));

  // moto answers a promotion of an unknown instance with an HTML 500 page: a transient server
  // error, which a read would retry, but a change that reached the service is never sent twice.
  const auto before = testing::ProxyLogSize(moto_);
  auto failed = (*provider)->PromoteReadReplica({"no-such-db", std::nullopt, std::nullopt});
  ASSERT_FALSE(failed);
  auto after = testing::ProxyVerdicts(moto_, before);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->accepted, 1) << "a change must not be retried once sent";
  auto all = testing::ProxyVerdicts(moto_, start);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->rejected, 0);
  EXPECT_EQ(all->accepted, 9);  // modify instance, describe parameters, modify group, modify
                                // cluster, failover, reboot, promote, the two failing ones
}

}  // namespace
}  // namespace dbrunbook
