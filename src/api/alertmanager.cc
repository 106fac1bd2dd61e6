#include "api/alertmanager.h"

#include <fmt/format.h>

#include <set>

#include "api/json_input.h"
#include "core/strings.h"

namespace dbrunbook::api {

namespace {

using nlohmann::json;

constexpr std::string_view kWhat = "Alertmanager webhook body";
constexpr std::string_view kHint =
    "point an Alertmanager webhook_configs receiver at /api/v1/alerts; dbrunbook reads the "
    "webhook payload version 4";

core::Error ParseError(const std::string& path, std::string_view problem) {
  return core::Error{
      core::ErrorCode::kParse, fmt::format("{}: {}", path, problem), std::string(kHint), 0, {}};
}

core::Error Expected(const std::string& path, std::string_view expected, const json& found) {
  return ParseError(path, fmt::format("expected {}, found {}", expected,
                                      found.is_string() || found.is_null()
                                          ? JsonExcerpt(found)
                                          : JsonTypeName(found) + " " + JsonExcerpt(found)));
}

// A required (or optional, when absent is fine) string member.
core::Result<std::string> StringMember(const json& object, const std::string& parent,
                                       std::string_view key, bool required) {
  const std::string path = JsonPath(parent, key);
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) return core::Fail(ParseError(path, "missing"));
    return std::string();
  }
  if (!it->is_string()) return core::Fail(Expected(path, "a string", *it));
  return it->get<std::string>();
}

// {"name": "value", ...} with string values; absent is empty unless required.
core::Result<std::map<std::string, std::string>> LabelMember(const json& object,
                                                             const std::string& parent,
                                                             std::string_view key, bool required) {
  const std::string path = JsonPath(parent, key);
  std::map<std::string, std::string> out;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return core::Fail(ParseError(path, "missing"));
    return out;
  }
  if (!it->is_object()) return core::Fail(Expected(path, "an object of strings", *it));
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return core::Fail(Expected(JsonPath(path, name), "a string", value));
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

core::Result<std::string> StatusMember(const json& object, const std::string& parent) {
  auto status = StringMember(object, parent, "status", true);
  if (!status) return status;
  if (*status != "firing" && *status != "resolved") {
    return core::Fail(ParseError(
        JsonPath(parent, "status"),
        fmt::format("expected \"firing\" or \"resolved\", found {}", JsonExcerpt(json(*status)))));
  }
  return status;
}

core::Result<std::optional<core::WallTime>> TimeMember(const json& object,
                                                       const std::string& parent,
                                                       std::string_view key, bool required) {
  auto text = StringMember(object, parent, key, required);
  if (!text) return core::Fail(text.error());
  if (text->empty() && !required) return std::optional<core::WallTime>();
  const auto t = ParseRfc3339(*text);
  if (!t) {
    return core::Fail(
        ParseError(JsonPath(parent, key), fmt::format("expected an RFC 3339 time such as "
                                                      "\"2026-11-27T06:35:11.123Z\", found {}",
                                                      JsonExcerpt(json(*text)))));
  }
  return std::optional<core::WallTime>(*t);
}

// "db1.example.com:3306" from "https://db1.example.com:3306/metrics"; lower-cased.
std::string HostPort(std::string_view value) {
  if (const auto scheme = value.find("://"); scheme != std::string_view::npos) {
    value.remove_prefix(scheme + 3);
  }
  if (const auto slash = value.find_first_of("/?#"); slash != std::string_view::npos) {
    value = value.substr(0, slash);
  }
  if (const auto at = value.rfind('@'); at != std::string_view::npos) value.remove_prefix(at + 1);
  return core::ToLower(value);
}

// "db1.example.com" from "db1.example.com:3306", "::1" from "[::1]:3306".
std::string HostOf(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close != std::string_view::npos) return std::string(host_port.substr(1, close - 1));
  }
  const auto colon = host_port.rfind(':');
  // A bare IPv6 address has several colons and no port.
  if (colon != std::string_view::npos && host_port.find(':') == colon) {
    return std::string(host_port.substr(0, colon));
  }
  return std::string(host_port);
}

}  // namespace

