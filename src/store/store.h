// The store: dbrunbook's own state on the local disk, in one SQLite file. For now it holds the
// audit log of actions (DESIGN.md, Safety model: every action attempt — planned, applied,
// failed, verified, refused — is recorded) and, from schema version 2, the recoveries of
// `mitigate failover` (a lock per cluster, and the history anti-flapping reads); version 3 the
// watch daemon's incidents; version 4 the notification outbox.
//
// An audit entry says who (the OS user running dbrunbook), when (UTC), on which target, which
// action, the plan (text or JSON, as the action rendered it), the phase reached, the result
// and the error. It never holds a secret: callers pass statement text already redacted
// (fingerprints) and errors that carry no credentials (core::Error never does).
//
// File: `--store FILE`, else $XDG_STATE_HOME/dbrunbook/dbrunbook.db (XDG_STATE_HOME absolute),
// else ~/.local/state/dbrunbook/dbrunbook.db. The directory is created 0700 and the file 0600
// (SQLite gives its -wal and -shm files the database file's mode). WAL journal, so a reader
// never blocks the writer, and a busy timeout, so two dbrunbook processes writing at once wait
// for each other instead of failing.
//
// Schema: versioned. The table `schema_version` holds one row; Open() applies the migrations
// from that version up to kSchemaVersion in one IMMEDIATE transaction (two processes opening
// a new file at once do not both migrate it). A file written by a newer dbrunbook (a higher
// version) is refused rather than guessed at.
//
// Errors are values: a file that cannot be created or opened (a directory in the way, no
// permission), one that is not a SQLite database, or a corrupted one is a kIo error naming the
// file and what to do; nothing is thrown.
//
// Thread-safety: a Store is used by one thread at a time (it owns one SQLite connection and
// its prepared statements). Several processes may use the same file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/environment.h"
#include "core/error.h"

namespace dbrunbook::store {

// The schema version this build writes (and migrates older files to).
inline constexpr int kSchemaVersion = 4;

enum class Phase { kPlanned, kApplied, kFailed, kVerified, kRefused };
// "planned", "applied", "failed", "verified", "refused" (as stored).
std::string_view PhaseName(Phase phase);
std::optional<Phase> ParsePhase(std::string_view name);

struct AuditEntry {
  std::string run_id;   // groups the entries of one command run (the plan and its victims)
  std::string at;       // RFC 3339 UTC; Append fills it in when empty
  std::string os_user;  // who ran dbrunbook; Append fills it in when empty
  std::string target;
  std::string action;   // "kill-queries"
  std::string subject;  // what the entry is about ("connection 42"); empty for the whole plan
  Phase phase = Phase::kPlanned;
  std::string plan;    // the plan or the statement, as shown to the user (no secrets)
  std::string result;  // what happened ("killed", "changed, not killed", ...)
  std::string error;   // the error text; empty when none
};

struct AuditRecord {
  int64_t id = 0;
  AuditEntry entry;
};

// One recovery (mitigate failover) of a cluster: the row is the cluster's lock while
// `ended_at` is empty (one per cluster at a time), and afterwards the record the block period
// (anti-flapping) is measured from.
struct Recovery {
  int64_t id = 0;
  std::string cluster;  // the replication cluster (app/failover: its configured name)
  std::string action;   // "failover"
  std::string run_id;
  std::string os_user;
  int64_t pid = 0;            // the dbrunbook process holding the lock
  std::string started_at;     // RFC 3339 UTC
  int64_t started_epoch = 0;  // seconds since the epoch (what the block period compares)
  std::string ended_at;       // empty while running (the lock is held)
  // running, done (changed and verified), failed (something was changed, or tried, and did not
  // finish), refused (nothing was changed: not counted by the block period), abandoned (the
  // lock of a process that died, broken by the next run).
  std::string outcome = "running";
  std::string old_primary;
  std::string new_primary;
  std::string detail;
};

// BeginRecovery's answer: the new row's id, or the recovery that holds the lock.
struct RecoveryLock {
  std::optional<int64_t> id;
  std::optional<Recovery> holder;
};

// An incident of the watch daemon as stored: the engine's state (watch::IncidentToJson) with
// the columns lists filter on. Times RFC 3339 UTC; resolved_at empty while open.
struct IncidentRecord {
  int64_t id = 0;
  std::string target;
  std::string phase;
  std::string severity;
  std::string opened_at;
  std::string resolved_at;
  std::string updated_at;
  std::string state_json;
};

// One timeline entry of an incident.
struct TimelineEntry {
  int64_t id = 0;  // set when read
  int64_t incident_id = 0;
  std::string at;
  std::string kind;
  std::string text;
  std::string data_json = "{}";
};

// A finding of one diagnosis (the n-th investigation) of an incident, whole as JSON.
struct FindingRecord {
  int64_t incident_id = 0;
  int diagnosis = 0;
  std::string at;
  std::string code;
  std::string severity;
  std::string title;
  std::string finding_json;
};

// Part of an incident's evidence snapshot ("processlist", "innodb_status", "status", ...),
// as JSON or text.
struct EvidenceRecord {
  int64_t incident_id = 0;
  std::string at;
  std::string kind;
  std::string content;
};

// One poll's signal values of a target ({"threads_running": 4, ...}).
struct SampleRecord {
  std::string target;
  int64_t at_ms = 0;  // milliseconds since the epoch
  std::string values_json;
};

// An operator's command for the running watch daemon (`dbrunbook incident approve ...`):
// queued by the CLI, carried out and answered by the daemon.
struct CommandRecord {
  int64_t id = 0;
  int64_t incident_id = 0;
  std::string kind;  // approve, ack, note, resolve
  std::string action;
  std::string who;
  std::string text;
  std::string at;
  std::string done_at;  // empty while pending
  bool ok = false;
  std::string result;
};

// The watch daemon holding the store (one per store file).
struct DaemonLease {
  int64_t pid = 0;
  std::string host;
  std::string started_at;
  int64_t heartbeat_epoch = 0;
  std::string listen;  // the API's address, "" when it has none
};

// One message for one channel in the notification outbox (schema version 4; outbox.cc): written
// before it is sent, so a message survives a crash or restart of the sender and is delivered at
// least once. One row per (key, channel). `message_json` is the message as notify/ serialised it
// (the store does not read it). Times: RFC 3339 UTC text for people, milliseconds since the
// epoch for the scheduler.
struct OutboxRow {
  int64_t id = 0;
  std::string key;          // the message's idempotency key
  std::string channel;      // the channel's name (notify.channels)
  std::string incident_id;  // "" for messages outside an incident (tests)
  std::string kind;         // alert, update, escalation, acknowledged, resolution, test
  // Messages of one channel with the same non-empty order_key are delivered in id order (an
  // incident's trigger before its resolve); empty: no ordering with others.
  std::string order_key;
  std::string message_json;
  std::string state = "queued";  // queued, sent, failed
  int attempts = 0;
  int64_t next_attempt_ms = 0;  // queued: not sent before this
  std::string created_at;
  int64_t created_ms = 0;
  std::string sent_at;     // sent: when; else ""
  std::string last_error;  // the last attempt's error (never a secret); "" when none
  int last_status = 0;     // the last attempt's HTTP status (0: none, or not HTTP)
};

// How many rows of a channel are in a state.
struct OutboxCount {
  std::string channel;
  std::string state;
  int64_t count = 0;
};

class Store {
 public:
  // Opens (creating when missing, with its directory) the store at `path` and brings its
  // schema up to date. kIo naming the file when it cannot be opened, is not a database, is
  // corrupted or is from a newer dbrunbook.
  static core::Result<std::unique_ptr<Store>> Open(const std::string& path);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  int schema_version() const { return schema_version_; }

