#include "steps/investigate_digest.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "core/duration.h"
#include "core/text.h"
#include "dialect/digest.h"
#include "digest/fingerprint.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace {

constexpr size_t kStatementChars = 300;
constexpr double kPicosecondsPerSecond = 1e12;
// digest.full_scan: rows examined per call, and examined per row sent or changed.
constexpr double kFullScanMinRowsPerCall = 1000;
constexpr double kFullScanMinRatio = 100;

using Key = std::tuple<std::optional<std::string>, std::optional<std::string>>;

Key KeyOf(const DigestRow& row) { return {row.schema, row.digest}; }

uint64_t U64(const mysql::Row& row, std::string_view column) {
  return row[column].AsUint64().value_or(0);
}

// Applies `op` to every counter of a, b and out alike.
template <typename Op>
void ForEachCounter(const DigestCounters& a, const DigestCounters& b, DigestCounters& out, Op op) {
  op(a.calls, b.calls, out.calls);
  op(a.total_latency_ps, b.total_latency_ps, out.total_latency_ps);
  op(a.lock_latency_ps, b.lock_latency_ps, out.lock_latency_ps);
  op(a.errors, b.errors, out.errors);
  op(a.warnings, b.warnings, out.warnings);
  op(a.rows_affected, b.rows_affected, out.rows_affected);
  op(a.rows_sent, b.rows_sent, out.rows_sent);
  op(a.rows_examined, b.rows_examined, out.rows_examined);
  op(a.tmp_tables, b.tmp_tables, out.tmp_tables);
  op(a.tmp_disk_tables, b.tmp_disk_tables, out.tmp_disk_tables);
  op(a.full_joins, b.full_joins, out.full_joins);
  op(a.no_index_used, b.no_index_used, out.no_index_used);
  op(a.no_good_index_used, b.no_good_index_used, out.no_good_index_used);
}

bool AnyDecreased(const DigestCounters& before, const DigestCounters& after) {
  bool decreased = false;
  DigestCounters unused;
  ForEachCounter(before, after, unused, [&](uint64_t b, uint64_t a, uint64_t&) {
    if (a < b) decreased = true;
  });
  return decreased;
}

DigestCounters Minus(const DigestCounters& after, const DigestCounters& before) {
  DigestCounters out;
  ForEachCounter(after, before, out, [](uint64_t a, uint64_t b, uint64_t& o) { o = a - b; });
  return out;
}

void AddTo(DigestCounters& sum, const DigestCounters& c) {
  ForEachCounter(sum, c, sum, [](uint64_t s, uint64_t x, uint64_t& o) { o = s + x; });
}

double Seconds(uint64_t picoseconds) {
  return static_cast<double>(picoseconds) / kPicosecondsPerSecond;
}

std::string Label(const DigestDelta& d) {
  if (d.catch_all()) return "(NULL digest)";
  return d.digest->substr(0, 12);
}

std::string StatementText(const DigestDelta& d) {
  if (d.catch_all()) return "(statements not told apart: the digest table is full)";
  return d.text ? core::OneLine(*d.text, kStatementChars) : std::string();
}

bool IsFullScan(const DigestDelta& d) {
  const DigestCounters& c = d.counters;
  if (d.catch_all() || c.calls == 0 || c.no_index_used * 2 < c.calls) return false;
  const double examined = static_cast<double>(c.rows_examined);
  const double produced = static_cast<double>(std::max<uint64_t>(c.rows_sent + c.rows_affected, 1));
  return examined / static_cast<double>(c.calls) >= kFullScanMinRowsPerCall &&
         examined / produced >= kFullScanMinRatio;
}

