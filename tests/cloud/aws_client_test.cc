// AwsQueryClient and AwsProvider against a real HTTP server on loopback (the test plays the AWS
// endpoint): what goes on the wire (signed POST form body, credential scope), retries on
// throttling and 5xx for reads, none for a change that may have reached the service, typed
// errors from AWS error documents, pagination, and no secret in any error text.
#include "cloud/aws_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cloud/aws_provider.h"
#include "cloud/rds_api.h"
#include "core/environment.h"
#include "support/http_test_server.h"

namespace dbrunbook::cloud {
namespace {

using dbrunbook::testing::HttpTestServer;
using dbrunbook::testing::RecordedRequest;
using dbrunbook::testing::ScriptedResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kToken = "session-token-that-must-not-leak";

std::string InstancesXml(const std::vector<std::string>& ids, const std::string& marker = "") {
  std::string xml =
      "<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">"
      "<DescribeDBInstancesResult>";
  if (!marker.empty()) xml += "<Marker>" + marker + "</Marker>";
  xml += "<DBInstances>";
  for (const auto& id : ids) {
    xml += "<DBInstance><DBInstanceIdentifier>" + id +
           "</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
           "<DBInstanceClass>db.r6g.large</DBInstanceClass><Engine>mysql</Engine>"
           "<MultiAZ>true</MultiAZ></DBInstance>";
  }
  xml +=
      "</DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r1</RequestId>"
      "</ResponseMetadata></DescribeDBInstancesResponse>";
  return xml;
}

std::string ErrorXml(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender"
         "</Type><Code>" +
         code + "</Code><Message>" + message +
         "</Message></Error><RequestId>req-9</RequestId></ErrorResponse>";
}

class AwsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.Set("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    env_.Set("AWS_SECRET_ACCESS_KEY", kSecret);
    env_.Set("AWS_SESSION_TOKEN", kToken);
    env_.Set("AWS_EC2_METADATA_DISABLED", "true");
    env_.Set("AWS_CONFIG_FILE", "/nonexistent/config");
    env_.Set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    auto transport = CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    transport_ = std::move(*transport);
  }

  std::unique_ptr<AwsProvider> Provider(int max_attempts = 3) {
    AwsProviderOptions options;
    options.resolver.region = "eu-west-1";
    options.resolver.endpoint_url = server_.BaseUrl();
    options.retry.max_attempts = max_attempts;
    options.retry.base_delay = std::chrono::milliseconds(1);
    options.retry.max_delay = std::chrono::milliseconds(5);
    return std::make_unique<AwsProvider>(options, env_, *transport_, clock_);
  }

