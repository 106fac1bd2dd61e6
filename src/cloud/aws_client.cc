#include "cloud/aws_client.h"

#include <fmt/format.h>

#include <charconv>
#include <utility>

namespace dbrunbook::cloud {
namespace {

struct ParsedUrl {
  bool https = true;
  std::string host;
  int port = 0;            // 0: the scheme's default
  std::string path = "/";  // without a query
};

// "https://host[:port][/path]" -> parts; kInvalidConfig with the URL's origin only.
core::Result<ParsedUrl> ParseEndpoint(std::string_view url) {
  ParsedUrl out;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    out.https = false;
    rest = url.substr(7);
  } else {
    return core::MakeError(
        core::ErrorCode::kInvalidConfig,
        fmt::format("AWS endpoint '{}' is not an http(s) URL", RedactedOrigin(url)),
        "write e.g. endpoint_url: https://rds.us-east-1.amazonaws.com");
  }
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest[slash] == '/') {
    std::string_view path = rest.substr(slash);
    path = path.substr(0, path.find_first_of("?#"));
    out.path = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           "AWS endpoint URL carries user information",
                           "remove user:password@ from the endpoint URL");
  }
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      return core::MakeError(core::ErrorCode::kInvalidConfig,
                             fmt::format("AWS endpoint '{}' has a bad port", RedactedOrigin(url)));
    }
    out.port = value;
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           fmt::format("AWS endpoint '{}' has no host", RedactedOrigin(url)));
  }
  out.host = std::string(authority);
  return out;
}

// The wire code in an error body, cheaply, for the throttling check (the full parse comes
// after the retries).
std::string_view ErrorCodeIn(std::string_view body) {
  const size_t open = body.find("<Code>");
  if (open == std::string_view::npos) return {};
  const size_t start = open + 6;
  const size_t close = body.find("</Code>", start);
  if (close == std::string_view::npos) return {};
  return body.substr(start, close - start);
}

}  // namespace

std::string StandardEndpoint(const AwsService& service, std::string_view region) {
  const std::string_view suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return fmt::format("https://{}.{}.{}", service.endpoint_prefix, region, suffix);
}

AwsQueryClient::AwsQueryClient(AwsService service, AwsCredentialResolver& resolver,
                               HttpTransport& transport, RetryPolicy& retry, core::Clock& clock,
                               const Signer& signer)
    : service_(service),
      resolver_(resolver),
      transport_(transport),
      retry_(retry),
      clock_(clock),
      signer_(signer) {}

core::Result<std::string> AwsQueryClient::Call(const QueryRequest& request,
                                               Idempotency idempotency) {
  const std::string& action = request.action();
  auto context = [&](const core::Error& e) {
    return core::Fail(e.WithContext(fmt::format("{} {}", service_.display, action)));
  };
  auto region = resolver_.Region();
  if (!region) return context(region.error());
  auto override_url = resolver_.EndpointUrl();
  if (!override_url) return context(override_url.error());
  const std::string endpoint =
      override_url->has_value() ? **override_url : StandardEndpoint(service_, *region);
  auto url = ParseEndpoint(endpoint);
  if (!url) return context(url.error());
  auto credentials = resolver_.Credentials();
  if (!credentials) return context(credentials.error());

  SignableRequest unsigned_request;
  unsigned_request.method = "POST";
  unsigned_request.path = url->path;
  unsigned_request.headers.push_back({"Host", HostHeaderValue(url->host, url->port, url->https)});
  unsigned_request.headers.push_back(
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  unsigned_request.body = request.Body();

  SigningParams params;
  params.region = *region;
  params.service = std::string(service_.signing_name);
  params.time = clock_.WallNow();
  auto signed_request = signer_.Sign(unsigned_request, *credentials, params);
  if (!signed_request) return context(signed_request.error());

  HttpRequest http;
  http.method = "POST";
  http.url = fmt::format("{}://{}{}", url->https ? "https" : "http",
                         HostHeaderValue(url->host, url->port, url->https), url->path);
  // (Host too: libcurl then sends the signed value instead of its own, which is the same.)
  for (const auto& h : signed_request->request.headers) http.headers.emplace_back(h.name, h.value);
  http.body = std::move(signed_request->request.body);
  http.idempotent = idempotency == Idempotency::kIdempotent;

  const ThrottleClassifier throttled = [](const HttpResponse& r) {
    return r.status >= 400 && IsThrottlingErrorCode(ErrorCodeIn(r.body));
  };
  int attempts = 0;
  auto response = SendWithRetry(transport_, http, retry_, throttled,
                                [&](int attempt, const RetryDecision& decision) {
                                  attempts = attempt;
                                  if (on_retry_) on_retry_(action, decision.reason);
                                });
  requests_sent_ += attempts + 1;
  if (!response) return context(response.error());
  if (response->status >= 200 && response->status < 300) return std::move(response->body);
  const AwsError error = ParseAwsError(action, response->status, response->body);
  return core::Fail(error.ToError());
}

}  // namespace dbrunbook::cloud
