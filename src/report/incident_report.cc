#include "report/incident_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "notify/templates.h"
#include "report/svg_chart.h"

namespace dbrunbook::report {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxProcesslistRows = 30;
constexpr size_t kMaxInnodbLines = 40;
constexpr int kAuditSearched = 5000;

int64_t EpochMs(core::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

core::WallTime FromMs(int64_t ms) { return core::WallTime(std::chrono::milliseconds(ms)); }

int PhaseRank(std::string_view phase) {
  static constexpr std::array<std::string_view, 5> kOrder = {"assess", "investigate", "mitigate",
                                                             "verify", "resolved"};
  for (size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == phase) return static_cast<int>(i);
  }
  return -1;
}

std::optional<core::WallTime> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto t = core::ParseRfc3339(text);
  if (!t) return std::nullopt;
  return *t;
}

std::string Time(core::WallTime t) { return core::FormatRfc3339(t); }

// "10:04:12" for a time on the incident's opening day, else the full RFC 3339 text.
std::string ShortTime(core::WallTime t, core::WallTime opened) {
  std::string full = Time(t);
  if (full.substr(0, 10) == Time(opened).substr(0, 10) && full.size() >= 19) {
    return full.substr(11, 8);
  }
  return full;
}

std::string Elapsed(double seconds) {
  if (seconds < 0) return "-" + Elapsed(-seconds);
  const auto s = static_cast<int64_t>(seconds);
  if (s < 60) return fmt::format("+{}s", s);
  if (s < 3600) return fmt::format("+{}m{:02}s", s / 60, s % 60);
  return fmt::format("+{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string HumanDuration(core::Duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d);
  if (s.count() < 60) return fmt::format("{}s", s.count());
  return core::FormatDuration(s);
}

std::string ValueText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string Num(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{:.2f}", v);
}

// A line of InnoDB's status that is statement text (it starts with an SQL keyword) is reduced
// to its fingerprint; the rest (transaction and lock lines) stays as InnoDB wrote it.
std::string RedactInnodbLine(std::string_view line) {
  static constexpr std::array<std::string_view, 12> kStarts = {
      "select", "insert", "update", "delete", "replace", "call",
      "with",   "set",    "alter",  "create", "drop",    "load"};
  size_t end = 0;
  while (end < line.size() && std::isalpha(static_cast<unsigned char>(line[end])) != 0) ++end;
  const std::string first = core::ToLower(line.substr(0, end));
  for (std::string_view start : kStarts) {
    if (first == start) return notify::RedactText(line);
  }
  return std::string(line);
}

std::string InnodbExcerpt(const std::string& status) {
  // The TRANSACTIONS section (who holds and waits for what), else the start.
  std::string_view text = status;
  const size_t at = status.find("\nTRANSACTIONS\n");
  if (at != std::string::npos) {
    const size_t body = status.find('\n', status.find('\n', at + 1) + 1);
    text = std::string_view(status).substr(body == std::string::npos ? at : body + 1);
    const size_t next = text.find("------------\n");
    if (next != std::string_view::npos) text = text.substr(0, next);
  }
  std::string out;
  size_t lines = 0;
  size_t pos = 0;
  while (pos < text.size() && lines < kMaxInnodbLines) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    out += RedactInnodbLine(text.substr(pos, end - pos));
    out += '\n';
    ++lines;
    pos = end + 1;
  }
  if (pos < text.size()) out += "...\n";
  return out;
}

const std::vector<std::string>& KeyStatusNames() {
  static const std::vector<std::string> kNames = {"Threads_running",
                                                  "Threads_connected",
                                                  "Max_used_connections",
                                                  "Questions",
                                                  "Slow_queries",
                                                  "Innodb_row_lock_current_waits",
                                                  "Innodb_row_lock_waits",
                                                  "Innodb_row_lock_time_avg",
                                                  "Aborted_connects",
                                                  "Created_tmp_disk_tables",
                                                  "Innodb_buffer_pool_wait_free",
                                                  "Uptime"};
  return kNames;
}

void ReadEvidence(const IncidentReportInput& input, IncidentReport& r) {
  if (input.evidence.empty()) return;
  // The first snapshot: what the server looked like when the incident opened.
  r.evidence_at = input.evidence.front().at;
  for (const auto& e : input.evidence) {
    if (e.at != r.evidence_at) continue;
    r.evidence_kinds.push_back(e.kind);
    if (e.kind == "processlist") {
      json rows = json::parse(e.content, nullptr, false);
      if (!rows.is_array()) continue;
      std::vector<json> active;
      for (auto& row : rows) {
        if (!row.is_object()) continue;
        if (row.value("command", "") == "Sleep" || row.value("command", "") == "Daemon") continue;
        if (row.contains("statement") && row["statement"].is_string()) {
          row["statement"] = notify::RedactText(row["statement"].get<std::string>());
        }
        active.push_back(row);
      }
      std::stable_sort(active.begin(), active.end(), [](const json& a, const json& b) {
        return a.value("time", 0.0) > b.value("time", 0.0);
      });
      if (active.size() > kMaxProcesslistRows) active.resize(kMaxProcesslistRows);
      r.processlist = json(active);
    } else if (e.kind == "lock_waits") {
      json rows = json::parse(e.content, nullptr, false);
      if (rows.is_array()) r.lock_waits = rows;
    } else if (e.kind == "innodb_status") {
      r.innodb_excerpt = InnodbExcerpt(e.content);
    } else if (e.kind == "status") {
      json values = json::parse(e.content, nullptr, false);
      if (!values.is_object()) continue;
      for (const auto& name : KeyStatusNames()) {
        for (const auto& [key, value] : values.items()) {
          if (core::ToLower(key) == core::ToLower(name)) {
            r.key_status.emplace_back(name, ValueText(value));
            break;
          }
        }
      }
    }
  }
}