EvidenceRow DeltaRow(size_t rank, const DigestDelta& d, const DigestCounters& total) {
  const DigestCounters& c = d.counters;
  const double calls = static_cast<double>(std::max<uint64_t>(c.calls, 1));
  EvidenceRow row;
  row.Add("rank", static_cast<int64_t>(rank))
      .Add("schema", d.schema)
      .Add("digest", d.digest)
      .Add("statement", StatementText(d))
      .Add("calls", c.calls)
      .Add("total_seconds", Seconds(c.total_latency_ps))
      .Add("avg_ms", Seconds(c.total_latency_ps) * 1000 / calls)
      .Add("share_percent", total.total_latency_ps == 0
                                ? 0.0
                                : 100.0 * static_cast<double>(c.total_latency_ps) /
                                      static_cast<double>(total.total_latency_ps))
      .Add("rows_examined", c.rows_examined)
      .Add("rows_sent", c.rows_sent)
      .Add("rows_affected", c.rows_affected)
      .Add("rows_examined_per_call", static_cast<double>(c.rows_examined) / calls)
      .Add("no_index_used", c.no_index_used)
      .Add("full_joins", c.full_joins)
      .Add("tmp_tables", c.tmp_tables)
      .Add("tmp_disk_tables", c.tmp_disk_tables)
      .Add("errors", c.errors)
      .Add("lock_seconds", Seconds(c.lock_latency_ps));
  row.Add("first_seen_in_interval", d.new_in_interval).Add("restarted_in_interval", d.restarted);
  return row;
}

Finding Unavailable(std::string title, std::string detail) {
  Finding f;
  f.code = "digest.unavailable";
  f.severity = Severity::kInfo;
  f.title = std::move(title);
  f.detail = std::move(detail);
  return f;
}

// Why this server cannot give a digest, or nullopt when it may.
std::optional<Finding> CheckAvailable(const collect::TargetSession& target) {
  const dialect::Flavor& flavor = target.flavor();
  const bool aws = flavor.platform != dialect::Platform::kSelfManaged;
  if (!dialect::HasStatementDigestTable(flavor)) {
    return Unavailable(
        fmt::format("no statement digest on {}: it needs MySQL 5.6+ or MariaDB 10.0+",
                    flavor.Name()),
        "Use the slow query log (see the slowlog findings) to find the costly statements.");
  }
  if (flavor.capabilities.performance_schema == false) {
    Finding f = Unavailable(
        "no statement digest: performance_schema is OFF on this server",
        fmt::format("performance_schema can only be turned on at startup: set "
                    "performance_schema = ON in {} and restart (MariaDB's default is OFF). "
                    "Until then the slow query log is the source of costly statements.",
                    aws ? "the DB parameter group (a static parameter: it applies at reboot)"
                        : "the server configuration ([mysqld] in my.cnf)"));
    return f;
  }
  if (flavor.capabilities.statement_digests == false) {
    Finding f = Unavailable(
        "no statement digest: the statements_digest consumer is disabled",
        "performance_schema is ON but does not aggregate statements by digest. Enabling the "
        "consumer takes effect at once (it does not survive a restart unless "
        "performance_schema_consumer_statements_digest = ON is also configured).");
    f.suggestions.push_back({"enable the consumer (needs UPDATE on performance_schema)",
                             dialect::EnableStatementDigestConsumer(target.dialect)});
    return f;
  }
  return std::nullopt;
}

}  // namespace

std::vector<DigestRow> ParseDigestSnapshot(const mysql::ResultSet& rows) {
  std::vector<DigestRow> out;
  out.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    DigestRow row;
    row.schema = r["schema_name"].AsText();
    row.digest = r["digest"].AsText();
    DigestCounters& c = row.counters;
    c.calls = U64(r, "calls");
    c.total_latency_ps = U64(r, "total_latency_ps");
    c.lock_latency_ps = U64(r, "lock_latency_ps");
    c.errors = U64(r, "errors");
    c.warnings = U64(r, "warnings");
    c.rows_affected = U64(r, "rows_affected");
    c.rows_sent = U64(r, "rows_sent");
    c.rows_examined = U64(r, "rows_examined");
    c.tmp_tables = U64(r, "tmp_tables");
    c.tmp_disk_tables = U64(r, "tmp_disk_tables");
    c.full_joins = U64(r, "full_joins");
    c.no_index_used = U64(r, "no_index_used");
    c.no_good_index_used = U64(r, "no_good_index_used");
    row.first_seen = r["first_seen"].StringOr("");
    out.push_back(std::move(row));
  }
  return out;
}

