// mitigate.kill_queries: the runbook's "kill long-running queries", guarded.
//
// Two halves, kept apart so that each can be shown and tested alone:
//   * Planning (PlanKills, pure; ReadAndPlanKills reads then plans): from every session of the
//     processlist and the open InnoDB transactions, pick the victims that match the criteria,
//     apply the guardrails, and say for each victim why it matched and the exact statement that
//     will be sent, and for each excluded session why it is spared.
//   * Execution (ExecuteKills): for each victim, re-read its session just before the kill and
//     skip it ("changed, not killed") unless it is still the same connection running the same
//     statement; send the kill; then verify within a timeout that the victim is gone (or, for
//     --kill-query, that its statement is).
//
// Criteria (all given ones must hold): busy time (a session not in Sleep whose current command
// has run at least that long; the runbook's default `time > 300 AND command != 'Sleep'` when
// neither busy nor idle time is given) or idle time (a Sleep session inside an open InnoDB
// transaction, idle at least that long); RE2 patterns, unanchored as pt-kill's, on user, host,
// db, command, state and the statement text; --ignore-user spares matching users.
//
// Root blockers (--root-blockers, from the lock investigation's blocking trees): the victims
// are the transactions at the root of row-lock wait trees (ReadLockWaits, BuildBlockingForest)
// whose longest wait reached --min-wait; the patterns and guardrails apply as above, the kill
// is always of the connection (only a rollback frees the locks), and the kill is verified only
// once the connection is gone AND no transaction waits for its locks any more.
//
// Guardrails, which no option lifts: replication threads (Binlog Dump, Slave_IO / Slave_SQL /
// Slave_worker), system users (system user, event_scheduler, rdsadmin, rdsrepladmin), daemon
// threads (the event scheduler), this session (CONNECTION_ID(), read from the server itself),
// protected users (configuration), sessions already being killed, and a cap on victims.
//
// Thread-safety: plain functions; a plan is a value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/activity.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "core/error.h"
#include "dialect/dialect.h"
#include "steps/investigate_locks.h"

namespace dbrunbook::steps {

// The runbook's long query: `time > 300 AND command != 'Sleep'`.
inline constexpr double kRunbookBusySeconds = 300;
// Sessions read for planning; a processlist longer than this is planned from its longest part.
inline constexpr int kKillSessionLimit = 10000;
inline constexpr int kDefaultMaxVictims = 10;
inline constexpr int kMaxVictimsLimit = 1000;
// --root-blockers: a tree is acted on once one of its waits has lasted this long.
inline constexpr double kDefaultRootBlockerMinWait = 10;

enum class VictimPolicy { kOldest, kAll };

struct KillCriteria {
  std::optional<double> busy_seconds;  // --busy-time
  std::optional<double> idle_seconds;  // --idle-time
  // RE2 patterns, unanchored; empty: not used.
  std::string match_user;
  std::string ignore_user;
  std::string match_db;
  std::string match_info;
  std::string match_host;
  std::string match_command;
  std::string match_state;
  bool kill_query = false;  // stop the statement, keep the connection
  // --root-blockers: instead of the time criteria, the root blockers of row-lock waits (a
  // transaction that blocks others and waits for nothing itself), in trees where some wait has
  // lasted at least min_wait_seconds. Always a connection kill: only a rollback releases the
  // locks a transaction holds.
  bool root_blockers = false;
  double min_wait_seconds = kDefaultRootBlockerMinWait;
  VictimPolicy victims = VictimPolicy::kOldest;
  int max_victims = kDefaultMaxVictims;
  std::vector<std::string> protected_users;  // from the configuration
};

// KillCriteria checked and its patterns compiled. Immutable.
class KillMatcher {
 public:
  // kInvalidArgument naming the option for a pattern RE2 rejects, a negative time, a cap
  // outside 1..kMaxVictimsLimit, or --kill-query with only --idle-time (an idle session has no
  // statement to stop).
  static core::Result<KillMatcher> Create(KillCriteria criteria);

  const KillCriteria& criteria() const { return criteria_; }
  // The busy time in force (the runbook's 300 s when neither time was given).
  std::optional<double> busy_seconds() const;
  // One line for the plan: "busy >= 300s (runbook default), user ~ /app/".
  std::string Describe() const;

  struct Match {
    bool matched = false;
    std::string why;  // "running 312.4s >= 300s (Query); user ~ /app/"
  };
  // Whether a session matches the time criteria and every pattern (not --ignore-user, not the
  // guardrails). `idle_in_transaction`: the session sleeps inside an open transaction. With
  // --root-blockers the time criteria are replaced by `root_why` (why the session is a root
  // blocker to act on; null: it is not one).
  Match Matches(const collect::ActiveStatement& session, bool idle_in_transaction,
                const std::string* root_why = nullptr) const;
  bool Ignored(const collect::ActiveStatement& session) const;

  KillMatcher(KillMatcher&&) noexcept;
  KillMatcher& operator=(KillMatcher&&) noexcept;
  ~KillMatcher();

