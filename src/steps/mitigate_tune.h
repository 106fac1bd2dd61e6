// mitigate.tune: configuration advice from what the server does now, and the guarded change of
// the variables it names.
//
// Evidence is the difference of two SHOW GLOBAL STATUS samples taken `interval` apart (rates and
// ratios of the interval), set against the global variables; since-boot totals are shown as
// context only (a server up for months averages away the incident). Inputs that only the
// caller can know (host or instance memory, FreeableMemory from the cloud) come in TuneInputs.
//
// Three halves, each testable alone:
//   * Advise (pure): the rules below, from TuneInputs, each giving an Advice with its
//     evidence, a suggested value and why, a severity, and whether the variable is dynamic
//     here. A suggestion is never beyond the bounds in TuneBounds (a buffer pool above 80% of
//     known memory, or any increase of it when the memory is unknown or the instance is short
//     of freeable memory, is never suggested as a change).
//   * ReadTuneInputs: the reads (two status samples, SHOW GLOBAL VARIABLES, the InnoDB data
//     size bounded by a table count, the history list length).
//   * ApplyTuning / RevertTuning: SET GLOBAL (or SET PERSIST) of the chosen applicable items,
//     each re-read to verify; the previous value is returned for the audit store, from which
//     --revert sets it back.
//
// Rules (ids; thresholds in TuneThresholds):
//   buffer_pool_size       InnoDB data + index larger than the buffer pool while the interval's
//                          hit ratio is below hit_ratio_warn: suggest the data size + 10% (to
//                          a 128 MiB multiple) within 75% of known memory; a pool above 80% of
//                          known memory: suggest 75% (swap risk).
//   buffer_pool_hit_ratio  Innodb_buffer_pool_reads / _read_requests deltas (evidence only).
//   max_connections        Max_used_connections >= 85% of max_connections, or connections
//                          refused in the interval (Connection_errors_max_connections): +50%.
//   tmp_table_size /       Created_tmp_disk_tables / Created_tmp_tables deltas above 25% with at
//   max_heap_table_size    least min_tmp_tables created: both doubled, at most 256 MiB (the
//                          in-memory limit is the smaller of the two).
//   table_open_cache       Table_open_cache_misses (else Opened_tables) above 1/s: doubled, at
//                          most 64K.
//   thread_cache_size      0, or Threads_created above 1/s: MySQL's own autosize formula
//                          8 + max_connections / 100, at most 100 (at least twice the current).
//   redo_log_size          Innodb_os_log_written rate against the redo capacity
//                          (innodb_redo_log_capacity on MySQL 8.0.30+, else
//                          innodb_log_file_size x innodb_log_files_in_group): below 60 minutes
//                          of writes, a capacity for 60 minutes (warn below 15). Not on Aurora
//                          (its storage has no redo log files to size).
//   history_list_length    above 100000 (critical above 1000000): advice only (a long
//                          transaction holds purge back; no variable fixes that).
//   log_waits              Innodb_log_waits in the interval: innodb_log_buffer_size doubled, at
//                          most 256 MiB.
//   query_cache            only where a query cache exists (MariaDB, MySQL before 8.0) and is
//                          on: Qcache_lowmem_prunes in the interval, or hits below 20% of
//                          selects: query_cache_type = OFF (and query_cache_size = 0).
//
// Thread-safety: plain functions; advice is a value.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collect/status.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "core/error.h"
#include "dialect/flavor.h"
#include "steps/level.h"

