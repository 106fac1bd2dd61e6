// Reports of a slow-log digest (DigestResult + Ranking), in three formats:
//
//  - TextReport: pt-query-digest 3.x's text report (QueryReportFormatter), ported line by
//    line so that a report of the same input is byte-identical to pt's: the header ("#
//    Overall: ..." and the global attribute table), the profile table, one block per ranked
//    class (attribute table, Boolean and String sections, Query_time distribution, tables,
//    the sample statement and its EXPLAIN-able conversion), and the prepared-statements
//    table. Numbers go through pt's own formatting (micro_t, shorten, percentage_of), which
//    are exposed below for tests.
//  - PtJsonReport: pt-query-digest --output json (JSONReportFormatter): the same "global" and
//    "classes" objects, the same key names and the same string/number types, so existing
//    consumers of pt's JSON keep working. pt's own quirks are kept: no queries_per_second or
//    concurrency (pt's formatter fails computing them), and bytes above 0x7F written as the
//    Latin-1 characters of those codes (pt reads the log as bytes).
//  - JsonReport: dbrunbook's own JSON (schema "dbrunbook.digest", version 1), documented at
//    JsonReport() below: plain numbers (seconds for times), attribute names as in the log.
//
// What pt prints that is not reproduced: the rusage, date and hostname lines (machine- and
// run-specific; pt's default report format is "rusage,date,hostname,files,header,profile,
// query_report,prepared", ours is the same without those three), EXPLAIN output (needs a
// server), --review information, --outliers, --timeline.
//
// The SQL-parsing parts (tables of a statement, the profile's "distilled" item, the
// conversion to SELECT, the shortened sample) come from pt's QueryParser / QueryRewriter port
// (query_parser.h).
//
// Thread-safety: the functions are pure; they only read their arguments.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "digest/aggregate.h"
#include "digest/digest.h"

