#include "steps/investigate_locks.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

#include "collect/innodb_status.h"
#include "core/duration.h"
#include "core/text.h"
#include "dialect/locks.h"
#include "steps/grants.h"
#include "steps/lock_tree.h"

namespace dbrunbook::steps {
namespace {

constexpr int kMaxPairs = 500;
constexpr size_t kMaxTreeFindings = 10;
constexpr size_t kMaxPairRows = 50;
constexpr size_t kStatementChars = 300;
constexpr size_t kRecentStatements = 5;
// Root blocker severity: critical from this many sessions held up, this long a wait, or idle.
constexpr size_t kCriticalBlocked = 3;
constexpr double kCriticalWaitSeconds = 30;
// A deadlock this recent (by the server's clock) is a warning.
constexpr int64_t kRecentDeadlockSeconds = 3600;

std::string Text(const mysql::Row& row, std::string_view column) {
  return row[column].StringOr("");
}

std::optional<std::string> Short(const std::optional<std::string>& statement) {
  if (!statement) return std::nullopt;
  return core::OneLine(*statement, kStatementChars);
}

// What the pairs say about one transaction: as a waiter, as a blocker, or both (the middle of
// a chain).
struct Transaction {
  std::string trx_id;
  std::optional<uint64_t> connection_id;  // nullopt: no session (e.g. a recovered XA trx)
  std::string user;
  std::string host;
  std::optional<std::string> query;  // running now; nullopt between statements
  // As a waiter: how long, and the lock it waits for.
  bool waiting = false;
  double wait_seconds = 0;
  std::string lock_mode;
  std::string lock_type;
  std::string locked_table;
  std::string locked_index;
  // As a blocker.
  bool blocking = false;
  std::optional<double> trx_seconds;
  std::string trx_state;
  std::optional<int64_t> rows_locked;
  std::optional<int64_t> rows_modified;
  std::string command;
  std::optional<double> command_seconds;
  std::string held_lock_mode;  // the mode of a lock it holds that others wait for
  std::string held_table;
  std::string held_index;

