// The runbook's messages (issue 8), rendered from its templates (runbook::MessageTemplates,
// the `messages:` section of the runbook file) and an incident: the alert, status updates,
// escalations, the acknowledgement and the resolution notification. Pure functions of their
// input: no I/O, no clock (the caller passes `now`); a re-render of the same incident state
// gives the same text and the same keys, so a daemon restarted mid-incident enqueues nothing
// twice (the outbox's idempotency key is Message::key).
//
// What never reaches a message: credentials (the context holds no connection settings; a
// `scheme://user:password@` in any text becomes `scheme://user:***@`) and customer data in
// statement text: finding titles and action outcomes go through RedactText, which reduces SQL
// to its abstract fingerprint (src/digest) and every quoted literal to `?`.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "notify/message.h"
#include "runbook/runbook.h"
#include "watch/engine.h"

namespace dbrunbook::notify {

// Everything a template can say about an incident, as text ready to print. Built by
// BuildContext; the daemon sets update_number (updates) and escalation_* (escalations) before
// rendering those kinds.
struct MessageContext {
  std::string incident_id;
  std::string target;
  std::string severity;  // "warning", "critical"
  std::string phase;     // the engine's phase: "assess" ... "resolved"
  std::string status;    // investigating / mitigating / monitored / resolved
  core::WallTime opened_at{};
  std::optional<core::WallTime> resolved_at;
  core::WallTime now{};
  std::string issue;              // the triggers' summaries ("; "), or their names
  std::string affected_services;  // from the target's tags; "not recorded" without
  std::string root_cause;         // the most severe finding's title, redacted
  std::string resolution;         // actions applied / verified, and how it ended
  std::vector<std::string> triggers;
  int escalation_level = 0;
  std::string escalation_rule;    // the rule that fired (escalation messages)
  std::string escalation_reason;  // why (the engine's Effect::reason)
  // The runbook's escalation chain. {contacts} lists those of escalation_level when
  // escalation_rule is set (an escalation message), else those of levels 1 .. max(1, level).
  std::vector<runbook::Contact> contacts;
  std::string acked_by;
  int update_number = 0;  // 1 for the first status update
  std::vector<std::string> prevention;
  std::string runbook_name;
  std::string runbook_version;
  core::Duration update_every{};  // the templates' promise; 0: no status updates
  bool redact_queries = true;     // the templates' redact_queries (credentials: always masked)
};

// investigating (assess, investigate), mitigating (mitigate), monitored (verify), resolved.
std::string_view StatusOf(watch::Phase phase);

// The context of `incident` at `now`. `target_tags` are the target's tags from dbrunbook.yaml
// (affected services: the values of the keys service, services, application and app, in that
// order; else every tag as key=value).
MessageContext BuildContext(const watch::Incident& incident, const runbook::Runbook& runbook,
                            const std::map<std::string, std::string>& target_tags,
                            core::WallTime now);

// The message of `kind` for the context. Keys: Message::dedup_key "dbrunbook-<id>";
// Message::key "<id>:<kind>:<n>" with n the update number (updates), the escalation rule's
// name (escalations), else 1. Channels: an escalation goes to the contacts of its level; every
// other kind to the contacts of levels 1 .. max(1, escalation_level) (who has been told so
// far). Severity: the incident's for alert, update and escalation; info for acknowledged and
// resolution. kTest renders a fixed test message for `context.target`.
Message Render(MessageKind kind, const MessageContext& context,
               const runbook::MessageTemplates& templates);

// One template rendered (title or body): each {placeholder} replaced by its value. Unknown
// names (the runbook parser rejects them, so only a hand-built template has one) are left as
// written.
std::string RenderTemplate(std::string_view text, const MessageContext& context);

// The message an engine event calls for: "opened" -> alert, "escalated" -> escalation (with the
// rule, its level and the reason from the event's data), "ack" -> acknowledged, "resolved" ->
// resolution; nullopt for every other event. Status updates come from NextUpdateDue, not from
// events.
struct MessageCue {
  MessageKind kind = MessageKind::kAlert;
  std::string escalation_rule;  // kEscalation
  int escalation_level = 0;     // kEscalation: the rule's level
  std::string escalation_reason;
  // Sets the escalation fields of `context` (for kEscalation; nothing otherwise).
  void ApplyTo(MessageContext& context) const;
};
std::optional<MessageCue> MessageCueFor(const watch::Event& event);

// When the next status update of `incident` is due: `last_sent` (the alert's or the last
// update's time) + templates.update_every. nullopt when the incident is resolved, or updates
// are off (update_every 0), or nothing was sent yet (no promise was made).
std::optional<core::WallTime> NextUpdateDue(const watch::Incident& incident,
                                            std::optional<core::WallTime> last_sent,
                                            const runbook::MessageTemplates& templates);

// Text that may carry statement text or credentials, made safe for chat: URL credentials
// masked, an SQL statement (from its first keyword: SELECT, INSERT, UPDATE, DELETE, REPLACE,
// CALL, WITH, SET, ALTER, CREATE, DROP, GRANT, TRUNCATE, LOAD, SHOW, EXPLAIN) reduced to its
// abstract fingerprint, and any quoted literal left replaced by ?. Text without any of them
// is returned unchanged.
std::string RedactText(std::string_view text);
// RedactText when `redact_queries`, else only URL credentials masked (messages: redact_queries:
// false keeps statement text as the server ran it).
std::string SafeText(std::string_view text, bool redact_queries);

// "10:42 UTC" (today) or "2026-11-28 10:42 UTC".
std::string ClockText(core::WallTime at, core::WallTime now);

}  // namespace dbrunbook::notify
