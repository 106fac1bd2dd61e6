// The slow-log reader (digest/slowlog_reader.h) against the shared conformance logs
// (../shared/conformance/slowlogs), the event totals of pt-query-digest's expected reports
// (../shared/conformance/pt-query-digest-expected/manifest.json), the installed peer
// (Debian's pt-query-digest 3.2.1, when present), and hand-written logs per flavor.
//
// Peer differences that are deliberate (and asserted as such below):
//  - slow017.txt: its Query_time "18446744073708.796870.000036" makes pt 3.2.1 fail to compile
//    its aggregation code, so pt counts 0; we read 1 event whose Query_time is repaired to the
//    leading number (SlowLogStats::query_time_repaired).
//  - slow039.txt.gz: pt reads the compressed bytes as text (0 events); we decompress it and
//    count what pt counts on the decompressed file.
//  - CR LF logs: pt reads a whole CR LF file as one event; we fold CR LF to LF first.
#include "digest/slowlog_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

namespace fs = std::filesystem;

// A comparable copy of an event.
struct Ev {
  std::string arg, ts, user, host, ip, db;
  bool admin = false;
  std::vector<std::pair<std::string, std::string>> attrs;
  bool operator==(const Ev&) const = default;
};

Ev Copy(const SlowLogEvent& e) {
  Ev out{std::string(e.arg),
         std::string(e.ts),
         std::string(e.user),
         std::string(e.host),
         std::string(e.ip),
         std::string(e.db),
         e.admin,
         {}};
  for (const auto& a : e.Attributes()) out.attrs.emplace_back(a.name, a.text);
  return out;
}

struct Parsed {
  std::vector<Ev> events;
  SlowLogStats stats;
};

Parsed ParseText(std::string_view text) {
  Parsed p;
  SlowLogParser parser(text);
  auto e = std::make_unique<SlowLogEvent>();
  while (parser.Next(*e)) p.events.push_back(Copy(*e));
  p.stats = parser.stats();
  return p;
}

Parsed ParsePath(const std::string& path, std::size_t block = 0) {
  Parsed p;
  auto reader = SlowLogReader::Open(path);
  EXPECT_TRUE(reader.has_value()) << path << ": " << reader.error().ToString();
  if (!reader) return p;
  if (block > 0) (*reader)->SetBlockSizeForTest(block);
  auto e = std::make_unique<SlowLogEvent>();
  while (true) {
    auto more = (*reader)->Next(*e);
    EXPECT_TRUE(more.has_value()) << path;
    if (!more || !*more) break;
    p.events.push_back(Copy(*e));
  }
  p.stats = (*reader)->stats();
  return p;
}

std::size_t WithQueryTime(const std::vector<Ev>& events) {
  std::size_t n = 0;
  for (const auto& e : events) {
    for (const auto& [k, v] : e.attrs) {
      if (k == "Query_time" && !v.empty() && v[0] >= '0' && v[0] <= '9') ++n;
    }
  }
  return n;
}

