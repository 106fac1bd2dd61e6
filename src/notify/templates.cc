#include "notify/templates.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "digest/fingerprint.h"

namespace dbrunbook::notify {
namespace {

constexpr size_t kMaxRedactedStatement = 200;

int SeverityRank(std::string_view severity) {
  if (severity == "critical") return 2;
  if (severity == "warning") return 1;
  return 0;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// `scheme://user:password@host` -> `scheme://user:***@host`.
std::string MaskUrlCredentials(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t scheme = text.find("://", pos);
    if (scheme == std::string_view::npos) break;
    const size_t start = scheme + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '@' &&
           std::isspace(static_cast<unsigned char>(text[end])) == 0) {
      ++end;
    }
    const size_t colon = text.substr(start, end - start).find(':');
    out.append(text.substr(pos, start - pos));
    if (end < text.size() && text[end] == '@' && colon != std::string_view::npos) {
      out.append(text.substr(start, colon + 1));
      out.append("***");
    } else {
      out.append(text.substr(start, end - start));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

// Where an SQL statement starts in `text`: a statement keyword as a whole word, followed by
// whitespace and something only SQL has after it (a quote, '=', '(', '*', a digit, or one of
// FROM / SET / INTO / VALUES / TABLE / INDEX / USER / DATABASE / BY / AS / SELECT). "update" in
// prose ("the update is slow") is left alone.
std::optional<size_t> StatementStart(std::string_view text) {
  static const std::array<std::string_view, 16> kKeywords = {
      "select", "insert", "update", "delete",   "replace", "call", "with",  "set",
      "alter",  "create", "drop",   "truncate", "load",    "show", "grant", "explain"};
  static const std::array<std::string_view, 11> kFollowers = {
      "from", "set", "into", "values", "table", "index", "user", "database", "by", "as", "select"};
  const std::string lower = core::ToLower(text);
  for (size_t i = 0; i < lower.size(); ++i) {
    if (i > 0 && IsWordChar(lower[i - 1])) continue;
    for (std::string_view keyword : kKeywords) {
      if (lower.compare(i, keyword.size(), keyword) != 0) continue;
      const size_t after = i + keyword.size();
      if (after >= lower.size() || std::isspace(static_cast<unsigned char>(lower[after])) == 0) {
        continue;
      }
      const std::string_view rest = std::string_view(lower).substr(after);
      if (rest.find_first_of("'\"`=(*0123456789") != std::string_view::npos) return i;
      for (std::string_view follower : kFollowers) {
        size_t at = rest.find(follower);
        while (at != std::string_view::npos) {
          const bool starts = at == 0 || !IsWordChar(rest[at - 1]);
          const bool ends =
              at + follower.size() >= rest.size() || !IsWordChar(rest[at + follower.size()]);
          if (starts && ends) return i;
          at = rest.find(follower, at + 1);
        }
      }
    }
  }
  return std::nullopt;
}

// Every '...' and "..." literal (backslash and doubled-quote escapes) becomes ?. A quote right
// after a letter or digit is an apostrophe ("runbook's", "don't"), not the start of a literal:
// in SQL a literal follows a space, an operator, a comma or a parenthesis.
std::string MaskQuotedLiterals(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    bool apostrophe = i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1])) != 0;
    if (apostrophe) {
      // ... unless the word before introduces a literal: X'41', N'x', B'01', _utf8mb4'x'.
      size_t start = i;
      while (start > 0 && IsWordChar(text[start - 1])) --start;
      const std::string_view word = text.substr(start, i - start);
      const bool introducer = word == "x" || word == "X" || word == "n" || word == "N" ||
                              word == "b" || word == "B" || word.front() == '_';
      apostrophe = !introducer;
    }
    if ((c != '\'' && c != '"') || apostrophe) {
      out += c;
      continue;
    }
    size_t j = i + 1;
    bool closed = false;
    while (j < text.size()) {
      if (text[j] == '\\') {
        j += 2;
        continue;
      }
      if (text[j] == c) {
        if (j + 1 < text.size() && text[j + 1] == c) {
          j += 2;
          continue;
        }
        closed = true;
        break;
      }
      ++j;
    }
    if (!closed) {
      // An unterminated literal (a statement cut short): everything after the quote goes.
      out += "?";
      return out;
    }
    out += "?";
    i = j;
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (item.empty()) continue;
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string ServicesOf(const std::map<std::string, std::string>& tags) {
  std::vector<std::string> services;
  for (const char* key : {"service", "services", "application", "app"}) {
    const auto it = tags.find(key);
    if (it != tags.end() && !it->second.empty()) services.push_back(it->second);
  }
  if (services.empty()) {
    for (const auto& [key, value] : tags) services.push_back(fmt::format("{}={}", key, value));
  }
  return services.empty() ? "not recorded (no service tag on the target)" : Join(services, ", ");
}

std::string ResolutionOf(const watch::Incident& incident, bool redact) {
  std::vector<std::string> parts;
  for (const auto& action : incident.actions) {
    if (action.state != watch::ActionState::kApplied &&
        action.state != watch::ActionState::kVerified) {
      continue;
    }
    std::string part = fmt::format("{} {}", action.action, watch::ActionStateName(action.state));
    if (!action.detail.empty()) {
      part += fmt::format(" ({})", core::OneLine(SafeText(action.detail, redact), 160));
    }
    parts.push_back(std::move(part));
  }
  if (!incident.open() && !incident.resolution.empty()) {
    parts.push_back(SafeText(incident.resolution, redact));
  }
  if (parts.empty())
    return incident.open() ? "in progress: no action applied yet" : "no action applied";
  return Join(parts, "; ");
}

std::string RootCauseOf(const watch::Incident& incident, bool redact) {
  const watch::FindingRef* top = nullptr;
  for (const auto& finding : incident.findings) {
    if (top == nullptr || SeverityRank(finding.severity) > SeverityRank(top->severity)) {
      top = &finding;
    }
  }
  if (top == nullptr) {
    return incident.diagnoses == 0 ? "under investigation" : "not identified by the diagnosis";
  }
  return core::OneLine(SafeText(top->title, redact), 240);
}

std::string ContactText(const runbook::Contact& contact) {
  return contact.role.empty() ? contact.name : fmt::format("{} ({})", contact.name, contact.role);
}

int ReachedLevel(const MessageContext& context) { return std::max(1, context.escalation_level); }

std::vector<const runbook::Contact*> ContactsFor(MessageKind kind, const MessageContext& context) {
  std::vector<const runbook::Contact*> out;
  for (const auto& contact : context.contacts) {
    const bool wanted = kind == MessageKind::kEscalation ? contact.level == context.escalation_level
                                                         : contact.level <= ReachedLevel(context);
    if (wanted) out.push_back(&contact);
  }
  return out;
}

std::string DurationOf(const MessageContext& context) {
  const core::WallTime end = context.resolved_at.value_or(context.now);
  const core::Duration elapsed =
      end > context.opened_at ? end - context.opened_at : core::Duration{};
  // Whole seconds for people: "7s", "4m 12s", "2h 14m".
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed);
  if (seconds.count() < 60) return fmt::format("{}s", seconds.count());
  return core::FormatDuration(seconds);
}

std::string NextUpdateText(const MessageContext& context) {
  if (context.resolved_at || context.status == "resolved") return "none (resolved)";
  if (context.update_every.count() <= 0) return "none scheduled";
  return fmt::format("{} (in {})", ClockText(context.now + context.update_every, context.now),
                     runbook::DurationText(context.update_every));
}

std::string ImpactOf(const MessageContext& context) {
  std::string impact = fmt::format("{}: {}", context.severity, context.issue);
  if (context.affected_services.rfind("not recorded", 0) != 0) {
    impact += fmt::format("; affected services: {}", context.affected_services);
  }
  return impact;
}

std::string Value(std::string_view name, const MessageContext& c) {
  if (name == "target") return c.target;
  if (name == "impact") return ImpactOf(c);
  if (name == "issue") return c.issue;
  if (name == "status") return c.status;
  if (name == "duration") return DurationOf(c);
  if (name == "next_update") return NextUpdateText(c);
  if (name == "root_cause") return c.root_cause;
  if (name == "resolution") return c.resolution;
  if (name == "affected_services") return c.affected_services;
  if (name == "severity") return c.severity;
  if (name == "incident_id") return c.incident_id;
  if (name == "opened_at") return core::FormatRfc3339(c.opened_at);
  if (name == "resolved_at") return c.resolved_at ? core::FormatRfc3339(*c.resolved_at) : "-";
  if (name == "phase") return c.phase;
  if (name == "triggers") return Join(c.triggers, ", ");
  if (name == "escalation_level") return std::to_string(c.escalation_level);
  if (name == "escalation_rule") return c.escalation_rule.empty() ? "-" : c.escalation_rule;
  if (name == "escalation_reason") {
    return c.escalation_reason.empty() ? "-" : SafeText(c.escalation_reason, c.redact_queries);
  }
  if (name == "contacts") {
    std::vector<std::string> names;
    const MessageKind kind =
        c.escalation_rule.empty() ? MessageKind::kAlert : MessageKind::kEscalation;
    for (const runbook::Contact* contact : ContactsFor(kind, c)) {
      names.push_back(ContactText(*contact));
    }
    return names.empty() ? "none configured" : Join(names, ", ");
  }
  if (name == "acked_by") return c.acked_by.empty() ? "someone" : c.acked_by;
  if (name == "update_number") return std::to_string(c.update_number);
  if (name == "prevention") return c.prevention.empty() ? "-" : Join(c.prevention, "; ");
  if (name == "runbook_name") return c.runbook_name;
  if (name == "runbook_version") return c.runbook_version;
  return fmt::format("{{{}}}", name);
}

// "Label: ...{x}..." lines whose label is plain text are the message's fields.
std::vector<std::pair<std::string, std::string>> Fields(std::string_view body,
                                                        const MessageContext& context) {
  std::vector<std::pair<std::string, std::string>> fields;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0 || colon > 40) continue;
    const std::string_view label = line.substr(0, colon);
    if (label.find_first_of("{}") != std::string_view::npos) continue;
    const std::string_view rest = line.substr(colon + 2);
    if (rest.find('{') == std::string_view::npos) continue;
    fields.emplace_back(std::string(label), RenderTemplate(rest, context));
  }
  return fields;
}

}  // namespace

