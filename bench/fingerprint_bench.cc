// fingerprint_bench: digest::Fingerprint (and QueryId) throughput on a realistic statement mix,
// then pt-fingerprint (Percona Toolkit, Perl) on the same statements in the same run, with the
// ratio. Statements: every statement of the shared slow logs (../shared/conformance/slowlogs)
// plus a sysbench-like OLTP mix (point and range selects, updates, deletes, multi-row inserts,
// IN lists) with varying literals, 20,000 in all unless --statements N.
//
//   fingerprint_bench [--statements N] [--no-peer] [google-benchmark flags]
//
// Never run by CTest; numbers go to bench/README.md by hand.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "digest/fingerprint.h"

namespace {

namespace fs = std::filesystem;
using dbrunbook::digest::Fingerprint;
using dbrunbook::digest::FingerprintInto;
using dbrunbook::digest::QueryId;

std::vector<std::string> g_statements;
size_t g_bytes = 0;

// A deliberately simple slow-log reader: non-header lines between header lines, without the
// `use` / `SET timestamp` lines and the final ';'.
void AddSlowLog(const fs::path& path, std::vector<std::string>& out) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::string statement;
  auto close = [&] {
    while (!statement.empty() && (statement.back() == '\n' || statement.back() == ';')) {
      statement.pop_back();
    }
    if (!statement.empty()) out.push_back(statement);
    statement.clear();
  };
  while (std::getline(in, line)) {
    if (line.starts_with("#")) {
      close();
      continue;
    }
    if (statement.empty() && (line.starts_with("use ") || line.starts_with("SET timestamp="))) {
      continue;
    }
    statement += line;
    statement += '\n';
  }
  close();
}

std::vector<std::string> OltpMix(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> id(1, 1000000);
  std::uniform_int_distribution<int> table(1, 16);
  std::uniform_int_distribution<int> kind(0, 9);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string t = "sbtest" + std::to_string(table(rng));
    const int k = kind(rng);
    std::string s;
    if (k <= 3) {
      s = "SELECT c FROM " + t + " WHERE id=" + std::to_string(id(rng));
    } else if (k == 4) {
      const int a = id(rng);
      s = "SELECT DISTINCT c FROM " + t + " WHERE id BETWEEN " + std::to_string(a) + " AND " +
          std::to_string(a + 99) + " ORDER BY c ASC";
    } else if (k == 5) {
      s = "UPDATE " + t + " SET k=k+1 WHERE id=" + std::to_string(id(rng));
    } else if (k == 6) {
      s = "UPDATE " + t + " SET c='" + std::to_string(id(rng)) + "-" + std::to_string(id(rng)) +
          "-91827364-55512345-abcdefgh' WHERE id=" + std::to_string(id(rng));
    } else if (k == 7) {
      s = "DELETE FROM " + t + " WHERE id=" + std::to_string(id(rng));
    } else if (k == 8) {
      s = "INSERT INTO " + t + " (id, k, c, pad) VALUES ";
      for (int r = 0; r < 10; ++r) {
        if (r > 0) s += ", ";
        s += "(" + std::to_string(id(rng)) + ", " + std::to_string(id(rng)) + ", '" +
             std::to_string(id(rng)) + "-68487932199-96439406143', 'pad " + std::to_string(r) +
             "')";
      }
    } else {
      s = "/* app:orders */ SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = "
          "o.customer_id WHERE c.email = 'user" +
          std::to_string(id(rng)) + "@example.com' AND o.status IN (1, 2, 3, " +
          std::to_string(id(rng) % 9) + ") AND o.created_at > '2024-01-01 00:00:00' LIMIT 20";
    }
    out.push_back(std::move(s));
  }
  return out;
}

