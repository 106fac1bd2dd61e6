#include "app/watch_api.h"

#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "api/alertmanager.h"
#include "api/http_server.h"
#include "api/prometheus.h"
#include "api/signal_push.h"
#include "core/strings.h"

namespace dbrunbook::app {
namespace {

// "127.0.0.1:9473", "[::1]:9473", "localhost:9473" -> address and port.
core::Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  auto bad = [&]() -> core::Result<std::pair<std::string, int>> {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("--listen '{}' is not HOST:PORT", listen),
                           "write 127.0.0.1:9473 (loopback), [::1]:9473, 0.0.0.0:9473 (every "
                           "interface: set an API token), or off");
  };
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= listen.size()) return bad();
  std::string host = listen.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9') return bad();
    port = port * 10 + (c - '0');
    if (port > 65535) return bad();
  }
  return std::make_pair(host, port);
}

std::optional<int64_t> IncidentId(const api::Request& request) {
  auto it = request.params.find("id");
  if (it == request.params.end()) return std::nullopt;
  auto n = core::ParseInt64(it->second);
  if (!n || *n <= 0) return std::nullopt;
  return *n;
}

api::Response BadId(const api::Request& request) {
  return api::Response::Error(400, fmt::format("'{}' is not an incident id", request.path),
                              "incident ids are positive integers: /api/v1/incidents/12");
}

class Api final : public WatchApi {
 public:
  Api(daemon::Daemon& daemon, WatchApiOptions options, api::HttpServerOptions server_options)
      : daemon_(daemon), options_(std::move(options)), server_(std::move(server_options)) {}

  core::Status Register() {
    const auto checks = {
        server_.Get("/healthz",
                    [this](const api::Request&) {
                      return api::Response::Json(
                          daemon_.running() ? 200 : 503,
                          {{"status", daemon_.running() ? "ok" : "starting"}});
                    }),
        server_.Get("/metrics",
                    [this](const api::Request&) {
                      return api::Response::Text(200, daemon_.MetricsText(),
                                                 std::string(api::kExpositionContentType));
                    }),
        server_.Get("/api/v1/incidents", [this](const api::Request& r) { return Incidents(r); }),
        server_.Get("/api/v1/incidents/:id", [this](const api::Request& r) { return Incident(r); }),
        server_.Post("/api/v1/incidents/:id/:verb",
                     [this](const api::Request& r) { return Command(r); }),
        server_.Post("/api/v1/alerts", [this](const api::Request& r) { return Alerts(r); }),
        server_.Post("/api/v1/signals", [this](const api::Request& r) { return Signals(r); }),
    };
    for (const core::Status& s : checks) {
      if (!s) return s;
    }
    return core::Ok();
  }

  core::Result<int> Start() { return server_.Start(); }
  int port() const override { return server_.port(); }
  void Stop() override { server_.Stop(); }

 private:
  api::Response Incidents(const api::Request& request) {
    const bool open = request.Query("open") == "1" || request.Query("open") == "true";
    int limit = 100;
    if (const std::string text = request.Query("limit"); !text.empty()) {
      auto n = core::ParseInt64(text);
      if (!n || *n < 1 || *n > 10000) {
        return api::Response::Error(400, fmt::format("limit '{}' is not 1 to 10000", text));
      }
      limit = static_cast<int>(*n);
    }
    auto list = daemon_.IncidentsJson(open, limit);
    if (!list) return api::Response::FromError(500, list.error());
    return api::Response::Json(200, *list);
  }

  api::Response Incident(const api::Request& request) {
    auto id = IncidentId(request);
    if (!id) return BadId(request);
    auto doc = daemon_.IncidentJson(*id);
    if (!doc) return api::Response::FromError(500, doc.error());
    if (!*doc) {
      return api::Response::Error(404, fmt::format("no incident {}", *id),
                                  "GET /api/v1/incidents lists them");
    }
    return api::Response::Json(200, **doc);
  }