std::string_view StatusOf(watch::Phase phase) {
  switch (phase) {
    case watch::Phase::kAssess:
    case watch::Phase::kInvestigate:
      return "investigating";
    case watch::Phase::kMitigate:
      return "mitigating";
    case watch::Phase::kVerify:
      return "monitored";
    case watch::Phase::kResolved:
      return "resolved";
  }
  return "investigating";
}

std::string ClockText(core::WallTime at, core::WallTime now) {
  std::string full = core::FormatRfc3339(at);  // 2026-11-26T15:38:28.123Z
  const std::string today = core::FormatRfc3339(now).substr(0, 10);
  if (full.size() < 16) return full;
  if (full.substr(0, 10) == today) return full.substr(11, 5) + " UTC";
  return full.substr(0, 10) + " " + full.substr(11, 5) + " UTC";
}

std::string RedactText(std::string_view text) {
  std::string out = MaskUrlCredentials(text);
  if (const auto start = StatementStart(out)) {
    digest::FingerprintOptions options;
    options.abstract = true;
    const std::string statement = out.substr(*start);
    out = out.substr(0, *start) +
          core::OneLine(digest::Fingerprint(statement, options), kMaxRedactedStatement);
  }
  return MaskQuotedLiterals(out);
}

std::string SafeText(std::string_view text, bool redact_queries) {
  if (redact_queries) return RedactText(text);
  // Statement text kept as written, except a statement that can carry a password.
  const std::string lower = core::ToLower(text);
  if (lower.find("identified") != std::string::npos ||
      lower.find("password") != std::string::npos) {
    return RedactText(text);
  }
  return MaskUrlCredentials(text);
}

