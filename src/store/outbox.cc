// The notification outbox (schema version 4): a row per (message key, channel), written before
// the message is sent (notify/dispatcher.h is the only writer besides Enqueue's callers).
#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

#include "store/sqlite_detail.h"
#include "store/store.h"

namespace dbrunbook::store {
namespace {

using detail::BindText;
using detail::ColumnText;
using detail::Prepare;
using detail::StoreError;

constexpr std::string_view kColumns =
    "id, key, channel, incident_id, kind, order_key, message_json, state, attempts, "
    "next_attempt_ms, created_at, created_ms, sent_at, last_error, last_status";

OutboxRow ReadRow(sqlite3_stmt* s) {
  OutboxRow r;
  r.id = sqlite3_column_int64(s, 0);
  r.key = ColumnText(s, 1);
  r.channel = ColumnText(s, 2);
  r.incident_id = ColumnText(s, 3);
  r.kind = ColumnText(s, 4);
  r.order_key = ColumnText(s, 5);
  r.message_json = ColumnText(s, 6);
  r.state = ColumnText(s, 7);
  r.attempts = sqlite3_column_int(s, 8);
  r.next_attempt_ms = sqlite3_column_int64(s, 9);
  r.created_at = ColumnText(s, 10);
  r.created_ms = sqlite3_column_int64(s, 11);
  r.sent_at = ColumnText(s, 12);
  r.last_error = ColumnText(s, 13);
  r.last_status = sqlite3_column_int(s, 14);
  return r;
}

core::Result<std::vector<OutboxRow>> QueryRows(sqlite3* db, const std::string& path,
                                               const std::string& sql,
                                               const std::vector<std::string>& texts,
                                               const std::vector<int64_t>& numbers) {
  auto statement = Prepare(db, path, sql);
  if (!statement) return core::Fail(statement.error());
  int i = 0;
  for (const auto& t : texts) BindText(statement->get(), ++i, t);
  for (int64_t n : numbers) sqlite3_bind_int64(statement->get(), ++i, n);
  std::vector<OutboxRow> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    out.push_back(ReadRow(statement->get()));
  }
  if (rc != SQLITE_DONE) return core::Fail(StoreError(path, "cannot read the outbox", db));
  return out;
}

// An UPDATE of one queued row; whether it changed one.
core::Result<bool> UpdateQueued(sqlite3* db, const std::string& path, const std::string& sql,
                                const std::vector<std::string>& texts,
                                const std::vector<int64_t>& numbers) {
  auto statement = Prepare(db, path, sql);
  if (!statement) return core::Fail(statement.error());
  int i = 0;
  for (const auto& t : texts) BindText(statement->get(), ++i, t);
  for (int64_t n : numbers) sqlite3_bind_int64(statement->get(), ++i, n);
  if (sqlite3_step(statement->get()) != SQLITE_DONE) {
    return core::Fail(StoreError(path, "cannot update the outbox", db));
  }
  return sqlite3_changes(db) == 1;
}

}  // namespace

namespace detail {

core::Result<bool> InsertOutboxRow(sqlite3* db, const std::string& path, const OutboxRow& row) {
  auto statement = Prepare(db, path,
                           "INSERT OR IGNORE INTO notify_outbox (key, channel, incident_id, kind, "
                           "order_key, message_json, state, attempts, next_attempt_ms, created_at, "
                           "created_ms, sent_at, last_error, last_status) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, '', ?, 0)");
  if (!statement) return core::Fail(statement.error());
  sqlite3_stmt* s = statement->get();
  const std::string state = row.state == "failed" ? "failed" : "queued";
  BindText(s, 1, row.key);
  BindText(s, 2, row.channel);
  BindText(s, 3, row.incident_id);
  BindText(s, 4, row.kind);
  BindText(s, 5, row.order_key);
  BindText(s, 6, row.message_json);
  BindText(s, 7, state);
  sqlite3_bind_int64(s, 8, row.next_attempt_ms);
  BindText(s, 9, row.created_at);
  sqlite3_bind_int64(s, 10, row.created_ms);
  BindText(s, 11, row.last_error);
  if (sqlite3_step(s) != SQLITE_DONE) {
    return core::Fail(StoreError(path, "cannot write to the outbox", db));
  }
  return sqlite3_changes(db) == 1;
}

}  // namespace detail

core::Result<bool> Store::OutboxEnqueue(const OutboxRow& row) {
  return detail::InsertOutboxRow(impl_->db.get(), path_, row);
}

