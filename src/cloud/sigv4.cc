#include "cloud/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include "core/strings.h"

namespace dbrunbook::cloud {
namespace {

using core::ErrorCode;
using core::MakeError;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
// AWS rejects presigned URLs valid for longer than seven days.
constexpr std::chrono::seconds kMaxExpires{604800};
// Headers that HTTP stacks and proxies add or rewrite after signing; botocore and aws-c-auth
// leave them unsigned so that a rewrite does not break the signature.
constexpr std::array<std::string_view, 3> kUnsignedHeaders = {"expect", "user-agent",
                                                              "x-amzn-trace-id"};

using Digest = std::array<unsigned char, 32>;

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// RFC 7230 tchar: what a header name or method may contain.
bool IsTokenChar(unsigned char c) {
  if (c >= 0x80 || c <= 0x20 || c == 0x7f) return false;
  return std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) ==
         std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

std::string Hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

core::Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("malformed %-escape at offset {} of a query string", i),
                       "encode '%' as %25");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

core::Result<Digest> Sha256(std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    return MakeError(ErrorCode::kInternal, "OpenSSL SHA-256 failed");
  }
  return out;
}

core::Result<Digest> HmacSha256(const unsigned char* key, std::size_t key_size,
                                std::string_view data) {
  Digest out{};
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key, key_size,
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
                out.size(), &size) == nullptr ||
      size != out.size()) {
    return MakeError(ErrorCode::kInternal, "OpenSSL HMAC-SHA256 failed");
  }
  return out;
}

// SHA-256 over a domain-separation label and the secret, without copying the secret into a
// buffer that outlives the call: the cache keeps this instead of the secret.
core::Result<Digest> Fingerprint(const core::Secret& secret) {
  static constexpr std::string_view kLabel{"dbrunbook sigv4 key cache\0", 26};
  Digest out{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, kLabel.data(), kLabel.size()) == 1 &&
                  EVP_DigestUpdate(ctx, secret.Reveal().data(), secret.Reveal().size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out.data(), &size) == 1 && size == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) return MakeError(ErrorCode::kInternal, "OpenSSL SHA-256 failed");
  return out;
}

// kDate = HMAC("AWS4" + secret, date), then region, service and "aws4_request".
core::Result<SigningKey> DeriveKey(const core::Secret& secret, std::string_view date,
                                   std::string_view region, std::string_view service) {
  core::Secret seed("AWS4" + secret.Reveal());  // a Secret so that the copy is wiped too
  const auto& seed_bytes = seed.Reveal();
  auto k = HmacSha256(reinterpret_cast<const unsigned char*>(seed_bytes.data()), seed_bytes.size(),
                      date);
  for (const std::string_view part : {region, service, kTerminator}) {
    if (!k) break;
    Digest previous = *k;
    k = HmacSha256(previous.data(), previous.size(), part);
    OPENSSL_cleanse(previous.data(), previous.size());
  }
  if (!k) return core::Fail(k.error());
  SigningKey key(*k);
  OPENSSL_cleanse(k->data(), k->size());
  return key;
}

bool IsOwnedHeader(std::string_view lower_name, bool content_sha256_owned) {
  return lower_name == "authorization" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-security-token" ||
         (content_sha256_owned && lower_name == "x-amz-content-sha256");
}

// Trim, and collapse inner runs of spaces and tabs to one space (SigV4 "Trimall").
std::string TrimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 5.2.4 remove_dot_segments, plus collapsing of empty segments ("//"), as botocore
// and aws-c-auth normalize paths for every service but S3.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (const std::string_view segment : core::Split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(segment);
  }
  std::string result = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && !out.empty()) result += '/';
  return result;
}

core::Status ValidateScopePart(std::string_view what, std::string_view value) {
  const bool ok = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (ok) return core::Ok();
  return MakeError(ErrorCode::kInvalidArgument, fmt::format("invalid SigV4 {} '{}'", what, value),
                   fmt::format("use a lower-case AWS {} name such as {}", what,
                               what == "region" ? "us-east-1" : "rds"));
}

