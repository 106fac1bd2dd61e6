// The watch daemon's part of the store: incidents, timelines, findings, evidence, samples,
// commands and the daemon lease (schema version 3).
#include <fmt/format.h>
#include <sqlite3.h>

#include <initializer_list>
#include <utility>

#include "core/duration.h"
#include "store/sqlite_detail.h"
#include "store/store.h"

namespace dbrunbook::store {
namespace {

using detail::BindText;
using detail::ColumnText;
using detail::Exec;
using detail::Prepare;
using detail::StoreError;

// One bound value: text or integer.
struct Value {
  Value(const std::string& text) : text(&text) {}  // NOLINT(google-explicit-constructor)
  Value(int64_t number) : number(number) {}        // NOLINT(google-explicit-constructor)
  const std::string* text = nullptr;
  int64_t number = 0;
};

void Bind(sqlite3_stmt* s, std::initializer_list<Value> values) {
  int i = 0;
  for (const Value& v : values) {
    ++i;
    if (v.text != nullptr) {
      BindText(s, i, *v.text);
    } else {
      sqlite3_bind_int64(s, i, v.number);
    }
  }
}

// Runs a statement that returns no rows.
core::Status Run(sqlite3* db, const std::string& path, std::string_view sql,
                 std::initializer_list<Value> values, std::string_view what) {
  auto statement = Prepare(db, path, sql);
  if (!statement) return core::Fail(statement.error());
  Bind(statement->get(), values);
  if (sqlite3_step(statement->get()) != SQLITE_DONE) {
    return core::Fail(StoreError(path, what, db));
  }
  return core::Ok();
}

// Runs a query and hands each row to `read`.
template <typename Row, typename Read>
core::Result<std::vector<Row>> Query(sqlite3* db, const std::string& path, std::string_view sql,
                                     std::initializer_list<Value> values, std::string_view what,
                                     Read read) {
  auto statement = Prepare(db, path, sql);
  if (!statement) return core::Fail(statement.error());
  Bind(statement->get(), values);
  std::vector<Row> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    rows.push_back(read(statement->get()));
  }
  if (rc != SQLITE_DONE) return core::Fail(StoreError(path, what, db));
  return rows;
}

// BEGIN IMMEDIATE ... COMMIT around `body`; rolled back when it fails.
template <typename Body>
core::Status Transaction(sqlite3* db, const std::string& path, Body body) {
  if (auto s = Exec(db, path, "BEGIN IMMEDIATE", "cannot lock the file"); !s) return s;
  core::Status result = body();
  if (!result) {
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return result;
  }
  if (auto s = Exec(db, path, "COMMIT", "cannot commit"); !s) {
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return core::Ok();
}

std::string Now() { return core::FormatRfc3339(std::chrono::system_clock::now()); }

constexpr std::string_view kIncidentColumns =
    "SELECT id, target, phase, severity, opened_at, resolved_at, updated_at, state_json "
    "FROM incident ";

IncidentRecord ReadIncident(sqlite3_stmt* s) {
  IncidentRecord r;
  r.id = sqlite3_column_int64(s, 0);
  r.target = ColumnText(s, 1);
  r.phase = ColumnText(s, 2);
  r.severity = ColumnText(s, 3);
  r.opened_at = ColumnText(s, 4);
  r.resolved_at = ColumnText(s, 5);
  r.updated_at = ColumnText(s, 6);
  r.state_json = ColumnText(s, 7);
  return r;
}

constexpr std::string_view kCommandColumns =
    "SELECT id, incident_id, kind, action, who, text, at, done_at, ok, result FROM "
    "daemon_command ";

CommandRecord ReadCommand(sqlite3_stmt* s) {
  CommandRecord r;
  r.id = sqlite3_column_int64(s, 0);
  r.incident_id = sqlite3_column_int64(s, 1);
  r.kind = ColumnText(s, 2);
  r.action = ColumnText(s, 3);
  r.who = ColumnText(s, 4);
  r.text = ColumnText(s, 5);
  r.at = ColumnText(s, 6);
  r.done_at = ColumnText(s, 7);
  r.ok = sqlite3_column_int(s, 8) != 0;
  r.result = ColumnText(s, 9);
  return r;
}

DaemonLease ReadLease(sqlite3_stmt* s) {
  DaemonLease r;
  r.pid = sqlite3_column_int64(s, 0);
  r.host = ColumnText(s, 1);
  r.started_at = ColumnText(s, 2);
  r.heartbeat_epoch = sqlite3_column_int64(s, 3);
  r.listen = ColumnText(s, 4);
  return r;
}

constexpr std::string_view kLeaseColumns =
    "SELECT pid, host, started_at, heartbeat_epoch, listen FROM daemon_lease";

}  // namespace

core::Status Store::SaveIncident(const IncidentRecord& incident,
                                 const std::vector<TimelineEntry>& events,
                                 const std::vector<OutboxRow>& outbox) {
  sqlite3* db = impl_->db.get();
  return Transaction(db, path_, [&]() -> core::Status {
    const std::string updated = incident.updated_at.empty() ? Now() : incident.updated_at;
    if (auto s = Run(db, path_,
                     "INSERT OR REPLACE INTO incident (id, target, phase, severity, opened_at, "
                     "resolved_at, updated_at, state_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     {incident.id, incident.target, incident.phase, incident.severity,
                      incident.opened_at, incident.resolved_at, updated, incident.state_json},
                     "cannot save the incident");
        !s) {
      return s;
    }
    for (const TimelineEntry& e : events) {
      const std::string at = e.at.empty() ? Now() : e.at;
      if (auto s = Run(db, path_,
                       "INSERT INTO incident_event (incident_id, at, kind, text, data_json) "
                       "VALUES (?, ?, ?, ?, ?)",
                       {e.incident_id, at, e.kind, e.text, e.data_json},
                       "cannot append to the incident's timeline");
          !s) {
        return s;
      }
    }
    for (const OutboxRow& row : outbox) {
      if (auto inserted = detail::InsertOutboxRow(db, path_, row); !inserted) {
        return core::Fail(inserted.error());
      }
    }
    return core::Ok();
  });
}

