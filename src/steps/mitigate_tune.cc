#include "steps/mitigate_tune.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "collect/activity.h"
#include "collect/innodb_status.h"
#include "core/duration.h"
#include "core/strings.h"
#include "dialect/resources.h"
#include "dialect/tuning.h"
#include "steps/investigate_resources.h"
#include "steps/investigate_slowlog.h"

namespace dbrunbook::steps {
namespace {

constexpr int64_t kPoolUnit = 128 * kMiB;  // InnoDB's default chunk size
constexpr int64_t kRedoMax = 128 * kGiB;   // innodb_redo_log_capacity's maximum

bool IsConnectionLost(const core::Error& e) {
  return e.code == core::ErrorCode::kUnavailable || e.code == core::ErrorCode::kTimeout;
}

std::string Percent(double ratio) { return fmt::format("{:.1f}%", ratio * 100); }
std::string Count(double v) { return fmt::format("{:.0f}", v); }
std::string Bytes(double v) { return FormatBytes(static_cast<int64_t>(std::llround(v))); }
std::string PerSecond(double v) { return fmt::format("{:.2f}/s", v); }

int64_t RoundUp(double value, int64_t unit) {
  const auto units = static_cast<int64_t>(std::ceil(value / static_cast<double>(unit)));
  return std::max<int64_t>(units, 1) * unit;
}
int64_t RoundDown(double value, int64_t unit) {
  const auto units = static_cast<int64_t>(std::floor(value / static_cast<double>(unit)));
  return std::max<int64_t>(units, 1) * unit;
}

class Reader {
 public:
  explicit Reader(const TuneInputs& in) : in_(in) {}

  std::optional<double> Var(std::string_view name) const {
    auto it = in_.variables.find(std::string(name));
    if (it == in_.variables.end()) return std::nullopt;
    return core::ParseDouble(it->second);
  }
  std::string VarText(std::string_view name) const {
    auto it = in_.variables.find(std::string(name));
    return it == in_.variables.end() ? std::string() : it->second;
  }
  bool Has(std::string_view name) const { return in_.variables.contains(std::string(name)); }
  std::optional<double> Delta(std::string_view counter) const {
    return collect::Delta(in_.first, in_.second, counter);
  }
  std::optional<double> Rate(std::string_view counter) const {
    return collect::Rate(in_.first, in_.second, counter);
  }
  std::optional<double> Now(std::string_view counter) const { return in_.second.Get(counter); }
  double Seconds() const { return core::ToSeconds(in_.second.taken - in_.first.taken); }
  // "; since boot: 12/s over 3.2 days" — context, never the evidence.
  std::string SinceBoot(std::string_view counter) const {
    auto total = Now(counter);
    auto uptime = Now("Uptime");
    if (!total || !uptime || *uptime <= 0) return {};
    return fmt::format("; since boot {} ({} over {})", Count(*total), PerSecond(*total / *uptime),
                       core::FormatSeconds(*uptime));
  }

