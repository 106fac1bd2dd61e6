#include "tail/log_tail.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace dbrunbook::tail {

namespace {

std::string ErrnoText(int err) {
  std::array<char, 256> buffer{};
  return strerror_r(err, buffer.data(), buffer.size());
}

constexpr size_t kChunk = size_t{64} << 10;

}  // namespace

const std::vector<std::string>& DefaultPatterns() {
  static const std::vector<std::string> kPatterns = {
      // ER_CON_COUNT_ERROR (1040), as the server words it.
      "Too many connections",
      // CR_SERVER_LOST (2013): "Lost connection to MySQL server during query" (libmysqlclient),
      // "Lost connection to server during query" / "... at '%s'" (MariaDB Connector/C).
      "Lost connection to (?:MySQL )?server",
      // CR_CONN_HOST_ERROR (2003) and CR_CONNECTION_ERROR (2002): "Can't connect to MySQL
      // server on", "Can't connect to local MySQL server through socket", and the MariaDB
      // client's "Can't connect to server on", "Can't connect to local server through socket".
      "Can't connect to (?:local )?(?:MySQL )?server",
      // CR_SERVER_GONE_ERROR (2006): "MySQL server has gone away" / "Server has gone away".
      "(?:MySQL server|Server) has gone away",
      // ECONNREFUSED as drivers and runtimes print it.
      "Connection refused",
      // ER_ACCESS_DENIED_ERROR (1045) and ER_DBACCESS_DENIED_ERROR (1044).
      "Access denied for user",
  };
  return kPatterns;
}

void MinuteRate::Expire(int64_t now_second) {
  while (!buckets_.empty() && buckets_.front().first <= now_second - 60) buckets_.pop_front();
}

void MinuteRate::Add(core::MonoTime at, int64_t count) {
  if (count == 0) return;
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  if (!buckets_.empty() && buckets_.back().first >= second) {
    buckets_.back().second += count;  // same second (or a clock that did not move on)
  } else {
    buckets_.emplace_back(second, count);
  }
  Expire(second);
}

int64_t MinuteRate::LastMinute(core::MonoTime now) {
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Expire(second);
  int64_t total = 0;
  for (const auto& [bucket, count] : buckets_) {
    if (bucket <= second) total += count;
  }
  return total;
}

struct LogTailer::File {
  std::string path;
  std::string target;
  std::unique_ptr<RE2::Set> patterns;
  int fd = -1;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t offset = 0;
  std::string partial;    // the line being read, up to max_line_bytes
  bool skipping = false;  // in the rest of an over-long line, already counted
  bool missing_reported = false;
  bool error_reported = false;

  ~File() { Close(); }
  void Close() {
    if (fd >= 0) close(fd);
    fd = -1;
  }

  bool Matches(std::string_view line) const {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return patterns->Match(line, nullptr);
  }

  // Lines in `data`; returns the matching ones.
  int64_t Consume(std::string_view data, size_t max_line) {
    int64_t count = 0;
    while (!data.empty()) {
      const size_t newline = data.find('\n');
      const std::string_view piece = data.substr(0, newline);
      if (skipping) {
        if (newline != std::string_view::npos) skipping = false;
      } else {
        partial.append(piece.substr(0, max_line - std::min(max_line, partial.size())));
        if (newline != std::string_view::npos) {
          count += Matches(partial) ? 1 : 0;
          partial.clear();
        } else if (partial.size() >= max_line) {
          // Longer than a line may be: judged on what we have, once; the rest is skipped.
          count += Matches(partial) ? 1 : 0;
          partial.clear();
          skipping = true;
        }
      }
      if (newline == std::string_view::npos) break;
      data.remove_prefix(newline + 1);
    }
    return count;
  }

  // The last line of a file that will not grow any more (rotated away).
  int64_t Flush() {
    int64_t count = 0;
    if (!skipping && !partial.empty()) count = Matches(partial) ? 1 : 0;
    partial.clear();
    skipping = false;
    return count;
  }

  // Reads from `offset` up to `budget` bytes. Sets `eof` when the end was reached.
  int64_t Read(size_t* budget, size_t max_line, bool* eof, std::vector<std::string>* notices) {
    int64_t count = 0;
    std::string buffer(kChunk, '\0');
    *eof = false;
    while (*budget > 0) {
      const size_t want = std::min(kChunk, *budget);
      const ssize_t n = pread(fd, buffer.data(), want, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (!error_reported) {
          notices->push_back(fmt::format("log file {} (target {}): read failed: {}", path, target,
                                         ErrnoText(errno)));
          error_reported = true;
        }
        *eof = true;  // nothing more to get from it this poll
        return count;
      }
      if (n == 0) {
        *eof = true;
        return count;
      }
      error_reported = false;
      offset += n;
      *budget -= static_cast<size_t>(n);
      count += Consume(std::string_view(buffer.data(), static_cast<size_t>(n)), max_line);
    }
    return count;
  }