  // Appends one entry; returns its id. `at` and `os_user` are filled in when empty.
  core::Result<int64_t> Append(AuditEntry entry);
  // The newest entries first, at most `limit`; only `target`'s when it is not empty.
  core::Result<std::vector<AuditRecord>> Recent(int limit, std::string_view target = {});

  // Takes `recovery.cluster`'s lock by recording the recovery as running (id, ended_at and
  // outcome are ignored), in one IMMEDIATE transaction: of two processes, one gets the id and
  // the other the holder.
  core::Result<RecoveryLock> BeginRecovery(const Recovery& recovery);
  // Ends a running recovery (releasing the lock) with `outcome` ("done", "failed", "refused",
  // "abandoned"); `ended_at` empty: now.
  core::Status EndRecovery(int64_t id, std::string_view outcome, std::string_view detail,
                           std::string_view ended_at = {});
  // The newest recovery of `cluster` that counts for the block period (running, done or
  // failed), or nullopt.
  core::Result<std::optional<Recovery>> LastRecovery(std::string_view cluster);
  // Every recovery of `cluster`, oldest first.
  core::Result<std::vector<Recovery>> Recoveries(std::string_view cluster);

  // --- The watch daemon's incidents (schema version 3; incidents.cc) ---

  // Inserts or replaces the incident, appends `events` to its timeline and queues `outbox`
  // (the messages those events call for; rows whose (key, channel) is there already are left
  // alone), in one transaction: a crash keeps all of it or none, so an event is never on the
  // timeline without its messages.
  core::Status SaveIncident(const IncidentRecord& incident,
                            const std::vector<TimelineEntry>& events,
                            const std::vector<OutboxRow>& outbox = {});
  // Newest first, at most `limit`; only open ones when `open_only`.
  core::Result<std::vector<IncidentRecord>> Incidents(bool open_only, int limit);
  core::Result<std::optional<IncidentRecord>> Incident(int64_t id);
  // The highest incident id ever given (0 for none).
  core::Result<int64_t> MaxIncidentId();
  // Oldest first.
  core::Result<std::vector<TimelineEntry>> Timeline(int64_t incident_id);
  // Replaces the findings of diagnosis `diagnosis` of the incident.
  core::Status SaveFindings(int64_t incident_id, int diagnosis,
                            const std::vector<FindingRecord>& findings);
  // Every diagnosis's findings, in order.
  core::Result<std::vector<FindingRecord>> Findings(int64_t incident_id);
  core::Status SaveEvidence(const std::vector<EvidenceRecord>& evidence);
  core::Result<std::vector<EvidenceRecord>> Evidence(int64_t incident_id);