// Events of `text` parsed as ranges cut at NextEventBoundary(cuts...), merging a range with
// the next one whenever it does not end cleanly. `merges` counts those merges.
std::vector<Ev> ParseInRanges(std::string_view text, const std::vector<std::size_t>& cuts,
                              std::size_t* merges) {
  std::vector<std::size_t> bounds{0};
  for (std::size_t c : cuts) {
    const std::size_t b = NextEventBoundary(text, c);
    if (b > bounds.back() && b < text.size()) bounds.push_back(b);
  }
  bounds.push_back(text.size());
  std::vector<Ev> out;
  auto e = std::make_unique<SlowLogEvent>();
  for (std::size_t k = 0; k + 1 < bounds.size();) {
    std::size_t end = k + 1;
    while (true) {
      std::vector<Ev> part;
      auto parser = SlowLogParser::ForRange(text, bounds[k], bounds[end]);
      while (parser.Next(*e)) part.push_back(Copy(*e));
      if (parser.EndedCleanly() || end + 1 == bounds.size()) {
        out.insert(out.end(), part.begin(), part.end());
        break;
      }
      ++end;
      if (merges != nullptr) ++*merges;
    }
    k = end;
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gunzip(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  std::string out;
  char buf[65536];
  int n = 0;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(gz);
  return out;
}

std::string TempPath(const std::string& name) {
  return (fs::temp_directory_path() /
          ("dbrunbook-slowlog-" + std::to_string(getpid()) + "-" + name))
      .string();
}

std::string WriteTemp(const std::string& name, std::string_view text) {
  std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> ConformanceLogs() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(testing::SharedPath("conformance/slowlogs"))) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool IsGzip(const std::string& path) { return path.size() > 3 && path.ends_with(".gz"); }

// --- conformance logs ----------------------------------------------------------------------

TEST(SlowLogConformance, EveryLogParsesTheSameMappedAndStreamed) {
  const auto files = ConformanceLogs();
  ASSERT_GE(files.size(), 40u);
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    const std::string text = IsGzip(path) ? Gunzip(path) : ReadFile(path);
    const Parsed mem = ParseText(text);
    const Parsed mapped = ParsePath(path);
    const Parsed streamed = ParsePath(path, 7);  // tiny blocks: every refill path runs
    EXPECT_EQ(mapped.events, mem.events);
    EXPECT_EQ(streamed.events, mem.events);
    EXPECT_EQ(streamed.stats.skipped_no_statement, mem.stats.skipped_no_statement);
    EXPECT_EQ(streamed.stats.bytes, text.size());
  }
}

// Counts checked against pt-query-digest 3.2.1 run on each file (query_count of --output json),
// recorded here so the test needs no Perl; PeerCountsMatchLive re-checks them live.
TEST(SlowLogConformance, EventCountsMatchPtQueryDigest) {
  const std::map<std::string, std::size_t> pt_counts = {
      {"empty", 0},
      {"issue_1604834.log", 2},
      {"microslow001.txt", 2},
      {"mysql5.7.log", 2},
      {"slow001-rewritten.txt", 2},
      {"slow001.txt", 2},
      {"slow002.txt", 8},
      {"slow005.txt", 1},
      {"slow006-session-1.txt", 0},
      {"slow006-session-2.txt", 0},
      {"slow006-session-3.txt", 0},
      {"slow006.txt", 6},
      {"slow007.txt", 1},
      {"slow008.txt", 3},
      {"slow010.txt", 1},
      {"slow012.txt", 2},
      {"slow013.txt", 5},
      {"slow015.txt", 0},
      {"slow016.txt", 2},
      {"slow017.txt", 1},  // pt: 0, see the header comment
      {"slow018.txt", 1},
      {"slow019.txt", 3},
      {"slow021.txt", 2},
      {"slow023.txt", 1},
      {"slow024.txt", 4},
      {"slow025.txt", 1},
      {"slow027.txt", 1},
      {"slow029.txt", 3},
      {"slow030.txt", 181},
      {"slow033.txt", 6},
      {"slow034.txt", 9},
      {"slow036.txt", 1},
      {"slow038.txt", 9},
      {"slow039.txt.gz", 1},  // pt on the decompressed file; see the header comment
      {"slow041.txt", 2},
      {"slow043.txt", 1},
      {"slow044.txt", 2},
      {"slow046.txt", 1},
      {"slow047.txt", 1},
      {"slow048.txt", 4},
      {"slow049.txt", 10},
      {"slow051.txt", 2},
      {"slow052.txt", 200},
      {"slow054.txt", 8},
      {"slow055.txt", 3},
      {"slow058.txt", 6},
      {"slow059.txt", 3},
      {"slowlogwriter001.txt", 1},
      {"slowlogwriter002.txt", 1},
  };
  std::size_t checked = 0;
  for (const auto& path : ConformanceLogs()) {
    const std::string name = fs::path(path).filename().string();
    SCOPED_TRACE(name);
    auto it = pt_counts.find(name);
    ASSERT_NE(it, pt_counts.end()) << "new conformance log: run pt-query-digest and add it";
    EXPECT_EQ(WithQueryTime(ParsePath(path).events), it->second);
    ++checked;
  }
  EXPECT_EQ(checked, pt_counts.size());
}

// The totals in pt's expected reports, for every manifest case without filters and without a
// server. A total is read from "# Overall: N total", a JSON report's global.query_count, the
// profile's Calls column (MISC row included), or the sum of the per-class "# Count" lines when
// a query report grouped by fingerprint shows fewer classes than its --limit (so all of them).
// Cases whose report carries no total (--no-report, --group-by other than fingerprint,
// --outliers, a --limit reached) are skipped and listed.
TEST(SlowLogConformance, EventCountsMatchExpectedReports) {
  const std::string dir = testing::SharedPath("conformance/pt-query-digest-expected/");
  const auto manifest = nlohmann::json::parse(ReadFile(dir + "manifest.json"));
  std::size_t compared = 0;
  std::vector<std::string> skipped;
  for (const auto& c : manifest["cases"]) {
    const std::string expected = c["expected"];
    std::vector<std::string> argv = c["argv"];
    const std::string args = [&] {
      std::string s;
      for (const auto& a : argv) s += a + " ";
      return s;
    }();
    if (c.value("needs_mysql", false) || c.value("time_dependent", false)) continue;
    bool filtered = false;
    for (const char* f : {"--filter", "--since", "--until", "--sample", "--iterations",
                          "--run-time", "--run-time-mode"}) {
      if (args.find(f) != std::string::npos) filtered = true;
    }
    if (filtered) continue;
    const std::string report = ReadFile(dir + expected);
    std::optional<std::size_t> total;
    std::smatch m;
    if (std::regex_search(report, m, std::regex(R"(# Overall: (\d+) total)"))) {
      total = std::stoul(m[1]);
    } else if (report.find("# No events processed.") != std::string::npos) {
      total = 0;
    } else if (args.find("json") != std::string::npos && report.find('{') != std::string::npos) {
      total = nlohmann::json::parse(report.substr(report.find('{')))["global"]["query_count"];
    } else if (report.find("# Rank Query ID") != std::string::npos) {
      std::size_t sum = 0;
      const std::regex row(R"(\n# +(?:\d+|MISC) 0x[0-9A-FMISC]+ +[\d.]+ +[\d.]+% +(\d+) )");
      for (std::sregex_iterator it(report.begin(), report.end(), row), end; it != end; ++it) {
        sum += std::stoul((*it)[1]);
      }
      total = sum;
    } else if (args.find("--group-by") == std::string::npos &&
               args.find("--outliers") == std::string::npos) {
      std::string last_limit;  // the last --limit wins; only a plain N is usable
      for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "--limit") last_limit = argv[i + 1];
      }
      const std::size_t limit =
          std::regex_match(last_limit, std::regex(R"(\d+)")) ? std::stoul(last_limit) : 0;
      std::size_t classes = 0, sum = 0;
      const std::regex count(R"(\n# Count +\d+ +(\d+)\n)");
      for (std::sregex_iterator it(report.begin(), report.end(), count), end; it != end; ++it) {
        ++classes, sum += std::stoul((*it)[1]);
      }
      if (classes > 0 && classes < limit) total = sum;
    }
    if (!total) {
      skipped.push_back(expected);
      continue;
    }
    std::size_t ours = 0;
    for (const std::string input : c["input"]) {
      ours += WithQueryTime(ParsePath(testing::SharedPath("conformance/slowlogs/" + input)).events);
    }
    EXPECT_EQ(ours, *total) << expected << " (" << args << ")";
    ++compared;
  }
  EXPECT_GE(compared, 25u);
  std::string list;
  for (const auto& s : skipped) list += " " + s;
  std::printf("compared %zu expected reports; no total in:%s\n", compared, list.c_str());
}

