#include "cloud/http.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::cloud {

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (core::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

bool FailedBeforeSending(const core::Error& error) {
  switch (error.code) {
    case core::ErrorCode::kDnsFailure:
    case core::ErrorCode::kUnavailable:
    case core::ErrorCode::kTlsError:
      return true;
    default:
      return false;
  }
}

std::string RedactedOrigin(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return "<invalid URL>";
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // user:password@host must never reach a message.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  return core::ToLower(url.substr(0, scheme_end)) + "://" + std::string(authority);
}

namespace {

// libcurl must be initialised once per process before the first handle is made. A function-local
// static runs curl_global_init exactly once and thread-safely (the C++ guarantees it for static
// initialisation); what it keeps is the immutable result, not mutable state. There is no
// matching curl_global_cleanup: handles may outlive any owner we could pick, and process exit
// reclaims everything.
CURLcode GlobalInit() {
  static const CURLcode kResult = curl_global_init(CURL_GLOBAL_DEFAULT);
  return kResult;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Where libcurl's callbacks put what arrives.
struct Exchange {
  HttpResponse response;
  size_t max_body = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  if (exchange->response.body.size() + bytes > exchange->max_body) {
    exchange->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line: what came before belonged to an interim (1xx) response.
    exchange->response.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;  // blank line, obs-fold
  exchange->response.headers.emplace_back(std::string(core::Trim(line.substr(0, colon))),
                                          std::string(core::Trim(line.substr(colon + 1))));
  return bytes;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
           c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
  });
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

long ToMillis(core::Duration d) {
  // libcurl reads 0 as "no timeout": a positive duration below 1 ms must stay a timeout.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<long>(std::max<int64_t>(ms, d > core::Duration::zero() ? 1 : 0));
}

// libcurl's error buffer helps ("SSL certificate problem: self-signed certificate") but is
// kept out of the message when it might quote the request's path or query.
std::string SafeDetail(const char* errbuf, std::string_view url) {
  std::string_view detail(errbuf);
  if (detail.empty()) return {};
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const auto path_start = url.find_first_of("/?#", scheme_end + 3);
    if (path_start != std::string_view::npos) {
      std::string_view path = url.substr(path_start);
      if (path.size() > 1 && detail.find(path) != std::string_view::npos) return {};
    }
  }
  if (detail.find('?') != std::string_view::npos) return {};
  return std::string(detail);
}

core::Error MapCurlError(CURLcode code, CURL* easy, const HttpRequest& request,
                         const Exchange& exchange, core::Duration connect_timeout,
                         core::Duration timeout, const char* errbuf) {
  const std::string origin = RedactedOrigin(request.url);
  std::string detail = SafeDetail(errbuf, request.url);
  if (detail.empty()) detail = curl_easy_strerror(code);
  const auto make = [](core::ErrorCode c, std::string message, std::string hint = {}) {
    return core::Error{c, std::move(message), std::move(hint), 0, {}};
  };
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return make(core::ErrorCode::kInvalidArgument,
                  fmt::format("cannot send {} to {}: {}", request.method, origin, detail),
                  "use an absolute http:// or https:// URL");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return make(core::ErrorCode::kDnsFailure,
                  fmt::format("cannot resolve the host of {}: {}", origin, detail),
                  "check the endpoint URL and this host's DNS configuration");
    case CURLE_COULDNT_CONNECT:
      return make(core::ErrorCode::kUnavailable,
                  fmt::format("cannot connect to {}: {}", origin, detail),
                  "check that the endpoint is reachable from this host (firewall, security "
                  "group, proxy)");
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0) {
        return make(core::ErrorCode::kTimeout,
                    fmt::format("connecting to {} timed out after {}", origin,
                                core::FormatDuration(std::min(connect_timeout, timeout))),
                    "check that the endpoint is reachable from this host");
      }
      return make(core::ErrorCode::kTimeout,
                  fmt::format("{} {} did not answer completely within {}", request.method, origin,
                              core::FormatDuration(timeout)),
                  "the service is slow or overloaded; try again later");
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return make(core::ErrorCode::kTlsError, fmt::format("TLS with {} failed: {}", origin, detail),
                  "the server certificate must verify against the system CA store or the "
                  "configured CA file (verification cannot be turned off)");
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
      return make(core::ErrorCode::kServerError,
                  fmt::format("{} {}: the connection broke before a complete response ({})",
                              request.method, origin, detail),
                  "the request may have reached the server; try again if it is safe to repeat");
    case CURLE_WRITE_ERROR:
      if (exchange.too_large) {
        return make(core::ErrorCode::kIo, fmt::format("response from {} is larger than {} bytes",
                                                      origin, exchange.max_body));
      }
      [[fallthrough]];
    default:
      return make(core::ErrorCode::kIo,
                  fmt::format("{} {} failed: {}", request.method, origin, detail));
  }
}

}  // namespace

