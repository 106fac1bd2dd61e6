// The runbook's investigation (minutes 5-15): every investigation step on one target, their
// findings sorted by severity, and what could not be checked.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "steps/finding.h"
#include "steps/step.h"

namespace dbrunbook::steps {

// Every investigation step, in the order they run. The statement digest comes last because
// it waits between its two snapshots with nothing else running on the session.
// The steps in their order; the resources and replication steps take their thresholds from
// `options`.
std::vector<std::unique_ptr<Step>> MakeInvestigationSteps(const InvestigateOptions& options = {});

// The groups --only accepts ("queries", "slowlog", "locks", ...), in run order.
std::vector<std::string> InvestigationGroups();

struct StepRun {
  std::string name;
  std::string group;
  bool ran = false;     // false when --only left it out
  bool failed = false;  // the step could not run (see its "check.incomplete" finding)
  core::Duration elapsed{};
  uint64_t statements = 0;  // statements it sent
};

struct Investigation {
  std::string target;
  std::string endpoint;
  core::WallTime started_at{};
  core::Duration elapsed{};
  dialect::Flavor flavor;
  std::string server_version;
  std::vector<Finding> findings;  // most severe first
  std::vector<StepRun> steps;
  uint64_t statements_sent = 0;  // on the session, connect and detection included
};

Investigation RunInvestigation(collect::TargetSession& target, core::Clock& clock,
                               const InvestigateOptions& options,
                               const std::vector<std::unique_ptr<Step>>& steps);

// 0 when no finding is above info, 1 for warnings, 2 for a critical finding.
int ExitCodeFor(const Investigation& investigation);

// The finding a refused step turns into: "could not check locks: ..." with the GRANT it
// needs (asking the server for the exact account name when the error is a privilege).
Finding IncompleteFinding(const Step& step, const core::Error& error,
                          collect::TargetSession& target);

}  // namespace dbrunbook::steps