void ReadDeadlines(const IncidentReportInput& input, IncidentReport& r) {
  const core::WallTime opened = r.incident.opened_at;
  const runbook::Phases& phases = input.runbook.phases;
  const std::array<std::pair<std::string, core::Duration>, 3> deadlines = {
      std::pair{std::string("assess"), phases.assess_deadline},
      std::pair{std::string("investigate"), phases.investigate_deadline},
      std::pair{std::string("mitigate"), phases.mitigate_deadline}};
  for (const auto& [phase, deadline] : deadlines) {
    DeadlineRow row;
    row.phase = phase;
    row.deadline = deadline;
    row.due_at = opened + deadline;
    row.entered = phase == "assess";
    bool missed_event = false;
    for (const auto& e : input.timeline) {
      const json data = json::parse(e.data_json, nullptr, false);
      const auto at = ParseTime(e.at);
      if (!at) continue;
      if (e.kind == "phase" && data.is_object()) {
        const std::string to = data.value("to", "");
        if (to == phase) row.entered = true;
        if (!row.reached_at && PhaseRank(to) > PhaseRank(phase)) row.reached_at = *at;
      } else if (e.kind == "resolved" && !row.reached_at) {
        row.reached_at = *at;
      } else if (e.kind == "deadline.missed" && data.is_object() &&
                 data.value("phase", "") == phase) {
        missed_event = true;
      }
    }
    if (!row.reached_at && r.incident.resolved_at) row.reached_at = r.incident.resolved_at;
    if (row.reached_at) {
      row.result = (*row.reached_at - opened <= deadline && !missed_event) ? "met" : "missed";
    } else {
      row.result = (missed_event || input.generated_at - opened > deadline) ? "overdue" : "open";
    }
    r.deadlines.push_back(std::move(row));
  }
}

void ReadTimeline(const IncidentReportInput& input, IncidentReport& r) {
  std::string phase = "assess";
  for (const auto& e : input.timeline) {
    const auto at = ParseTime(e.at);
    if (!at) continue;
    const json data = json::parse(e.data_json, nullptr, false);
    if (e.kind == "phase" && data.is_object() && data.contains("to")) {
      phase = data.value("to", phase);
    } else if (e.kind == "resolved") {
      phase = "resolved";
    }
    TimelineRow row;
    row.at = *at;
    row.elapsed_seconds = core::ToSeconds(*at - r.incident.opened_at);
    row.phase = phase;
    row.kind = e.kind;
    row.text = core::OneLine(notify::RedactText(e.text), 400);
    r.timeline.push_back(std::move(row));
  }
}

void ReadFindings(const IncidentReportInput& input, IncidentReport& r) {
  for (const auto& f : input.findings) {
    FindingRow row;
    row.diagnosis = f.diagnosis;
    row.at = f.at;
    row.severity = f.severity;
    row.code = f.code;
    row.title = core::OneLine(notify::RedactText(f.title), 300);
    const json doc = json::parse(f.finding_json, nullptr, false);
    if (doc.is_object()) {
      row.detail = core::OneLine(notify::RedactText(ValueText(doc.value("detail", json()))), 400);
      const json suggestions = doc.value("suggestions", json::array());
      if (suggestions.is_array() && !suggestions.empty() && suggestions[0].is_object()) {
        row.next_step =
            core::OneLine(notify::RedactText(ValueText(suggestions[0].value("text", json()))), 300);
      }
    }
    r.findings.push_back(std::move(row));
  }
}

