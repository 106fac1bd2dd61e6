// Blocking trees: who waits for whom among transactions waiting for InnoDB row locks.
//
// The server reports lock waits as (waiter, blocker) pairs (performance_schema.data_lock_waits,
// information_schema.INNODB_LOCK_WAITS). A DBA needs the shape behind them: the ROOT blocker of
// each tree (a transaction that blocks others and waits for nothing itself, often a session
// idle in an open transaction), and everything it holds up, directly and through chains.
//
// The pairs form a directed graph. A waiter may have several blockers (InnoDB reports every
// conflicting lock ahead of it in the queue, including other waiters), so a "tree" here is the
// set of transactions reachable from one root; a transaction blocked by two roots belongs to
// both trees. A cycle (A waits for B, B waits for A) is a deadlock in progress, which InnoDB
// resolves at once unless innodb_deadlock_detect is OFF; it has no root, so it becomes a tree
// of its own whose roots are the members of the cycle.
//
// Pure functions, no I/O; nodes are opaque ids chosen by the caller (the steps use InnoDB
// transaction ids, which also name blockers that have no session, e.g. a recovered XA
// transaction).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace dbrunbook::steps {

// One observed wait: transaction `waiter` waits for a lock that conflicts with one of
// `blocker`'s. Pairs may repeat (one per conflicting lock); a pair with waiter == blocker or
// an empty id is ignored.
struct LockWaitEdge {
  std::string waiter;
  std::string blocker;
  double wait_seconds = 0;  // how long `waiter` has been waiting for its current lock
};

// A transaction held up inside a tree.
struct BlockedTransaction {
  std::string id;
  // 1 = waits for a root directly; n = the shortest chain from a root is n waits long.
  int depth = 1;
  // Its blockers (every one reported, sorted), whether or not they are in this tree.
  std::vector<std::string> blocked_by;
  double wait_seconds = 0;  // the longest reported for it
};

struct BlockingTree {
  // The root blocker; for a cycle, every member of the cycle (sorted).
  std::vector<std::string> roots;
  bool cycle = false;
  // Every transaction the roots hold up, directly or through others, ordered by depth then
  // id; the roots themselves are not in it.
  std::vector<BlockedTransaction> blocked;
  size_t direct = 0;                // blocked transactions at depth 1
  double longest_wait_seconds = 0;  // over `blocked` (and, for a cycle, its members)

  size_t transitive() const { return blocked.size(); }
};

// Builds one tree per root blocker and one per wait cycle. Ordered by the number of
// transactions held up (most first), then the longest wait, then the first root id.
std::vector<BlockingTree> BuildBlockingForest(const std::vector<LockWaitEdge>& edges);

}  // namespace dbrunbook::steps