// The live peer, when installed: pt-query-digest --output json on files with varied shapes.
TEST(SlowLogConformance, PeerCountsMatchLive) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the test is single-threaded here
  if (system("command -v pt-query-digest >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "pt-query-digest not installed";
  }
  std::vector<std::string> files;
  for (const char* name :
       {"slow002.txt", "slow006.txt", "slow019.txt", "slow030.txt", "slow034.txt", "slow041.txt",
        "slow052.txt", "mysql5.7.log", "issue_1604834.log", "slow006-session-1.txt"}) {
    files.push_back(testing::SharedPath(std::string("conformance/slowlogs/") + name));
  }
  // Shapes pt special-cases, written out: a server header in the middle, a header-only event
  // followed by one without "# Time:", garbage lines, an odd SET.
  files.push_back(WriteTemp("peer1.log",
                            "garbage line\n"
                            "# Time: 071015 21:43:52\n"
                            "# User@Host: root[root] @ localhost []\n"
                            "# Query_time: 2  Lock_time: 0  Rows_sent: 1  Rows_examined: 0\n"
                            "SET timestamp=1;\n"
                            "select 1;\n"
                            "/usr/sbin/mysqld, Version: 5.0.67-log (x). started with:\n"
                            "Tcp port: 3306  Unix socket: /tmp/mysql.sock\n"
                            "Time                 Id Command    Argument\n"
                            "# Time: 071015 21:43:53\n"
                            "# User@Host: root[root] @ localhost []\n"
                            "# Query_time: 3  Lock_time: 0  Rows_sent: 1  Rows_examined: 0\n"
                            "use db;\n"
                            "SET timestamp=2;\n"
                            "# Time: 071015 21:43:54\n"
                            "# Query_time: 4  Lock_time: 0  Rows_sent: 1  Rows_examined: 0\n"
                            "select 3;\n"
                            "# User@Host: a[a] @ b []\n"
                            "# Query_time: 5  Lock_time: 0\n"
                            "SET timestamp;\n"
                            "select 4;\n"
                            "# User@Host: a[a] @ b []\n"
                            "# Query_time: 6  Lock_time: 0\n"
                            "# administrator command: Quit;\n"));
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    const std::string cmd =
        "pt-query-digest --no-version-check --output json '" + path + "' 2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    pclose(pipe);
    std::size_t pt = 0;
    if (out.find('{') != std::string::npos) {
      pt = nlohmann::json::parse(out.substr(out.find('{')))["global"]["query_count"];
    }
    EXPECT_EQ(WithQueryTime(ParsePath(path).events), pt);
  }
  std::remove(files.back().c_str());
}

// Split every conformance log at many offsets: the ranges' events, concatenated, are the
// single pass's events.
TEST(SlowLogConformance, RangesConcatenateToTheSinglePass) {
  std::size_t merges = 0;
  std::size_t splits = 0;
  for (const auto& path : ConformanceLogs()) {
    SCOPED_TRACE(path);
    const std::string text = IsGzip(path) ? Gunzip(path) : ReadFile(path);
    const auto single = ParseText(text).events;
    const std::size_t step = std::max<std::size_t>(1, text.size() / 300);
    for (std::size_t cut = 1; cut < text.size(); cut += step) {
      ASSERT_EQ(ParseInRanges(text, {cut}, &merges), single) << "cut at " << cut;
      ++splits;
    }
    for (std::size_t parts : {3u, 7u, 16u, 64u}) {
      std::vector<std::size_t> cuts;
      for (std::size_t k = 1; k < parts; ++k) cuts.push_back(text.size() * k / parts);
      ASSERT_EQ(ParseInRanges(text, cuts, &merges), single) << parts << " parts";
    }
  }
  // Boundaries are chosen so that a merge is never needed on real logs.
  EXPECT_EQ(merges, 0u) << "over " << splits << " splits";
}

TEST(SlowLogBoundary, BoundaryIsAfterAStatementAndBeforeAnEvent) {
  const std::string log =
      "# Time: 071015 21:43:52\n# Query_time: 1\nselect 1;\n"
      "# Time: 071015 21:43:53\n# Query_time: 1\nselect 2;\n";
  const std::size_t second = log.find("# Time: 071015 21:43:53") + 1;
  EXPECT_EQ(NextEventBoundary(log, 0), 0u);
  EXPECT_EQ(NextEventBoundary(log, 1), second);
  EXPECT_EQ(NextEventBoundary(log, second), second);
  EXPECT_EQ(NextEventBoundary(log, second + 1), log.size());
  EXPECT_EQ(NextEventBoundary(log, log.size() + 5), log.size());
}

// --- flavors and attribute typing ----------------------------------------------------------

const Attribute& Attr(const SlowLogEvent& e, std::string_view name) {
  static const Attribute kMissing{};
  const Attribute* a = e.Find(name);
  EXPECT_NE(a, nullptr) << name;
  return a != nullptr ? *a : kMissing;
}

// The first event of `text`; its views live as long as the returned object (and `text`).
struct FirstEvent {
  std::unique_ptr<SlowLogParser> parser;
  std::unique_ptr<SlowLogEvent> event = std::make_unique<SlowLogEvent>();
  const SlowLogEvent* operator->() const { return event.get(); }
  const SlowLogEvent& operator*() const { return *event; }
};

FirstEvent First(std::string_view text) {
  FirstEvent f{std::make_unique<SlowLogParser>(text)};
  EXPECT_TRUE(f.parser->Next(*f.event));
  return f;
}

TEST(SlowLogFlavors, MySql84IsoTimeAndLogSlowExtra) {
  const auto e = First(
      "/usr/sbin/mysqld, Version: 8.4.0 (MySQL Community Server - GPL). started with:\n"
      "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
      "Time                 Id Command    Argument\n"
      "# Time: 2024-01-01T00:00:00.123456Z\n"
      "# User@Host: app[app] @ web1 [10.0.0.5]  Id:    42\n"
      "# Query_time: 1.500000  Lock_time: 0.000010 Rows_sent: 5  Rows_examined: 1000 "
      "Thread_id: 42 Errno: 0 Killed: 0 Bytes_received: 57 Bytes_sent: 300 "
      "Read_first: 1 Read_last: 0 Read_key: 1 Read_next: 999 Read_prev: 0 Read_rnd: 0 "
      "Read_rnd_next: 0 Sort_merge_passes: 0 Sort_range_count: 0 Sort_rows: 0 Sort_scan_count: 0 "
      "Created_tmp_disk_tables: 0 Created_tmp_tables: 0 "
      "Start: 2024-01-01T00:00:00.000000Z End: 2024-01-01T00:00:01.500000Z\n"
      "use shop;\n"
      "SET timestamp=1704067200;\n"
      "SELECT * FROM orders\nWHERE id > 5;\n");
  EXPECT_EQ(e->ts, "2024-01-01T00:00:00");
  EXPECT_EQ(e->user, "app");
  EXPECT_EQ(e->host, "web1");
  EXPECT_EQ(e->ip, "10.0.0.5");
  EXPECT_EQ(e->db, "shop");
  EXPECT_EQ(e->arg, "SELECT * FROM orders\nWHERE id > 5");
  EXPECT_EQ(Attr(*e, "Query_time").number, 1.5);
  EXPECT_EQ(Attr(*e, "Rows_examined").number, 1000);
  EXPECT_EQ(Attr(*e, "Thread_id").number, 42);
  EXPECT_EQ(Attr(*e, "Read_next").type, AttributeType::kNumber);
  EXPECT_EQ(Attr(*e, "Start").type, AttributeType::kString);
  EXPECT_EQ(Attr(*e, "Start").text, "2024-01-01T00:00:00.000000Z");
  EXPECT_EQ(Attr(*e, "timestamp").number, 1704067200);
  EXPECT_EQ(e->QueryTime(), 1.5);
  EXPECT_EQ(e->attribute_count, 25u);
}

