// Container and EC2 instance metadata credentials, served by a real loopback HTTP server that
// plays the endpoint's documented protocol and checks what the client sends.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cloud/credentials.h"
#include "core/duration.h"
#include "support/http_test_server.h"

namespace dbrunbook::cloud {
namespace {

using testing::HttpTestServer;
using testing::RecordedRequest;
using testing::ScriptedResponse;

std::string CredentialsJson(core::WallTime expiration, const std::string& key = "ASIAMETA") {
  return fmt::format(R"({{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC",)"
                     R"("AccessKeyId":"{}","SecretAccessKey":"meta-secret","Token":"meta-token",)"
                     R"("Expiration":"{}"}})",
                     key, core::FormatRfc3339(expiration));
}

// The EC2 instance metadata service as documented: IMDSv2 tokens via PUT, reads with the token
// (or without one when `v1_allowed`), a role named "web-role".
class FakeImds {
 public:
  explicit FakeImds(core::Clock& clock) : clock_(clock) {}
  int token_status = 200;
  bool v1_allowed = false;
  std::string role = "web-role";
  std::string region = "eu-west-1";
  int fetches = 0;
  std::string key = "ASIAMETA";
  core::Duration lifetime = std::chrono::hours(1);
  bool broken = false;

  ScriptedResponse operator()(const RecordedRequest& r) {
    if (broken) return ScriptedResponse::Text(500, "down");
    if (r.method == "PUT" && r.target == "/latest/api/token") {
      if (token_status != 200) return ScriptedResponse::Text(token_status, "");
      if (r.Header("X-aws-ec2-metadata-token-ttl-seconds") != "21600") {
        return ScriptedResponse::Text(400, "missing ttl");
      }
      return ScriptedResponse::Text(200, "TOKEN-123");
    }
    if (r.method != "GET") return ScriptedResponse::Text(405, "");
    const auto token = r.Header("X-aws-ec2-metadata-token");
    if (token ? *token != "TOKEN-123" : !v1_allowed) return ScriptedResponse::Text(401, "");
    if (r.target == "/latest/meta-data/iam/security-credentials/") {
      if (role.empty()) return ScriptedResponse::Text(404, "");
      return ScriptedResponse::Text(200, role + "\n");
    }
    if (r.target == "/latest/meta-data/iam/security-credentials/" + role) {
      ++fetches;
      return ScriptedResponse::Text(200, CredentialsJson(clock_.WallNow() + lifetime, key));
    }
    if (r.target == "/latest/meta-data/placement/region" && !region.empty()) {
      return ScriptedResponse::Text(200, region);
    }
    if (r.target == "/latest/meta-data/placement/availability-zone") {
      return ScriptedResponse::Text(200, "ap-southeast-2b");
    }
    return ScriptedResponse::Text(404, "");
  }

 private:
  core::Clock& clock_;
};

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "dbrunbook-imds-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    home_ = pattern;
    env_.Set("HOME", home_);  // no ~/.aws: nothing but the endpoints
    env_.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", server_.BaseUrl() + "/");
    auto transport = CurlTransport::Create();
    ASSERT_TRUE(transport);
    transport_ = std::move(*transport);
    server_.SetHandler([this](const RecordedRequest& r) { return imds_(r); });
  }
  void TearDown() override {
    server_.Stop();
    std::filesystem::remove_all(home_);
  }
  AwsCredentialResolver Resolver(AwsResolverOptions options = {}) {
    options.metadata_timeout = std::chrono::milliseconds(500);
    return AwsCredentialResolver(std::move(options), env_, *transport_, clock_);
  }

  std::string home_;
  core::MapEnvironment env_;
  core::SimulatedClock clock_;
  FakeImds imds_{clock_};
  HttpTestServer server_;
  std::unique_ptr<CurlTransport> transport_;
};

TEST_F(MetadataTest, ImdsV2TokenFirstThenRoleAndCredentialsWithTheToken) {
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "ASIAMETA");
  EXPECT_EQ(creds->secret_access_key.Reveal(), "meta-secret");
  EXPECT_EQ(creds->session_token.Reveal(), "meta-token");
  EXPECT_EQ(creds->source, "instance metadata role 'web-role'");
  ASSERT_TRUE(creds->expiration);
  EXPECT_EQ(std::chrono::round<std::chrono::seconds>(*creds->expiration - clock_.WallNow()),
            std::chrono::hours(1));

  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/latest/api/token");
  EXPECT_EQ(requests[0].Header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].Header("X-aws-ec2-metadata-token"), "TOKEN-123");
  EXPECT_EQ(requests[2].target, "/latest/meta-data/iam/security-credentials/web-role");
  EXPECT_EQ(requests[2].Header("X-aws-ec2-metadata-token"), "TOKEN-123");
}

TEST_F(MetadataTest, FallsBackToImdsV1WhenTheTokenRequestIsForbiddenLikeBotocore) {
  imds_.token_status = 403;
  imds_.v1_allowed = true;
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_FALSE(requests[1].Header("X-aws-ec2-metadata-token"));
  EXPECT_FALSE(requests[2].Header("X-aws-ec2-metadata-token"));
}

TEST_F(MetadataTest, NoImdsV1FallbackWhenDisabled) {
  imds_.token_status = 403;
  imds_.v1_allowed = true;
  env_.Set("AWS_EC2_METADATA_V1_DISABLED", "true");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(creds.error().message.find("IMDSv1 is disabled"), std::string::npos)
      << creds.error().message;
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(MetadataTest, TokenRequestTimeoutFallsBackToImdsV1) {
  // Inside a container a hop limit of 1 drops the PUT's answer: botocore then reads without a
  // token.
  server_.SetHandler([this](const RecordedRequest& r) {
    ScriptedResponse response = imds_(r);
    if (r.method == "PUT") response.delay = std::chrono::milliseconds(2000);
    return response;
  });
  imds_.v1_allowed = true;
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "ASIAMETA");
}

