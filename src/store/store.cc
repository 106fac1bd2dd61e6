#include "store/store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/duration.h"
#include "store/sqlite_detail.h"

namespace dbrunbook::store {
namespace {

namespace fs = std::filesystem;

// How long a writer waits for another process holding the write lock before giving up.
constexpr int kBusyTimeoutMs = 5000;

// Migration N brings the schema from version N to N + 1. Never edit a released migration:
// add the next one (files in the field are at every earlier version).
constexpr std::array<std::string_view, kSchemaVersion> kMigrations = {
    // 0 -> 1: the audit log.
    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  run_id TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  os_user TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  phase TEXT NOT NULL CHECK (phase IN "
    "    ('planned', 'applied', 'failed', 'verified', 'refused')),"
    "  plan TEXT NOT NULL,"
    "  result TEXT NOT NULL,"
    "  error TEXT NOT NULL"
    ");"
    "CREATE INDEX audit_log_target ON audit_log (target, id);"
    "CREATE INDEX audit_log_run ON audit_log (run_id);",
    // 1 -> 2: recoveries (mitigate failover). A row per recovery that took its cluster's lock;
    // the lock is the row whose ended_at is NULL, at most one per cluster (the partial unique
    // index makes a second one a constraint error even if two processes race).
    "CREATE TABLE recovery ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  cluster TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  run_id TEXT NOT NULL,"
    "  os_user TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  started_epoch INTEGER NOT NULL,"
    "  ended_at TEXT,"
    "  outcome TEXT NOT NULL CHECK (outcome IN "
    "    ('running', 'done', 'failed', 'refused', 'abandoned')),"
    "  old_primary TEXT NOT NULL,"
    "  new_primary TEXT NOT NULL,"
    "  detail TEXT NOT NULL"
    ");"
    "CREATE UNIQUE INDEX recovery_active ON recovery (cluster) WHERE ended_at IS NULL;"
    "CREATE INDEX recovery_cluster ON recovery (cluster, id);",
    // 2 -> 3: the watch daemon's incidents (the engine's state as JSON, with the columns lists
    // filter on), their timelines, findings and evidence snapshots; a ring buffer of signal
    // samples per target; commands for the daemon (approve, ack, note, resolve from the CLI);
    // and the daemon's lease (one watch daemon per store).
    "CREATE TABLE incident ("
    "  id INTEGER PRIMARY KEY,"
    "  target TEXT NOT NULL,"
    "  phase TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  opened_at TEXT NOT NULL,"
    "  resolved_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  state_json TEXT NOT NULL"
    ");"
    "CREATE INDEX incident_open ON incident (resolved_at, id);"
    "CREATE TABLE incident_event ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  incident_id INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  data_json TEXT NOT NULL"
    ");"
    "CREATE INDEX incident_event_incident ON incident_event (incident_id, id);"
    "CREATE TABLE incident_finding ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  incident_id INTEGER NOT NULL,"
    "  diagnosis INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  finding_json TEXT NOT NULL"
    ");"
    "CREATE INDEX incident_finding_incident ON incident_finding (incident_id, diagnosis, id);"
    "CREATE TABLE incident_evidence ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  incident_id INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  content TEXT NOT NULL"
    ");"
    "CREATE INDEX incident_evidence_incident ON incident_evidence (incident_id, id);"
    "CREATE TABLE signal_sample ("
    "  target TEXT NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  values_json TEXT NOT NULL,"
    "  PRIMARY KEY (target, at_ms)"
    ") WITHOUT ROWID;"
    "CREATE TABLE daemon_command ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  incident_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  done_at TEXT NOT NULL,"
    "  ok INTEGER NOT NULL,"
    "  result TEXT NOT NULL"
    ");"
    "CREATE INDEX daemon_command_pending ON daemon_command (done_at, id);"
    "CREATE TABLE daemon_lease ("
    "  one INTEGER PRIMARY KEY CHECK (one = 1),"
    "  pid INTEGER NOT NULL,"
    "  host TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  heartbeat_epoch INTEGER NOT NULL,"
    "  listen TEXT NOT NULL"
    ");",
    // 3 -> 4: the notification outbox (notify/dispatcher.h): a row per (message key, channel),
    // written before the message is sent and updated after each attempt.
    "CREATE TABLE notify_outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  key TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  incident_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  order_key TEXT NOT NULL,"
    "  message_json TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),"
    "  attempts INTEGER NOT NULL,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  sent_at TEXT NOT NULL,"
    "  last_error TEXT NOT NULL,"
    "  last_status INTEGER NOT NULL,"
    "  UNIQUE (key, channel)"
    ");"
    "CREATE INDEX notify_outbox_queue ON notify_outbox (state, channel, next_attempt_ms, id);"
    "CREATE INDEX notify_outbox_incident ON notify_outbox (incident_id, id);",
};

using detail::BindText;
using detail::ColumnText;
using detail::DbPtr;
using detail::Exec;
using detail::Prepare;
using detail::StatementPtr;
using detail::StoreError;

constexpr std::string_view kHint =
    "check the file and its directory (permissions, free space), or name another file with "
    "--store; a damaged store can be moved away and a new one is created";

// The version in schema_version, 0 for a new file (no row yet).
core::Result<int> ReadVersion(sqlite3* db, const std::string& path) {
  auto statement = Prepare(db, path, "SELECT version FROM schema_version");
  if (!statement) return core::Fail(statement.error());
  const int rc = sqlite3_step(statement->get());
  if (rc == SQLITE_ROW) return sqlite3_column_int(statement->get(), 0);
  if (rc == SQLITE_DONE) return 0;
  return core::Fail(StoreError(path, "cannot read the schema version", db));
}

core::Result<int> Migrate(sqlite3* db, const std::string& path) {
  // IMMEDIATE: the write lock is taken before the version is read, so of two processes opening
  // a new file at once, the second sees the first one's schema.
  if (auto s = Exec(db, path, "BEGIN IMMEDIATE", "cannot lock the file"); !s) {
    return core::Fail(s.error());
  }
  auto fail = [&](core::Error e) -> core::Result<int> {
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return core::Fail(std::move(e));
  };
  if (auto s =
          Exec(db, path, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
               "cannot create the schema_version table");
      !s) {
    return fail(s.error());
  }
  auto version = ReadVersion(db, path);
  if (!version) return fail(version.error());
  if (*version > kSchemaVersion) {
    return fail(core::Error{
        core::ErrorCode::kIo,
        fmt::format("audit store {} has schema version {}, newer than this dbrunbook's {}", path,
                    *version, kSchemaVersion),
        "use the dbrunbook that wrote it, or name another file with --store",
        0,
        {}});
  }
  for (int v = *version; v < kSchemaVersion; ++v) {
    if (auto s = Exec(db, path, kMigrations.at(static_cast<size_t>(v)),
                      fmt::format("migration to schema version {} failed", v + 1));
        !s) {
      return fail(s.error());
    }
  }
  if (*version < kSchemaVersion) {
    const std::string set =
        *version == 0 ? fmt::format("INSERT INTO schema_version VALUES ({})", kSchemaVersion)
                      : fmt::format("UPDATE schema_version SET version = {}", kSchemaVersion);
    if (auto s = Exec(db, path, set, "cannot record the schema version"); !s) {
      return fail(s.error());
    }
  }
  if (auto s = Exec(db, path, "COMMIT", "cannot commit the schema"); !s) return fail(s.error());
  return kSchemaVersion;
}

// Creates the directory (0700) and an empty file (0600) when missing, so the audit log is
// never readable by other users, whatever the umask.
core::Status PrepareFile(const std::string& path) {
  const fs::path file(path);
  std::error_code ec;
  if (file.has_parent_path() && !fs::exists(file.parent_path(), ec)) {
    fs::create_directories(file.parent_path(), ec);
    if (ec) {
      return core::MakeError(core::ErrorCode::kIo,
                             fmt::format("audit store {}: cannot create the directory {}: {}", path,
                                         file.parent_path().string(), ec.message()),
                             std::string(kHint));
    }
    fs::permissions(file.parent_path(), fs::perms::owner_all, ec);
  }
  if (fs::is_directory(file, ec)) {
    return core::MakeError(core::ErrorCode::kIo,
                           fmt::format("audit store {}: is a directory", path),
                           "name a file with --store");
  }
  // Only a missing file is created here. An existing one is never opened and closed outside
  // SQLite: closing any descriptor of a database file drops every POSIX lock this process holds
  // on it, including those of SQLite connections already open on it (a second Store in the
  // same process, as the watch daemon's threads have), which silently breaks their locking.
  if (fs::exists(file, ec)) return core::Ok();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return core::Ok();  // created meanwhile by someone else
  if (fd < 0) {
    return core::MakeError(core::ErrorCode::kIo,
                           fmt::format("audit store {}: cannot open: {}", path,
                                       std::strerror(errno)),  // NOLINT(concurrency-mt-unsafe)
                           std::string(kHint));
  }
  close(fd);
  return core::Ok();
}

}  // namespace

namespace detail {

core::Error StoreError(const std::string& path, std::string_view what, sqlite3* db) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return core::Error{core::ErrorCode::kIo,
                     fmt::format("audit store {}: {}: {}", path, what, detail),
                     std::string(kHint),
                     0,
                     {}};
}

core::Status Exec(sqlite3* db, const std::string& path, std::string_view sql,
                  std::string_view what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return core::Ok();
  const std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return core::Fail(core::Error{core::ErrorCode::kIo,
                                fmt::format("audit store {}: {}: {}", path, what, detail),
                                std::string(kHint),
                                0,
                                {}});
}

core::Result<StatementPtr> Prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &raw, nullptr) != SQLITE_OK) {
    return core::Fail(StoreError(path, "cannot prepare a statement", db));
  }
  return StatementPtr(raw);
}

