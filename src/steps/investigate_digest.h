// Investigation step "digest": the statements that cost the most right now, live, without a
// slow log — the difference between two snapshots of
// performance_schema.events_statements_summary_by_digest taken `digest_interval` apart
// (default 10 s; 0 skips the step). It runs last: nothing else runs on the session between
// the two snapshots, and dbrunbook's own digest statements are left out by the server
// (dialect/digest.h, kDigestMarker).
//
// Findings:
//   digest.top         info: the top `digest_top` statements by total latency in the interval,
//                      with calls, total / average time, rows examined vs sent, no-index calls,
//                      temporary tables (on disk), errors, and their share of all statement
//                      time; "no statement completed" when nothing ran
//   digest.full_scan   warning: a top statement that scans without an index: at least half of
//                      its calls used no index (SUM_NO_INDEX_USED), it examined at least 1,000
//                      rows per call, and at least 100 times more rows than it sent or changed
//   digest.reset       info: the table was truncated during the interval (rows vanished, or a
//                      row came back with a new FIRST_SEEN or smaller counters); the figures of
//                      those rows cover only the part of the interval after the reset
//   digest.table_full  info: the catch-all row (DIGEST NULL) exists: the table reached
//                      performance_schema_digests_size and new statement shapes are no longer
//                      told apart (how many calls it took in the interval)
//   digest.prepared_unseen  info (warning when it is most of the statement time), MariaDB:
//                      binary-protocol prepared-statement executions of the interval, which
//                      MariaDB does not digest (statement/com/Execute), with their time
//   digest.unavailable info: no digest on this server (performance_schema OFF, the
//                      statements_digest consumer disabled, a flavor without the table), with
//                      what to change
// A missing SELECT on performance_schema fails the step (check.incomplete with the GRANT).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collect/target_session.h"
#include "core/clock.h"
#include "digest/aggregate.h"
#include "mysql/result.h"
#include "steps/step.h"

namespace dbrunbook::steps {

// The cumulative counters of one digest row (the SUM_ columns), or the difference of two.
struct DigestCounters {
  uint64_t calls = 0;
  uint64_t total_latency_ps = 0;
  uint64_t lock_latency_ps = 0;
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t rows_affected = 0;
  uint64_t rows_sent = 0;
  uint64_t rows_examined = 0;
  uint64_t tmp_tables = 0;
  uint64_t tmp_disk_tables = 0;
  uint64_t full_joins = 0;
  uint64_t no_index_used = 0;
  uint64_t no_good_index_used = 0;
};

struct DigestRow {
  std::optional<std::string> schema;  // NULL: no default database
  std::optional<std::string> digest;  // NULL: the catch-all row of a full table
  DigestCounters counters;
  std::string first_seen;

  bool catch_all() const { return !digest.has_value(); }
};

// Rows of dialect::DigestSnapshot.
std::vector<DigestRow> ParseDigestSnapshot(const mysql::ResultSet& rows);

struct DigestDelta {
  std::optional<std::string> schema;
  std::optional<std::string> digest;
  DigestCounters counters;          // what happened in the interval
  bool new_in_interval = false;     // first seen during the interval
  bool restarted = false;           // its row was reset during the interval
  std::optional<std::string> text;  // DIGEST_TEXT, filled in for the rows shown

  bool catch_all() const { return !digest.has_value(); }
};

// Binary-protocol prepared-statement executions (MariaDB digests none of them).
struct PreparedCount {
  bool known = false;  // read (or, for an interval, some ran)
  uint64_t executions = 0;
  uint64_t latency_ps = 0;
};

struct DigestComparison {
  // Digests that ran in the interval, most total latency first (then most calls).
  std::vector<DigestDelta> deltas;
  DigestCounters total;  // over every digest of the interval
  size_t rows_before = 0;
  size_t rows_after = 0;
  size_t vanished = 0;   // rows in the first snapshot missing from the second
  size_t restarted = 0;  // rows present in both whose counters restarted
  bool catch_all_present = false;
  uint64_t catch_all_calls = 0;  // calls the catch-all row took in the interval

  bool reset() const { return vanished > 0 || restarted > 0; }
};

// The interval between two snapshots. Pure; the order of rows does not matter.
DigestComparison CompareDigestSnapshots(const std::vector<DigestRow>& before,
                                        const std::vector<DigestRow>& after);

// A live statement digest: two snapshots `interval` apart, compared, with the digest texts of
// up to `max_texts` rows (most total latency first) and the prepared-statement executions
// MariaDB does not digest. Used by the digest step and by `dbrunbook digest --target`.
struct LiveDigest {
  DigestComparison comparison;
  double seconds = 0;          // measured time between the snapshots
  PreparedCount prepared;      // executions in the interval (MariaDB), known when read
  bool texts_missing = false;  // the texts could not be read (or not in time)
};
core::Result<LiveDigest> CollectLiveDigest(collect::TargetSession& target, core::Clock& clock,
                                           core::Duration interval, size_t max_texts,
                                           std::optional<core::MonoTime> texts_deadline = {});

// The live digest as digest classes (digest/aggregate.h), so that it is reported like a slow
// log: each row's class is the pt fingerprint of its DIGEST_TEXT (rows without a text: "digest
// <hex>"), with Query_time and Lock_time (seconds), Rows_sent, Rows_examined, Rows_affected,
// Tmp_tables, Tmp_disk_tables, Errors and Warnings as totals over its calls, and Full_scan
// (SUM_NO_INDEX_USED) and Full_join (SUM_SELECT_FULL_JOIN) as booleans. Only totals are known:
// min, max and percentiles are not (NaN).
digest::Aggregator LiveDigestAggregate(const DigestComparison& comparison);

class DigestStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.digest"; }
  std::string_view group() const override { return "digest"; }
  std::string_view description() const override {
    return "top statements by total latency between two performance_schema digest snapshots";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

}  // namespace dbrunbook::steps