void ReadSignals(const IncidentReportInput& input, IncidentReport& r) {
  const int64_t opened = EpochMs(r.incident.opened_at);
  const int64_t end = EpochMs(r.incident.resolved_at.value_or(input.generated_at));
  // As much before and after as the incident lasted (30 s to kChartMargin), within the samples
  // there are: a 5-second incident is not a sliver at the edge of a 20-minute chart.
  const int64_t max_margin =
      std::chrono::duration_cast<std::chrono::milliseconds>(kChartMargin).count();
  const int64_t margin = std::clamp<int64_t>(end - opened, 30'000, max_margin);
  r.window_from_ms = opened - margin;
  r.window_to_ms = end + margin;
  if (!input.samples.empty()) {
    r.window_from_ms = std::min(opened, std::max(r.window_from_ms, input.samples.front().at_ms));
    r.window_to_ms = std::min(r.window_to_ms, std::max(end, input.samples.back().at_ms));
  }
  for (const ChartedSignal& signal : ChartedSignals()) {
    SignalSummary s;
    s.signal = signal;
    for (const auto& trigger : input.runbook.triggers) {
      if (trigger.signal == signal.name && trigger.AppliesTo(r.incident.target)) {
        s.threshold = trigger.threshold;
        break;
      }
    }
    for (const auto& sample : input.samples) {
      if (sample.at_ms < r.window_from_ms || sample.at_ms > r.window_to_ms) continue;
      const json values = json::parse(sample.values_json, nullptr, false);
      if (!values.is_object() || !values.contains(signal.name)) continue;
      const json& v = values[signal.name];
      if (!v.is_number()) continue;
      const double value = v.get<double>();
      s.points.emplace_back(sample.at_ms, value);
      s.min = s.min ? std::min(*s.min, value) : value;
      s.max = s.max ? std::max(*s.max, value) : value;
      if (!s.at_open && sample.at_ms >= opened) s.at_open = value;
      if (sample.at_ms <= end) s.at_end = value;
    }
    r.signals.push_back(std::move(s));
  }
}

// ----- Markdown -----

std::string Cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out.empty() ? "-" : out;
}

std::string Opt(const std::optional<double>& v) { return v ? Num(*v) : "-"; }

std::string DeadlineResultText(const DeadlineRow& d) {
  if (d.result == "met") return "met";
  if (d.result == "missed") return "MISSED";
  if (d.result == "overdue") return "OVERDUE";
  return "open";
}

std::string ReachedText(const DeadlineRow& d, core::WallTime opened) {
  if (!d.reached_at) return "not yet";
  std::string text = fmt::format("{} ({})", ShortTime(*d.reached_at, opened),
                                 Elapsed(core::ToSeconds(*d.reached_at - opened)));
  if (!d.entered) text += ", phase skipped";
  return text;
}

// ----- HTML -----

std::string H(std::string_view text) { return XmlEscape(text); }

constexpr std::string_view kCss = R"css(
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #c8c8c8; --accent: #1f3a93; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1000px; padding: 24px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid var(--ink); padding-bottom: 3px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--rule); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
table.kv th { width: 170px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f6f6; border: 1px solid var(--rule); padding: 8px; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; }
.sev-critical { font-weight: bold; }
.sev-critical::before { content: "\25A0  "; }
.sev-warning::before { content: "\25B2  "; }
.sev-info::before { content: "\25CB  "; }
.deadline.met td.result { font-weight: bold; }
.deadline.missed td.result, .deadline.overdue td.result { font-weight: bold; text-decoration: underline; }
tr.phase-change td { border-top: 2px solid var(--ink); }
figure { margin: 10px 0 18px; break-inside: avoid; page-break-inside: avoid; }
figcaption { color: var(--muted); font-size: 12px; }
svg.chart { width: 100%; height: auto; border: 1px solid var(--rule); background: #fff; }
ul.checklist { list-style: none; padding-left: 4px; }
ul.checklist li::before { content: "\2610  "; }
.none { color: var(--muted); font-style: italic; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--rule); padding-top: 6px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section#signals, section#evidence { break-before: page; page-break-before: always; }
  tr, figure, pre { break-inside: avoid; page-break-inside: avoid; }
  th { background: none; }
  a { color: inherit; text-decoration: none; }
}
)css";

