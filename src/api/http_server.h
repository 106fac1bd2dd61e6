// The watch daemon's HTTP server: /healthz, /metrics and the JSON API, over cpp-httplib.
//
// Routes are registered before Start() as (method, pattern, handler). A pattern is either a
// path with optional ":name" segments ("/api/v1/incidents/:id", the segment's text goes to
// Request::params["id"]) or, when it starts with '^', an ECMAScript regular expression matched
// against the whole path (its groups go to Request::matches). A handler gets a plain Request
// and returns a Response; it runs on one of `worker_threads` threads, several at once, so
// what it touches must be thread-safe.
//
// What the server answers by itself, always with a JSON body {"error": "...", "hint": "..."}:
//   401  a bearer token is configured and the request (to anything but /healthz) has no
//        "Authorization: Bearer <token>" or a wrong one; with "WWW-Authenticate: Bearer".
//        The token is compared in constant time and never logged or echoed.
//   404  no route has this path;   405  a route has it, not for this method (with "Allow").
//   413  the body is larger than max_body_bytes (checked before it is read into memory).
//   500  the handler threw: the exception is caught, the server goes on.
//   400  a request cpp-httplib cannot parse.
//   A request with a body is screened (401/404/405) once its body is read, so that the body
//   does not stay in the kept-alive connection; one without is screened before routing.
// HEAD is answered as GET without the body; OPTIONS gets 405 (no CORS: not a browser API).
//
// Thread-safety: Route() before Start() only; Start() and Stop() from one thread; the access
// log callback runs on the worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/secret.h"

namespace dbrunbook::api {

struct Request {
  std::string method;  // "GET", "POST", ... ("HEAD" requests arrive as "GET")
  std::string path;    // without the query string, percent-decoded
  std::map<std::string, std::string> params;      // ":name" segments of the pattern
  std::vector<std::string> matches;               // regex groups (0: the whole path)
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;     // names lower-case; repeats joined
                                                  // with ", "; no Authorization
  std::string body;
  std::string remote_addr;

  // The first query parameter `name`, or "".
  std::string Query(const std::string& name) const;
  // The header `name` (lower-case), or "".
  std::string Header(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // `value` as JSON (invalid UTF-8 in strings replaced, never a throw).
  static Response Json(int status, const nlohmann::json& value);
  // {"error": message, "hint": hint}.
  static Response Error(int status, std::string_view message, std::string_view hint = {});
  // A core::Error as a 4xx/5xx: the status given, the message and hint of the error.
  static Response FromError(int status, const core::Error& error);
  static Response Text(int status, std::string body, std::string content_type);
};

using Handler = std::function<Response(const Request&)>;

struct AccessLogEntry {
  std::string method;
  std::string path;  // without the query string (which could carry anything)
  int status = 0;
  std::chrono::microseconds duration{};
  std::string remote_addr;
  size_t response_bytes = 0;
};

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";  // an IPv4 or IPv6 address, or a host name
  int port = 0;                            // 0: an ephemeral port (Start() says which)
  core::Secret bearer_token;               // empty: no authentication
  size_t max_body_bytes = size_t{1} << 20;
  int worker_threads = 4;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::function<void(const AccessLogEntry&)> access_log;  // optional
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a route; fails with kInvalidArgument for a bad pattern, a route registered
  // twice, or a call after Start().
  core::Status Route(std::string_view method, std::string_view pattern, Handler handler);
  core::Status Get(std::string_view pattern, Handler handler) {
    return Route("GET", pattern, std::move(handler));
  }
  core::Status Post(std::string_view pattern, Handler handler) {
    return Route("POST", pattern, std::move(handler));
  }

  // Binds, listens and serves on a thread of its own; returns the port bound. Errors:
  // kInvalidArgument for a bind address that is not an address of this machine's form,
  // kUnavailable for an address in use or not available here, kAccessDenied for a privileged
  // port; each names the address ("cannot listen on 127.0.0.1:9101: address already in use").
  core::Result<int> Start();
  // Stops accepting, lets running handlers finish, joins the threads. Idempotent.
  void Stop();

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dbrunbook::api