MessageContext BuildContext(const watch::Incident& incident, const runbook::Runbook& runbook,
                            const std::map<std::string, std::string>& target_tags,
                            core::WallTime now) {
  MessageContext c;
  c.incident_id = std::to_string(incident.id);
  c.target = incident.target;
  c.severity = incident.severity;
  c.phase = std::string(watch::PhaseName(incident.phase));
  c.status = std::string(StatusOf(incident.phase));
  c.opened_at = incident.opened_at;
  c.resolved_at = incident.resolved_at;
  c.now = now;
  std::vector<std::string> summaries;
  for (const auto& name : incident.triggers) {
    const runbook::TriggerSpec* spec = runbook.FindTrigger(name);
    std::string summary = spec != nullptr && !spec->summary.empty() ? spec->summary : name;
    if (std::find(summaries.begin(), summaries.end(), summary) == summaries.end()) {
      summaries.push_back(std::move(summary));
    }
  }
  c.issue = summaries.empty() ? "database performance degraded" : Join(summaries, "; ");
  c.affected_services = ServicesOf(target_tags);
  c.redact_queries = runbook.messages.redact_queries;
  c.root_cause = RootCauseOf(incident, c.redact_queries);
  c.resolution = ResolutionOf(incident, c.redact_queries);
  c.triggers = incident.triggers;
  c.escalation_level = incident.escalation_level;
  c.contacts = runbook.contacts;
  c.acked_by = incident.acked_by;
  c.prevention = incident.prevention.empty() ? runbook.prevention : incident.prevention;
  c.runbook_name = runbook.metadata.name;
  c.runbook_version = runbook.metadata.version;
  c.update_every = runbook.messages.update_every;
  return c;
}