std::string HtmlTable(const std::vector<std::string>& headers,
                      const std::vector<std::vector<std::string>>& rows,
                      std::string_view css_class = {}) {
  std::string out =
      css_class.empty() ? "<table>\n<tr>" : fmt::format("<table class=\"{}\">\n<tr>", css_class);
  for (const auto& h : headers) out += "<th>" + H(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) out += "<td>" + H(cell) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string DurationTextOf(const IncidentReport& r) {
  return r.incident.resolved_at ? HumanDuration(r.duration)
                                : HumanDuration(r.duration) + " so far (open)";
}

std::vector<std::pair<std::string, std::string>> SummaryRows(const IncidentReport& r) {
  const watch::Incident& i = r.incident;
  std::string triggers;
  for (const auto& t : i.triggers) triggers += (triggers.empty() ? "" : ", ") + t;
  return {
      {"Database", i.target},
      {"Severity", i.severity},
      {"Status", r.status},
      {"Issue", r.issue},
      {"Affected services", r.affected_services},
      {"Triggers", triggers.empty() ? "-" : triggers},
      {"Opened", Time(i.opened_at)},
      {"Resolved", i.resolved_at ? Time(*i.resolved_at) : "not yet"},
      {"Duration", DurationTextOf(r)},
      {"Root cause", r.root_cause},
      {"Resolution", r.resolution},
      {"Escalation level", std::to_string(i.escalation_level)},
      {"Acknowledged by", i.acked_by.empty() ? "-" : i.acked_by},
      {"Relapses", std::to_string(i.relapses)},
      {"Runbook",
       fmt::format("{} version {} ({})", r.runbook_name, r.runbook_version, r.runbook_path)},
  };
}

std::vector<std::string> ProcesslistRow(const json& row) {
  return {ValueText(row.value("id", json())),      ValueText(row.value("user", json())),
          ValueText(row.value("host", json())),    ValueText(row.value("db", json())),
          ValueText(row.value("command", json())), ValueText(row.value("time", json())),
          ValueText(row.value("state", json())),   ValueText(row.value("statement", json()))};
}

std::vector<std::string> LockWaitRow(const json& row) {
  return {ValueText(row.value("waiter_connection", json())),
          ValueText(row.value("blocker_connection", json())),
          ValueText(row.value("wait_seconds", json())), ValueText(row.value("waiter_trx", json())),
          ValueText(row.value("blocker_trx", json()))};
}

const std::vector<std::string> kProcesslistHeaders = {"id",      "user", "host",  "db",
                                                      "command", "time", "state", "statement"};
const std::vector<std::string> kLockWaitHeaders = {"waiting connection", "blocking connection",
                                                   "waited (s)", "waiter trx", "blocker trx"};

std::vector<std::string> AuditRow(const store::AuditRecord& a) {
  return {a.entry.at,
          std::string(store::PhaseName(a.entry.phase)),
          a.entry.subject,
          notify::RedactText(a.entry.plan),
          notify::RedactText(a.entry.result),
          notify::RedactText(a.entry.error),
          a.entry.os_user};
}
const std::vector<std::string> kAuditHeaders = {"at",     "phase", "subject", "plan",
                                                "result", "error", "who"};

std::string SignalCaption(const SignalSummary& s) {
  if (s.points.empty()) {
    return fmt::format("{}: no samples in the window", s.signal.name);
  }
  return fmt::format("{} samples; min {}, max {}, at opening {}, at the end {}{}", s.points.size(),
                     Opt(s.min), Opt(s.max), Opt(s.at_open), Opt(s.at_end),
                     s.threshold ? fmt::format("; trigger threshold {}", Num(*s.threshold)) : "");
}

}  // namespace

const std::vector<ChartedSignal>& ChartedSignals() {
  static const std::vector<ChartedSignal> kSignals = {{"threads_running", ""},
                                                      {"longest_query_seconds", "s"},
                                                      {"replication_lag_seconds", "s"},
                                                      {"cpu_percent", "%"}};
  return kSignals;
}

core::Result<IncidentReportInput> LoadIncidentReport(store::Store& store, int64_t id,
                                                     const runbook::Runbook& runbook,
                                                     core::WallTime generated_at) {
  IncidentReportInput input;
  input.runbook = runbook;
  input.generated_at = generated_at;
  auto record = store.Incident(id);
  if (!record) return core::Fail(record.error());
  if (!*record) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("no incident {} in {}", id, store.path()),
                           "`dbrunbook incidents --store " + store.path() + "` lists them");
  }
  input.record = **record;
  auto timeline = store.Timeline(id);
  if (!timeline) return core::Fail(timeline.error());
  input.timeline = std::move(*timeline);
  auto findings = store.Findings(id);
  if (!findings) return core::Fail(findings.error());
  input.findings = std::move(*findings);
  auto evidence = store.Evidence(id);
  if (!evidence) return core::Fail(evidence.error());
  input.evidence = std::move(*evidence);

  const json state = json::parse(input.record.state_json, nullptr, false);
  auto incident = watch::IncidentFromJson(state);
  if (!incident) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("incident {} in {}: its stored state cannot be read: {}", id,
                                       store.path(), incident.error().message),
                           "was the store written by a newer dbrunbook?");
  }
  std::set<std::string> runs;
  for (const auto& action : incident->actions) {
    if (!action.run_id.empty()) runs.insert(action.run_id);
  }
  if (!runs.empty()) {
    auto audit = store.Recent(kAuditSearched, incident->target);
    if (!audit) return core::Fail(audit.error());
    for (auto it = audit->rbegin(); it != audit->rend(); ++it) {
      if (runs.count(it->entry.run_id) != 0) input.audit.push_back(*it);
    }
  }
  const int64_t margin =
      std::chrono::duration_cast<std::chrono::milliseconds>(kChartMargin).count();
  const int64_t from = EpochMs(incident->opened_at) - margin;
  const int64_t to = EpochMs(incident->resolved_at.value_or(generated_at)) + margin;
  auto samples = store.Samples(incident->target, from, to);
  if (!samples) return core::Fail(samples.error());
  input.samples = std::move(*samples);
  // The messages of the incident in the notification outbox, one per channel, queued first.
  auto messages = store.OutboxMessagesOf(std::to_string(id));
  if (!messages) return core::Fail(messages.error());
  for (const store::OutboxRow& row : *messages) {
    const json message = json::parse(row.message_json, nullptr, false);
    SentMessage m;
    m.kind = row.kind;
    m.channel = row.channel;
    m.state = row.state == "failed" && !row.last_error.empty()
                  ? fmt::format("failed: {}", row.last_error)
                  : row.state;
    m.sent_at = row.sent_at;
    m.title = message.is_object() && message.contains("title") && message["title"].is_string()
                  ? message["title"].get<std::string>()
                  : "";
    input.messages.push_back(std::move(m));
  }
  return input;
}

