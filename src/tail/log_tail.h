// Application log files followed like `tail -F`, counting lines that say the application
// could not talk to its database: the `app_errors_per_min` signal of the watch daemon.
//
// Each file belongs to one target and has RE2 patterns (default: the MySQL and MariaDB
// client error texts below); a line that matches any of them counts once.
//
// Behaviour, per file, on each Poll():
//   * start at the end: lines written before the tailer started are history, not counted;
//   * follow appends, at most `max_read_bytes` per file per poll (the rest next poll);
//   * rotation (the path now names another inode: rename + create): what is left in the old
//     file is read first, then the new file from its start;
//   * truncation (copytruncate: same inode, size below what was read): read again from 0;
//   * a missing file (not created yet, or between a rename and the create) is retried on
//     every poll and reported once until it exists again; when it appears it is read from
//     its start (it is new);
//   * a line longer than `max_line_bytes` is matched on its first max_line_bytes once and the
//     rest of it skipped, without buffering it;
//   * the last line without its newline yet is kept until the newline arrives; "\r\n" ends a
//     line as "\n" does.
// Limits of the approach, as for tail -F: a file truncated and rewritten past the old size
// between two polls looks like an append; a file rotated twice between two polls loses the
// middle file.
//
// Thread-safety: none; one thread polls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::tail {

// The client error texts of MySQL (libmysqlclient) and MariaDB Connector/C, which differ
// ("Can't connect to MySQL server on" / "Can't connect to server on", "MySQL server has gone
// away" / "Server has gone away"), and the server's ER_CON_COUNT_ERROR and
// ER_ACCESS_DENIED_ERROR as clients print them, plus the OS's ECONNREFUSED text.
const std::vector<std::string>& DefaultPatterns();

struct LogFileConfig {
  std::string path;
  std::string target;
  std::vector<std::string> patterns;  // RE2 syntax; empty: DefaultPatterns()
};

struct LogTailOptions {
  size_t max_read_bytes = size_t{1} << 20;   // per file per poll
  size_t max_line_bytes = size_t{64} << 10;  // longer lines: matched on this prefix, once
};

// Counts matching lines over the last minute, in one-second buckets.
//
// Thread-safety: none.
class MinuteRate {
 public:
  void Add(core::MonoTime at, int64_t count);
  // Matches in (now - 60 s, now]; later calls must not go back in time.
  int64_t LastMinute(core::MonoTime now);

 private:
  void Expire(int64_t now_second);
  std::deque<std::pair<int64_t, int64_t>> buckets_;  // (second, count), oldest first
};

struct PollResult {
  std::map<std::string, int64_t> matches;  // target -> matching lines read by this poll
  // Changes people should hear about, once each ("... rotated: reading the new file",
  // "... is missing: retrying every poll", "... truncated: reading from the start", read
  // errors).
  std::vector<std::string> notices;
};

class LogTailer {
 public:
  // Fails with kInvalidConfig (naming "log_files[i]" and the pattern) for an empty path or
  // target, or a pattern RE2 rejects. Opens each file that exists and positions it at its
  // end; a missing file is not an error (see above) and gets a notice from the first Poll.
  static core::Result<std::unique_ptr<LogTailer>> Create(std::vector<LogFileConfig> files,
                                                         LogTailOptions options = {});
  ~LogTailer();
  LogTailer(const LogTailer&) = delete;
  LogTailer& operator=(const LogTailer&) = delete;

  // Reads what is new in every file; every configured target appears in `matches` (0 when
  // nothing matched). Never fails: problems become notices.
  PollResult Poll(core::MonoTime now);

  // app_errors_per_min per target: matching lines counted by polls in the last 60 s.
  std::map<std::string, double> ErrorsPerMinute(core::MonoTime now);

 private:
  struct File;
  LogTailer(std::vector<std::unique_ptr<File>> files, LogTailOptions options);

  std::vector<std::unique_ptr<File>> files_;
  LogTailOptions options_;
  std::map<std::string, MinuteRate> rates_;
};

}  // namespace dbrunbook::tail