core::Result<std::string> MatchAlertTarget(const std::map<std::string, std::string>& labels,
                                           const AlertTargetRules& rules, std::string* matched_by) {
  const std::set<std::string, std::less<>> names(rules.targets.begin(), rules.targets.end());
  std::vector<std::string> seen;
  for (const std::string& label : rules.labels) {
    const auto it = labels.find(label);
    if (it == labels.end() || it->second.empty()) continue;
    const std::string& value = it->second;
    seen.push_back(fmt::format("{}=\"{}\"", label, value));
    if (names.count(value) != 0) {
      if (matched_by != nullptr) *matched_by = label;
      return value;
    }
    const std::string host_port = HostPort(value);
    const std::string host = HostOf(host_port);
    std::vector<std::string> by_address;
    std::vector<std::string> by_host;
    for (const auto& [target, address] : rules.addresses) {
      if (names.count(target) == 0) continue;
      const std::string target_host_port = HostPort(address);
      if (target_host_port == host_port) by_address.push_back(target);
      if (!host.empty() && HostOf(target_host_port) == host) by_host.push_back(target);
    }
    if (by_address.size() == 1) {
      if (matched_by != nullptr) *matched_by = label + " (host:port)";
      return by_address.front();
    }
    if (by_address.empty() && by_host.size() == 1) {
      if (matched_by != nullptr) *matched_by = label + " (host)";
      return by_host.front();
    }
    const auto& candidates = by_address.size() > 1 ? by_address : by_host;
    if (candidates.size() > 1) {
      return core::MakeError(core::ErrorCode::kNotFound,
                             fmt::format("{}=\"{}\" matches several targets ({})", label, value,
                                         fmt::join(candidates, ", ")),
                             "add a dbrunbook_target label naming the target to the alerting rule");
    }
  }
  std::string tried = fmt::format("{}", fmt::join(rules.labels, ", "));
  return core::MakeError(
      core::ErrorCode::kNotFound,
      seen.empty() ? fmt::format("the alert has none of the labels {}", tried)
                   : fmt::format("no known target in {}", fmt::join(seen, ", ")),
      "add a label dbrunbook_target=\"<target name>\" to the alerting rule (or relabel), or "
      "list the label that names the target in the watch configuration");
}

watch::ExternalAlert AlertmanagerAlert::ToExternalAlert(core::WallTime now) const {
  watch::ExternalAlert alert;
  alert.target = target;
  alert.name = alertname;
  alert.firing = firing;
  alert.severity = severity;
  alert.summary = summary;
  alert.received = now;
  if (firing) {
    alert.at = starts_at;
    alert.ends_at = ends_at;  // Alertmanager's webhook: none (the zero time) while firing
  } else {
    alert.at = ends_at.value_or(now);
  }
  return alert;
}

size_t AlertmanagerPayload::matched() const {
  size_t n = 0;
  for (const auto& alert : alerts) n += alert.target.empty() ? 0 : 1;
  return n;
}

nlohmann::json AlertmanagerSummaryJson(const AlertmanagerPayload& payload) {
  json alerts = json::array();
  for (const auto& alert : payload.alerts) {
    json item = {{"alertname", alert.alertname},
                 {"status", alert.firing ? "firing" : "resolved"},
                 {"fingerprint", alert.fingerprint}};
    if (alert.target.empty()) {
      item["target"] = nullptr;
      item["unmatched"] = alert.unmatched_reason;
    } else {
      item["target"] = alert.target;
      item["matched_by"] = alert.matched_by;
    }
    alerts.push_back(std::move(item));
  }
  return {{"received", payload.alerts.size()},
          {"matched", payload.matched()},
          {"truncated", payload.truncated_alerts},
          {"alerts", std::move(alerts)}};
}

