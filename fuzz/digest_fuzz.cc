// The whole digest on outside input: the first line is a --filter expression (parsed; used
// when it parses), the rest a slow log. Aggregation, ranking and the three reports (pt's text,
// dbrunbook's JSON, pt's JSON) must not crash on any bytes, the JSON must serialise (invalid
// UTF-8 in statements included), and the per-class counts must add up to the overall count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "digest/aggregate.h"
#include "digest/digest.h"
#include "digest/filter.h"
#include "digest/query_parser.h"
#include "digest/report.h"

namespace {

using namespace dbrunbook::digest;  // NOLINT(google-build-using-namespace)

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = input.find('\n');
  const std::string_view first = nl == std::string_view::npos ? input : input.substr(0, nl);
  const std::string_view log =
      nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

  AggregateOptions options;
  options.ignore_attributes = DefaultIgnoredAttributes();
  // The group-by follows a byte of the input, so every grouping is exercised.
  const auto group = static_cast<unsigned char>(size > 0 ? data[size - 1] : 0) % 5;
  options.group_by = static_cast<GroupBy>(group);
  options.tables_of = [](std::string_view q) {
    return GroupByTables(q, "").value_or(std::vector<std::string>{});
  };
  std::shared_ptr<Filter> filter;
  if (auto f = Filter::Parse(first)) {
    filter = std::make_shared<Filter>(std::move(*f));
    options.filter_needs_fingerprint = filter->NeedsFingerprint();
    options.filter = [filter](const EventView& e) { return filter->Matches(e); };
  }
  DigestResult result{Aggregator(options), {}, {"fuzz.log"}, {log.size()}, 1};
  SlowLogParser parser(log);
  auto event = std::make_unique<SlowLogEvent>();
  while (parser.Next(*event)) result.aggregator.Add(*event, 0);
  result.stats = parser.stats();

  std::uint64_t sum = 0;
  for (const ClassStats& c : result.aggregator.Classes()) sum += c.count;
  if (options.group_by != GroupBy::kTables) Check(sum == result.aggregator.Overall().count);
  Check(result.aggregator.counts().events == result.stats.events);

  for (const char* order : {"Query_time:sum", "Rows_examined:max", "Lock_time"}) {
    const auto order_by = ParseOrderBy(order);
    const Ranking ranking = RankForReport(result.aggregator, *order_by, *ParseLimit("95%:20"));
    ReportOptions report;
    report.order_by = *order_by;
    (void)TextReport(result, ranking, report);
    (void)JsonReport(result, ranking, report).dump();
    (void)PtJsonText(PtJsonReport(result, ranking, report));
  }
  return 0;
}
