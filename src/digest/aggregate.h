// Aggregation of slow-log events into classes, computed the way pt-query-digest's
// EventAggregator computes them (pt 3.2.1 .. 3.5.7), so that the two reports can be compared
// number by number:
//  - a class is a fingerprint (default), a db, a user, a host, or a table (an event touching
//    three tables counts in three classes);
//  - every attribute of an event is aggregated by its form: numbers (count, sum, min, max,
//    and pt's log-scale histogram: 1000 buckets of base 1.05 from 1e-6, from which the 95th
//    percentile, the standard deviation and the median are computed exactly as pt does;
//    exact for one or two distinct values), Yes/No booleans (% yes), strings (top values);
//  - pt-query-digest's event pipeline is reproduced: `Schema` is an alias of `db`; `db` and
//    `ts` are inherited from the previous event when an event has none; `Rows_*` of
//    administrator commands count as 0; Query_time is its leading number ("1.5abc" is 1.5);
//    the attributes pt ignores by default (arg, cmd, insert_id, ip, port, Thread_id,
//    timestamp, exptime, flags, key, res, val, server_id, offset, end_log_pos, Xid) are not
//    aggregated; the class's sample is the last event with the largest value of the ranking
//    attribute ("worst");
//  - the report's query size (`bytes`) is the statement length, as pt computes it.
//
// Deliberate differences from pt, all documented in the README:
//  - pt decides an attribute's type from its first value and only looks for new attributes in
//    the first 1000 events; here every value is aggregated by its own form, and the report
//    shows an attribute as the form most of its values have;
//  - sums are exact (fixed point at 1e-9, order-independent) instead of a running double;
//  - string attributes keep at most kMaxStringValues distinct values per class; beyond that
//    only the count is kept (pt keeps all, which is unbounded memory for e.g. InnoDB_trx_id);
//  - `ts` keeps its minimum and maximum only (pt also keeps every distinct value per class).
//
// Multi-threaded use: split a mapped buffer at event boundaries (NextEventBoundary), give each
// chunk an Aggregator whose inherited db/ts are those in force at the chunk's start
// (InheritedAt), aggregate, and Merge() the chunks in input order; the result is identical
// to one Aggregator over the whole input.
//
// Thread-safety: an Aggregator is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "digest/fingerprint.h"
#include "digest/slowlog_reader.h"

namespace dbrunbook::digest {

// std::string-keyed hash maps looked up by std::string_view without building a string
// (C++20 heterogeneous lookup; the hash is std::hash's, so is the maps' layout).
struct StringKeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <typename Value>
using StringKeyMap = std::unordered_map<std::string, Value, StringKeyHash, std::equal_to<>>;

// ---- pt's histogram buckets ----
inline constexpr int kBucketCount = 1000;
inline constexpr double kMinBucketValue = 0.000001;
// EventAggregator::bucket_idx / bucket_value.
int BucketIndex(double value);
// BucketIndex as pt computes it, with a logarithm (BucketIndex is the same, faster; tests).
int BucketIndexReference(double value);
double BucketValue(int bucket);
// The decade (0: 1us, 1: 10us, ... 6: 1s, 7: 10s+) of a bucket (EventAggregator::buckets_of).
int DecadeOfBucket(int bucket);

// Statistics of one numeric attribute in one class (or overall).
struct Metrics {
  std::uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double avg = 0;
  double p95 = 0;
  double stddev = 0;
  double median = 0;
};

class NumericStats {
 public:
  void Add(double value);
  // Add(value) `times` times.
  void AddRepeated(double value, std::uint64_t times);
  // Adds `count` values whose total is `sum` but whose individual values are unknown (a live
  // digest's interval from performance_schema): from then on min, max and the distribution
  // are unknown (exact() is false and Compute() gives NaN for them).
  void AddTotal(std::uint64_t count, double sum);
  // Adds `other`, which holds values that came after this one's in the input.
  void Merge(const NumericStats& other);
  // False once AddTotal was used: only count, sum and avg are known.
  bool exact() const { return !partial_; }

  std::uint64_t count() const { return count_; }
  double sum() const;
  double min() const { return min_; }
  double max() const { return max_; }
  // count, sum, min, max, avg and pt's p95 / stddev / median (EventAggregator::_calc_metrics).
  Metrics Compute() const;
  // Values per decade: 1us, 10us, 100us, 1ms, 10ms, 100ms, 1s, 10s+ (pt's distribution chart;
  // values under 1us count in the first).
  std::array<std::uint64_t, 8> Decades() const;
  // (bucket, count) pairs in bucket order.
  std::vector<std::pair<int, std::uint64_t>> Buckets() const;