TEST(SlowLogFlavors, PerconaExtendedAttributes) {
  const auto e = First(
      "# Time: 071015 21:43:52\n"
      "# User@Host: [SQL_SLAVE] @  [127.0.0.1]\n"
      "# Thread_id: 10  Schema: db1  Last_errno: 0  Killed: 0\n"
      "# Query_time: 0.726052  Lock_time: 0.000091  Rows_sent: 0  Rows_examined: 62951  "
      "Rows_affected: 0  Rows_read: 62951\n"
      "# Bytes_sent: 0  Tmp_tables: 0  Tmp_disk_tables: 0  Tmp_table_sizes: 0\n"
      "# InnoDB_trx_id: 1A2B3C\n"
      "# QC_Hit: No  Full_scan: Yes  Full_join: No  Tmp_table: No  Tmp_table_on_disk: No\n"
      "# Filesort: No  Filesort_on_disk: No  Merge_passes: 0\n"
      "#   InnoDB_IO_r_ops: 0  InnoDB_IO_r_bytes: 0  InnoDB_IO_r_wait: 0.000000\n"
      "#   InnoDB_rec_lock_wait: 0.000000  InnoDB_queue_wait: 0.000000\n"
      "#   InnoDB_pages_distinct: 24\n"
      "# Log_slow_rate_type: query  Log_slow_rate_limit: 10\n"
      "update db2.tuningdetail_21_265507 n set n.col = 1;\n");
  EXPECT_EQ(e->user, "[SQL_SLAVE]");
  EXPECT_EQ(e->host, "127.0.0.1");  // empty host name: pt uses the IP
  EXPECT_EQ(Attr(*e, "Schema").text, "db1");
  EXPECT_EQ(Attr(*e, "QC_Hit").type, AttributeType::kBool);
  EXPECT_EQ(Attr(*e, "QC_Hit").number, 0);
  EXPECT_EQ(Attr(*e, "Full_scan").number, 1);
  EXPECT_EQ(Attr(*e, "Tmp_table_on_disk").type, AttributeType::kBool);
  EXPECT_EQ(Attr(*e, "InnoDB_trx_id").type, AttributeType::kString);
  EXPECT_EQ(Attr(*e, "InnoDB_IO_r_wait").type, AttributeType::kNumber);
  EXPECT_EQ(Attr(*e, "InnoDB_pages_distinct").number, 24);
  EXPECT_EQ(Attr(*e, "Log_slow_rate_limit").number, 10);
  EXPECT_EQ(Attr(*e, "Log_slow_rate_type").text, "query");
  EXPECT_EQ(Attr(*e, "Thread_id").number, 10);
}

TEST(SlowLogFlavors, PerconaEmptySchemaDoesNotSwallowTheNextName) {
  const auto e = First(
      "# User@Host: u[u] @ h []\n"
      "# Thread_id: 1  Schema:   Last_errno: 0  Killed: 0\n"
      "# Query_time: 1  Lock_time: 0\n"
      "select 1;\n");
  EXPECT_EQ(e->Find("Schema"), nullptr);
  EXPECT_EQ(Attr(*e, "Last_errno").number, 0);
}

TEST(SlowLogFlavors, MariaDbAttributesAndExplain) {
  const auto e = First(
      "# Time: 240101  9:05:01\n"
      "# User@Host: root[root] @ localhost []\n"
      "# Thread_id: 8  Schema: test  QC_hit: No\n"
      "# Query_time: 0.000210  Lock_time: 0.000054  Rows_sent: 1  Rows_examined: 1\n"
      "# Rows_affected: 0  Bytes_sent: 93\n"
      "# Pages_accessed: 2  Pages_read: 0  Pages_prefetched: 0  Pages_updated: 0  "
      "Old_rows_read: 0\n"
      "# Pages_read_time: 0.0000  Engine_time: 0.0124\n"
      "#\n"
      "# explain: id\tselect_type\ttable\ttype\tpossible_keys\tkey\tkey_len\tref\trows\tr_rows\n"
      "# explain: 1\tSIMPLE\tt\tconst\tPRIMARY\tPRIMARY\t4\tconst\t1\tNULL\n"
      "#\n"
      "SET timestamp=1704099901;\n"
      "SELECT * FROM t WHERE id=1;\n");
  EXPECT_EQ(e->ts, "240101  9:05:01");
  EXPECT_EQ(Attr(*e, "QC_hit").type, AttributeType::kBool);
  EXPECT_EQ(Attr(*e, "Pages_accessed").number, 2);
  EXPECT_EQ(Attr(*e, "Engine_time").number, 0.0124);
  EXPECT_EQ(Attr(*e, "Old_rows_read").number, 0);
  EXPECT_EQ(e->arg, "SELECT * FROM t WHERE id=1");
}

TEST(SlowLogFlavors, AdminCommandsAndEventsWithoutTime) {
  const std::string log =
      "# User@Host: a[a] @ h [1.2.3.4]\n"
      "# Query_time: 0.1  Lock_time: 0\n"
      "# administrator command: Quit;\n"
      "# User@Host: a[a] @ h [1.2.3.4]\n"
      "# Query_time: 0.2  Lock_time: 0\n"
      "use db2;\n"
      "select 2;\n";
  const Parsed p = ParseText(log);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_TRUE(p.events[0].admin);
  EXPECT_EQ(p.events[0].arg, "administrator command: Quit");
  EXPECT_EQ(p.events[0].ts, "");
  EXPECT_EQ(p.events[1].db, "db2");
  EXPECT_EQ(p.events[1].arg, "select 2");
  EXPECT_EQ(p.stats.admin_events, 1u);
}

TEST(SlowLogFlavors, ServerHeaderInTheMiddleSplitsEvents) {
  const std::string log =
      "# Time: 071015 21:43:52\n# Query_time: 1\nselect 1;\n"
      "/usr/sbin/mysqld, Version: 5.7.44-log (MySQL Community Server (GPL)). started with:\n"
      "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
      "Time                 Id Command    Argument\n"
      "# Time: 071015 21:43:53\n# Query_time: 2\nselect 2;\n";
  const Parsed p = ParseText(log);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[0].arg, "select 1");
  EXPECT_EQ(p.events[1].arg, "select 2");
  EXPECT_EQ(p.stats.server_headers, 3u);
}