void BindText(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<size_t>(sqlite3_column_bytes(statement, column))};
}

}  // namespace detail

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPlanned:
      return "planned";
    case Phase::kApplied:
      return "applied";
    case Phase::kFailed:
      return "failed";
    case Phase::kVerified:
      return "verified";
    case Phase::kRefused:
      return "refused";
  }
  return "failed";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase p :
       {Phase::kPlanned, Phase::kApplied, Phase::kFailed, Phase::kVerified, Phase::kRefused}) {
    if (PhaseName(p) == name) return p;
  }
  return std::nullopt;
}

Store::Store(std::string path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

Store::~Store() = default;

core::Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  if (path.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "audit store: empty file name",
                           "name a file with --store");
  }
  if (auto prepared = PrepareFile(path); !prepared) return core::Fail(prepared.error());
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return core::Fail(StoreError(path, "cannot open", db.get()));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  sqlite3_extended_result_codes(db.get(), 1);
  // The first statement that reads the file: a file that is not a database fails here.
  if (auto s = Exec(db.get(), path, "PRAGMA journal_mode = WAL", "cannot use the file"); !s) {
    return core::Fail(s.error());
  }
  // In WAL mode NORMAL loses no committed entry on a crash of the process, only on power loss.
  if (auto s = Exec(db.get(), path, "PRAGMA synchronous = NORMAL", "cannot use the file"); !s) {
    return core::Fail(s.error());
  }
  auto version = Migrate(db.get(), path);
  if (!version) return core::Fail(version.error());

  auto impl = std::make_unique<Impl>();
  auto insert = Prepare(db.get(), path,
                        "INSERT INTO audit_log (run_id, at, os_user, target, action, subject, "
                        "phase, plan, result, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return core::Fail(insert.error());
  constexpr std::string_view kColumns =
      "SELECT id, run_id, at, os_user, target, action, subject, phase, plan, result, error "
      "FROM audit_log ";
  auto recent = Prepare(db.get(), path, fmt::format("{}ORDER BY id DESC LIMIT ?", kColumns));
  if (!recent) return core::Fail(recent.error());
  auto recent_for_target =
      Prepare(db.get(), path, fmt::format("{}WHERE target = ? ORDER BY id DESC LIMIT ?", kColumns));
  if (!recent_for_target) return core::Fail(recent_for_target.error());
  impl->insert = std::move(*insert);
  impl->recent = std::move(*recent);
  impl->recent_for_target = std::move(*recent_for_target);
  impl->db = std::move(db);
  std::unique_ptr<Store> store(new Store(path, std::move(impl)));  // private constructor
  store->schema_version_ = *version;
  return store;
}

