// AWS Signature Version 4 (SigV4) request signing, for the RDS and CloudWatch clients.
//
// What it does: given an HTTP request as the transport will send it (`SignableRequest`), the
// credentials and the signing parameters (region, service, time, options), `Signer::Sign`
// returns a copy of the request with X-Amz-Date, optional X-Amz-Content-Sha256 and
// X-Amz-Security-Token, and the Authorization header added; `Signer::Presign` instead adds the
// X-Amz-* query parameters of a presigned URL. Both also return the intermediate values
// (canonical request, string to sign, signature) that AWS's test suites and an AWS
// SignatureDoesNotMatch error talk about.
//
// Conformance: the canonical request follows AWS's SigV4 specification as implemented by
// aws-c-auth and botocore, checked against AWS's own test suites and real awscli captures
// (tests/cloud/sigv4_conformance_test.cc) and against botocore on generated requests
// (tests/cloud/sigv4_botocore_test.cc):
//   * path: with `normalize_path` dot segments are removed and repeated '/' collapsed (every
//     AWS service but S3); with `double_uri_encode` the path, taken as it appears on the wire,
//     is percent-encoded once more ('%' becomes %25), as all services but S3 expect;
//   * query: `SignableRequest::query` holds DECODED key/value pairs; the canonical query string
//     encodes both (RFC 3986 unreserved characters kept, everything else %XX upper-case,
//     space as %20) and sorts by encoded key, then encoded value. Use ParseQueryString() to
//     turn a raw "a=1&b=%20" into pairs;
//   * headers: every header of the request is signed except the ones an HTTP stack rewrites
//     (User-Agent, Expect, X-Amzn-Trace-Id), so add headers that must stay unsigned
//     (Content-Length, Accept-Encoding, as awscli does) only after signing. Names are
//     lower-cased, values trimmed with inner runs of spaces/tabs collapsed to one space, and
//     repeated headers joined with ',' in request order. A Host header is required;
//   * payload: the hex SHA-256 of the exact body bytes (Query-API form bodies included; no
//     X-Amz-Content-Sha256 header unless `add_content_sha256_header`).
// Headers the signer owns (Authorization, X-Amz-Date, X-Amz-Security-Token, and
// X-Amz-Content-Sha256 when it adds it) are replaced if the input already has them.
//
// Secrets: the secret key and the session token are `core::Secret`s; nothing here formats them
// into an error. The derived signing key lives only inside `SigningKeyCache` (wiped when
// dropped, no way to print it). The signed request necessarily carries the session token in
// clear (header or query) and so does the canonical request when the token is signed, which is
// why `SigningResult::canonical_request` is a `core::Secret` too: do not log `request` headers.
//
// Thread-safety: the free functions are pure. `SigningKeyCache` and `Signer` may be used from
// any number of threads at once (the cache has its own mutex).
//
// Errors (values, never exceptions): kInvalidArgument for a request or parameters that cannot
// be signed (no Host header, empty access key or secret, bad region/service, a header name that
// is not an HTTP token, a header value with a line break, X-Amz-Expires outside 1..604800);
// kInternal if OpenSSL fails.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/credentials.h"
#include "core/error.h"
#include "core/secret.h"

namespace dbrunbook::cloud {

struct HttpHeader {
  std::string name;
  std::string value;
};

// One query parameter, decoded ("a b", not "a%20b").
struct QueryParam {
  std::string key;
  std::string value;
};

struct SignableRequest {
  std::string method = "GET";
  // The path as it goes on the request line (origin form, without '?query').
  std::string path = "/";
  // Decoded parameters, in wire order (the transport encodes them with EncodeQueryString).
  std::vector<QueryParam> query;
  // In wire order; names compare case-insensitively.
  std::vector<HttpHeader> headers;
  std::string body;

