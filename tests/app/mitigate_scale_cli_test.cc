// `dbrunbook mitigate scale-up` as a user runs it (the binary, a configuration, AWS_* in the
// environment), against moto behind the SigV4-verifying proxy: the dry run changes nothing,
// --apply changes the class (or the Serverless v2 capacity) and verifies it, and every step is
// in the audit store. A failed apply is provoked on a loopback HTTP server that answers with
// recorded RDS documents: the instance as moto describes it, then RDS's DBInstanceNotFound
// for the ModifyDBInstance (the instance deleted between plan and apply).
//
// The resources are this test's own (scale-*), created with boto3 at the start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "store/store.h"
#include "support/cli_fixture.h"
#include "support/http_test_server.h"
#include "support/moto.h"
#include "support/recorded_output.h"

namespace dbrunbook {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MitigateScaleTest : public testing::CliFixture {
 protected:
  MitigateScaleTest() : CliFixture("mitigate-scale") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    moto_ = *moto;
    store_ = (dir_ / "audit.db").string();
    config_ = Write("dbrunbook.yaml", Config(moto_.endpoint_url));
    log_offset_ = testing::ProxyLogSize(moto_);
  }

  std::string Config(const std::string& endpoint) const {
    auto target = [&](const std::string& name, const std::string& ids) {
      return "  - name: " + name +
             "\n    host: 127.0.0.1\n    port: 1\n    user: monitor\n"
             "    cloud: {region: " +
             moto_.region + ", " + ids + ", endpoint_url: \"" + endpoint + "\"}\n";
    };
    return "targets:\n" + target("scale-rds", "db_instance_identifier: scale-db") +
           target("scale-single", "db_instance_identifier: scale-single-db") +
           target("scale-sv2", "db_cluster_identifier: scale-sv2-cluster") +
           target("scale-gone", "db_instance_identifier: mydb") +
           "  - name: no-cloud\n    host: 127.0.0.1\n    port: 1\n    user: monitor\n";
  }

  testing::RunResult Dbrunbook(const std::string& args) {
    const std::string env = "AWS_ACCESS_KEY_ID='" + moto_.access_key + "' AWS_SECRET_ACCESS_KEY='" +
                            moto_.secret_key +
                            "' AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent "
                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent ";
    return Shell(env + "\"$B\" --config '" + config_ + "' mitigate scale-up " + args +
                 " --store '" + store_ + "'");
  }

  std::string Boto(const std::string& code) {
    auto out = testing::RunBoto3(moto_, code);
    EXPECT_TRUE(out) << out.error().ToString();
    return out ? *out : std::string();
  }

  std::string ClassOf(const std::string& id) {
    return Boto("print(rds.describe_db_instances(DBInstanceIdentifier='" + id +
                "')['DBInstances'][0]['DBInstanceClass'])");
  }

  // The audit entries of the newest run, oldest first, as "phase:result".
  std::vector<std::string> LastRunAudit() {
    auto store = store::Store::Open(store_);
    EXPECT_TRUE(store) << store.error().ToString();
    if (!store) return {};
    auto recent = (*store)->Recent(50);
    EXPECT_TRUE(recent);
    std::vector<std::string> out;
    if (!recent || recent->empty()) return out;
    const std::string run = recent->front().entry.run_id;
    for (auto it = recent->rbegin(); it != recent->rend(); ++it) {
      if (it->entry.run_id != run) continue;
      EXPECT_EQ(it->entry.action, "scale-up");
      out.push_back(std::string(store::PhaseName(it->entry.phase)) + ":" + it->entry.result);
    }
    return out;
  }

  testing::MotoFixture moto_;
  std::string store_;
  std::string config_;
  std::uint64_t log_offset_ = 0;
};

