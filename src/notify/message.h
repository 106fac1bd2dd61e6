// A message of the runbook's communication (issue 8): what the templates render
// (notify/templates.*) and what every channel delivers (notify/channels.*) through the
// store's durable outbox. Plain data, no I/O; shared by the renderer, the channels, the
// outbox and the incident report.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dbrunbook::notify {

// Why a message is sent. The PagerDuty event action follows from it: kAlert, kUpdate and
// kEscalation trigger (the same dedup_key, so an incident is one PagerDuty incident),
// kAcknowledged acknowledges, kResolution resolves; kTest is a one-off trigger.
enum class MessageKind { kAlert, kUpdate, kEscalation, kAcknowledged, kResolution, kTest };

// alert, update, escalation, acknowledged, resolution, test: the name in message keys, the
// outbox and every channel's payload.
constexpr std::string_view MessageKindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kAlert:
      return "alert";
    case MessageKind::kUpdate:
      return "update";
    case MessageKind::kEscalation:
      return "escalation";
    case MessageKind::kAcknowledged:
      return "acknowledged";
    case MessageKind::kResolution:
      return "resolution";
    case MessageKind::kTest:
      return "test";
  }
  return "alert";
}

enum class Severity { kInfo, kWarning, kCritical };

struct Message {
  MessageKind kind = MessageKind::kAlert;
  Severity severity = Severity::kWarning;
  std::string incident_id;  // empty for a test message
  std::string target;       // the target's name (the database)
  // One key per incident and purpose: the outbox's idempotency key (a message is enqueued
  // once per key) and, for PagerDuty, the incident's dedup_key (one per incident, not per
  // message): see dedup_key.
  std::string key;
  std::string dedup_key;  // "dbrunbook-<incident_id>" (PagerDuty); the same for all of an incident
  std::string title;      // one line, UTF-8: "🚨 Database performance alert: orders-primary"
  std::string text;       // the whole rendered message, UTF-8, lines separated by '\n'
  // The template's fields in order (label, value), for channels with structure (Slack
  // blocks, PagerDuty custom_details, the webhook's JSON): "Database", "Impact", "Status",
  // "Duration", "Next update", "Root cause", "Resolution", "Affected services".
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::string> channels;  // channel names it goes to (from the runbook's contacts)
};

}  // namespace dbrunbook::notify