  core::MapEnvironment env_;
  core::RealClock clock_;
  std::unique_ptr<CurlTransport> transport_;
  HttpTestServer server_;
};

TEST_F(AwsClientTest, SendsASignedFormPostAndParsesTheAnswer) {
  server_.Enqueue(ScriptedResponse::Text(200, InstancesXml({"orders-db"})));
  auto provider = Provider();
  CloudResource resource;
  resource.instance_identifier = "orders-db";
  server_.Enqueue(ScriptedResponse::Text(
      200,
      "<DescribeEventsResponse><DescribeEventsResult><Events/></DescribeEventsResult>"
      "</DescribeEventsResponse>"));
  auto status = provider->Status(resource);
  ASSERT_TRUE(status) << status.error().ToString();
  ASSERT_TRUE(status->instance);
  EXPECT_EQ(status->instance->db_instance_identifier, "orders-db");
  EXPECT_EQ(status->region, "eu-west-1");

  const auto requests = server_.Requests();
  ASSERT_GE(requests.size(), 1U);
  const RecordedRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.Path(), "/");
  EXPECT_THAT(r.body, HasSubstr("Action=DescribeDBInstances&Version=2014-10-31"));
  EXPECT_THAT(r.body, HasSubstr("DBInstanceIdentifier=orders-db"));
  EXPECT_THAT(r.Header("Content-Type").value_or(""),
              HasSubstr("application/x-www-form-urlencoded"));
  const std::string auth = r.Header("Authorization").value_or("");
  EXPECT_THAT(auth, HasSubstr("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  EXPECT_THAT(auth, HasSubstr("/eu-west-1/rds/aws4_request"));
  EXPECT_THAT(auth, HasSubstr("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"));
  EXPECT_EQ(r.Header("X-Amz-Security-Token").value_or(""), kToken);
  EXPECT_THAT(auth, Not(HasSubstr(kSecret)));
}

TEST_F(AwsClientTest, ReadsAreRetriedOnThrottlingAnd5xx) {
  server_.Enqueue(ScriptedResponse::Text(400, ErrorXml("Throttling", "Rate exceeded")));
  server_.Enqueue(ScriptedResponse::Text(503, "<html>busy</html>"));
  server_.Enqueue(ScriptedResponse::Text(200, InstancesXml({"a"})));
  auto provider = Provider();
  auto params = provider->DescribeParameters("orders-params");  // (any Describe* will do)
  // DescribeDBParameters answered with an instances document: the parse fails, but only after
  // the retries delivered the 200. The count of requests is the point here.
  EXPECT_EQ(server_.Requests().size(), 3U);
  EXPECT_THAT(server_.Requests()[0].body, HasSubstr("Action=DescribeDBParameters"));
}

TEST_F(AwsClientTest, ChangesAreNotRetriedOnceSent) {
  server_.Enqueue(ScriptedResponse::Text(503, ErrorXml("InternalFailure", "try later")));
  server_.Enqueue(ScriptedResponse::Text(200, "<never/>"));
  auto provider = Provider();
  auto result = provider->RebootInstance("orders-db", /*force_failover=*/true);
  ASSERT_FALSE(result);
  EXPECT_EQ(server_.Requests().size(), 1U) << "a reboot must not be sent twice";
  EXPECT_THAT(server_.Requests()[0].body, HasSubstr("ForceFailover=true"));
}

TEST_F(AwsClientTest, AwsErrorsBecomeTypedErrorsWithoutSecrets) {
  server_.Enqueue(ScriptedResponse::Text(
      404, ErrorXml("DBInstanceNotFound", "DBInstance orders-db not found.")));
  auto provider = Provider();
  CloudResource resource;
  resource.instance_identifier = "orders-db";
  auto status = provider->Status(resource);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, core::ErrorCode::kNotFound);
  const std::string text = status.error().ToString();
  EXPECT_THAT(text, HasSubstr("DescribeDBInstances"));
  EXPECT_THAT(text, HasSubstr("DBInstanceNotFound"));
  EXPECT_THAT(text, Not(HasSubstr(kSecret)));
  EXPECT_THAT(text, Not(HasSubstr(kToken)));

  server_.Enqueue(ScriptedResponse::Text(403, ErrorXml("ExpiredToken", "The token expired")));
  auto again = provider->Status(resource);
  ASSERT_FALSE(again);
  EXPECT_THAT(again.error().ToString(), HasSubstr("ExpiredToken"));
  EXPECT_THAT(again.error().ToString(), Not(HasSubstr(kToken)));
}

TEST_F(AwsClientTest, DescribeFollowsMarkers) {
  server_.Enqueue(ScriptedResponse::Text(200, InstancesXml({"a", "b"}, "page-2")));
  server_.Enqueue(ScriptedResponse::Text(200, InstancesXml({"c"})));
  server_.Enqueue(ScriptedResponse::Text(
      200,
      "<DescribeEventsResponse><DescribeEventsResult><Events/></DescribeEventsResult>"
      "</DescribeEventsResponse>"));
  auto provider = Provider();
  CloudResource resource;
  resource.instance_identifier = "a";
  auto status = provider->Status(resource);
  ASSERT_TRUE(status) << status.error().ToString();
  const auto requests = server_.Requests();
  ASSERT_GE(requests.size(), 2U);
  EXPECT_THAT(requests[1].body, HasSubstr("Marker=page-2"));
}

TEST_F(AwsClientTest, StandardEndpoints) {
  EXPECT_EQ(StandardEndpoint(kRdsService, "us-east-1"), "https://rds.us-east-1.amazonaws.com");
  EXPECT_EQ(StandardEndpoint(kCloudWatchService, "eu-west-1"),
            "https://monitoring.eu-west-1.amazonaws.com");
  EXPECT_EQ(StandardEndpoint(kRdsService, "cn-north-1"), "https://rds.cn-north-1.amazonaws.com.cn");
}

}  // namespace
}  // namespace dbrunbook::cloud
