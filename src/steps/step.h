// A step of the runbook: one typed unit of work on one target (DESIGN.md, "Step").
//
// Investigation steps read (never write) through the target's session, turn what they read
// into findings, and are bounded: each gets a deadline after which it must not start another
// statement, and every statement is also limited server-side (Dialect::SessionSetup). A step
// that cannot run at all (a missing privilege, a feature this flavor lacks) returns an error;
// the runner turns it into a finding of its own and the other steps still run.
//
// Steps are registered by name (MakeInvestigationSteps); the watch daemon reuses them.
// Thread-safety: a step object holds no per-run state; Run is called with one context at a
// time.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collect/target_session.h"
#include "core/clock.h"
#include "steps/finding.h"

namespace dbrunbook::steps {

// Thresholds of the resources step (config: investigate.fragmented_min_mib ...).
struct ResourcesThresholds {
  // table.fragmented: free space at least this many bytes and this share of the table.
  int64_t fragmented_min_bytes = int64_t{100} << 20;
  double fragmented_min_ratio = 0.2;
  // index.low_cardinality: tables with at least this many rows; keys with at most this many
  // distinct values.
  int64_t low_cardinality_min_rows = 100'000;
  int64_t low_cardinality_max_distinct = 20;
  // At most this many findings of each per-index or per-table code.
  size_t max_findings_per_code = 30;
};

// Thresholds of the replication step (config: investigate.replication_lag_warning ...).
struct ReplicationThresholds {
  double lag_warning_seconds = 60;    // runbook trigger: replication lag > 60 s
  double lag_critical_seconds = 300;  // as the assessment's replication_lag_seconds
  // An applier transaction open this long (or waiting for a lock) is a likely cause of lag.
  double applier_transaction_seconds = 10;
  // At most this many tables without a primary key are listed.
  int tables_without_primary_key = 20;
};

struct InvestigateOptions {
  // Queries: statements running at least this long are long runners (runbook: 60 s).
  double long_query_seconds = 60;
  // Sessions idle inside an open transaction at least this long are reported.
  double idle_transaction_seconds = 10;
  // Resources: how many of the largest tables to show, and above how many tables in total
  // the per-table information_schema reads are replaced by cheaper sources.
  int top_tables = 20;
  int max_tables_for_details = 10000;
  // Unused indexes are only called unused after the server has been up this long (a weekly
  // job's index looks unused on a Tuesday).
  std::chrono::seconds unused_index_min_uptime{std::chrono::hours(24)};
  // Statement digest: the interval between the two snapshots (0 skips the step) and how many
  // statements to show.
  core::Duration digest_interval = std::chrono::seconds(10);
  int digest_top = 10;
  ResourcesThresholds resources;
  ReplicationThresholds replication;
  // Longest a single step may keep starting statements.
  core::Duration step_budget = std::chrono::seconds(20);
  // Groups to run ("queries", "locks", ...); empty = all.
  std::set<std::string> only;
};

struct StepContext {
  collect::TargetSession& target;
  core::Clock& clock;
  const InvestigateOptions& options;
  core::MonoTime deadline;

  bool expired() const { return clock.MonotonicNow() >= deadline; }
};

class Step {
 public:
  virtual ~Step() = default;
  // "investigate.locks": stable, shown in findings and logs.
  virtual std::string_view name() const = 0;
  // "locks": what --only selects.
  virtual std::string_view group() const = 0;
  // One line for --help and the README.
  virtual std::string_view description() const = 0;
  // The privileges the step needs on this flavor, as a GRANT a DBA can run ("GRANT PROCESS ON
  // *.* TO 'monitor'@'%'"); used in the finding when the step is refused. `account` is the
  // quoted account ('monitor'@'%').
  virtual std::string RequiredGrant(const dialect::Flavor& flavor,
                                    std::string_view account) const = 0;

  virtual core::Result<std::vector<Finding>> Run(StepContext& context) = 0;
};

}  // namespace dbrunbook::steps