core::Result<std::vector<IncidentRecord>> Store::Incidents(bool open_only, int limit) {
  const std::string sql = fmt::format("{}{}ORDER BY id DESC LIMIT ?", kIncidentColumns,
                                      open_only ? "WHERE resolved_at = '' " : "");
  return Query<IncidentRecord>(impl_->db.get(), path_, sql, {int64_t{limit}},
                               "cannot read the incidents", ReadIncident);
}

core::Result<std::optional<IncidentRecord>> Store::Incident(int64_t id) {
  auto rows =
      Query<IncidentRecord>(impl_->db.get(), path_, fmt::format("{}WHERE id = ?", kIncidentColumns),
                            {id}, "cannot read the incident", ReadIncident);
  if (!rows) return core::Fail(rows.error());
  if (rows->empty()) return std::optional<IncidentRecord>();
  return std::optional<IncidentRecord>(std::move(rows->front()));
}

core::Result<int64_t> Store::MaxIncidentId() {
  auto rows = Query<int64_t>(impl_->db.get(), path_, "SELECT COALESCE(MAX(id), 0) FROM incident",
                             {}, "cannot read the incidents",
                             [](sqlite3_stmt* s) { return sqlite3_column_int64(s, 0); });
  if (!rows) return core::Fail(rows.error());
  return rows->empty() ? 0 : rows->front();
}

core::Result<std::vector<TimelineEntry>> Store::Timeline(int64_t incident_id) {
  return Query<TimelineEntry>(
      impl_->db.get(), path_,
      "SELECT id, incident_id, at, kind, text, data_json FROM incident_event "
      "WHERE incident_id = ? ORDER BY id",
      {incident_id}, "cannot read the incident's timeline", [](sqlite3_stmt* s) {
        TimelineEntry e;
        e.id = sqlite3_column_int64(s, 0);
        e.incident_id = sqlite3_column_int64(s, 1);
        e.at = ColumnText(s, 2);
        e.kind = ColumnText(s, 3);
        e.text = ColumnText(s, 4);
        e.data_json = ColumnText(s, 5);
        return e;
      });
}

core::Status Store::SaveFindings(int64_t incident_id, int diagnosis,
                                 const std::vector<FindingRecord>& findings) {
  sqlite3* db = impl_->db.get();
  return Transaction(db, path_, [&]() -> core::Status {
    if (auto s =
            Run(db, path_, "DELETE FROM incident_finding WHERE incident_id = ? AND diagnosis = ?",
                {incident_id, int64_t{diagnosis}}, "cannot save the findings");
        !s) {
      return s;
    }
    for (const FindingRecord& f : findings) {
      const std::string at = f.at.empty() ? Now() : f.at;
      if (auto s = Run(
              db, path_,
              "INSERT INTO incident_finding (incident_id, diagnosis, at, code, severity, "
              "title, finding_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
              {incident_id, int64_t{diagnosis}, at, f.code, f.severity, f.title, f.finding_json},
              "cannot save the findings");
          !s) {
        return s;
      }
    }
    return core::Ok();
  });
}