core::Status Validate(const SignableRequest& request, const AwsCredentials& credentials,
                      const SigningParams& params) {
  const std::string& access_key_id = credentials.access_key_id.Reveal();
  if (access_key_id.empty() || !std::all_of(access_key_id.begin(), access_key_id.end(), [](char c) {
        return IsUnreserved(static_cast<unsigned char>(c));
      })) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "AWS access key id is empty or has characters other than letters and digits",
                     "check the configured AWS credentials");
  }
  if (credentials.secret_access_key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "AWS secret access key is empty",
                     "check the configured AWS credentials");
  }
  if (auto s = ValidateScopePart("region", params.region); !s) return s;
  if (auto s = ValidateScopePart("service", params.service); !s) return s;
  if (!IsToken(request.method)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid HTTP method '{}'", request.method));
  }
  if (request.path.find_first_of("?#") != std::string::npos ||
      std::any_of(request.path.begin(), request.path.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "request path contains '?', '#' or a control character",
                     "put query parameters in SignableRequest::query");
  }
  for (const HttpHeader& h : request.headers) {
    if (!IsToken(h.name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("invalid HTTP header name '{}'", h.name));
    }
    // A line break would split the header on the wire (header injection); other control
    // characters are not allowed in field values either (RFC 7230 3.2).
    if (std::any_of(h.value.begin(), h.value.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && c != '\t') || u == 0x7f;
        })) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("HTTP header '{}' has a line break or control character in "
                                   "its value",
                                   h.name));
    }
  }
  const auto host = request.Header("host");
  if (!host || core::Trim(*host).empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "request has no Host header",
                     "add one (HostHeaderValue builds it) before signing");
  }
  return core::Ok();
}

std::string CanonicalQuery(const std::vector<QueryParam>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const QueryParam& p : query) {
    encoded.emplace_back(UriEncode(p.key, false), UriEncode(p.value, false));
  }
  // By encoded key, then encoded value (not by "key=value": '=' would sort between chars).
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [key, value] : encoded) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" per signed header
  std::string signed_names;  // "a;b;c"
};

CanonicalHeaders Canonicalize(const std::vector<HttpHeader>& headers) {
  std::vector<std::pair<std::string, std::string>> lowered;
  lowered.reserve(headers.size());
  for (const HttpHeader& h : headers) {
    std::string name = core::ToLower(h.name);
    if (std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), name) !=
        kUnsignedHeaders.end()) {
      continue;
    }
    lowered.emplace_back(std::move(name), TrimAll(h.value));
  }
  // Stable, so that repeated headers keep their request order when joined.
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < lowered.size(); ++i) {
    if (i == 0 || lowered[i].first != lowered[i - 1].first) {
      if (i > 0) out.block += '\n';
      if (!out.signed_names.empty()) out.signed_names += ';';
      out.signed_names += lowered[i].first;
      out.block += lowered[i].first;
      out.block += ':';
    } else {
      out.block += ',';
    }
    out.block += lowered[i].second;
  }
  if (!lowered.empty()) out.block += '\n';
  return out;
}

enum class Mode { kHeader, kQuery };

}  // namespace

