#include "steps/mitigate_kill.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/text.h"
#include "digest/fingerprint.h"

namespace dbrunbook::steps {
namespace {

// Processlist commands of replication threads: the source's dump threads, MariaDB's replica
// IO / SQL / worker threads (MySQL's run as `system user`, caught by the user list).
constexpr std::array<std::string_view, 6> kReplicationCommands = {
    "Binlog Dump", "Binlog Dump GTID", "Slave_IO", "Slave_SQL", "Slave_worker", "Register Slave"};
// Users that are the server itself, or the cloud provider's management and replication.
constexpr std::array<std::string_view, 4> kSystemUsers = {"system user", "event_scheduler",
                                                          "rdsadmin", "rdsrepladmin"};

// Start time may look shifted by this much between two reads: MySQL's TIME is whole seconds,
// plus the time the reads themselves take.
constexpr double kStartTolerance = 2.0;

// MySQL/MariaDB errors a kill gets when its victim is already gone.
constexpr int kErNoSuchThread = 1094;
constexpr int kErNoSuchQuery = 1957;  // MariaDB: KILL QUERY ID of a finished statement
constexpr int kErKillDenied = 1095;   // "You are not owner of thread"

bool Contains(const auto& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Seconds(double s) { return fmt::format("{:.1f}s", s); }

}  // namespace

struct KillMatcher::Patterns {
  struct Pattern {
    std::string option;  // "--match-user"
    std::string field;   // "user"
    std::unique_ptr<RE2> re;
  };
  std::vector<Pattern> match;
  std::unique_ptr<RE2> ignore_user;
};

KillMatcher::KillMatcher(KillCriteria criteria, std::unique_ptr<Patterns> patterns)
    : criteria_(std::move(criteria)), patterns_(std::move(patterns)) {}
KillMatcher::KillMatcher(KillMatcher&&) noexcept = default;
KillMatcher& KillMatcher::operator=(KillMatcher&&) noexcept = default;
KillMatcher::~KillMatcher() = default;

core::Result<KillMatcher> KillMatcher::Create(KillCriteria criteria) {
  auto invalid = [](std::string message, std::string hint = {}) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message), std::move(hint));
  };
  for (auto [option, value] : {std::pair{"--busy-time", criteria.busy_seconds},
                               std::pair{"--idle-time", criteria.idle_seconds}}) {
    if (value && (!std::isfinite(*value) || *value < 0)) {
      return invalid(fmt::format("{} must be a number of seconds, 0 or more", option));
    }
  }
  if (criteria.max_victims < 1 || criteria.max_victims > kMaxVictimsLimit) {
    return invalid(fmt::format("--max-victims must be from 1 to {}", kMaxVictimsLimit));
  }
  if (criteria.root_blockers) {
    if (criteria.kill_query) {
      return invalid(
          "--root-blockers with --kill-query: stopping a statement does not release the locks "
          "its transaction holds",
          "drop --kill-query: killing the connection rolls the transaction back and frees them");
    }
    if (criteria.busy_seconds || criteria.idle_seconds) {
      return invalid(
          "--root-blockers chooses sessions by the lock waits they cause; --busy-time and "
          "--idle-time do not apply",
          "use --min-wait to act only on trees whose waits have lasted long enough");
    }
    if (!std::isfinite(criteria.min_wait_seconds) || criteria.min_wait_seconds < 0) {
      return invalid("--min-wait must be a number of seconds, 0 or more");
    }
  }
  if (criteria.kill_query && criteria.idle_seconds && !criteria.busy_seconds) {
    return invalid(
        "--kill-query stops a running statement; a session idle in a transaction "
        "has none",
        "kill its connection instead (drop --kill-query): that rolls the "
        "transaction back");
  }
  auto patterns = std::make_unique<Patterns>();
  RE2::Options options;
  options.set_log_errors(false);
  auto compile = [&](const std::string& option,
                     const std::string& text) -> core::Result<std::unique_ptr<RE2>> {
    auto re = std::make_unique<RE2>(text, options);
    if (!re->ok()) {
      return invalid(
          fmt::format("{}: invalid regular expression '{}': {}", option, text, re->error()),
          "patterns are RE2 syntax (no backreferences or lookaround)");
    }
    return re;
  };
  const std::array<std::tuple<const char*, const char*, const std::string*>, 6> fields = {{
      {"--match-user", "user", &criteria.match_user},
      {"--match-host", "host", &criteria.match_host},
      {"--match-db", "db", &criteria.match_db},
      {"--match-command", "command", &criteria.match_command},
      {"--match-state", "state", &criteria.match_state},
      {"--match-info", "statement", &criteria.match_info},
  }};
  for (const auto& [option, field, text] : fields) {
    if (text->empty()) continue;
    auto re = compile(option, *text);
    if (!re) return core::Fail(re.error());
    patterns->match.push_back({option, field, std::move(*re)});
  }
  if (!criteria.ignore_user.empty()) {
    auto re = compile("--ignore-user", criteria.ignore_user);
    if (!re) return core::Fail(re.error());
    patterns->ignore_user = std::move(*re);
  }
  return KillMatcher(std::move(criteria), std::move(patterns));
}