core::Result<std::vector<FindingRecord>> Store::Findings(int64_t incident_id) {
  return Query<FindingRecord>(
      impl_->db.get(), path_,
      "SELECT incident_id, diagnosis, at, code, severity, title, finding_json FROM "
      "incident_finding WHERE incident_id = ? ORDER BY diagnosis, id",
      {incident_id}, "cannot read the findings", [](sqlite3_stmt* s) {
        FindingRecord f;
        f.incident_id = sqlite3_column_int64(s, 0);
        f.diagnosis = sqlite3_column_int(s, 1);
        f.at = ColumnText(s, 2);
        f.code = ColumnText(s, 3);
        f.severity = ColumnText(s, 4);
        f.title = ColumnText(s, 5);
        f.finding_json = ColumnText(s, 6);
        return f;
      });
}

core::Status Store::SaveEvidence(const std::vector<EvidenceRecord>& evidence) {
  sqlite3* db = impl_->db.get();
  return Transaction(db, path_, [&]() -> core::Status {
    for (const EvidenceRecord& e : evidence) {
      const std::string at = e.at.empty() ? Now() : e.at;
      if (auto s = Run(db, path_,
                       "INSERT INTO incident_evidence (incident_id, at, kind, content) "
                       "VALUES (?, ?, ?, ?)",
                       {e.incident_id, at, e.kind, e.content}, "cannot save the evidence");
          !s) {
        return s;
      }
    }
    return core::Ok();
  });
}

core::Result<std::vector<EvidenceRecord>> Store::Evidence(int64_t incident_id) {
  return Query<EvidenceRecord>(impl_->db.get(), path_,
                               "SELECT incident_id, at, kind, content FROM incident_evidence "
                               "WHERE incident_id = ? ORDER BY id",
                               {incident_id}, "cannot read the evidence", [](sqlite3_stmt* s) {
                                 EvidenceRecord e;
                                 e.incident_id = sqlite3_column_int64(s, 0);
                                 e.at = ColumnText(s, 1);
                                 e.kind = ColumnText(s, 2);
                                 e.content = ColumnText(s, 3);
                                 return e;
                               });
}

core::Status Store::AppendSamples(const std::vector<SampleRecord>& samples, int keep_per_target) {
  sqlite3* db = impl_->db.get();
  return Transaction(db, path_, [&]() -> core::Status {
    std::vector<std::string> targets;
    for (const SampleRecord& r : samples) {
      if (auto s = Run(db, path_,
                       "INSERT OR REPLACE INTO signal_sample (target, at_ms, values_json) "
                       "VALUES (?, ?, ?)",
                       {r.target, r.at_ms, r.values_json}, "cannot store the samples");
          !s) {
        return s;
      }
      if (std::find(targets.begin(), targets.end(), r.target) == targets.end()) {
        targets.push_back(r.target);
      }
    }
    for (const std::string& target : targets) {
      if (auto s = Run(db, path_,
                       "DELETE FROM signal_sample WHERE target = ? AND at_ms < (SELECT at_ms FROM "
                       "signal_sample WHERE target = ? ORDER BY at_ms DESC LIMIT 1 OFFSET ?)",
                       {target, target, int64_t{keep_per_target - 1}}, "cannot trim the samples");
          !s) {
        return s;
      }
    }
    return core::Ok();
  });
}

core::Result<std::vector<SampleRecord>> Store::Samples(std::string_view target, int64_t from_ms,
                                                       int64_t to_ms) {
  const std::string name(target);
  return Query<SampleRecord>(impl_->db.get(), path_,
                             "SELECT target, at_ms, values_json FROM signal_sample WHERE target "
                             "= ? AND at_ms >= ? AND at_ms <= ? ORDER BY at_ms",
                             {name, from_ms, to_ms}, "cannot read the samples",
                             [](sqlite3_stmt* s) {
                               SampleRecord r;
                               r.target = ColumnText(s, 0);
                               r.at_ms = sqlite3_column_int64(s, 1);
                               r.values_json = ColumnText(s, 2);
                               return r;
                             });
}

core::Result<std::map<std::string, std::map<std::string, std::string>>> Store::LastApplied() {
  using Row = std::tuple<std::string, std::string, std::string>;
  auto rows = Query<Row>(impl_->db.get(), path_,
                         "SELECT target, action, MAX(at) FROM audit_log WHERE phase IN "
                         "('applied', 'verified') GROUP BY target, action",
                         {}, "cannot read the audit log", [](sqlite3_stmt* s) {
                           return Row{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2)};
                         });
  if (!rows) return core::Fail(rows.error());
  std::map<std::string, std::map<std::string, std::string>> out;
  for (auto& [target, action, at] : *rows) out[target][action] = at;
  return out;
}

