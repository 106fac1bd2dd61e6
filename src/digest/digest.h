// The slow-log digest driver: reads slow logs (files, "-" for stdin, gzip), aggregates their
// events (aggregate.h), single- or multi-threaded, and reports progress.
//
// Multi-threaded reading splits each memory-mapped file into chunks at event boundaries
// (NextEventBoundary), starts each chunk's Aggregator with the db and ts in force there
// (InheritedAt), aggregates the chunks in parallel and merges them in input order; a chunk
// whose parser did not end cleanly at its end is re-read together with the next one. The
// result is identical to a single pass (tests check it). Streams (stdin, gzip, CR LF files)
// are read by one thread.
//
// Thread-safety: DigestFiles is reentrant; the progress callback is called from the calling
// thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "digest/aggregate.h"
#include "digest/slowlog_reader.h"

namespace dbrunbook::digest {

struct DigestProgress {
  std::uint64_t bytes_done = 0;   // input bytes read so far (all files)
  std::uint64_t bytes_total = 0;  // 0 when unknown (stdin, gzip)
  std::uint64_t events = 0;
  std::size_t file = 0;  // index of the file being read
};

struct DigestOptions {
  AggregateOptions aggregate;
  unsigned threads = 1;  // 0: one per hardware thread
  // Called now and then (about every 64 MiB or 0.25 s) and once at the end.
  std::function<void(const DigestProgress&)> progress;
  // Chunk size for multi-threaded reading (tests use small chunks).
  std::size_t chunk_bytes = std::size_t{64} << 20;
  // Whether the readers group repeated header lines (SlowLogParser::SetGroupRepeatedLines) and
  // the aggregator counts them instead of adding their values event by event: the same
  // result, faster (tests compare the two).
  bool group_repeated_lines = true;
};

struct DigestResult {
  Aggregator aggregator;
  SlowLogStats stats;              // the reader's counts, all files
  std::vector<std::string> files;  // as given
  std::vector<std::uint64_t> file_bytes;
  unsigned threads_used = 1;
};

// Reads and aggregates `paths` in order (an event's db/ts inheritance continues across files,
// as in pt-query-digest). Fails on the first file that cannot be opened or read.
core::Result<DigestResult> DigestFiles(const std::vector<std::string>& paths,
                                       const DigestOptions& options);

}  // namespace dbrunbook::digest