core::Result<int64_t> Store::Append(AuditEntry entry) {
  if (entry.at.empty()) entry.at = core::FormatRfc3339(std::chrono::system_clock::now());
  if (entry.os_user.empty()) entry.os_user = CurrentOsUser(core::ProcessEnvironment());
  sqlite3_stmt* s = impl_->insert.get();
  std::string phase(PhaseName(entry.phase));
  int i = 0;
  for (const std::string* text :
       {&entry.run_id, &entry.at, &entry.os_user, &entry.target, &entry.action, &entry.subject,
        &phase, &entry.plan, &entry.result, &entry.error}) {
    BindText(s, ++i, *text);
  }
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot append to the audit log", impl_->db.get()));
  }
  return static_cast<int64_t>(sqlite3_last_insert_rowid(impl_->db.get()));
}

core::Result<std::vector<AuditRecord>> Store::Recent(int limit, std::string_view target) {
  sqlite3_stmt* s = target.empty() ? impl_->recent.get() : impl_->recent_for_target.get();
  int next = 1;
  if (!target.empty()) BindText(s, next++, std::string(target));
  sqlite3_bind_int(s, next, limit);
  std::vector<AuditRecord> records;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    AuditRecord r;
    r.id = sqlite3_column_int64(s, 0);
    r.entry.run_id = ColumnText(s, 1);
    r.entry.at = ColumnText(s, 2);
    r.entry.os_user = ColumnText(s, 3);
    r.entry.target = ColumnText(s, 4);
    r.entry.action = ColumnText(s, 5);
    r.entry.subject = ColumnText(s, 6);
    r.entry.phase = ParsePhase(ColumnText(s, 7)).value_or(Phase::kFailed);
    r.entry.plan = ColumnText(s, 8);
    r.entry.result = ColumnText(s, 9);
    r.entry.error = ColumnText(s, 10);
    records.push_back(std::move(r));
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot read the audit log", impl_->db.get()));
  }
  return records;
}

