#include "api/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>
#include <set>
#include <thread>

#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::api {

namespace {

using Clock = std::chrono::steady_clock;
using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

// When the request being served on this worker thread started (set by the pre-routing
// handler, read by the logger; cpp-httplib serves one request at a time per thread).
thread_local Clock::time_point tl_request_start;  // NOLINT(readability-identifier-naming)
thread_local bool tl_request_started = false;     // NOLINT(readability-identifier-naming)

Digest Sha256(std::string_view data) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return digest;
}

std::string JsonDump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ErrorBody(std::string_view message, std::string_view hint) {
  nlohmann::json body = {{"error", core::ToValidUtf8(message)}, {"hint", core::ToValidUtf8(hint)}};
  return JsonDump(body) + "\n";
}

void SetError(httplib::Response& res, int status, std::string_view message, std::string_view hint) {
  res.status = status;
  res.set_content(ErrorBody(message, hint), "application/json");
}

// "127.0.0.1:9101", "[::1]:9101".
std::string Endpoint(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string ErrnoText(int err) {
  std::array<char, 256> buffer{};
  // GNU strerror_r returns the message (maybe not in buffer).
  return strerror_r(err, buffer.data(), buffer.size());
}

// The errno a plain bind of host:port gets (0 when it succeeds), for the error message when
// cpp-httplib's bind fails: it reports only false.
int ProbeBind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &result) != 0) return EADDRNOTAVAIL;
  int err = EADDRNOTAVAIL;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    err = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    close(fd);
    if (err == 0) break;
  }
  freeaddrinfo(result);
  return err;
}

struct RouteEntry {
  std::string method;
  std::string pattern;
  std::regex regex;
  std::vector<std::string> param_names;  // ":name" segments, in order
  Handler handler;
};

enum class MatchKind { kNone, kWrongMethod, kFound };

struct RouteMatch {
  MatchKind kind = MatchKind::kNone;
  const RouteEntry* route = nullptr;
  std::smatch groups;
  std::vector<std::string> allowed;  // methods of the routes with this path
};

}  // namespace

