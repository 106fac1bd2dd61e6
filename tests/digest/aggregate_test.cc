// Aggregation (src/digest/aggregate.h) and the driver (digest.h):
//  - the statistics equal pt-query-digest's own EventAggregator (the Perl package, extracted
//    from Debian's /usr/bin/pt-query-digest and run on the same values; skipped without it);
//  - multi-threaded digests equal single-threaded ones exactly, on every conformance slow log
//    and on a generated log built to stress chunk boundaries (db and ts inheritance, Schema,
//    admin commands, multi-line statements, a "use" inside a statement);
//  - the pipeline rules (alias, inheritance, admin zeroing, sample choice, ranking, limits).
#include "digest/aggregate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "digest/filter.h"
#include "support/peer_tools.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

namespace fs = std::filesystem;

const fs::path kSlowlogs = testing::SharedPath("conformance/slowlogs");

fs::path TempDir() {
  static const fs::path dir = [] {
    fs::path d =
        fs::temp_directory_path() / ("dbrunbook-aggregate-test-" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const fs::path p = TempDir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

// ---- pt's EventAggregator, run by Perl ----------------------------------------------------

bool HavePt() {
  return !testing::FindInPath("pt-query-digest").empty() && !testing::FindInPath("perl").empty();
}

// Runs pt's EventAggregator over each value set; returns cnt sum min max avg p95 stddev median.
std::vector<std::array<double, 8>> PtMetrics(const std::vector<std::vector<double>>& sets) {
  const fs::path dir = TempDir();
  std::ifstream script_in(testing::FindInPath("pt-query-digest"), std::ios::binary);
  const std::string script((std::istreambuf_iterator<char>(script_in)),
                           std::istreambuf_iterator<char>());
  const std::string package = testing::PerlPackage(script, "EventAggregator");
  EXPECT_FALSE(package.empty()) << "no EventAggregator package in pt-query-digest";
  std::ofstream(dir / "EA.pm") << "{\n" << package << "\n1;\n";
  std::ofstream(dir / "drv.pl") << R"PERL(use strict; use warnings;
require $ARGV[0];
while (my $line = <STDIN>) {
  chomp $line; my @v = split / /, $line;
  my $ea = EventAggregator->new(groupby=>'fingerprint', worst=>'Query_time');
  foreach my $v (@v) { $ea->aggregate({fingerprint=>'x', Query_time=>$v}); }
  $ea->calculate_statistical_metrics();
  my $m = $ea->metrics(attrib=>'Query_time', where=>'x');
  printf "%d %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n",
    map { $_ // 0 } @{$m}{qw(cnt sum min max avg pct_95 stddev median)};
}
)PERL";
  {
    std::ofstream in(dir / "values.txt");
    for (const auto& set : sets) {
      for (std::size_t i = 0; i < set.size(); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6f", set[i]);  // as a slow log writes it
        in << (i ? " " : "") << buf;
      }
      in << "\n";
    }
  }
  const std::string cmd =
      "cd " + dir.string() + " && perl drv.pl ./EA.pm < values.txt > metrics.txt";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::vector<std::array<double, 8>> out;
  std::ifstream res(dir / "metrics.txt");
  std::array<double, 8> m{};
  while (res >> m[0] >> m[1] >> m[2] >> m[3] >> m[4] >> m[5] >> m[6] >> m[7]) out.push_back(m);
  return out;
}

bool Close(double a, double b) {
  if (a == b) return true;
  return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b));
}

TEST(NumericStatsTest, EqualsPtEventAggregatorOnManyValueSets) {
  if (!HavePt()) GTEST_SKIP() << "pt-query-digest (Debian percona-toolkit) is not installed";
  std::mt19937_64 rng(42);
  std::vector<std::vector<double>> sets;
  auto rounded = [](double v) { return std::round(v * 1e6) / 1e6; };  // the log's precision
  // Hand-picked shapes: one value, two, equal values, zeros, sub-microsecond, huge.
  sets.push_back({0.5});
  sets.push_back({0.1, 0.2});
  sets.push_back({7, 7, 7});
  sets.push_back({0, 0, 0, 0});
  sets.push_back({0, 0.000001, 0.000002, 2});
  sets.push_back({1e6, 2e6, 3e9, 1});
  sets.push_back({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  sets.push_back({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  for (int i = 0; i < 300; ++i) {
    const std::size_t n = 3 + rng() % (i < 200 ? 40 : 3000);
    std::vector<double> set;
    const int shape = i % 4;
    std::exponential_distribution<double> expo(1.0 /
                                               (0.001 * static_cast<double>(1 + rng() % 1000)));
    for (std::size_t k = 0; k < n; ++k) {
      double v = 0;
      switch (shape) {
        case 0:
          v = expo(rng);
          break;  // latencies
        case 1:
          v = static_cast<double>(rng() % 20);
          break;  // small counts
        case 2:
          v = static_cast<double>(rng() % 2 == 0 ? 0 : rng() % 100000);
          break;  // rows
        default:
          v = static_cast<double>(rng() % 1000) / 1000;
          break;  // bounded
      }
      set.push_back(rounded(v));
    }
    sets.push_back(set);
  }
  const auto pt = PtMetrics(sets);
  ASSERT_EQ(pt.size(), sets.size());
  for (std::size_t i = 0; i < sets.size(); ++i) {
    NumericStats s;
    for (const double v : sets[i]) s.Add(v);
    const Metrics m = s.Compute();
    const std::array<double, 8> ours = {
        static_cast<double>(m.count), m.sum, m.min, m.max, m.avg, m.p95, m.stddev, m.median};
    static constexpr const char* kNames[] = {"cnt", "sum", "min",    "max",
                                             "avg", "p95", "stddev", "median"};
    for (std::size_t k = 0; k < 8; ++k) {
      EXPECT_TRUE(Close(ours[k], pt[i][k]))
          << "set " << i << " (" << sets[i].size() << " values) " << kNames[k] << ": ours "
          << ours[k] << " pt " << pt[i][k];
    }
  }
}

TEST(NumericStatsTest, BucketsAndDecadesFollowPt) {
  EXPECT_EQ(BucketIndex(0), 0);
  EXPECT_EQ(BucketIndex(-1), 0);
  EXPECT_EQ(BucketIndex(0.0000009), 0);
  EXPECT_EQ(BucketIndex(0.000001), 1);  // 1e-6 starts bucket 1 (bucket 0: below 1e-6)
  EXPECT_EQ(BucketIndex(1e300), kBucketCount - 1);
  EXPECT_DOUBLE_EQ(BucketValue(0), 0);
  EXPECT_DOUBLE_EQ(BucketValue(1), 0.000001);
  EXPECT_EQ(DecadeOfBucket(0), 0);
  EXPECT_EQ(DecadeOfBucket(BucketIndex(0.5)), 5);  // 100ms decade
  EXPECT_EQ(DecadeOfBucket(BucketIndex(2)), 6);    // 1s
  EXPECT_EQ(DecadeOfBucket(BucketIndex(50)), 7);   // 10s+
  NumericStats s;
  for (const double v : {0.0000005, 0.00002, 0.0003, 0.004, 0.05, 0.6, 7.0, 80.0}) s.Add(v);
  const auto d = s.Decades();
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(d[i], 1U) << "decade " << i;
}

// BucketIndex (threshold table) against pt's formula with a logarithm: around every bucket
// boundary (thousands of doubles on each side), every small integer, and random doubles.
TEST(NumericStatsTest, BucketIndexEqualsTheLogarithmEverywhere) {
  auto check = [](double v) { ASSERT_EQ(BucketIndex(v), BucketIndexReference(v)) << v; };
  auto bits = [](double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, 8);
    return b;
  };
  auto from = [](std::uint64_t b) {
    double v = 0;
    std::memcpy(&v, &b, 8);
    return v;
  };
  for (const double v :
       {0.0, -0.0, -1.0, 1e-300, 4.9e-324, kMinBucketValue, 1e300,
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::max()}) {
    check(v);
  }
  // Each boundary: pt's exact value 1e-6 * 1.05^(b-1), and the doubles next to where the
  // logarithm actually steps (found by bisection on the reference).
  for (int b = 1; b < kBucketCount; ++b) {
    const double exact = kMinBucketValue * std::pow(1.05, b - 1);
    std::uint64_t lo = bits(exact * 0.999), hi = bits(exact * 1.001);
    ASSERT_LT(BucketIndexReference(from(lo)), b);
    ASSERT_GE(BucketIndexReference(from(hi)), b);
    while (hi - lo > 1) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      (BucketIndexReference(from(mid)) >= b ? hi : lo) = mid;
    }
    for (std::uint64_t d = 0; d < 3000; ++d) {
      check(from(hi + d));
      check(from(hi - d));
      check(from(bits(exact) + d));
      check(from(bits(exact) - d));
    }
  }
  for (int i = 0; i <= 200000; ++i) check(i);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000000; ++i) {
    // Random bit patterns with exponents 2^-30 .. 2^60 (and some of any exponent), and
    // decimals with 6 digits after the point as slow logs write them.
    const std::uint64_t r = rng();
    const std::uint64_t exponent = i % 8 == 0 ? (r >> 52) : 1023 - 30 + (r >> 52) % 91;
    check(from((exponent << 52) | (r & ((std::uint64_t{1} << 52) - 1))));
    check(static_cast<double>(r % 100000000000ULL) / 1e6);
  }
}

// StringStats remembers the entry of its last value: copies and moves must not share it.
TEST(StringStatsTest, RepeatedValuesCopiesAndMoves) {
  StringStats a;
  for (const char* v : {"root", "root", "app", "app", "root"}) a.Add(v);
  StringStats copy = a;
  copy.Add("root");
  a.Add("app", 2);
  EXPECT_EQ(a.values().at("root"), 3u);
  EXPECT_EQ(a.values().at("app"), 4u);
  EXPECT_EQ(copy.values().at("root"), 4u);
  EXPECT_EQ(copy.values().at("app"), 2u);
  StringStats moved = std::move(copy);
  moved.Add("root");
  EXPECT_EQ(moved.values().at("root"), 5u);
  copy = a;  // a moved-from object, assigned again
  copy.Add("app");
  EXPECT_EQ(copy.values().at("app"), 5u);
  EXPECT_EQ(a.values().at("app"), 4u);
  StringStats merged;
  merged.Add("app");
  merged.Merge(a);
  merged.Add("app");
  EXPECT_EQ(merged.values().at("app"), 6u);
  EXPECT_EQ(merged.count(), 9u);
}

TEST(NumericStatsTest, SumIsExactAndOrderIndependent) {
  NumericStats a;
  NumericStats b;
  NumericStats c;
  std::mt19937_64 rng(7);
  std::vector<double> values;
  for (int i = 0; i < 10000; ++i) values.push_back(static_cast<double>(rng() % 1000000) / 1e6);
  for (std::size_t i = 0; i < values.size(); ++i) (i < 5000 ? a : b).Add(values[i]);
  for (auto it = values.rbegin(); it != values.rend(); ++it) c.Add(*it);
  a.Merge(b);
  EXPECT_EQ(a.sum(), c.sum());
  EXPECT_EQ(a.count(), c.count());
  EXPECT_EQ(a.Buckets(), c.Buckets());
  double exact_micros = 0;
  for (const double v : values) exact_micros += std::round(v * 1e6);
  EXPECT_DOUBLE_EQ(a.sum(), exact_micros / 1e6);
}

// Add() remembers the last value's parts and histogram cell: runs of one value, a run that
// continues across the switch from sparse to dense cells and across a Merge, must give what
// adding each value alone gives (each one merged in as its own one-value stats, a path that
// never uses the remembered value).
TEST(NumericStatsTest, RepeatedValuesEqualValuesAddedOneByOne) {
  std::vector<double> values;
  for (int run = 0; run < 40; ++run) {
    const double v = run % 3 == 0 ? 0.000125 * run : static_cast<double>(run % 7);
    for (int k = 0; k <= run % 5; ++k) values.push_back(v);
  }
  for (int k = 0; k < 5; ++k) values.push_back(3.0);  // (the value just before the merge)
  NumericStats fast;
  NumericStats reference;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i == values.size() - 3) {  // a Merge in the middle of a run moves cells
      NumericStats other;
      other.Add(1e-3);
      other.Add(3.0);
      fast.Merge(other);
      reference.Merge(other);
    }
    fast.Add(values[i]);
    NumericStats one;
    one.Add(values[i]);
    reference.Merge(one);
  }
  EXPECT_EQ(fast.count(), reference.count());
  EXPECT_EQ(fast.sum(), reference.sum());
  EXPECT_EQ(fast.min(), reference.min());
  EXPECT_EQ(fast.max(), reference.max());
  EXPECT_EQ(fast.Buckets(), reference.Buckets());
  EXPECT_GT(fast.Buckets().size(), 16U);  // the run went on after the switch to dense cells
}