 private:
  std::uint64_t count_ = 0;
  std::int64_t whole_ = 0;  // sum of the integer parts
  __int128 nanos_ = 0;      // sum of the fractional parts, in units of 1e-9
  double huge_ = 0;         // sum of values too large for the fixed-point parts (|v| >= 1e15)
  double min_ = 0;
  double max_ = 0;
  bool partial_ = false;
  // Histogram: sparse (bucket, count) pairs until kSparseLimit distinct buckets, then dense.
  static constexpr std::size_t kSparseLimit = 16;
  std::vector<std::pair<std::uint16_t, std::uint64_t>> sparse_;
  std::vector<std::uint64_t> dense_;  // kBucketCount entries once dense
  // min_ and max_ with `value` (before count_ counts it).
  void ExtendRange(double value) {
    if (count_ == 0) {
      min_ = max_ = value;
    } else {
      if (value < min_) min_ = value;
      if (value > max_) max_ = value;
    }
  }
  // Counts `times` in `bucket`'s cell; returns the cell (an index into sparse_, or the bucket).
  std::uint16_t CountIn(std::uint16_t bucket, std::uint64_t times);
  // The last value added by Add() and what it added (a class's attributes repeat their values:
  // Rows_examined 1, Bytes_sent 197): the same value again adds the same parts and counts in
  // the same histogram cell (an index into sparse_, or a bucket once dense). Only when
  // has_last_ (Merge clears it: it moves cells).
  bool has_last_ = false;
  std::uint64_t last_bits_ = 0;
  std::int64_t last_whole_ = 0;
  std::int64_t last_nanos_ = 0;
  std::uint16_t last_cell_ = 0;
};

struct BoolStats {
  std::uint64_t count = 0;
  std::uint64_t yes = 0;
  void Merge(const BoolStats& other) {
    count += other.count;
    yes += other.yes;
  }
};

inline constexpr std::size_t kMaxStringValues = 1000;

class StringStats {
 public:
  void Add(std::string_view value, std::uint64_t times = 1);
  void Merge(const StringStats& other);
  std::uint64_t count() const { return count_; }
  // False once more than kMaxStringValues distinct values were seen; then values() is empty
  // and only count() is known.
  bool complete() const { return !overflow_; }
  // Distinct values by count, most frequent first (ties: by value).
  std::vector<std::pair<std::string, std::uint64_t>> Top(std::size_t n) const;
  std::size_t distinct() const { return values_.size(); }
  const StringKeyMap<std::uint64_t>& values() const { return values_; }

 private:
  // The entry of the last value added (a class's user, host and db rarely change from one
  // event to the next): a pointer into values_'s node, which stays put until the map is
  // cleared; a copy of the stats starts without it, and so do both sides of a move.
  struct LastEntry {
    std::pair<const std::string, std::uint64_t>* entry = nullptr;
    LastEntry() = default;
    LastEntry(const LastEntry&) {}
    LastEntry(LastEntry&& other) noexcept { other.entry = nullptr; }
    LastEntry& operator=(const LastEntry& other) {
      if (this != &other) entry = nullptr;
      return *this;
    }
    LastEntry& operator=(LastEntry&& other) noexcept {
      entry = other.entry = nullptr;
      return *this;
    }
    ~LastEntry() = default;
  };