std::optional<double> KillMatcher::busy_seconds() const {
  if (criteria_.root_blockers) return std::nullopt;
  if (criteria_.busy_seconds) return criteria_.busy_seconds;
  if (criteria_.idle_seconds) return std::nullopt;
  return kRunbookBusySeconds;
}

std::string KillMatcher::Describe() const {
  std::vector<std::string> parts;
  if (auto busy = busy_seconds()) {
    parts.push_back(fmt::format("busy (command not Sleep) >= {}s{}", *busy,
                                criteria_.busy_seconds ? "" : " (the runbook's default)"));
  }
  if (criteria_.idle_seconds) {
    parts.push_back(fmt::format("idle in a transaction >= {}s", *criteria_.idle_seconds));
  }
  if (criteria_.root_blockers) {
    parts.push_back(fmt::format("root blocker of row-lock waits (a wait >= {}s in its tree)",
                                criteria_.min_wait_seconds));
  }
  std::string text = fmt::format("{}", fmt::join(parts, " or "));
  for (const auto& p : patterns_->match) {
    text += fmt::format(", {} ~ /{}/", p.field, p.re->pattern());
  }
  if (patterns_->ignore_user)
    text += fmt::format(", user !~ /{}/", patterns_->ignore_user->pattern());
  return text;
}

KillMatcher::Match KillMatcher::Matches(const collect::ActiveStatement& s, bool idle_in_transaction,
                                        const std::string* root_why) const {
  Match m;
  const auto busy = busy_seconds();
  if (criteria_.root_blockers) {
    if (root_why == nullptr) return m;
    m.why = *root_why;
  } else if (busy && s.command != "Sleep" && s.time_seconds >= *busy) {
    m.why = fmt::format("running {} >= {}s ({})", Seconds(s.time_seconds), *busy, s.command);
  } else if (criteria_.idle_seconds && idle_in_transaction &&
             s.time_seconds >= *criteria_.idle_seconds) {
    m.why = fmt::format("idle {} >= {}s in an open transaction", Seconds(s.time_seconds),
                        *criteria_.idle_seconds);
  } else {
    return m;
  }
  for (const auto& p : patterns_->match) {
    std::string_view value;
    if (p.field == "user") value = s.user;
    if (p.field == "host") value = s.host;
    if (p.field == "db") value = s.db;
    if (p.field == "command") value = s.command;
    if (p.field == "state") value = s.state;
    if (p.field == "statement") value = s.info ? std::string_view(*s.info) : std::string_view();
    if (!RE2::PartialMatch(value, *p.re)) return m;
    m.why += fmt::format("; {} ~ /{}/", p.field, p.re->pattern());
  }
  m.matched = true;
  return m;
}

bool KillMatcher::Ignored(const collect::ActiveStatement& s) const {
  return patterns_->ignore_user && RE2::PartialMatch(s.user, *patterns_->ignore_user);
}

std::optional<std::string> Guardrail(const collect::ActiveStatement& s, uint64_t own_connection_id,
                                     const std::vector<std::string>& protected_users) {
  if (s.is_self || s.id == own_connection_id) return "dbrunbook's own connection";
  if (Contains(kReplicationCommands, s.command)) {
    return fmt::format("a replication thread ({})", s.command);
  }
  if (s.user == "event_scheduler") return "the event scheduler";
  if (Contains(kSystemUsers, s.user)) return fmt::format("a system user ({})", s.user);
  if (s.command == "Daemon") return "a server daemon thread";
  if (Contains(protected_users, s.user)) {
    return fmt::format("a protected user ({}: protected_users in the configuration)", s.user);
  }
  return std::nullopt;
}

