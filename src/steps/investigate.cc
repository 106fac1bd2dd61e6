#include "steps/investigate.h"

#include <fmt/format.h>

#include "steps/investigate_digest.h"
#include "steps/investigate_locks.h"
#include "steps/investigate_mdl.h"
#include "steps/investigate_open_tables.h"
#include "steps/investigate_queries.h"
#include "steps/investigate_replication.h"
#include "steps/investigate_resources.h"
#include "steps/investigate_slowlog.h"

namespace dbrunbook::steps {

std::vector<std::unique_ptr<Step>> MakeInvestigationSteps(const InvestigateOptions& options) {
  std::vector<std::unique_ptr<Step>> steps;
  steps.push_back(std::make_unique<QueriesStep>());
  steps.push_back(std::make_unique<SlowLogStep>());
  steps.push_back(std::make_unique<LocksStep>());
  steps.push_back(std::make_unique<MetadataLocksStep>());
  steps.push_back(std::make_unique<OpenTablesStep>());
  steps.push_back(std::make_unique<ResourcesStep>(options.resources));
  steps.push_back(std::make_unique<ReplicationStep>(options.replication));
  steps.push_back(std::make_unique<DigestStep>());  // last: it waits between two snapshots
  return steps;
}

std::vector<std::string> InvestigationGroups() {
  std::vector<std::string> groups;
  for (const auto& step : MakeInvestigationSteps()) groups.emplace_back(step->group());
  return groups;
}

Finding IncompleteFinding(const Step& step, const core::Error& error,
                          collect::TargetSession& target) {
  Finding f;
  f.code = "check.incomplete";
  f.severity = Severity::kWarning;
  f.step = std::string(step.name());
  f.title = fmt::format("could not check {}: {}", step.group(), error.message);
  f.detail = std::string(step.description());
  EvidenceRow row;
  row.Add("step", std::string(step.name()));
  row.Add("error", std::string(core::ErrorCodeName(error.code)));
  if (error.server_errno != 0) row.Add("server_errno", int64_t{error.server_errno});
  f.evidence.push_back(std::move(row));
  if (error.code == core::ErrorCode::kPrivilege) {
    const std::string grant = step.RequiredGrant(target.flavor(), collect::QuotedAccount(target));
    f.suggestions.push_back({"grant the monitoring account what this check needs", grant});
  } else if (!error.hint.empty()) {
    f.suggestions.push_back({error.hint, ""});
  }
  return f;
}

Investigation RunInvestigation(collect::TargetSession& target, core::Clock& clock,
                               const InvestigateOptions& options,
                               const std::vector<std::unique_ptr<Step>>& steps) {
  Investigation inv;
  const auto& info = target.session->info();
  inv.target = info.target_name;
  inv.endpoint = info.endpoint;
  inv.flavor = target.flavor();
  inv.server_version = info.server_version;
  inv.started_at = clock.WallNow();
  const auto start = clock.MonotonicNow();

  for (const auto& step : steps) {
    StepRun run{std::string(step->name()), std::string(step->group())};
    if (!options.only.empty() && !options.only.contains(run.group)) {
      inv.steps.push_back(std::move(run));
      continue;
    }
    run.ran = true;
    const auto step_start = clock.MonotonicNow();
    const uint64_t sent_before = target.session->statements_sent();
    StepContext context{target, clock, options, step_start + options.step_budget};
    auto findings = step->Run(context);
    run.elapsed = clock.MonotonicNow() - step_start;
    run.statements = target.session->statements_sent() - sent_before;
    if (findings) {
      for (auto& f : *findings) {
        if (f.step.empty()) f.step = run.name;
        inv.findings.push_back(std::move(f));
      }
    } else {
      run.failed = true;
      inv.findings.push_back(IncompleteFinding(*step, findings.error(), target));
    }
    inv.steps.push_back(std::move(run));
  }
  SortFindings(inv.findings);
  inv.elapsed = clock.MonotonicNow() - start;
  inv.statements_sent = target.session->statements_sent();
  return inv;
}

int ExitCodeFor(const Investigation& investigation) {
  int code = 0;
  for (const auto& f : investigation.findings) {
    code = std::max(code, static_cast<int>(f.severity));
  }
  return code;
}

}  // namespace dbrunbook::steps
