// The runbook's initial assessment (minutes 0-5): "is the database healthy right now?"
//
// One pass over a target produces a list of checks, each with a value, a human display and
// a level from thresholds (the runbook's defaults, overridable per check in the config).
// Counter-based checks are rates between two SHOW GLOBAL STATUS samples taken `interval`
// apart, never since-boot totals. Reads that fail (a missing privilege, a feature the flavor
// lacks) make their checks `unknown` with the reason, and the rest of the assessment goes on.
//
// Cost: about ten cheap statements (two status samples, the processlist, INNODB_TRX, replica
// status, connected replicas, and the history list length where it is not a status
// variable). bench/assess measures it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/target_session.h"
#include "core/clock.h"
#include "steps/level.h"

namespace dbrunbook::steps {

// A check the assessment knows, with its default thresholds.
struct CheckSpec {
  std::string_view id;
  std::string_view title;
  std::string_view unit;  // "", "ms", "s", "/s", "ratio"
  Threshold defaults;
  std::string_view description;  // one line for the README and --help
};

// Every check id, in display order. Thresholds in the configuration must use these ids.
const std::vector<CheckSpec>& AssessChecks();
const CheckSpec* FindAssessCheck(std::string_view id);

struct Check {
  std::string id;
  std::string title;
  Level level = Level::kOk;
  std::optional<double> value;
  std::string unit;
  std::string display;  // the value for humans: "12 of 151 (8%)"
  std::string detail;   // evidence or the reason for unknown
  Threshold threshold;  // effective thresholds (empty when the check has none)
  std::string channel;  // replication channel, for per-channel checks
};

enum class ExpectedRole { kUnspecified, kPrimary, kReplica };

struct ThresholdOverride {
  std::optional<double> warn;
  std::optional<double> critical;
};

// A source of further checks beyond the server's own view, e.g. the cloud provider's
// instance status and CPU / freeable-memory metrics (a later issue plugs it in here). The
// assessment calls Collect() once, after its own reads; a check with a value is judged by
// its threshold, overridden by id from AssessOptions::thresholds like every other check; a
// check without a value keeps the level the source gave it. A failing source becomes one
// `unknown` check named after the source: it never stops the assessment.
class CheckSource {
 public:
  virtual ~CheckSource() = default;
  virtual std::string_view name() const = 0;
  virtual core::Result<std::vector<Check>> Collect() = 0;
};

struct AssessOptions {
  core::Duration interval = std::chrono::seconds(1);
  // By check id; a missing field keeps the default.
  std::map<std::string, ThresholdOverride> thresholds;
  ExpectedRole expected_role = ExpectedRole::kUnspecified;
  // Replicas the configuration lists for this target (replicas: / other targets' replica_of).
  int expected_replicas = 0;
  // Not owned; must outlive RunAssessment.
  std::vector<CheckSource*> extra_sources;
};

// The checks of `source`, leveled by their thresholds (with `options.thresholds` overrides);
// a failing source gives one `unknown` check named after it. RunAssessment uses it for
// `extra_sources`; `assess` also uses it alone when the server cannot be reached.
std::vector<Check> RunCheckSource(CheckSource& source, const AssessOptions& options);

struct Assessment {
  std::string target;
  std::string endpoint;
  core::WallTime assessed_at{};
  core::Duration interval{};  // measured between the two status samples
  dialect::Flavor flavor;
  std::string server_version;
  std::vector<Check> checks;
  std::vector<std::string> notes;  // degraded parts, e.g. session protections refused
  uint64_t statements_sent = 0;    // on this session, including connect and detection
  Level overall = Level::kOk;
};

// Exit status for an assessment: 0 ok, 1 warn (or unknown checks), 2 critical.
int ExitCodeFor(Level overall);

Assessment RunAssessment(collect::TargetSession& target, core::Clock& clock,
                         const AssessOptions& options);

}  // namespace dbrunbook::steps