// A start-up header line inside a statement is found wherever it lies: at every distance from
// the statement's start and end (the search reads 16 or 32 bytes at a time, and the last bytes
// of a statement as an overlapping block), it is removed as pt removes it, and the events are
// those of the log without it.
TEST(SlowLogFlavors, ServerHeaderLineAtEveryOffsetOfAStatement) {
  const std::vector<std::string> headers = {
      "/usr/sbin/mysqld, Version: 5.7.44-log (MySQL Community Server (GPL)). started with:\n",
      "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n",
      "Time                 Id Command    Argument\n",
  };
  std::size_t cases = 0;
  for (const std::string& header : headers) {
    for (const std::size_t before : {0, 1, 7, 16, 33}) {
      for (std::size_t after = 0; after <= 40; ++after) {
        std::string start = "# Time: 071015 21:43:52\n# Query_time: 1\nselect ";
        start.append(before, 'y').append("\n");
        std::string end(after, 'x');
        end += ";\n# Time: 071015 21:43:53\n# Query_time: 2\nselect 2;\n";
        std::string with_header = start;
        with_header.append(header).append(end);
        const Parsed with = ParseText(with_header);
        const Parsed without = ParseText(start + end);
        SCOPED_TRACE(header + " before " + std::to_string(before) + " after " +
                     std::to_string(after));
        ASSERT_EQ(with.events.size(), without.events.size());
        for (std::size_t i = 0; i < with.events.size(); ++i) {
          EXPECT_EQ(with.events[i].arg, without.events[i].arg);
        }
        EXPECT_EQ(with.stats.server_headers, 1u);
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 3u * 5u * 41u);
}

TEST(SlowLogFlavors, HeaderOnlyRecordBecomesNoQueryEvent) {
  // pt's "NULL query" case (Launchpad 1082599): the next event's header follows directly.
  const std::string log =
      "# Time: 071015 21:43:52\n# Query_time: 1\nSET timestamp=1;\nuse db;\n"
      "# Time: 071015 21:43:53\n# Query_time: 2\nSET timestamp=2;\nselect 2;\n";
  const Parsed p = ParseText(log);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[0].arg, "/* No query */");
  EXPECT_EQ(p.events[1].arg, "select 2");
  EXPECT_EQ(p.stats.no_query_events, 1u);
}

// --- garbage -------------------------------------------------------------------------------

TEST(SlowLogGarbage, TruncationAtEveryOffsetCountsWhatItSkips) {
  const std::string log = ReadFile(testing::SharedPath("conformance/slowlogs/slow002.txt"));
  const auto full = ParseText(log).events;
  std::vector<std::size_t> starts;  // where each full event's record starts
  {
    SlowLogParser parser(log);
    auto e = std::make_unique<SlowLogEvent>();
    while (parser.Next(*e)) starts.push_back(e->offset);
  }
  for (std::size_t cut = 0; cut <= log.size(); ++cut) {
    SCOPED_TRACE(cut);
    const Parsed p = ParseText(std::string_view(log).substr(0, cut));
    std::size_t begun = 0, complete = 0;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      if (starts[i] < cut) ++begun;
      if (i + 1 < starts.size() && starts[i + 1] <= cut) ++complete;
    }
    ASSERT_GE(p.events.size(), complete);
    for (std::size_t i = 0; i < complete; ++i) ASSERT_EQ(p.events[i], full[i]);
    // Every event begun before the cut is either read or counted as skipped.
    const std::uint64_t skipped =
        p.stats.skipped_no_statement + p.stats.skipped_truncated + p.stats.skipped_malformed;
    ASSERT_GE(p.events.size() + skipped, begun);
  }
}

TEST(SlowLogGarbage, QueryTimeWithJunkIsRepairedOrCounted) {
  const std::string log =
      "# Query_time: 1.5abc  Lock_time: 0\nselect 1;\n"
      "# Query_time: abc  Lock_time: 0\nselect 2;\n"
      "# Lock_time: 0\nselect 3;\n";
  const Parsed p = ParseText(log);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.stats.query_time_repaired, 1u);
  EXPECT_EQ(p.stats.query_time_invalid, 1u);
  EXPECT_EQ(p.stats.query_time_missing, 1u);
  EXPECT_EQ(First(log)->QueryTime(), 1.5);
  EXPECT_EQ(WithQueryTime(p.events), 1u);  // pt's total counts only the numeric one
}

// --- the header-line cache -----------------------------------------------------------------

// An event with its attributes' types and numbers (what the cache stores besides the texts).
struct TypedEv {
  Ev ev;
  bool no_query = false, has_user_host = false;
  std::vector<std::pair<int, double>> typed;
  bool operator==(const TypedEv&) const = default;
};

std::vector<TypedEv> ParseTyped(std::string_view text, SlowLogStats* stats) {
  std::vector<TypedEv> out;
  SlowLogParser parser(text);
  auto e = std::make_unique<SlowLogEvent>();
  while (parser.Next(*e)) {
    TypedEv t{Copy(*e), e->no_query, e->has_user_host, {}};
    for (const auto& a : e->Attributes()) t.typed.emplace_back(static_cast<int>(a.type), a.number);
    out.push_back(std::move(t));
  }
  if (stats != nullptr) *stats = parser.stats();
  return out;
}

