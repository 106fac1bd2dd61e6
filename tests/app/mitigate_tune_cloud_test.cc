// `dbrunbook mitigate tune` on a target with a cloud: section, against moto behind the
// SigV4-verifying proxy, the primary sandbox being the database whose counters are read: the
// change goes to the instance's DB parameter group (named by the instance's status), never to
// the server with SET GLOBAL; only parameters DescribeDBParameters lists as modifiable are
// changed; the memory is the instance class's; --revert puts the group's previous value back.
//
// moto's DescribeDBParameters returns only parameters set through ModifyDBParameterGroup, with
// the fields given there, so the test seeds the group with the fields real RDS reports for
// every parameter (IsModifiable, ApplyType).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_fixture.h"
#include "support/moto.h"
#include "support/sandbox.h"

namespace dbrunbook::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class MitigateTuneCloudTest : public testing::CliFixture {
 protected:
  MitigateTuneCloudTest() : CliFixture("mitigate-tune-cloud") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    moto_ = *moto;
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = *primary;
    thread_cache_ = Sql("SELECT @@GLOBAL.thread_cache_size");
    ASSERT_FALSE(thread_cache_.empty());
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "audit.db").string();
    config_ =
        Write("dbrunbook.yaml", "targets:\n  - name: tune-cloud\n    socket: " + primary_.socket +
                                    "\n    user: root\n    cloud: {region: " + moto_.region +
                                    ", db_instance_identifier: tune-db, endpoint_url: \"" +
                                    moto_.endpoint_url + "\"}\n");
    Boto(
        "try:\n"
        "    rds.create_db_parameter_group(DBParameterGroupName='tune-params', "
        "DBParameterGroupFamily='mysql8.0', Description='mitigate tune test')\n"
        "    rds.create_db_instance(DBInstanceIdentifier='tune-db', "
        "DBInstanceClass='db.r6g.large', Engine='mysql', MasterUsername='admin', "
        "MasterUserPassword='not-a-real-password', AllocatedStorage=20, "
        "DBParameterGroupName='tune-params')\n"
        "except rds.exceptions.ClientError:\n"
        "    pass\n"
        "print('ok')");
  }
  void TearDown() override {
    Sql("SET GLOBAL thread_cache_size = " + thread_cache_);
    CliFixture::TearDown();
  }

  std::string Boto(const std::string& code) {
    auto out = testing::RunBoto3(moto_, code);
    EXPECT_TRUE(out) << out.error().ToString();
    return out.value_or("");
  }
  // Seeds thread_cache_size in the group with the fields RDS reports (the apply type is the
  // test's choice: RDS reports it per parameter).
  void Seed(const std::string& value, bool modifiable, const std::string& apply_type = "dynamic") {
    Boto(std::string("rds.modify_db_parameter_group(DBParameterGroupName='tune-params', "
                     "Parameters=[{'ParameterName': 'thread_cache_size', 'ParameterValue': '") +
         value + "', 'ApplyMethod': 'immediate', 'ApplyType': '" + apply_type +
         "', 'IsModifiable': " + (modifiable ? "True" : "False") + "}])\nprint('ok')");
  }
  std::string GroupValue() {
    return Boto(
        "ps = rds.describe_db_parameters(DBParameterGroupName='tune-params')['Parameters']\n"
        "print([p.get('ParameterValue') for p in ps if p['ParameterName'] == "
        "'thread_cache_size'][0])");
  }
  static std::string Sql(const std::string& sql) {
    auto out = testing::SandboxSql("primary", sql, {"--skip-column-names"});
    EXPECT_TRUE(out) << sql << ": " << out.error().ToString();
    std::string text = out.value_or("");
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }
  testing::RunResult Tune(const std::string& args) {
    const std::string env = "HOME='" + (dir_ / "home").string() +
                            "' XDG_STATE_HOME= AWS_ACCESS_KEY_ID='" + moto_.access_key +
                            "' AWS_SECRET_ACCESS_KEY='" + moto_.secret_key +
                            "' AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent "
                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent ";
    return Shell(env + "\"$B\" --config '" + config_ + "' mitigate tune " + args + " --store '" +
                 store_ + "'");
  }
  static json Json(const testing::RunResult& r) {
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Describe();
    return j;
  }

  testing::MotoFixture moto_;
  testing::SandboxServer primary_;
  std::string config_;
  std::string store_;
  std::string thread_cache_;
};

