// HTTP as a side effect handed in at construction.
//
// Everything in dbrunbook that speaks HTTP (cloud APIs, instance metadata, and later the
// notification channels) goes through an `HttpTransport`, so unit tests of pure logic can
// hand in a fake and integration tests a `CurlTransport` pointed at a real loopback server.
//
// Failures are typed `core::Error`s. Their messages name the scheme, host and port only:
// never the path's query string, the headers or the body, which can carry credentials,
// signatures or tokens.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud {

// Header fields in the order they were set or received. Names keep their spelling; lookups
// compare them case-insensitively (RFC 9110 field names are case-insensitive).
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first field called `name` (any case), or nullopt.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  HttpHeaders headers;
  std::string body;
  // Zero means the transport's default. `connect_timeout` bounds name resolution, TCP and TLS
  // set-up; `timeout` bounds the whole exchange, connect included.
  core::Duration connect_timeout{};
  core::Duration timeout{};
  // False for requests that must not reach the server twice (reboot, failover, kill). libcurl
  // silently re-sends a request whose kept-alive connection turns out to be closed before any
  // answer byte, whatever the method; a non-idempotent request therefore always goes out on a
  // fresh connection, where that cannot happen. Retry policies read this flag too.
  bool idempotent = true;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // of the final response (interim 1xx responses are dropped)
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Sends one request and waits for its complete response. Any HTTP status is a response, not
// an error: callers decide what a 404 or a 503 means. Errors are reserved for exchanges that
// produced no complete response, with these codes:
//   kInvalidArgument  the URL or method is malformed or the scheme is not http(s)
//   kDnsFailure       the host name did not resolve                  (request not sent)
//   kUnavailable      no connection could be made: refused, unreachable (request not sent)
//   kTlsError         the TLS handshake failed or the certificate did not verify (not sent)
//   kTimeout          connect or the whole exchange ran out of time  (request may have been sent)
//   kServerError      the peer closed or reset the connection, or answered something that is
//                     not HTTP, after the request was sent          (request may have been sent)
//   kIo               anything else (out of memory, response larger than allowed)
// The "not sent" cases are what `FailedBeforeSending` reports, so that a retry policy can
// repeat even a non-idempotent request after them.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual core::Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// True when `error` came from a transport failure that, by the contract above, happened before
// any byte of the request reached the peer (DNS, connection refused, TLS handshake).
bool FailedBeforeSending(const core::Error& error);

// "https://rds.eu-west-1.amazonaws.com:443" for error messages and logs: scheme, host and
// port of `url` without user info, path, query or fragment. Returns "<invalid URL>" when
// `url` has no "scheme://".
std::string RedactedOrigin(std::string_view url);

struct CurlTransportOptions {
  // PEM file of the certificate authorities to trust instead of the system store; empty means
  // the system store. Verification of the peer and of its host name is always on.
  std::string ca_file;
  core::Duration connect_timeout = std::chrono::seconds(5);
  core::Duration timeout = std::chrono::seconds(30);
  std::string user_agent = "dbrunbook";
  // A larger response body fails with kIo instead of filling memory.
  size_t max_response_bytes = size_t{64} << 20;
};

// `HttpTransport` over libcurl.
//
// One libcurl easy handle lives as long as the transport, so its connection cache keeps
// connections (and TLS sessions) alive between requests to the same host. Redirects are not
// followed (a redirect is returned as the 3xx response it is: following it could send signed
// headers to another host). Only http and https are allowed.
//
// Thread-safety: `Send` may be called from several threads; calls serialise on an internal
// mutex because an easy handle is single-threaded. For parallel requests use one transport per
// thread.
class CurlTransport final : public HttpTransport {
 public:
  // Fails with kInvalidConfig when `ca_file` is set but unreadable, kInternal when libcurl
  // cannot be initialised.
  static core::Result<std::unique_ptr<CurlTransport>> Create(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  core::Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Handle;
  CurlTransport(CurlTransportOptions options, std::unique_ptr<Handle> handle);

  CurlTransportOptions options_;
  std::mutex mutex_;
  std::unique_ptr<Handle> handle_;  // guarded by mutex_
};

}  // namespace dbrunbook::cloud