std::string RenderTemplate(std::string_view text, const MessageContext& context) {
  auto parts = runbook::SplitTemplate(text);
  if (!parts) return std::string(text);
  std::string out;
  for (const auto& part : *parts) {
    out += part.placeholder ? Value(part.text, context) : part.text;
  }
  return out;
}

Message Render(MessageKind kind, const MessageContext& context,
               const runbook::MessageTemplates& templates) {
  Message m;
  m.kind = kind;
  m.incident_id = context.incident_id;
  m.target = context.target;
  if (kind == MessageKind::kTest) {
    m.severity = Severity::kInfo;
    m.key = "test:" + context.target;
    m.title = fmt::format("dbrunbook test message for {}", context.target);
    m.text = m.title + "\nIf you can read this, the channel works.";
    return m;
  }
  m.dedup_key = "dbrunbook-" + context.incident_id;
  std::string n = "1";
  if (kind == MessageKind::kUpdate) n = std::to_string(context.update_number);
  if (kind == MessageKind::kEscalation) {
    n = context.escalation_rule.empty() ? std::to_string(context.escalation_level)
                                        : context.escalation_rule;
  }
  m.key = fmt::format("{}:{}:{}", context.incident_id, MessageKindName(kind), n);
  const bool informational = kind == MessageKind::kAcknowledged || kind == MessageKind::kResolution;
  m.severity = informational                      ? Severity::kInfo
               : context.severity == "critical"   ? Severity::kCritical
               : kind == MessageKind::kEscalation ? Severity::kCritical
                                                  : Severity::kWarning;
  runbook::MessageTemplateKind template_kind = runbook::MessageTemplateKind::kAlert;
  switch (kind) {
    case MessageKind::kUpdate:
      template_kind = runbook::MessageTemplateKind::kUpdate;
      break;
    case MessageKind::kEscalation:
      template_kind = runbook::MessageTemplateKind::kEscalation;
      break;
    case MessageKind::kAcknowledged:
      template_kind = runbook::MessageTemplateKind::kAcknowledged;
      break;
    case MessageKind::kResolution:
      template_kind = runbook::MessageTemplateKind::kResolution;
      break;
    default:
      break;
  }
  const runbook::MessageTemplate& tpl = templates.Of(template_kind);
  m.title = core::OneLine(RenderTemplate(tpl.title, context), 300);
  m.text = RenderTemplate(tpl.body, context);
  m.fields = Fields(tpl.body, context);
  for (const runbook::Contact* contact : ContactsFor(kind, context)) {
    for (const auto& channel : contact->channels) {
      if (std::find(m.channels.begin(), m.channels.end(), channel) == m.channels.end()) {
        m.channels.push_back(channel);
      }
    }
  }
  return m;
}

void MessageCue::ApplyTo(MessageContext& context) const {
  if (kind != MessageKind::kEscalation) return;
  context.escalation_rule = escalation_rule;
  context.escalation_level = escalation_level;
  context.escalation_reason = escalation_reason;
}

std::optional<MessageCue> MessageCueFor(const watch::Event& event) {
  MessageCue cue;
  if (event.kind == "opened") {
    cue.kind = MessageKind::kAlert;
  } else if (event.kind == "ack") {
    cue.kind = MessageKind::kAcknowledged;
  } else if (event.kind == "resolved") {
    cue.kind = MessageKind::kResolution;
  } else if (event.kind == "escalated") {
    cue.kind = MessageKind::kEscalation;
    const auto& data = event.data;
    if (data.is_object()) {
      if (data.contains("rule") && data["rule"].is_string()) {
        cue.escalation_rule = data["rule"].get<std::string>();
      }
      if (data.contains("level") && data["level"].is_number_integer()) {
        cue.escalation_level = data["level"].get<int>();
      }
      if (data.contains("reason") && data["reason"].is_string()) {
        cue.escalation_reason = data["reason"].get<std::string>();
      }
    }
  } else {
    return std::nullopt;
  }
  return cue;
}

std::optional<core::WallTime> NextUpdateDue(const watch::Incident& incident,
                                            std::optional<core::WallTime> last_sent,
                                            const runbook::MessageTemplates& templates) {
  if (!incident.open() || !last_sent || templates.update_every.count() <= 0) return std::nullopt;
  return *last_sent + templates.update_every;
}

}  // namespace dbrunbook::notify
