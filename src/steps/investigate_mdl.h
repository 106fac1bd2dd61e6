// Investigation step "mdl": sessions waiting for a metadata lock, what they wait for and who
// holds it, and the classic pile-up: an ALTER TABLE queued behind a long (often idle)
// transaction, with every new query on that table queued behind the ALTER.
//
// Sources, best first (dialect/mdl.h): performance_schema.metadata_locks where the MDL
// instrument is enabled (granted and pending locks: exact); MariaDB's METADATA_LOCK_INFO
// plugin where it is loaded (granted locks exact, what each waiter wants inferred from its
// processlist state and statement); otherwise the processlist alone (waiters exact, the
// holder inferred from open transactions and running statements). The step first reads the
// waiters from the processlist and stops there when nobody waits (one cheap statement).
//
// Findings:
//   mdl.pileup  one per waiting DDL or other strong request (ALTER, TRUNCATE, DROP, RENAME,
//               CREATE/DROP INDEX, OPTIMIZE, LOCK TABLES ... WRITE, FLUSH TABLES WITH READ
//               LOCK) that waits for a lock others hold, or that others queue behind: its
//               ROOT (the session(s) holding the lock, followed through chains of waits to a
//               session that does not wait itself), the waiting request, and the sessions
//               queued behind it. Critical when anyone involved has waited > 30 s or >= 3
//               sessions are queued, else warning. Suggestions: end the root's transaction
//               (KILL CONNECTION of the root rolls it back), or cancel the waiting statement
//               (KILL QUERY) so the queued statements run, with the trade-off; prevention
//               (pt-online-schema-change / gh-ost, a short lock_wait_timeout for DDL).
//   mdl.wait    other metadata-lock waits (a SELECT behind LOCK TABLES ... WRITE, writes
//               behind FLUSH TABLES WITH READ LOCK ...), one per blocking root: the root and
//               its waiters. Same severity rule.
//   check.partial  info: what the findings above could not be sure of and why (the MDL
//               instrument disabled, the METADATA_LOCK_INFO plugin not loaded), with how to
//               get exact answers next time. Only when somebody waits.
//
// The evidence of every finding says which source it came from and the confidence (high:
// lock table; medium: granted locks exact, waiting requests inferred; low: processlist).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mysql/result.h"
#include "steps/step.h"

namespace dbrunbook::steps {

class MetadataLocksStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.mdl"; }
  std::string_view group() const override { return "mdl"; }
  std::string_view description() const override {
    return "metadata-lock pile-ups (an ALTER queued behind a transaction, and everything queued "
           "behind the ALTER) and other metadata-lock waits";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

// The pure analysis behind the step, separate so that tests can feed it recorded or
// hand-made lock tables.
namespace mdl {

enum class Source {
  kPerformanceSchema,  // performance_schema.metadata_locks: granted and pending, exact
  kMetadataLockInfo,   // METADATA_LOCK_INFO: granted exact, pending inferred
  kProcesslist,        // processlist states only: holders inferred
};
std::string_view SourceName(Source source);  // "performance_schema.metadata_locks" ...

enum class Confidence { kHigh, kMedium, kLow };
std::string_view ConfidenceName(Confidence confidence);  // "high", "medium", "low"

struct Session {
  uint64_t id = 0;  // processlist id (0: a background thread)
  std::string user;
  std::string host;
  std::string db;
  std::string command;
  std::string state;
  double time_seconds = 0;
  std::optional<std::string> statement;
  std::optional<double> trx_seconds;  // age of its open InnoDB transaction

  bool idle() const { return command == "Sleep" && !statement.has_value(); }
  bool waits_for_metadata_lock() const;  // by its processlist state
};

struct Lock {
  uint64_t connection_id = 0;
  // Normalised object: type as performance_schema names it (TABLE, SCHEMA, GLOBAL, BACKUP,
  // COMMIT, FUNCTION, ...); schema and name empty when the object has none.
  std::string object_type;
  std::string schema;
  std::string name;
  // Lock type without the MDL_ prefix: EXCLUSIVE, SHARED_READ, BACKUP_FTWRL1, ...;
  // "UNKNOWN" for a request whose type could not be inferred.
  std::string lock_type;
  bool granted = true;
  bool inferred = false;  // a pending request inferred from the processlist

  std::string ObjectText() const;  // "shop.orders", "global read lock (BACKUP)", ...
};

struct Snapshot {
  Source source = Source::kProcesslist;
  std::vector<Lock> locks;
  std::map<uint64_t, Session> sessions;  // every session named anywhere
  // Sessions waiting for a metadata lock by their processlist state (ids into `sessions`).
  std::vector<uint64_t> waiters;
  // Sessions that could hold a lock (open transaction or running statement), for roots the
  // lock tables cannot name; empty when not read.
  std::vector<uint64_t> candidates;
};

struct Pileup {
  uint64_t head = 0;             // the waiting DDL (or other strong request)
  Lock request;                  // what it waits for
  std::vector<uint64_t> roots;   // sessions holding what it waits for (not waiting themselves)
  std::vector<uint64_t> queued;  // sessions waiting behind it (directly or transitively)
  bool roots_inferred = false;   // roots guessed from open transactions / running statements
  Confidence confidence = Confidence::kHigh;
};

struct WaitGroup {
  std::vector<uint64_t> roots;    // empty: the holder could not be determined
  std::vector<uint64_t> waiters;  // longest waiting first
  std::vector<Lock> requests;     // what each waiter waits for (same order)
  bool roots_inferred = false;
  Confidence confidence = Confidence::kHigh;
};

struct Analysis {
  std::vector<Pileup> pileups;  // longest-waiting head first
  std::vector<WaitGroup> waits;
  // Waiters the lock data did not cover and that were analysed from the processlist.
  std::vector<uint64_t> uncovered;
};

// Builds the wait-for graph from the locks (MySQL/MariaDB compatibility and priority
// matrices: object, scoped and MariaDB backup locks), finds each pile-up head, its roots
// and its queue, and groups the remaining waits by root. Waiters in `snapshot.waiters` that
// no pending lock covers get an inferred request (from their state and statement) and, when
// their holder is unknown, roots inferred from `snapshot.candidates`.
Analysis Analyze(const Snapshot& snapshot);

// Parsing of the statements' answers into a snapshot (also used on recorded output).
std::map<uint64_t, Session> ParseSessions(const mysql::ResultSet& result);
// Rows of dialect::MetadataLocks or dialect::MetadataLockInfo (whose LOCK_TYPE names and
// MDL_ prefixes are normalised).
std::vector<Lock> ParseLocks(const mysql::ResultSet& result);

// Is the lock on a TABLE-like object blocked by a granted / a pending lock of these types?
// (The matrices, exposed for tests.) Unknown types conflict with everything granted.
bool BlockedByGranted(const Lock& request, const Lock& granted);
bool BlockedByPending(const Lock& request, const Lock& pending);

// The table a DDL or LOCK TABLES statement works on ("shop.orders" as schema and name;
// schema empty when unqualified), or nullopt.
struct TableName {
  std::string schema;
  std::string name;
};
std::optional<TableName> StatementTable(std::string_view statement);
// Whether `statement` names table `name` (optionally `schema`.`name`) as an identifier.
bool StatementMentions(std::string_view statement, const TableName& table,
                       std::string_view default_schema);
// "ALTER TABLE", "TRUNCATE TABLE", "LOCK TABLES", "FLUSH TABLES WITH READ LOCK", "SELECT" ...
std::string StatementKind(std::string_view statement);

}  // namespace mdl
}  // namespace dbrunbook::steps