 private:
  const TuneInputs& in_;
};

// Fills dynamic / applicable / refused for a suggestion.
void Decide(Advice& a, const TuneInputs& in) {
  a.dynamic = IsDynamicVariable(in.flavor, a.variable);
  if (!a.suggested) return;
  if (!a.refused.empty()) return;
  if (dialect::IsAwsManaged(in.flavor) && !in.parameter_groups) {
    a.refused =
        "RDS/Aurora: the master user cannot SET GLOBAL; give the target a cloud: section "
        "(instance identifier) to change its DB parameter group";
    return;
  }
  if (!a.dynamic && !in.parameter_groups) {
    a.refused = fmt::format(
        "{} is not dynamic on {}: set it in the option file ([mysqld] section) and restart",
        a.variable, in.flavor.Name());
    return;
  }
  a.applicable = true;
}

void BufferPool(const TuneInputs& in, const Reader& r, const TuneThresholds& t, const TuneBounds& b,
                std::vector<Advice>& out) {
  const auto pool = r.Var("innodb_buffer_pool_size");
  if (!pool) return;
  const auto requests = r.Delta("Innodb_buffer_pool_read_requests");
  const auto reads = r.Delta("Innodb_buffer_pool_reads");
  std::optional<double> ratio;
  std::string hit_text = "no buffer pool counters";
  if (requests && reads) {
    if (*requests > 0) ratio = std::max(0.0, 1.0 - *reads / *requests);
    hit_text = ratio ? fmt::format("hit ratio {} in the interval ({} logical reads, {} from disk)",
                                   Percent(*ratio), Count(*requests), Count(*reads))
                     : std::string("no logical reads in the interval");
    const auto total_requests = r.Now("Innodb_buffer_pool_read_requests");
    const auto total_reads = r.Now("Innodb_buffer_pool_reads");
    if (total_requests && total_reads && *total_requests > 0) {
      hit_text += fmt::format("; since boot {}", Percent(1.0 - *total_reads / *total_requests));
    }
  }
  const bool low_hits =
      ratio && requests && *requests >= t.min_read_requests && *ratio < t.hit_ratio_warn;
  if (requests && reads) {
    Advice h;
    h.rule = "buffer_pool_hit_ratio";
    h.evidence = hit_text;
    h.severity = low_hits ? Level::kWarn : Level::kOk;
    h.why = low_hits ? fmt::format("below {}: reads go to disk (see buffer_pool_size)",
                                   Percent(t.hit_ratio_warn))
                     : (ratio ? "reads are served from memory"
                              : "no reads in the interval: no evidence either way");
    out.push_back(std::move(h));
  }

  Advice a;
  a.rule = "buffer_pool_size";
  a.variable = "innodb_buffer_pool_size";
  a.current = Count(*pool);
  const std::optional<double> memory =
      in.memory_bytes ? std::optional<double>(static_cast<double>(*in.memory_bytes)) : std::nullopt;
  std::string memory_text =
      memory ? fmt::format("memory {} ({})", Bytes(*memory), in.memory_source)
             : std::string("memory unknown (not a local target, no cloud instance class)");
  if (in.freeable_memory_bytes) {
    memory_text += fmt::format(", FreeableMemory {}", Bytes(*in.freeable_memory_bytes));
  }
  int64_t unit = kPoolUnit;
  if (auto chunk = r.Var("innodb_buffer_pool_chunk_size"); chunk && *chunk >= kMiB) {
    const double instances = std::max(1.0, r.Var("innodb_buffer_pool_instances").value_or(1));
    unit = static_cast<int64_t>(*chunk * instances);
  }

  // Too large for the memory: the host swaps, which is worse than any miss.
  if (memory && *pool > b.buffer_pool_max_memory_ratio * *memory) {
    a.severity = Level::kWarn;
    a.evidence = fmt::format("buffer pool {} is {} of {}", Bytes(*pool), Percent(*pool / *memory),
                             memory_text);
    a.suggested = std::to_string(RoundDown(b.buffer_pool_target_memory_ratio * *memory, unit));
    a.why = fmt::format(
        "above {} of memory the server, its connections and the OS compete for memory "
        "(swapping or the OOM killer); {} leaves room for per-connection buffers",
        Percent(b.buffer_pool_max_memory_ratio), Percent(b.buffer_pool_target_memory_ratio));
    Decide(a, in);
    out.push_back(std::move(a));
    return;
  }
  if (!in.innodb_data_bytes) return;
  const auto data = static_cast<double>(*in.innodb_data_bytes);
  if (data <= *pool) return;
  a.severity = low_hits ? Level::kWarn : Level::kOk;
  a.evidence = fmt::format("InnoDB data + indexes {} ({}) > buffer pool {}; {}; {}", Bytes(data),
                           in.data_size_source, Bytes(*pool), hit_text, memory_text);
  if (memory && in.freeable_memory_bytes &&
      *in.freeable_memory_bytes < b.min_freeable_ratio * *memory) {
    a.severity = Level::kWarn;
    a.refused = fmt::format(
        "FreeableMemory {} is below {} of the instance's memory: no increase; a larger "
        "instance class is the fix",
        Bytes(*in.freeable_memory_bytes), Percent(b.min_freeable_ratio));
    a.why = "the data outgrew the pool, but the instance has no memory to spare";
    out.push_back(std::move(a));
    return;
  }
  double target = static_cast<double>(RoundUp(data * 1.1, unit));
  std::string limit_note;
  if (memory) {
    double cap = b.buffer_pool_target_memory_ratio * *memory;
    if (in.freeable_memory_bytes) {
      // Never take more than the instance has free, keeping a margin.
      cap = std::min(cap, *pool + *in.freeable_memory_bytes - b.min_freeable_ratio * *memory);
    }
    if (target > cap) {
      target = static_cast<double>(RoundDown(cap, unit));
      limit_note = fmt::format(" (limited to what memory allows: {} of {})",
                               Percent(b.buffer_pool_target_memory_ratio), Bytes(*memory));
    }
  }
  a.why = fmt::format(
      "the whole data set (+10%) fits in memory, rounded to the pool's {} chunk multiple{}. {}",
      Bytes(static_cast<double>(unit)), limit_note,
      low_hits ? "The interval's misses show the working set does not fit."
      : ratio  ? "The interval's hit ratio is fine: the working set fits for now, so this is "
                 "headroom, not urgent."
               : "No reads in the interval: run it again under load to see whether the working "
                 "set fits.");
  if (target <= *pool) {
    a.why = fmt::format(
        "the data outgrew the pool but memory allows no larger one: more memory (a larger "
        "instance class or host) is the fix");
    out.push_back(std::move(a));
    return;
  }
  a.suggested = std::to_string(static_cast<int64_t>(target));
  if (!memory) {
    a.refused =
        "memory unknown: dbrunbook never raises the buffer pool blind; check the host's memory "
        "and set it by hand (at most 75% of it)";
  }
  Decide(a, in);
  out.push_back(std::move(a));
}

void MaxConnections(const TuneInputs& in, const Reader& r, const TuneThresholds& t,
                    const TuneBounds& b, std::vector<Advice>& out) {
  const auto max = r.Var("max_connections");
  const auto used = r.Now("Max_used_connections");
  if (!max || !used || *max <= 0) return;
  const double refused = r.Delta("Connection_errors_max_connections").value_or(0);
  const double ratio = *used / *max;
  if (ratio < t.connections_used_warn && refused <= 0) return;
  Advice a;
  a.rule = "max_connections";
  a.variable = "max_connections";
  a.current = Count(*max);
  a.severity = refused > 0 ? Level::kCritical : Level::kWarn;
  a.evidence = fmt::format(
      "peak {} of {} connections ({}; Max_used_connections, since boot or FLUSH STATUS), {} "
      "now; {} refused for max_connections in the interval",
      Count(*used), Count(*max), Percent(ratio), Count(r.Now("Threads_connected").value_or(0)),
      Count(refused));
  a.suggested = std::to_string(
      std::min<int64_t>(b.max_connections_max, static_cast<int64_t>(std::ceil(*max * 1.5))));
  a.why =
      "+50% headroom over the configured limit; each connection costs its per-thread buffers, "
      "so check first that the application's pool is not leaking or oversized";
  Decide(a, in);
  out.push_back(std::move(a));
}

void TmpTables(const TuneInputs& in, const Reader& r, const TuneThresholds& t, const TuneBounds& b,
               std::vector<Advice>& out) {
  const auto created = r.Delta("Created_tmp_tables");
  const auto disk = r.Delta("Created_tmp_disk_tables");
  const auto tmp = r.Var("tmp_table_size");
  const auto heap = r.Var("max_heap_table_size");
  if (!created || !disk || !tmp || !heap || *created < t.min_tmp_tables) return;
  const double ratio = *disk / *created;
  if (ratio <= t.tmp_disk_ratio_warn) return;
  const double limit = std::min(*tmp, *heap);
  const auto target =
      static_cast<double>(std::min<int64_t>(b.tmp_table_max, RoundUp(2 * limit, kMiB)));
  const std::string evidence = fmt::format(
      "{} of {} temporary tables went to disk in the interval ({}){}; in-memory limit {} "
      "(the smaller of tmp_table_size {} and max_heap_table_size {})",
      Count(*disk), Count(*created), Percent(ratio), r.SinceBoot("Created_tmp_disk_tables"),
      Bytes(limit), Bytes(*tmp), Bytes(*heap));
  for (auto [name, value] :
       {std::pair{"tmp_table_size", *tmp}, std::pair{"max_heap_table_size", *heap}}) {
    Advice a;
    a.rule = "tmp_disk_tables";
    a.variable = name;
    a.current = Count(value);
    a.severity = Level::kWarn;
    a.evidence = evidence;
    if (target <= value) {
      a.why = fmt::format(
          "already at or above {}: tables with BLOB/TEXT columns or too large for memory go to "
          "disk whatever the limit; fix the queries (dbrunbook digest)",
          Bytes(target));
      out.push_back(std::move(a));
      continue;
    }
    a.suggested = std::to_string(static_cast<int64_t>(target));
    a.why = fmt::format(
        "twice the in-memory limit, at most {} (both variables, as the smaller one counts); a "
        "temporary table with BLOB/TEXT columns goes to disk whatever the limit, and the limit "
        "applies per temporary table, so many at once use that much each",
        Bytes(static_cast<double>(b.tmp_table_max)));
    Decide(a, in);
    out.push_back(std::move(a));
  }
}

void TableOpenCache(const TuneInputs& in, const Reader& r, const TuneThresholds& t,
                    const TuneBounds& b, std::vector<Advice>& out) {
  const auto cache = r.Var("table_open_cache");
  if (!cache) return;
  std::string counter = "Table_open_cache_misses";
  auto rate = r.Rate(counter);
  if (!rate) {
    counter = "Opened_tables";
    rate = r.Rate(counter);
  }
  if (!rate || *rate <= t.table_cache_misses_per_sec) return;
  Advice a;
  a.rule = "table_open_cache";
  a.variable = "table_open_cache";
  a.current = Count(*cache);
  a.severity = Level::kWarn;
  a.evidence = fmt::format("{} {} in the interval{}; table_open_cache {}, Open_tables {}", counter,
                           PerSecond(*rate), r.SinceBoot(counter), Count(*cache),
                           Count(r.Now("Open_tables").value_or(0)));
  const int64_t target =
      std::min<int64_t>(b.table_open_cache_max, static_cast<int64_t>(std::ceil(*cache * 2)));
  if (target <= *cache) {
    a.why = "already at the bound: many tables or partitions opened in turn";
    out.push_back(std::move(a));
    return;
  }
  a.suggested = std::to_string(target);
  a.why = fmt::format(
      "tables are opened again instead of reused from the cache; doubled (at most {}); each "
      "open table needs file descriptors (check open_files_limit)",
      b.table_open_cache_max);
  Decide(a, in);
  out.push_back(std::move(a));
}

void ThreadCache(const TuneInputs& in, const Reader& r, const TuneThresholds& t,
                 const TuneBounds& b, std::vector<Advice>& out) {
  const auto cache = r.Var("thread_cache_size");
  if (!cache) return;
  const auto rate = r.Rate("Threads_created");
  const bool zero = *cache <= 0;
  const bool churn = rate && *rate > t.threads_created_per_sec;
  if (!zero && !churn) return;
  const double max = r.Var("max_connections").value_or(151);
  // MySQL's autosized default: 8 + max_connections / 100, at most 100.
  int64_t target = std::min<int64_t>(b.thread_cache_max, 8 + static_cast<int64_t>(max / 100));
  if (churn) {
    target = std::max<int64_t>(
        target, std::min<int64_t>(b.thread_cache_max, static_cast<int64_t>(*cache * 2)));
  }
  Advice a;
  a.rule = "thread_cache_size";
  a.variable = "thread_cache_size";
  a.current = Count(*cache);
  a.severity = Level::kWarn;
  a.evidence =
      fmt::format("thread_cache_size {}; Threads_created {} in the interval{}", Count(*cache),
                  rate ? PerSecond(*rate) : std::string("unknown"), r.SinceBoot("Threads_created"));
  if (target <= *cache) {
    a.why = "already at the bound: connections are opened and closed too often (use a pool)";
    out.push_back(std::move(a));
    return;
  }
  a.suggested = std::to_string(target);
  a.why = zero ? "0 makes every new connection create a thread; the server's own default is "
                 "8 + max_connections / 100 (at most 100)"
               : "threads are created faster than the cache keeps them: doubled, at most 100";
  Decide(a, in);
  out.push_back(std::move(a));
}

void RedoLog(const TuneInputs& in, const Reader& r, const TuneThresholds& t,
             const TuneBounds& /*b*/, std::vector<Advice>& out) {
  if (in.flavor.platform == dialect::Platform::kAurora) return;  // no redo files to size
  const auto rate = r.Rate("Innodb_os_log_written");
  if (!rate || *rate <= 0) return;
  const double per_minute = *rate * 60;
  Advice a;
  a.rule = "redo_log_size";
  double capacity = 0;
  double files = 1;
  const bool has_capacity = in.flavor.is_mysql_family() && in.flavor.version.AtLeast(8, 0, 30) &&
                            r.Has("innodb_redo_log_capacity");
  if (has_capacity) {
    a.variable = "innodb_redo_log_capacity";
    capacity = r.Var("innodb_redo_log_capacity").value_or(0);
    a.current = Count(capacity);
  } else {
    const auto size = r.Var("innodb_log_file_size");
    if (!size) return;
    files = std::max(1.0, r.Var("innodb_log_files_in_group").value_or(1));
    a.variable = "innodb_log_file_size";
    a.current = Count(*size);
    capacity = *size * files;
  }
  if (capacity <= 0) return;
  const double minutes = capacity / per_minute;
  if (minutes >= t.redo_minutes_target) return;
  a.severity = minutes < t.redo_minutes_warn ? Level::kWarn : Level::kOk;
  a.evidence = fmt::format(
      "redo written {}/min in the interval (Innodb_os_log_written){}; capacity {}{} holds {:.1f} "
      "minutes of it",
      Bytes(per_minute), r.SinceBoot("Innodb_os_log_written"), Bytes(capacity),
      files > 1 ? fmt::format(" ({} files)", Count(files)) : std::string(), minutes);
  double wanted =
      std::min<double>(static_cast<double>(kRedoMax), per_minute * t.redo_minutes_target);
  // More redo than the buffer pool buys nothing: the pages it covers must be dirty in the pool.
  std::string cap_note;
  if (auto pool = r.Var("innodb_buffer_pool_size"); pool && wanted > *pool) {
    wanted = *pool;
    cap_note = fmt::format(
        " Capped at the buffer pool size ({}): more redo than that buys nothing.", Bytes(*pool));
  }
  const int64_t value = RoundUp(wanted / files, kPoolUnit);
  a.why = fmt::format(
      "about {:.0f} minutes of writes between checkpoints smooths flushing (a full redo log "
      "forces synchronous flushing); larger means a longer crash recovery and more disk. One "
      "interval's rate: check it at peak load{}.{}",
      t.redo_minutes_target, files > 1 ? "; the value is per file" : "", cap_note);
  if (static_cast<double>(value) * files <= capacity) {
    a.why += " The redo log is already as large as the pool: raise the buffer pool first.";
    out.push_back(std::move(a));
    return;
  }
  a.suggested = std::to_string(value);
  Decide(a, in);
  out.push_back(std::move(a));
}

void History(const TuneInputs& in, const TuneThresholds& t, std::vector<Advice>& out) {
  if (!in.history_list_length) return;
  const auto h = static_cast<double>(*in.history_list_length);
  if (h < t.history_warn) return;
  Advice a;
  a.rule = "history_list_length";
  a.severity = h >= t.history_critical ? Level::kCritical : Level::kWarn;
  a.evidence = fmt::format("history list length {} (undo not yet purged)", Count(h));
  a.why =
      "no variable fixes this: an old transaction or read view holds purge back. Find it "
      "(dbrunbook investigate) and end it (dbrunbook mitigate kill-queries --idle-time)";
  out.push_back(std::move(a));
}

void LogWaits(const TuneInputs& in, const Reader& r, const TuneBounds& b,
              std::vector<Advice>& out) {
  const auto waits = r.Delta("Innodb_log_waits");
  const auto size = r.Var("innodb_log_buffer_size");
  if (!waits || !size || *waits <= 0) return;
  Advice a;
  a.rule = "log_waits";
  a.variable = "innodb_log_buffer_size";
  a.current = Count(*size);
  a.severity = Level::kWarn;
  a.evidence = fmt::format("Innodb_log_waits {} in the interval{}; innodb_log_buffer_size {}",
                           Count(*waits), r.SinceBoot("Innodb_log_waits"), Bytes(*size));
  const int64_t target = std::min<int64_t>(b.log_buffer_max, RoundUp(*size * 2, kMiB));
  if (target <= *size) {
    a.why = "already at the bound: large transactions; commit in smaller batches";
    out.push_back(std::move(a));
    return;
  }
  a.suggested = std::to_string(target);
  a.why = "transactions waited for room in the log buffer: doubled (at most 256 MiB)";
  Decide(a, in);
  out.push_back(std::move(a));
}

void QueryCache(const TuneInputs& in, const Reader& r, const TuneThresholds& t,
                std::vector<Advice>& out) {
  const dialect::Flavor& f = in.flavor;
  // MySQL removed the query cache in 8.0; MariaDB (and MySQL 5.7, Aurora v2) still have it.
  const bool exists = f.is_mariadb() || (f.is_mysql_family() && !f.version.AtLeast(8, 0));
  if (!exists || !r.Has("query_cache_type")) return;
  if (r.VarText("have_query_cache") == "NO") return;
  const std::string type = core::ToUpper(r.VarText("query_cache_type"));
  const double size = r.Var("query_cache_size").value_or(0);
  if (type == "OFF" || type == "0" || size <= 0) return;
  const double prunes = r.Delta("Qcache_lowmem_prunes").value_or(0);
  const double hits = r.Delta("Qcache_hits").value_or(0);
  const double selects = r.Delta("Com_select").value_or(0);
  const double lookups = hits + selects;
  const bool low_hits = lookups >= 100 && hits / lookups < t.qcache_hit_ratio_warn;
  if (prunes <= 0 && !low_hits) return;
  Advice a;
  a.rule = "query_cache";
  a.variable = "query_cache_type";
  a.current = r.VarText("query_cache_type");
  a.severity = Level::kWarn;
  a.evidence = fmt::format(
      "query cache {} of {}; in the interval {} hits for {} selects ({}), {} low-memory prunes",
      type, Bytes(size), Count(hits), Count(selects),
      lookups > 0 ? Percent(hits / lookups) : std::string("no lookups"), Count(prunes));
  a.suggested = "OFF";
  a.why =
      "the query cache is one mutex for every lookup and every write to a cached table; "
      "with few hits or constant pruning it costs more than it saves (then also set "
      "query_cache_size = 0 in the option file to free its memory)";
  Decide(a, in);
  out.push_back(std::move(a));
}

}  // namespace

bool IsDynamicVariable(const dialect::Flavor& f, std::string_view v) {
  if (v == "innodb_buffer_pool_size") {
    return f.is_mariadb() ? f.version.AtLeast(10, 2, 2) : f.version.AtLeast(5, 7, 5);
  }
  if (v == "innodb_log_file_size") {
    // MariaDB resizes the redo log online from 10.11 (MDEV-27812; checked live on 10.11).
    return f.is_mariadb() && f.version.AtLeast(10, 11);
  }
  if (v == "innodb_log_buffer_size") return f.is_mysql_family() && f.version.AtLeast(8, 0);
  if (v == "innodb_redo_log_capacity") return true;
  return !v.empty() && dialect::IsTunableVariable(v);
}

std::vector<Advice> Advise(const TuneInputs& in, const TuneThresholds& t, const TuneBounds& b) {
  std::vector<Advice> out;
  const Reader r(in);
  BufferPool(in, r, t, b, out);
  MaxConnections(in, r, t, b, out);
  TmpTables(in, r, t, b, out);
  TableOpenCache(in, r, t, b, out);
  ThreadCache(in, r, t, b, out);
  RedoLog(in, r, t, b, out);
  History(in, t, out);
  LogWaits(in, r, b, out);
  QueryCache(in, r, t, out);
  for (auto& a : out) {
    if (!a.variable.empty() && !a.dynamic) a.dynamic = IsDynamicVariable(in.flavor, a.variable);
  }
  return out;
}

std::optional<int64_t> ParseMemTotal(std::string_view meminfo) {
  static const RE2 kMemTotal(R"((?m)^MemTotal:\s+(\d+)\s+kB)");
  int64_t kib = 0;
  if (!RE2::PartialMatch(meminfo, kMemTotal, &kib) || kib <= 0) return std::nullopt;
  return kib * 1024;
}

std::optional<int64_t> InstanceClassMemory(std::string_view instance_class) {
  // Families whose memory follows the size: burstable (t2/t3/t4g), general purpose 4 GiB per
  // vCPU (m4-m7), memory optimised 8 GiB per vCPU (r5-r8). Older r3/r4 and others differ.
  static const RE2 kClass(
      R"(db\.(t2|t3|t4g|m4|m5|m5d|m6g|m6gd|m6i|m6id|m6in|m7g|m7i|r5|r5b|r5d|r6g|r6gd|r6i|r6id|r6in|r7g|r7i|r8g)\.(micro|small|medium|large|xlarge|(\d+)xlarge))");
  std::string family;
  std::string size;
  std::string multiple;
  if (!RE2::FullMatch(instance_class, kClass, &family, &size, &multiple)) return std::nullopt;
  const char kind = family[0];
  if (kind == 't') {
    if (size == "micro") return 1 * kGiB;
    if (size == "small") return 2 * kGiB;
    if (size == "medium") return 4 * kGiB;
    if (size == "large") return 8 * kGiB;
    if (size == "xlarge") return 16 * kGiB;
    if (size == "2xlarge") return 32 * kGiB;
    return std::nullopt;
  }
  const int64_t per_xlarge = kind == 'm' ? 16 * kGiB : 32 * kGiB;
  if (size == "large") return per_xlarge / 2;
  if (size == "xlarge") return per_xlarge;
  if (!multiple.empty()) {
    auto n = core::ParseInt64(multiple);
    if (n && *n > 0 && *n <= 64) return *n * per_xlarge;
  }
  return std::nullopt;
}

core::Result<TuneInputs> ReadTuneInputs(collect::TargetSession& target, core::Clock& clock,
                                        core::Duration interval, int max_tables_for_sizes) {
  TuneInputs in;
  in.flavor = target.flavor();
  auto first = collect::SampleStatus(target, clock);
  if (!first) return core::Fail(first.error());
  clock.SleepFor(interval);
  auto second = collect::SampleStatus(target, clock);
  if (!second) return core::Fail(second.error());
  in.first = std::move(*first);
  in.second = std::move(*second);

  auto variables = target.session->Query(target.dialect.GlobalVariables());
  if (!variables) return core::Fail(variables.error());
  for (const auto& row : variables->rows) {
    auto name = row.at(0).AsString();
    if (name) in.variables.insert_or_assign(std::string(*name), row.at(1).StringOr(""));
  }

  // Data size: count first (no table opened), then sizes only below the limit.
  int64_t visible = 0;
  if (auto counts = target.session->Query(dialect::VisibleTableCounts(target.dialect))) {
    for (const auto& row : counts->rows) visible += row["tables"].AsInt64().value_or(0);
  } else if (IsConnectionLost(counts.error())) {
    return core::Fail(counts.error());
  }
  // information_schema.TABLES shows only the tables the account may see; the tablespace list
  // (PROCESS) shows every file-per-table table without opening any. The larger answer wins.
  const bool dictionary = in.flavor.is_mysql_family() && in.flavor.version.AtLeast(8, 0);
  auto read_size = [&](const std::string& statement, const std::string& source) -> core::Status {
    if (statement.empty()) return {};
    auto size = target.session->Query(statement);
    if (!size) return IsConnectionLost(size.error()) ? core::Fail(size.error()) : core::Status{};
    if (size->rows.empty()) return {};
    auto bytes = size->rows[0]["innodb_bytes"].AsInt64();
    auto tables = size->rows[0]["tables"].AsInt64().value_or(0);
    if (bytes && (!in.innodb_data_bytes || *bytes > *in.innodb_data_bytes)) {
      in.innodb_data_bytes = bytes;
      in.data_size_source = fmt::format("{}, {} tables", source, tables);
    }
    return {};
  };
  if (dictionary || visible <= max_tables_for_sizes) {
    if (auto read = read_size(dialect::InnodbDataSize(target.dialect), "information_schema.TABLES");
        !read) {
      return core::Fail(read.error());
    }
  }
  if (auto read =
          read_size(dialect::InnodbDataSizeFromTablespaces(target.dialect), "tablespace files");
      !read) {
    return core::Fail(read.error());
  }

  auto history = collect::ReadHistoryListLength(target, in.second);
  if (history && history->has_value()) {
    in.history_list_length = **history;
  } else {
    auto innodb = collect::ReadInnodbStatus(target);
    if (innodb) in.history_list_length = innodb->history_list_length;
  }
  return in;
}

std::string_view ChangeStatusName(ChangeStatus status) {
  switch (status) {
    case ChangeStatus::kVerified:
      return "verified";
    case ChangeStatus::kFailed:
      return "failed";
    case ChangeStatus::kNotVerified:
      return "not_verified";
    case ChangeStatus::kRefused:
      return "refused";
  }
  return "failed";
}

bool ReadBackMatches(std::string_view variable, std::string_view requested, std::string_view now) {
  if (core::ToUpper(std::string(requested)) == core::ToUpper(std::string(now))) return true;
  const auto want = core::ParseDouble(requested);
  const auto got = core::ParseDouble(now);
  if (!want || !got) {
    // ON/OFF read back as 1/0 on some versions.
    const std::string w = core::ToUpper(std::string(requested));
    return (w == "OFF" && now == "0") || (w == "ON" && now == "1");
  }
  if (*want == *got) return true;
  // The server rounds the buffer pool up to a multiple of chunk size x instances.
  if (variable == "innodb_buffer_pool_size") return *got >= *want && *got < *want + 2.0 * kGiB;
  return false;
}

namespace {

core::Result<std::string> ReadOne(collect::TargetSession& target, const std::string& variable) {
  auto rows = target.session->Query(dialect::ReadTunableVariables({variable}));
  if (!rows) return core::Fail(rows.error());
  for (const auto& row : rows->rows) {
    auto name = row.at(0).AsString();
    if (name && core::ToLower(std::string(*name)) == variable) return row.at(1).StringOr("");
  }
  return core::MakeError(core::ErrorCode::kNotFound,
                         fmt::format("the server has no variable {}", variable));
}

}  // namespace

std::vector<ChangeOutcome> ApplyChanges(
    collect::TargetSession& target, const std::vector<VariableChange>& changes, bool persist,
    const std::function<void(const ChangeOutcome&)>& on_applied) {
  std::vector<ChangeOutcome> outcomes;
  std::optional<core::Error> lost;
  for (const auto& change : changes) {
    ChangeOutcome o;
    o.variable = change.variable;
    o.requested = change.value;
    if (lost) {
      o.error = *lost;
      o.detail = "not attempted: the connection to the server was lost";
      outcomes.push_back(std::move(o));
      continue;
    }
    const std::string sql =
        dialect::SetTunableVariable(target.dialect, change.variable, change.value, persist);
    if (sql.empty()) {
      o.status = ChangeStatus::kRefused;
      o.detail = fmt::format("no statement for {} = {} on {}", change.variable, change.value,
                             target.flavor().Name());
      outcomes.push_back(std::move(o));
      continue;
    }
    auto previous = ReadOne(target, change.variable);
    if (!previous) {
      o.error = previous.error();
      o.detail = "could not read the value before the change";
      if (IsConnectionLost(previous.error())) lost = previous.error();
      outcomes.push_back(std::move(o));
      continue;
    }
    o.previous = *previous;
    o.sql = sql;
    auto set = target.session->Query(sql);
    if (!set) {
      o.error = set.error();
      if (set.error().code == core::ErrorCode::kPrivilege) {
        o.error->hint =
            fmt::format("{} (or run this as an administrative account)",
                        GrantSetGlobalVariables(target.flavor(), collect::QuotedAccount(target)));
      }
      o.detail = "the server refused the change";
      if (IsConnectionLost(set.error())) lost = set.error();
      outcomes.push_back(std::move(o));
      continue;
    }
    if (on_applied) on_applied(o);
    auto now = ReadOne(target, change.variable);
    if (!now) {
      o.status = ChangeStatus::kNotVerified;
      o.error = now.error();
      o.detail = "set, but could not be read back";
      if (IsConnectionLost(now.error())) lost = now.error();
    } else {
      o.now = *now;
      const bool ok = ReadBackMatches(change.variable, change.value, *now);
      o.status = ok ? ChangeStatus::kVerified : ChangeStatus::kNotVerified;
      o.detail = ok ? fmt::format("reads back {}", *now)
                    : fmt::format("reads back {} instead of {}", *now, change.value);
    }
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace dbrunbook::steps