  // Idle in an open transaction: no statement and the session sleeps.
  bool idle() const { return blocking && !query.has_value() && command == "Sleep"; }
  std::string Who() const {
    if (!connection_id) return fmt::format("transaction {} (no session)", trx_id);
    return fmt::format("connection {} ({}@{})", *connection_id, user, host);
  }
};

struct Pair {
  std::string waiter;
  std::string blocker;
};

struct WaitGraph {
  std::map<std::string, Transaction> transactions;  // by trx id
  std::vector<Pair> pairs;                          // in the server's order (longest wait first)
  std::vector<LockWaitEdge> edges;
  bool truncated = false;  // kMaxPairs reached
};

std::optional<uint64_t> ConnectionId(const mysql::Row& row, std::string_view column) {
  auto id = row[column].AsUint64();
  if (!id || *id == 0) return std::nullopt;
  return id;
}

WaitGraph ReadPairs(const mysql::ResultSet& result) {
  WaitGraph g;
  for (const auto& row : result.rows) {
    const std::string waiter_id = Text(row, "waiting_trx_id");
    const std::string blocker_id = Text(row, "blocking_trx_id");
    if (waiter_id.empty() || blocker_id.empty()) continue;
    Transaction& w = g.transactions[waiter_id];
    w.trx_id = waiter_id;
    if (!w.connection_id) w.connection_id = ConnectionId(row, "waiting_id");
    if (w.user.empty()) w.user = Text(row, "waiting_user");
    if (w.host.empty()) w.host = Text(row, "waiting_host");
    if (!w.query) w.query = row["waiting_query"].AsText();
    if (!w.trx_seconds) w.trx_seconds = row["waiting_trx_seconds"].AsDouble();
    const double wait = std::max(0.0, row["wait_seconds"].AsDouble().value_or(0));
    if (!w.waiting || wait > w.wait_seconds) w.wait_seconds = wait;
    w.waiting = true;
    if (w.lock_mode.empty()) {
      w.lock_mode = Text(row, "waiting_lock_mode");
      w.lock_type = Text(row, "waiting_lock_type");
      w.locked_table = Text(row, "locked_table");
      w.locked_index = Text(row, "locked_index");
    }

    Transaction& b = g.transactions[blocker_id];
    b.trx_id = blocker_id;
    if (!b.connection_id) b.connection_id = ConnectionId(row, "blocking_id");
    if (b.user.empty()) b.user = Text(row, "blocking_user");
    if (b.host.empty()) b.host = Text(row, "blocking_host");
    if (!b.blocking) {
      b.query = row["blocking_query"].AsText();
      if (auto seconds = row["blocking_trx_seconds"].AsDouble()) b.trx_seconds = seconds;
      b.trx_state = Text(row, "blocking_trx_state");
      b.rows_locked = row["blocking_rows_locked"].AsInt64();
      b.rows_modified = row["blocking_rows_modified"].AsInt64();
      b.command = Text(row, "blocking_command");
      b.command_seconds = row["blocking_command_seconds"].AsDouble();
      b.held_lock_mode = Text(row, "blocking_lock_mode");
      b.held_table = Text(row, "locked_table");
      b.held_index = Text(row, "locked_index");
    }
    b.blocking = true;
    g.pairs.push_back({waiter_id, blocker_id});
    g.edges.push_back({waiter_id, blocker_id, wait});
  }
  g.truncated = result.rows.size() >= static_cast<size_t>(kMaxPairs);
  return g;
}

// The statements performance_schema holds for a session.
struct SessionStatements {
  std::optional<std::string> last;  // the current or, when idle, the last finished statement
  bool last_running = false;
  std::vector<std::string> recent;  // oldest first
};

std::map<uint64_t, SessionStatements> ReadSessionStatements(const mysql::ResultSet& result) {
  std::map<uint64_t, std::map<int64_t, std::pair<std::string, bool>>> events;
  for (const auto& row : result.rows) {
    auto id = row["connection_id"].AsUint64();
    auto event = row["event_id"].AsInt64();
    auto text = row["sql_text"].AsString();
    if (!id || !event || !text) continue;
    const bool running = row["finished"].AsInt64().value_or(1) == 0;
    events[*id][*event] = {std::string(*text), running};  // current and history share ids
  }
  std::map<uint64_t, SessionStatements> out;
  for (const auto& [id, by_event] : events) {
    SessionStatements s;
    for (const auto& [event, statement] : by_event) s.recent.push_back(statement.first);
    if (!by_event.empty()) {
      s.last = by_event.rbegin()->second.first;
      s.last_running = by_event.rbegin()->second.second;
    }
    if (s.recent.size() > kRecentStatements) {
      s.recent.erase(s.recent.begin(),
                     s.recent.end() - static_cast<std::ptrdiff_t>(kRecentStatements));
    }
    out.emplace(id, std::move(s));
  }
  return out;
}

std::string SessionsWord(size_t n) { return n == 1 ? "session" : "sessions"; }

std::string BlockedBy(const WaitGraph& g, const std::vector<std::string>& blockers) {
  std::vector<std::string> names;
  for (const auto& id : blockers) {
    auto it = g.transactions.find(id);
    if (it != g.transactions.end() && it->second.connection_id) {
      names.push_back(std::to_string(*it->second.connection_id));
    } else {
      names.push_back(fmt::format("trx {}", id));
    }
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

EvidenceValue Optional(const std::optional<double>& v) {
  return v ? EvidenceValue(*v) : EvidenceValue(std::monostate{});
}
EvidenceValue Optional(const std::optional<int64_t>& v) {
  return v ? EvidenceValue(*v) : EvidenceValue(std::monostate{});
}
EvidenceValue Optional(const std::optional<uint64_t>& v) {
  return v ? EvidenceValue(static_cast<int64_t>(*v)) : EvidenceValue(std::monostate{});
}
EvidenceValue NonEmpty(const std::string& s) {
  return s.empty() ? EvidenceValue(std::monostate{}) : EvidenceValue(s);
}

// Where the root's statement comes from, for the evidence and the detail.
struct RootStatement {
  std::optional<std::string> text;
  std::string source;
};

RootStatement StatementOf(const Transaction& root, const SessionStatements* history,
                          const std::string& history_note) {
  if (root.query) return {root.query, "running now"};
  if (history != nullptr && history->last) {
    return {history->last, history->last_running
                               ? "running now"
                               : "last finished (performance_schema.events_statements_current)"};
  }
  return {std::nullopt,
          fmt::format("none running (processlist); last statement unknown: {}", history_note)};
}

EvidenceRow RootRow(const Transaction& root, const BlockingTree& tree,
                    const RootStatement& statement) {
  EvidenceRow row;
  row.Add("role", "root")
      .Add("depth", int64_t{0})
      .Add("connection_id", Optional(root.connection_id))
      .Add("user", NonEmpty(root.user))
      .Add("host", NonEmpty(root.host))
      .Add("blocked_by", EvidenceValue(std::monostate{}))
      .Add("wait_seconds", EvidenceValue(std::monostate{}))
      .Add("transaction_seconds", Optional(root.trx_seconds))
      .Add("trx_id", root.trx_id)
      .Add("trx_state", NonEmpty(root.trx_state))
      .Add("idle", root.idle())
      .Add("idle_seconds",
           root.idle() ? Optional(root.command_seconds) : EvidenceValue(std::monostate{}))
      .Add("rows_locked", Optional(root.rows_locked))
      .Add("rows_modified", Optional(root.rows_modified))
      .Add("blocks_directly", static_cast<int64_t>(tree.direct))
      .Add("blocks_total", static_cast<int64_t>(tree.transitive()))
      .Add("locked_table", NonEmpty(root.held_table))
      .Add("locked_index", NonEmpty(root.held_index))
      .Add("lock_mode", NonEmpty(root.held_lock_mode))
      .Add("statement_source", statement.source)
      .Add("statement", Short(statement.text));
  return row;
}

EvidenceRow WaiterRow(const WaitGraph& g, const Transaction& t, const BlockedTransaction& b) {
  EvidenceRow row;
  row.Add("role", "waiter")
      .Add("depth", int64_t{b.depth})
      .Add("connection_id", Optional(t.connection_id))
      .Add("user", NonEmpty(t.user))
      .Add("host", NonEmpty(t.host))
      .Add("blocked_by", BlockedBy(g, b.blocked_by))
      .Add("wait_seconds", b.wait_seconds)
      .Add("transaction_seconds", Optional(t.trx_seconds))
      .Add("trx_id", t.trx_id)
      .Add("trx_state", "LOCK WAIT")
      .Add("locked_table", NonEmpty(t.locked_table))
      .Add("locked_index", NonEmpty(t.locked_index))
      .Add("lock_mode", NonEmpty(t.lock_mode))
      .Add("statement_source", t.query ? "running now" : "")
      .Add("statement", Short(t.query));
  return row;
}

Finding RootBlockerFinding(const WaitGraph& g, const BlockingTree& tree, const Transaction& root,
                           const SessionStatements* history, const std::string& history_note,
                           const dialect::Dialect& dialect) {
  Finding f;
  f.code = "lock.root_blocker";
  const bool idle = root.idle();
  f.severity = tree.transitive() >= kCriticalBlocked ||
                       tree.longest_wait_seconds > kCriticalWaitSeconds || idle
                   ? Severity::kCritical
                   : Severity::kWarning;
  std::string state;
  if (idle) {
    state = root.command_seconds ? fmt::format("idle in an open transaction for {}",
                                               core::FormatSeconds(*root.command_seconds))
                                 : "idle in an open transaction";
  } else if (root.query) {
    state = fmt::format("running: {}", core::OneLine(*root.query, 80));
  } else if (!root.connection_id) {
    state = "a transaction without a session";
  } else {
    state = "between statements";
  }
  f.title = fmt::format("{} is the root blocker of {} {} ({} directly), waiting up to {}; {}",
                        root.Who(), tree.transitive(), SessionsWord(tree.transitive()), tree.direct,
                        core::FormatSeconds(tree.longest_wait_seconds), state);
  const RootStatement statement = StatementOf(root, history, history_note);
  f.detail =
      "The root blocker waits for nothing: it holds row locks that the first sessions of the "
      "tree wait for, and the others wait behind them. Ending its transaction frees the whole "
      "tree.";
  if (history != nullptr && !history->recent.empty()) {
    std::vector<std::string> recent;
    for (const auto& s : history->recent) recent.push_back(core::OneLine(s, 120));
    f.detail +=
        fmt::format(" Recent statements of connection {} (performance_schema, oldest first): {}.",
                    root.connection_id.value_or(0), fmt::join(recent, "; "));
  }
  f.evidence.push_back(RootRow(root, tree, statement));
  for (const auto& b : tree.blocked) {
    auto it = g.transactions.find(b.id);
    if (it == g.transactions.end()) continue;
    f.evidence.push_back(WaiterRow(g, it->second, b));
  }
  if (root.connection_id) {
    f.suggestions.push_back(
        {fmt::format("kill the root blocker: its transaction is rolled back{} and the {} {} "
                     "behind it can proceed",
                     root.rows_modified ? fmt::format(" ({} row{} modified)", *root.rows_modified,
                                                      *root.rows_modified == 1 ? "" : "s")
                                        : "",
                     tree.transitive(), SessionsWord(tree.transitive())),
         dialect.KillConnection(*root.connection_id)});
    if (idle) {
      f.suggestions.push_back(
          {fmt::format("find the application that left the transaction open ({}@{}): it began "
                       "a transaction and stopped talking to the server; a connection pool "
                       "that hands out connections with a transaction still open is the usual "
                       "cause",
                       root.user, root.host),
           ""});
    } else if (root.query) {
      f.suggestions.push_back(
          {"killing only its statement (KILL QUERY) does not release the locks its "
           "transaction already holds",
           ""});
    }
    f.suggestions.push_back(
        {"or let dbrunbook do it, guarded (re-checked just before, never a replication thread "
         "or a protected user) and verified (the lock waits released): dbrunbook mitigate "
         "kill-queries TARGET --root-blockers --apply",
         ""});
  } else {
    f.suggestions.push_back(
        {"no session owns this transaction (a prepared XA transaction left after a crash or a "
         "disconnect): list them, then XA COMMIT or XA ROLLBACK the one holding the locks",
         "XA RECOVER"});
  }
  return f;
}

Finding CycleFinding(const WaitGraph& g, const BlockingTree& tree,
                     const dialect::Dialect& dialect) {
  Finding f;
  f.code = "lock.wait_cycle";
  f.severity = Severity::kCritical;
  std::vector<std::string> members;
  const Transaction* cheapest = nullptr;
  for (const auto& id : tree.roots) {
    auto it = g.transactions.find(id);
    if (it == g.transactions.end()) continue;
    const Transaction& t = it->second;
    members.push_back(t.Who());
    if (t.connection_id &&
        (cheapest == nullptr ||
         t.rows_modified.value_or(std::numeric_limits<int64_t>::max()) <
             cheapest->rows_modified.value_or(std::numeric_limits<int64_t>::max()))) {
      cheapest = &t;
    }
  }
  f.title = fmt::format(
      "{} wait for each other (a deadlock InnoDB has not broken), holding up {} more {}; "
      "waiting up to {}",
      fmt::join(members, ", "), tree.transitive(), SessionsWord(tree.transitive()),
      core::FormatSeconds(tree.longest_wait_seconds));
  f.detail =
      "InnoDB breaks a deadlock at once unless innodb_deadlock_detect is OFF; then the "
      "transactions wait until innodb_lock_wait_timeout.";
  for (const auto& id : tree.roots) {
    auto it = g.transactions.find(id);
    if (it == g.transactions.end()) continue;
    const Transaction& t = it->second;
    BlockedTransaction self{id, 0, {}, t.wait_seconds};
    for (const auto& e : g.edges) {
      if (e.waiter == id) self.blocked_by.push_back(e.blocker);
    }
    std::sort(self.blocked_by.begin(), self.blocked_by.end());
    self.blocked_by.erase(std::unique(self.blocked_by.begin(), self.blocked_by.end()),
                          self.blocked_by.end());
    EvidenceRow row = WaiterRow(g, t, self);
    f.evidence.push_back(std::move(row));
  }
  for (const auto& b : tree.blocked) {
    auto it = g.transactions.find(b.id);
    if (it != g.transactions.end()) f.evidence.push_back(WaiterRow(g, it->second, b));
  }
  if (cheapest != nullptr) {
    f.suggestions.push_back(
        {fmt::format("break the cycle by killing one member; {} has the fewest rows to roll "
                     "back",
                     cheapest->Who()),
         dialect.KillConnection(*cheapest->connection_id)});
  }
  return f;
}

Finding WaitsFinding(const WaitGraph& g, size_t trees) {
  Finding f;
  f.code = "lock.waits";
  f.severity = Severity::kInfo;
  size_t waiters = 0;
  double longest = 0;
  for (const auto& [id, t] : g.transactions) {
    if (!t.waiting) continue;
    ++waiters;
    longest = std::max(longest, t.wait_seconds);
  }
  f.title = fmt::format(
      "{}{} {} wait for row locks ({}{} waits) in {} blocking tree{}; the "
      "longest for {}",
      waiters, g.truncated ? "+" : "", SessionsWord(waiters), g.pairs.size(),
      g.truncated ? "+" : "", trees, trees == 1 ? "" : "s", core::FormatSeconds(longest));
  for (size_t i = 0; i < g.pairs.size() && i < kMaxPairRows; ++i) {
    const Transaction& w = g.transactions.at(g.pairs[i].waiter);
    const Transaction& b = g.transactions.at(g.pairs[i].blocker);
    EvidenceRow row;
    row.Add("waiting_id", Optional(w.connection_id))
        .Add("waiting_user", NonEmpty(w.user))
        .Add("wait_seconds", w.wait_seconds)
        .Add("locked_table", NonEmpty(w.locked_table))
        .Add("locked_index", NonEmpty(w.locked_index))
        .Add("waiting_lock_mode", NonEmpty(w.lock_mode))
        .Add("blocking_id", Optional(b.connection_id))
        .Add("blocking_user", NonEmpty(b.user))
        .Add("blocking_idle", b.idle())
        .Add("waiting_trx_id", w.trx_id)
        .Add("blocking_trx_id", b.trx_id)
        .Add("waiting_statement", Short(w.query));
    f.evidence.push_back(std::move(row));
  }
  return f;
}

// Waiters known without their blockers (performance_schema OFF on MySQL 8.0+).
Finding WaitersOnlyFinding(const mysql::ResultSet& result) {
  Finding f;
  f.code = "lock.waits";
  f.severity = Severity::kInfo;
  double longest = 0;
  for (const auto& row : result.rows) {
    const double wait = std::max(0.0, row["wait_seconds"].AsDouble().value_or(0));
    longest = std::max(longest, wait);
    EvidenceRow e;
    e.Add("waiting_id", Optional(row["waiting_id"].AsUint64()))
        .Add("waiting_user", NonEmpty(Text(row, "waiting_user")))
        .Add("wait_seconds", wait)
        .Add("waiting_trx_id", Text(row, "waiting_trx_id"))
        .Add("waiting_statement", Short(row["waiting_query"].AsText()));
    f.evidence.push_back(std::move(e));
  }
  f.title = fmt::format("{} {} wait for row locks; the longest for {} (blockers unknown)",
                        result.rows.size(), SessionsWord(result.rows.size()),
                        core::FormatSeconds(longest));
  return f;
}

Finding Partial(std::string what, std::string why, std::string hint = {}) {
  Finding f;
  f.code = "check.partial";
  f.severity = Severity::kInfo;
  f.title = fmt::format("locks: {} not checked: {}", what, why);
  if (!hint.empty()) f.suggestions.push_back({std::move(hint), ""});
  return f;
}

std::string LocksText(const std::vector<collect::InnodbLock>& locks) {
  std::vector<std::string> parts;
  parts.reserve(locks.size());
  for (const auto& l : locks) parts.push_back(l.Describe());
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::optional<Finding> DeadlockFinding(const collect::InnodbStatus& status) {
  if (!status.latest_deadlock || status.latest_deadlock->transactions.empty()) {
    return std::nullopt;
  }
  const collect::InnodbDeadlock& d = *status.latest_deadlock;
  Finding f;
  f.code = "lock.deadlock";
  std::optional<int64_t> ago;
  if (d.time && status.time) ago = status.time->Seconds() - d.time->Seconds();
  f.severity = ago && *ago <= kRecentDeadlockSeconds ? Severity::kWarning : Severity::kInfo;
  auto who = [](const collect::InnodbTransaction& t) {
    if (!t.thread_id) return fmt::format("transaction {}", t.trx_id);
    return t.user.empty() ? fmt::format("connection {}", *t.thread_id)
                          : fmt::format("connection {} ({}@{})", *t.thread_id, t.user, t.host);
  };
  std::vector<std::string> names;
  for (const auto& t : d.transactions) names.push_back(who(t));
  std::string when = d.time ? d.time->ToString() : "at an unknown time";
  if (ago) {
    when = fmt::format("{}, {} ago by the server clock", when,
                       core::FormatSeconds(static_cast<double>(std::max<int64_t>(0, *ago))));
  }
  const collect::InnodbTransaction* victim = d.RolledBack();
  f.title =
      fmt::format("latest deadlock ({}) between {}; {}", when, fmt::join(names, " and "),
                  victim != nullptr ? fmt::format("InnoDB rolled back {}", who(*victim))
                                    : std::string("the rolled-back transaction is not named"));
  f.detail =
      "SHOW ENGINE INNODB STATUS keeps only the latest deadlock. The rolled-back transaction's "
      "client got error 1213 (ER_LOCK_DEADLOCK) and its whole transaction was undone.";
  if (d.search_too_deep) {
    f.detail +=
        " InnoDB gave up searching a too deep or long waits-for graph and rolled back the "
        "transaction that was waiting.";
  }
  for (const auto& t : d.transactions) {
    EvidenceRow row;
    row.Add("transaction", t.number > 0 ? fmt::format("({})", t.number) : std::string("victim"))
        .Add("connection_id", Optional(t.thread_id))
        .Add("query_id", Optional(t.query_id))
        .Add("user", NonEmpty(t.user))
        .Add("host", NonEmpty(t.host))
        .Add("trx_id", NonEmpty(t.trx_id))
        .Add("active_seconds", Optional(t.active_seconds))
        .Add("rows_locked", Optional(t.row_locks))
        .Add("rolled_back", victim == &t)
        .Add("holds", NonEmpty(LocksText(t.holds)))
        .Add("waits_for", NonEmpty(LocksText(t.waits_for)))
        .Add("statement", t.query.empty() ? EvidenceValue(std::monostate{})
                                          : EvidenceValue(core::OneLine(t.query, kStatementChars)));
    f.evidence.push_back(std::move(row));
  }
  f.suggestions.push_back(
      {"make the application retry a transaction that fails with error 1213 "
       "(ER_LOCK_DEADLOCK): InnoDB rolled it back entirely, so the retry starts from BEGIN",
       ""});
  f.suggestions.push_back(
      {"make the transactions that deadlocked take their locks in the same order (e.g. touch "
       "rows and tables in primary-key order), keep them short, and index the columns their "
       "WHERE clauses filter on so they lock fewer rows; innodb_print_all_deadlocks=ON logs "
       "every deadlock to the error log, not just the latest",
       ""});
  return f;
}

}  // namespace

core::Result<LockWaits> ReadLockWaits(collect::TargetSession& target) {
  const std::string sql = dialect::RowLockWaits(target.dialect, kMaxPairs);
  if (sql.empty()) {
    return core::MakeError(
        core::ErrorCode::kUnsupported,
        "this server does not report who blocks a row-lock wait (MySQL 8.0+ with "
        "performance_schema OFF)",
        "turn performance_schema on (a restart; on RDS/Aurora a parameter group change)");
  }
  auto result = target.session->Query(sql);
  if (!result) return core::Fail(result.error());
  WaitGraph g = ReadPairs(*result);
  LockWaits out;
  out.edges = std::move(g.edges);
  out.truncated = g.truncated;
  for (const auto& [id, t] : g.transactions) {
    if (t.connection_id) out.connection_of.emplace(id, *t.connection_id);
  }
  return out;
}

std::string LocksStep::RequiredGrant(const dialect::Flavor& flavor,
                                     std::string_view account) const {
  if (flavor.is_mysql_family() && flavor.version.AtLeast(8, 0, 1)) {
    return Grants({GrantProcess(account), GrantPerformanceSchema(account)});
  }
  return GrantProcess(account);
}

core::Result<std::vector<Finding>> LocksStep::Run(StepContext& context) {
  auto& target = context.target;
  const dialect::Dialect& dialect = target.dialect;
  std::vector<Finding> findings;
  std::optional<core::Error> waits_error;

  // 1. Row-lock waits.
  const std::string waits_sql = dialect::RowLockWaits(dialect, kMaxPairs);
  if (!waits_sql.empty()) {
    auto result = target.session->Query(waits_sql);
    if (!result) {
      if (result.error().code == core::ErrorCode::kPrivilege) return core::Fail(result.error());
      waits_error = result.error();
    } else {
      const WaitGraph g = ReadPairs(*result);
      const std::vector<BlockingTree> forest = BuildBlockingForest(g.edges);
      // The root blockers' statements, where performance_schema keeps them.
      std::vector<uint64_t> root_ids;
      for (size_t i = 0; i < forest.size() && i < kMaxTreeFindings; ++i) {
        if (forest[i].cycle) continue;
        const Transaction& root = g.transactions.at(forest[i].roots.front());
        if (root.connection_id) root_ids.push_back(*root.connection_id);
      }
      std::map<uint64_t, SessionStatements> statements;
      std::string history_note =
          "performance_schema is OFF or has no statement events here; only the processlist "
          "(the statement running now) is available";
      const std::string statements_sql = dialect::SessionStatements(dialect, root_ids);
      if (!statements_sql.empty() && !context.expired()) {
        auto rs = target.session->Query(statements_sql);
        if (rs) {
          statements = ReadSessionStatements(*rs);
          history_note =
              "the session's performance_schema statement events are empty (consumers "
              "events_statements_current/history OFF, or the thread is not instrumented)";
        } else {
          history_note = fmt::format("reading performance_schema failed: {}", rs.error().message);
        }
      } else if (!statements_sql.empty()) {
        history_note = "the step ran out of time before reading performance_schema";
      }
      for (size_t i = 0; i < forest.size() && i < kMaxTreeFindings; ++i) {
        const BlockingTree& tree = forest[i];
        if (tree.cycle) {
          findings.push_back(CycleFinding(g, tree, dialect));
          continue;
        }
        const Transaction& root = g.transactions.at(tree.roots.front());
        const SessionStatements* history = nullptr;
        if (root.connection_id) {
          auto it = statements.find(*root.connection_id);
          if (it != statements.end()) history = &it->second;
        }
        findings.push_back(RootBlockerFinding(g, tree, root, history, history_note, dialect));
      }
      if (!g.pairs.empty()) findings.push_back(WaitsFinding(g, forest.size()));
    }
  } else {
    // MySQL 8.0+ with performance_schema OFF: waiters are known, blockers are not.
    auto result = target.session->Query(dialect::LockWaitingTransactions(dialect, kMaxPairs));
    if (!result) {
      if (result.error().code == core::ErrorCode::kPrivilege) return core::Fail(result.error());
      waits_error = result.error();
    } else {
      if (!result->rows.empty()) findings.push_back(WaitersOnlyFinding(*result));
      findings.push_back(Partial(
          "blocking sessions",
          "performance_schema is OFF, and MySQL 8.0+ reports who blocks a lock wait only in "
          "performance_schema.data_lock_waits (information_schema.INNODB_LOCK_WAITS was removed "
          "in 8.0.1)",
          "turn performance_schema on (a restart; on RDS/Aurora a parameter group change); "
          "meanwhile SHOW ENGINE INNODB STATUS lists the waiting transactions"));
    }
  }

  // 2. The latest deadlock.
  std::optional<core::Error> status_error;
  if (context.expired()) {
    findings.push_back(
        Partial("the latest deadlock", "the step ran out of time before reading it"));
  } else {
    auto status = collect::ReadInnodbStatus(target);
    if (status) {
      if (auto f = DeadlockFinding(*status)) findings.push_back(std::move(*f));
    } else {
      status_error = status.error();
    }
  }

  if (waits_error) {
    if (status_error) return core::Fail(*waits_error);
    findings.push_back(Partial("row-lock waits", waits_error->message, waits_error->hint));
  }
  if (status_error) {
    findings.push_back(
        Partial("the latest deadlock", status_error->message,
                status_error->code == core::ErrorCode::kPrivilege
                    ? std::string("SHOW ENGINE INNODB STATUS needs the PROCESS privilege")
                    : status_error->hint));
  }
  return findings;
}

}  // namespace dbrunbook::steps
