// The runbook's message templates: the built-in defaults, the placeholder names and the
// template syntax ({name}, {{ and }}). Parsed and validated with the rest of the file in
// runbook.cc; rendered by notify/templates.cc.
#include <fmt/format.h>

#include "runbook/runbook.h"

namespace dbrunbook::runbook {

std::string_view MessageTemplateKindName(MessageTemplateKind kind) {
  switch (kind) {
    case MessageTemplateKind::kAlert:
      return "alert";
    case MessageTemplateKind::kUpdate:
      return "update";
    case MessageTemplateKind::kEscalation:
      return "escalation";
    case MessageTemplateKind::kAcknowledged:
      return "acknowledged";
    case MessageTemplateKind::kResolution:
      return "resolution";
  }
  return "alert";
}

const MessageTemplate& MessageTemplates::Of(MessageTemplateKind kind) const {
  switch (kind) {
    case MessageTemplateKind::kAlert:
      return alert;
    case MessageTemplateKind::kUpdate:
      return update;
    case MessageTemplateKind::kEscalation:
      return escalation;
    case MessageTemplateKind::kAcknowledged:
      return acknowledged;
    case MessageTemplateKind::kResolution:
      return resolution;
  }
  return alert;
}

MessageTemplate& MessageTemplates::Of(MessageTemplateKind kind) {
  return const_cast<MessageTemplate&>(std::as_const(*this).Of(kind));
}

// Keep in step with the `messages:` section of runbooks/database-performance.yaml (a test
// compares them).
MessageTemplates DefaultMessageTemplates() {
  MessageTemplates t;
  t.alert.title = "\U0001F6A8 Database performance alert: {target}";
  t.alert.body =
      "\U0001F6A8 Database performance alert\n"
      "Database: {target}\n"
      "Impact: {impact}\n"
      "Current status: {status}\n"
      "Duration: {duration}\n"
      "Next update: {next_update}";
  t.update.title = "Update {update_number}: database performance issue on {target} ({status})";
  t.update.body =
      "Update {update_number} on the database performance issue\n"
      "Database: {target}\n"
      "Impact: {impact}\n"
      "Current status: {status}\n"
      "Duration: {duration}\n"
      "Root cause: {root_cause}\n"
      "Next update: {next_update}";
  t.escalation.title =
      "Escalation level {escalation_level}: database performance issue on {target}";
  t.escalation.body =
      "Escalated to level {escalation_level}: {escalation_reason}\n"
      "Database: {target}\n"
      "Impact: {impact}\n"
      "Current status: {status}\n"
      "Duration: {duration}\n"
      "Root cause: {root_cause}\n"
      "Contacts: {contacts}";
  t.acknowledged.title = "Acknowledged: database performance issue on {target}";
  t.acknowledged.body =
      "{acked_by} is working on it\n"
      "Database: {target}\n"
      "Current status: {status}\n"
      "Duration: {duration}";
  t.resolution.title = "\u2705 Resolved: database performance issue on {target}";
  t.resolution.body =
      "\u2705 Resolved: database performance issue\n"
      "Issue: {issue}\n"
      "Duration: {duration}\n"
      "Root cause: {root_cause}\n"
      "Resolution: {resolution}\n"
      "Impact: {impact}";
  return t;
}

const std::vector<std::string>& MessagePlaceholders() {
  static const std::vector<std::string> kNames = {"acked_by",
                                                  "affected_services",
                                                  "contacts",
                                                  "duration",
                                                  "escalation_level",
                                                  "escalation_reason",
                                                  "escalation_rule",
                                                  "impact",
                                                  "incident_id",
                                                  "issue",
                                                  "next_update",
                                                  "opened_at",
                                                  "phase",
                                                  "prevention",
                                                  "resolution",
                                                  "resolved_at",
                                                  "root_cause",
                                                  "runbook_name",
                                                  "runbook_version",
                                                  "severity",
                                                  "status",
                                                  "target",
                                                  "triggers",
                                                  "update_number"};
  return kNames;
}

tl::expected<std::vector<TemplatePart>, std::string> SplitTemplate(std::string_view text) {
  std::vector<TemplatePart> parts;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) parts.push_back({false, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      return tl::unexpected(fmt::format(
          "a '}}' without its '{{' at character {} (write }}}} for a literal brace)", i + 1));
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      return tl::unexpected(fmt::format(
          "a '{{' without its '}}' at character {} (write {{{{ for a literal brace)", i + 1));
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    const bool valid =
        !name.empty() && name.size() <= 64 &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
    if (!valid) {
      return tl::unexpected(
          fmt::format("'{{{}}}' is not a placeholder (names are lower case, digits and '_'; "
                      "write {{{{ for a literal brace)",
                      name));
    }
    flush();
    parts.push_back({true, std::string(name)});
    i = close;
  }
  flush();
  return parts;
}

}  // namespace dbrunbook::runbook