// Header lines repeat from event to event, and a repeated line reuses the parse of its earlier
// copy: each event of a log read in one pass (a warm cache) must equal the event of its record
// read alone (a cold one), types, numbers and skip counters included, whatever the lines'
// order, repetition, duplicate names, second User@Host / SET lines and special keys.
std::string MixedHeaderLog(std::vector<std::string>& records) {
  const std::vector<std::string> pool = {
      "# User@Host: root[root] @ localhost []",
      "# User@Host: app[app] @ web1 [10.0.0.1]  Id: 42",
      "# User@Host: app[app] @ 0 [10.0.0.2]",
      "# Thread_id: 14  Schema: sbtest  QC_hit: No",
      "# Thread_id: 15  Schema: sbtest  QC_hit: Yes",
      "# Query_time: 0.000026  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0",
      "# Query_time: 1.5abc  Lock_time: 0  Rows_sent: 1  Rows_examined: 1",
      "# Query_time: x  Lock_time: 2",
      "# Rows_affected: 0  Bytes_sent: 197",
      "# Rows_affected: 0  Bytes_sent: 11  Rows_sent: 7",
      "# Pages_accessed: 3  Pages_read: 0  Pages_prefetched: 0  Pages_updated: 0  Old_rows_read: 0",
      "# Pages_read_time: 0.0000  Engine_time: 0.0000",
      "# Schema:   QC_hit: No",                           // pt's empty-Schema fix-up: not cached
      "# Schema: db: x  user: u  host: h  ip: i  ts: t",  // keys the parser keeps elsewhere
      "# A: 1  B: 2  C: 3  D: 4  E: 5  F: 6  G: 7  H: 8  I: 9  J: 10  K: 11  L: 12  M: 13  N: 14",
      "# Time: 261126 22:05:26",
      "# Time: 261126 22:05:27 # User@Host: t[t] @ h [1.2.3.4]",
      "# Log_slow_rate_type: query  Log_slow_rate_limit: 2  Tmp_table: Yes  Full_scan: No",
      "# Bytes_sent: -1.5E+3  Tmp_tables: 1e5  Killed: 00012",
  };
  // Lines ending in ';' end the header (after them a '#' would start a new record).
  const std::vector<std::string> last_lines = {
      "# administrator command: Ping;",
      "use `sbtest`;",
      "SET timestamp=1795730726;",
      "SET timestamp=1795730727;",
      "SET insert_id=5, last_insert_id = 7;",
      "SET timestamp=1795730726, insert_id;",  // odd: pt dies on the record
  };
  const std::vector<std::string> statements = {"SELECT 1;", "BEGIN;", "COMMIT;", "0;"};
  std::mt19937 rng(7);
  std::string log;
  for (int r = 0; r < 3000; ++r) {
    std::string rec = "# Thread_id: " + std::to_string(rng() % 3) + "\n";  // starts with '#'
    const std::size_t lines = rng() % 9;
    for (std::size_t i = 0; i < lines; ++i) rec += pool[rng() % pool.size()] + "\n";
    const std::size_t last = rng() % 3;
    for (std::size_t i = 0; i < last; ++i) {
      const std::string& l = last_lines[rng() % last_lines.size()];
      if (i == 0 || l[0] != '#') rec += l + "\n";
    }
    rec += statements[rng() % statements.size()] + "\n";
    records.push_back(rec);
    log += rec;
  }
  return log;
}

// Each event of `log` read in one pass equals the event of its record read alone (`records`
// are the log's records), types, numbers and skip counters included; the one-pass stats.
SlowLogStats ExpectParsesAsIfFresh(const std::string& log,
                                   const std::vector<std::string>& records) {
  SlowLogStats whole_stats;
  const std::vector<TypedEv> whole = ParseTyped(log, &whole_stats);
  std::vector<TypedEv> alone;
  SlowLogStats alone_stats;
  for (const std::string& rec : records) {
    SlowLogStats s;
    for (TypedEv& e : ParseTyped(rec, &s)) alone.push_back(std::move(e));
    alone_stats.Add(s);
  }
  EXPECT_EQ(whole.size(), alone.size());
  for (std::size_t i = 0; i < whole.size() && i < alone.size(); ++i) {
    EXPECT_EQ(whole[i], alone[i]) << "event " << i;
    if (!(whole[i] == alone[i])) break;
  }
  EXPECT_EQ(whole_stats.events, alone_stats.events);
  EXPECT_EQ(whole_stats.skipped_malformed, alone_stats.skipped_malformed);
  EXPECT_EQ(whole_stats.skipped_no_statement, alone_stats.skipped_no_statement);
  EXPECT_EQ(whole_stats.query_time_repaired, alone_stats.query_time_repaired);
  EXPECT_EQ(whole_stats.query_time_invalid, alone_stats.query_time_invalid);
  EXPECT_EQ(whole_stats.query_time_missing, alone_stats.query_time_missing);
  return whole_stats;
}

TEST(SlowLogCache, RepeatedHeaderLinesParseAsIfFresh) {
  std::vector<std::string> records;
  const std::string log = MixedHeaderLog(records);
  const SlowLogStats whole_stats = ExpectParsesAsIfFresh(log, records);
  EXPECT_GT(whole_stats.skipped_malformed, 0u);
  EXPECT_GT(whole_stats.query_time_repaired, 0u);
}

// Header lines of one shape with other values ("# Query_time: 0.000552  Lock_time: ..." in every
// event) are read through the shape of an earlier line (a template): each event must still equal
// its record read alone, and the same with grouped lines, whatever the values are — plain
// numbers, or near misses that must go the long way (16 digits, "1.2.3", "1.5abc", "-1", "1e5",
// ".5", empty, other spacing, a name in other case) — and wherever the lines are.
std::string ShapedHeaderLog(std::vector<std::string>& records) {
  const std::vector<std::string> shapes = {
      "# Query_time: {}  Lock_time: {}  Rows_sent: {}  Rows_examined: {}",
      "# Rows_affected: {}  Bytes_sent: {}",
      "# Pages_read_time: {}  Engine_time: {}",
      "# Tmp_tables: {}  Tmp_disk_tables: {}  Tmp_table_sizes: {}",
      "# Thread_id: {}  Schema: sbtest{}  QC_hit: No",
      "# User@Host: u{}[u{}] @ h{} [10.0.0.{}]",
      "# Time: 2611{} 22:05:{}",
      "# Query_time: {}  Lock_time: {}  Rows_sent: {}  Rows_examined: {}  Extra: x{}",
      "# Killed: {}",
  };
  const std::vector<std::string> odd_values = {
      "1234567890123456",
      "123456789012345",
      "0000000000000000123",
      "1.2.3",
      "1.5abc",
      "-1",
      "1e5",
      ".5",
      "",
      "x",
      "0.5:",
      "1:2",
      "Yes",
      "00012",
      "7.",
  };
  std::mt19937 rng(11);
  auto value = [&]() -> std::string {
    switch (rng() % 8) {
      case 0:
        return odd_values[rng() % odd_values.size()];
      case 1:
        return std::to_string(rng() % 3);
      case 2:
        return std::to_string(rng() % 100000);
      default: {
        const std::string frac = std::to_string(rng() % 1000000);
        return std::to_string(rng() % 3) + "." + std::string(6 - frac.size(), '0') + frac;
      }
    }
  };
  auto make = [&](const std::string& shape) {
    std::string line;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape.compare(i, 2, "{}") == 0) {
        line += value();
        ++i;
      } else {
        line += shape[i];
      }
    }
    switch (rng() % 40) {  // other spacing, other case
      case 0: {
        const std::size_t at = line.find("  ");
        if (at != std::string::npos) line.erase(at, 1);
        break;
      }
      case 1:
        line += " ";
        break;
      case 2: {
        const std::size_t at = line.find("_time");
        if (at != std::string::npos) line[at + 1] = 'T';
        break;
      }
      default:
        break;
    }
    return line;
  };
  std::string log;
  for (int r = 0; r < 4000; ++r) {
    std::string rec = "# User@Host: root[root] @ localhost []\n";
    if (rng() % 4 != 0) {  // the usual order: the same shape at the same position
      rec += make(shapes[0]) + "\n" + make(shapes[1]) + "\n" + make(shapes[2]) + "\n";
    } else {
      const std::size_t lines = rng() % 6;
      for (std::size_t i = 0; i < lines; ++i) rec += make(shapes[rng() % shapes.size()]) + "\n";
    }
    if (rng() % 3 == 0) rec += "SET timestamp=17957307" + std::to_string(rng() % 3) + ";\n";
    rec += "SELECT " + std::to_string(r) + ";\n";
    records.push_back(rec);
    log += rec;
  }
  return log;
}