TEST_F(MitigateScaleTest, ScalesAnRdsInstanceAndAServerlessV2Cluster) {
  Boto(
      "for n, multi in (('scale-db', True), ('scale-single-db', False)):\n"
      "    rds.create_db_instance(DBInstanceIdentifier=n, DBInstanceClass='db.r6g.large', "
      "Engine='mysql', MasterUsername='admin', MasterUserPassword='not-a-real-password', "
      "AllocatedStorage=20, MultiAZ=multi)\n"
      "rds.create_db_cluster(DBClusterIdentifier='scale-sv2-cluster', Engine='aurora-mysql', "
      "MasterUsername='admin', MasterUserPassword='not-a-real-password', "
      "ServerlessV2ScalingConfiguration={'MinCapacity': 0.5, 'MaxCapacity': 16})\n"
      "print('ok')");

  // The dry run: a plan, audited, and nothing changed.
  auto plan = Dbrunbook("scale-rds");
  EXPECT_EQ(plan.status, 0) << plan.Describe();
  EXPECT_THAT(plan.out, HasSubstr("plan — nothing was changed"));
  EXPECT_THAT(plan.out, HasSubstr("db.r6g.large"));
  EXPECT_THAT(plan.out, HasSubstr("db.r6g.xlarge (2x)"));
  EXPECT_THAT(plan.out, HasSubstr("Multi-AZ"));
  EXPECT_THAT(plan.out, HasSubstr("rds:ModifyDBInstance DBInstanceIdentifier=scale-db"));
  EXPECT_THAT(ClassOf("scale-db"), HasSubstr("db.r6g.large"));
  EXPECT_THAT(LastRunAudit(), ::testing::ElementsAre("planned:db.r6g.large -> db.r6g.xlarge; "
                                                     "dry run"));

  // A smaller class is refused before anything is sent.
  auto smaller = Dbrunbook("scale-rds --class db.r6g.medium --apply");
  EXPECT_EQ(smaller.status, 2) << smaller.Describe();
  EXPECT_THAT(smaller.err, HasSubstr("scale-up only grows"));
  EXPECT_THAT(ClassOf("scale-db"), HasSubstr("db.r6g.large"));

  // --apply: the call, then the check that RDS shows the new class.
  auto applied = Dbrunbook("scale-rds --apply --format json --poll-interval 200ms --wait 30s");
  EXPECT_EQ(applied.status, 0) << applied.Describe();
  const auto j = nlohmann::json::parse(applied.out);
  EXPECT_EQ(j["schema"], "dbrunbook.mitigation");
  EXPECT_EQ(j["action"], "scale-up");
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["plan"]["current"], "db.r6g.large");
  EXPECT_EQ(j["plan"]["proposed"], "db.r6g.xlarge");
  EXPECT_EQ(j["outcome"]["state"], "done");
  EXPECT_THAT(ClassOf("scale-db"), HasSubstr("db.r6g.xlarge"));
  EXPECT_THAT(
      LastRunAudit(),
      ::testing::ElementsAre("planned:db.r6g.large -> db.r6g.xlarge", "applied:accepted by RDS",
                             "verified:scale-db is db.r6g.xlarge and available"));

  // An explicit class, Single-AZ: the plan says the instance is down meanwhile.
  auto single = Dbrunbook("scale-single --class db.r6g.2xlarge --apply");
  EXPECT_EQ(single.status, 0) << single.Describe();
  EXPECT_THAT(single.out, HasSubstr("Single-AZ"));
  EXPECT_THAT(single.out, HasSubstr("(4x)"));
  EXPECT_THAT(single.out, HasSubstr("-> done"));
  EXPECT_THAT(ClassOf("scale-single-db"), HasSubstr("db.r6g.2xlarge"));

  // Serverless v2: MaxCapacity doubled, seen in moto's cluster afterwards.
  auto sv2 = Dbrunbook("scale-sv2 --apply --format json");
  EXPECT_EQ(sv2.status, 0) << sv2.Describe();
  const auto k = nlohmann::json::parse(sv2.out);
  EXPECT_EQ(k["plan"]["kind"], "serverless_v2_capacity");
  EXPECT_EQ(k["plan"]["current"], "0.5-16 ACU");
  EXPECT_EQ(k["plan"]["proposed"], "0.5-32 ACU");
  EXPECT_EQ(k["status"], "done");
  EXPECT_THAT(Boto("c = rds.describe_db_clusters(DBClusterIdentifier='scale-sv2-cluster')"
                   "['DBClusters'][0]\nprint(c['ServerlessV2ScalingConfiguration'])"),
              HasSubstr("'MaxCapacity': 32"));
  // A class for a Serverless v2 cluster is a usage error.
  EXPECT_EQ(Dbrunbook("scale-sv2 --class db.r6g.xlarge").status, 2);

  // Every request was signed right (the proxy re-verified each with botocore).
  auto verdicts = testing::ProxyVerdicts(moto_, log_offset_);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->rejected, 0);
  EXPECT_GE(verdicts->accepted, 6);
}