TEST_F(MetadataTest, NoRoleAttachedIsReportedInTheChainError) {
  imds_.role.clear();
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(creds.error().message.find("no IAM role is attached"), std::string::npos)
      << creds.error().message;
}

TEST_F(MetadataTest, DisabledMetadataIsNeverAsked) {
  env_.Set("AWS_EC2_METADATA_DISABLED", "TRUE");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(MetadataTest, CredentialsAreCachedAndRefreshedBeforeTheyExpire) {
  auto resolver = Resolver();  // refresh_before defaults to 5 minutes
  ASSERT_TRUE(resolver.Credentials());
  ASSERT_TRUE(resolver.Credentials());
  EXPECT_EQ(imds_.fetches, 1);
  clock_.Advance(std::chrono::minutes(54));
  ASSERT_TRUE(resolver.Credentials());
  EXPECT_EQ(imds_.fetches, 1);
  clock_.Advance(std::chrono::minutes(2));  // 4 minutes left: refresh
  imds_.key = "ASIAFRESH";
  auto fresh = resolver.Credentials();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(imds_.fetches, 2);
  EXPECT_EQ(fresh->access_key_id.Reveal(), "ASIAFRESH");
}

TEST_F(MetadataTest, FailedRefreshKeepsValidCredentialsUntilTheyExpire) {
  auto resolver = Resolver();
  ASSERT_TRUE(resolver.Credentials());
  imds_.broken = true;
  clock_.Advance(std::chrono::minutes(57));
  auto stale = resolver.Credentials();
  ASSERT_TRUE(stale) << stale.error().ToString();
  EXPECT_EQ(stale->access_key_id.Reveal(), "ASIAMETA");
  clock_.Advance(std::chrono::minutes(4));  // past the expiration
  auto expired = resolver.Credentials();
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, core::ErrorCode::kNotFound);
}

TEST_F(MetadataTest, RegionFromInstancePlacement) {
  auto region = Resolver().Region();
  ASSERT_TRUE(region) << region.error().ToString();
  EXPECT_EQ(*region, "eu-west-1");
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[1].target, "/latest/meta-data/placement/region");
  EXPECT_EQ(requests[1].Header("X-aws-ec2-metadata-token"), "TOKEN-123");
}

TEST_F(MetadataTest, RegionFromAvailabilityZoneOnOlderMetadata) {
  imds_.region.clear();
  auto region = Resolver().Region();
  ASSERT_TRUE(region) << region.error().ToString();
  EXPECT_EQ(*region, "ap-southeast-2");
}

TEST_F(MetadataTest, UnreachableMetadataEndpointIsListedInTheError) {
  server_.Stop();  // nothing listens on the port any more
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(creds.error().message.find("instance metadata (cannot connect to http://127.0.0.1:"),
            std::string::npos)
      << creds.error().message;
}

// ECS / EKS container credentials.

TEST_F(MetadataTest, ContainerRelativeUriIsReadFromTheContainerAddress) {
  server_.SetHandler([this](const RecordedRequest& r) {
    if (r.target == "/v2/credentials/task-uuid") {
      return ScriptedResponse::Text(
          200, CredentialsJson(clock_.WallNow() + std::chrono::hours(6), "ASIATASK"));
    }
    return ScriptedResponse::Text(404, "");
  });
  env_.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task-uuid");
  AwsResolverOptions options;
  options.container_base_url = server_.BaseUrl();
  auto creds = Resolver(options).Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "ASIATASK");
  EXPECT_EQ(creds->source, "container credentials endpoint " + server_.BaseUrl());
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);  // container first: instance metadata not asked
  EXPECT_FALSE(requests[0].Header("Authorization"));
}

TEST_F(MetadataTest, ContainerFullUriSendsTheAuthorizationToken) {
  server_.SetHandler([this](const RecordedRequest& r) {
    if (r.Header("Authorization") != "pod-identity-token") return ScriptedResponse::Text(401, "");
    return ScriptedResponse::Text(200, CredentialsJson(clock_.WallNow() + std::chrono::hours(6)));
  });
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.BaseUrl() + "/v1/credentials");
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token-loses");
  std::ofstream(home_ + "/token") << "pod-identity-token\n";
  env_.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home_ + "/token");
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(server_.Requests().at(0).target, "/v1/credentials");
}

TEST_F(MetadataTest, ContainerFullUriMustBeLocalOrHttps) {
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.1.2.3/creds?token=SECRET");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_EQ(creds.error().ToString().find("SECRET"), std::string::npos);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(MetadataTest, ContainerFailureIsFinalAndDoesNotFallThroughToInstanceMetadata) {
  server_.SetHandler([](const RecordedRequest& r) {
    if (r.target.starts_with("/creds")) return ScriptedResponse::Text(403, "denied");
    return ScriptedResponse::Text(200, "instance metadata must not be asked");
  });
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.BaseUrl() + "/creds");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kAccessDenied);
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(MetadataTest, IncompleteCredentialsAnswerIsAParseErrorWithoutSecrets) {
  server_.SetHandler([](const RecordedRequest&) {
    return ScriptedResponse::Text(
        200, R"({"AccessKeyId":"ASIALEAK","SecretAccessKey":"LEAKED-SECRET","Token":"t"})");
  });
  env_.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_.BaseUrl() + "/creds");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kParse);
  EXPECT_NE(creds.error().message.find("no Expiration"), std::string::npos);
  EXPECT_EQ(creds.error().ToString().find("LEAKED"), std::string::npos);
  EXPECT_EQ(creds.error().ToString().find("ASIALEAK"), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::cloud
