// Prometheus Alertmanager's webhook (`webhook_configs`), payload version 4, as
// POST /api/v1/alerts receives it:
//
//   {"version": "4", "groupKey": "...", "truncatedAlerts": 0, "status": "firing|resolved",
//    "receiver": "...", "groupLabels": {...}, "commonLabels": {...},
//    "commonAnnotations": {...}, "externalURL": "...",
//    "alerts": [{"status": "firing|resolved", "labels": {...}, "annotations": {...},
//                "startsAt": "<RFC 3339>", "endsAt": "<RFC 3339>", "generatorURL": "...",
//                "fingerprint": "..."}]}
//
// Each alert is mapped to a dbrunbook target by its labels (see AlertTargetRules). An alert
// that names no known target is reported in the result with the reason, not an error for the
// whole body: Alertmanager would retry a rejected notification for ever, and the other alerts
// of the group may well match. A body that is not a version 4 payload is an error naming the
// JSON path ("alerts[2].status: expected \"firing\" or \"resolved\", found \"fire\"").
// Fields dbrunbook does not read are not checked beyond their JSON type.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "watch/engine.h"

namespace dbrunbook::api {

// How alerts find their target. For each label name in `labels`, in order, when the alert
// has that label, its value is compared with:
//   1. the target names (exactly);
//   2. the targets' addresses ("host:port", given in `addresses`, target -> address): the
//      value as host:port (a scheme like "https://" and a path are ignored), then its host
//      part alone against the hosts of the addresses (case-insensitive) — the `instance`
//      label of a mysqld_exporter scrape is the exporter's host:9104, not the server's port.
//      A host shared by several targets matches none of them (reported as ambiguous).
// The first label that matches decides.
struct AlertTargetRules {
  std::vector<std::string> labels = {"dbrunbook_target", "instance", "job"};
  std::vector<std::string> targets;              // the configured target names
  std::map<std::string, std::string> addresses;  // target name -> "host:port"
};

struct AlertmanagerAlert {
  std::string target;            // empty when no target matched
  std::string unmatched_reason;  // why, when target is empty
  std::string matched_by;        // "dbrunbook_target", "instance (host)", ... when matched
  std::string alertname;         // labels.alertname ("" when the alert has none)
  bool firing = true;
  std::string severity = "warning";  // labels.severity, else "warning"
  std::string summary;               // annotations.summary, else annotations.description
  core::WallTime starts_at{};
  std::optional<core::WallTime> ends_at;  // absent for Go's zero time (still firing)
  std::string fingerprint;
  std::string generator_url;
  std::map<std::string, std::string> labels;

  // The engine's input: firing alerts at startsAt (with their endsAt, if any, as when they
  // end unless sent again), resolved ones at endsAt (or `now` when the payload has none);
  // received `now`. Only meaningful when `target` is set.
  watch::ExternalAlert ToExternalAlert(core::WallTime now) const;
};

struct AlertmanagerPayload {
  std::string version;
  std::string status;  // "firing" or "resolved": of the group
  std::string receiver;
  std::string group_key;
  int64_t truncated_alerts = 0;  // alerts Alertmanager left out (max_alerts)
  std::string external_url;
  std::map<std::string, std::string> group_labels;
  std::map<std::string, std::string> common_labels;
  std::map<std::string, std::string> common_annotations;
  std::vector<AlertmanagerAlert> alerts;

  size_t matched() const;
};

// Parses a webhook body. Errors (kParse): not JSON, not an object, version not "4", a
// required field missing (version, status, alerts, alerts[i].status, .labels, .startsAt) or of
// the wrong type, a status other than firing/resolved, a time that is not RFC 3339. The
// message names the JSON path; the hint says what Alertmanager sends.
core::Result<AlertmanagerPayload> ParseAlertmanagerWebhook(std::string_view body,
                                                           const AlertTargetRules& rules);

// The answer to the webhook, for people reading Alertmanager's or dbrunbook's logs:
//   {"received": 3, "matched": 2, "truncated": 0, "alerts": [{"alertname": ..., "status":
//    "firing", "target": "orders-primary" | null, "matched_by": ... | "unmatched": why}]}
nlohmann::json AlertmanagerSummaryJson(const AlertmanagerPayload& payload);

// The target for one alert's labels (exposed for tests and for `config check`): the target
// name, or an error message saying why none matched. `matched_by` gets the label that decided.
core::Result<std::string> MatchAlertTarget(const std::map<std::string, std::string>& labels,
                                           const AlertTargetRules& rules, std::string* matched_by);

}  // namespace dbrunbook::api
