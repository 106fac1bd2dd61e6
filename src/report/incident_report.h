// The incident report (issue 8): one watch-daemon incident from the store, for the incident
// review — summary, the timeline phase by phase with the runbook's deadlines beside the actual
// times, the evidence snapshot, findings, actions with their audit trail, the messages sent,
// the prevention checklist, and charts of the key signals (threads_running,
// longest_query_seconds, replication_lag_seconds, cpu_percent) from the stored samples around
// the incident.
//
// Three renderings of one model: Markdown (tables; the charts as min / max / at-opening
// tables), JSON (schema "dbrunbook.incident_report", version kIncidentReportVersion; README
// "Incident reports" documents it) and HTML (one self-contained file: inline CSS and SVG, no
// script, no external resource; print CSS with page breaks; readable in black and white).
//
// Nothing secret or customer-identifying is added: statement text in finding titles and
// details, action outcomes and timeline lines goes through notify::RedactText (fingerprints,
// literals as ?), and the evidence the daemon stored is already redacted.
//
// LoadIncidentReport reads the store; the rest is pure. Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "runbook/runbook.h"
#include "store/store.h"
#include "watch/engine.h"

namespace dbrunbook::report {

inline constexpr int kIncidentReportVersion = 1;

// One message of the incident as the outbox recorded it (the outbox is filled by the
// notification channels; the caller passes what it has, possibly nothing).
struct SentMessage {
  std::string kind;     // alert, update, escalation, acknowledged, resolution
  std::string channel;  // the channel's name
  std::string state;    // sent, failed, pending, ...
  std::string sent_at;  // RFC 3339, empty while not sent
  std::string title;
};

// Everything the report is made of, as read from the store.
struct IncidentReportInput {
  store::IncidentRecord record;
  std::vector<store::TimelineEntry> timeline;
  std::vector<store::FindingRecord> findings;
  std::vector<store::EvidenceRecord> evidence;
  std::vector<store::AuditRecord> audit;     // entries of the incident's actions' runs
  std::vector<store::SampleRecord> samples;  // the target's, around the incident
  std::vector<SentMessage> messages;
  // The target's tags from dbrunbook.yaml (affected services), when the configuration is known.
  std::map<std::string, std::string> target_tags;
  runbook::Runbook runbook;  // deadlines, trigger thresholds and summaries, name and version
  core::WallTime generated_at{};
};

// The signals charted, in order, with their units.
struct ChartedSignal {
  std::string name;
  std::string unit;
};
const std::vector<ChartedSignal>& ChartedSignals();

// How far before the opening and after the end (resolution, or the last sample) the samples
// and charts reach.
inline constexpr std::chrono::minutes kChartMargin{10};

// Reads incident `id` and what belongs to it from `store`: kNotFound ("no incident 12 in
// FILE") when the store has no such incident; kIo / kParse from the store otherwise. Samples:
// the target's from opened_at - kChartMargin to (resolved_at or generated_at) + kChartMargin;
// audit entries: those whose run id is one of the incident's actions' (at most the target's
// newest 5000 entries are searched). `messages` are the outbox's rows of the incident.
core::Result<IncidentReportInput> LoadIncidentReport(store::Store& store, int64_t id,
                                                     const runbook::Runbook& runbook,
                                                     core::WallTime generated_at);

// The model every rendering uses; kParse when the stored incident state cannot be read.
struct DeadlineRow {
  std::string phase;  // assess, investigate, mitigate
  core::Duration deadline{};
  core::WallTime due_at{};
  std::optional<core::WallTime> reached_at;  // when the incident moved past the phase
  bool entered = false;                      // the incident was in this phase at some time
  // met (reached by the deadline), missed (reached late, or a deadline.missed event), open
  // (not reached yet, deadline ahead), overdue (not reached, deadline passed).
  std::string result;
};

struct TimelineRow {
  core::WallTime at{};
  double elapsed_seconds = 0;  // since opened_at
  std::string phase;           // the incident's phase when the event happened
  std::string kind;
  std::string text;  // redacted
};

struct FindingRow {
  int diagnosis = 0;
  std::string at;
  std::string severity;
  std::string code;
  std::string title;   // redacted
  std::string detail;  // redacted
  std::string next_step;
};

struct ActionRow {
  watch::IncidentAction action;  // detail redacted
  std::vector<store::AuditRecord> audit;
};

struct SignalSummary {
  ChartedSignal signal;
  std::vector<std::pair<int64_t, double>> points;  // (epoch ms, value), oldest first
  std::optional<double> threshold;                 // a trigger on this signal, if any
  std::optional<double> min, max, at_open, at_end;
};

struct IncidentReport {
  watch::Incident incident;
  std::string status;  // investigating / mitigating / monitored / resolved
  std::string issue;
  std::string affected_services;
  std::string root_cause;
  std::string resolution;
  core::Duration duration{};
  std::string runbook_name;
  std::string runbook_version;
  std::string runbook_path;
  core::WallTime generated_at{};
  std::vector<DeadlineRow> deadlines;
  std::vector<TimelineRow> timeline;
  std::vector<FindingRow> findings;
  std::vector<ActionRow> actions;
  std::vector<SentMessage> messages;
  std::vector<std::string> prevention;
  // The evidence snapshot (the first diagnosis's): kinds captured and the parts shown.
  std::string evidence_at;
  std::vector<std::string> evidence_kinds;
  nlohmann::json processlist = nlohmann::json::array();
  nlohmann::json lock_waits = nlohmann::json::array();
  std::string innodb_excerpt;
  std::vector<std::pair<std::string, std::string>> key_status;  // name, value
  std::vector<SignalSummary> signals;
  int64_t window_from_ms = 0;  // the charts' x range
  int64_t window_to_ms = 0;
};

core::Result<IncidentReport> BuildIncidentReport(const IncidentReportInput& input);

std::string RenderIncidentMarkdown(const IncidentReport& report);
std::string RenderIncidentHtml(const IncidentReport& report);
nlohmann::json IncidentReportJson(const IncidentReport& report);

}  // namespace dbrunbook::report