void BuildCorpus(size_t target) {
  const fs::path logs = fs::path(DBRUNBOOK_SHARED_DIR) / "conformance" / "slowlogs";
  std::error_code error;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(logs, error)) {
    if (entry.is_regular_file() && entry.path().extension() != ".gz") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) AddSlowLog(f, g_statements);
  // pt-fingerprint reads ";\n"-terminated records that start with a word character: keep the
  // statements it reads as they are, so both sides see the same text.
  std::erase_if(g_statements, [](const std::string& s) {
    return s.find(";\n") != std::string::npos || s.empty() ||
           !(std::isalnum(static_cast<unsigned char>(s[0])) || s[0] == '_') ||
           s.find("\n#") != std::string::npos || s.back() == '\n';
  });
  std::mt19937 rng(42);
  if (g_statements.size() < target) {
    for (auto& s : OltpMix(target - g_statements.size(), rng)) g_statements.push_back(std::move(s));
  }
  g_bytes = 0;
  for (const auto& s : g_statements) g_bytes += s.size();
}

void BM_Fingerprint(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    for (const auto& s : g_statements) {
      FingerprintInto(s, {}, out);
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_statements.size()));
}
BENCHMARK(BM_Fingerprint)->Unit(benchmark::kMillisecond);

void BM_FingerprintAndQueryId(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    for (const auto& s : g_statements) {
      FingerprintInto(s, {}, out);
      benchmark::DoNotOptimize(QueryId(out));
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * g_statements.size()));
}
BENCHMARK(BM_FingerprintAndQueryId)->Unit(benchmark::kMillisecond);

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Our single-threaded rate over the corpus, best of 5 passes.
double OurSeconds() {
  std::string out;
  double best = 1e9;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    for (const auto& s : g_statements) {
      FingerprintInto(s, {}, out);
      benchmark::DoNotOptimize(out.data());
    }
    best = std::min(best, Seconds(std::chrono::steady_clock::now() - start));
  }
  return best;
}

double RunSeconds(const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
  const double seconds = Seconds(std::chrono::steady_clock::now() - start);
  return (status == 0) ? seconds : -1;
}

void ComparePeer() {
  if (std::system("command -v pt-fingerprint > /dev/null 2>&1") != 0) {  // NOLINT
    std::printf("\npt-fingerprint not installed: no peer comparison\n");
    return;
  }
  const fs::path dir =
      fs::temp_directory_path() / ("fingerprint-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path input = dir / "statements.sql";
  const fs::path empty = dir / "empty.sql";
  {
    std::ofstream out(input, std::ios::binary);
    for (const auto& s : g_statements) out << s << ";\n";
    std::ofstream(empty, std::ios::binary);
  }
  const double startup = RunSeconds("pt-fingerprint '" + empty.string() + "' > /dev/null");
  const double peer = RunSeconds("pt-fingerprint '" + input.string() + "' > '" +
                                 (dir / "theirs.txt").string() + "'");
  fs::remove_all(dir);
  const double ours = OurSeconds();
  const double mb = static_cast<double>(g_bytes) / 1e6;
  const double n = static_cast<double>(g_statements.size());
  const double peer_work = peer - startup;
  std::printf("\n%zu statements, %.2f MB (slow-log statements + OLTP mix)\n", g_statements.size(),
              mb);
  std::printf("dbrunbook Fingerprint: %8.4f s  %9.1f MB/s  %12.0f statements/s\n", ours, mb / ours,
              n / ours);
  std::printf(
      "pt-fingerprint:        %8.4f s  %9.2f MB/s  %12.0f statements/s  (startup %.3f s "
      "excluded)\n",
      peer_work, mb / peer_work, n / peer_work, startup);
  std::printf("ratio: %.0fx (%.0fx including pt's start-up)\n", peer_work / ours, peer / ours);
}

}  // namespace

int main(int argc, char** argv) {
  size_t target = 20000;
  bool peer = true;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--statements") == 0 && i + 1 < argc) {
      target = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--no-peer") == 0) {
      peer = false;
    } else {
      rest.push_back(argv[i]);
    }
  }
  BuildCorpus(target);
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (peer) ComparePeer();
  return 0;
}
