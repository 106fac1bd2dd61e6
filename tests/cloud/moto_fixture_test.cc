// Proves the CTest fixture `moto` (tests/cloud/moto_fixture): moto seeded by moto_seed.py,
// behind sigv4_verifying_proxy.py. Through the proxy, with our CurlTransport: an unsigned
// request and one signed with the wrong secret are refused (403, logged as rejected); a
// DescribeDBInstances signed by our Signer is accepted (logged as such) and answered by moto
// with the seeded instances. RunBoto3 reads moto's state directly.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "cloud/credentials.h"
#include "cloud/http.h"
#include "cloud/sigv4.h"
#include "support/moto.h"

namespace dbrunbook::cloud {
namespace {

class MotoFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fixture = dbrunbook::testing::LoadMotoFixture();
    ASSERT_TRUE(fixture) << fixture.error().ToString();
    moto_ = std::move(*fixture);
    auto transport = CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    transport_ = std::move(*transport);
    credentials_.access_key_id = core::Secret(moto_.access_key);
    credentials_.secret_access_key = core::Secret(moto_.secret_key);
  }

  // DescribeDBInstances as the Query API sends it, addressed to the proxy.
  SignableRequest DescribeDBInstances() const {
    const auto port = moto_.endpoint_url.substr(moto_.endpoint_url.rfind(':') + 1);
    SignableRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"Host", HostHeaderValue("127.0.0.1", std::stoi(port), false)},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = FormEncode({{"Action", "DescribeDBInstances"}, {"Version", "2014-10-31"}});
    return r;
  }

  // Signs `r` (unless `sign` is false) and sends it to the proxy.
  core::Result<HttpResponse> Send(const SignableRequest& r, bool sign = true) {
    SignableRequest wire = r;
    if (sign) {
      SigningParams params;
      params.region = moto_.region;
      params.service = "rds";
      params.time = std::chrono::system_clock::now();
      auto signed_request = signer_.Sign(r, credentials_, params);
      if (!signed_request) return core::Fail(signed_request.error());
      wire = signed_request->request;
    }
    HttpRequest request;
    request.method = wire.method;
    request.url = moto_.endpoint_url + wire.path;
    for (const HttpHeader& h : wire.headers) request.headers.emplace_back(h.name, h.value);
    request.body = wire.body;
    return transport_->Send(request);
  }

  dbrunbook::testing::MotoFixture moto_;
  std::unique_ptr<CurlTransport> transport_;
  Signer signer_;
  AwsCredentials credentials_;
};

TEST_F(MotoFixtureTest, ManifestListsTheSeededResourcesAndMetrics) {
  const auto& rds = moto_.manifest.at("rds");
  std::set<std::string> instances;
  for (const auto& i : rds.at("instances")) instances.insert(i.at("id").get<std::string>());
  EXPECT_EQ(instances, (std::set<std::string>{"orders-primary-db", "orders-replica-db",
                                              "orders-aurora-1", "orders-aurora-2"}));
  ASSERT_EQ(rds.at("clusters").size(), 1U);
  EXPECT_EQ(rds.at("clusters")[0].at("id"), "orders-cluster");
  EXPECT_EQ(moto_.manifest.at("region"), moto_.region);

  bool primary_cpu = false;
  for (const auto& m : moto_.manifest.at("metrics")) {
    EXPECT_EQ(m.at("values").size(), 15U) << m.dump();
    if (m.at("metric") == "CPUUtilization" && m.at("value") == "orders-primary-db") {
      primary_cpu = true;
    }
  }
  EXPECT_TRUE(primary_cpu) << moto_.manifest.dump(1);
}

TEST_F(MotoFixtureTest, UnsignedRequestIsRefused) {
  const auto before = dbrunbook::testing::ProxyLogSize(moto_);
  auto response = Send(DescribeDBInstances(), /*sign=*/false);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403) << response->body;
  EXPECT_NE(response->body.find("<Code>MissingAuthenticationToken</Code>"), std::string::npos)
      << response->body;

  auto verdicts = dbrunbook::testing::ProxyVerdicts(moto_, before);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->accepted, 0);
  ASSERT_EQ(verdicts->rejected, 1);
  EXPECT_EQ(verdicts->requests[0].action, "DescribeDBInstances");
  EXPECT_EQ(verdicts->requests[0].verdict, "MissingAuthenticationToken");
}

TEST_F(MotoFixtureTest, WrongSecretIsRefused) {
  const auto before = dbrunbook::testing::ProxyLogSize(moto_);
  credentials_.secret_access_key = core::Secret("not-the-secret");
  auto response = Send(DescribeDBInstances());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403) << response->body;
  EXPECT_NE(response->body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos)
      << response->body;
  auto verdicts = dbrunbook::testing::ProxyVerdicts(moto_, before);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->accepted, 0);
  EXPECT_EQ(verdicts->rejected, 1);
}

TEST_F(MotoFixtureTest, SignedDescribeDBInstancesIsAcceptedAndAnsweredByMoto) {
  const auto before = dbrunbook::testing::ProxyLogSize(moto_);
  auto response = Send(DescribeDBInstances());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200) << response->body;
  for (const auto& i : moto_.manifest.at("rds").at("instances")) {
    const auto id = i.at("id").get<std::string>();
    EXPECT_NE(response->body.find("<DBInstanceIdentifier>" + id + "</DBInstanceIdentifier>"),
              std::string::npos)
        << id << " not in\n"
        << response->body;
  }

  auto verdicts = dbrunbook::testing::ProxyVerdicts(moto_, before);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->rejected, 0);
  ASSERT_EQ(verdicts->accepted, 1);
  EXPECT_EQ(verdicts->requests[0].method, "POST");
  EXPECT_EQ(verdicts->requests[0].action, "DescribeDBInstances");
  EXPECT_EQ(verdicts->requests[0].verdict, "ok 200");
  // The next read starts where this one ended and sees nothing new.
  auto again = dbrunbook::testing::ProxyVerdicts(moto_, verdicts->end_offset);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_TRUE(again->requests.empty());
}

TEST_F(MotoFixtureTest, RunBoto3ReadsMotoDirectly) {
  const auto before = dbrunbook::testing::ProxyLogSize(moto_);
  auto out = dbrunbook::testing::RunBoto3(
      moto_,
      "d = rds.describe_db_instances(DBInstanceIdentifier='orders-primary-db')['DBInstances'][0]\n"
      "print(d['DBInstanceClass'], d['ReadReplicaDBInstanceIdentifiers'][0])");
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(*out, "db.r6g.large orders-replica-db\n");
  // Straight to moto: the proxy saw nothing.
  auto verdicts = dbrunbook::testing::ProxyVerdicts(moto_, before);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_TRUE(verdicts->requests.empty());

  auto failed = dbrunbook::testing::RunBoto3(moto_, "raise SystemExit('boom')");
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().ToString().find("boom"), std::string::npos) << failed.error().ToString();
}

}  // namespace
}  // namespace dbrunbook::cloud