std::optional<std::string_view> SignableRequest::Header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (core::EqualsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

SigningKey::~SigningKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

SigningKeyCache::SigningKeyCache(std::size_t capacity)
    : capacity_(std::max<std::size_t>(1, capacity)) {}

core::Result<SigningKey> SigningKeyCache::Get(const core::Secret& secret, std::string_view date,
                                              std::string_view region, std::string_view service) {
  auto fingerprint = Fingerprint(secret);
  if (!fingerprint) return core::Fail(fingerprint.error());
  std::lock_guard lock(mu_);
  ++clock_;
  for (Entry& e : entries_) {
    if (e.fingerprint == *fingerprint && e.date == date && e.region == region &&
        e.service == service) {
      e.last_use = clock_;
      ++hits_;
      return e.key;
    }
  }
  ++misses_;
  auto key = DeriveKey(secret, date, region, service);
  if (!key) return key;
  if (entries_.size() >= capacity_) {
    auto oldest =
        std::min_element(entries_.begin(), entries_.end(),
                         [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
    entries_.erase(oldest);
  }
  entries_.push_back(Entry{*fingerprint, std::string(date), std::string(region),
                           std::string(service), *key, clock_});
  return key;
}

std::uint64_t SigningKeyCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

std::uint64_t SigningKeyCache::misses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

namespace {

core::Result<SigningResult> SignWith(SigningKeyCache& cache, const SignableRequest& request,
                                     const AwsCredentials& credentials, const SigningParams& params,
                                     Mode mode) {
  if (auto s = Validate(request, credentials, params); !s) return core::Fail(s.error());
  if (mode == Mode::kQuery && (params.expires.count() < 1 || params.expires > kMaxExpires)) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("X-Amz-Expires {} is outside 1..604800 seconds", params.expires.count()));
  }
  const bool has_token = !credentials.session_token.empty();
  const bool sign_token = has_token && params.token_placement == SessionTokenPlacement::kSigned;
  const bool add_sha_header = mode == Mode::kHeader && params.add_content_sha256_header;
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope =
      fmt::format("{}/{}/{}/{}", date, params.region, params.service, kTerminator);
  const std::string credential = credentials.access_key_id.Reveal() + "/" + scope;

  auto payload_hash = Sha256Hex(request.body);
  if (!payload_hash) return core::Fail(payload_hash.error());

  SigningResult result;
  SignableRequest& out = result.request;
  out.method = request.method;
  out.path = request.path;
  out.query = request.query;
  out.body = request.body;
  for (const HttpHeader& h : request.headers) {
    if (!IsOwnedHeader(core::ToLower(h.name), add_sha_header)) out.headers.push_back(h);
  }
  std::vector<QueryParam> signed_query = request.query;
  if (mode == Mode::kHeader) {
    out.headers.push_back({"X-Amz-Date", amz_date});
    if (add_sha_header) out.headers.push_back({"X-Amz-Content-Sha256", *payload_hash});
    if (sign_token) {
      out.headers.push_back({"X-Amz-Security-Token", credentials.session_token.Reveal()});
    }
  }
  const CanonicalHeaders headers = Canonicalize(out.headers);
  if (mode == Mode::kQuery) {
    signed_query.push_back({"X-Amz-Algorithm", std::string(kAlgorithm)});
    signed_query.push_back({"X-Amz-Credential", credential});
    signed_query.push_back({"X-Amz-Date", amz_date});
    signed_query.push_back({"X-Amz-Expires", std::to_string(params.expires.count())});
    if (sign_token) {
      signed_query.push_back({"X-Amz-Security-Token", credentials.session_token.Reveal()});
    }
    signed_query.push_back({"X-Amz-SignedHeaders", headers.signed_names});
  }

  const std::string path = params.normalize_path  ? NormalizePath(request.path)
                           : request.path.empty() ? std::string("/")
                                                  : request.path;
  const std::string canonical_uri = params.double_uri_encode ? UriEncode(path, true) : path;
  core::Secret canonical_request(fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                                             canonical_uri, CanonicalQuery(signed_query),
                                             headers.block, headers.signed_names, *payload_hash));
  auto creq_hash = Sha256Hex(canonical_request.Reveal());
  if (!creq_hash) return core::Fail(creq_hash.error());
  result.string_to_sign = fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, scope, *creq_hash);

  auto key = cache.Get(credentials.secret_access_key, date, params.region, params.service);
  if (!key) return core::Fail(key.error());
  auto mac = HmacSha256(key->Bytes().data(), key->Bytes().size(), result.string_to_sign);
  if (!mac) return core::Fail(mac.error());
  result.signature = Hex(mac->data(), mac->size());
  result.signed_headers = headers.signed_names;
  result.canonical_request = std::move(canonical_request);

  if (mode == Mode::kHeader) {
    result.authorization =
        fmt::format("{} Credential={}, SignedHeaders={}, Signature={}", kAlgorithm, credential,
                    headers.signed_names, result.signature);
    if (has_token && !sign_token) {
      out.headers.push_back({"X-Amz-Security-Token", credentials.session_token.Reveal()});
    }
    out.headers.push_back({"Authorization", result.authorization});
  } else {
    // The order aws-c-auth writes them in; the server does not care.
    out.query.push_back({"X-Amz-Algorithm", std::string(kAlgorithm)});
    out.query.push_back({"X-Amz-Credential", credential});
    out.query.push_back({"X-Amz-Date", amz_date});
    out.query.push_back({"X-Amz-SignedHeaders", headers.signed_names});
    out.query.push_back({"X-Amz-Expires", std::to_string(params.expires.count())});
    if (has_token) {
      out.query.push_back({"X-Amz-Security-Token", credentials.session_token.Reveal()});
    }
    out.query.push_back({"X-Amz-Signature", result.signature});
  }
  return result;
}

}  // namespace