TEST(SlowLogCache, LinesOfAKnownShapeParseAsIfFresh) {
  std::vector<std::string> records;
  const std::string log = ShapedHeaderLog(records);
  const SlowLogStats whole_stats = ExpectParsesAsIfFresh(log, records);
  {
    SlowLogParser parser(log);
    auto e = std::make_unique<SlowLogEvent>();
    while (parser.Next(*e)) {
    }
    EXPECT_GT(parser.TemplatedLines(), 3000u);  // the shape path was taken
    EXPECT_EQ(parser.stats().events, whole_stats.events);
  }
  EXPECT_GT(whole_stats.query_time_repaired, 0u);  // "1.5abc" and "1.2.3" were seen
  EXPECT_GT(whole_stats.query_time_invalid, 0u);   // "x", ".5" ...
}

// The line last seen at a position is tried first, by one compare of its bytes and the newline
// after them: a line that only starts with it (more digits, a space, a '\r', a longer SET) or
// stops short of it must go the long way, and come out as if read alone.
TEST(SlowLogCache, LinesThatExtendTheLastOneParseAsIfFresh) {
  const std::vector<std::string> second = {
      "# Rows_affected: 0  Bytes_sent: 52",
      "# Rows_affected: 0  Bytes_sent: 521",
      "# Rows_affected: 0  Bytes_sent: 52 ",
      "# Rows_affected: 0  Bytes_sent: 52\r",
      "# Rows_affected: 0  Bytes_sent: 5",
      "# Rows_affected: 0  Bytes_sent: 52  Killed: 1",
      "# Rows_affected: 0",
      "SET timestamp=1795730726;",
  };
  const std::vector<std::string> third = {"SET timestamp=1795730726;", "SET timestamp=17957307267;",
                                          "SET timestamp=1795730726;x", "use db1;", "use db12;"};
  std::mt19937 rng(5);
  std::vector<std::string> records;
  std::string log;
  for (int r = 0; r < 3000; ++r) {
    std::string rec = "# User@Host: root[root] @ localhost []\n";
    // Runs of one line, then another: the last line seen at the position changes often.
    rec += second[(r / (1 + rng() % 3)) % second.size()] + "\n";
    if (rng() % 2 == 0) rec += third[rng() % third.size()] + "\n";
    rec += "SELECT " + std::to_string(r % 7) + ";\n";
    records.push_back(rec);
    log += rec;
  }
  const SlowLogStats whole_stats = ExpectParsesAsIfFresh(log, records);
  EXPECT_EQ(whole_stats.events, 3000u);
  // A record whose last header line is the one cached, without its newline (the text's end).
  const std::string tail =
      "# User@Host: root[root] @ localhost []\n# Rows_affected: 0  Bytes_sent: 52";
  ExpectParsesAsIfFresh(log + tail, [&] {
    std::vector<std::string> with_tail = records;
    with_tail.push_back(tail);
    return with_tail;
  }());
}

// An event as a consumer that looks at every attribute sees it: its fields and the set of its
// attributes (grouped lines included) with texts, types and numbers, in name order.
struct FullEv {
  Ev fields;
  bool no_query = false, has_user_host = false;
  std::uint64_t offset = 0;
  std::vector<std::tuple<std::string, std::string, int, double>> attributes;
  bool operator==(const FullEv&) const = default;
};

std::vector<FullEv> ParseFull(std::string_view text, bool group, SlowLogStats* stats,
                              std::size_t* grouped) {
  std::vector<FullEv> out;
  SlowLogParser parser(text);
  parser.SetGroupRepeatedLines(group);
  auto e = std::make_unique<SlowLogEvent>();
  while (parser.Next(*e)) {
    FullEv f{Copy(*e), e->no_query, e->has_user_host, e->offset, {}};
    f.fields.attrs.clear();
    e->ForEachAttribute([&](const Attribute& a) {
      f.attributes.emplace_back(a.name, a.text, static_cast<int>(a.type), a.number);
    });
    std::sort(f.attributes.begin(), f.attributes.end());
    // Find() sees every attribute, grouped or not.
    for (const auto& [name, text, type, number] : f.attributes) {
      const Attribute* found = e->Find(name);
      EXPECT_TRUE(found != nullptr && found->text == text) << name;
    }
    if (grouped != nullptr) *grouped += e->line_count;
    out.push_back(std::move(f));
  }
  if (stats != nullptr) *stats = parser.stats();
  return out;
}

// With SetGroupRepeatedLines a repeated header line comes as one of the event's `lines`
// instead of its pairs: every event must carry exactly the attributes (names, texts, types,
// numbers, one per name) it carries without, whatever the lines' order, repetition, duplicate
// names across lines, special keys and fix-ups; and so on every conformance log.
TEST(SlowLogCache, GroupedLinesCarryTheSameAttributes) {
  std::vector<std::string> records;
  std::vector<std::string> shaped_records;
  std::vector<std::string> texts = {MixedHeaderLog(records), ShapedHeaderLog(shaped_records)};
  for (const std::string& path : ConformanceLogs()) texts.push_back(ReadFile(path));
  std::size_t grouped_total = 0;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    SlowLogStats plain_stats, grouped_stats;
    std::size_t grouped = 0;
    const std::vector<FullEv> plain = ParseFull(texts[t], false, &plain_stats, nullptr);
    const std::vector<FullEv> with_lines = ParseFull(texts[t], true, &grouped_stats, &grouped);
    ASSERT_EQ(plain.size(), with_lines.size()) << "text " << t;
    for (std::size_t i = 0; i < plain.size(); ++i) {
      ASSERT_EQ(plain[i], with_lines[i]) << "text " << t << " event " << i;
    }
    EXPECT_EQ(plain_stats.events, grouped_stats.events);
    EXPECT_EQ(plain_stats.attributes_dropped, grouped_stats.attributes_dropped);
    EXPECT_EQ(plain_stats.skipped_malformed, grouped_stats.skipped_malformed);
    if (t == 0) {
      EXPECT_GT(grouped, 1000u);  // the mixed log's lines repeat: they were grouped
    }
    grouped_total += grouped;
  }
  EXPECT_GT(grouped_total, 1500u);
}