namespace {

constexpr std::string_view kRecoveryColumns =
    "SELECT id, cluster, action, run_id, os_user, pid, started_at, started_epoch, "
    "COALESCE(ended_at, ''), outcome, old_primary, new_primary, detail FROM recovery ";

Recovery ReadRecovery(sqlite3_stmt* s) {
  Recovery r;
  r.id = sqlite3_column_int64(s, 0);
  r.cluster = ColumnText(s, 1);
  r.action = ColumnText(s, 2);
  r.run_id = ColumnText(s, 3);
  r.os_user = ColumnText(s, 4);
  r.pid = sqlite3_column_int64(s, 5);
  r.started_at = ColumnText(s, 6);
  r.started_epoch = sqlite3_column_int64(s, 7);
  r.ended_at = ColumnText(s, 8);
  r.outcome = ColumnText(s, 9);
  r.old_primary = ColumnText(s, 10);
  r.new_primary = ColumnText(s, 11);
  r.detail = ColumnText(s, 12);
  return r;
}

// Runs `sql` with text/int bindings and returns the rows read as recoveries.
core::Result<std::vector<Recovery>> QueryRecoveries(sqlite3* db, const std::string& path,
                                                    const std::string& sql,
                                                    const std::vector<std::string>& texts) {
  auto statement = Prepare(db, path, sql);
  if (!statement) return core::Fail(statement.error());
  int i = 0;
  for (const auto& t : texts) BindText(statement->get(), ++i, t);
  std::vector<Recovery> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement->get())) == SQLITE_ROW) {
    out.push_back(ReadRecovery(statement->get()));
  }
  if (rc != SQLITE_DONE) return core::Fail(StoreError(path, "cannot read the recoveries", db));
  return out;
}

}  // namespace

