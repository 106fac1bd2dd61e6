// `dbrunbook mitigate failover` for cloud targets, as a process against moto behind the
// SigV4-verifying proxy, on resources of its own (fo-*), created here with boto3 so that the
// seeded ones the other cloud tests read stay as they are.
//
// What moto 5.2.1 emulates, and so what is checked: RDS PromoteReadReplica records the request's
// BackupRetentionPeriod and PreferredBackupWindow but keeps ReadReplicaSourceDBInstanceIdentifier
// (a real promotion clears it once the instance has rebooted), so the verification honestly
// ends "unverified" here (exit 1) — the test checks that, and moto's state. Aurora
// FailoverDBCluster switches the writer at once, so that failover is verified (exit 0). Moto
// has no replication, no instance states in between (modifying, rebooting) and no timing: the
// polling is checked on fakes only as far as its bounds go.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_fixture.h"
#include "support/moto.h"

namespace dbrunbook {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class FailoverCloudE2eTest : public testing::CliFixture {
 protected:
  FailoverCloudE2eTest() : CliFixture("failover-cloud-e2e") {}

  static void SetUpTestSuite() {
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    auto out = testing::RunBoto3(
        *moto,
        "import datetime\n"
        "rds.create_db_instance(DBInstanceIdentifier='fo-rds-db', DBInstanceClass='db.r6g.large', "
        "Engine='mysql', MasterUsername='admin', MasterUserPassword='not-a-real-password', "
        "AllocatedStorage=20, BackupRetentionPeriod=7)\n"
        "rds.create_db_instance_read_replica(DBInstanceIdentifier='fo-rds-replica-db', "
        "SourceDBInstanceIdentifier='fo-rds-db')\n"
        "rds.create_db_cluster(DBClusterIdentifier='fo-cluster', Engine='aurora-mysql', "
        "MasterUsername='admin', MasterUserPassword='not-a-real-password')\n"
        "for n in ('fo-aurora-1', 'fo-aurora-2'):\n"
        "    rds.create_db_instance(DBInstanceIdentifier=n, DBInstanceClass='db.r6g.large', "
        "Engine='aurora-mysql', DBClusterIdentifier='fo-cluster')\n"
        "now = datetime.datetime.now(datetime.timezone.utc)\n"
        "def put(metric, unit, instance, value):\n"
        "    cloudwatch.put_metric_data(Namespace='AWS/RDS', MetricData=[{'MetricName': metric, "
        "'Unit': unit, 'Value': value, 'Timestamp': now - datetime.timedelta(seconds=m * 60 + "
        "30), 'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': instance}]} for m in "
        "range(3)])\n"
        "put('ReplicaLag', 'Seconds', 'fo-rds-replica-db', 2.0)\n"
        "put('AuroraReplicaLag', 'Milliseconds', 'fo-aurora-2', 20.0)\n"
        "print('ok')");
    ASSERT_TRUE(out) << out.error().ToString();
  }

  void SetUp() override {
    CliFixture::SetUp();
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    moto_ = *moto;
    auto cloud = [&](const std::string& ids) {
      return "    cloud: {region: " + moto_.region + ", " + ids + ", endpoint_url: \"" +
             moto_.endpoint_url + "\"}\n";
    };
    const std::string server = "    host: 127.0.0.1\n    port: 1\n    user: admin\n";
    config_ =
        Write("dbrunbook.yaml",
              "targets:\n  - name: fo-rds\n" + server + "    replicas: [fo-rds-replica]\n" +
                  cloud("db_instance_identifier: fo-rds-db") + "  - name: fo-rds-replica\n" +
                  server + cloud("db_instance_identifier: fo-rds-replica-db") +
                  "  - name: fo-aurora\n" + server + cloud("db_cluster_identifier: fo-cluster"));
    log_offset_ = testing::ProxyLogSize(moto_);
  }