std::string RedactStatement(const std::optional<std::string>& info) {
  if (!info || info->empty()) return {};
  digest::FingerprintOptions options;
  options.abstract = true;
  return core::OneLine(digest::Fingerprint(*info, options), 200);
}

KillPlan PlanKills(const KillMatcher& matcher, const dialect::Dialect& dialect,
                   const std::vector<collect::ActiveStatement>& sessions,
                   const std::vector<collect::OpenTransaction>& transactions,
                   uint64_t own_connection_id,
                   const std::map<uint64_t, RootBlocker>& root_blockers) {
  const KillCriteria& c = matcher.criteria();
  KillPlan plan;
  plan.criteria = matcher.Describe();
  plan.kill_query = c.kill_query;
  plan.sessions_read = static_cast<int>(sessions.size());
  std::map<uint64_t, const collect::OpenTransaction*> by_thread;
  for (const auto& t : transactions) by_thread.emplace(t.thread_id, &t);

  std::vector<Victim> candidates;
  for (const auto& s : sessions) {
    const auto trx = by_thread.find(s.id);
    const auto root = root_blockers.find(s.id);
    const bool is_root = c.root_blockers && root != root_blockers.end();
    // A root blocker that sleeps is idle inside the transaction that holds the locks.
    const bool idle_in_trx = s.command == "Sleep" && (trx != by_thread.end() || is_root);
    std::string root_why;
    if (is_root) {
      root_why = fmt::format(
          "root blocker: transaction {} holds up {} transaction{}, the longest "
          "waiting {}",
          root->second.trx_id, root->second.held_up, root->second.held_up == 1 ? "" : "s",
          Seconds(root->second.longest_wait_seconds));
    }
    const KillMatcher::Match match = matcher.Matches(s, idle_in_trx, is_root ? &root_why : nullptr);
    if (!match.matched) continue;
    const std::string statement = RedactStatement(s.info);
    auto exclude = [&](std::string reason, bool guardrail) {
      plan.excluded.push_back(Exclusion{s, statement, std::move(reason), guardrail});
    };
    if (auto reason = Guardrail(s, own_connection_id, c.protected_users)) {
      exclude(*reason, true);
      continue;
    }
    if (matcher.Ignored(s)) {
      exclude("user matches --ignore-user", false);
      continue;
    }
    if (s.command == "Killed") {
      exclude("already being killed", true);
      continue;
    }
    Victim v;
    v.session = s;
    v.idle_in_transaction = idle_in_trx;
    v.statement = statement;
    v.why = match.why;
    if (is_root) {
      v.blocker_trx_id = root->second.trx_id;
      v.held_up = root->second.held_up;
    }
    if (idle_in_trx && trx != by_thread.end()) {
      const auto* t = trx->second;
      v.why += fmt::format(" (transaction open {}, {} rows modified)", Seconds(t->age_seconds),
                           t->rows_modified);
    }
    if (c.kill_query) {
      // KILL QUERY ID names the statement itself: a connection that moved on to its next
      // statement between the re-check and the kill is not hit.
      if (s.query_id) v.sql = dialect.KillQueryId(*s.query_id);
      if (v.sql.empty()) v.sql = dialect.KillQuery(s.id);
    } else {
      v.sql = dialect.KillConnection(s.id);
    }
    if (v.sql.empty()) {
      exclude("the flavor was not detected: no action on an unknown server", true);
      continue;
    }
    if (c.kill_query && idle_in_trx) {
      exclude("idle in a transaction: no statement to stop (kill the connection instead)", false);
      continue;
    }
    candidates.push_back(std::move(v));
  }
  // Oldest first; root blockers by what they hold up, then by age.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Victim& a, const Victim& b) {
    if (a.held_up != b.held_up) return a.held_up > b.held_up;
    return a.session.time_seconds > b.session.time_seconds;
  });
  const size_t cap = c.victims == VictimPolicy::kOldest ? 1 : static_cast<size_t>(c.max_victims);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i < cap) {
      plan.victims.push_back(std::move(candidates[i]));
      continue;
    }
    const std::string reason =
        c.victims == VictimPolicy::kOldest
            ? std::string("--victims oldest: only the oldest match is killed")
            : fmt::format("over --max-victims {}", c.max_victims);
    plan.excluded.push_back(
        Exclusion{candidates[i].session, candidates[i].statement, reason, false});
  }
  return plan;
}