DigestComparison CompareDigestSnapshots(const std::vector<DigestRow>& before,
                                        const std::vector<DigestRow>& after) {
  DigestComparison cmp;
  cmp.rows_before = before.size();
  cmp.rows_after = after.size();
  std::map<Key, const DigestRow*> earlier;
  for (const auto& row : before) earlier.emplace(KeyOf(row), &row);

  std::map<Key, bool> seen_after;
  for (const auto& row : after) {
    seen_after.emplace(KeyOf(row), true);
    if (row.catch_all()) cmp.catch_all_present = true;
    DigestDelta delta{row.schema, row.digest, row.counters, false, false, std::nullopt};
    auto it = earlier.find(KeyOf(row));
    if (it == earlier.end()) {
      delta.new_in_interval = true;
    } else if (it->second->first_seen != row.first_seen ||
               AnyDecreased(it->second->counters, row.counters)) {
      // Recreated after a TRUNCATE: everything it holds happened after the reset.
      delta.restarted = true;
      ++cmp.restarted;
    } else {
      delta.counters = Minus(row.counters, it->second->counters);
    }
    if (delta.counters.calls == 0) continue;
    if (row.catch_all()) cmp.catch_all_calls = delta.counters.calls;
    AddTo(cmp.total, delta.counters);
    cmp.deltas.push_back(std::move(delta));
  }
  for (const auto& row : before) {
    if (!seen_after.contains(KeyOf(row))) ++cmp.vanished;
  }
  std::stable_sort(cmp.deltas.begin(), cmp.deltas.end(),
                   [](const DigestDelta& a, const DigestDelta& b) {
                     if (a.counters.total_latency_ps != b.counters.total_latency_ps) {
                       return a.counters.total_latency_ps > b.counters.total_latency_ps;
                     }
                     return a.counters.calls > b.counters.calls;
                   });
  return cmp;
}

namespace {

// Not known when the count cannot be read: the digest findings stand without it.
PreparedCount ReadPreparedCount(collect::TargetSession& target) {
  auto result = target.session->Query(dialect::PreparedExecutions(target.dialect));
  if (!result || result->rows.empty()) return {};
  const auto& row = result->rows.front();
  const auto executions = row["executions"].AsUint64();
  const auto latency = row["latency_ps"].AsUint64();
  if (!executions || !latency) return {};
  return PreparedCount{true, *executions, *latency};
}

Finding PreparedFinding(const PreparedCount& prepared, const DigestCounters& digested,
                        const std::string& over) {
  Finding f;
  f.code = "digest.prepared_unseen";
  const double share =
      digested.total_latency_ps + prepared.latency_ps == 0
          ? 0.0
          : 100.0 * static_cast<double>(prepared.latency_ps) /
                static_cast<double>(digested.total_latency_ps + prepared.latency_ps);
  // Most of the statement time unseen: the top list above is not the workload.
  f.severity = share >= 50 ? Severity::kWarning : Severity::kInfo;
  f.title = fmt::format(
      "{} prepared-statement executions in the {} interval are not in the digest ({:.0f}% of "
      "statement time): MariaDB does not digest the binary protocol",
      prepared.executions, over, share);
  f.detail =
      "Connectors that prepare statements on the server (JDBC with useServerPrepStmts, Go's "
      "database/sql, sysbench, many ORMs) execute them with COM_STMT_EXECUTE, which MariaDB "
      "counts under statement/com/Execute without a digest, so the statements behind this "
      "time cannot be named from performance_schema. The slow query log records them with "
      "their text.";
  EvidenceRow row;
  row.Add("executions", static_cast<int64_t>(prepared.executions))
      .Add("latency_seconds", Seconds(prepared.latency_ps))
      .Add("digested_calls", static_cast<int64_t>(digested.calls))
      .Add("digested_latency_seconds", Seconds(digested.total_latency_ps))
      .Add("source",
           std::string("performance_schema.events_statements_summary_global_by_event_name "
                       "(statement/com/Execute)"));
  f.evidence.push_back(std::move(row));
  f.suggestions.push_back(
      {"name the statements from the slow log: turn it on for the incident (dbrunbook "
       "investigate TARGET --enable-slow-log=2 --apply, then --restore-slow-log --apply)",
       ""});
  return f;
}

}  // namespace

