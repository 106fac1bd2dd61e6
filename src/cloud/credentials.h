// AWS credentials, region and endpoint, found the way the AWS CLI (botocore) finds them.
//
// Credentials, first match wins:
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]; skipped when
//      a profile is given explicitly (botocore does the same: an explicit profile must not be
//      overridden by stray variables; AWS_PROFILE is not explicit and does not skip them);
//   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials),
//      section [NAME];
//   3. the config file (AWS_CONFIG_FILE, else ~/.aws/config), section [profile NAME] ([default]
//      or [profile default] for the default profile; a bare [NAME] is not a profile there);
//   4. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI against 169.254.170.2, or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback, ECS or EKS address)
//      with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / AWS_CONTAINER_AUTHORIZATION_TOKEN as the
//      Authorization header; when configured, its failure is final, as in botocore;
//   5. EC2 instance metadata (IMDSv2): PUT /latest/api/token, then the role name and the
//      role's credentials with the token. Endpoint from AWS_EC2_METADATA_SERVICE_ENDPOINT (or the
//      profile's ec2_metadata_service_endpoint); off with AWS_EC2_METADATA_DISABLED=true.
//      Like botocore, when the token request is answered 403/404/405 or times out, the reads
//      are retried without a token (IMDSv1), unless AWS_EC2_METADATA_V1_DISABLED=true or the
//      profile's ec2_metadata_v1_disabled = true.
// Profile name: the explicit one, else AWS_PROFILE, else "default". A non-default profile that
// neither file defines is an error, even if other sources could answer (as in the AWS CLI).
// Where a profile is in both files, each key of the credentials file wins over the config file's.
// Profiles that need assume-role, SSO or credential_process are reported as unsupported.
//
// Region: explicit > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region` > instance
// metadata (placement/region). Endpoint URL: explicit > AWS_ENDPOINT_URL > the profile's
// `endpoint_url` (the last two ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true).
//
// The INI files are read as botocore's RawConfigParser reads them: `key = value` or
// `key: value`, keys lower-cased, `#` and `;` comment whole lines only (an inline "# x" stays
// part of the value), indented lines continue the previous value, a duplicate section or key
// in one section is an error. Errors give file:line.
//
// Secrets are `core::Secret`s and never appear in errors, `source` strings or logs.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/http.h"
#include "core/clock.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"

namespace dbrunbook::cloud {

struct AwsCredentials {
  core::Secret access_key_id;
  core::Secret secret_access_key;
  core::Secret session_token;                // empty for long-term access keys
  std::optional<core::WallTime> expiration;  // nullopt: does not expire
  // Where they came from, for `--verbose` and errors: "environment",
  // "/root/.aws/credentials [prod]", "container endpoint", "instance metadata role 'web'".
  std::string source;
};

// One INI file as the AWS tools read it (see above).
struct IniSection {
  struct Value {
    std::string text;
    int line = 0;
  };
  std::string name;  // as written between the brackets, trimmed
  int line = 0;
  std::map<std::string, Value> values;  // keys lower-cased
};

struct IniFile {
  std::string path;
  std::vector<IniSection> sections;  // in file order
  const IniSection* Find(std::string_view name) const;
};

// Parses `text`; `path` names the file in errors ("path:12: ..."), which are kInvalidConfig.
core::Result<IniFile> ParseAwsIni(std::string_view text, std::string path);

struct AwsResolverOptions {
  std::string profile;       // explicit (command line or config); empty: AWS_PROFILE or "default"
  std::string region;        // explicit; empty: resolved as above
  std::string endpoint_url;  // explicit (--aws-endpoint-url, config endpoint_url); may be empty
  // Each request to the container or instance metadata endpoint (connect and whole exchange).
  core::Duration metadata_timeout = std::chrono::seconds(1);
  // Temporary credentials are fetched again this long before they expire.
  core::Duration refresh_before = std::chrono::minutes(5);
  // The address AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to. AWS tools hard-code it;
  // it is an option only so that tests can point it at a loopback server.
  std::string container_base_url = "http://169.254.170.2";
  // Warnings (stale credentials kept after a failed refresh); null logs nothing.
  std::shared_ptr<core::Logger> logger;
};

// Resolves and caches credentials and region for one profile.
//
// Thread-safety: all methods may be called from several threads (they serialise on a mutex).
// `environment`, `transport` and `clock` must outlive the resolver. On failure nothing cached is
// lost: temporary credentials whose refresh fails are still returned (with a warning) until
// they expire.
class AwsCredentialResolver {
 public:
  AwsCredentialResolver(AwsResolverOptions options, const core::Environment& environment,
                        HttpTransport& transport, core::Clock& clock);

  // The profile in effect (explicit, AWS_PROFILE or "default").
  const std::string& profile() const { return profile_; }

  core::Result<AwsCredentials> Credentials();
  core::Result<std::string> Region();
  // nullopt when nothing overrides the service's standard endpoint.
  core::Result<std::optional<std::string>> EndpointUrl();

 private:
  struct SharedFiles;

  core::Result<SharedFiles> LoadSharedFiles() const;
  core::Result<AwsCredentials> Resolve();
  core::Result<std::optional<AwsCredentials>> FromContainer(std::vector<std::string>& looked);
  core::Result<AwsCredentials> FromInstanceMetadata(const SharedFiles& files);
  core::Result<std::string> RegionFromInstanceMetadata(const SharedFiles& files);
  std::string MetadataEndpoint(const SharedFiles& files) const;  // the IMDS base URL
  bool MetadataV1Allowed(const SharedFiles& files) const;
  core::Result<HttpResponse> MetadataGet(const std::string& base, const std::string& path,
                                         const std::optional<std::string>& token);
  core::Result<std::optional<std::string>> MetadataToken(const std::string& base, bool v1_allowed);

  AwsResolverOptions options_;
  const core::Environment& environment_;
  HttpTransport& transport_;
  core::Clock& clock_;
  std::string profile_;
  bool profile_explicit_ = false;

  std::mutex mutex_;
  std::optional<AwsCredentials> cached_;  // guarded by mutex_
  std::optional<std::string> region_;     // guarded by mutex_
};

}  // namespace dbrunbook::cloud
