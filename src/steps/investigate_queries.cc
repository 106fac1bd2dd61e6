#include "steps/investigate_queries.h"

#include <fmt/format.h>

#include <algorithm>

#include "collect/activity.h"
#include "core/duration.h"
#include "core/text.h"
#include "dialect/dialect.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace {

// Statement text in evidence: one line, long enough to recognise, short enough to read.
constexpr size_t kStatementChars = 300;
constexpr int kActiveLimit = 50;
constexpr int kTransactionLimit = 20;
constexpr size_t kActiveShown = 20;
constexpr double kHistoryCritical = 1'000'000;

EvidenceRow StatementRow(const collect::ActiveStatement& s) {
  EvidenceRow row;
  row.Add("connection_id", s.id)
      .Add("user", s.user)
      .Add("host", s.host)
      .Add("db", s.db)
      .Add("command", s.command)
      .Add("state", s.state)
      .Add("time_seconds", s.time_seconds);
  if (s.progress && *s.progress > 0) row.Add("progress_percent", *s.progress);
  row.Add("statement", s.info ? std::optional<std::string>(core::OneLine(*s.info, kStatementChars))
                              : std::nullopt);
  return row;
}

Finding LongRunning(const collect::ActiveStatement& s, const StepContext& context) {
  const auto& dialect = context.target.dialect;
  Finding f;
  f.code = "query.long_running";
  f.severity = s.time_seconds >= 5 * context.options.long_query_seconds ? Severity::kCritical
                                                                        : Severity::kWarning;
  f.title = fmt::format("connection {} ({}@{}) has run one statement for {}", s.id, s.user, s.host,
                        core::FormatSeconds(s.time_seconds));
  f.evidence.push_back(StatementRow(s));
  f.suggestions.push_back(
      {"look at its plan before deciding (EXPLAIN the statement, or SHOW "
       "EXPLAIN FOR / EXPLAIN FOR CONNECTION on the running session)",
       ""});
  f.suggestions.push_back(
      {"stop the statement and keep the connection (the client sees an "
       "error; a write is rolled back)",
       dialect.KillQuery(s.id)});
  return f;
}

}  // namespace

std::string QueriesStep::RequiredGrant(const dialect::Flavor& flavor,
                                       std::string_view account) const {
  // MySQL 8.0.22+ reads performance_schema.processlist when performance_schema is on.
  if (dialect::UsesPerformanceSchemaProcesslist(flavor)) {
    return Grants({GrantProcess(account), GrantPerformanceSchema(account)});
  }
  return GrantProcess(account);
}

core::Result<std::vector<Finding>> QueriesStep::Run(StepContext& context) {
  auto& target = context.target;
  std::vector<Finding> findings;

  // Without PROCESS the processlist and INNODB_TRX show the account's own sessions only:
  // "no long runner" would be a false all-clear.
  if (auto granted = collect::RequireGlobalPrivilege(
          target, "PROCESS", "without it the processlist shows only its own sessions");
      !granted) {
    return core::Fail(granted.error());
  }
  auto statements = collect::ReadActiveStatements(target, kActiveLimit);
  if (!statements) return core::Fail(statements.error());
  for (const auto& s : *statements) {
    if (s.time_seconds >= context.options.long_query_seconds) {
      findings.push_back(LongRunning(s, context));
    }
  }

  auto transactions = collect::ReadOldestTransactions(target, kTransactionLimit);
  if (!transactions) return core::Fail(transactions.error());
  for (const auto& t : *transactions) {
    if (!t.idle_in_transaction()) continue;
    const double idle = t.session_seconds.value_or(0);
    if (idle < context.options.idle_transaction_seconds) continue;
    Finding f;
    f.code = "transaction.idle";
    f.severity = t.rows_locked > 0 && idle >= 300 ? Severity::kCritical : Severity::kWarning;
    f.title = fmt::format(
        "connection {} ({}@{}) sits idle for {} in a transaction open for {}, holding {}",
        t.thread_id, t.user, t.host, core::FormatSeconds(idle), core::FormatSeconds(t.age_seconds),
        core::CountOf(t.rows_locked, "row lock", "row locks"));
    f.detail =
        "An application opened a transaction and stopped talking to the server: its locks and "
        "its read view stay until it commits, rolls back or disconnects.";
    EvidenceRow row;
    row.Add("connection_id", t.thread_id)
        .Add("user", t.user)
        .Add("host", t.host)
        .Add("trx_id", t.trx_id)
        .Add("transaction_seconds", t.age_seconds)
        .Add("idle_seconds", idle)
        .Add("rows_locked", t.rows_locked)
        .Add("rows_modified", t.rows_modified);
    f.evidence.push_back(std::move(row));
    f.suggestions.push_back(
        {"find the application instance (user/host) and make it commit or "
         "roll back; connection pools that leak transactions are the usual "
         "cause",
         ""});
    f.suggestions.push_back(
        {fmt::format("kill the connection: its transaction is rolled back ({} modified)",
                     core::CountOf(t.rows_modified, "row", "rows")),
         target.dialect.KillConnection(t.thread_id)});
    findings.push_back(std::move(f));
  }

  if (!transactions->empty() &&
      transactions->front().age_seconds >= context.options.long_query_seconds) {
    const auto& t = transactions->front();
    std::optional<int64_t> length;
    if (auto history = collect::ReadHistoryListLength(target); history && *history) {
      length = **history;
    }
    Finding f;
    f.code = "transaction.long";
    f.severity = length && static_cast<double>(*length) >= kHistoryCritical ? Severity::kCritical
                                                                            : Severity::kWarning;
    f.title = fmt::format("the oldest transaction has been open for {} on connection {}{}",
                          core::FormatSeconds(t.age_seconds), t.thread_id,
                          length ? fmt::format(" and pins a history list of {}", *length) : "");
    f.detail =
        "InnoDB cannot purge undo records newer than the oldest open read view: the history "
        "list grows, and reads of hot rows walk ever longer version chains.";
    EvidenceRow row;
    row.Add("connection_id", t.thread_id)
        .Add("user", t.user)
        .Add("host", t.host)
        .Add("trx_id", t.trx_id)
        .Add("state", t.state)
        .Add("transaction_seconds", t.age_seconds)
        .Add("rows_locked", t.rows_locked)
        .Add("rows_modified", t.rows_modified)
        .Add("statement", t.query
                              ? std::optional<std::string>(core::OneLine(*t.query, kStatementChars))
                              : std::nullopt)
        .Add("history_list_length",
             length ? EvidenceValue(*length) : EvidenceValue(std::monostate{}));
    f.evidence.push_back(std::move(row));
    f.suggestions.push_back(
        {"end the transaction from the application side if you can; killing the connection "
         "rolls it back (a long write transaction takes a while to roll back)",
         target.dialect.KillConnection(t.thread_id)});
    findings.push_back(std::move(f));
  }

  if (!statements->empty()) {
    Finding f;
    f.code = "query.active";
    f.severity = Severity::kInfo;
    f.title = fmt::format("{}{} statements running; the longest for {}", statements->size(),
                          statements->size() >= static_cast<size_t>(kActiveLimit) ? "+" : "",
                          core::FormatSeconds(statements->front().time_seconds));
    for (size_t i = 0; i < statements->size() && i < kActiveShown; ++i) {
      f.evidence.push_back(StatementRow((*statements)[i]));
    }
    findings.push_back(std::move(f));
  }
  return findings;
}

}  // namespace dbrunbook::steps