namespace dbrunbook::digest {

// ---- pt's formatting helpers (Transformers, QueryReportFormatter) ------------------------

// A number as Perl prints it ("%.15g": 0.5, 12, 1e-07).
std::string PerlNumber(double value);
// Transformers::micro_t: 91us, 726ms, 2s, 0 (truncated to microseconds first).
std::string MicroT(double seconds);
// Transformers::shorten: 129, 41.50, 61.48k, 1.53M (divisor 1024 by default; 1000 for counts).
std::string Shorten(double value, double divisor = 1024);
// Transformers::percentage_of: the integer part of is*100/of (of 0 counts as 1, as in pt).
std::string PercentageOf(double is, double of);
// QueryReportFormatter::make_label: "Exec time", "Rows examine", "Query size", "Databases".
std::string MakeLabel(std::string_view attribute);
// Transformers::parse_timestamp: "071015 21:43:52" -> "2007-10-15 21:43:52"; other text
// unchanged.
std::string ParseTimestamp(std::string_view ts);
// Transformers::unix_timestamp of a parse_timestamp result: epoch seconds (local time, with
// its fraction) for "YYYY-MM-DD HH:MM:SS[.f]" (or "T"); other text is returned as is by pt,
// which then subtracts it: a number stays a number, anything else dies under pt's fatal
// warnings (nullopt: pt's QPS and concurrency stay 0).
std::optional<double> UnixTimestamp(std::string_view ts);
// QueryReportFormatter::format_time_range of the raw "# Time:" texts: "all events occurred at
// 2007-10-15 21:43:52", "2007-12-18 11:48:27 to 11:49:30", "A to B"; "" when unknown.
std::string FormatTimeRange(std::string_view min_ts, std::string_view max_ts);

// ---- options ------------------------------------------------------------------------------

// pt's --report-format sections this port prints.
enum class ReportSection : std::uint8_t { kFiles, kHeader, kProfile, kQueryReport, kPrepared };
// "header,query_report,profile" (pt's names). "rusage", "date" and "hostname" are accepted
// and ignored (machine-specific); anything else is an error.
core::Result<std::vector<ReportSection>> ParseReportSections(std::string_view list);
// pt's default minus rusage, date and hostname: files, header, profile, query_report, prepared.
std::vector<ReportSection> DefaultReportSections();

struct ReportOptions {
  std::vector<ReportSection> sections = DefaultReportSections();
  // The --order-by the user asked for (ResolveOrderBy decides what is used).
  OrderBy order_by;
  // pt's --group-by with several attributes ("fingerprint,user") runs one digest per
  // attribute; each one's query report then starts with "# Report grouped by X" (which a
  // grouping other than fingerprint always has).
  bool several_group_by = false;
  // --[no]vertical-format: "\G" after the sample statement and the SHOW statements.
  bool vertical = true;
  // --expected-range: when the report has fewer or more classes, each class says why it is in.
  std::size_t expected_min = 5;
  std::size_t expected_max = 10;
  // --report-histogram: the attribute of the distribution chart ("" for none).
  std::string histogram = "Query_time";
};

// pt's check_orderby_attrib: an --order-by attribute no event had (and that pt does not know
// the type of) falls back to Query_time (the statistic is kept). `notice` is the line pt
// prints then ("--order-by attribute Rows_read doesn't exist, using Query_time:sum"), or "".
struct ResolvedOrderBy {
  OrderBy order_by;
  std::string notice;
};
ResolvedOrderBy ResolveOrderBy(const Aggregator& aggregator, const OrderBy& requested);

// Rank() with the resolved order-by: the ranking the reports expect.
Ranking RankForReport(const Aggregator& aggregator, const OrderBy& requested, const Limit& limit);

// ---- reports ------------------------------------------------------------------------------

// The text report, exactly as pt-query-digest prints it (starting with its blank line).
// `ranking` must come from RankForReport (or Rank with ResolveOrderBy(...).order_by). With no
// event aggregated it is "\n# No events processed.\n", as pt's.
std::string TextReport(const DigestResult& result, const Ranking& ranking,
                       const ReportOptions& options);

// pt-query-digest --output json (json-anon when `anonymous`: no sample statements). The
// classes are ranking.top. null when no event was aggregated (pt then prints nothing).
nlohmann::json PtJsonReport(const DigestResult& result, const Ranking& ranking,
                            const ReportOptions& options, bool anonymous = false);
// The text pt prints for it: compact JSON and a newline, or "" when null.
std::string PtJsonText(const nlohmann::json& report);

// dbrunbook's own JSON report, schema "dbrunbook.digest" version 1:
//
// {"schema": "dbrunbook.digest", "version": 1,
//  "group_by": "fingerprint", "order_by": "Query_time:sum",
//  "files": [{"name": "slow.log", "bytes": 3841}],
//  "overall": {"events": 8,            // events in the digest (pt's "N total": events with
//                                      //   the order-by attribute)
//              "unique": 7,            // classes
//              "time_range": {"min": "2007-12-18 11:48:27", "max": "..."} | null,
//              "qps": 0.0, "concurrency": 0.0,
//              "metrics": {ATTRIBUTE: {count, sum, min, max, avg, p95, stddev, median}},
//              "booleans": {ATTRIBUTE: {"yes": 3, "count": 8}}},
//  "classes": [                        // ranked as the report ranks them (ranking.top)
//    {"rank": 1, "query_id": "45FE...FA89",      // 32 upper-case hex digits: MD5 of the key
//     "fingerprint": "select ...",      // the class key (a fingerprint, db, user, host, table)
//     "count": 1,
//     "time_range": {"min", "max"} | null,
//     "qps": 0.0, "concurrency": 0.0, "variance_to_mean": 0.0,
//     "metrics": {ATTRIBUTE: {count, sum, min, max, avg, p95, stddev, median}},
//     "booleans": {ATTRIBUTE: {"yes", "count"}},
//     "strings": {ATTRIBUTE: {"top": [{"value", "count"}], "distinct": N, "complete": true}},
//     "histogram": [8 counts],          // Query_time per decade: <10us (0 and under 1us
//                                       //   included), 10us, 100us, 1ms, 10ms, 100ms, 1s, 10s+
//     "sample": {"query", "db", "ts", "file", "offset"}}],  // the worst event; file is a path
//  "other": {"classes": N, "count": M, "Query_time": S},  // classes not in "classes"
//  "reader": {"events", "admin_events", "bytes", "skipped": {"no_statement", "truncated",
//             "malformed"}, "query_time_missing", "query_time_repaired",
//             "query_time_invalid", "attributes_dropped", "filtered", "no_group"}}
//
// ATTRIBUTE is the attribute's name as the log writes it (Query_time, Lock_time, Rows_sent,
// Rows_examined, QC_hit, ...), plus db, user and host (strings) and Query_length (the
// statement's length in bytes, pt's "Query size"; pt's JSON also calls it Query_length).
// Times are seconds. "strings" lists at most 10 top values; "complete" is false when the
// class had more distinct values than the aggregator keeps (then "top" is empty). A statistic
// the aggregation does not know (min, max, p95, stddev, median of a class added by totals,
// NumericStats::AddTotal) is null here, empty in the text report and null in pt-json's classes.
// A log attribute whose name is one of these (a logged Query_length) is the one reported.
//
// JsonReportText is that document as nlohmann::json's dump(2) writes it (keys in byte order,
// two-space indentation), with a newline at the end, written directly (JsonWriter): what
// `dbrunbook digest --format json` prints. JsonReport is the same document as a tree (parsed
// from that text), for callers that add to it.
std::string JsonReportText(const DigestResult& result, const Ranking& ranking,
                           const ReportOptions& options);
nlohmann::json JsonReport(const DigestResult& result, const Ranking& ranking,
                          const ReportOptions& options);

}  // namespace dbrunbook::digest