core::Result<IncidentReport> BuildIncidentReport(const IncidentReportInput& input) {
  IncidentReport r;
  const json state = json::parse(input.record.state_json, nullptr, false);
  auto incident = watch::IncidentFromJson(state);
  if (!incident) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("incident {}: its stored state cannot be read: {}",
                                       input.record.id, incident.error().message),
                           "was the store written by a newer dbrunbook?");
  }
  r.incident = std::move(*incident);
  r.generated_at = input.generated_at;
  const notify::MessageContext context =
      notify::BuildContext(r.incident, input.runbook, input.target_tags, input.generated_at);
  r.status = context.status;
  r.issue = context.issue;
  r.affected_services = context.affected_services;
  r.root_cause = context.root_cause;
  r.resolution = context.resolution;
  const core::WallTime end = r.incident.resolved_at.value_or(input.generated_at);
  r.duration = end > r.incident.opened_at ? end - r.incident.opened_at : core::Duration{};
  r.runbook_name = input.runbook.metadata.name;
  r.runbook_version = input.runbook.metadata.version;
  r.runbook_path = input.runbook.path;
  r.messages = input.messages;
  r.prevention = r.incident.prevention.empty() ? input.runbook.prevention : r.incident.prevention;
  for (auto action : r.incident.actions) {
    action.detail = notify::RedactText(action.detail);
    action.reason = notify::RedactText(action.reason);
    ActionRow row{action, {}};
    for (const auto& a : input.audit) {
      if (!action.run_id.empty() && a.entry.run_id == action.run_id) row.audit.push_back(a);
    }
    r.actions.push_back(std::move(row));
  }
  ReadDeadlines(input, r);
  ReadTimeline(input, r);
  ReadFindings(input, r);
  ReadEvidence(input, r);
  ReadSignals(input, r);
  return r;
}

std::string RenderIncidentMarkdown(const IncidentReport& r) {
  const watch::Incident& i = r.incident;
  std::string md = fmt::format("# Incident {}: {} ({})\n\n", i.id, Cell(i.target), r.status);
  md += "## Summary\n\n| | |\n|---|---|\n";
  for (const auto& [label, value] : SummaryRows(r)) {
    md += fmt::format("| {} | {} |\n", label, Cell(value));
  }
  md +=
      "\n## Timeline\n\nThe runbook's deadlines, counted from the opening:\n\n"
      "| Phase | Deadline | Due at | Moved on at | Result |\n|---|---|---|---|---|\n";
  for (const auto& d : r.deadlines) {
    md += fmt::format("| {} | {} | {} | {} | {} |\n", d.phase, runbook::DurationText(d.deadline),
                      ShortTime(d.due_at, i.opened_at), ReachedText(d, i.opened_at),
                      DeadlineResultText(d));
  }
  md += "\n| Time (UTC) | Elapsed | Phase | Event | Detail |\n|---|---|---|---|---|\n";
  for (const auto& t : r.timeline) {
    md += fmt::format("| {} | {} | {} | {} | {} |\n", ShortTime(t.at, i.opened_at),
                      Elapsed(t.elapsed_seconds), t.phase, t.kind, Cell(t.text));
  }
  md +=
      "\n## Signals\n\nFrom the samples the daemon stored (charts in the HTML report):\n\n"
      "| Signal | Samples | Min | Max | At opening | At the end | Threshold |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& s : r.signals) {
    const std::string name = s.signal.unit.empty()
                                 ? s.signal.name
                                 : fmt::format("{} ({})", s.signal.name, s.signal.unit);
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", name, s.points.size(), Opt(s.min),
                      Opt(s.max), Opt(s.at_open), Opt(s.at_end), Opt(s.threshold));
  }
  md += "\n## Evidence snapshot\n\n";
  if (r.evidence_kinds.empty()) {
    md += "None recorded (the diagnosis did not run or could not connect).\n";
  } else {
    md += fmt::format("Captured at {}: {}.\n\n", r.evidence_at, fmt::join(r.evidence_kinds, ", "));
    md += "### Running statements (fingerprints)\n\n";
    if (r.processlist.empty()) {
      md += "None but sleeping sessions.\n";
    } else {
      md += "| " + fmt::format("{}", fmt::join(kProcesslistHeaders, " | ")) + " |\n" +
            "|---|---|---|---|---|---|---|---|\n";
      for (const auto& row : r.processlist) {
        std::vector<std::string> cells;
        for (const auto& c : ProcesslistRow(row)) cells.push_back(Cell(c));
        md += "| " + fmt::format("{}", fmt::join(cells, " | ")) + " |\n";
      }
    }
    md += "\n### Lock waits\n\n";
    if (r.lock_waits.empty()) {
      md += "None.\n";
    } else {
      md += "| " + fmt::format("{}", fmt::join(kLockWaitHeaders, " | ")) + " |\n" +
            "|---|---|---|---|---|\n";
      for (const auto& row : r.lock_waits) {
        std::vector<std::string> cells;
        for (const auto& c : LockWaitRow(row)) cells.push_back(Cell(c));
        md += "| " + fmt::format("{}", fmt::join(cells, " | ")) + " |\n";
      }
    }
    if (!r.key_status.empty()) {
      md += "\n### Status counters\n\n| Variable | Value |\n|---|---|\n";
      for (const auto& [name, value] : r.key_status) {
        md += fmt::format("| {} | {} |\n", name, Cell(value));
      }
    }
    if (!r.innodb_excerpt.empty()) {
      md += "\n### InnoDB status (transactions)\n\n```\n" + r.innodb_excerpt + "```\n";
    }
  }
  md += "\n## Findings\n\n";
  if (r.findings.empty()) {
    md += "None recorded.\n";
  } else {
    md += "| Diagnosis | Severity | Code | Finding | Next step |\n|---|---|---|---|---|\n";
    for (const auto& f : r.findings) {
      md += fmt::format("| {} | {} | {} | {} | {} |\n", f.diagnosis, f.severity, f.code,
                        Cell(f.title), Cell(f.next_step));
    }
  }
  md += "\n## Actions\n\n";
  if (r.actions.empty()) {
    md += "None proposed.\n";
  } else {
    for (const auto& a : r.actions) {
      md += fmt::format(
          "- **{}**: {} (policy {}; {}){}{}\n", a.action.action,
          watch::ActionStateName(a.action.state), runbook::PolicyName(a.action.policy),
          Cell(a.action.reason), a.action.detail.empty() ? "" : " — " + Cell(a.action.detail),
          a.action.approved_by.empty() ? "" : ", approved by " + a.action.approved_by);
      for (const auto& e : a.audit) {
        const auto row = AuditRow(e);
        md += fmt::format("  - audit {} {} {}: {}{}\n", row[0], row[1], Cell(row[2]), Cell(row[4]),
                          row[5].empty() ? "" : " (error: " + Cell(row[5]) + ")");
      }
    }
  }
  md += "\n## Messages sent\n\n";
  if (r.messages.empty()) {
    md += "None recorded.\n";
  } else {
    md += "| Kind | Channel | State | Sent at | Title |\n|---|---|---|---|---|\n";
    for (const auto& m : r.messages) {
      md += fmt::format("| {} | {} | {} | {} | {} |\n", m.kind, Cell(m.channel), m.state,
                        Cell(m.sent_at), Cell(m.title));
    }
  }
  md += "\n## Prevention checklist\n\n";
  if (r.prevention.empty()) md += "None in the runbook.\n";
  for (const auto& item : r.prevention) md += "- [ ] " + item + "\n";
  md += fmt::format("\n_Generated by dbrunbook at {}._\n", Time(r.generated_at));
  return md;
}

