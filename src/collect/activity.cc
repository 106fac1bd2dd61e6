#include "collect/activity.h"

namespace dbrunbook::collect {
namespace {

std::string Text(const mysql::Row& row, std::string_view column) {
  return row[column].StringOr("");
}

core::Result<std::vector<ActiveStatement>> ReadProcesslist(TargetSession& target,
                                                           const std::string& statement) {
  auto result = target.session->Query(statement);
  if (!result) return core::Fail(result.error());
  std::vector<ActiveStatement> statements;
  statements.reserve(result->rows.size());
  for (const auto& row : result->rows) {
    ActiveStatement s;
    s.id = row["id"].AsUint64().value_or(0);
    s.user = Text(row, "user");
    s.host = Text(row, "host");
    s.db = Text(row, "db");
    s.command = Text(row, "command");
    s.state = Text(row, "state");
    s.time_seconds = row["time_seconds"].AsDouble().value_or(0);
    s.info = row["info"].AsText();
    s.progress = row["progress"].AsDouble();
    s.query_id = row["query_id"].AsUint64();
    s.is_self = row["is_self"].AsInt64().value_or(0) != 0;
    statements.push_back(std::move(s));
  }
  return statements;
}

}  // namespace

core::Result<std::vector<ActiveStatement>> ReadActiveStatements(TargetSession& target, int limit) {
  return ReadProcesslist(target, target.dialect.ActiveStatements(limit));
}

core::Result<std::vector<ActiveStatement>> ReadSessions(TargetSession& target, int limit) {
  return ReadProcesslist(target, target.dialect.Sessions(limit));
}

core::Result<std::optional<ActiveStatement>> ReadSession(TargetSession& target,
                                                         uint64_t connection_id) {
  auto rows = ReadProcesslist(target, target.dialect.SessionById(connection_id));
  if (!rows) return core::Fail(rows.error());
  if (rows->empty()) return std::optional<ActiveStatement>();
  return std::optional<ActiveStatement>(std::move(rows->front()));
}

core::Result<std::vector<OpenTransaction>> ReadOldestTransactions(TargetSession& target,
                                                                  int limit) {
  auto result = target.session->Query(target.dialect.OldestTransactions(limit));
  if (!result) return core::Fail(result.error());
  std::vector<OpenTransaction> transactions;
  transactions.reserve(result->rows.size());
  for (const auto& row : result->rows) {
    OpenTransaction t;
    t.trx_id = Text(row, "trx_id");
    t.thread_id = row["thread_id"].AsUint64().value_or(0);
    t.age_seconds = row["age_seconds"].AsDouble().value_or(0);
    t.state = Text(row, "state");
    t.rows_locked = row["rows_locked"].AsInt64().value_or(0);
    t.rows_modified = row["rows_modified"].AsInt64().value_or(0);
    t.query = row["query"].AsText();
    t.user = Text(row, "user");
    t.host = Text(row, "host");
    t.command = Text(row, "command");
    t.session_seconds = row["session_seconds"].AsDouble();
    transactions.push_back(std::move(t));
  }
  return transactions;
}

std::string_view ThreadStateName(ThreadState state) {
  switch (state) {
    case ThreadState::kRunning:
      return "running";
    case ThreadState::kConnecting:
      return "connecting";
    case ThreadState::kStopped:
      return "stopped";
    case ThreadState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

ThreadState ParseThreadState(std::string_view text) {
  text = core::Trim(text);
  if (core::EqualsIgnoreCase(text, "Yes")) return ThreadState::kRunning;
  if (core::EqualsIgnoreCase(text, "No")) return ThreadState::kStopped;
  if (core::EqualsIgnoreCase(text, "Connecting") || core::EqualsIgnoreCase(text, "Preparing")) {
    return ThreadState::kConnecting;
  }
  return ThreadState::kUnknown;
}

std::vector<ReplicaChannel> ParseReplicaStatus(const mysql::ResultSet& result,
                                               const dialect::ReplicaStatusColumns& c) {
  std::vector<ReplicaChannel> channels;
  for (const auto& row : result.rows) {
    ReplicaChannel ch;
    ch.channel = Text(row, c.channel);
    ch.source_host = Text(row, c.source_host);
    ch.source_port = row[c.source_port].AsInt64();
    ch.io = ParseThreadState(Text(row, c.io_running));
    ch.sql = ParseThreadState(Text(row, c.sql_running));
    ch.seconds_behind = row[c.seconds_behind].AsInt64();
    ch.last_io_errno = row[c.last_io_errno].AsInt64().value_or(0);
    ch.last_io_error = Text(row, c.last_io_error);
    ch.last_sql_errno = row[c.last_sql_errno].AsInt64().value_or(0);
    ch.last_sql_error = Text(row, c.last_sql_error);
    ch.io_state = Text(row, c.io_state);
    ch.sql_state = Text(row, c.sql_state);
    ch.gtid_position = Text(row, c.gtid_position);
    channels.push_back(std::move(ch));
  }
  return channels;
}

core::Result<std::vector<ReplicaChannel>> ReadReplicaStatus(TargetSession& target) {
  auto result = target.session->Query(target.dialect.ReplicaStatus());
  if (!result) return core::Fail(result.error());
  return ParseReplicaStatus(*result, target.dialect.replica_columns());
}

core::Result<int64_t> ReadConnectedReplicas(TargetSession& target) {
  auto result = target.session->Query(target.dialect.ConnectedReplicaCount());
  if (!result) return core::Fail(result.error());
  if (result->rows.empty()) return 0;
  return result->rows[0]["replicas"].AsInt64().value_or(0);
}

core::Result<std::optional<int64_t>> ReadHistoryListLength(TargetSession& target,
                                                           const StatusSample& status) {
  if (auto value = status.Get("Innodb_history_list_length")) {
    return std::optional<int64_t>(static_cast<int64_t>(*value));
  }
  const std::string statement = target.dialect.HistoryListLength();
  if (statement.empty()) return std::optional<int64_t>();
  auto result = target.session->Query(statement);
  if (!result) return core::Fail(result.error());
  if (result->rows.empty()) return std::optional<int64_t>();
  return result->rows[0]["history_list_length"].AsInt64();
}

core::Result<std::optional<int64_t>> ReadHistoryListLength(TargetSession& target) {
  if (target.dialect.HistoryListLength().empty()) {
    // Where the flavor keeps it in a status variable, read just that one.
    auto result =
        target.session->Query(dialect::Dialect::StatusVariable("Innodb_history_list_length"));
    if (!result) return core::Fail(result.error());
    StatusSample sample;
    for (const auto& row : result->rows) {
      auto name = row.at(0).AsString();
      auto value = row.at(1).AsString();
      if (name && value) sample.values.emplace(std::string(*name), std::string(*value));
    }
    return ReadHistoryListLength(target, sample);
  }
  return ReadHistoryListLength(target, StatusSample{});
}

}  // namespace dbrunbook::collect