 private:
  struct Patterns;
  KillMatcher(KillCriteria criteria, std::unique_ptr<Patterns> patterns);
  KillCriteria criteria_;
  std::unique_ptr<Patterns> patterns_;
};

// Why a session may never be killed, or nullopt. `own_connection_id` is this session's id
// (also recognised by the row's is_self).
std::optional<std::string> Guardrail(const collect::ActiveStatement& session,
                                     uint64_t own_connection_id,
                                     const std::vector<std::string>& protected_users);

// A root blocker of row-lock waits, from BuildBlockingForest over ReadLockWaits.
struct RootBlocker {
  uint64_t connection_id = 0;
  std::string trx_id;
  size_t held_up = 0;  // transactions waiting behind it, directly or not
  double longest_wait_seconds = 0;
};

// The roots of the blocking trees in `waits` that have a session and a wait of at least
// `min_wait_seconds` (cycles are left to InnoDB's deadlock detection). By connection id.
std::map<uint64_t, RootBlocker> RootBlockersOf(const LockWaits& waits, double min_wait_seconds);

// Every transaction in `waits` that others wait for (root or not) and has a session, with how
// many transactions wait behind it, directly or through others. By connection id. A victim
// that is one of them is verified, after a connection kill, only once those waits are gone.
std::map<uint64_t, RootBlocker> BlockersOf(const LockWaits& waits);

struct Victim {
  collect::ActiveStatement session;  // as read when planning
  bool idle_in_transaction = false;
  // --root-blockers: the victim's transaction and how many wait behind it; after the kill,
  // the waits it caused must be released for the kill to be verified.
  std::string blocker_trx_id;
  size_t held_up = 0;
  std::string statement;  // the statement, redacted (abstract fingerprint); "" when idle
  std::string sql;        // the exact kill statement
  std::string why;        // why it matched
};

struct Exclusion {
  collect::ActiveStatement session;
  std::string statement;  // redacted
  std::string reason;
  bool guardrail = false;  // spared by a guardrail (not by an option or the cap)
};

struct KillPlan {
  std::string criteria;  // KillMatcher::Describe()
  bool kill_query = false;
  int sessions_read = 0;
  std::vector<Victim> victims;      // oldest first
  std::vector<Exclusion> excluded;  // matched the criteria, spared
  core::MonoTime read_at{};         // when the processlist was read
};

// Pure planning from rows read by collect::ReadSessions and ReadOldestTransactions, and (with
// --root-blockers) the root blockers of the lock waits.
KillPlan PlanKills(const KillMatcher& matcher, const dialect::Dialect& dialect,
                   const std::vector<collect::ActiveStatement>& sessions,
                   const std::vector<collect::OpenTransaction>& transactions,
                   uint64_t own_connection_id,
                   const std::map<uint64_t, RootBlocker>& root_blockers = {});

// Reads the sessions and transactions on `target` and plans. Errors are the reads'.
core::Result<KillPlan> ReadAndPlanKills(collect::TargetSession& target, core::Clock& clock,
                                        const KillMatcher& matcher);

// The statement as shown and audited: the abstract fingerprint (literals replaced), one line.
std::string RedactStatement(const std::optional<std::string>& info);

enum class KillStatus {
  kKilled,       // sent and verified
  kChanged,      // the session changed (or ended) before the kill: not killed
  kFailed,       // the server refused the kill
  kNotVerified,  // sent, but the victim was still there when the timeout ran out
};
std::string_view KillStatusName(KillStatus status);  // killed, changed, failed, not_verified

struct KillOutcome {
  uint64_t connection_id = 0;
  KillStatus status = KillStatus::kFailed;
  std::string sql;                   // what was sent (empty when nothing was)
  std::string detail;                // "gone after 0.2s", "now runs another statement", ...
  std::optional<core::Error> error;  // kFailed
  double verify_seconds = 0;         // kKilled: time from the kill to the verification
  // --root-blockers: the lock waits the victim caused, when the kill was sent, and how many
  // were still there at the end (0 when verified).
  size_t waits_before = 0;
  size_t waits_remaining = 0;
};

enum class KillEvent { kRefused, kApplied, kFailed, kVerified };

struct ExecuteOptions {
  core::Duration verify_timeout = std::chrono::seconds(10);
  core::Duration poll_interval = std::chrono::milliseconds(100);
  // Between reads of the lock waits: InnoDB refreshes its information_schema lock tables only
  // when nobody has read them for 100 ms, so a faster poll keeps seeing an old snapshot.
  core::Duration lock_poll_interval = std::chrono::milliseconds(250);
  // Told of each step of each victim (the audit log): kRefused when skipped at the re-check,
  // kApplied once the kill was accepted, kFailed when it was refused or not verified,
  // kVerified when verified. May be empty.
  std::function<void(const Victim&, KillEvent, const KillOutcome&)> on_event;
};

// How one event of a victim reads in the audit log: the phase (store::PhaseName's spelling:
// "refused", "applied", "failed", "verified"), the subject ("connection 42"), the result and
// the error text. Shared by `mitigate kill-queries` and the watch daemon, so both audit kills
// the same way.
struct KillAudit {
  std::string_view phase;
  std::string subject;
  std::string result;
  std::string error;
};
KillAudit AuditOf(const Victim& victim, KillEvent event, const KillOutcome& outcome);

// Whether `now` is still the session planned as `then`, `elapsed` later: same connection,
// command, statement text and query id (where the flavor has one), and a start time that did
// not move (the session's time grew by about `elapsed`, not reset).
bool SameStatement(const collect::ActiveStatement& then, const collect::ActiveStatement& now,
                   core::Duration elapsed);

// Re-checks, kills and verifies each victim in order. A lost connection stops the run: the
// remaining victims are reported kFailed with that error, nothing further is sent.
std::vector<KillOutcome> ExecuteKills(collect::TargetSession& target, core::Clock& clock,
                                      const KillPlan& plan, const ExecuteOptions& options);

}  // namespace dbrunbook::steps