// ---- a generated log that stresses chunking ------------------------------------------------

std::string GeneratedLog(std::size_t events, unsigned seed) {
  std::mt19937 rng(seed);
  std::ostringstream log;
  log << "/usr/sbin/mysqld, Version: 10.11.6-MariaDB-log (Debian). started with:\n"
         "Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n"
         "Time                 Id Command    Argument\n";
  int second = 0;
  static const char* kDbs[] = {"app", "billing", "reports"};
  static const char* kUsers[] = {"app", "batch", "root"};
  for (std::size_t i = 0; i < events; ++i) {
    if (rng() % 7 == 0) {
      ++second;
      log << "# Time: 241126 10:" << (10 + second / 60 % 50) << ":" << (second % 60 < 10 ? "0" : "")
          << second % 60 << "\n";
    }
    log << "# User@Host: " << kUsers[rng() % 3] << "[" << kUsers[rng() % 3]
        << "] @ localhost [127.0.0." << rng() % 4 << "]\n";
    log << "# Thread_id: " << rng() % 100
        << "  Schema: " << (rng() % 11 == 0 ? kDbs[rng() % 3] : "")
        << "  QC_hit: " << (rng() % 5 == 0 ? "Yes" : "No") << "\n";
    log << "# Query_time: " << (rng() % 100000) / 1e6 << "  Lock_time: 0.0000" << rng() % 10
        << "  Rows_sent: " << rng() % 50 << "  Rows_examined: " << rng() % 5000 << "\n";
    if (rng() % 3 == 0) log << "# Full_scan: " << (rng() % 2 ? "Yes" : "No") << "  Tmp_table: No\n";
    if (rng() % 13 == 0) log << "use " << kDbs[rng() % 3] << ";\n";
    if (rng() % 5 == 0) log << "SET timestamp=" << 1732615800 + i << ";\n";
    switch (rng() % 6) {
      case 0:
        log << "# administrator command: Ping;\n";
        break;
      case 1:
        log << "SELECT * FROM t" << rng() % 5 << " WHERE id = " << rng() << ";\n";
        break;
      case 2:
        log << "UPDATE t" << rng() % 3 << "\n  SET c = 'x'\nuse something_else;\n  WHERE id IN ("
            << rng() % 9 << ", " << rng() % 9 << ");\n";
        break;
      case 3:
        log << "INSERT INTO log_" << rng() % 4 << " VALUES (" << rng() << ", 'a;b');\n";
        break;
      case 4:
        log << "select sleep(" << rng() % 3 << ");\n";
        break;
      default:
        log << "COMMIT;\n";
        break;
    }
  }
  return log.str();
}