  std::uint64_t count_ = 0;
  bool overflow_ = false;
  StringKeyMap<std::uint64_t> values_;
  LastEntry last_;
};

enum class AttributeKind : std::uint8_t { kNumber, kBool, kString };

// One attribute in one class: every value goes to the statistics of its form.
struct AttributeStats {
  NumericStats number;
  BoolStats boolean;
  StringStats text;
  // The form most values had (ties: number, then bool, then string); the report's.
  AttributeKind Kind() const;
  std::uint64_t count() const { return number.count() + boolean.count + text.count(); }
  void Merge(const AttributeStats& other);
};

// The sample statement of a class: the last event with the largest ranking value (under
// --group-by tables, pt's quirk: the first event of the class).
struct Sample {
  std::string arg;
  std::string db;
  std::string ts;
  std::string user;
  std::string host;
  std::string query_time;    // its Query_time as the log writes it ("" when it has none)
  std::uint64_t offset = 0;  // byte offset of the event's record in its file ("at byte N")
  std::size_t file = 0;      // index of the file in the input list
  double value = 0;          // its value of the ranking attribute (when has_value)
  bool has_value = false;    // false: no event of the class had the ranking attribute
  bool present = false;
};

enum class GroupBy : std::uint8_t { kFingerprint, kDb, kUser, kHost, kTables };
core::Result<GroupBy> ParseGroupBy(std::string_view name);
std::string_view GroupByName(GroupBy group_by);

// The time of a "# Time:" value as seconds since the epoch (UTC, as pt reads it: the log's
// own clock, no zone applied): "071015 21:43:52", "2024-01-01T00:00:00.123456Z",
// "2024-01-01T10:00:00.1+02:00" (offset applied). nullopt when it is not a time.
std::optional<double> ParseLogTime(std::string_view ts);
// The same time as pt prints it: "2007-10-15 21:43:52" (fraction kept when present).
std::string FormatLogTime(double epoch_seconds, bool with_fraction);

struct TimeRange {
  bool present = false;
  double min = 0;  // epoch seconds
  double max = 0;
  std::string min_text;  // as written in the log
  std::string max_text;
  void Add(double t, std::string_view text);
  void Merge(const TimeRange& other);
};

struct ClassStats {
  std::string key;  // the fingerprint, db, user, host or table
  std::uint64_t count = 0;
  // By attribute id (Aggregator::AttributeName); entries with count() == 0 are unused.
  std::vector<AttributeStats> attributes;
  TimeRange time;
  std::uint64_t last_offset = 0;  // largest record offset seen (pt's pos_in_log max)
  std::size_t last_file = 0;
  Sample sample;
  // The attribute's stats in this class, or nullptr.
  const AttributeStats* Find(int attribute_id) const;
};

// What the filter sees of an event, after the pipeline (aliases, inheritance, admin zeroing).
struct EventView {
  const SlowLogEvent& event;
  std::string_view db;
  std::string_view ts;
  std::optional<double> time;    // ParseLogTime(ts)
  std::string_view fingerprint;  // empty unless grouping by fingerprint or the filter needs it
  std::optional<double> Number(std::string_view attribute) const;
  std::optional<std::string_view> Text(std::string_view attribute) const;
};

// The db and ts an event without its own inherits (pt's --inherit-attributes db,ts).
struct Inherited {
  std::string db;
  std::string ts;
  bool has_db = false;  // db was set (it may be "": an empty Schema)
};

struct AggregateOptions {
  GroupBy group_by = GroupBy::kFingerprint;
  // The ranking attribute: the class sample is the event with its largest value.
  std::string worst_attribute = "Query_time";
  FingerprintOptions fingerprint;
  // Attributes not aggregated (pt's --ignore-attributes default when empty is not wanted:
  // DefaultIgnoredAttributes()).
  std::vector<std::string> ignore_attributes;
  // pt's --since / --until (epoch seconds, ParseLogTime): applied as pt applies them, before
  // db/ts inheritance (an event they leave out passes nothing on) and on the event's own
  // "# Time:", with pt's state: no event passes until one has a time at or after `since`,
  // then every event does (with or without a time); after the first event with a time at or
  // after `until`, none does. DigestFiles reads with one thread when these are set (the state
  // runs through the whole input).
  std::optional<double> since;
  std::optional<double> until;
  // Events for which this returns false are not aggregated (--filter), after inheritance.
  std::function<bool(const EventView&)> filter;
  // Whether the filter looks at the fingerprint (computed for it even when not grouping by
  // fingerprint).
  bool filter_needs_fingerprint = false;
  // Tables of a statement, for GroupBy::kTables (QueryParser::get_tables).
  std::function<std::vector<std::string>(std::string_view)> tables_of;
};
std::vector<std::string> DefaultIgnoredAttributes();

// A class known only by its totals (a live digest row of performance_schema): `count` events
// whose attributes sum to `totals`; booleans as (events with Yes) out of `count`.
struct ClassSummary {
  std::string key;     // the class key (a fingerprint)
  std::string sample;  // the statement shown for the class
  std::string db;      // its default database ("" for none)
  std::uint64_t count = 0;
  std::vector<std::pair<std::string, double>> totals;
  std::vector<std::pair<std::string, std::uint64_t>> yes_counts;
};

// Counts of the pipeline, next to the reader's SlowLogStats.
struct AggregateCounts {
  std::uint64_t events = 0;       // events given to Add()
  std::uint64_t aggregated = 0;   // events that reached a class
  std::uint64_t filtered = 0;     // rejected by the filter
  std::uint64_t out_of_time = 0;  // left out by --since / --until
  std::uint64_t no_group = 0;     // no class: no db/user/host/table to group by
};

class Aggregator {
 public:
  explicit Aggregator(AggregateOptions options);
  Aggregator(Aggregator&&) noexcept;
  Aggregator& operator=(Aggregator&&) noexcept;
  ~Aggregator();