std::string RenderIncidentHtml(const IncidentReport& r) {
  const watch::Incident& i = r.incident;
  const std::string title = fmt::format("Incident {}: {}", i.id, i.target);
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Self-contained by construction: the browser refuses anything not inline (and says so on its
  // console, which the end-to-end test checks).
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:\">\n";
  h += "<title>" + H(title) + "</title>\n<style>" + std::string(kCss) +
       "</style>\n</head>\n<body>\n";
  h += fmt::format(
      "<header>\n<h1>{}</h1>\n<p class=\"meta\">{} · {} · opened {} · {}</p>\n</header>\n",
      H(title), H(i.severity), H(r.status), H(Time(i.opened_at)), H(DurationTextOf(r)));

  h += "<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"kv\">\n";
  for (const auto& [label, value] : SummaryRows(r)) {
    h += "<tr><th>" + H(label) + "</th><td>" + H(value) + "</td></tr>\n";
  }
  h += "</table>\n</section>\n";

  h += "<section id=\"timeline\">\n<h2>Timeline</h2>\n<h3>The runbook's deadlines</h3>\n";
  h += "<table class=\"deadlines\">\n<tr><th>Phase</th><th>Deadline</th><th>Due at</th>"
       "<th>Moved on at</th><th>Result</th></tr>\n";
  for (const auto& d : r.deadlines) {
    h += fmt::format(
        "<tr class=\"deadline {}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"result\">{}</td></tr>\n",
        H(d.result), H(d.phase), H(runbook::DurationText(d.deadline)),
        H(ShortTime(d.due_at, i.opened_at)), H(ReachedText(d, i.opened_at)),
        H(DeadlineResultText(d)));
  }
  h += "</table>\n<h3>Events</h3>\n<table class=\"timeline\">\n<tr><th>Time (UTC)</th>"
       "<th>Elapsed</th><th>Phase</th><th>Event</th><th>Detail</th></tr>\n";
  std::string phase;
  for (const auto& t : r.timeline) {
    const bool change = !phase.empty() && t.phase != phase;
    phase = t.phase;
    h += fmt::format(
        "<tr class=\"event{}\"><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}"
        "</code></td><td>{}</td></tr>\n",
        change ? " phase-change" : "", H(ShortTime(t.at, i.opened_at)),
        H(Elapsed(t.elapsed_seconds)), H(t.phase), H(t.kind), H(t.text));
  }
  h += "</table>\n</section>\n";

  h += "<section id=\"signals\">\n<h2>Signals</h2>\n<p class=\"meta\">From the samples the "
       "daemon stored; the hatched band is the incident (opened to resolved), the dashed line "
       "the trigger's threshold.</p>\n";
  const int64_t shade_to = EpochMs(i.resolved_at.value_or(r.generated_at));
  for (const auto& s : r.signals) {
    ChartOptions o;
    o.title = s.signal.name;
    o.unit = s.signal.unit;
    o.from_ms = r.window_from_ms;
    o.to_ms = r.window_to_ms;
    o.shade_from_ms = EpochMs(i.opened_at);
    o.shade_to_ms = shade_to;
    o.threshold = s.threshold;
    std::vector<ChartPoint> points;
    for (const auto& [at, value] : s.points) points.push_back({at, value});
    h += fmt::format(
        "<figure class=\"signal\" id=\"chart-{}\">\n{}\n<figcaption>{}</figcaption>\n"
        "</figure>\n",
        H(s.signal.name), RenderSvgLineChart(points, o), H(SignalCaption(s)));
  }
  h += "</section>\n";

  h += "<section id=\"evidence\">\n<h2>Evidence snapshot</h2>\n";
  if (r.evidence_kinds.empty()) {
    h += "<p class=\"none\">None recorded (the diagnosis did not run or could not connect).</p>\n";
  } else {
    h += fmt::format("<p class=\"meta\">Captured at {}: {}.</p>\n", H(r.evidence_at),
                     H(fmt::format("{}", fmt::join(r.evidence_kinds, ", "))));
    h += "<h3>Running statements (fingerprints)</h3>\n";
    if (r.processlist.empty()) {
      h += "<p class=\"none\">None but sleeping sessions.</p>\n";
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& row : r.processlist) rows.push_back(ProcesslistRow(row));
      h += HtmlTable(kProcesslistHeaders, rows, "processlist");
    }
    h += "<h3>Lock waits</h3>\n";
    if (r.lock_waits.empty()) {
      h += "<p class=\"none\">None.</p>\n";
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& row : r.lock_waits) rows.push_back(LockWaitRow(row));
      h += HtmlTable(kLockWaitHeaders, rows, "lock-waits");
    }
    if (!r.key_status.empty()) {
      h += "<h3>Status counters</h3>\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& [name, value] : r.key_status) rows.push_back({name, value});
      h += HtmlTable({"Variable", "Value"}, rows, "status");
    }
    if (!r.innodb_excerpt.empty()) {
      h += "<h3>InnoDB status (transactions)</h3>\n<pre>" + H(r.innodb_excerpt) + "</pre>\n";
    }
  }
  h += "</section>\n";

  h += "<section id=\"findings\">\n<h2>Findings</h2>\n";
  if (r.findings.empty()) {
    h += "<p class=\"none\">None recorded.</p>\n";
  } else {
    h += "<table class=\"findings\">\n<tr><th>Diagnosis</th><th>Severity</th><th>Code</th>"
         "<th>Finding</th><th>Next step</th></tr>\n";
    for (const auto& f : r.findings) {
      h += fmt::format(
          "<tr class=\"finding\"><td class=\"num\">{}</td><td class=\"sev-{}\">{}</td><td><code>"
          "{}</code></td><td>{}{}</td><td>{}</td></tr>\n",
          f.diagnosis, H(f.severity), H(f.severity), H(f.code), H(f.title),
          f.detail.empty() ? "" : "<br><small>" + H(f.detail) + "</small>", H(f.next_step));
    }
    h += "</table>\n";
  }
  h += "</section>\n";

  h += "<section id=\"actions\">\n<h2>Actions and their audit trail</h2>\n";
  if (r.actions.empty()) {
    h += "<p class=\"none\">None proposed.</p>\n";
  } else {
    for (const auto& a : r.actions) {
      h += fmt::format(
          "<h3>{}: {}</h3>\n<p>policy {}; proposed by {}{}{}</p>\n", H(a.action.action),
          H(std::string(watch::ActionStateName(a.action.state))),
          H(std::string(runbook::PolicyName(a.action.policy))), H(a.action.reason),
          a.action.approved_by.empty() ? "" : "; approved by " + H(a.action.approved_by),
          a.action.detail.empty() ? "" : "<br>outcome: " + H(a.action.detail));
      if (a.audit.empty()) {
        h += "<p class=\"none\">No audit entry (the action was not run).</p>\n";
      } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : a.audit) rows.push_back(AuditRow(e));
        h += HtmlTable(kAuditHeaders, rows, "audit");
      }
    }
  }
  h += "</section>\n";

  h += "<section id=\"messages\">\n<h2>Messages sent</h2>\n";
  if (r.messages.empty()) {
    h += "<p class=\"none\">None recorded.</p>\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : r.messages)
      rows.push_back({m.kind, m.channel, m.state, m.sent_at, m.title});
    h += HtmlTable({"Kind", "Channel", "State", "Sent at", "Title"}, rows, "messages");
  }
  h += "</section>\n";

  h += "<section id=\"prevention\">\n<h2>Prevention checklist</h2>\n";
  if (r.prevention.empty()) {
    h += "<p class=\"none\">None in the runbook.</p>\n";
  } else {
    h += "<ul class=\"checklist\">\n";
    for (const auto& item : r.prevention) h += "<li>" + H(item) + "</li>\n";
    h += "</ul>\n";
  }
  h += "</section>\n";
  h += fmt::format(
      "<footer>Generated by dbrunbook at {} from the store; runbook {} version {}."
      "</footer>\n</body>\n</html>\n",
      H(Time(r.generated_at)), H(r.runbook_name), H(r.runbook_version));
  return h;
}