// Everything two aggregators hold, as text: equal text = equal digests.
std::string Dump(const Aggregator& a) {
  std::ostringstream out;
  out.precision(17);
  auto dump_class = [&](const ClassStats& c) {
    out << "class " << c.key << " count " << c.count << " last " << c.last_offset << "\n";
    if (c.time.present) out << "  time " << c.time.min_text << " .. " << c.time.max_text << "\n";
    out << "  sample " << c.sample.offset << " value " << c.sample.value << " db " << c.sample.db
        << " ts " << c.sample.ts << " arg " << c.sample.arg << "\n";
    // (in name order: attribute ids depend on the order names are first seen)
    std::map<std::string, std::size_t> by_name;
    for (std::size_t id = 0; id < c.attributes.size(); ++id) {
      by_name[a.AttributeName(static_cast<int>(id))] = id;
    }
    for (const auto& [name, id] : by_name) {
      const AttributeStats& s = c.attributes[id];
      if (s.count() == 0) continue;
      out << "  " << name << " n=" << s.number.count() << " sum=" << s.number.sum()
          << " min=" << s.number.min() << " max=" << s.number.max() << " b=";
      for (const auto& [b, n] : s.number.Buckets()) out << b << ":" << n << ",";
      out << " bool=" << s.boolean.yes << "/" << s.boolean.count << " str=" << s.text.count()
          << (s.text.complete() ? "" : "+");
      for (const auto& [v, n] : s.text.Top(1000)) out << " " << v << "=" << n;
      out << "\n";
    }
  };
  std::map<std::string, const ClassStats*> sorted;
  for (const ClassStats& c : a.Classes()) sorted[c.key] = &c;
  for (const auto& [key, c] : sorted) dump_class(*c);
  out << "overall ";
  dump_class(a.Overall());
  out << "counts " << a.counts().events << " " << a.counts().aggregated << " "
      << a.counts().filtered << " " << a.counts().no_group << "\n";
  return out.str();
}