core::Result<std::vector<bool>> Store::OutboxEnqueueAll(const std::vector<OutboxRow>& rows) {
  sqlite3* db = impl_->db.get();
  if (auto s = detail::Exec(db, path_, "BEGIN IMMEDIATE", "cannot lock the file"); !s) {
    return core::Fail(s.error());
  }
  std::vector<bool> written;
  for (const OutboxRow& row : rows) {
    auto inserted = detail::InsertOutboxRow(db, path_, row);
    if (!inserted) {
      (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return core::Fail(inserted.error());
    }
    written.push_back(*inserted);
  }
  if (auto c = detail::Exec(db, path_, "COMMIT", "cannot commit to the outbox"); !c) {
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return core::Fail(c.error());
  }
  return written;
}

core::Result<std::vector<OutboxRow>> Store::OutboxDue(int64_t now_ms, int per_channel_limit,
                                                      std::string_view channel) {
  // A queued row waits for every older queued row of its channel with the same order_key (an
  // incident's resolve never overtakes its trigger), whatever that row's next attempt time.
  const std::string sql = fmt::format(
      "SELECT {0} FROM ("
      "  SELECT o.*, ROW_NUMBER() OVER (PARTITION BY o.channel ORDER BY o.id) AS n"
      "  FROM notify_outbox o"
      "  WHERE o.state = 'queued' AND o.next_attempt_ms <= ?1 AND (?2 = '' OR o.channel = ?2)"
      "    AND (o.order_key = '' OR NOT EXISTS ("
      "      SELECT 1 FROM notify_outbox p WHERE p.state = 'queued' AND p.channel = o.channel"
      "        AND p.order_key = o.order_key AND p.id < o.id))"
      ") WHERE n <= ?3 ORDER BY id",
      kColumns);
  auto statement = Prepare(impl_->db.get(), path_, sql);
  if (!statement) return core::Fail(statement.error());
  sqlite3_stmt* s = statement->get();
  sqlite3_bind_int64(s, 1, now_ms);
  BindText(s, 2, std::string(channel));
  sqlite3_bind_int64(s, 3, per_channel_limit);
  std::vector<OutboxRow> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ReadRow(s));
  if (rc != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot read the outbox", impl_->db.get()));
  }
  return out;
}

core::Result<std::optional<int64_t>> Store::OutboxNextAttempt(std::string_view channel,
                                                              int64_t after_ms) {
  auto statement = Prepare(impl_->db.get(), path_,
                           "SELECT MIN(next_attempt_ms) FROM notify_outbox "
                           "WHERE state = 'queued' AND channel = ? AND next_attempt_ms > ?");
  if (!statement) return core::Fail(statement.error());
  BindText(statement->get(), 1, std::string(channel));
  sqlite3_bind_int64(statement->get(), 2, after_ms);
  if (sqlite3_step(statement->get()) != SQLITE_ROW) {
    return core::Fail(StoreError(path_, "cannot read the outbox", impl_->db.get()));
  }
  if (sqlite3_column_type(statement->get(), 0) == SQLITE_NULL) return std::optional<int64_t>();
  return std::optional<int64_t>(sqlite3_column_int64(statement->get(), 0));
}

core::Result<bool> Store::OutboxMarkSent(int64_t id, std::string_view sent_at, int status) {
  return UpdateQueued(impl_->db.get(), path_,
                      "UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, "
                      "sent_at = ?, last_error = '', last_status = ? "
                      "WHERE id = ? AND state = 'queued'",
                      {std::string(sent_at)}, {status, id});
}

core::Result<bool> Store::OutboxMarkRetry(int64_t id, int64_t next_attempt_ms,
                                          std::string_view error, int status) {
  return UpdateQueued(impl_->db.get(), path_,
                      "UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, "
                      "next_attempt_ms = ?, last_status = ? WHERE id = ? AND state = 'queued'",
                      {std::string(error)}, {next_attempt_ms, status, id});
}

core::Result<bool> Store::OutboxMarkFailed(int64_t id, std::string_view error, int status) {
  return UpdateQueued(impl_->db.get(), path_,
                      "UPDATE notify_outbox SET state = 'failed', attempts = attempts + 1, "
                      "last_error = ?, last_status = ? WHERE id = ? AND state = 'queued'",
                      {std::string(error)}, {status, id});
}

core::Result<std::vector<OutboxCount>> Store::OutboxCounts() {
  auto statement = Prepare(impl_->db.get(), path_,
                           "SELECT channel, state, COUNT(*) FROM notify_outbox "
                           "GROUP BY channel, state ORDER BY channel, state");
  if (!statement) return core::Fail(statement.error());
  std::vector<OutboxCount> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    out.push_back(OutboxCount{ColumnText(statement->get(), 0), ColumnText(statement->get(), 1),
                              sqlite3_column_int64(statement->get(), 2)});
  }
  if (rc != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot count the outbox", impl_->db.get()));
  }
  return out;
}

core::Result<std::vector<OutboxRow>> Store::OutboxMessagesOf(std::string_view incident_id) {
  return QueryRows(
      impl_->db.get(), path_,
      fmt::format("SELECT {} FROM notify_outbox WHERE incident_id = ? ORDER BY id", kColumns),
      {std::string(incident_id)}, {});
}

core::Result<std::vector<OutboxRow>> Store::OutboxByState(std::string_view state, int limit) {
  return QueryRows(
      impl_->db.get(), path_,
      fmt::format("SELECT {} FROM notify_outbox WHERE state = ? ORDER BY id DESC LIMIT ?",
                  kColumns),
      {std::string(state)}, {limit});
}

}  // namespace dbrunbook::store