  // Opens `path`; at its end when `at_end`. False (with a notice the first time) on failure.
  bool Open(bool at_end, std::vector<std::string>* notices) {
    const int opened = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (opened < 0) {
      const int err = errno;
      if (err == ENOENT) {
        if (!missing_reported) {
          notices->push_back(
              fmt::format("log file {} (target {}) does not exist; looking for it on every poll",
                          path, target));
          missing_reported = true;
        }
      } else if (!error_reported) {
        notices->push_back(
            fmt::format("log file {} (target {}): cannot open: {}", path, target, ErrnoText(err)));
        error_reported = true;
      }
      return false;
    }
    struct stat st {};
    if (fstat(opened, &st) != 0) {
      close(opened);
      return false;
    }
    if (missing_reported) {
      notices->push_back(
          fmt::format("log file {} (target {}) exists now: reading it", path, target));
    }
    fd = opened;
    dev = st.st_dev;
    ino = st.st_ino;
    offset = at_end ? st.st_size : 0;
    partial.clear();
    skipping = false;
    missing_reported = false;
    error_reported = false;
    return true;
  }
};

LogTailer::LogTailer(std::vector<std::unique_ptr<File>> files, LogTailOptions options)
    : files_(std::move(files)), options_(options) {}

LogTailer::~LogTailer() = default;

core::Result<std::unique_ptr<LogTailer>> LogTailer::Create(std::vector<LogFileConfig> files,
                                                           LogTailOptions options) {
  if (options.max_line_bytes == 0) options.max_line_bytes = 1;
  if (options.max_read_bytes == 0) options.max_read_bytes = kChunk;
  std::vector<std::unique_ptr<File>> out;
  for (size_t i = 0; i < files.size(); ++i) {
    LogFileConfig& config = files[i];
    const std::string where = fmt::format("log_files[{}]", i);
    if (config.path.empty()) {
      return core::MakeError(core::ErrorCode::kInvalidConfig,
                             fmt::format("{}: path is empty", where),
                             "give the application log file to follow");
    }
    if (config.target.empty()) {
      return core::MakeError(core::ErrorCode::kInvalidConfig,
                             fmt::format("{} ({}): target is empty", where, config.path),
                             "name the target whose connectivity errors this log shows");
    }
    auto file = std::make_unique<File>();
    file->path = config.path;
    file->target = config.target;
    RE2::Options re2_options;
    re2_options.set_log_errors(false);
    file->patterns = std::make_unique<RE2::Set>(re2_options, RE2::UNANCHORED);
    const auto& patterns = config.patterns.empty() ? DefaultPatterns() : config.patterns;
    for (size_t j = 0; j < patterns.size(); ++j) {
      std::string error;
      if (file->patterns->Add(patterns[j], &error) < 0) {
        return core::MakeError(core::ErrorCode::kInvalidConfig,
                               fmt::format("{}.patterns[{}]: \"{}\" is not a valid RE2 pattern: {}",
                                           where, j, patterns[j], error),
                               "patterns use RE2 syntax (no backreferences or lookaround)");
      }
    }
    if (!file->patterns->Compile()) {
      return core::MakeError(
          core::ErrorCode::kInvalidConfig,
          fmt::format("{}: the patterns do not compile together (too large)", where),
          "use fewer or simpler patterns");
    }
    std::vector<std::string> ignored;
    file->Open(/*at_end=*/true, &ignored);
    // A file missing now is reported by the first Poll, with the other notices.
    file->missing_reported = false;
    file->error_reported = false;
    out.push_back(std::move(file));
  }
  return std::unique_ptr<LogTailer>(new LogTailer(std::move(out), options));
}

PollResult LogTailer::Poll(core::MonoTime now) {
  PollResult result;
  for (const auto& file_ptr : files_) {
    File& file = *file_ptr;
    int64_t& count = result.matches[file.target];
    size_t budget = options_.max_read_bytes;
    bool eof = false;
    struct stat st {};
    const bool exists = stat(file.path.c_str(), &st) == 0;
    if (file.fd >= 0) {
      const bool replaced = !exists || st.st_ino != file.ino || st.st_dev != file.dev;
      if (!replaced) {
        struct stat open_st {};
        if (fstat(file.fd, &open_st) == 0 && open_st.st_size < file.offset) {
          result.notices.push_back(
              fmt::format("log file {} (target {}) was truncated: reading it from the start",
                          file.path, file.target));
          file.offset = 0;
          file.partial.clear();
          file.skipping = false;
        }
        count += file.Read(&budget, options_.max_line_bytes, &eof, &result.notices);
        continue;
      }
      // Rotated or removed: finish the old file first (it may have lines written just
      // before the rename), then move on to the new one.
      count += file.Read(&budget, options_.max_line_bytes, &eof, &result.notices);
      if (!eof) continue;  // more of the old file next poll
      count += file.Flush();
      file.Close();
      if (exists) {
        result.notices.push_back(
            fmt::format("log file {} (target {}) was rotated: reading the new file from its start",
                        file.path, file.target));
      }
    }
    // Not open: missing at start, rotated away, or just rotated. A file appearing now is new.
    if (!file.Open(/*at_end=*/false, &result.notices)) continue;
    count += file.Read(&budget, options_.max_line_bytes, &eof, &result.notices);
  }
  for (const auto& [target, count] : result.matches) rates_[target].Add(now, count);
  return result;
}

std::map<std::string, double> LogTailer::ErrorsPerMinute(core::MonoTime now) {
  std::map<std::string, double> out;
  for (const auto& file : files_) {
    out[file->target] = static_cast<double>(rates_[file->target].LastMinute(now));
  }
  return out;
}

}  // namespace dbrunbook::tail