namespace dbrunbook::steps {

inline constexpr int64_t kMiB = int64_t{1024} * 1024;
inline constexpr int64_t kGiB = 1024 * kMiB;

struct TuneThresholds {
  double hit_ratio_warn = 0.99;         // buffer pool hit ratio of the interval
  double min_read_requests = 1000;      // fewer logical reads: the ratio says nothing
  double connections_used_warn = 0.85;  // Max_used_connections / max_connections
  double tmp_disk_ratio_warn = 0.25;
  double min_tmp_tables = 10;  // temporary tables created in the interval
  double table_cache_misses_per_sec = 1;
  double threads_created_per_sec = 1;
  double redo_minutes_target = 60;  // redo capacity should hold this much writing
  double redo_minutes_warn = 15;
  double history_warn = 100000;
  double history_critical = 1000000;
  double qcache_hit_ratio_warn = 0.2;
};

// Hard limits no suggestion crosses.
struct TuneBounds {
  double buffer_pool_max_memory_ratio = 0.80;     // never above this share of known memory
  double buffer_pool_target_memory_ratio = 0.75;  // what a suggestion aims at, at most
  // On a cloud instance: no buffer pool increase when FreeableMemory is below this share of
  // the instance's memory, and no increase larger than FreeableMemory minus that share.
  double min_freeable_ratio = 0.10;
  int64_t tmp_table_max = 256 * kMiB;
  int64_t table_open_cache_max = 65536;
  int64_t thread_cache_max = 100;
  int64_t log_buffer_max = 256 * kMiB;
  int64_t max_connections_max = 100000;
};

struct TuneInputs {
  dialect::Flavor flavor;
  collect::StatusSample first;               // SHOW GLOBAL STATUS at the start of the interval
  collect::StatusSample second;              // ... and at its end
  dialect::VariableMap variables;            // SHOW GLOBAL VARIABLES
  std::optional<int64_t> innodb_data_bytes;  // InnoDB data + index of application tables
  std::string data_size_source;              // "information_schema.TABLES (12 tables)"
  std::optional<int64_t> history_list_length;
  std::optional<int64_t> memory_bytes;          // host or instance memory; nullopt: unknown
  std::string memory_source;                    // "/proc/meminfo (local target)", "db.r6g.large"
  std::optional<double> freeable_memory_bytes;  // cloud: lowest FreeableMemory recently
  bool parameter_groups = false;  // RDS/Aurora: changes go through the DB parameter group
};

struct Advice {
  std::string rule;      // "buffer_pool_size"
  std::string variable;  // the variable to change; empty for advice without a change
  std::string current;   // its current value
  std::optional<std::string> suggested;  // the value to set; nullopt: no change suggested
  std::string evidence;                  // the interval's numbers (and since-boot context)
  std::string why;                       // why this value; caveats
  Level severity = Level::kOk;           // kOk: informational
  bool dynamic = false;                  // changes without a restart on this flavor
  // Whether --apply may change it: a suggestion within bounds (otherwise `refused` says why).
  bool applicable = false;
  std::string refused;  // why the suggestion is shown but never applied
};

// The rules, in the order of the header comment. Items whose rule finds nothing are left out,
// except the evidence-only buffer_pool_hit_ratio (always present when counters exist).
std::vector<Advice> Advise(const TuneInputs& in, const TuneThresholds& thresholds = {},
                           const TuneBounds& bounds = {});

// Whether `variable` is dynamic (SET GLOBAL without a restart) on `flavor`.
bool IsDynamicVariable(const dialect::Flavor& flavor, std::string_view variable);

// Reads everything Advise needs except memory and the cloud's numbers: status twice
// `interval` apart (nothing else sent between them), SHOW GLOBAL VARIABLES, the data size
// (TABLES below `max_tables_for_sizes` visible tables, else the tablespace files), the history
// list length (status variable / INNODB_METRICS, else SHOW ENGINE INNODB STATUS). A missing
// data size or history list is left nullopt (its rule is skipped); a failed status or
// variables read is the error.
core::Result<TuneInputs> ReadTuneInputs(collect::TargetSession& target, core::Clock& clock,
                                        core::Duration interval, int max_tables_for_sizes = 5000);

// Local memory from /proc/meminfo's MemTotal text; nullopt when absent or unreadable.
std::optional<int64_t> ParseMemTotal(std::string_view meminfo);
// Memory of an RDS/Aurora instance class (db.r6g.large: 16 GiB) for the general-purpose,
// memory-optimised and burstable classes; nullopt for others (memory then unknown).
std::optional<int64_t> InstanceClassMemory(std::string_view instance_class);

enum class ChangeStatus {
  kVerified,     // set, and the server reads back the value (or its own rounding of it)
  kFailed,       // the server refused the statement
  kNotVerified,  // set, but the read-back differs
  kRefused,      // not sent: not applicable here (see detail)
};
std::string_view ChangeStatusName(ChangeStatus status);  // verified, failed, ...

struct ChangeOutcome {
  std::string variable;
  std::string previous;  // as read just before the change
  std::string requested;
  std::string now;  // as read back after it
  std::string sql;  // what was sent; empty when nothing was
  ChangeStatus status = ChangeStatus::kFailed;
  std::string detail;
  std::optional<core::Error> error;
};

struct VariableChange {
  std::string variable;
  std::string value;
};

// Sets each variable (SET GLOBAL, or SET PERSIST with `persist`), reading its value just
// before (the previous value) and after (verification). `on_applied` is told once a statement
// was accepted, before verification (the audit's "applied" entry with the previous value).
// A lost connection stops the run: the remaining changes are kFailed with that error.
std::vector<ChangeOutcome> ApplyChanges(
    collect::TargetSession& target, const std::vector<VariableChange>& changes, bool persist,
    const std::function<void(const ChangeOutcome&)>& on_applied = {});

// Whether the server's read-back `now` satisfies `requested` for `variable`: equal, or for
// the buffer pool a value the server rounded up to its chunk multiple.
bool ReadBackMatches(std::string_view variable, std::string_view requested, std::string_view now);

}  // namespace dbrunbook::steps
