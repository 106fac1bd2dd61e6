// slowlog_read_bench: times the slow-log reader (digest/slowlog_reader.h) over files and prints
// events, pt-comparable counts, skip reasons and MB/s. Built by bench/CMakeLists.txt
// (build-bench/bench/slowlog_read_bench); compare with `wc -l` and pt-query-digest by hand.
// Usage: slowlog_read_bench [--repeat N] [--chunks N] FILE...   ("-" is stdin)
// --chunks N parses a memory-mapped file as N ranges split with NextEventBoundary (one thread,
// to check that the split costs nothing and finds the same events).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "digest/slowlog_reader.h"

namespace {

using dbrunbook::digest::SlowLogEvent;
using dbrunbook::digest::SlowLogParser;
using dbrunbook::digest::SlowLogReader;
using dbrunbook::digest::SlowLogStats;

struct Totals {
  std::uint64_t events = 0;
  std::uint64_t with_query_time = 0;
  double query_time_sum = 0;
  std::uint64_t attributes = 0;
};

void Count(const SlowLogEvent& e, Totals& t) {
  ++t.events;
  t.attributes += e.attribute_count;
  if (auto qt = e.QueryTime()) ++t.with_query_time, t.query_time_sum += *qt;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 1;
  std::size_t chunks = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (a == "--chunks" && i + 1 < argc) {
      chunks = static_cast<std::size_t>(std::atoll(argv[++i]));
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: slowlog_read_bench [--repeat N] [--chunks N] FILE...\n");
    return 2;
  }
  auto event = std::make_unique<SlowLogEvent>();
  for (int r = 0; r < repeat; ++r) {
    Totals t;
    SlowLogStats stats;
    std::size_t merges = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& f : files) {
      auto reader = SlowLogReader::Open(f);
      if (!reader) {
        std::fprintf(stderr, "%s\n", reader.error().ToString().c_str());
        return 1;
      }
      auto mapped = (*reader)->Mapped();
      if (chunks > 1 && mapped) {
        const std::string_view text = *mapped;
        std::vector<std::size_t> bounds{0};
        for (std::size_t k = 1; k < chunks; ++k) {
          const std::size_t b =
              dbrunbook::digest::NextEventBoundary(text, text.size() * k / chunks);
          if (b > bounds.back() && b < text.size()) bounds.push_back(b);
        }
        bounds.push_back(text.size());
        for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
          std::size_t end_index = k + 1;
          while (true) {
            Totals part;
            auto p = SlowLogParser::ForRange(text, bounds[k], bounds[end_index]);
            while (p.Next(*event)) Count(*event, part);
            if (p.EndedCleanly() || end_index + 1 == bounds.size()) {
              t.events += part.events;
              t.with_query_time += part.with_query_time;
              t.query_time_sum += part.query_time_sum;
              t.attributes += part.attributes;
              stats.Add(p.stats());
              k = end_index - 1;
              break;
            }
            ++end_index, ++merges;
          }
        }
        continue;
      }
      while (true) {
        auto more = (*reader)->Next(*event);
        if (!more) {
          std::fprintf(stderr, "%s\n", more.error().ToString().c_str());
          return 1;
        }
        if (!*more) break;
        Count(*event, t);
      }
      stats.Add((*reader)->stats());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "{\"events\":%llu,\"with_query_time\":%llu,\"query_time_sum\":%.6f,\"attributes\":%llu,"
        "\"bytes\":%llu,\"seconds\":%.4f,\"mb_per_s\":%.1f,\"records\":%llu,\"admin\":%llu,"
        "\"no_query\":%llu,\"skipped_no_statement\":%llu,\"skipped_truncated\":%llu,"
        "\"skipped_malformed\":%llu,\"server_headers\":%llu,\"query_time_missing\":%llu,"
        "\"query_time_repaired\":%llu,\"query_time_invalid\":%llu,\"crlf\":%s,\"merges\":%zu}\n",
        (unsigned long long)t.events, (unsigned long long)t.with_query_time, t.query_time_sum,
        (unsigned long long)t.attributes, (unsigned long long)stats.bytes, secs,
        secs > 0 ? stats.bytes / 1e6 / secs : 0.0, (unsigned long long)stats.records,
        (unsigned long long)stats.admin_events, (unsigned long long)stats.no_query_events,
        (unsigned long long)stats.skipped_no_statement, (unsigned long long)stats.skipped_truncated,
        (unsigned long long)stats.skipped_malformed, (unsigned long long)stats.server_headers,
        (unsigned long long)stats.query_time_missing, (unsigned long long)stats.query_time_repaired,
        (unsigned long long)stats.query_time_invalid, stats.crlf ? "true" : "false", merges);
  }
  return 0;
}