std::map<uint64_t, RootBlocker> RootBlockersOf(const LockWaits& waits, double min_wait_seconds) {
  std::map<uint64_t, RootBlocker> out;
  for (const BlockingTree& tree : BuildBlockingForest(waits.edges)) {
    if (tree.cycle || tree.roots.empty()) continue;
    if (tree.longest_wait_seconds < min_wait_seconds) continue;
    const auto connection = waits.connection_of.find(tree.roots.front());
    if (connection == waits.connection_of.end()) continue;  // no session: XA, not a kill
    out.emplace(connection->second, RootBlocker{connection->second, tree.roots.front(),
                                                tree.transitive(), tree.longest_wait_seconds});
  }
  return out;
}

std::map<uint64_t, RootBlocker> BlockersOf(const LockWaits& waits) {
  std::map<std::string, std::vector<const LockWaitEdge*>> waiting_on;  // blocker -> its edges
  for (const auto& e : waits.edges) {
    if (e.waiter.empty() || e.blocker.empty() || e.waiter == e.blocker) continue;
    waiting_on[e.blocker].push_back(&e);
  }
  std::map<uint64_t, RootBlocker> out;
  for (const auto& [trx, edges] : waiting_on) {
    const auto connection = waits.connection_of.find(trx);
    if (connection == waits.connection_of.end()) continue;
    // Everyone behind `trx`, directly or through others (a breadth-first walk; cycles end it).
    std::set<std::string> seen;
    std::vector<std::string> queue = {trx};
    double longest = 0;
    for (size_t i = 0; i < queue.size(); ++i) {
      const auto next = waiting_on.find(queue[i]);
      if (next == waiting_on.end()) continue;
      for (const LockWaitEdge* e : next->second) {
        longest = std::max(longest, e->wait_seconds);
        if (e->waiter != trx && seen.insert(e->waiter).second) queue.push_back(e->waiter);
      }
    }
    out.emplace(connection->second, RootBlocker{connection->second, trx, seen.size(), longest});
  }
  return out;
}

core::Result<KillPlan> ReadAndPlanKills(collect::TargetSession& target, core::Clock& clock,
                                        const KillMatcher& matcher) {
  const core::MonoTime read_at = clock.MonotonicNow();
  auto sessions = collect::ReadSessions(target, kKillSessionLimit);
  if (!sessions) return core::Fail(sessions.error());
  std::vector<collect::OpenTransaction> transactions;
  if (matcher.criteria().idle_seconds) {
    auto read = collect::ReadOldestTransactions(target, kKillSessionLimit);
    if (!read) return core::Fail(read.error());
    transactions = std::move(*read);
  }
  std::map<uint64_t, RootBlocker> roots;
  std::map<uint64_t, RootBlocker> blockers;
  if (matcher.criteria().root_blockers) {
    auto waits = ReadLockWaits(target);
    if (!waits) return core::Fail(waits.error());
    roots = RootBlockersOf(*waits, matcher.criteria().min_wait_seconds);
  } else if (!matcher.criteria().kill_query) {
    // Which victims hold locks others wait for: their kill is verified by those waits going
    // away too. A server that cannot tell (MySQL 8.0+ with performance_schema OFF) only loses
    // that part of the verification.
    if (auto waits = ReadLockWaits(target)) blockers = BlockersOf(*waits);
  }
  KillPlan plan = PlanKills(matcher, target.dialect, *sessions, transactions,
                            target.session->info().connection_id, roots);
  for (Victim& v : plan.victims) {
    const auto b = blockers.find(v.session.id);
    if (b == blockers.end() || !v.blocker_trx_id.empty()) continue;
    v.blocker_trx_id = b->second.trx_id;
    v.held_up = b->second.held_up;
    v.why += fmt::format("; its transaction {} holds up {} transaction{}", b->second.trx_id,
                         b->second.held_up, b->second.held_up == 1 ? "" : "s");
  }
  plan.read_at = read_at;
  return plan;
}