std::string DigestDump(const std::vector<std::string>& files, unsigned threads, std::size_t chunk,
                       GroupBy group_by = GroupBy::kFingerprint, bool group_lines = true,
                       const std::function<void(AggregateOptions&)>& tune = {}) {
  DigestOptions options;
  options.threads = threads;
  options.chunk_bytes = chunk;
  options.group_repeated_lines = group_lines;
  options.aggregate.group_by = group_by;
  if (tune) tune(options.aggregate);
  if (options.aggregate.ignore_attributes.empty())
    options.aggregate.ignore_attributes = DefaultIgnoredAttributes();
  auto r = DigestFiles(files, options);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (!r) return "";
  return Dump(r->aggregator) + "events " + std::to_string(r->stats.events) + "\n";
}

TEST(DigestFilesTest, MultiThreadedEqualsSingleThreadedOnGeneratedLogs) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    const std::string path =
        WriteFile("gen" + std::to_string(seed) + ".log", GeneratedLog(1500, seed));
    const std::string one = DigestDump({path}, 1, 1 << 20);
    ASSERT_NE(one.find("class "), std::string::npos);
    // Tiny chunks (a few events each) and larger ones, with 2 and 3 threads.
    const std::vector<std::pair<std::size_t, unsigned>> runs = {{700, 3}, {9000, 2}, {60000, 3}};
    for (const auto& [chunk, threads] : runs) {
      EXPECT_EQ(DigestDump({path}, threads, chunk), one)
          << "seed " << seed << " chunk " << chunk << " threads " << threads;
    }
    EXPECT_EQ(DigestDump({path}, 3, 1000, GroupBy::kDb),
              DigestDump({path}, 1, 1 << 20, GroupBy::kDb));
  }
}

