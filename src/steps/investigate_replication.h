// Investigation step "replication": the state of this server as a replica (per channel: IO
// and SQL threads, errors, lag with the configured delay subtracted, relay-log backlog, GTID
// positions, the likely cause of lag) and as a source (its replicas; Aurora's cluster
// instances).
//
// Findings (severity rules; `lag` is Seconds_Behind_Master/_Source minus SQL_Delay, never
// below 0 — a delayed replica is not lagging by its delay):
//   replication.broken      critical: the IO or SQL thread stopped on an error (errno and
//                           message in the title); suggests how to look at the failing event
//                           and the exact statements to fix, restart or skip it for this
//                           flavor, with the warning that skipping diverges the data
//   replication.connecting  critical: the IO thread keeps trying to connect (its last error)
//   replication.stopped     warning: a thread stopped without an error (STOP SLAVE, or
//                           stopped by a DBA), with the backlog waiting in the relay log
//   replication.lag         warning from lag_warning_seconds (60 s, the runbook's trigger),
//                           critical from lag_critical_seconds (300 s); evidence: positions,
//                           position gap, relay log space, GTID positions
//   replication.lag_cause   warning, one per likely cause found while the lag is at least
//                           lag_warning_seconds: the applier's long (or lock-waiting)
//                           transaction, tables without a primary key in the replicated
//                           schemas, single-threaded apply, the IO thread not keeping up
//   replication.delayed     info: a configured SQL_Delay (MASTER_DELAY), with what is waiting
//   replication.status      info: a channel with nothing wrong (threads, lag, positions, GTIDs)
//   replication.replicas    info on a source: its replicas (SHOW REPLICA HOSTS where the
//                           account may run it, else the Binlog Dump threads of the
//                           processlist; Aurora: information_schema.replica_host_status), the
//                           source used named in the evidence
//   check.partial           info: a part that could not be checked, and why
// Reads only. Needs the replica-status privilege (GRANT per flavor: grants.h) and PROCESS.
#pragma once

#include "steps/step.h"

namespace dbrunbook::steps {

class ReplicationStep final : public Step {
 public:
  ReplicationStep() = default;
  explicit ReplicationStep(ReplicationThresholds thresholds) : thresholds_(thresholds) {}

  std::string_view name() const override { return "investigate.replication"; }
  std::string_view group() const override { return "replication"; }
  std::string_view description() const override {
    return "replica threads, lag and its likely cause, errors, relay backlog; a primary's replicas";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;

 private:
  ReplicationThresholds thresholds_;
};

}  // namespace dbrunbook::steps
