// Investigation step "locks": row-lock waits built into blocking trees with their root
// blockers, and the latest deadlock InnoDB detected.
//
// Statements (src/dialect/locks.h): the (waiter, blocker) pairs from
// performance_schema.data_lock_waits (MySQL-family 8.0+) or information_schema.INNODB_LOCK_WAITS
// (MySQL 5.x, MariaDB); the root blockers' statements from performance_schema (where the
// statement consumers are on); SHOW ENGINE INNODB STATUS for the latest deadlock. At most three
// statements; all read.
//
// Findings:
//   lock.root_blocker  one per blocking tree (at most 10): the transaction at its root, which
//                      waits for nothing itself, and every session it holds up with its depth
//                      and what it waits for. Warning; critical when it holds up >= 3 sessions
//                      (directly or not), a wait in its tree is over 30 s, or it sits idle in
//                      an open transaction. Suggests the KILL that rolls the root back.
//   lock.wait_cycle    transactions waiting for each other (a deadlock InnoDB has not broken:
//                      innodb_deadlock_detect=OFF); critical.
//   lock.waits         info: every (waiter, blocker) pair, when there are waits.
//   lock.deadlock      the latest deadlock: both (all) transactions with their statements and
//                      locks, and which one InnoDB rolled back. Warning when it happened within
//                      the last hour by the server clock, info otherwise.
//   check.partial      info: a part that could not be checked and why (performance_schema OFF
//                      on MySQL 8.0+: blockers unknown; SHOW ENGINE INNODB STATUS refused).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collect/target_session.h"
#include "steps/lock_tree.h"
#include "steps/step.h"

namespace dbrunbook::steps {

// The row-lock waits now, for actions (mitigate kill-queries --root-blockers and its check
// that the waits were released): every (waiter, blocker) pair with the wait's age, and the
// connection that owns each transaction, where one does. One statement (dialect::RowLockWaits).
struct LockWaits {
  std::vector<LockWaitEdge> edges;
  std::map<std::string, uint64_t> connection_of;  // transaction id -> processlist id
  bool truncated = false;                         // the statement's row limit was reached
};
// kUnsupported when the server cannot say who blocks a wait (MySQL 8.0+ with
// performance_schema OFF); the query's error otherwise.
core::Result<LockWaits> ReadLockWaits(collect::TargetSession& target);

class LocksStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.locks"; }
  std::string_view group() const override { return "locks"; }
  std::string_view description() const override {
    return "row-lock waits as blocking trees with their root blockers, and the latest deadlock";
  }
  // PROCESS everywhere (INNODB_TRX, INNODB_LOCK_WAITS, SHOW ENGINE INNODB STATUS); on
  // MySQL-family 8.0+ also SELECT on performance_schema (data_lock_waits, data_locks, threads).
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

}  // namespace dbrunbook::steps