struct CurlTransport::Handle {
  CURL* easy = nullptr;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

CurlTransport::CurlTransport(CurlTransportOptions options, std::unique_ptr<Handle> handle)
    : options_(std::move(options)), handle_(std::move(handle)) {}

CurlTransport::~CurlTransport() = default;

core::Result<std::unique_ptr<CurlTransport>> CurlTransport::Create(CurlTransportOptions options) {
  if (const CURLcode init = GlobalInit(); init != CURLE_OK) {
    return core::MakeError(
        core::ErrorCode::kInternal,
        fmt::format("libcurl initialisation failed: {}", curl_easy_strerror(init)));
  }
  if (!options.ca_file.empty() && !std::ifstream(options.ca_file).good()) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           fmt::format("cannot read the CA file {}", options.ca_file),
                           "point the CA file setting at a readable PEM file");
  }
  auto handle = std::make_unique<Handle>();
  handle->easy = curl_easy_init();
  if (handle->easy == nullptr) {
    return core::MakeError(core::ErrorCode::kInternal, "libcurl could not create a handle");
  }
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(options), std::move(handle)));
}

core::Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  const std::string origin = RedactedOrigin(request.url);
  if (!IsToken(request.method)) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("invalid HTTP method for {}", origin));
  }
  Slist headers;
  // curl_slist_append returns the list's head (a new one for an empty list), or null without
  // touching the list when out of memory.
  const auto append = [&headers](const std::string& line) {
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head != nullptr && !headers) headers.reset(head);
    return head != nullptr;
  };
  bool has_content_type = false;
  bool has_expect = false;
  for (const auto& [name, value] : request.headers) {
    // A line break would let a value inject headers; the value is not quoted (it may be secret).
    if (!IsToken(name) || HasLineBreak(value)) {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             fmt::format("invalid HTTP header '{}' for {}",
                                         IsToken(name) ? name : "<malformed name>", origin));
    }
    has_content_type = has_content_type || core::EqualsIgnoreCase(name, "Content-Type");
    has_expect = has_expect || core::EqualsIgnoreCase(name, "Expect");
    // "Name;" is libcurl's spelling of a header with an empty value.
    std::string line = name;
    if (value.empty()) {
      line += ';';
    } else {
      line += ": ";
      line += value;
    }
    if (!append(line)) return core::MakeError(core::ErrorCode::kIo, "out of memory");
  }
  const bool has_body = request.method != "GET" && request.method != "HEAD";
  // libcurl would add "Expect: 100-continue" (an extra round trip) and a form Content-Type the
  // caller did not ask for; a signed request must go out with exactly the signed headers.
  if ((!has_expect && !append("Expect:")) ||
      (has_body && !has_content_type && !append("Content-Type:"))) {
    return core::MakeError(core::ErrorCode::kIo, "out of memory");
  }

  const core::Duration connect_timeout = request.connect_timeout > core::Duration::zero()
                                             ? request.connect_timeout
                                             : options_.connect_timeout;
  const core::Duration timeout =
      request.timeout > core::Duration::zero() ? request.timeout : options_.timeout;

  std::lock_guard lock(mutex_);
  CURL* easy = handle_->easy;
  // Reset drops the previous request's options but keeps the connection and TLS session caches.
  curl_easy_reset(easy);
  Exchange exchange;
  exchange.max_body = options_.max_response_bytes;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  // Signals cannot interrupt a multi-threaded program safely; timeouts work without them.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ToMillis(connect_timeout));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ToMillis(timeout));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &exchange);
  if (!request.idempotent) curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    // Every other method carries its body (possibly empty, sent as Content-Length: 0).
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  const CURLcode code = curl_easy_perform(easy);
  // The handle must not keep pointers into this frame once we return.
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  if (code != CURLE_OK) {
    return core::Fail(
        MapCurlError(code, easy, request, exchange, connect_timeout, timeout, errbuf));
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  exchange.response.status = static_cast<int>(status);
  return std::move(exchange.response);
}

}  // namespace dbrunbook::cloud