std::string_view KillStatusName(KillStatus status) {
  switch (status) {
    case KillStatus::kKilled:
      return "killed";
    case KillStatus::kChanged:
      return "changed";
    case KillStatus::kFailed:
      return "failed";
    case KillStatus::kNotVerified:
      return "not_verified";
  }
  return "failed";
}

bool SameStatement(const collect::ActiveStatement& then, const collect::ActiveStatement& now,
                   core::Duration elapsed) {
  if (now.id != then.id || now.command != then.command || now.info != then.info) return false;
  if (then.query_id && now.query_id && *then.query_id != *now.query_id) return false;
  // Start = read time - time: it must not have moved (a new statement restarts the time).
  const double expected = then.time_seconds + core::ToSeconds(elapsed);
  return std::abs(now.time_seconds - expected) <= kStartTolerance;
}

namespace {

core::Error KillError(collect::TargetSession& target, const core::Error& error) {
  core::Error e = error;
  if (error.server_errno == kErKillDenied || error.code == core::ErrorCode::kPrivilege) {
    const dialect::Flavor& f = target.flavor();
    const std::string account = collect::QuotedAccount(target);
    if (dialect::IsAwsManaged(f)) {
      e.hint = "on RDS and Aurora run this as the master user (mysql.rds_kill / rds_kill_query)";
    } else if (f.is_mariadb() && f.version.AtLeast(10, 5, 2)) {
      e.hint = fmt::format(
          "the account may kill only its own sessions: GRANT CONNECTION ADMIN "
          "ON *.* TO {} (or SUPER); or run this as an administrative account",
          account);
    } else if (f.is_mysql_family() && f.version.AtLeast(8, 0)) {
      e.hint = fmt::format(
          "the account may kill only its own sessions: GRANT CONNECTION_ADMIN "
          "ON *.* TO {}; or run this as an administrative account",
          account);
    } else {
      e.hint = fmt::format(
          "the account may kill only its own sessions: GRANT SUPER ON *.* TO "
          "{}; or run this as an administrative account",
          account);
    }
  }
  return e;
}

bool IsLost(const core::Error& e) {
  return e.code == core::ErrorCode::kUnavailable || e.code == core::ErrorCode::kTimeout;
}

}  // namespace