  // The db and ts in force before the first event (for a chunk that does not start the input).
  void SetInherited(const Inherited& inherited);

  void Add(const SlowLogEvent& event, std::size_t file = 0);
  // The db and ts in force after the last event added (what the next event would inherit).
  Inherited Current() const;
  // Adds a class known only by its totals (and counts it in the overall figures).
  void AddSummary(const ClassSummary& summary);
  // Adds `later` (the aggregate of the input that follows this one's).
  void Merge(Aggregator&& later);

  const std::vector<std::string>& AttributeNames() const { return attribute_names_; }
  std::optional<int> AttributeId(std::string_view name) const;
  const std::string& AttributeName(int id) const {
    return attribute_names_[static_cast<std::size_t>(id)];
  }

  // Classes in no particular order; see Rank().
  const std::vector<ClassStats>& Classes() const {
    FlushLines();
    return classes_;
  }
  // All events together (pt's "globals"), computed from the classes when first asked after a
  // change (not thread-safe, like the rest of the class).
  const ClassStats& Overall() const;
  const AggregateCounts& counts() const { return counts_; }
  const AggregateOptions& options() const { return options_; }

 private:
  struct Impl;
  ClassStats& ClassFor(std::string_view key);
  int IdOf(std::string_view name);
  void AddValue(ClassStats& c, int id, const Attribute& a, double number, AttributeKind kind);
  // Adds the counted repeated lines (SlowLogEvent::lines) to the classes' statistics.
  void FlushLines() const;

  AggregateOptions options_;
  std::vector<std::string> attribute_names_;
  StringKeyMap<int> attribute_ids_;
  // (mutable: counts of repeated lines are added to the classes when they are read; FlushLines)
  mutable std::vector<ClassStats> classes_;
  StringKeyMap<std::size_t> class_index_;
  mutable ClassStats overall_;
  mutable bool overall_valid_ = false;
  AggregateCounts counts_;
  std::unique_ptr<Impl> impl_;
};

// Ranking, as pt's --order-by and --limit.
enum class OrderStat : std::uint8_t { kSum, kMin, kMax, kCount, kAvg };
struct OrderBy {
  std::string attribute = "Query_time";
  OrderStat stat = OrderStat::kSum;
};
// "Query_time:sum", "Rows_examined:max", "Query_time:cnt"; a bare "Lock_time" ranks by count,
// as in pt.
core::Result<OrderBy> ParseOrderBy(std::string_view text);

struct Limit {
  double percent = 0;     // 0: none
  std::size_t count = 0;  // 0: none
};
// "N", "P%", "P%:N"; "0" means all. P% is of the order-by attribute's overall sum (pt).
core::Result<Limit> ParseLimit(std::string_view text);

struct RankedClass {
  std::size_t index = 0;  // into Classes()
  std::size_t rank = 0;   // 1-based
};
struct Ranking {
  std::vector<RankedClass> top;    // reported, in rank order
  std::vector<RankedClass> other;  // the rest (pt's MISC line)
};
// Sorts the classes by the order-by value, descending (ties: by class key, descending, as pt
// 3.5.7), classes without the attribute left out, and cuts by the limit: pt's
// EventAggregator::top_events with get_worst_queries' limits.
Ranking Rank(const Aggregator& aggregator, const OrderBy& order_by, const Limit& limit);
// A class's value for the ranking (nullopt when it has no such attribute).
std::optional<double> OrderValue(const Aggregator& aggregator, const ClassStats& c,
                                 const OrderBy& order_by);

// The db and ts in force at `offset` of `text` (the whole input), for starting a chunk there:
// the values of the last event before `offset` that has them (db from "use" or Schema).
Inherited InheritedAt(std::string_view text, std::size_t offset);

}  // namespace dbrunbook::digest