TEST(DigestFilesTest, MultiThreadedEqualsSingleThreadedOnConformanceLogs) {
  std::size_t compared = 0;
  for (const auto& entry : fs::directory_iterator(kSlowlogs)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    if (path.ends_with(".gz")) continue;
    const std::string one = DigestDump({path}, 1, 1 << 20);
    EXPECT_EQ(DigestDump({path}, 3, 64), one) << path;
    ++compared;
  }
  EXPECT_GT(compared, 30U);
}

// A log whose header lines repeat (the reader groups them, the aggregator counts them), with
// what must make a line go the long way: a later pair with the same name as a grouped line's,
// administrator commands with Rows_* counts, Schema (the db alias) and a rate limit in
// repeated lines, values too large for exact sums, strings, Yes/No, Query_time repeated, and
// more distinct repeated lines in one class than its table of counts holds.
std::string RepetitiveLog(std::size_t events, unsigned seed, bool crlf) {
  std::mt19937 rng(seed);
  std::ostringstream log;
  static const char* kLines[] = {
      "# Rows_affected: 0  Bytes_sent: 197\n",
      "# Rows_affected: 1  Bytes_sent: 52\n",
      "# Pages_accessed: 3  Pages_read: 0  Full_scan: No  Filesort: Yes\n",
      "# Thread_id: 7  Schema: app  QC_hit: No\n",
      "# Thread_id: 8  Schema: billing  QC_hit: Yes\n",
      "# Log_slow_rate_type: query  Log_slow_rate_limit: 2\n",
      "# Huge: 12345678901234567  Small: 0.5\n",
      "# InnoDB_trx_id: 1A2B  Status: ok\n",
      "# Query_time: 0.000100  Lock_time: 0.000001  Rows_sent: 1  Rows_examined: 1\n",
      "# Rows_examined: 9  Rows_read: 4\n",
      "# Engine_time: 0.0000  Bytes_sent: 99\n",  // Bytes_sent again after the first two
  };
  for (std::size_t i = 0; i < events; ++i) {
    log << "# User@Host: app[app] @ localhost [10.0.0." << rng() % 3 << "]\n";
    if (rng() % 3 != 0) {
      log << "# Query_time: 0.00" << rng() % 9000 + 1000
          << "  Lock_time: 0.000001  Rows_sent: " << rng() % 3 << "  Rows_examined: " << rng() % 4
          << "\n";
    }
    const std::size_t lines = 1 + rng() % 5;
    for (std::size_t l = 0; l < lines; ++l) log << kLines[rng() % std::size(kLines)];
    if (rng() % 4 == 0) log << "# Distinct: " << rng() % 600 << "  Other: Yes\n";
    if (rng() % 9 == 0) log << "SET timestamp=" << 1732615800 + i / 50 << ";\n";
    switch (rng() % 4) {
      case 0:
        log << "# administrator command: Ping;\n";
        break;
      case 1:
        log << "SELECT c FROM t" << rng() % 2 << " WHERE id=" << rng() % 1000 << ";\n";
        break;
      case 2:
        log << "call proc" << rng() % 3 << "(" << rng() % 9 << ");\n";
        break;
      default:
        log << "UPDATE t SET a=a+1 /* req " << rng() % 99 << " */ WHERE id IN (1,2);\n";
        break;
    }
  }
  std::string text = log.str();
  if (!crlf) return text;
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

TEST(DigestFilesTest, GroupedRepeatedLinesEqualLinesAddedOneByOne) {
  std::size_t compared = 0;
  auto same = [&](const std::vector<std::string>& files, unsigned threads, std::size_t chunk,
                  const std::function<void(AggregateOptions&)>& tune, const std::string& what) {
    const std::string grouped =
        DigestDump(files, threads, chunk, GroupBy::kFingerprint, true, tune);
    const std::string one_by_one =
        DigestDump(files, threads, chunk, GroupBy::kFingerprint, false, tune);
    ASSERT_NE(grouped.find("class "), std::string::npos) << what;
    EXPECT_EQ(grouped, one_by_one) << what;
    ++compared;
  };
  for (unsigned seed = 1; seed <= 3; ++seed) {
    for (const bool crlf : {false, true}) {  // (CR LF input is read as a stream)
      const std::string path =
          WriteFile("rep" + std::to_string(seed) + (crlf ? "crlf" : "") + ".log",
                    RepetitiveLog(4000, seed, crlf));
      const std::string what = path;
      same({path}, 1, 1 << 20, {}, what);
      same({path}, 3, 5000, {}, what + " 3 threads");
      // The ranking attribute in repeated lines; a filter reading a grouped line's attribute.
      same(
          {path}, 1, 1 << 20, [](AggregateOptions& o) { o.worst_attribute = "Bytes_sent"; },
          what + " worst Bytes_sent");
      same(
          {path}, 1, 1 << 20,
          [](AggregateOptions& o) {
            o.filter = [](const EventView& v) { return v.Number("Pages_accessed").has_value(); };
          },
          what + " filter");
      // Nothing ignored: Thread_id and timestamp aggregated too.
      same(
          {path}, 1, 1 << 20, [](AggregateOptions& o) { o.ignore_attributes = {"none"}; },
          what + " nothing ignored");
    }
    const std::string gen =
        WriteFile("gen-rep" + std::to_string(seed) + ".log", GeneratedLog(3000, seed));
    same({gen}, 1, 1 << 20, {}, gen);
  }
  for (const auto& entry : fs::directory_iterator(kSlowlogs)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    same({path}, 1, 1 << 20, {}, path);
  }
  EXPECT_GT(compared, 60U);
}

TEST(DigestFilesTest, InheritedAtEqualsASinglePass) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    const std::string text = GeneratedLog(2000, seed);
    // The db/ts in force before each event, from a single pass.
    SlowLogParser p(text);
    auto ev = std::make_unique<SlowLogEvent>();
    std::string db;
    std::string ts;
    std::map<std::uint64_t, std::pair<std::string, std::string>> before;
    while (p.Next(*ev)) {
      if (!before.count(ev->offset)) before[ev->offset] = {db, ts};
      std::string_view d = ev->db;
      if (d.empty()) {
        if (const Attribute* s = ev->Find("Schema")) d = s->text;
      }
      if (!d.empty()) db.assign(d);
      if (!ev->ts.empty()) ts.assign(ev->ts);
    }
    std::size_t checked = 0;
    for (std::size_t at = 1; at < text.size(); at += 997) {
      const std::size_t b = NextEventBoundary(text, at);
      if (b >= text.size()) break;
      const auto it = before.find(b);
      if (it == before.end()) continue;
      const Inherited inh = InheritedAt(text, b);
      EXPECT_EQ(inh.db, it->second.first) << "seed " << seed << " at " << b;
      EXPECT_EQ(inh.ts, it->second.second) << "seed " << seed << " at " << b;
      ++checked;
    }
    EXPECT_GT(checked, 100U);
  }
}

