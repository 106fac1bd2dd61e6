// mitigate.failover (self-managed MySQL / MariaDB replication): promote a replica of the target
// to primary, as the runbook's "fail over to a read replica", guarded like Orchestrator's
// graceful takeover.
//
// Three halves, each shown and tested alone:
//   * Facts (ReadPrimaryFacts, ReadReplicaFacts): what the old primary and the chosen replica
//     say about themselves — server_id, read_only (super_read_only on MySQL 5.7+), GTID and
//     binlog positions; the replica's one replication channel: threads, lag, the source's
//     server_id, the read and executed source positions.
//   * Pre-checks (EvaluatePreChecks, pure): each named, passed or not, and whether --force may
//     lift it. Never lifted: the replica is reachable; it replicates from the target (its
//     Master_Server_Id is the target's @@server_id; with the target down, its source host:port
//     is the target's configured one, or --force); it has exactly one channel; the target is
//     not itself a replica (of anything but the chosen replica); same product family. Lifted
//     by --force: the target is reachable (a primary that is down cannot be fenced), the IO and
//     SQL threads run, the lag is at most --max-lag, the relay log is fully applied.
//   * Execution (ExecuteFailover): fence the old primary (SET GLOBAL read_only = ON, and
//     super_read_only = ON on MySQL 5.7+; MariaDB has no super_read_only), read its final
//     position, wait (bounded) until the replica has applied it (MASTER_GTID_WAIT on MariaDB
//     with GTID, WAIT_FOR_EXECUTED_GTID_SET on MySQL with GTID, MASTER_POS_WAIT /
//     SOURCE_POS_WAIT otherwise; with the old primary down, the replica's own read position),
//     STOP SLAVE / STOP REPLICA, RESET SLAVE ALL / RESET REPLICA ALL, SET GLOBAL read_only =
//     OFF on the replica; then verify. A failure before the replica's replication is reset is
//     rolled back (the replica restarted, the old primary made writable again, as it was); after
//     it, nothing can be rolled back and the outcome says what is left to do.
//
// Verification writes nothing: `START TRANSACTION READ WRITE` then `ROLLBACK`. The server
// refuses to start a read-write transaction under read_only (error 1290) for an account
// without the privilege to write through it, and accepts it otherwise — it is the read_only
// gate every write passes, asked without a table, a row or a binlog event. It must succeed
// on the new primary; on the old one it must be refused, unless the account itself may write
// through read_only (MariaDB's READ_ONLY ADMIN, which it needs to set read_only; SUPER on
// MySQL without super_read_only), which the outcome then says, the old primary being
// verified by @@read_only alone.
//
// Thread-safety: plain functions; facts, checks and outcomes are values.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/activity.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "core/error.h"
#include "dialect/flavor.h"