core::Result<AlertmanagerPayload> ParseAlertmanagerWebhook(std::string_view body,
                                                           const AlertTargetRules& rules) {
  auto parsed = ParseJsonBody(body, kWhat);
  if (!parsed) return core::Fail(parsed.error());
  const json& root = *parsed;
  if (!root.is_object()) {
    return core::Fail(
        core::Error{core::ErrorCode::kParse,
                    fmt::format("{}: expected a JSON object, found {}", kWhat, JsonTypeName(root)),
                    std::string(kHint),
                    0,
                    {}});
  }
  AlertmanagerPayload payload;
  {
    const auto it = root.find("version");
    if (it == root.end()) return core::Fail(ParseError("version", "missing"));
    // Alertmanager writes it as a string; a number 4 is the same payload.
    const bool four = (it->is_number_integer() && it->get<int64_t>() == 4) ||
                      (it->is_string() && it->get<std::string>() == "4");
    if (four) {
      payload.version = "4";
    } else {
      return core::Fail(ParseError(
          "version", fmt::format("expected \"4\" (the Alertmanager webhook payload version "
                                 "dbrunbook reads), found {}",
                                 JsonExcerpt(*it))));
    }
  }
  auto status = StatusMember(root, "");
  if (!status) return core::Fail(status.error());
  payload.status = *status;
  auto receiver = StringMember(root, "", "receiver", false);
  if (!receiver) return core::Fail(receiver.error());
  payload.receiver = *receiver;
  auto group_key = StringMember(root, "", "groupKey", false);
  if (!group_key) return core::Fail(group_key.error());
  payload.group_key = *group_key;
  auto external_url = StringMember(root, "", "externalURL", false);
  if (!external_url) return core::Fail(external_url.error());
  payload.external_url = *external_url;
  if (const auto it = root.find("truncatedAlerts"); it != root.end()) {
    if (!it->is_number_integer() && !it->is_number_unsigned()) {
      return core::Fail(Expected("truncatedAlerts", "a whole number", *it));
    }
    payload.truncated_alerts = it->get<int64_t>();
  }
  for (const auto& [key, out] : {std::pair{"groupLabels", &payload.group_labels},
                                 std::pair{"commonLabels", &payload.common_labels},
                                 std::pair{"commonAnnotations", &payload.common_annotations}}) {
    auto labels = LabelMember(root, "", key, false);
    if (!labels) return core::Fail(labels.error());
    *out = std::move(*labels);
  }

  const auto alerts = root.find("alerts");
  if (alerts == root.end()) return core::Fail(ParseError("alerts", "missing"));
  if (!alerts->is_array()) return core::Fail(Expected("alerts", "an array", *alerts));
  for (size_t i = 0; i < alerts->size(); ++i) {
    const std::string path = JsonPath("alerts", i);
    const json& item = (*alerts)[i];
    if (!item.is_object()) return core::Fail(Expected(path, "an object", item));
    AlertmanagerAlert alert;
    auto alert_status = StatusMember(item, path);
    if (!alert_status) return core::Fail(alert_status.error());
    alert.firing = *alert_status == "firing";
    auto labels = LabelMember(item, path, "labels", true);
    if (!labels) return core::Fail(labels.error());
    alert.labels = std::move(*labels);
    auto annotations = LabelMember(item, path, "annotations", false);
    if (!annotations) return core::Fail(annotations.error());
    auto starts = TimeMember(item, path, "startsAt", true);
    if (!starts) return core::Fail(starts.error());
    alert.starts_at = **starts;
    auto ends = TimeMember(item, path, "endsAt", false);
    if (!ends) return core::Fail(ends.error());
    if (*ends && !IsGoZeroTime(**ends)) alert.ends_at = **ends;
    auto fingerprint = StringMember(item, path, "fingerprint", false);
    if (!fingerprint) return core::Fail(fingerprint.error());
    alert.fingerprint = *fingerprint;
    auto generator = StringMember(item, path, "generatorURL", false);
    if (!generator) return core::Fail(generator.error());
    alert.generator_url = *generator;

    if (const auto it = alert.labels.find("alertname"); it != alert.labels.end()) {
      alert.alertname = it->second;
    }
    if (const auto it = alert.labels.find("severity");
        it != alert.labels.end() && !it->second.empty()) {
      alert.severity = it->second;
    }
    if (const auto it = annotations->find("summary"); it != annotations->end()) {
      alert.summary = it->second;
    } else if (const auto d = annotations->find("description"); d != annotations->end()) {
      alert.summary = d->second;
    }
    auto target = MatchAlertTarget(alert.labels, rules, &alert.matched_by);
    if (target) {
      alert.target = *target;
    } else {
      alert.unmatched_reason = target.error().message;
    }
    payload.alerts.push_back(std::move(alert));
  }
  return payload;
}

}  // namespace dbrunbook::api