TEST(DigestFilesTest, InheritanceContinuesAcrossFiles) {
  const std::string a = WriteFile("a.log",
                                  "# Time: 241126 10:00:00\n# User@Host: u[u] @ h []\n"
                                  "# Query_time: 1  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\n"
                                  "use shop;\nselect 1;\n");
  const std::string b = WriteFile("b.log",
                                  "# User@Host: u[u] @ h []\n"
                                  "# Query_time: 2  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\n"
                                  "select 2;\n");
  DigestOptions options;
  options.aggregate.group_by = GroupBy::kDb;
  auto r = DigestFiles({a, b}, options);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->aggregator.Classes().size(), 1U);
  const ClassStats& c = r->aggregator.Classes()[0];
  EXPECT_EQ(c.key, "shop");
  EXPECT_EQ(c.count, 2U);
  EXPECT_EQ(c.sample.arg, "select 2");  // the worst (largest Query_time)
  EXPECT_EQ(c.sample.file, 1U);
  EXPECT_EQ(c.sample.ts, "241126 10:00:00");  // inherited
  EXPECT_EQ(c.time.min_text, "241126 10:00:00");
}

TEST(DigestFilesTest, MissingFileFailsBeforeReading) {
  auto r = DigestFiles({WriteFile("ok.log", GeneratedLog(10, 9)), "/nonexistent/slow.log"}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/nonexistent/slow.log"), std::string::npos);
}

// ---- pipeline rules ------------------------------------------------------------------------

Aggregator AggregateText(const std::string& text, AggregateOptions options = {}) {
  if (options.ignore_attributes.empty()) options.ignore_attributes = DefaultIgnoredAttributes();
  Aggregator ag(std::move(options));
  SlowLogParser p(text);
  auto ev = std::make_unique<SlowLogEvent>();
  while (p.Next(*ev)) ag.Add(*ev);
  return ag;
}

const ClassStats* ClassNamed(const Aggregator& ag, std::string_view key) {
  for (const ClassStats& c : ag.Classes()) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

TEST(AggregatorTest, SchemaIsAnAliasOfDbAndAdminRowsCountAsZero) {
  const std::string log =
      "# User@Host: u[u] @ h []\n# Schema: `shop`  QC_hit: No\n"
      "# Query_time: 0.5  Lock_time: 0  Rows_sent: 9  Rows_examined: 9\n"
      "# administrator command: Quit;\n"
      "# User@Host: u[u] @ h []\n"
      "# Query_time: 0.25  Lock_time: 0  Rows_sent: 3  Rows_examined: 30\n"
      "SELECT a FROM t WHERE b = 1;\n";
  AggregateOptions o;
  o.group_by = GroupBy::kDb;
  Aggregator ag = AggregateText(log, o);
  const ClassStats* c = ClassNamed(ag, "shop");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->count, 2U);  // the second inherits db
  const int rows = *ag.AttributeId("Rows_sent");
  const Metrics m = c->Find(rows)->number.Compute();
  EXPECT_EQ(m.sum, 3);  // the admin command's 9 counts as 0
  EXPECT_EQ(m.min, 0);
  EXPECT_FALSE(ag.AttributeId("Schema") && c->Find(*ag.AttributeId("Schema")));
  const AttributeStats* qc = c->Find(*ag.AttributeId("QC_hit"));
  ASSERT_NE(qc, nullptr);
  EXPECT_EQ(qc->Kind(), AttributeKind::kBool);
  EXPECT_EQ(qc->boolean.count, 1U);
  EXPECT_EQ(qc->boolean.yes, 0U);
}

TEST(AggregatorTest, SampleIsTheLastEventWithTheLargestValue) {
  std::string log;
  for (const char* qt : {"0.3", "0.9", "0.1", "0.9", "0.2"}) {
    log += std::string("# User@Host: u[u] @ h []\n# Query_time: ") + qt +
           "  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\nSELECT " + qt + ";\n";
  }
  Aggregator ag = AggregateText(log);
  ASSERT_EQ(ag.Classes().size(), 1U);
  const ClassStats& c = ag.Classes()[0];
  EXPECT_EQ(c.sample.arg, "SELECT 0.9");
  // The second 0.9 (the fourth event), not the first.
  std::vector<std::uint64_t> offsets;
  SlowLogParser p(log);
  auto ev = std::make_unique<SlowLogEvent>();
  while (p.Next(*ev)) offsets.push_back(ev->offset);
  ASSERT_EQ(offsets.size(), 5U);
  EXPECT_EQ(c.sample.offset, offsets[3]);
  EXPECT_DOUBLE_EQ(c.sample.value, 0.9);
}

TEST(AggregatorTest, QueryTimeWithJunkIsItsLeadingNumber) {
  Aggregator ag = AggregateText(
      "# User@Host: u[u] @ h []\n# Query_time: 1.5abc  Lock_time: 0  Rows_sent: 0  Rows_examined: "
      "0\n"
      "select 1;\n");
  const ClassStats& c = ag.Classes().at(0);
  EXPECT_DOUBLE_EQ(c.Find(*ag.AttributeId("Query_time"))->number.sum(), 1.5);
}

TEST(AggregatorTest, FilterSinceUntilAndGroupByUser) {
  std::string log;
  for (int i = 0; i < 6; ++i) {
    log += "# Time: 241126 10:00:0" + std::to_string(i) +
           "\n# User@Host: " + (i % 2 ? std::string("app") : std::string("batch")) +
           "[x] @ h []\n# Query_time: " + std::to_string(i) +
           "  Lock_time: 0  Rows_sent: 0  Rows_examined: " + std::to_string(i * 100) + "\nselect " +
           std::to_string(i) + ";\n";
  }
  auto filter = Filter::Parse("Rows_examined >= 200 and user = app");
  ASSERT_TRUE(filter.has_value()) << filter.error().message;
  auto shared = std::make_shared<Filter>(std::move(*filter));
  const double since = *ParseTimeBound("241126 10:00:02", 0);
  AggregateOptions o;
  o.group_by = GroupBy::kUser;
  o.filter = [shared, since](const EventView& e) {
    return e.time && *e.time >= since && shared->Matches(e);
  };
  Aggregator ag = AggregateText(log, o);
  ASSERT_EQ(ag.Classes().size(), 1U);
  EXPECT_EQ(ag.Classes()[0].key, "app");
  EXPECT_EQ(ag.Classes()[0].count, 2U);  // events 3 and 5
  EXPECT_EQ(ag.counts().filtered, 4U);
}

TEST(RankTest, OrderByAndLimitFollowPtTopEvents) {
  std::string log;
  const std::vector<std::pair<std::string, double>> events = {
      {"select a", 5},   {"select b", 3},   {"select c", 1},    {"select c", 1},
      {"select d", 0.5}, {"select e", 0.5}, {"select z", 0.25}, {"select y", 0.25}};
  for (const auto& [q, t] : events) {
    log += "# User@Host: u[u] @ h []\n# Query_time: " + std::to_string(t) +
           "  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\n" + q + ";\n";
  }
  Aggregator ag = AggregateText(log);
  auto key = [&](const Ranking& r, std::size_t i) { return ag.Classes()[r.top[i].index].key; };
  Ranking r = Rank(ag, OrderBy{}, *ParseLimit("0"));
  ASSERT_EQ(r.top.size(), 7U);
  EXPECT_EQ(key(r, 0), "select a");
  EXPECT_EQ(key(r, 1), "select b");
  EXPECT_EQ(key(r, 2), "select c");
  // Ties: by class key, descending (pt 3.5.7), not by position in the log.
  EXPECT_EQ(key(r, 3), "select e");
  EXPECT_EQ(key(r, 5), "select z");
  EXPECT_EQ(key(r, 6), "select y");
  r = Rank(ag, *ParseOrderBy("Query_time:cnt"), *ParseLimit("1"));
  ASSERT_EQ(r.top.size(), 1U);
  EXPECT_EQ(key(r, 0), "select c");
  EXPECT_EQ(r.other.size(), 6U);
  // 50% of the Query_time sum (11.5): pt keeps adding while the running total (before the
  // class) is below 5.75: a (0) yes, b (5) yes, c (8) no.
  r = Rank(ag, OrderBy{}, *ParseLimit("50%"));
  EXPECT_EQ(r.top.size(), 2U);
  // The percentage is of the attribute's sum even when ranking by count (pt): running counts
  // 0, 2, 3, 4, 5 stay below 5.75, 6 does not.
  r = Rank(ag, *ParseOrderBy("Query_time:cnt"), *ParseLimit("50%"));
  EXPECT_EQ(r.top.size(), 5U);
  // A bare attribute ranks by count.
  EXPECT_EQ(ParseOrderBy("Rows_examined")->stat, OrderStat::kCount);
  r = Rank(ag, OrderBy{}, *ParseLimit("95%:1"));
  EXPECT_EQ(r.top.size(), 1U);
  EXPECT_FALSE(ParseLimit("abc").has_value());
  EXPECT_FALSE(ParseLimit("101%").has_value());
  EXPECT_FALSE(ParseOrderBy("Query_time:median").has_value());
}

TEST(FilterTest, ParsesAndRejects) {
  EXPECT_TRUE(Filter::Parse("db = shop").has_value());
  EXPECT_TRUE(Filter::Parse("arg =~ '(?i)^select .* for update'").has_value());
  EXPECT_TRUE(Filter::Parse("Query_time > 1 or user != root and host =~ ^10\\.").has_value());
  auto bad = Filter::Parse("Query_time >");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("missing value"), std::string::npos);
  EXPECT_FALSE(Filter::Parse("Query_time > abc").has_value());
  EXPECT_FALSE(Filter::Parse("arg =~ '('").has_value());
  EXPECT_FALSE(Filter::Parse("db = a b = c").has_value());
  EXPECT_FALSE(Filter::Parse("= 3").has_value());
}