namespace dbrunbook::steps {

inline constexpr double kDefaultFailoverMaxLagSeconds = 10;
inline constexpr core::Duration kDefaultFailoverWaitTimeout = std::chrono::seconds(30);

// What the old primary says. `reachable` false: `error` says why (nothing else is known).
struct PrimaryFacts {
  bool reachable = false;
  std::optional<core::Error> error;
  dialect::Flavor flavor;
  std::optional<int64_t> server_id;
  std::optional<bool> read_only;
  std::optional<bool> super_read_only;  // MySQL 5.7+ only
  std::string gtid_position;            // @@gtid_binlog_pos (MariaDB) / @@gtid_executed (MySQL)
  std::string binlog_file;              // SHOW MASTER STATUS
  std::optional<uint64_t> binlog_pos;
  // Its own replication channels (a primary has none): source host:port and source server_id.
  std::vector<collect::ReplicaChannel> channels;
  std::vector<std::optional<int64_t>> channel_source_server_ids;
};

// What the chosen replica says about itself and its channel.
struct ReplicaFacts {
  bool reachable = false;
  std::optional<core::Error> error;
  dialect::Flavor flavor;
  std::optional<int64_t> server_id;
  std::optional<bool> read_only;
  std::optional<bool> super_read_only;
  std::optional<bool> log_bin;
  int channel_count = 0;
  // The first (normally the only) channel:
  collect::ReplicaChannel channel;
  std::optional<int64_t> source_server_id;  // Master_Server_Id / Source_Server_Id
  std::string read_file;                    // Master_Log_File: the source binlog being read
  std::optional<uint64_t> read_pos;         // Read_Master_Log_Pos
  std::string exec_file;                    // Relay_Master_Log_File
  std::optional<uint64_t> exec_pos;         // Exec_Master_Log_Pos
  std::string retrieved_gtid;               // Gtid_IO_Pos / Retrieved_Gtid_Set
  std::string executed_gtid;                // Gtid_Slave_Pos / Executed_Gtid_Set
  std::string using_gtid;                   // MariaDB Using_Gtid (No, Slave_Pos, Current_Pos),
                                            // MySQL Auto_Position (0/1)
};

core::Result<PrimaryFacts> ReadPrimaryFacts(collect::TargetSession& target);
core::Result<ReplicaFacts> ReadReplicaFacts(collect::TargetSession& target);

// What the pre-checks compare with, besides the facts.
struct FailoverCheckSettings {
  double max_lag_seconds = kDefaultFailoverMaxLagSeconds;
  bool force = false;
  // The target's configured endpoint (host and port), to recognise the replica's source when
  // the target cannot be asked for its server_id.
  std::string target_host;
  std::optional<int64_t> target_port;
  // The replica's configured endpoint, to recognise a circular (co-primary) setup.
  std::string replica_host;
  std::optional<int64_t> replica_port;
};

struct PreCheck {
  std::string name;  // "replica_reachable", "io_thread_running", ...
  bool passed = false;
  bool forceable = false;  // --force may lift it
  bool forced = false;     // failed, lifted by --force
  std::string detail;
};

std::vector<PreCheck> EvaluatePreChecks(const PrimaryFacts& primary, const ReplicaFacts& replica,
                                        const FailoverCheckSettings& settings);
// Whether the checks allow going on: every failed check forced.
bool PreChecksAllow(const std::vector<PreCheck>& checks);
// "io_thread_running: the IO thread is Connecting (...)" for each blocking failure.
std::vector<std::string> BlockingChecks(const std::vector<PreCheck>& checks);

// --- statements per flavor (pure; exposed for tests) --------------------------------------

std::vector<std::string> FenceStatements(const dialect::Flavor& flavor);
std::string UnfenceStatement(const dialect::Flavor& flavor);
std::string ResetReplicaAll(const dialect::Flavor& flavor, std::string_view channel);
// One bounded wait of at most `seconds` (the caller loops), with the alias `result`, and how
// to read it: done (>= 0 or 0), timed out (-1 / 1), or an error (NULL).
enum class WaitKind { kMariaDbGtid, kMySqlGtid, kPosition };
std::string WaitStatement(const dialect::Flavor& flavor, WaitKind kind, std::string_view gtid,
                          std::string_view file, uint64_t pos, std::string_view channel,
                          int seconds);
enum class WaitResult { kDone, kTimedOut, kError };
WaitResult ReadWaitResult(WaitKind kind, const std::optional<int64_t>& value);
// The wait that fits the replica: GTID when its channel uses GTID and the old primary's GTID
// position is known, else positions.
WaitKind ChooseWaitKind(const ReplicaFacts& replica, const PrimaryFacts& primary);

// --- execution ---------------------------------------------------------------------------

enum class FailoverStepStatus { kDone, kFailed, kSkipped };
std::string_view FailoverStepStatusName(FailoverStepStatus status);  // done, failed, skipped

struct FailoverStep {
  std::string name;    // fence, read_position, wait, stop_replica, reset_replica, unfence, ...
  std::string server;  // "old primary" / "new primary"
  std::string sql;     // what was sent (several statements joined by "; ")
  FailoverStepStatus status = FailoverStepStatus::kDone;
  std::string detail;
  std::optional<core::Error> error;
};

struct FailoverExecuteOptions {
  core::Duration wait_timeout = kDefaultFailoverWaitTimeout;
  bool force = false;
  // Called after each step (for the audit log).
  std::function<void(const FailoverStep&)> on_step;
};

struct FailoverOutcome {
  std::vector<FailoverStep> steps;
  bool fenced = false;              // the old primary was made read-only (and stays so)
  bool promoted = false;            // the replica's replication was reset and it is writable
  bool rolled_back = false;         // a failure before the reset was undone
  bool verified = false;            // every verification passed
  std::vector<std::string> manual;  // what an operator must still do (after a failure)
};

// `primary` null: the old primary is down (only with --force, pre-checks decided that).
FailoverOutcome ExecuteFailover(collect::TargetSession* primary, collect::TargetSession& replica,
                                const PrimaryFacts& primary_facts,
                                const ReplicaFacts& replica_facts, core::Clock& clock,
                                const FailoverExecuteOptions& options);

// The verification probe: START TRANSACTION READ WRITE, then ROLLBACK. Its error when refused.
std::optional<core::Error> ProbeWrite(collect::TargetSession& target);

}  // namespace dbrunbook::steps