core::Result<LiveDigest> CollectLiveDigest(collect::TargetSession& target, core::Clock& clock,
                                           core::Duration interval, size_t max_texts,
                                           std::optional<core::MonoTime> texts_deadline) {
  LiveDigest live;
  const std::string snapshot = dialect::DigestSnapshot(target.dialect);
  // MariaDB gives binary-protocol prepared statements no digest: count them alongside, so
  // that a workload of prepared statements is not reported as an idle server.
  const bool count_prepared = target.flavor().is_mariadb();
  const PreparedCount prepared_before =
      count_prepared ? ReadPreparedCount(target) : PreparedCount{};
  const auto first_at = clock.MonotonicNow();
  auto first = target.session->Query(snapshot);
  if (!first) return core::Fail(first.error());
  clock.SleepFor(interval);
  const auto second_at = clock.MonotonicNow();
  auto second = target.session->Query(snapshot);
  if (!second) return core::Fail(second.error());
  const PreparedCount prepared_after =
      prepared_before.known ? ReadPreparedCount(target) : PreparedCount{};
  live.seconds = core::ToSeconds(second_at - first_at);
  live.comparison =
      CompareDigestSnapshots(ParseDigestSnapshot(*first), ParseDigestSnapshot(*second));
  DigestComparison& cmp = live.comparison;
  // What ran in the interval; not known when a read failed or a counter went backwards
  // (TRUNCATE of the summary tables).
  if (prepared_before.known && prepared_after.known &&
      prepared_after.executions >= prepared_before.executions &&
      prepared_after.latency_ps >= prepared_before.latency_ps) {
    live.prepared = PreparedCount{prepared_after.executions > prepared_before.executions,
                                  prepared_after.executions - prepared_before.executions,
                                  prepared_after.latency_ps - prepared_before.latency_ps};
  }

  // Texts of the statements shown, in one more statement (the snapshots stay small).
  const size_t top = std::min(cmp.deltas.size(), max_texts);
  std::vector<std::string> wanted;
  for (size_t i = 0; i < top; ++i) {
    if (!cmp.deltas[i].catch_all()) wanted.push_back(*cmp.deltas[i].digest);
  }
  const std::string texts_sql = dialect::DigestTexts(target.dialect, wanted);
  if (texts_sql.empty()) return live;
  if (texts_deadline && clock.MonotonicNow() >= *texts_deadline) {
    live.texts_missing = true;
    return live;
  }
  auto texts = target.session->Query(texts_sql);
  if (!texts) {
    live.texts_missing = true;
    return live;
  }
  std::map<Key, std::string> by_key;
  for (const auto& r : texts->rows) {
    by_key[{r["schema_name"].AsText(), r["digest"].AsText()}] = r["digest_text"].StringOr("");
  }
  for (size_t i = 0; i < top; ++i) {
    auto it = by_key.find({cmp.deltas[i].schema, cmp.deltas[i].digest});
    if (it != by_key.end()) cmp.deltas[i].text = it->second;
  }
  return live;
}

