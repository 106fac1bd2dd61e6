#include "daemon/diagnose.h"

#include <fmt/format.h>

#include <utility>

#include "collect/activity.h"
#include "collect/innodb_status.h"
#include "collect/status.h"
#include "collect/target_session.h"
#include "core/duration.h"
#include "report/findings.h"
#include "report/render.h"
#include "steps/assess.h"
#include "steps/investigate.h"
#include "steps/investigate_locks.h"
#include "steps/mitigate_kill.h"

namespace dbrunbook::daemon {
namespace {

nlohmann::json SessionsJson(const std::vector<collect::ActiveStatement>& sessions) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : sessions) {
    rows.push_back({{"id", s.id},
                    {"user", s.user},
                    {"host", s.host},
                    {"db", s.db},
                    {"command", s.command},
                    {"state", s.state},
                    {"time", s.time_seconds},
                    // Redacted to its abstract fingerprint: no customer data in the store.
                    {"statement", steps::RedactStatement(s.info)}});
  }
  return rows;
}

nlohmann::json ReplicaJson(const std::vector<collect::ReplicaChannel>& channels) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& c : channels) {
    rows.push_back({{"channel", c.channel},
                    {"source_host", c.source_host},
                    {"io", collect::ThreadStateName(c.io)},
                    {"sql", collect::ThreadStateName(c.sql)},
                    {"seconds_behind",
                     c.seconds_behind ? nlohmann::json(*c.seconds_behind) : nlohmann::json()},
                    {"last_io_errno", c.last_io_errno},
                    {"last_io_error", c.last_io_error},
                    {"last_sql_errno", c.last_sql_errno},
                    {"last_sql_error", c.last_sql_error}});
  }
  return rows;
}

// Runs one evidence read; a failure becomes the evidence's text, not a stop.
template <typename Read>
void Capture(std::vector<store::EvidenceRecord>& out, int64_t incident_id, const std::string& at,
             const std::string& kind, Read read) {
  core::Result<std::string> content = read();
  out.push_back({incident_id, at, kind,
                 content ? *content : "could not read: " + content.error().ToString()});
}

}  // namespace

watch::DiagnoseResult Diagnose(const DaemonTarget& target, int64_t incident_id,
                               mysql::SessionFactory& factory, core::Clock& clock,
                               const steps::InvestigateOptions& options, store::Store* store) {
  watch::DiagnoseResult result;
  result.incident_id = incident_id;
  auto opened = collect::OpenTargetSession(factory, target.options, clock);
  if (!opened) {
    result.ok = false;
    result.error = opened.error().ToString();
    result.at = clock.WallNow();
    return result;
  }
  collect::TargetSession& session = *opened;
  const std::string at = core::FormatRfc3339(clock.WallNow());

  // The evidence snapshot first: it is what the server looked like when the incident opened.
  std::vector<store::EvidenceRecord> evidence;
  Capture(evidence, incident_id, at, "processlist", [&]() -> core::Result<std::string> {
    auto rows = collect::ReadSessions(session, 1000);
    if (!rows) return core::Fail(rows.error());
    return SessionsJson(*rows).dump();
  });
  Capture(evidence, incident_id, at, "lock_waits", [&]() -> core::Result<std::string> {
    auto waits = steps::ReadLockWaits(session);
    if (!waits) return core::Fail(waits.error());
    nlohmann::json edges = nlohmann::json::array();
    for (const auto& e : waits->edges) {
      const auto waiter = waits->connection_of.find(e.waiter);
      const auto blocker = waits->connection_of.find(e.blocker);
      edges.push_back(
          {{"waiter_trx", e.waiter},
           {"blocker_trx", e.blocker},
           {"wait_seconds", e.wait_seconds},
           {"waiter_connection",
            waiter != waits->connection_of.end() ? nlohmann::json(waiter->second) : nullptr},
           {"blocker_connection",
            blocker != waits->connection_of.end() ? nlohmann::json(blocker->second) : nullptr}});
    }
    return edges.dump();
  });
  Capture(evidence, incident_id, at, "innodb_status", [&]() -> core::Result<std::string> {
    auto status = collect::ReadInnodbStatus(session);
    if (!status) return core::Fail(status.error());
    std::string text;
    for (const auto& [title, body] : status->sections) {
      text += fmt::format("------------\n{}\n------------\n{}\n", title, body);
    }
    return text;
  });
  Capture(evidence, incident_id, at, "status", [&]() -> core::Result<std::string> {
    auto status = collect::SampleStatus(session, clock);
    if (!status) return core::Fail(status.error());
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, value] : status->values) values[name] = value;
    return values.dump();
  });
  Capture(evidence, incident_id, at, "variables", [&]() -> core::Result<std::string> {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [name, value] : session.variables) values[name] = value;
    return values.dump();
  });
  Capture(evidence, incident_id, at, "replica_status", [&]() -> core::Result<std::string> {
    auto channels = collect::ReadReplicaStatus(session);
    if (!channels) return core::Fail(channels.error());
    return ReplicaJson(*channels).dump();
  });

  // Assessment and investigation (the runbook's minutes 0-15, at once).
  const steps::Assessment assessment = steps::RunAssessment(session, clock, target.assess);
  evidence.push_back({incident_id, at, "assessment", report::AssessmentJson(assessment).dump()});
  const auto investigation_steps = steps::MakeInvestigationSteps(options);
  const steps::Investigation investigation =
      steps::RunInvestigation(session, clock, options, investigation_steps);
  const nlohmann::json investigation_json = report::InvestigationJson(investigation);

  std::vector<store::FindingRecord> findings;
  const auto& finding_docs = investigation_json.at("findings");
  for (size_t i = 0; i < investigation.findings.size(); ++i) {
    const steps::Finding& f = investigation.findings[i];
    const std::string severity(steps::SeverityName(f.severity));
    result.findings.push_back({f.code, severity, f.title});
    findings.push_back({incident_id, 0, at, f.code, severity, f.title,
                        i < finding_docs.size() ? finding_docs[i].dump() : "{}"});
  }
  // Assessment checks at warning or worse are findings too ("assess.<check>").
  for (const steps::Check& check : assessment.checks) {
    if (check.level != steps::Level::kWarn && check.level != steps::Level::kCritical) continue;
    const std::string code = "assess." + check.id;
    const std::string severity = check.level == steps::Level::kCritical ? "critical" : "warning";
    const std::string title = fmt::format("{}: {}", check.title, check.display);
    result.findings.push_back({code, severity, title});
    findings.push_back(
        {incident_id, 0, at, code, severity, title, report::CheckJson(check).dump()});
  }

  if (store != nullptr) {
    int diagnosis = 1;
    if (auto previous = store->Findings(incident_id); previous && !previous->empty()) {
      diagnosis = previous->back().diagnosis + 1;
    }
    for (auto& f : findings) f.diagnosis = diagnosis;
    (void)store->SaveEvidence(evidence);
    (void)store->SaveFindings(incident_id, diagnosis, findings);
  }
  result.ok = true;
  result.at = clock.WallNow();
  return result;
}

}  // namespace dbrunbook::daemon
