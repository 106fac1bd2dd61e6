// The credential and region chain from the environment and the shared INI files (temporary
// files, MapEnvironment). Instance metadata is disabled here so that no test can reach a real
// 169.254.169.254; metadata_test.cc covers the endpoints against a loopback server.
#include "cloud/credentials.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cloud/query_protocol.h"
#include "core/duration.h"

namespace dbrunbook::cloud {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "dbrunbook-aws-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    home_ = pattern;
    std::filesystem::create_directories(home_ + "/.aws");
    env_.Set("HOME", home_);
    env_.Set("AWS_EC2_METADATA_DISABLED", "true");
    auto transport = CurlTransport::Create();
    ASSERT_TRUE(transport);
    transport_ = std::move(*transport);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(home_ + "/" + relative) << text;
  }
  AwsCredentialResolver Resolver(AwsResolverOptions options = {}) {
    return AwsCredentialResolver(std::move(options), env_, *transport_, clock_);
  }
  std::string CredentialsPath() const { return home_ + "/.aws/credentials"; }
  std::string ConfigPath() const { return home_ + "/.aws/config"; }

  std::string home_;
  core::MapEnvironment env_;
  core::SimulatedClock clock_;
  std::unique_ptr<CurlTransport> transport_;
};

AwsResolverOptions Profile(std::string name) {
  AwsResolverOptions o;
  o.profile = std::move(name);
  return o;
}

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env_.Set("AWS_SESSION_TOKEN", "env-token");
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "AKIDENV");
  EXPECT_EQ(creds->secret_access_key.Reveal(), "env-secret");
  EXPECT_EQ(creds->session_token.Reveal(), "env-token");
  EXPECT_EQ(creds->source, "environment");
  EXPECT_FALSE(creds->expiration);
  EXPECT_EQ(fmt::format("{}", creds->secret_access_key), "***");
}

TEST_F(CredentialsTest, HalfSetEnvironmentIsAnErrorThatNamesTheMissingVariable) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_NE(creds.error().message.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos);
  EXPECT_EQ(creds.error().ToString().find("AKIDENV"), std::string::npos);
}

TEST_F(CredentialsTest, AwsProfileVariableDoesNotSkipTheEnvironmentButAnExplicitProfileDoes) {
  env_.Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_.Set("AWS_SECRET_ACCESS_KEY", "env-secret");
  env_.Set("AWS_PROFILE", "prod");
  Write(".aws/credentials", "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = p\n");
  auto from_env = Resolver().Credentials();
  ASSERT_TRUE(from_env) << from_env.error().ToString();
  EXPECT_EQ(from_env->access_key_id.Reveal(), "AKIDENV");

  auto explicit_profile = Resolver(Profile("prod")).Credentials();
  ASSERT_TRUE(explicit_profile) << explicit_profile.error().ToString();
  EXPECT_EQ(explicit_profile->access_key_id.Reveal(), "AKIDPROD");
  EXPECT_EQ(explicit_profile->source, CredentialsPath() + " [prod]");
}

TEST_F(CredentialsTest, ProfileChoiceExplicitThenAwsProfileThenDefault) {
  EXPECT_EQ(Resolver().profile(), "default");
  env_.Set("AWS_PROFILE", "staging");
  EXPECT_EQ(Resolver().profile(), "staging");
  EXPECT_EQ(Resolver(Profile("prod")).profile(), "prod");
}

TEST_F(CredentialsTest, SharedCredentialsFileWithSessionToken) {
  Write(".aws/credentials",
        "# comment\n[default]\naws_access_key_id=AKIDDEF\naws_secret_access_key = def-secret\n"
        "aws_session_token = def-token\n\n[other]\naws_access_key_id = X\n"
        "aws_secret_access_key = Y\n");
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "AKIDDEF");
  EXPECT_EQ(creds->secret_access_key.Reveal(), "def-secret");
  EXPECT_EQ(creds->session_token.Reveal(), "def-token");
}

TEST_F(CredentialsTest, LegacySecurityTokenKeyIsRead) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = A\naws_secret_access_key = B\naws_security_token = T\n");
  auto creds = Resolver().Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->session_token.Reveal(), "T");
}

TEST_F(CredentialsTest, ConfigFileProfilesNeedThePrefixExceptDefault) {
  Write(".aws/config",
        "[default]\nregion = eu-west-1\n\n[profile prod]\naws_access_key_id = AKIDCFG\n"
        "aws_secret_access_key = cfg-secret\nregion = us-east-2\n\n[bare]\n"
        "aws_access_key_id = NOTAPROFILE\naws_secret_access_key = x\n");
  auto prod = Resolver(Profile("prod")).Credentials();
  ASSERT_TRUE(prod) << prod.error().ToString();
  EXPECT_EQ(prod->access_key_id.Reveal(), "AKIDCFG");
  EXPECT_EQ(prod->source, ConfigPath() + " [profile prod]");
  // [bare] in the config file is not a profile (AWS tools read it as another kind of section).
  auto bare = Resolver(Profile("bare")).Credentials();
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_NE(bare.error().message.find("AWS profile 'bare' is not defined"), std::string::npos)
      << bare.error().message;
}

