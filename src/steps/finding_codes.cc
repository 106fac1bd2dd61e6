#include "steps/finding_codes.h"

#include <algorithm>

#include "steps/assess.h"

namespace dbrunbook::steps {

std::vector<std::string> FindingCodes() {
  // The step that emits each group: check.* any investigation step that could not read
  // everything (investigate.cc and the steps' own partial results); digest.*
  // investigate_digest.cc; index.* and table.largest / table.fragmented
  // investigate_resources.cc; lock.* investigate_locks.cc; mdl.* investigate_mdl.cc;
  // query.* and transaction.* investigate_queries.cc; replication.*
  // investigate_replication.cc; slowlog.* investigate_slowlog.cc; table.in_use
  // investigate_open_tables.cc. assess.<check>: an assessment check at warn or critical,
  // which the watch daemon's diagnosis (src/daemon/diagnose.cc) turns into a finding, one per
  // check of steps::AssessChecks().
  std::vector<std::string> codes = {
      "check.incomplete",
      "check.partial",
      "digest.full_scan",
      "digest.prepared_unseen",
      "digest.reset",
      "digest.table_full",
      "digest.top",
      "digest.unavailable",
      "index.duplicate",
      "index.low_cardinality",
      "index.unused",
      "index.unused_skipped",
      "lock.deadlock",
      "lock.root_blocker",
      "lock.wait_cycle",
      "lock.waits",
      "mdl.pileup",
      "mdl.wait",
      "query.active",
      "query.long_running",
      "replication.broken",
      "replication.connecting",
      "replication.delayed",
      "replication.lag",
      "replication.lag_cause",
      "replication.replicas",
      "replication.status",
      "replication.stopped",
      "slowlog.off",
      "slowlog.state",
      "slowlog.threshold_high",
      "table.fragmented",
      "table.in_use",
      "table.largest",
      "transaction.idle",
      "transaction.long",
  };
  for (const CheckSpec& spec : AssessChecks()) codes.push_back("assess." + std::string(spec.id));
  std::sort(codes.begin(), codes.end());
  return codes;
}

}  // namespace dbrunbook::steps
