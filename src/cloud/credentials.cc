#include "cloud/credentials.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "cloud/query_protocol.h"
#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::cloud {

namespace {

constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";
constexpr std::string_view kImdsTokenHeader = "X-aws-ec2-metadata-token";
constexpr std::string_view kImdsTokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr std::string_view kImdsTokenTtl = "21600";  // six hours, botocore's value
constexpr std::string_view kImdsRolePath = "/latest/meta-data/iam/security-credentials/";

core::Error ConfigError(std::string message, std::string hint = {}) {
  return core::Error{core::ErrorCode::kInvalidConfig, std::move(message), std::move(hint), 0, {}};
}

bool IsTrue(const std::optional<std::string>& value) {
  return value && core::EqualsIgnoreCase(core::Trim(*value), "true");
}

// A variable that is set to something; AWS tools treat an empty one as unset.
std::optional<std::string> NonEmpty(const core::Environment& env, const std::string& name) {
  auto value = env.Get(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// INI files

const IniSection* IniFile::Find(std::string_view name) const {
  for (const auto& section : sections) {
    if (section.name == name) return &section;
  }
  return nullptr;
}

core::Result<IniFile> ParseAwsIni(std::string_view text, std::string path) {
  IniFile file;
  file.path = std::move(path);
  std::optional<size_t> current;  // index into file.sections
  std::string* last_value = nullptr;
  size_t last_indent = 0;
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view line = core::Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const size_t indent = raw.find_first_not_of(" \t");
    // An indented line continues the previous value (botocore's nested "s3 =" blocks).
    if (last_value != nullptr && indent > last_indent) {
      *last_value += '\n';
      *last_value += line;
      continue;
    }
    // Lines are never quoted in errors: a malformed line may hold a secret key.
    const auto where = [&] { return fmt::format("{}:{}", file.path, line_number); };
    if (line.front() == '[') {
      const auto close = line.rfind(']');
      const std::string_view name = close == std::string_view::npos
                                        ? std::string_view{}
                                        : core::Trim(line.substr(1, close - 1));
      if (name.empty()) {
        return core::Fail(ConfigError(fmt::format("{}: malformed section header", where()),
                                      "section headers look like [name] or [profile name]"));
      }
      if (const IniSection* previous = file.Find(name)) {
        return core::Fail(ConfigError(fmt::format("{}: duplicate section [{}] (first at line {})",
                                                  where(), name, previous->line),
                                      "merge the two sections; AWS tools reject the file too"));
      }
      file.sections.push_back(IniSection{std::string(name), line_number, {}});
      current = file.sections.size() - 1;
      last_value = nullptr;
      continue;
    }
    if (!current) {
      return core::Fail(ConfigError(fmt::format("{}: a setting before any [section]", where()),
                                    "start the file with a section such as [default]"));
    }
    const auto delimiter = line.find_first_of("=:");
    if (delimiter == std::string_view::npos || delimiter == 0) {
      return core::Fail(ConfigError(fmt::format("{}: expected 'key = value'", where())));
    }
    const std::string key = core::ToLower(core::Trim(line.substr(0, delimiter)));
    IniSection& section = file.sections[*current];
    if (auto it = section.values.find(key); it != section.values.end()) {
      return core::Fail(ConfigError(fmt::format("{}: duplicate key '{}' in [{}] (first at line {})",
                                                where(), key, section.name, it->second.line),
                                    "keep one of the two lines; AWS tools reject the file too"));
    }
    auto& value = section.values[key];
    value.text = std::string(core::Trim(line.substr(delimiter + 1)));
    value.line = line_number;
    last_value = &value.text;
    last_indent = indent;
  }
  return file;
}

// ---------------------------------------------------------------------------------------------
// Shared files

struct AwsCredentialResolver::SharedFiles {
  std::string credentials_path;  // empty when neither the variable nor HOME says where
  std::string config_path;
  std::optional<IniFile> credentials;  // nullopt: the file does not exist
  std::optional<IniFile> config;
  std::optional<IniSection> credentials_section;  // [NAME]
  std::optional<IniSection> config_section;       // [profile NAME], [default]

  struct Found {
    std::string value;
    std::string where;  // "path:line"
  };
  // A profile key; the credentials file wins over the config file, as in botocore.
  std::optional<Found> Get(const std::string& key) const {
    const auto lookup = [&](const std::optional<IniSection>& section,
                            const std::string& path) -> std::optional<Found> {
      if (!section) return std::nullopt;
      auto it = section->values.find(key);
      if (it == section->values.end()) return std::nullopt;
      return Found{it->second.text, fmt::format("{}:{}", path, it->second.line)};
    };
    if (auto found = lookup(credentials_section, credentials_path)) return found;
    return lookup(config_section, config_path);
  }
};

namespace {

std::string ExpandHome(const std::string& path, const core::Environment& env) {
  if (path == "~" || path.starts_with("~/")) {
    if (auto home = NonEmpty(env, "HOME")) return *home + path.substr(1);
  }
  return path;
}

core::Result<std::optional<IniFile>> ReadIni(const std::string& path) {
  if (path.empty()) return std::optional<IniFile>();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<IniFile>();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::MakeError(core::ErrorCode::kIo, fmt::format("cannot read {}", path),
                           "check the file's permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = ParseAwsIni(text.str(), path);
  if (!parsed) return core::Fail(parsed.error());
  return std::optional<IniFile>(std::move(*parsed));
}

// The config file's section for `profile`: [profile NAME], or for "default" [profile default]
// (preferred) or [default]. A bare [NAME] is not a profile in the config file.
const IniSection* ConfigProfile(const IniFile& file, const std::string& profile) {
  for (const auto& section : file.sections) {
    const auto words = core::Split(section.name, ' ');
    std::vector<std::string_view> parts;
    for (auto w : words) {
      if (!core::Trim(w).empty()) parts.push_back(core::Trim(w));
    }
    if (parts.size() == 2 && parts[0] == "profile" && parts[1] == profile) return &section;
  }
  if (profile == "default") return file.Find("default");
  return nullptr;
}

std::vector<std::string> ProfileNames(const std::optional<IniFile>& credentials,
                                      const std::optional<IniFile>& config) {
  std::vector<std::string> names;
  if (credentials) {
    for (const auto& s : credentials->sections) names.push_back(s.name);
  }
  if (config) {
    for (const auto& s : config->sections) {
      if (s.name.starts_with("profile ")) {
        names.emplace_back(core::Trim(std::string_view(s.name).substr(8)));
      } else if (s.name == "default") {
        names.push_back(s.name);
      }
    }
  }
  return names;
}

bool IsRegionName(std::string_view region) {
  return !region.empty() && std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Static keys from one section: none, both, or an error naming the one that is missing.
core::Result<std::optional<AwsCredentials>> KeysFromSection(
    const std::optional<IniSection>& section, const std::string& path) {
  if (!section) return std::optional<AwsCredentials>();
  const auto get = [&](const char* key) -> const IniSection::Value* {
    auto it = section->values.find(key);
    return it == section->values.end() ? nullptr : &it->second;
  };
  const auto* id = get("aws_access_key_id");
  const auto* secret = get("aws_secret_access_key");
  if (id == nullptr && secret == nullptr) return std::optional<AwsCredentials>();
  if (id == nullptr || secret == nullptr || id->text.empty() || secret->text.empty()) {
    const bool has_id = id != nullptr && !id->text.empty();
    return core::MakeError(
        core::ErrorCode::kInvalidConfig,
        fmt::format("{}:{}: [{}] has {} but no {}", path, section->line, section->name,
                    has_id ? "aws_access_key_id" : "aws_secret_access_key",
                    has_id ? "aws_secret_access_key" : "aws_access_key_id"),
        "a profile needs both keys (aws configure sets them)");
  }
  AwsCredentials creds;
  creds.access_key_id = core::Secret(id->text);
  creds.secret_access_key = core::Secret(secret->text);
  // aws_security_token is the older name botocore still reads.
  if (const auto* token = get("aws_session_token")) {
    creds.session_token = core::Secret(token->text);
  } else if (const auto* legacy = get("aws_security_token")) {
    creds.session_token = core::Secret(legacy->text);
  }
  creds.source = fmt::format("{} [{}]", path, section->name);
  return std::optional<AwsCredentials>(std::move(creds));
}

// Credentials JSON as the container and instance metadata endpoints return it.
core::Result<AwsCredentials> ParseCredentialsJson(std::string_view body, std::string source) {
  const auto fail = [&](const std::string& why) {
    return core::MakeError(core::ErrorCode::kParse, fmt::format("{}: {}", source, why),
                           "the endpoint's answer is not what AWS documents; retry later");
  };
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return fail("the answer is not a JSON object");
  if (auto code = json.find("Code");
      code != json.end() && code->is_string() && code->get<std::string>() != "Success") {
    // Codes are AWS identifiers ("AssumeRoleUnauthorizedAccess"); safe to show.
    return fail(fmt::format("the endpoint reports {}", code->get<std::string>()));
  }
  for (const char* field : {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}) {
    auto it = json.find(field);
    if (it == json.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      return fail(fmt::format("the answer has no {}", field));
    }
  }
  const auto expiration = ParseIso8601(json["Expiration"].get_ref<const std::string&>());
  if (!expiration) return fail("the Expiration is not an ISO 8601 time");
  AwsCredentials creds;
  creds.access_key_id = core::Secret(json["AccessKeyId"].get<std::string>());
  creds.secret_access_key = core::Secret(json["SecretAccessKey"].get<std::string>());
  creds.session_token = core::Secret(json["Token"].get<std::string>());
  creds.expiration = *expiration;
  creds.source = std::move(source);
  return creds;
}

// The host of an http(s) URL, without brackets or port, lower-cased.
std::string HostOf(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (authority.starts_with('[')) {
    return core::ToLower(authority.substr(1, authority.find(']') - 1));
  }
  return core::ToLower(authority.substr(0, authority.find(':')));
}

// botocore's rule for AWS_CONTAINER_CREDENTIALS_FULL_URI: https anywhere, plain http only to this
// machine or to the ECS / EKS agent addresses (credentials must not cross a network in clear).
bool ContainerUrlAllowed(std::string_view url) {
  if (core::StartsWithIgnoreCase(url, "https://")) return true;
  if (!core::StartsWithIgnoreCase(url, "http://")) return false;
  const std::string host = HostOf(url);
  if (host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23" ||
      host == "localhost" || host == "::1") {
    return true;
  }
  if (!host.starts_with("127.")) return false;
  const auto octets = core::Split(host, '.');
  return octets.size() == 4 && std::all_of(octets.begin(), octets.end(), [](std::string_view o) {
           const auto n = core::ParseInt64(o);
           return !o.empty() && o.size() <= 3 && n && *n >= 0 && *n <= 255 &&
                  o.find_first_not_of("0123456789") == std::string_view::npos;
         });
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kUnsupportedProfileKeys = {{
    {"role_arn", "assume role (role_arn)"},
    {"credential_process", "credential_process"},
    {"sso_session", "IAM Identity Center (sso_session)"},
    {"sso_start_url", "IAM Identity Center (sso_start_url)"},
    {"web_identity_token_file", "web identity (web_identity_token_file)"},
    {"credential_source", "credential_source"},
}};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Resolver

AwsCredentialResolver::AwsCredentialResolver(AwsResolverOptions options,
                                             const core::Environment& environment,
                                             HttpTransport& transport, core::Clock& clock)
    : options_(std::move(options)),
      environment_(environment),
      transport_(transport),
      clock_(clock) {
  if (!options_.profile.empty()) {
    profile_ = options_.profile;
    profile_explicit_ = true;
  } else if (auto env_profile = NonEmpty(environment_, "AWS_PROFILE")) {
    profile_ = *env_profile;
  } else {
    profile_ = "default";
  }
}

core::Result<AwsCredentialResolver::SharedFiles> AwsCredentialResolver::LoadSharedFiles() const {
  SharedFiles files;
  const auto home = NonEmpty(environment_, "HOME");
  const auto path_of = [&](const char* variable, const char* file) -> std::string {
    if (auto set = NonEmpty(environment_, variable)) return ExpandHome(*set, environment_);
    return home ? *home + "/.aws/" + file : std::string();
  };
  files.credentials_path = path_of("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  files.config_path = path_of("AWS_CONFIG_FILE", "config");
  auto credentials = ReadIni(files.credentials_path);
  if (!credentials) return core::Fail(credentials.error());
  files.credentials = std::move(*credentials);
  auto config = ReadIni(files.config_path);
  if (!config) return core::Fail(config.error());
  files.config = std::move(*config);
  if (files.credentials) {
    if (const auto* s = files.credentials->Find(profile_)) files.credentials_section = *s;
  }
  if (files.config) {
    if (const auto* s = ConfigProfile(*files.config, profile_)) files.config_section = *s;
  }
  if (profile_ != "default" && !files.credentials_section && !files.config_section) {
    const std::string suggestion =
        core::ClosestMatch(profile_, ProfileNames(files.credentials, files.config));
    return core::Fail(ConfigError(
        fmt::format("AWS profile '{}' is not defined in {} or {}", profile_,
                    files.credentials_path.empty() ? "~/.aws/credentials" : files.credentials_path,
                    files.config_path.empty() ? "~/.aws/config" : files.config_path),
        suggestion.empty()
            ? fmt::format("create it with `aws configure --profile {}`, or choose another profile",
                          profile_)
            : fmt::format("did you mean '{}'?", suggestion)));
  }
  return files;
}

core::Result<AwsCredentials> AwsCredentialResolver::Credentials() {
  std::lock_guard lock(mutex_);
  const core::WallTime now = clock_.WallNow();
  if (cached_ && (!cached_->expiration || now + options_.refresh_before < *cached_->expiration)) {
    return *cached_;
  }
  auto fresh = Resolve();
  if (fresh) {
    cached_ = *fresh;
    return fresh;
  }
  if (cached_ && cached_->expiration && now < *cached_->expiration) {
    // A metadata endpoint hiccup must not stop an incident run while the old keys still work.
    if (options_.logger) {
      options_.logger->warn("refreshing AWS credentials from {} failed ({}); using them until {}",
                            cached_->source, fresh.error().ToString(),
                            core::FormatRfc3339(*cached_->expiration));
    }
    return *cached_;
  }
  return fresh;
}

core::Result<AwsCredentials> AwsCredentialResolver::Resolve() {
  std::vector<std::string> looked;
  if (profile_explicit_) {
    looked.push_back(
        fmt::format("environment (skipped: profile '{}' chosen explicitly)", profile_));
  } else {
    looked.emplace_back("environment");
    const auto id = NonEmpty(environment_, "AWS_ACCESS_KEY_ID");
    const auto secret = NonEmpty(environment_, "AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
      AwsCredentials creds;
      creds.access_key_id = core::Secret(*id);
      creds.secret_access_key = core::Secret(*secret);
      if (auto token = NonEmpty(environment_, "AWS_SESSION_TOKEN")) {
        creds.session_token = core::Secret(*token);
      } else if (auto legacy = NonEmpty(environment_, "AWS_SECURITY_TOKEN")) {
        creds.session_token = core::Secret(*legacy);
      }
      creds.source = "environment";
      return creds;
    }
    if (id || secret) {
      return core::Fail(ConfigError(
          fmt::format("{} is set but {} is not", id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                      id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"),
          "set both variables, or unset both to use a profile or an IAM role"));
    }
  }

  auto files = LoadSharedFiles();
  if (!files) return core::Fail(files.error());
  const auto describe = [&](const std::string& path, const std::optional<IniFile>& file,
                            const std::optional<IniSection>& section) {
    if (path.empty()) return std::string("(no HOME: shared files not searched)");
    if (!file) return path + " (no such file)";
    if (!section) return fmt::format("{} (no profile '{}')", path, profile_);
    return path;
  };
  looked.push_back(
      describe(files->credentials_path, files->credentials, files->credentials_section));
  looked.push_back(describe(files->config_path, files->config, files->config_section));
  for (const auto* which : {&files->credentials_section, &files->config_section}) {
    const std::string& path =
        which == &files->credentials_section ? files->credentials_path : files->config_path;
    auto keys = KeysFromSection(*which, path);
    if (!keys) return core::Fail(keys.error());
    if (*keys) return std::move(**keys);
  }
  for (const auto& [key, what] : kUnsupportedProfileKeys) {
    if (auto found = files->Get(std::string(key))) {
      return core::MakeError(
          core::ErrorCode::kUnsupported,
          fmt::format("AWS profile '{}' gets its credentials through {} ({}), which dbrunbook "
                      "does not support yet",
                      profile_, what, found->where),
          fmt::format("export temporary credentials first: eval \"$(aws configure "
                      "export-credentials --profile {} --format env)\"",
                      profile_));
    }
  }

  auto container = FromContainer(looked);
  if (!container) return core::Fail(container.error());
  if (*container) return std::move(**container);

  if (IsTrue(environment_.Get("AWS_EC2_METADATA_DISABLED"))) {
    looked.emplace_back("instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
  } else {
    auto imds = FromInstanceMetadata(*files);
    if (imds) return imds;
    looked.push_back(fmt::format("instance metadata ({})", imds.error().message));
  }

  std::string list;
  for (const auto& item : looked) list += (list.empty() ? "" : ", ") + item;
  return core::MakeError(
      core::ErrorCode::kNotFound,
      fmt::format("no AWS credentials found for profile '{}' (looked in: {})", profile_, list),
      fmt::format("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add keys with `aws configure "
                  "--profile {}`, or run where an IAM role is attached (EC2 instance, ECS task)",
                  profile_));
}

core::Result<std::optional<AwsCredentials>> AwsCredentialResolver::FromContainer(
    std::vector<std::string>& looked) {
  std::string url;
  if (auto relative = NonEmpty(environment_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = options_.container_base_url + *relative;
  } else if (auto full = NonEmpty(environment_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    if (!ContainerUrlAllowed(*full)) {
      return core::Fail(ConfigError(
          fmt::format("AWS_CONTAINER_CREDENTIALS_FULL_URI points at {}, which is not allowed",
                      RedactedOrigin(*full)),
          "it must be https, or http to a loopback address, 169.254.170.2 or 169.254.170.23 "
          "(the rule of the AWS SDKs)"));
    }
    url = *full;
  } else {
    looked.emplace_back("container endpoint (AWS_CONTAINER_CREDENTIALS_* not set)");
    return std::optional<AwsCredentials>();
  }
  HttpRequest request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  std::optional<std::string> token;
  if (auto token_file = NonEmpty(environment_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*token_file, std::ios::binary);
    if (!in) {
      return core::MakeError(core::ErrorCode::kIo, fmt::format("cannot read {}", *token_file),
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must name a readable file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    token = std::string(core::Trim(text.str()));
  } else if (auto env_token = NonEmpty(environment_, "AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *env_token;
  }
  if (token) {
    if (token->find_first_of("\r\n") != std::string::npos) {
      return core::Fail(ConfigError("the container authorization token contains a line break"));
    }
    request.headers.emplace_back("Authorization", *token);
  }
  request.connect_timeout = options_.metadata_timeout;
  request.timeout = options_.metadata_timeout;
  const std::string origin = RedactedOrigin(url);
  auto response = transport_.Send(request);
  if (!response) {
    return core::Fail(response.error().WithContext("container credentials endpoint"));
  }
  if (response->status != 200) {
    return core::MakeError(
        response->status == 401 || response->status == 403 ? core::ErrorCode::kAccessDenied
                                                           : core::ErrorCode::kUnavailable,
        fmt::format("container credentials endpoint {} answered HTTP {}", origin, response->status),
        "check the task role and the AWS_CONTAINER_* variables");
  }
  auto creds = ParseCredentialsJson(response->body,
                                    fmt::format("container credentials endpoint {}", origin));
  if (!creds) return core::Fail(creds.error());
  return std::optional<AwsCredentials>(std::move(*creds));
}

namespace {

std::string MetadataBase(const core::Environment& env, const std::optional<std::string>& profile) {
  std::string base;
  if (auto set = NonEmpty(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    base = *set;
  } else if (profile && !profile->empty()) {
    base = *profile;
  } else {
    base = std::string(kDefaultImdsEndpoint);
  }
  while (base.ends_with('/')) base.pop_back();
  return base;
}

}  // namespace

core::Result<std::optional<std::string>> AwsCredentialResolver::MetadataToken(
    const std::string& base, bool v1_allowed) {
  HttpRequest request;
  request.method = "PUT";
  request.url = base + "/latest/api/token";
  request.headers.emplace_back(std::string(kImdsTokenTtlHeader), std::string(kImdsTokenTtl));
  request.connect_timeout = options_.metadata_timeout;
  request.timeout = options_.metadata_timeout;
  auto response = transport_.Send(request);
  // botocore reads these as "IMDSv2 not offered here" (403: disabled for this instance; 404/405:
  // an older or emulated service) and a timeout as the PUT's answer being dropped by the hop
  // limit inside a container; both fall back to IMDSv1 unless that is turned off.
  const bool fall_back =
      response ? (response->status == 403 || response->status == 404 || response->status == 405)
               : response.error().code == core::ErrorCode::kTimeout;
  if (fall_back) {
    if (v1_allowed) return std::optional<std::string>();
    return core::MakeError(
        core::ErrorCode::kUnavailable,
        fmt::format("no IMDSv2 token from {} ({}) and IMDSv1 is disabled", RedactedOrigin(base),
                    response ? fmt::format("HTTP {}", response->status) : response.error().message),
        "check the instance's metadata options (http-tokens, hop limit)");
  }
  if (!response) return core::Fail(response.error());
  if (response->status != 200 || core::Trim(response->body).empty()) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           fmt::format("the IMDSv2 token request to {} answered HTTP {}",
                                       RedactedOrigin(base), response->status));
  }
  return std::optional<std::string>(std::string(core::Trim(response->body)));
}

core::Result<HttpResponse> AwsCredentialResolver::MetadataGet(
    const std::string& base, const std::string& path, const std::optional<std::string>& token) {
  HttpRequest request;
  request.url = base + path;
  if (token) request.headers.emplace_back(std::string(kImdsTokenHeader), *token);
  request.connect_timeout = options_.metadata_timeout;
  request.timeout = options_.metadata_timeout;
  return transport_.Send(request);
}

std::string AwsCredentialResolver::MetadataEndpoint(const SharedFiles& files) const {
  const auto endpoint = files.Get("ec2_metadata_service_endpoint");
  return MetadataBase(environment_, endpoint ? std::optional(endpoint->value) : std::nullopt);
}

// botocore falls back to IMDSv1 unless AWS_EC2_METADATA_V1_DISABLED or the profile's
// ec2_metadata_v1_disabled says not to.
bool AwsCredentialResolver::MetadataV1Allowed(const SharedFiles& files) const {
  const auto v1_setting = files.Get("ec2_metadata_v1_disabled");
  return !IsTrue(environment_.Get("AWS_EC2_METADATA_V1_DISABLED")) &&
         !(v1_setting && IsTrue(v1_setting->value));
}

core::Result<AwsCredentials> AwsCredentialResolver::FromInstanceMetadata(const SharedFiles& files) {
  const std::string base = MetadataEndpoint(files);
  auto token = MetadataToken(base, MetadataV1Allowed(files));
  if (!token) return core::Fail(token.error());
  const std::string origin = RedactedOrigin(base);
  auto role_response = MetadataGet(base, std::string(kImdsRolePath), *token);
  if (!role_response) return core::Fail(role_response.error());
  if (role_response->status == 404) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("{}: no IAM role is attached to this instance", origin));
  }
  const std::string_view first_line =
      core::Trim(std::string_view(role_response->body).substr(0, role_response->body.find('\n')));
  if (role_response->status != 200 || first_line.empty()) {
    return core::MakeError(
        core::ErrorCode::kUnavailable,
        fmt::format("{}: the IAM role request answered HTTP {}", origin, role_response->status));
  }
  const std::string role(first_line);
  if (role.find_first_of("/?#% ") != std::string::npos) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("{}: the IAM role name is not a valid role name", origin));
  }
  auto creds_response = MetadataGet(base, std::string(kImdsRolePath) + role, *token);
  if (!creds_response) return core::Fail(creds_response.error());
  if (creds_response->status != 200) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           fmt::format("{}: the credentials of role '{}' answered HTTP {}", origin,
                                       role, creds_response->status));
  }
  return ParseCredentialsJson(creds_response->body,
                              fmt::format("instance metadata role '{}'", role));
}

core::Result<std::string> AwsCredentialResolver::RegionFromInstanceMetadata(
    const SharedFiles& files) {
  const std::string base = MetadataEndpoint(files);
  auto token = MetadataToken(base, MetadataV1Allowed(files));
  if (!token) return core::Fail(token.error());
  auto region = MetadataGet(base, "/latest/meta-data/placement/region", *token);
  if (!region) return core::Fail(region.error());
  std::string name(core::Trim(region->body));
  if (region->status == 404) {
    // Older instance metadata versions only have the zone ("eu-west-1a" is in eu-west-1).
    auto zone = MetadataGet(base, "/latest/meta-data/placement/availability-zone", *token);
    if (!zone) return core::Fail(zone.error());
    region = std::move(zone);
    name = std::string(core::Trim(region->body));
    if (!name.empty()) name.pop_back();
  }
  if (region->status != 200 || !IsRegionName(name)) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           fmt::format("{}: no region in the instance placement (HTTP {})",
                                       RedactedOrigin(base), region->status));
  }
  return name;
}

core::Result<std::string> AwsCredentialResolver::Region() {
  std::lock_guard lock(mutex_);
  if (region_) return *region_;
  const auto accept = [&](std::string value,
                          const std::string& where) -> core::Result<std::string> {
    if (!IsRegionName(value)) {
      return core::Fail(ConfigError(
          fmt::format("the AWS region '{}' from {} is not a region name", value, where),
          "regions look like eu-west-1 (a '#' comment after a value in ~/.aws/config is part "
          "of the value)"));
    }
    region_ = value;
    return value;
  };
  if (!options_.region.empty()) return accept(options_.region, "the command line or configuration");
  for (const char* variable : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto value = NonEmpty(environment_, variable)) return accept(*value, variable);
  }
  auto files = LoadSharedFiles();
  if (!files) return core::Fail(files.error());
  if (auto found = files->Get("region")) return accept(found->value, found->where);
  std::string metadata = "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)";
  if (!IsTrue(environment_.Get("AWS_EC2_METADATA_DISABLED"))) {
    auto from_imds = RegionFromInstanceMetadata(*files);
    if (from_imds) return accept(*from_imds, "instance metadata");
    metadata = fmt::format("instance metadata ({})", from_imds.error().message);
  }
  return core::MakeError(
      core::ErrorCode::kNotFound,
      fmt::format("no AWS region for profile '{}' (looked in: AWS_REGION, AWS_DEFAULT_REGION, "
                  "profile '{}' in {} and {}, {})",
                  profile_, profile_, files->credentials_path, files->config_path, metadata),
      fmt::format("set the target's region, AWS_REGION, or `aws configure set region eu-west-1 "
                  "--profile {}`",
                  profile_));
}

core::Result<std::optional<std::string>> AwsCredentialResolver::EndpointUrl() {
  if (!options_.endpoint_url.empty()) return std::optional(options_.endpoint_url);
  auto files = LoadSharedFiles();
  if (!files) return core::Fail(files.error());
  const auto ignore = files->Get("ignore_configured_endpoint_urls");
  if (IsTrue(environment_.Get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
      (ignore && IsTrue(ignore->value))) {
    return std::optional<std::string>();
  }
  if (auto value = NonEmpty(environment_, "AWS_ENDPOINT_URL")) return std::optional(*value);
  if (auto found = files->Get("endpoint_url"); found && !found->value.empty()) {
    return std::optional(found->value);
  }
  return std::optional<std::string>();
}

}  // namespace dbrunbook::cloud