TEST_F(CredentialsTest, ProfileDefaultSectionIsPreferredToDefault) {
  Write(".aws/config", "[default]\nregion = eu-west-1\n[profile default]\nregion = eu-central-1\n");
  auto region = Resolver().Region();
  ASSERT_TRUE(region) << region.error().ToString();
  EXPECT_EQ(*region, "eu-central-1");
}

TEST_F(CredentialsTest, CredentialsFileWinsOverConfigFileForTheSameProfile) {
  Write(".aws/credentials",
        "[prod]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = creds-secret\n"
        "region = ap-south-1\n");
  Write(".aws/config",
        "[profile prod]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\n"
        "region = us-west-2\nendpoint_url = http://localhost:4566\n");
  auto resolver = Resolver(Profile("prod"));
  auto creds = resolver.Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->access_key_id.Reveal(), "AKIDCREDS");
  // botocore merges the credentials file into the profile: its keys win, others stay.
  auto region = resolver.Region();
  ASSERT_TRUE(region) << region.error().ToString();
  EXPECT_EQ(*region, "ap-south-1");
  auto endpoint = resolver.EndpointUrl();
  ASSERT_TRUE(endpoint) << endpoint.error().ToString();
  EXPECT_EQ(*endpoint, "http://localhost:4566");
}

TEST_F(CredentialsTest, FileLocationsComeFromTheVariablesWithTildeExpansion) {
  std::filesystem::create_directories(home_ + "/elsewhere");
  Write("elsewhere/creds", "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = o\n");
  Write("elsewhere/conf", "[profile ops]\nregion = sa-east-1\n");
  env_.Set("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds");
  env_.Set("AWS_CONFIG_FILE", home_ + "/elsewhere/conf");
  auto resolver = Resolver(Profile("ops"));
  auto creds = resolver.Credentials();
  ASSERT_TRUE(creds) << creds.error().ToString();
  EXPECT_EQ(creds->source, home_ + "/elsewhere/creds [ops]");
  EXPECT_EQ(resolver.Region().value_or(""), "sa-east-1");
}

TEST_F(CredentialsTest, UnknownProfileSuggestsTheClosestOne) {
  Write(".aws/credentials", "[production]\naws_access_key_id = A\naws_secret_access_key = B\n");
  auto creds = Resolver(Profile("prodution")).Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_EQ(creds.error().hint, "did you mean 'production'?");
}

TEST_F(CredentialsTest, HalfAProfileIsAnErrorWithFileAndLine) {
  Write(".aws/credentials", "[default]\n\n[prod]\naws_access_key_id = AKIDHALF\n");
  auto creds = Resolver(Profile("prod")).Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_NE(creds.error().message.find(CredentialsPath() + ":3: [prod] has aws_access_key_id "
                                                           "but no aws_secret_access_key"),
            std::string::npos)
      << creds.error().message;
  EXPECT_EQ(creds.error().ToString().find("AKIDHALF"), std::string::npos);
}

TEST_F(CredentialsTest, MalformedIniGivesFileAndLineWithoutQuotingTheLine) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id = A\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_EQ(creds.error().message, CredentialsPath() + ":3: expected 'key = value'");
  EXPECT_EQ(creds.error().ToString().find("EXAMPLEKEY"), std::string::npos);
}

TEST_F(CredentialsTest, NoCredentialsAnywhereListsWhereItLooked) {
  Write(".aws/config", "[default]\nregion = eu-west-1\n");
  auto creds = Resolver().Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(creds.error().message,
            fmt::format("no AWS credentials found for profile 'default' (looked in: environment, "
                        "{} (no such file), {}, container endpoint "
                        "(AWS_CONTAINER_CREDENTIALS_* not set), instance metadata (disabled by "
                        "AWS_EC2_METADATA_DISABLED))",
                        CredentialsPath(), ConfigPath()));
  EXPECT_NE(creds.error().hint.find("aws configure"), std::string::npos);
}

TEST_F(CredentialsTest, AssumeRoleProfilesAreReportedAsUnsupported) {
  Write(".aws/config",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
        "source_profile = default\n");
  auto creds = Resolver(Profile("admin")).Credentials();
  ASSERT_FALSE(creds);
  EXPECT_EQ(creds.error().code, core::ErrorCode::kUnsupported);
  EXPECT_NE(creds.error().message.find(ConfigPath() + ":2"), std::string::npos)
      << creds.error().message;
  EXPECT_NE(creds.error().hint.find("export-credentials --profile admin"), std::string::npos);
}

TEST_F(CredentialsTest, RegionOrder) {
  Write(".aws/config", "[default]\nregion = eu-west-3\n");
  EXPECT_EQ(Resolver().Region().value_or(""), "eu-west-3");
  env_.Set("AWS_DEFAULT_REGION", "eu-north-1");
  EXPECT_EQ(Resolver().Region().value_or(""), "eu-north-1");
  env_.Set("AWS_REGION", "us-east-1");
  EXPECT_EQ(Resolver().Region().value_or(""), "us-east-1");
  AwsResolverOptions explicit_region;
  explicit_region.region = "ca-central-1";
  EXPECT_EQ(Resolver(explicit_region).Region().value_or(""), "ca-central-1");
}