digest::Aggregator LiveDigestAggregate(const DigestComparison& comparison) {
  digest::AggregateOptions options;
  options.ignore_attributes = digest::DefaultIgnoredAttributes();
  digest::Aggregator aggregator(options);
  for (const DigestDelta& d : comparison.deltas) {
    const DigestCounters& c = d.counters;
    digest::ClassSummary s;
    if (d.catch_all()) {
      s.key = "(statements not told apart: the digest table is full)";
    } else if (d.text && !d.text->empty()) {
      s.key = digest::Fingerprint(*d.text);
      s.sample = *d.text;
    } else {
      s.key = "digest " + *d.digest;
    }
    if (s.sample.empty()) s.sample = s.key;
    s.db = d.schema.value_or("");
    s.count = c.calls;
    s.totals = {{"Query_time", Seconds(c.total_latency_ps)},
                {"Lock_time", Seconds(c.lock_latency_ps)},
                {"Rows_sent", static_cast<double>(c.rows_sent)},
                {"Rows_examined", static_cast<double>(c.rows_examined)},
                {"Rows_affected", static_cast<double>(c.rows_affected)},
                {"Tmp_tables", static_cast<double>(c.tmp_tables)},
                {"Tmp_disk_tables", static_cast<double>(c.tmp_disk_tables)},
                {"Errors", static_cast<double>(c.errors)},
                {"Warnings", static_cast<double>(c.warnings)}};
    s.yes_counts = {{"Full_scan", c.no_index_used}, {"Full_join", c.full_joins}};
    aggregator.AddSummary(s);
  }
  return aggregator;
}

std::string DigestStep::RequiredGrant(const dialect::Flavor& /*flavor*/,
                                      std::string_view account) const {
  return GrantPerformanceSchema(account);
}

