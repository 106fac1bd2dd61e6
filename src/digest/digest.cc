#include "digest/digest.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>

namespace dbrunbook::digest {

namespace {

using Clock = std::chrono::steady_clock;

// Calls the progress callback at most every 250 ms (and when forced).
class ProgressTicker {
 public:
  explicit ProgressTicker(const std::function<void(const DigestProgress&)>& cb) : cb_(cb) {}
  void Tick(const DigestProgress& p, bool force = false) {
    if (!cb_) return;
    const auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    cb_(p);
  }

 private:
  const std::function<void(const DigestProgress&)>& cb_;
  Clock::time_point last_{};
};

struct Chunk {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Aggregates one range of a mapped file; `clean` tells whether the parser stopped exactly at
// the range's end.
struct ChunkResult {
  std::unique_ptr<Aggregator> aggregator;
  SlowLogStats stats;
  bool clean = true;
};

ChunkResult RunChunk(std::string_view text, Chunk chunk, const AggregateOptions& options,
                     const Inherited& inherited, std::size_t file, bool group_lines) {
  ChunkResult r;
  r.aggregator = std::make_unique<Aggregator>(options);
  r.aggregator->SetInherited(inherited);
  SlowLogParser parser = SlowLogParser::ForRange(text, chunk.begin, chunk.end);
  parser.SetGroupRepeatedLines(group_lines);
  auto event = std::make_unique<SlowLogEvent>();
  while (parser.Next(*event)) r.aggregator->Add(*event, file);
  r.stats = parser.stats();
  r.clean = parser.EndedCleanly();
  return r;
}

}  // namespace

core::Result<DigestResult> DigestFiles(const std::vector<std::string>& paths,
                                       const DigestOptions& options) {
  unsigned threads = options.threads;
  if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
  // --since / --until carry pt's state (past --since, at --until) through the whole input.
  if (options.aggregate.since || options.aggregate.until) threads = 1;

  DigestResult result{Aggregator(options.aggregate), {}, paths, {}, 1};
  DigestProgress progress;
  ProgressTicker ticker(options.progress);

  // Open everything first: a missing file fails before minutes of work on the others.
  std::vector<std::unique_ptr<SlowLogReader>> readers;
  for (const std::string& path : paths) {
    auto reader = SlowLogReader::Open(path);
    if (!reader) return core::Fail(reader.error());
    (*reader)->SetGroupRepeatedLines(options.group_repeated_lines);
    if (const auto mapped = (*reader)->Mapped()) {
      progress.bytes_total += mapped->size();
      result.file_bytes.push_back(mapped->size());
    } else {
      result.file_bytes.push_back(0);
    }
    readers.push_back(std::move(*reader));
  }

  auto event = std::make_unique<SlowLogEvent>();

  for (std::size_t fi = 0; fi < readers.size(); ++fi) {
    SlowLogReader& reader = *readers[fi];
    progress.file = fi;
    const auto mapped = reader.Mapped();
    const std::uint64_t done_before = progress.bytes_done;

    if (!mapped || threads <= 1 || mapped->size() < 2 * options.chunk_bytes) {
      // One pass. The aggregator of the whole run continues (inheritance included).
      std::uint64_t n = 0;
      while (true) {
        auto more = reader.Next(*event);
        if (!more) return core::Fail(more.error());
        if (!*more) break;
        result.aggregator.Add(*event, fi);
        if ((++n & 0x3FFF) == 0) {
          progress.events = result.aggregator.counts().events;
          progress.bytes_done = done_before + event->offset;
          ticker.Tick(progress);
        }
      }
      result.stats.Add(reader.stats());
      progress.bytes_done = done_before + (mapped ? mapped->size() : reader.stats().bytes);
      progress.events = result.aggregator.counts().events;
      ticker.Tick(progress);
      continue;
    }

    // Multi-threaded over chunks of the mapped file. The db/ts in force at the end of the
    // previous file (pt's inheritance crosses files) apply where the file has none yet.
    const Inherited carried = result.aggregator.Current();
    const std::string_view text = *mapped;
    std::vector<Chunk> chunks;
    for (std::size_t begin = 0; begin < text.size();) {
      std::size_t end = NextEventBoundary(text, std::min(text.size(), begin + options.chunk_bytes));
      if (end <= begin) end = text.size();
      chunks.push_back({begin, end});
      begin = end;
    }
    result.threads_used = std::max<unsigned>(
        result.threads_used, static_cast<unsigned>(std::min<std::size_t>(threads, chunks.size())));

    // Each chunk starts with the db/ts of the last event before it (InheritedAt), or the
    // carried ones when the file has none before the chunk.
    std::vector<ChunkResult> results(chunks.size());
    std::vector<Inherited> inherited(chunks.size());
    std::atomic<std::size_t> next{0};
    std::atomic<std::uint64_t> bytes_done{0};
    auto run_one = [&](std::size_t i) {
      Inherited inh = i > 0 ? InheritedAt(text, chunks[i].begin) : Inherited{};
      if (!inh.has_db) {
        inh.db = carried.db;
        inh.has_db = carried.has_db;
      }
      if (inh.ts.empty()) inh.ts = carried.ts;
      inherited[i] = inh;
      results[i] =
          RunChunk(text, chunks[i], options.aggregate, inh, fi, options.group_repeated_lines);
      bytes_done += chunks[i].end - chunks[i].begin;
    };
    auto worker = [&]() {
      for (std::size_t i = next.fetch_add(1); i < chunks.size(); i = next.fetch_add(1)) run_one(i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads && t < chunks.size(); ++t) pool.emplace_back(worker);
    // The calling thread works too and reports progress between its chunks.
    for (std::size_t i = next.fetch_add(1); i < chunks.size(); i = next.fetch_add(1)) {
      run_one(i);
      progress.bytes_done = done_before + bytes_done.load();
      ticker.Tick(progress);
    }
    for (std::thread& t : pool) t.join();

    // A chunk whose parser did not stop cleanly at its end (a record straddling the boundary
    // in a way the boundary search could not see) is re-read together with the next chunk,
    // and again with the one after, until it ends cleanly or reaches the end of the file.
    std::vector<ChunkResult> final_results;
    std::size_t i = 0;
    while (i < chunks.size()) {
      Chunk c = chunks[i];
      ChunkResult r = std::move(results[i]);
      std::size_t j = i;
      while (!r.clean && j + 1 < chunks.size()) {
        ++j;
        c.end = chunks[j].end;
        r = RunChunk(text, c, options.aggregate, inherited[i], fi, options.group_repeated_lines);
      }
      final_results.push_back(std::move(r));
      i = j + 1;
    }
    for (ChunkResult& r : final_results) {
      result.aggregator.Merge(std::move(*r.aggregator));
      result.stats.Add(r.stats);
    }
    progress.bytes_done = done_before + text.size();
    progress.events = result.aggregator.counts().events;
    ticker.Tick(progress);
  }
  ticker.Tick(progress, true);
  return result;
}

}  // namespace dbrunbook::digest
