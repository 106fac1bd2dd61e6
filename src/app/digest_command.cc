// `dbrunbook digest`: pt-query-digest's report of slow query logs (digest/), read with every
// core, plus dbrunbook's own JSON and pt's JSON.
//
// Exit status: 0 the report was printed; 1 an input could not be opened or read (nothing is
// printed then: every file is opened before any is read); 2 usage error.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/duration.h"
#include "dialect/digest.h"
#include "digest/digest.h"
#include "digest/filter.h"
#include "digest/query_parser.h"
#include "digest/report.h"
#include "steps/investigate_digest.h"

namespace dbrunbook::app {
namespace {

constexpr int kExitInput = 1;

std::string Megabytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

// A one-line progress bar on stderr, redrawn in place: bytes, events, rate, ETA.
class ProgressBar {
 public:
  explicit ProgressBar(std::ostream& err) : err_(err), start_(std::chrono::steady_clock::now()) {}
  void Draw(const digest::DigestProgress& p) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(p.bytes_done) / elapsed : 0;
    std::string line;
    if (p.bytes_total > 0) {
      const double fraction =
          std::min(1.0, static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total));
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(fraction * kWidth);
      const double eta =
          rate > 0
              ? static_cast<double>(p.bytes_total - std::min(p.bytes_total, p.bytes_done)) / rate
              : 0;
      line =
          fmt::format("[{}{}] {:3.0f}%  {} of {}  {} events  {:.0f} MB/s  ETA {:.0f}s",
                      std::string(static_cast<std::size_t>(filled), '#'),
                      std::string(static_cast<std::size_t>(kWidth - filled), '.'), fraction * 100,
                      Megabytes(p.bytes_done), Megabytes(p.bytes_total), p.events, rate / 1e6, eta);
    } else {
      line = fmt::format("{} read  {} events  {:.0f} MB/s", Megabytes(p.bytes_done), p.events,
                         rate / 1e6);
    }
    err_ << "\r" << line << "\x1b[K" << std::flush;
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) err_ << "\r\x1b[K" << std::flush;
    drawn_ = false;
  }

 private:
  std::ostream& err_;
  std::chrono::steady_clock::time_point start_;
  bool drawn_ = false;
};

// What the reader skipped, in one sentence for stderr; "" when nothing was.
std::string SkippedSummary(const digest::SlowLogStats& s, const digest::AggregateCounts& c) {
  std::vector<std::string> parts;
  if (s.skipped_no_statement > 0)
    parts.push_back(fmt::format("{} without a statement", s.skipped_no_statement));
  if (s.skipped_truncated > 0)
    parts.push_back(fmt::format("{} truncated at the end of the input", s.skipped_truncated));
  if (s.skipped_malformed > 0) parts.push_back(fmt::format("{} malformed", s.skipped_malformed));
  std::string out;
  if (!parts.empty()) {
    out += fmt::format("skipped {} records: {}.",
                       s.skipped_no_statement + s.skipped_truncated + s.skipped_malformed,
                       fmt::join(parts, ", "));
  }
  if (s.query_time_invalid > 0 || s.query_time_repaired > 0) {
    if (!out.empty()) out += " ";
    out += fmt::format(
        "Query_time: {} with junk after the number (read as the number), {} not a number (read as "
        "0).",
        s.query_time_repaired, s.query_time_invalid);
  }
  if (s.attributes_dropped > 0) {
    if (!out.empty()) out += " ";
    out += fmt::format("{} attributes beyond {} per event were dropped.", s.attributes_dropped,
                       digest::kMaxAttributes);
  }
  if (c.no_group > 0) {
    if (!out.empty()) out += " ";
    out += fmt::format("{} events had nothing to group by and are not in the report.", c.no_group);
  }
  return out;
}