// Events with more pairs than kMaxAttributes drop the same pairs with and without grouping.
TEST(SlowLogCache, GroupedLinesKeepTheAttributeLimit) {
  std::string log;
  for (int r = 0; r < 40; ++r) {
    log += "# User@Host: app[app] @ localhost []\n";
    for (int l = 0; l < 9; ++l) {  // 9 lines of 12 names: 108 pairs, more than the limit
      std::string line = "#";
      for (int k = 0; k < 12; ++k) {
        line += std::string(" N") + static_cast<char>('A' + l) + "_" + static_cast<char>('a' + k) +
                ": " + std::to_string((r % 3 == 0 ? r : 0) + k);
      }
      log += line + "\n";
    }
    if (r % 4 == 0) log += "# NC_l: 5  Extra: 1\n";  // replaces a grouped pair, adds one
    log += "SELECT " + std::to_string(r) + ";\n";
  }
  SlowLogStats plain_stats, grouped_stats;
  std::size_t grouped = 0;
  const std::vector<FullEv> plain = ParseFull(log, false, &plain_stats, nullptr);
  const std::vector<FullEv> with_lines = ParseFull(log, true, &grouped_stats, &grouped);
  ASSERT_EQ(plain.size(), 40u);
  ASSERT_EQ(plain.size(), with_lines.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_EQ(plain[i], with_lines[i]) << "event " << i;
  }
  EXPECT_GT(plain_stats.attributes_dropped, 0u);
  EXPECT_EQ(plain_stats.attributes_dropped, grouped_stats.attributes_dropped);
  EXPECT_GT(grouped, 100u);
}

TEST(SlowLogGarbage, RandomBytesNeverCrashAndTotalsAddUp) {
  const std::string base = ReadFile(testing::SharedPath("conformance/slowlogs/slow034.txt"));
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % (text.size() + 1);
      switch (rng() % 4) {
        case 0:
          text.insert(at, 1, static_cast<char>(rng() % 256));
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1 + rng() % 40);
          break;
        case 2:
          text.insert(at, std::string(1 + rng() % 5, "\0;\n#\r"[rng() % 5]));
          break;
        default:
          text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 200));
          break;
      }
    }
    const Parsed p = ParseText(text);
    EXPECT_EQ(p.stats.events, p.events.size());
    EXPECT_EQ(ParseInRanges(text, {text.size() / 3, text.size() / 2}, nullptr), p.events);
  }
}

TEST(SlowLogGarbage, MultiMegabyteStatement) {
  std::string big = "# Time: 071015 21:43:52\n# Query_time: 1\nINSERT INTO t VALUES ";
  for (int i = 0; i < 400000; ++i) big += "(1,'abcdefgh'),";
  big += "(2,'x');\n# Query_time: 2\nselect 1;\n";
  const Parsed p = ParseText(big);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_GT(p.events[0].arg.size(), 6'000'000u);
  const std::string path = WriteTemp("big.log", big);
  EXPECT_EQ(ParsePath(path, 1 << 16).events, p.events);
  std::remove(path.c_str());
}

// --- input forms ---------------------------------------------------------------------------

TEST(SlowLogInput, CrLfIsReadAsLf) {
  const std::string lf = ReadFile(testing::SharedPath("conformance/slowlogs/slow034.txt"));
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const std::string path = WriteTemp("crlf.log", crlf);
  for (std::size_t block : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{13}}) {
    const Parsed p = ParsePath(path, block);
    EXPECT_EQ(p.events, ParseText(lf).events) << block;
    EXPECT_TRUE(p.stats.crlf);
  }
  std::remove(path.c_str());
}

TEST(SlowLogInput, GzipIsDetectedByMagicBytes) {
  const std::string text = ReadFile(testing::SharedPath("conformance/slowlogs/slow030.txt"));
  const std::string path = TempPath("gz.log");  // no .gz suffix on purpose
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  const Parsed p = ParsePath(path);
  EXPECT_EQ(p.events, ParseText(text).events);
  EXPECT_EQ(p.events.size(), 181u);
  // A truncated gzip file is an error, not a silently short total.
  const std::string whole = ReadFile(path);
  const std::string cut = WriteTemp("gz-cut.log", whole.substr(0, whole.size() / 2));
  auto reader = SlowLogReader::Open(cut);
  ASSERT_TRUE(reader.has_value());
  auto e = std::make_unique<SlowLogEvent>();
  bool failed = false;
  while (true) {
    auto more = (*reader)->Next(*e);
    if (!more) {
      failed = true;
      break;
    }
    if (!*more) break;
  }
  EXPECT_TRUE(failed);
  std::remove(path.c_str());
  std::remove(cut.c_str());
}

TEST(SlowLogInput, StdinThroughAPipe) {
  const std::string text = ReadFile(testing::SharedPath("conformance/slowlogs/slow052.txt"));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved = dup(STDIN_FILENO);
  ASSERT_EQ(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
  close(fds[0]);
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = write(fds[1], text.data() + off, text.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(fds[1]);
  });
  const Parsed p = ParsePath("-", 4096);
  writer.join();
  dup2(saved, STDIN_FILENO);
  close(saved);
  EXPECT_EQ(p.events, ParseText(text).events);
  EXPECT_EQ(p.events.size(), 200u);
}

TEST(SlowLogInput, SeveralFilesAndMissingOnes) {
  const std::string a = testing::SharedPath("conformance/slowlogs/slow002.txt");
  const std::string b = testing::SharedPath("conformance/slowlogs/slow006.txt");
  std::vector<std::size_t> per_file(2);
  auto stats = ReadSlowLogs({a, b}, [&](const SlowLogEvent&, std::size_t i) { ++per_file[i]; });
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(per_file[0], 8u);
  EXPECT_EQ(per_file[1], 6u);
  EXPECT_EQ(stats->events, 14u);
  auto missing =
      ReadSlowLogs({a, "/nonexistent/slow.log"}, [](const SlowLogEvent&, std::size_t) {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent/slow.log"), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::digest