TEST(FilterTest, TimeBounds) {
  const double now = 2000000000;
  EXPECT_DOUBLE_EQ(*ParseTimeBound("1d", now), now - 86400);
  EXPECT_DOUBLE_EQ(*ParseTimeBound("30m", now), now - 1800);
  EXPECT_DOUBLE_EQ(*ParseTimeBound("45", now), now - 45);
  EXPECT_DOUBLE_EQ(*ParseTimeBound("1732615800", now), 1732615800);
  EXPECT_DOUBLE_EQ(*ParseTimeBound("2009-07-28", now), *ParseLogTime("2009-07-28 00:00:00"));
  EXPECT_DOUBLE_EQ(*ParseTimeBound("090727", now), *ParseLogTime("090727 00:00:00"));
  EXPECT_DOUBLE_EQ(*ParseTimeBound("090727 11:30:00", now), *ParseLogTime("2009-07-27 11:30:00"));
  EXPECT_FALSE(ParseTimeBound("yesterday", now).has_value());
  EXPECT_FALSE(ParseTimeBound("2009-13-01", now).has_value());
  EXPECT_DOUBLE_EQ(*ParseLogTime("2024-01-01T00:00:00Z"), 1704067200);
  EXPECT_DOUBLE_EQ(*ParseLogTime("2024-01-01T02:00:00.5+02:00"), 1704067200.5);
  EXPECT_FALSE(ParseLogTime("garbage").has_value());
}

}  // namespace
}  // namespace dbrunbook::digest