  // Appends samples (one transaction) and keeps at most `keep_per_target` rows per target
  // (the oldest go): a ring buffer.
  core::Status AppendSamples(const std::vector<SampleRecord>& samples, int keep_per_target);
  // A target's samples with from_ms <= at_ms <= to_ms, oldest first.
  core::Result<std::vector<SampleRecord>> Samples(std::string_view target, int64_t from_ms,
                                                  int64_t to_ms);

  // When each action was last applied (audit phases applied or verified) per target: the
  // watch daemon's anti-flapping memory. target -> action -> RFC 3339 time.
  core::Result<std::map<std::string, std::map<std::string, std::string>>> LastApplied();

  // Commands for the daemon.
  core::Result<int64_t> QueueCommand(const CommandRecord& command);
  // Pending commands, oldest first.
  core::Result<std::vector<CommandRecord>> PendingCommands();
  core::Status FinishCommand(int64_t id, bool ok, std::string_view result);
  core::Result<std::optional<CommandRecord>> Command(int64_t id);

  // Takes the daemon lease for `me`, unless another live daemon holds it: a holder whose
  // heartbeat is older than `stale_after_s` seconds (before `now_epoch`) is replaced. Returns
  // the holder that prevented it, or nullopt when `me` now holds it.
  core::Result<std::optional<DaemonLease>> AcquireDaemonLease(const DaemonLease& me,
                                                              int64_t now_epoch,
                                                              int64_t stale_after_s);
  // Updates the holder's heartbeat; kUnavailable when `pid` no longer holds the lease.
  core::Status Heartbeat(int64_t pid, int64_t now_epoch);
  core::Status ReleaseDaemonLease(int64_t pid);
  core::Result<std::optional<DaemonLease>> CurrentDaemonLease();

  // --- The notification outbox (schema version 4; outbox.cc) ---

  // Writes `row` as queued, or as failed when row.state is "failed" (with row.last_error: a
  // message that cannot be sent, recorded as such); id, attempts, sent_at and last_status are
  // ignored. True when written; false when a row with the same (key, channel) exists (then
  // nothing changes).
  core::Result<bool> OutboxEnqueue(const OutboxRow& row);
  // The same for every row, in one transaction: all are written or none (a crash between the
  // channels of one message cannot leave some of them unwritten).
  core::Result<std::vector<bool>> OutboxEnqueueAll(const std::vector<OutboxRow>& rows);
  // Rows ready to send at `now_ms`, at most `per_channel_limit` per channel, oldest first: queued,
  // next_attempt_ms <= now_ms, and no older queued row of the same channel and order_key.
  // Only `channel`'s when it is not empty.
  core::Result<std::vector<OutboxRow>> OutboxDue(int64_t now_ms, int per_channel_limit,
                                                 std::string_view channel = {});
  // The earliest next_attempt_ms after `after_ms` of `channel`'s queued rows (nullopt: none).
  core::Result<std::optional<int64_t>> OutboxNextAttempt(std::string_view channel,
                                                         int64_t after_ms);
  // One more attempt, and its result. Each applies to a queued row only (a row already sent or
  // failed is left as it is) and returns whether it did.
  core::Result<bool> OutboxMarkSent(int64_t id, std::string_view sent_at, int status);
  core::Result<bool> OutboxMarkRetry(int64_t id, int64_t next_attempt_ms, std::string_view error,
                                     int status);
  core::Result<bool> OutboxMarkFailed(int64_t id, std::string_view error, int status);
  // Per channel and state (only states that have rows), by channel then state.
  core::Result<std::vector<OutboxCount>> OutboxCounts();
  // Every row of the incident, oldest first (the incident report's "messages" part).
  core::Result<std::vector<OutboxRow>> OutboxMessagesOf(std::string_view incident_id);
  // Rows in `state`, newest first, at most `limit`.
  core::Result<std::vector<OutboxRow>> OutboxByState(std::string_view state, int limit);

 private:
  struct Impl;
  Store(std::string path, std::unique_ptr<Impl> impl);

  std::string path_;
  std::unique_ptr<Impl> impl_;
  int schema_version_ = 0;
};

// $XDG_STATE_HOME/dbrunbook/dbrunbook.db (when XDG_STATE_HOME is absolute), else
// $HOME/.local/state/dbrunbook/dbrunbook.db; kInvalidConfig when neither is set.
core::Result<std::string> DefaultStorePath(const core::Environment& environment);

// The OS user running dbrunbook: the password database's name for the effective uid, else
// $LOGNAME / $USER, else "uid <n>".
std::string CurrentOsUser(const core::Environment& environment);

}  // namespace dbrunbook::store