  // The first header called `name` (any case), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Where X-Amz-Security-Token goes when the credentials have a session token.
enum class SessionTokenPlacement {
  kSigned,             // added before signing and covered by the signature (the usual case)
  kAddedAfterSigning,  // added to the request only after signing (some services require this)
};

struct SigningParams {
  std::string region;   // "us-east-1"
  std::string service;  // "rds", "monitoring"
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;     // false only for S3
  bool double_uri_encode = true;  // false only for S3 (then `path` must already be encoded)
  // Adds and signs X-Amz-Content-Sha256 (S3 needs it; RDS and CloudWatch do not).
  bool add_content_sha256_header = false;
  SessionTokenPlacement token_placement = SessionTokenPlacement::kSigned;
  std::chrono::seconds expires{3600};  // X-Amz-Expires, Presign only
};

struct SigningResult {
  SignableRequest request;         // the signed request, ready for the transport
  core::Secret canonical_request;  // may contain the session token
  std::string string_to_sign;
  std::string signature;       // lower-case hex
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string authorization;   // the Authorization header value (empty for Presign)
};

// A derived SigV4 signing key (HMAC chain over date, region, service). Not printable; wiped
// when destroyed.
class SigningKey {
 public:
  static constexpr std::size_t kSize = 32;
  SigningKey() = default;
  explicit SigningKey(const std::array<unsigned char, kSize>& bytes) : bytes_(bytes) {}
  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  ~SigningKey();

  const std::array<unsigned char, kSize>& Bytes() const { return bytes_; }

 private:
  std::array<unsigned char, kSize> bytes_{};
};

// Small cache of derived signing keys, keyed by (fingerprint of the secret, date, region,
// service): deriving costs four HMACs per request otherwise, and a process signs for a handful
// of region/service pairs per day. The secret itself is not stored, only a SHA-256 fingerprint
// of it. When full, the least recently used entry goes. Thread-safe.
class SigningKeyCache {
 public:
  explicit SigningKeyCache(std::size_t capacity = 16);

  // The key for `secret` on `date` ("20150830"), computing it on a miss.
  core::Result<SigningKey> Get(const core::Secret& secret, std::string_view date,
                               std::string_view region, std::string_view service);

  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Entry {
    std::array<unsigned char, 32> fingerprint{};
    std::string date;
    std::string region;
    std::string service;
    SigningKey key;
    std::uint64_t last_use = 0;
  };

  mutable std::mutex mu_;
  std::size_t capacity_;
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

// Signs requests. Owns its key cache; const methods are thread-safe.
class Signer {
 public:
  explicit Signer(std::size_t key_cache_capacity = 16) : cache_(key_cache_capacity) {}

  // Authorization-header signing.
  core::Result<SigningResult> Sign(const SignableRequest& request,
                                   const AwsCredentials& credentials,
                                   const SigningParams& params) const;
  // Query-string signing (a presigned URL): the X-Amz-* parameters are appended to `query`.
  core::Result<SigningResult> Presign(const SignableRequest& request,
                                      const AwsCredentials& credentials,
                                      const SigningParams& params) const;

  const SigningKeyCache& key_cache() const { return cache_; }

 private:
  mutable SigningKeyCache cache_;
};

// --- helpers (pure) ---

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (and '/' when `keep_slash`), upper-case
// hex, as SigV4 requires.
std::string UriEncode(std::string_view text, bool keep_slash);
// "a=1&b=%20x&c" -> {a,1},{b," x"},{c,""}. '+' stays a literal '+' (SigV4 query strings are
// RFC 3986, not form encoding). kInvalidArgument on a malformed %-escape.
core::Result<std::vector<QueryParam>> ParseQueryString(std::string_view raw);
// The wire form of `query`, in its order, encoded with UriEncode ("" when empty).
std::string EncodeQueryString(const std::vector<QueryParam>& query);
// application/x-www-form-urlencoded, as botocore serializes Query-API bodies: unreserved
// characters kept, space as '+', everything else %XX ("cpu * 2" -> "cpu+%2A+2").
std::string FormEncode(const std::vector<QueryParam>& params);
// The Host header value: `host`, plus ":port" unless it is the scheme's default port.
std::string HostHeaderValue(std::string_view host, int port, bool https);
// "20150830T123600Z" (UTC).
std::string FormatAmzDate(std::chrono::system_clock::time_point time);
// Hex SHA-256 of `data` (lower case); kInternal if OpenSSL fails.
core::Result<std::string> Sha256Hex(std::string_view data);

}  // namespace dbrunbook::cloud