TEST_F(CredentialsTest, InlineCommentsArePartOfTheValueAsInAwsTools) {
  Write(".aws/config", "[default]\nregion = eu-west-1 # Ireland\n");
  auto region = Resolver().Region();
  ASSERT_FALSE(region);
  EXPECT_EQ(region.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_NE(region.error().message.find("'eu-west-1 # Ireland' from " + ConfigPath() + ":2"),
            std::string::npos)
      << region.error().message;
}

TEST_F(CredentialsTest, NoRegionAnywhereIsNotFound) {
  auto region = Resolver().Region();
  ASSERT_FALSE(region);
  EXPECT_EQ(region.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(region.error().message.find("no AWS region for profile 'default'"), std::string::npos);
}

TEST_F(CredentialsTest, EndpointUrlOrder) {
  Write(".aws/config", "[default]\nendpoint_url = http://from-profile:4566\n");
  EXPECT_EQ(Resolver().EndpointUrl().value_or(std::nullopt), "http://from-profile:4566");
  env_.Set("AWS_ENDPOINT_URL", "http://from-env:4566");
  EXPECT_EQ(Resolver().EndpointUrl().value_or(std::nullopt), "http://from-env:4566");
  AwsResolverOptions explicit_endpoint;
  explicit_endpoint.endpoint_url = "https://explicit.example";
  EXPECT_EQ(Resolver(explicit_endpoint).EndpointUrl().value_or(std::nullopt),
            "https://explicit.example");
  env_.Set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  EXPECT_EQ(Resolver().EndpointUrl().value_or("error"), std::nullopt);
  EXPECT_EQ(Resolver(explicit_endpoint).EndpointUrl().value_or(std::nullopt),
            "https://explicit.example");
}

// The INI reader itself.

TEST(AwsIniTest, ParsesSectionsKeysAndContinuations) {
  auto ini = ParseAwsIni(
      "; comment\n[profile dev]\nRegion: eu-west-1\ns3 =\n  addressing_style = path\n"
      "  signature_version = s3v4\noutput=json\r\n",
      "config");
  ASSERT_TRUE(ini) << ini.error().ToString();
  ASSERT_EQ(ini->sections.size(), 1u);
  const IniSection& dev = ini->sections[0];
  EXPECT_EQ(dev.name, "profile dev");
  EXPECT_EQ(dev.line, 2);
  EXPECT_EQ(dev.values.at("region").text, "eu-west-1");  // keys are lower-cased
  EXPECT_EQ(dev.values.at("s3").text, "\naddressing_style = path\nsignature_version = s3v4");
  EXPECT_EQ(dev.values.at("output").text, "json");
  EXPECT_EQ(dev.values.at("output").line, 7);
}

TEST(AwsIniTest, RejectsWhatAwsToolsReject) {
  const auto error_of = [](std::string_view text) {
    auto ini = ParseAwsIni(text, "f");
    return ini ? std::string("ok") : ini.error().message;
  };
  EXPECT_EQ(error_of("key = value\n"), "f:1: a setting before any [section]");
  EXPECT_EQ(error_of("[a]\nx = 1\n[a]\n"), "f:3: duplicate section [a] (first at line 1)");
  EXPECT_EQ(error_of("[a]\nx = 1\nX = 2\n"), "f:3: duplicate key 'x' in [a] (first at line 2)");
  EXPECT_EQ(error_of("[]\n"), "f:1: malformed section header");
  EXPECT_EQ(error_of("[a\n"), "f:1: malformed section header");
  EXPECT_EQ(error_of("[a]\n= value\n"), "f:2: expected 'key = value'");
}

TEST(Iso8601Test, ParsesMetadataExpirations) {
  const auto t = ParseIso8601("2026-11-26T15:38:28Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(core::FormatRfc3339(*t), "2026-11-26T15:38:28.000Z");
  EXPECT_EQ(core::FormatRfc3339(*ParseIso8601("2026-11-26T15:38:28.5Z")),
            "2026-11-26T15:38:28.500Z");
  EXPECT_EQ(core::FormatRfc3339(*ParseIso8601("2026-11-26T17:38:28+02:00")),
            "2026-11-26T15:38:28.000Z");
  EXPECT_FALSE(ParseIso8601("2026-02-30T00:00:00Z"));
  // (query_protocol.h's parser, shared with the XML responses: no zone is UTC, and RFC 3339's
  // space instead of the 'T' is read too)
  EXPECT_EQ(ParseIso8601("2026-11-26T15:38:28"), t);
  EXPECT_EQ(ParseIso8601("2026-11-26 15:38:28Z"), t);
}

}  // namespace
}  // namespace dbrunbook::cloud