core::Result<std::vector<Finding>> DigestStep::Run(StepContext& context) {
  const core::Duration interval = context.options.digest_interval;
  if (interval <= core::Duration::zero()) return std::vector<Finding>{};
  auto& target = context.target;
  if (auto unavailable = CheckAvailable(target)) return std::vector<Finding>{*unavailable};

  const auto deadline = context.deadline + interval;
  auto live =
      CollectLiveDigest(target, context.clock, interval,
                        static_cast<size_t>(std::max(context.options.digest_top, 1)), deadline);
  if (!live) return core::Fail(live.error());
  DigestComparison& cmp = live->comparison;
  const double measured = live->seconds;
  const bool texts_missing = live->texts_missing;
  const PreparedCount prepared = live->prepared;
  const size_t top =
      std::min(cmp.deltas.size(), static_cast<size_t>(std::max(context.options.digest_top, 1)));

  std::vector<Finding> findings;
  const std::string over = core::FormatSeconds(measured);
  Finding top_finding;
  top_finding.code = "digest.top";
  top_finding.severity = Severity::kInfo;
  if (cmp.deltas.empty()) {
    top_finding.title = fmt::format("no {}statement completed in the {} interval",
                                    prepared.known ? "digested " : "", over);
    top_finding.detail =
        "Two snapshots of performance_schema.events_statements_summary_by_digest show no "
        "change besides dbrunbook's own (or the statement instruments are disabled in "
        "performance_schema.setup_instruments).";
  } else {
    const DigestDelta& first_delta = cmp.deltas.front();
    top_finding.title = fmt::format(
        "top statement over {}: {} — {} calls, {} ({:.0f}% of all statement time)", over,
        first_delta.text ? core::OneLine(*first_delta.text, 80) : Label(first_delta),
        first_delta.counters.calls,
        core::FormatSeconds(Seconds(first_delta.counters.total_latency_ps)),
        cmp.total.total_latency_ps == 0
            ? 0.0
            : 100.0 * static_cast<double>(first_delta.counters.total_latency_ps) /
                  static_cast<double>(cmp.total.total_latency_ps));
    top_finding.detail = fmt::format(
        "Between two snapshots of performance_schema.events_statements_summary_by_digest {} "
        "apart: {} statement shapes ran {} times for {} of statement time in total; the top {} "
        "by total latency are shown.{}",
        over, cmp.deltas.size(), cmp.total.calls,
        core::FormatSeconds(Seconds(cmp.total.total_latency_ps)), top,
        texts_missing ? " The statement texts could not be read." : "");
    for (size_t i = 0; i < top; ++i) {
      top_finding.evidence.push_back(DeltaRow(i + 1, cmp.deltas[i], cmp.total));
    }
  }
  findings.push_back(std::move(top_finding));
  if (prepared.known) findings.push_back(PreparedFinding(prepared, cmp.total, over));

  for (size_t i = 0; i < top; ++i) {
    const DigestDelta& d = cmp.deltas[i];
    if (!IsFullScan(d)) continue;
    const DigestCounters& c = d.counters;
    const double calls = static_cast<double>(c.calls);
    Finding f;
    f.code = "digest.full_scan";
    f.severity = Severity::kWarning;
    f.title = fmt::format(
        "{} scans without an index: {:.0f} rows examined per call for {:.1f} sent or changed "
        "({} calls, {} in {})",
        d.text ? core::OneLine(*d.text, 80) : fmt::format("digest {}", Label(d)),
        static_cast<double>(c.rows_examined) / calls,
        static_cast<double>(c.rows_sent + c.rows_affected) / calls, c.calls,
        core::FormatSeconds(Seconds(c.total_latency_ps)), over);
    f.detail = fmt::format(
        "{} of its {} calls used no index (SUM_NO_INDEX_USED); it read {} rows to return or "
        "change {}.",
        c.no_index_used, c.calls, c.rows_examined, c.rows_sent + c.rows_affected);
    f.evidence.push_back(DeltaRow(i + 1, d, cmp.total));
    f.suggestions.push_back(
        {"take one execution with real values (the slow log, or "
         "performance_schema.events_statements_history) and EXPLAIN it; an index on the columns "
         "of its WHERE clause (or join condition) lets it stop scanning the table",
         ""});
    findings.push_back(std::move(f));
  }

  if (cmp.reset()) {
    Finding f;
    f.code = "digest.reset";
    f.severity = Severity::kInfo;
    f.title = fmt::format(
        "the digest table was reset during the interval: {} digests vanished, {} restarted "
        "from zero",
        cmp.vanished, cmp.restarted);
    f.detail =
        "Someone truncated performance_schema.events_statements_summary_by_digest (or called "
        "sys.ps_truncate_all_tables) between the two snapshots. Counters never went negative "
        "here: a restarted row counts only what ran after the reset, so those figures cover "
        "part of the interval.";
    EvidenceRow row;
    row.Add("rows_before", static_cast<uint64_t>(cmp.rows_before))
        .Add("rows_after", static_cast<uint64_t>(cmp.rows_after))
        .Add("vanished", static_cast<uint64_t>(cmp.vanished))
        .Add("restarted", static_cast<uint64_t>(cmp.restarted));
    f.evidence.push_back(std::move(row));
    findings.push_back(std::move(f));
  }

  if (cmp.catch_all_present) {
    const size_t tracked = cmp.rows_after > 0 ? cmp.rows_after - 1 : 0;
    Finding f;
    f.code = "digest.table_full";
    f.severity = Severity::kInfo;
    f.title = cmp.catch_all_calls > 0
                  ? fmt::format(
                        "the digest table is full ({} statement shapes): {} calls in the "
                        "interval went to the (NULL digest) row and cannot be told apart",
                        tracked, cmp.catch_all_calls)
                  : fmt::format(
                        "the digest table is full ({} statement shapes): new statement shapes "
                        "are no longer tracked",
                        tracked);
    f.detail =
        "events_statements_summary_by_digest holds performance_schema_digests_size rows; once "
        "it is full, every new statement shape is added to the catch-all row with DIGEST NULL "
        "(and counted in the status variable Performance_schema_digest_lost).";
    EvidenceRow row;
    row.Add("digests_tracked", static_cast<uint64_t>(tracked))
        .Add("calls_not_told_apart", cmp.catch_all_calls);
    f.evidence.push_back(std::move(row));
    f.suggestions.push_back(
        {"empty the table so new shapes are tracked again (loses the history; needs DROP on it), "
         "or raise performance_schema_digests_size (restart)",
         dialect::ResetDigestTable(target.dialect)});
    findings.push_back(std::move(f));
  }
  return findings;
}

}  // namespace dbrunbook::steps