  api::Response Command(const api::Request& request) {
    auto id = IncidentId(request);
    if (!id) return BadId(request);
    const std::string verb = request.params.at("verb");
    if (verb != "approve" && verb != "ack" && verb != "note" && verb != "resolve") {
      return api::Response::Error(404, fmt::format("no command '{}'", verb),
                                  "POST .../approve, .../ack, .../note or .../resolve");
    }
    nlohmann::json body = nlohmann::json::object();
    if (!request.body.empty()) {
      body = nlohmann::json::parse(request.body, nullptr, false);
      if (!body.is_object()) {
        return api::Response::Error(400, "the body is not a JSON object",
                                    R"(send {"action": "kill-queries", "who": "alice"})");
      }
    }
    auto text = [&](const char* key) -> std::optional<std::string> {
      if (!body.contains(key)) return std::string();
      if (!body[key].is_string()) return std::nullopt;
      return body[key].get<std::string>();
    };
    auto action = text("action");
    auto who = text("who");
    auto note = text("text");
    if (!action || !who || !note) {
      return api::Response::Error(400, "action, who and text must be strings");
    }
    if (verb == "approve" && action->empty()) {
      return api::Response::Error(400, "approve needs the action",
                                  R"(send {"action": "kill-queries", "who": "alice"})");
    }
    if (verb == "note" && note->empty()) {
      return api::Response::Error(400, "note needs its text", R"(send {"text": "..."})");
    }
    const std::string by = who->empty() ? "api (" + request.remote_addr + ")" : "api: " + *who;
    auto answer = daemon_.Command(*id, verb, *action, by, *note, std::chrono::seconds(10));
    if (!answer) {
      const int status = answer.error().code == core::ErrorCode::kTimeout ? 504 : 409;
      return api::Response::FromError(status, answer.error());
    }
    return api::Response::Json(200, {{"result", *answer}});
  }

  api::Response Alerts(const api::Request& request) {
    api::AlertTargetRules rules;
    rules.labels = options_.alert_labels;
    rules.targets = daemon_.TargetNames();
    rules.addresses = options_.addresses;
    auto payload = api::ParseAlertmanagerWebhook(request.body, rules);
    if (!payload) return api::Response::FromError(400, payload.error());
    const core::WallTime now = std::chrono::system_clock::now();
    size_t unmatched = 0;
    for (const api::AlertmanagerAlert& alert : payload->alerts) {
      if (alert.target.empty()) {
        ++unmatched;
        continue;
      }
      watch::ExternalAlert external = alert.ToExternalAlert(now);
      // Alertmanager's severities vary by team (critical, page, error, warning, info ...):
      // the engine knows two.
      const std::string severity = core::ToLower(external.severity);
      external.severity = severity == "critical" || severity == "page" || severity == "error" ||
                                  severity == "emergency"
                              ? "critical"
                              : "warning";
      daemon_.PostAlert(std::move(external));
    }
    nlohmann::json summary = api::AlertmanagerSummaryJson(*payload);
    if (unmatched > 0 && options_.log) {
      options_.log("warn",
                   fmt::format("{} alert(s) from Alertmanager matched no target", unmatched),
                   {{"alerts", summary["alerts"]}});
    }
    // 200 even for unmatched alerts: Alertmanager would retry the whole group for ever.
    return api::Response::Json(200, summary);
  }

  api::Response Signals(const api::Request& request) {
    auto samples = api::ParseSignalPush(request.body, daemon_.TargetNames());
    if (!samples) {
      return api::Response::FromError(400, samples.error());
    }
    const core::WallTime now = std::chrono::system_clock::now();
    for (const api::PushedSample& s : *samples) {
      daemon_.PostSignals(s.target, {{s.signal, s.value}}, s.at.value_or(now), s.source);
    }
    return api::Response::Json(200, {{"accepted", samples->size()}});
  }

  daemon::Daemon& daemon_;
  WatchApiOptions options_;
  api::HttpServer server_;
};

}  // namespace

core::Result<std::unique_ptr<WatchApi>> StartWatchApi(daemon::Daemon& daemon,
                                                      const WatchApiOptions& options) {
  auto address = ParseListen(options.listen);
  if (!address) return core::Fail(address.error());
  api::HttpServerOptions server;
  server.bind_address = address->first;
  server.port = address->second;
  server.bearer_token = core::Secret(options.token);
  if (options.access_log && options.log) {
    server.access_log = [log = options.log](const api::AccessLogEntry& e) {
      log("debug", fmt::format("{} {} {}", e.method, e.path, e.status),
          {{"method", e.method},
           {"path", e.path},
           {"status", e.status},
           {"seconds", std::chrono::duration<double>(e.duration).count()},
           {"client", e.remote_addr}});
    };
  }
  auto api = std::make_unique<Api>(daemon, options, std::move(server));
  if (auto s = api->Register(); !s) return core::Fail(s.error());
  auto port = api->Start();
  if (!port) return core::Fail(port.error());
  if (options.log) {
    options.log("info",
                fmt::format("API listening on {}:{}{}", address->first, *port,
                            options.token.empty() ? " (no token)" : " (bearer token)"),
                {});
  }
  return std::unique_ptr<WatchApi>(std::move(api));
}

}  // namespace dbrunbook::app