TEST_F(MitigateScaleTest, ConfigurationErrorsAreUsageErrors) {
  auto unknown = Dbrunbook("no-such-target");
  EXPECT_EQ(unknown.status, 2) << unknown.Describe();
  EXPECT_THAT(unknown.err, HasSubstr("no target 'no-such-target'"));
  auto no_cloud = Dbrunbook("no-cloud --format json");
  EXPECT_EQ(no_cloud.status, 2) << no_cloud.Describe();
  EXPECT_THAT(no_cloud.err, HasSubstr("has no cloud identity"));
  EXPECT_EQ(nlohmann::json::parse(no_cloud.out)["status"], "error");
  EXPECT_EQ(Dbrunbook("scale-rds --max-capacity lots").status, 2);
  EXPECT_EQ(Dbrunbook("scale-rds --wait forever").status, 2);
}

// The plan is made from RDS's description of the instance, then ModifyDBInstance fails: the
// failure is reported (exit 1, the AWS error and its hint), audited, and nothing is verified.
TEST_F(MitigateScaleTest, AFailedApplyIsReportedAndAudited) {
  auto described =
      testing::ReadSharedFile("conformance/aws/responses/DescribeDBInstances--moto-5.2.1.xml");
  ASSERT_TRUE(described) << described.error().ToString();
  auto not_found = testing::ReadSharedFile(
      "conformance/aws/responses/error--DBInstanceNotFound--DescribeDBInstances--moto-5.2.1.xml");
  ASSERT_TRUE(not_found) << not_found.error().ToString();
  auto other_error = testing::ReadSharedFile(
      "conformance/aws/responses/"
      "error--InvalidParameterCombination--GetMetricStatistics--moto-5.2.1.xml");
  ASSERT_TRUE(other_error) << other_error.error().ToString();

  testing::HttpTestServer rds([&](const testing::RecordedRequest& r) {
    const bool describe = r.body.find("Action=DescribeDBInstances") != std::string::npos;
    if (describe && r.body.find("mydb-replica") == std::string::npos) {
      return testing::ScriptedResponse::Text(200, *described, {{"Content-Type", "text/xml"}});
    }
    if (describe || r.body.find("Action=ModifyDBInstance") != std::string::npos) {
      return testing::ScriptedResponse::Text(404, *not_found, {{"Content-Type", "text/xml"}});
    }
    return testing::ScriptedResponse::Text(400, *other_error, {{"Content-Type", "text/xml"}});
  });
  config_ = Write("dbrunbook.yaml", Config(rds.BaseUrl()));

  auto failed = Dbrunbook("scale-gone --apply --format json");
  EXPECT_EQ(failed.status, 1) << failed.Describe();
  const auto j = nlohmann::json::parse(failed.out);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["plan"]["proposed"], "db.r6g.xlarge");
  EXPECT_TRUE(j["outcome"].is_null());
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_THAT(failed.err, HasSubstr("ModifyDBInstance failed: DBInstanceNotFound"));
  EXPECT_THAT(failed.out + failed.err, Not(HasSubstr(moto_.secret_key)));
  const auto audit = LastRunAudit();
  ASSERT_EQ(audit.size(), 2U) << ::testing::PrintToString(audit);
  EXPECT_EQ(audit[0], "planned:db.r6g.large -> db.r6g.xlarge");
  EXPECT_EQ(audit[1], "failed:not applied");
  bool modify_sent = false;
  for (const auto& r : rds.Requests()) {
    modify_sent = modify_sent || r.body.find("Action=ModifyDBInstance") != std::string::npos;
  }
  EXPECT_TRUE(modify_sent);
}

}  // namespace
}  // namespace dbrunbook