int RunLiveDigest(Env& env, const GlobalOptions& global, const DigestCommandOptions& options,
                  const digest::OrderBy& order_by, const digest::Limit& limit,
                  const digest::ReportOptions& report) {
  constexpr int kCannot = 3;
  auto lookup = LookupTarget(env, global, options.selection, "digest");
  if (!lookup) return kExitUsage;
  if (!lookup->resolved) {
    env.err << "dbrunbook digest: " << lookup->resolved.error().ToString() << "\n";
    return kCannot;
  }
  const auto& resolved = *lookup->resolved;
  auto target = collect::OpenTargetSession(env.sessions, resolved.options, env.clock);
  if (!target) {
    env.err << fmt::format("dbrunbook digest: cannot reach target '{}' ({}): {}\n", resolved.name,
                           resolved.options.Endpoint(), target.error().ToString());
    return kCannot;
  }
  if (!dialect::HasStatementDigestTable(target->flavor())) {
    env.err << fmt::format("dbrunbook digest: target '{}' ({}) has no statement digest table\n",
                           resolved.name, target->flavor().Name());
    return kCannot;
  }
  const core::Duration interval = options.interval.value_or(std::chrono::seconds(10));
  if (options.progress)
    env.err << fmt::format("sampling statement digests for {}…", core::FormatDuration(interval))
            << std::flush;
  auto live = steps::CollectLiveDigest(*target, env.clock, interval, 1000);
  if (options.progress) env.err << "\r\x1b[K" << std::flush;
  if (!live) {
    env.err << fmt::format("dbrunbook digest: target '{}': {}\n", resolved.name,
                           live.error().ToString());
    if (live.error().code == core::ErrorCode::kPrivilege) {
      env.err << "  the account needs SELECT on performance_schema.*\n";
    }
    return kCannot;
  }
  digest::DigestResult result{steps::LiveDigestAggregate(live->comparison), {}, {}, {}, 1};
  const digest::Ranking ranking = digest::RankForReport(result.aggregator, order_by, limit);
  const std::string source = fmt::format(
      "performance_schema.events_statements_summary_by_digest of target '{}' ({}), two snapshots "
      "{} apart",
      resolved.name, resolved.options.Endpoint(), core::FormatSeconds(live->seconds));
  if (options.format == "json") {
    nlohmann::json j = digest::JsonReport(result, ranking, report);
    j["source"] = {
        {"type", "performance_schema"},
        {"target", resolved.name},
        {"interval_seconds", live->seconds},
        {"statements_per_second",
         live->seconds > 0 ? static_cast<double>(live->comparison.total.calls) / live->seconds
                           : 0.0},
        {"texts_missing", live->texts_missing},
        {"table_reset", live->comparison.reset()},
        {"table_full", live->comparison.catch_all_present}};
    if (live->prepared.known) {
      j["source"]["prepared_executions_not_digested"] = live->prepared.executions;
    }
    env.out << j.dump(2) << "\n";
  } else if (options.format == "pt-json") {
    env.out << digest::PtJsonText(digest::PtJsonReport(result, ranking, report));
  } else {
    env.out << "# Live digest: " << source << "\n";
    env.out << fmt::format(
        "# {} statements ran ({:.1f} per second); only totals are known: min, "
        "max, percentiles and the distribution are not\n",
        live->comparison.total.calls,
        live->seconds > 0 ? static_cast<double>(live->comparison.total.calls) / live->seconds
                          : 0.0);
    if (live->prepared.known) {
      env.out << fmt::format(
          "# {} prepared-statement executions are not in the digest (MariaDB does "
          "not digest the binary protocol)\n",
          live->prepared.executions);
    }
    if (live->comparison.reset()) env.out << "# the digest table was reset during the interval\n";
    if (live->comparison.catch_all_present)
      env.out << "# the digest table is full: new statement shapes are not told apart\n";
    env.out << digest::TextReport(result, ranking, report);
  }
  return kExitOk;
}

}  // namespace