TEST_F(MitigateTuneCloudTest, ParameterGroupChangeAndRevert) {
  Sql("SET GLOBAL thread_cache_size = 0");
  Seed("0", true);
  const auto start = testing::ProxyLogSize(moto_);
  const auto r = Tune("tune-cloud --interval 1s --apply --only thread_cache_size --format json");
  EXPECT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["mode"], "parameter_group");
  EXPECT_EQ(j["parameter_group"], "tune-params");
  EXPECT_EQ(j["memory"]["bytes"], 16LL * 1024 * 1024 * 1024);  // db.r6g.large
  ASSERT_EQ(j["changes"].size(), 1u) << j.dump(2);
  const json& c = j["changes"][0];
  EXPECT_EQ(c["variable"], "thread_cache_size");
  EXPECT_EQ(c["previous"], "0");
  EXPECT_EQ(c["status"], "verified") << c.dump();
  const std::string value = c["value"];
  EXPECT_THAT(GroupValue(), HasSubstr(value));
  // The server itself was not touched: a parameter group change, not SET GLOBAL.
  EXPECT_EQ(Sql("SELECT @@GLOBAL.thread_cache_size"), "0");
  auto verdicts = testing::ProxyVerdicts(moto_, start);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->rejected, 0);
  EXPECT_GT(verdicts->accepted, 2);

  const auto revert = Tune("tune-cloud --revert --apply --format json");
  EXPECT_EQ(revert.status, 0) << revert.Describe();
  EXPECT_EQ(Json(revert)["changes"][0]["status"], "verified") << revert.out;
  EXPECT_EQ(GroupValue(), "0\n");
}

TEST_F(MitigateTuneCloudTest, AParameterNotModifiableIsNotChanged) {
  Sql("SET GLOBAL thread_cache_size = 0");
  Seed("0", false);
  const auto r = Tune("tune-cloud --interval 1s --apply --only thread_cache_size --format json");
  EXPECT_EQ(r.status, 1) << r.Describe();
  const json j = Json(r);
  ASSERT_EQ(j["changes"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["changes"][0]["status"], "refused");
  EXPECT_THAT(j["changes"][0]["detail"].get<std::string>(), HasSubstr("not modifiable"));
  EXPECT_EQ(GroupValue(), "0\n");
}

TEST_F(MitigateTuneCloudTest, AStaticParameterIsSentPendingReboot) {
  Sql("SET GLOBAL thread_cache_size = 0");
  Seed("0", true, "static");
  const auto r = Tune("tune-cloud --interval 1s --apply --only thread_cache_size --format json");
  EXPECT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  ASSERT_EQ(j["changes"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["changes"][0]["status"], "pending_reboot");
  EXPECT_THAT(j["changes"][0]["detail"].get<std::string>(), HasSubstr("pending reboot"));
  EXPECT_EQ(Boto("ps = rds.describe_db_parameters(DBParameterGroupName='tune-params')"
                 "['Parameters']\n"
                 "print([p.get('ApplyMethod') for p in ps if p['ParameterName'] == "
                 "'thread_cache_size'][0])"),
            "pending-reboot\n");
  const auto text = Tune("tune-cloud --revert --apply");
  EXPECT_EQ(text.status, 0) << text.Describe();
  EXPECT_EQ(GroupValue(), "0\n");
}

}  // namespace
}  // namespace dbrunbook::app