std::vector<KillOutcome> ExecuteKills(collect::TargetSession& target, core::Clock& clock,
                                      const KillPlan& plan, const ExecuteOptions& options) {
  std::vector<KillOutcome> outcomes;
  std::optional<core::Error> lost;
  auto tell = [&](const Victim& v, KillEvent event, const KillOutcome& o) {
    if (options.on_event) options.on_event(v, event, o);
  };
  for (const Victim& v : plan.victims) {
    KillOutcome o;
    o.connection_id = v.session.id;
    if (lost) {
      o.status = KillStatus::kFailed;
      o.error = *lost;
      o.detail = "not attempted: the connection to the server was lost";
      tell(v, KillEvent::kFailed, o);
      outcomes.push_back(std::move(o));
      continue;
    }
    // Re-check: the same connection, still running the same statement.
    auto now = collect::ReadSession(target, v.session.id);
    const core::Duration elapsed = clock.MonotonicNow() - plan.read_at;
    if (!now) {
      o.status = KillStatus::kFailed;
      o.error = now.error();
      o.detail = "could not re-check the session before the kill";
      if (IsLost(now.error())) lost = now.error();
      tell(v, KillEvent::kFailed, o);
      outcomes.push_back(std::move(o));
      continue;
    }
    if (!now->has_value() || !SameStatement(v.session, **now, elapsed)) {
      o.status = KillStatus::kChanged;
      o.detail = !now->has_value() ? "the connection ended before the kill"
                                   : "the session changed (another statement, or a reused "
                                     "connection id): not killed";
      tell(v, KillEvent::kRefused, o);
      outcomes.push_back(std::move(o));
      continue;
    }
    o.sql = v.sql;
    auto killed = target.session->Query(v.sql);
    if (!killed) {
      const int server_errno = killed.error().server_errno;
      if (server_errno == kErNoSuchThread || server_errno == kErNoSuchQuery) {
        o.status = KillStatus::kChanged;
        o.detail = "the statement ended just before the kill: not killed";
        tell(v, KillEvent::kRefused, o);
      } else {
        o.status = KillStatus::kFailed;
        o.error = KillError(target, killed.error());
        o.detail = "the server refused the kill";
        if (IsLost(killed.error())) lost = killed.error();
        tell(v, KillEvent::kFailed, o);
      }
      outcomes.push_back(std::move(o));
      continue;
    }
    tell(v, KillEvent::kApplied, o);
    // Verify: the connection gone, or (KILL QUERY) its statement gone.
    const core::MonoTime sent = clock.MonotonicNow();
    const core::MonoTime deadline = sent + options.verify_timeout;
    std::string last_seen;
    bool verified = false;
    for (;;) {
      auto after = collect::ReadSession(target, v.session.id);
      if (!after) {
        last_seen = fmt::format("could not read the session: {}", after.error().message);
        if (IsLost(after.error())) lost = after.error();
        break;
      }
      if (!after->has_value()) {
        verified = true;
        o.detail = "the connection is gone";
      } else if (plan.kill_query && (*after)->command != "Killed" &&
                 !SameStatement(v.session, **after, clock.MonotonicNow() - plan.read_at)) {
        verified = true;
        o.detail =
            fmt::format("the statement is gone; the connection stays ({})", (*after)->command);
      } else {
        last_seen = fmt::format("still there after {}: command {}, state '{}'",
                                Seconds(core::ToSeconds(clock.MonotonicNow() - sent)),
                                (*after)->command, (*after)->state);
      }
      if (verified || clock.MonotonicNow() >= deadline) break;
      clock.SleepFor(options.poll_interval);
    }
    if (verified && !v.blocker_trx_id.empty() && !lost) {
      // A root blocker: its kill is verified once nobody waits for its locks any more (the
      // rollback of a large transaction can outlast its connection).
      o.waits_before = v.held_up;
      verified = false;
      for (;;) {
        auto waits = ReadLockWaits(target);
        if (!waits) {
          last_seen = fmt::format("the connection is gone; the lock waits could not be read: {}",
                                  waits.error().message);
          if (IsLost(waits.error())) lost = waits.error();
          break;
        }
        o.waits_remaining = static_cast<size_t>(
            std::count_if(waits->edges.begin(), waits->edges.end(),
                          [&](const LockWaitEdge& e) { return e.blocker == v.blocker_trx_id; }));
        if (o.waits_remaining == 0) {
          verified = true;
          o.detail = fmt::format(
              "the connection is gone and the lock waits it caused are "
              "released ({} transaction{} held up at the plan)",
              v.held_up, v.held_up == 1 ? "" : "s");
          break;
        }
        last_seen = fmt::format(
            "the connection is gone, but {} lock wait{} on its transaction {} "
            "remain after {} (a rollback still under way?)",
            o.waits_remaining, o.waits_remaining == 1 ? "" : "s", v.blocker_trx_id,
            Seconds(core::ToSeconds(clock.MonotonicNow() - sent)));
        if (clock.MonotonicNow() >= deadline) break;
        clock.SleepFor(options.lock_poll_interval);
      }
    }
    o.verify_seconds = core::ToSeconds(clock.MonotonicNow() - sent);
    if (verified) {
      o.status = KillStatus::kKilled;
      tell(v, KillEvent::kVerified, o);
    } else {
      o.status = KillStatus::kNotVerified;
      o.detail = last_seen.empty() ? "not verified" : last_seen;
      tell(v, KillEvent::kFailed, o);
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

KillAudit AuditOf(const Victim& victim, KillEvent event, const KillOutcome& outcome) {
  KillAudit audit;
  audit.subject = fmt::format("connection {}", victim.session.id);
  audit.error = outcome.error ? outcome.error->ToString() : "";
  audit.result = outcome.detail;
  switch (event) {
    case KillEvent::kRefused:
      audit.phase = "refused";
      break;
    case KillEvent::kApplied:
      audit.phase = "applied";
      audit.result = "kill sent";
      break;
    case KillEvent::kFailed:
      audit.phase = "failed";
      break;
    case KillEvent::kVerified:
      audit.phase = "verified";
      break;
  }
  return audit;
}

}  // namespace dbrunbook::steps
