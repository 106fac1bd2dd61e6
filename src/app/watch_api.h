// The watch daemon's HTTP API (api/http_server.h) and its routes:
//   GET  /healthz                      {"status": "ok"} (no token needed)
//   GET  /metrics                      Prometheus text exposition
//   GET  /api/v1/incidents[?open=1&limit=N]
//   GET  /api/v1/incidents/ID          with timeline, diagnoses (findings), evidence kinds
//   POST /api/v1/incidents/ID/approve  {"action": "kill-queries", "who": "alice"}
//   POST /api/v1/incidents/ID/ack|note|resolve  {"who": "...", "text": "..."}
//   POST /api/v1/alerts                Alertmanager webhook, payload version 4
//   POST /api/v1/signals               pushed application error counts
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "daemon/daemon.h"

namespace dbrunbook::app {

struct WatchApiOptions {
  std::string listen;  // HOST:PORT ([v6]:PORT)
  std::string token;   // empty: no authentication
  // Alertmanager: the labels tried to find an alert's target, and the targets' addresses.
  std::vector<std::string> alert_labels = {"dbrunbook_target", "instance", "job"};
  std::map<std::string, std::string> addresses;  // target -> host:port
  std::function<void(std::string_view, std::string_view, const nlohmann::json&)> log;
  // One "debug" line per request through `log` (method, path without the query, status,
  // seconds, client; never a header): with --log-level debug.
  bool access_log = false;
};

class WatchApi {
 public:
  virtual ~WatchApi() = default;
  virtual int port() const = 0;
  virtual void Stop() = 0;
};

// Parses the address, registers the routes and starts serving. Errors name the address.
core::Result<std::unique_ptr<WatchApi>> StartWatchApi(daemon::Daemon& daemon,
                                                      const WatchApiOptions& options);

}  // namespace dbrunbook::app