std::string Request::Query(const std::string& name) const {
  const auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

std::string Request::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Response Response::Json(int status, const nlohmann::json& value) {
  Response response;
  response.status = status;
  response.body = JsonDump(value) + "\n";
  return response;
}

Response Response::Error(int status, std::string_view message, std::string_view hint) {
  Response response;
  response.status = status;
  response.body = ErrorBody(message, hint);
  return response;
}

Response Response::FromError(int status, const core::Error& error) {
  return Error(status, error.message, error.hint);
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : options(std::move(o)) {
    if (!options.bearer_token.empty()) token_digest = Sha256(options.bearer_token.Reveal());
  }

  HttpServerOptions options;
  std::vector<RouteEntry> routes;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<int> port{0};
  bool started = false;
  Digest token_digest{};

  RouteMatch Find(const std::string& method, const std::string& path) const {
    RouteMatch match;
    const std::string wanted = method == "HEAD" ? "GET" : method;
    for (const RouteEntry& route : routes) {
      std::smatch groups;
      if (!std::regex_match(path, groups, route.regex)) continue;
      if (route.method == wanted) {
        match.kind = MatchKind::kFound;
        match.route = &route;
        match.groups = std::move(groups);
        return match;
      }
      match.kind = MatchKind::kWrongMethod;
      match.allowed.push_back(route.method);
    }
    return match;
  }

  // True when the request may go on; otherwise `res` holds the 401.
  bool Authorized(const httplib::Request& req, httplib::Response& res) const {
    if (options.bearer_token.empty() || req.path == "/healthz") return true;
    const std::string value = req.get_header_value("Authorization");
    std::string_view presented;
    if (core::StartsWithIgnoreCase(value, "Bearer ")) {
      presented = core::Trim(std::string_view(value).substr(7));
    }
    // Digests of equal length, compared in constant time: the time taken says nothing about
    // how much of the token was right, nor about its length.
    const Digest digest = Sha256(presented);
    if (!presented.empty() &&
        CRYPTO_memcmp(digest.data(), token_digest.data(), digest.size()) == 0) {
      return true;
    }
    SetError(res, 401,
             presented.empty() ? "authentication required: no bearer token in the request"
                               : "authentication failed: wrong bearer token",
             "send the header \"Authorization: Bearer <token>\" with the token configured for "
             "the watch API");
    res.set_header("WWW-Authenticate", presented.empty()
                                           ? "Bearer realm=\"dbrunbook\""
                                           : "Bearer realm=\"dbrunbook\", error=\"invalid_token\"");
    return false;
  }

  // Answers what needs no handler (401, 404, 405): before the body is read when there is
  // none, after it otherwise. Returns true when `res` is complete.
  bool Screen(const httplib::Request& req, httplib::Response& res) const {
    if (!Authorized(req, res)) return true;
    const RouteMatch match = Find(req.method, req.path);
    if (match.kind == MatchKind::kNone) {
      SetError(res, 404, fmt::format("no such endpoint: {}", core::OneLine(req.path, 200)),
               "the API is under /api/v1/ (README, \"HTTP API\"); /healthz and /metrics too");
      return true;
    }
    if (match.kind == MatchKind::kWrongMethod) {
      std::string allowed = fmt::format("{}", fmt::join(match.allowed, ", "));
      if (allowed.find("GET") != std::string::npos) allowed += ", HEAD";
      SetError(res, 405,
               fmt::format("{} is not allowed on {}", core::OneLine(req.method, 20),
                           core::OneLine(req.path, 200)),
               fmt::format("use {}", allowed));
      res.set_header("Allow", allowed);
      return true;
    }
    return false;
  }

  void Dispatch(const httplib::Request& hreq, httplib::Response& hres) const {
    if (Screen(hreq, hres)) return;
    const RouteMatch match = Find(hreq.method, hreq.path);
    if (match.kind != MatchKind::kFound) return;  // Screen() answered
    Request req;
    req.method = hreq.method == "HEAD" ? "GET" : hreq.method;
    req.path = hreq.path;
    for (size_t i = 0; i < match.groups.size(); ++i) req.matches.push_back(match.groups[i].str());
    for (size_t i = 0; i < match.route->param_names.size() && i + 1 < match.groups.size(); ++i) {
      req.params[match.route->param_names[i]] = match.groups[i + 1].str();
    }
    for (const auto& [name, value] : hreq.params) req.query.emplace(name, value);
    for (const auto& [name, value] : hreq.headers) {
      std::string lower = core::ToLower(name);
      if (lower == "authorization") continue;
      auto [it, inserted] = req.headers.emplace(lower, value);
      if (!inserted) it->second += ", " + value;
    }
    req.body = hreq.body;
    req.remote_addr = hreq.remote_addr;

    Response response;
    try {
      response = match.route->handler(req);
    } catch (const std::exception& e) {
      response = Response::Error(
          500,
          fmt::format("internal error in {} {}: {}", req.method, match.route->pattern,
                      core::OneLine(e.what(), 300)),
          "this is a bug in dbrunbook; the daemon goes on. Please report it with the log");
    } catch (...) {
      response = Response::Error(
          500, fmt::format("internal error in {} {}", req.method, match.route->pattern),
          "this is a bug in dbrunbook; the daemon goes on. Please report it with the log");
    }
    hres.status = response.status;
    for (const auto& [name, value] : response.headers) hres.set_header(name, value);
    hres.set_content(response.body, response.content_type);
  }

  void Log(const httplib::Request& req, const httplib::Response& res) const {
    if (!options.access_log) return;
    AccessLogEntry entry;
    entry.method = req.method;
    entry.path = req.path;
    entry.status = res.status;
    entry.remote_addr = req.remote_addr;
    entry.response_bytes = res.body.size();
    if (tl_request_started) {
      entry.duration =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - tl_request_start);
      tl_request_started = false;
    }
    try {
      options.access_log(entry);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a logger's failure must not end a request
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port.load(); }

core::Status HttpServer::Route(std::string_view method, std::string_view pattern, Handler handler) {
  if (impl_->started) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("route {} {} registered after Start()", method, pattern),
                           "register every route before starting the server");
  }
  static const std::set<std::string, std::less<>> kMethods = {"GET", "POST", "PUT", "PATCH",
                                                              "DELETE"};
  if (kMethods.count(method) == 0) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("route {}: method {} is not supported", pattern, method));
  }
  if (pattern.empty() || (pattern.front() != '/' && pattern.front() != '^')) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("route pattern \"{}\" must start with / or ^", pattern));
  }
  RouteEntry entry;
  entry.method = std::string(method);
  entry.pattern = std::string(pattern);
  entry.handler = std::move(handler);
  std::string regex;
  if (pattern.front() == '^') {
    regex = std::string(pattern);
  } else {
    // "/api/v1/incidents/:id": each ":name" segment matches one path segment; the rest
    // literally.
    for (const std::string_view segment : core::Split(pattern.substr(1), '/')) {
      regex += "/";
      if (!segment.empty() && segment.front() == ':') {
        const std::string name(segment.substr(1));
        if (name.empty()) {
          return core::MakeError(
              core::ErrorCode::kInvalidArgument,
              fmt::format("route pattern \"{}\": empty parameter name", pattern));
        }
        entry.param_names.push_back(name);
        regex += "([^/]+)";
        continue;
      }
      for (const char c : segment) {
        if (std::strchr(".^$|()[]{}*+?\\", c) != nullptr) regex += '\\';
        regex += c;
      }
    }
  }
  try {
    entry.regex = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("route pattern \"{}\": {}", pattern, e.what()));
  }
  for (const RouteEntry& other : impl_->routes) {
    if (other.method == entry.method && other.pattern == entry.pattern) {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             fmt::format("route {} {} registered twice", method, pattern));
    }
  }
  impl_->routes.push_back(std::move(entry));
  return core::Ok();
}