core::Result<RecoveryLock> Store::BeginRecovery(const Recovery& recovery) {
  sqlite3* db = impl_->db.get();
  if (auto s = Exec(db, path_, "BEGIN IMMEDIATE", "cannot lock the file"); !s) {
    return core::Fail(s.error());
  }
  auto fail = [&](core::Error e) -> core::Result<RecoveryLock> {
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return core::Fail(std::move(e));
  };
  auto held = QueryRecoveries(
      db, path_, fmt::format("{}WHERE cluster = ? AND ended_at IS NULL", kRecoveryColumns),
      {recovery.cluster});
  if (!held) return fail(held.error());
  RecoveryLock lock;
  if (!held->empty()) {
    lock.holder = held->front();
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return lock;
  }
  auto insert = Prepare(db, path_,
                        "INSERT INTO recovery (cluster, action, run_id, os_user, pid, started_at, "
                        "started_epoch, ended_at, outcome, old_primary, new_primary, detail) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'running', ?, ?, '')");
  if (!insert) return fail(insert.error());
  sqlite3_stmt* s = insert->get();
  BindText(s, 1, recovery.cluster);
  BindText(s, 2, recovery.action);
  BindText(s, 3, recovery.run_id);
  BindText(s, 4, recovery.os_user);
  sqlite3_bind_int64(s, 5, recovery.pid);
  BindText(s, 6, recovery.started_at);
  sqlite3_bind_int64(s, 7, recovery.started_epoch);
  BindText(s, 8, recovery.old_primary);
  BindText(s, 9, recovery.new_primary);
  if (sqlite3_step(s) != SQLITE_DONE) {
    return fail(StoreError(path_, "cannot record the recovery", db));
  }
  lock.id = sqlite3_last_insert_rowid(db);
  if (auto c = Exec(db, path_, "COMMIT", "cannot commit the recovery"); !c) return fail(c.error());
  return lock;
}

core::Status Store::EndRecovery(int64_t id, std::string_view outcome, std::string_view detail,
                                std::string_view ended_at) {
  auto statement = Prepare(impl_->db.get(), path_,
                           "UPDATE recovery SET ended_at = ?, outcome = ?, detail = ? "
                           "WHERE id = ? AND ended_at IS NULL");
  if (!statement) return core::Fail(statement.error());
  sqlite3_stmt* s = statement->get();
  const std::string at = ended_at.empty() ? core::FormatRfc3339(std::chrono::system_clock::now())
                                          : std::string(ended_at);
  BindText(s, 1, at);
  BindText(s, 2, std::string(outcome));
  BindText(s, 3, std::string(detail));
  sqlite3_bind_int64(s, 4, id);
  if (sqlite3_step(s) != SQLITE_DONE) {
    return core::Fail(StoreError(path_, "cannot end the recovery", impl_->db.get()));
  }
  return core::Ok();
}

core::Result<std::optional<Recovery>> Store::LastRecovery(std::string_view cluster) {
  auto rows = QueryRecoveries(
      impl_->db.get(), path_,
      fmt::format("{}WHERE cluster = ? AND outcome IN ('running', 'done', 'failed') "
                  "ORDER BY started_epoch DESC, id DESC LIMIT 1",
                  kRecoveryColumns),
      {std::string(cluster)});
  if (!rows) return core::Fail(rows.error());
  if (rows->empty()) return std::optional<Recovery>();
  return std::optional<Recovery>(rows->front());
}

core::Result<std::vector<Recovery>> Store::Recoveries(std::string_view cluster) {
  return QueryRecoveries(impl_->db.get(), path_,
                         fmt::format("{}WHERE cluster = ? ORDER BY id", kRecoveryColumns),
                         {std::string(cluster)});
}

core::Result<std::string> DefaultStorePath(const core::Environment& environment) {
  if (auto xdg = environment.Get("XDG_STATE_HOME"); xdg && xdg->starts_with("/")) {
    return *xdg + "/dbrunbook/dbrunbook.db";
  }
  if (auto home = environment.Get("HOME"); home && !home->empty()) {
    return *home + "/.local/state/dbrunbook/dbrunbook.db";
  }
  return core::MakeError(core::ErrorCode::kInvalidConfig,
                         "cannot place the audit store: neither XDG_STATE_HOME nor HOME is set",
                         "set HOME (or XDG_STATE_HOME to an absolute path), or name a file with "
                         "--store");
}

std::string CurrentOsUser(const core::Environment& environment) {
  passwd entry{};
  passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr) {
    return found->pw_name;
  }
  for (const char* name : {"LOGNAME", "USER"}) {
    if (auto value = environment.Get(name); value && !value->empty()) return *value;
  }
  return fmt::format("uid {}", geteuid());
}

}  // namespace dbrunbook::store