  testing::RunResult Failover(const std::string& args) {
    const std::string env = "AWS_ACCESS_KEY_ID='" + moto_.access_key + "' AWS_SECRET_ACCESS_KEY='" +
                            moto_.secret_key +
                            "' AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent "
                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent ";
    return Shell(env + "\"$B\" --config '" + config_ + "' mitigate failover " + args +
                 " --format json --store '" + (dir_ / "audit.db").string() + "'");
  }
  static json Json(const testing::RunResult& r) {
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Describe();
    return j;
  }
  std::string Boto(const std::string& code) {
    auto out = testing::RunBoto3(moto_, code);
    EXPECT_TRUE(out) << out.error().ToString();
    return out.value_or("");
  }
  void ExpectAllSigned() {
    auto verdicts = testing::ProxyVerdicts(moto_, log_offset_);
    ASSERT_TRUE(verdicts) << verdicts.error().ToString();
    EXPECT_EQ(verdicts->rejected, 0);
  }

  testing::MotoFixture moto_;
  std::string config_;
  std::uint64_t log_offset_ = 0;
};

TEST_F(FailoverCloudE2eTest, RdsPlanRefusalAndPromotion) {
  // The plan: the replica of the instance, its ReplicaLag (2 s) within the bound.
  auto run = Failover("fo-rds");
  ASSERT_EQ(run.status, 0) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["kind"], "rds");
  EXPECT_EQ(j["status"], "planned");
  for (const auto& c : j["checks"]) EXPECT_TRUE(c["passed"].get<bool>()) << c.dump();
  EXPECT_THAT(j.dump(), HasSubstr("PromoteReadReplica fo-rds-replica-db (BackupRetentionPeriod 7"));
  // A tighter bound refuses it (nothing sent but reads).
  run = Failover("fo-rds --max-lag 1 --apply");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(), HasSubstr("ReplicaLag 2 s"));
  // The promotion, with the backup settings.
  run = Failover(
      "fo-rds --apply --backup-retention-period 3 --preferred-backup-window 05:00-05:30 "
      "--verify-timeout 0s");
  j = Json(run);
  ASSERT_EQ(j["promoted"], true) << run.Describe();
  EXPECT_THAT(Boto("i = rds.describe_db_instances(DBInstanceIdentifier='fo-rds-replica-db')"
                   "['DBInstances'][0]\n"
                   "print(i['BackupRetentionPeriod'], i['PreferredBackupWindow'])"),
              HasSubstr("3 05:00-05:30"));
  // moto keeps the replica's source after a promotion: not verified (see the header).
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_EQ(j["status"], "unverified");
  EXPECT_THAT(j["steps"].dump(), HasSubstr("still a read replica of fo-rds-db"));
  EXPECT_THAT(j["manual"].dump(), HasSubstr("was not fenced"));
  ExpectAllSigned();
}

TEST_F(FailoverCloudE2eTest, AuroraFailoverToAChosenReaderThenBlocked) {
  auto run = Failover("fo-aurora --to fo-aurora-2");
  ASSERT_EQ(run.status, 0) << run.Describe();
  EXPECT_EQ(Json(run)["kind"], "aurora");
  // The writer cannot be the target.
  run = Failover("fo-aurora --to fo-aurora-1");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(), HasSubstr("already the writer"));

  run = Failover("fo-aurora --to fo-aurora-2 --apply --verify-timeout 30s");
  ASSERT_EQ(run.status, 0) << run.Describe();
  auto j = Json(run);
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["verified"], true);
  EXPECT_THAT(Boto("c = rds.describe_db_clusters(DBClusterIdentifier='fo-cluster')"
                   "['DBClusters'][0]\n"
                   "print([m['DBInstanceIdentifier'] for m in c['DBClusterMembers'] "
                   "if m['IsClusterWriter']])"),
              HasSubstr("fo-aurora-2"));
  // Anti-flapping: failing back at once is refused.
  run = Failover("fo-aurora --to fo-aurora-1 --apply");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(Json(run)["reasons"].dump(), HasSubstr("within the block period"));
  ExpectAllSigned();
}

}  // namespace
}  // namespace dbrunbook