core::Result<int> HttpServer::Start() {
  Impl& impl = *impl_;
  const HttpServerOptions& options = impl.options;
  const std::string where = Endpoint(options.bind_address, options.port);
  if (impl.started) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("the HTTP server on {} is already started", where));
  }
  if (options.port < 0 || options.port > 65535) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("cannot listen on {}: not a TCP port", where),
                           "choose a port from 1 to 65535 (0: any free port) with --listen");
  }
  {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* result = nullptr;
    const int rc = getaddrinfo(options.bind_address.c_str(), nullptr, &hints, &result);
    if (result != nullptr) freeaddrinfo(result);
    if (rc != 0 || options.bind_address.empty()) {
      return core::MakeError(
          core::ErrorCode::kInvalidArgument,
          fmt::format("cannot listen on {}: \"{}\" is not an address of this machine ({})", where,
                      options.bind_address, rc != 0 ? gai_strerror(rc) : "empty"),
          "give an IP address with --listen, e.g. 127.0.0.1:9101 (loopback) or 0.0.0.0:9101 (all "
          "interfaces, with a bearer token)");
    }
  }

  auto server = std::make_unique<httplib::Server>();
  const int threads = std::max(1, options.worker_threads);
  // cpp-httplib owns the task queue it gets from this factory and deletes it.
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR (a restart need not wait for TIME_WAIT) but not cpp-httplib's default
  // SO_REUSEPORT, with which a second daemon on the same port would bind too and share the
  // connections silently instead of failing with "address already in use".
  server->set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const auto seconds = [](std::chrono::milliseconds ms) {
    return std::pair<time_t, time_t>(ms.count() / 1000, (ms.count() % 1000) * 1000);
  };
  server->set_read_timeout(seconds(options.read_timeout).first,
                           seconds(options.read_timeout).second);
  server->set_write_timeout(seconds(options.write_timeout).first,
                            seconds(options.write_timeout).second);
  server->set_payload_max_length(options.max_body_bytes);
  server->set_keep_alive_max_count(100);
  // An idle kept-alive connection holds a worker until this passes, and Stop() waits for it:
  // short (scrapers and webhooks call every few seconds at most, a reconnect is cheap).
  server->set_keep_alive_timeout(1);

  const Impl* self = &impl;
  server->set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    tl_request_start = Clock::now();
    tl_request_started = true;
    // A request with a body is screened once the body is read (Dispatch): answered now, its
    // unread body would stay in the kept-alive connection and be taken for the next request.
    const bool has_body = req.has_header("Transfer-Encoding") ||
                          core::ParseUint64(req.get_header_value("Content-Length")).value_or(0) > 0;
    if (has_body) return httplib::Server::HandlerResponse::Unhandled;
    return self->Screen(req, res) ? httplib::Server::HandlerResponse::Handled
                                  : httplib::Server::HandlerResponse::Unhandled;
  });
  // "Expect: 100-continue" (curl sends it with large bodies): refuse before the body is sent.
  server->set_expect_100_continue_handler(
      [self](const httplib::Request& req, httplib::Response& res) {
        tl_request_start = Clock::now();
        tl_request_started = true;
        if (self->Screen(req, res)) return res.status;
        const std::string length = req.get_header_value("Content-Length");
        const auto bytes = core::ParseUint64(length);
        if (bytes && *bytes > self->options.max_body_bytes) {
          SetError(res, 413,
                   fmt::format("request body of {} bytes is larger than the limit of {} bytes",
                               *bytes, self->options.max_body_bytes),
                   "send less per request");
          return 413;
        }
        return 100;
      });
  const auto dispatch = [self](const httplib::Request& req, httplib::Response& res) {
    self->Dispatch(req, res);
  };
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    const std::string any = ".*";
    const std::string_view m = method;
    if (m == "GET") server->Get(any, dispatch);
    if (m == "POST") server->Post(any, httplib::Server::Handler(dispatch));
    if (m == "PUT") server->Put(any, httplib::Server::Handler(dispatch));
    if (m == "PATCH") server->Patch(any, httplib::Server::Handler(dispatch));
    if (m == "DELETE") server->Delete(any, httplib::Server::Handler(dispatch));
  }
  // No route takes OPTIONS: routed too, so that it gets 405 with "Allow" (or 404), not 400.
  server->Options(".*", dispatch);
  // Statuses cpp-httplib sets itself (413, 400, 414, ...) get the JSON error body too; a
  // response that has a body already keeps it.
  server->set_error_handler(httplib::Server::HandlerWithResponse(
      [self](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
          SetError(res, 413,
                   fmt::format("request body larger than the limit of {} bytes",
                               self->options.max_body_bytes),
                   "send less per request");
        } else if (res.status == 404) {
          SetError(res, 404, fmt::format("no such endpoint: {}", core::OneLine(req.path, 200)), "");
        } else {
          SetError(res, res.status, fmt::format("request refused with HTTP status {}", res.status),
                   "check the request line, headers and body");
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        SetError(res, 500, "internal error while serving the request",
                 "this is a bug in dbrunbook; the daemon goes on");
      });
  server->set_logger(
      [self](const httplib::Request& req, const httplib::Response& res) { self->Log(req, res); });

  errno = 0;
  int bound = -1;
  if (options.port == 0) {
    bound = server->bind_to_any_port(options.bind_address);
  } else if (server->bind_to_port(options.bind_address, options.port)) {
    bound = options.port;
  }
  if (bound < 0) {
    int err = ProbeBind(options.bind_address, options.port);
    if (err == 0) err = errno;
    std::string why = err != 0 ? ErrnoText(err) : "bind failed";
    core::ErrorCode code = core::ErrorCode::kUnavailable;
    std::string hint = "choose another address or port with --listen";
    if (err == EADDRINUSE) {
      why = "address already in use";
      hint =
          "another dbrunbook watch (or another program) listens there: stop it, or choose "
          "another port with --listen";
    } else if (err == EACCES) {
      code = core::ErrorCode::kAccessDenied;
      hint = "ports below 1024 need privileges: choose a higher port with --listen";
    } else if (err == EADDRNOTAVAIL) {
      why = "address not available on this machine";
      hint =
          "give an address of one of this machine's interfaces with --listen (127.0.0.1 "
          "for loopback)";
    }
    return core::MakeError(code, fmt::format("cannot listen on {}: {}", where, why), hint);
  }
  impl.server = std::move(server);
  impl.port = bound;
  impl.started = true;
  httplib::Server* raw = impl.server.get();
  impl.thread = std::thread([raw] { raw->listen_after_bind(); });
  // stop() before the listening loop has started would be lost: wait for it.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!raw->is_running() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!raw->is_running()) {
    Stop();
    return core::MakeError(core::ErrorCode::kInternal,
                           fmt::format("the HTTP server on {} did not start listening",
                                       Endpoint(options.bind_address, bound)));
  }
  return bound;
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.server) return;
  impl.server->stop();
  if (impl.thread.joinable()) impl.thread.join();
  impl.server.reset();
}

}  // namespace dbrunbook::api