json IncidentReportJson(const IncidentReport& r) {
  const watch::Incident& i = r.incident;
  json deadlines = json::array();
  for (const auto& d : r.deadlines) {
    deadlines.push_back({{"phase", d.phase},
                         {"deadline_seconds", core::ToSeconds(d.deadline)},
                         {"due_at", Time(d.due_at)},
                         {"reached_at", d.reached_at ? json(Time(*d.reached_at)) : json()},
                         {"entered", d.entered},
                         {"result", d.result}});
  }
  json timeline = json::array();
  for (const auto& t : r.timeline) {
    timeline.push_back({{"at", Time(t.at)},
                        {"elapsed_seconds", t.elapsed_seconds},
                        {"phase", t.phase},
                        {"kind", t.kind},
                        {"text", t.text}});
  }
  json findings = json::array();
  for (const auto& f : r.findings) {
    findings.push_back({{"diagnosis", f.diagnosis},
                        {"at", f.at},
                        {"severity", f.severity},
                        {"code", f.code},
                        {"title", f.title},
                        {"detail", f.detail},
                        {"next_step", f.next_step}});
  }
  json actions = json::array();
  for (const auto& a : r.actions) {
    json audit = json::array();
    for (const auto& e : a.audit) {
      const auto row = AuditRow(e);
      audit.push_back({{"at", row[0]},
                       {"phase", row[1]},
                       {"subject", row[2]},
                       {"plan", row[3]},
                       {"result", row[4]},
                       {"error", row[5]},
                       {"os_user", row[6]}});
    }
    actions.push_back({{"action", a.action.action},
                       {"state", std::string(watch::ActionStateName(a.action.state))},
                       {"policy", std::string(runbook::PolicyName(a.action.policy))},
                       {"reason", a.action.reason},
                       {"detail", a.action.detail},
                       {"run_id", a.action.run_id},
                       {"approved_by", a.action.approved_by},
                       {"audit", std::move(audit)}});
  }
  json messages = json::array();
  for (const auto& m : r.messages) {
    messages.push_back({{"kind", m.kind},
                        {"channel", m.channel},
                        {"state", m.state},
                        {"sent_at", m.sent_at},
                        {"title", m.title}});
  }
  json signals = json::array();
  for (const auto& s : r.signals) {
    json points = json::array();
    for (const auto& [at, value] : s.points) points.push_back({Time(FromMs(at)), value});
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(); };
    signals.push_back({{"signal", s.signal.name},
                       {"unit", s.signal.unit},
                       {"threshold", opt(s.threshold)},
                       {"min", opt(s.min)},
                       {"max", opt(s.max)},
                       {"at_open", opt(s.at_open)},
                       {"at_end", opt(s.at_end)},
                       {"points", std::move(points)}});
  }
  json status = json::object();
  for (const auto& [name, value] : r.key_status) status[name] = value;
  return {
      {"schema", "dbrunbook.incident_report"},
      {"schema_version", kIncidentReportVersion},
      {"generated_at", Time(r.generated_at)},
      {"runbook",
       {{"name", r.runbook_name}, {"version", r.runbook_version}, {"path", r.runbook_path}}},
      {"incident",
       {{"id", i.id},
        {"target", i.target},
        {"severity", i.severity},
        {"phase", std::string(watch::PhaseName(i.phase))},
        {"status", r.status},
        {"opened_at", Time(i.opened_at)},
        {"resolved_at", i.resolved_at ? json(Time(*i.resolved_at)) : json()},
        {"duration_seconds", core::ToSeconds(r.duration)},
        {"triggers", i.triggers},
        {"issue", r.issue},
        {"affected_services", r.affected_services},
        {"root_cause", r.root_cause},
        {"resolution", r.resolution},
        {"escalation_level", i.escalation_level},
        {"acked_by", i.acked_by},
        {"relapses", i.relapses}}},
      {"deadlines", std::move(deadlines)},
      {"timeline", std::move(timeline)},
      {"evidence",
       {{"captured_at", r.evidence_at.empty() ? json() : json(r.evidence_at)},
        {"kinds", r.evidence_kinds},
        {"processlist", r.processlist},
        {"lock_waits", r.lock_waits},
        {"status", std::move(status)},
        {"innodb_status_excerpt", r.innodb_excerpt}}},
      {"findings", std::move(findings)},
      {"actions", std::move(actions)},
      {"messages", std::move(messages)},
      {"prevention", r.prevention},
      {"chart_window",
       {{"from", Time(FromMs(r.window_from_ms))}, {"to", Time(FromMs(r.window_to_ms))}}},
      {"signals", std::move(signals)},
  };
}

}  // namespace dbrunbook::report