core::Result<int64_t> Store::QueueCommand(const CommandRecord& command) {
  const std::string at = command.at.empty() ? Now() : command.at;
  if (auto s =
          Run(impl_->db.get(), path_,
              "INSERT INTO daemon_command (incident_id, kind, action, who, text, at, "
              "done_at, ok, result) VALUES (?, ?, ?, ?, ?, ?, '', 0, '')",
              {command.incident_id, command.kind, command.action, command.who, command.text, at},
              "cannot queue the command");
      !s) {
    return core::Fail(s.error());
  }
  return static_cast<int64_t>(sqlite3_last_insert_rowid(impl_->db.get()));
}

core::Result<std::vector<CommandRecord>> Store::PendingCommands() {
  return Query<CommandRecord>(impl_->db.get(), path_,
                              fmt::format("{}WHERE done_at = '' ORDER BY id", kCommandColumns), {},
                              "cannot read the commands", ReadCommand);
}

core::Status Store::FinishCommand(int64_t id, bool ok, std::string_view result) {
  const std::string text(result);
  return Run(impl_->db.get(), path_,
             "UPDATE daemon_command SET done_at = ?, ok = ?, result = ? WHERE id = ?",
             {Now(), int64_t{ok ? 1 : 0}, text, id}, "cannot answer the command");
}

core::Result<std::optional<CommandRecord>> Store::Command(int64_t id) {
  auto rows =
      Query<CommandRecord>(impl_->db.get(), path_, fmt::format("{}WHERE id = ?", kCommandColumns),
                           {id}, "cannot read the command", ReadCommand);
  if (!rows) return core::Fail(rows.error());
  if (rows->empty()) return std::optional<CommandRecord>();
  return std::optional<CommandRecord>(std::move(rows->front()));
}

core::Result<std::optional<DaemonLease>> Store::AcquireDaemonLease(const DaemonLease& me,
                                                                   int64_t now_epoch,
                                                                   int64_t stale_after_s) {
  sqlite3* db = impl_->db.get();
  std::optional<DaemonLease> holder;
  auto status = Transaction(db, path_, [&]() -> core::Status {
    auto rows =
        Query<DaemonLease>(db, path_, kLeaseColumns, {}, "cannot read the daemon lease", ReadLease);
    if (!rows) return core::Fail(rows.error());
    if (!rows->empty() && rows->front().pid != me.pid &&
        rows->front().heartbeat_epoch + stale_after_s >= now_epoch) {
      holder = rows->front();
      return core::Ok();
    }
    return Run(db, path_,
               "INSERT OR REPLACE INTO daemon_lease (one, pid, host, started_at, heartbeat_epoch, "
               "listen) VALUES (1, ?, ?, ?, ?, ?)",
               {me.pid, me.host, me.started_at, now_epoch, me.listen},
               "cannot take the daemon lease");
  });
  if (!status) return core::Fail(status.error());
  return holder;
}

core::Status Store::Heartbeat(int64_t pid, int64_t now_epoch) {
  auto statement =
      Prepare(impl_->db.get(), path_, "UPDATE daemon_lease SET heartbeat_epoch = ? WHERE pid = ?");
  if (!statement) return core::Fail(statement.error());
  Bind(statement->get(), {now_epoch, pid});
  if (sqlite3_step(statement->get()) != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot renew the daemon lease", impl_->db.get()));
  }
  if (sqlite3_changes(impl_->db.get()) == 0) {
    return core::MakeError(core::ErrorCode::kUnavailable,
                           fmt::format("store {}: another watch daemon took the lease", path_),
                           "run one `dbrunbook watch` per store file");
  }
  return core::Ok();
}

core::Status Store::ReleaseDaemonLease(int64_t pid) {
  return Run(impl_->db.get(), path_, "DELETE FROM daemon_lease WHERE pid = ?", {pid},
             "cannot release the daemon lease");
}

core::Result<std::optional<DaemonLease>> Store::CurrentDaemonLease() {
  auto rows = Query<DaemonLease>(impl_->db.get(), path_, kLeaseColumns, {},
                                 "cannot read the daemon lease", ReadLease);
  if (!rows) return core::Fail(rows.error());
  if (rows->empty()) return std::optional<DaemonLease>();
  return std::optional<DaemonLease>(rows->front());
}

}  // namespace dbrunbook::store