core::Result<SigningResult> Signer::Sign(const SignableRequest& request,
                                         const AwsCredentials& credentials,
                                         const SigningParams& params) const {
  return SignWith(cache_, request, credentials, params, Mode::kHeader);
}

core::Result<SigningResult> Signer::Presign(const SignableRequest& request,
                                            const AwsCredentials& credentials,
                                            const SigningParams& params) const {
  return SignWith(cache_, request, credentials, params, Mode::kQuery);
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (IsUnreserved(u) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0x0f]);
    }
  }
  return out;
}

core::Result<std::vector<QueryParam>> ParseQueryString(std::string_view raw) {
  std::vector<QueryParam> out;
  if (raw.empty()) return out;
  for (const std::string_view pair : core::Split(raw, '&')) {
    const std::size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq));
    if (!key) return core::Fail(key.error());
    auto value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value) return core::Fail(value.error());
    out.push_back({std::move(*key), std::move(*value)});
  }
  return out;
}

std::string EncodeQueryString(const std::vector<QueryParam>& query) {
  std::string out;
  for (const QueryParam& p : query) {
    if (!out.empty()) out += '&';
    out += UriEncode(p.key, false);
    out += '=';
    out += UriEncode(p.value, false);
  }
  return out;
}

std::string FormEncode(const std::vector<QueryParam>& params) {
  const auto encode = [](std::string_view s, std::string& out) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (IsUnreserved(u)) {
        out.push_back(c);
      } else if (c == ' ') {
        out.push_back('+');
      } else {
        out.push_back('%');
        out.push_back(kDigits[u >> 4]);
        out.push_back(kDigits[u & 0x0f]);
      }
    }
  };
  std::string out;
  for (const QueryParam& p : params) {
    if (!out.empty()) out += '&';
    encode(p.key, out);
    out += '=';
    encode(p.value, out);
  }
  return out;
}

std::string HostHeaderValue(std::string_view host, int port, bool https) {
  if (port <= 0 || port == (https ? 443 : 80)) return std::string(host);
  return fmt::format("{}:{}", host, port);
}

std::string FormatAmzDate(std::chrono::system_clock::time_point time) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::seconds;
  const auto day = floor<days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{floor<seconds>(time - day)};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

core::Result<std::string> Sha256Hex(std::string_view data) {
  auto digest = Sha256(data);
  if (!digest) return core::Fail(digest.error());
  return Hex(digest->data(), digest->size());
}

}  // namespace dbrunbook::cloud