int RunDigest(Env& env, const GlobalOptions& global, const DigestCommandOptions& options) {
  auto usage = [&](const std::string& message, const std::string& hint = "") {
    env.err << "dbrunbook digest: " << message << "\n";
    if (!hint.empty()) env.err << "  " << hint << "\n";
    return kExitUsage;
  };

  const bool live = !options.selection.target.empty() || !options.selection.dsn.empty();
  if (live && !options.files.empty()) {
    return usage("give slow log FILEs or a live --target/--dsn, not both");
  }
  if (!live && options.interval)
    return usage("--interval is for a live digest (--target or --dsn)");
  std::vector<std::string> files = options.files;
  if (files.empty()) files.emplace_back("-");

  digest::DigestOptions d;
  d.threads = options.threads;
  auto& ag = d.aggregate;
  ag.ignore_attributes = digest::DefaultIgnoredAttributes();
  ag.fingerprint.match_embedded_numbers = options.preserve_embedded_numbers;
  ag.fingerprint.abstract = options.abstract_fingerprints;

  auto group_by = digest::ParseGroupBy(options.group_by);
  if (!group_by) return usage(group_by.error().message, group_by.error().hint);
  ag.group_by = *group_by;
  // pt's QueryParser::get_tables; the aggregator strips backticks and prefixes the db.
  if (ag.group_by == digest::GroupBy::kTables) {
    ag.tables_of = [](std::string_view query) {
      return digest::GroupByTables(query, "").value_or(std::vector<std::string>{});
    };
  }

  auto order_by = digest::ParseOrderBy(options.order_by);
  if (!order_by) return usage(order_by.error().message, order_by.error().hint);
  ag.worst_attribute = order_by->attribute;
  auto limit = digest::ParseLimit(options.limit);
  if (!limit) return usage(limit.error().message, limit.error().hint);

  std::vector<std::shared_ptr<const digest::Filter>> filters;
  for (const std::string& text : options.filters) {
    auto f = digest::Filter::Parse(text);
    if (!f) return usage(f.error().message, f.error().hint);
    if (f->NeedsFingerprint()) ag.filter_needs_fingerprint = true;
    filters.push_back(std::make_shared<const digest::Filter>(std::move(*f)));
  }
  const double now = std::chrono::duration<double>(env.clock.WallNow().time_since_epoch()).count();
  std::optional<double> since;
  std::optional<double> until;
  if (options.since) {
    auto t = digest::ParseTimeBound(*options.since, now);
    if (!t) return usage("--since: " + t.error().message, t.error().hint);
    since = *t;
  }
  if (options.until) {
    auto t = digest::ParseTimeBound(*options.until, now);
    if (!t) return usage("--until: " + t.error().message, t.error().hint);
    until = *t;
  }
  ag.since = since;
  ag.until = until;
  if (!filters.empty()) {
    ag.filter = [filters](const digest::EventView& e) {
      for (const auto& f : filters) {
        if (!f->Matches(e)) return false;
      }
      return true;
    };
  }

  digest::ReportOptions report;
  report.order_by = *order_by;
  report.vertical = options.vertical;
  if (options.report_format) {
    auto sections = digest::ParseReportSections(*options.report_format);
    if (!sections) return usage(sections.error().message, sections.error().hint);
    report.sections = *sections;
  }
  if (options.format != "report" && options.format != "json" && options.format != "pt-json") {
    return usage("--format must be report, json or pt-json (got '" + options.format + "')");
  }

  if (live) {
    if (since || until || !filters.empty() || ag.group_by != digest::GroupBy::kFingerprint) {
      return usage(
          "--since, --until, --filter and --group-by apply to slow logs, not to a live digest");
    }
    return RunLiveDigest(env, global, options, *order_by, *limit, report);
  }

  std::unique_ptr<ProgressBar> bar;
  if (options.progress) {
    bar = std::make_unique<ProgressBar>(env.err);
    d.progress = [&bar](const digest::DigestProgress& p) { bar->Draw(p); };
  }
  auto result = digest::DigestFiles(files, d);
  if (bar) bar->Clear();
  if (!result) {
    env.err << "dbrunbook digest: " << result.error().message << "\n";
    if (!result.error().hint.empty()) env.err << "  " << result.error().hint << "\n";
    return kExitInput;
  }

  const digest::Ranking ranking = digest::RankForReport(result->aggregator, *order_by, *limit);
  if (options.format == "json") {
    env.out << digest::JsonReportText(*result, ranking, report);
  } else if (options.format == "pt-json") {
    env.out << digest::PtJsonText(digest::PtJsonReport(*result, ranking, report));
  } else {
    const digest::ResolvedOrderBy resolved = digest::ResolveOrderBy(result->aggregator, *order_by);
    if (!resolved.notice.empty()) env.err << "dbrunbook digest: " << resolved.notice << "\n";
    env.out << digest::TextReport(*result, ranking, report);
  }
  env.out.flush();
  const std::string skipped = SkippedSummary(result->stats, result->aggregator.counts());
  if (!skipped.empty()) env.err << "dbrunbook digest: " << skipped << "\n";
  if (result->stats.crlf) {
    env.err << "dbrunbook digest: the input has Windows (CR LF) line endings; read as LF\n";
  }
  return kExitOk;
}

}  // namespace dbrunbook::app
