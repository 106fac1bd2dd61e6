// `dbrunbook fingerprint`: pt-fingerprint's job with pt-query-digest 3.5.7's fingerprints.
//
// Input: by default one statement per line (a final "\r" and one trailing `;` are dropped,
// blank lines skipped). With --multi, pt-fingerprint's own reading: records end at ";\n"
// (which is removed), lines starting with `#` and at least one more character are blanked,
// leading whitespace is removed, and a record is fingerprinted only if it then starts with a
// word character ([A-Za-z0-9_]). --query fingerprints one given statement.
//
// Output: the fingerprint and "\n" per statement; with --query-id, the 32-digit query ID, a
// tab, then the fingerprint. With --abstract, dbrunbook's abstract fingerprint
// (digest::FingerprintOptions::abstract: pt's quirks fixed, not pt-compatible) and its ID, the
// same MD5 over that fingerprint.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.h"
#include "digest/fingerprint.h"

namespace dbrunbook::app {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsPerlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

class Printer {
 public:
  Printer(Env& env, const FingerprintCommandOptions& options)
      : env_(env), query_id_(options.query_id) {
    options_.match_md5_checksums = options.match_md5_checksums;
    options_.match_embedded_numbers = options.match_embedded_numbers;
    options_.abstract = options.abstract;
  }
  ~Printer() { Flush(); }
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;

  void Statement(std::string_view statement) {
    digest::FingerprintInto(statement, options_, fingerprint_);
    if (query_id_) {
      buffer_.append(digest::QueryId(fingerprint_));
      buffer_.push_back('\t');
    }
    buffer_.append(fingerprint_);
    buffer_.push_back('\n');
    if (buffer_.size() >= kFlushAt) Flush();
  }
  void Flush() {
    if (buffer_.empty()) return;
    env_.out.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

 private:
  static constexpr size_t kFlushAt = 1 << 16;
  Env& env_;
  bool query_id_;
  digest::FingerprintOptions options_;
  std::string fingerprint_;
  std::string buffer_;
};

// One line of the default mode.
void Line(std::string_view line, Printer& printer) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t end = line.size();
  while (end > 0 && IsPerlSpace(line[end - 1])) --end;
  if (end == 0) return;
  if (line[end - 1] == ';') line = line.substr(0, end - 1);
  printer.Statement(line);
}

// One record of --multi (pt-fingerprint's loop body), without its ";\n".
void Record(std::string_view record, Printer& printer, std::string& scratch) {
  // s/^#.+$//mg : blank every line that starts with '#' and has more after it.
  scratch.clear();
  size_t pos = 0;
  while (pos < record.size()) {
    size_t eol = record.find('\n', pos);
    if (eol == std::string_view::npos) eol = record.size();
    const std::string_view line = record.substr(pos, eol - pos);
    if (!(line.size() >= 2 && line[0] == '#')) scratch.append(line);
    if (eol < record.size()) scratch.push_back('\n');
    pos = eol + 1;
  }
  std::string_view text = scratch;
  size_t start = 0;
  while (start < text.size() && IsPerlSpace(text[start])) ++start;  // s/^\s+//
  text.remove_prefix(start);
  if (text.empty() || !IsWordChar(text[0])) return;  // next unless m/^\w/
  printer.Statement(text);
}

// Splits a stream into statements as it is read, in large blocks.
class Reader {
 public:
  Reader(bool multi, Printer& printer) : multi_(multi), printer_(printer) {}

  void Feed(std::string_view block) {
    pending_.append(block);
    const std::string_view delimiter = multi_ ? std::string_view(";\n") : std::string_view("\n");
    size_t begin = 0;
    size_t search = scanned_ > delimiter.size() ? scanned_ - (delimiter.size() - 1) : 0;
    while (true) {
      const size_t at = pending_.find(delimiter, std::max(search, begin));
      if (at == std::string::npos) break;
      Emit(std::string_view(pending_).substr(begin, at - begin));
      begin = at + delimiter.size();
      search = begin;
    }
    pending_.erase(0, begin);
    scanned_ = pending_.size();
  }
  void Finish() {
    if (!pending_.empty()) Emit(pending_);
    pending_.clear();
    scanned_ = 0;
  }

 private:
  void Emit(std::string_view statement) {
    if (multi_) {
      Record(statement, printer_, scratch_);
    } else {
      Line(statement, printer_);
    }
  }

  bool multi_;
  Printer& printer_;
  std::string pending_;
  size_t scanned_ = 0;
  std::string scratch_;
};

constexpr size_t kBlock = 1 << 20;

// Reads a whole stream; false on a read error.
bool ReadStream(std::FILE* file, Reader& reader) {
  auto block = std::make_unique<char[]>(kBlock);
  while (true) {
    const size_t got = std::fread(block.get(), 1, kBlock, file);
    if (got > 0) reader.Feed(std::string_view(block.get(), got));
    if (got < kBlock) break;
  }
  reader.Finish();
  return std::ferror(file) == 0;
}

bool ReadIstream(std::istream& in, Reader& reader) {
  auto block = std::make_unique<char[]>(kBlock);
  while (in) {
    in.read(block.get(), static_cast<std::streamsize>(kBlock));
    const auto got = static_cast<size_t>(in.gcount());
    if (got > 0) reader.Feed(std::string_view(block.get(), got));
  }
  reader.Finish();
  return !in.bad();
}

}  // namespace

int RunFingerprint(Env& env, const FingerprintCommandOptions& options, std::istream& in) {
  Printer printer(env, options);
  if (options.query) {
    printer.Statement(*options.query);
    return kExitOk;
  }
  int status = kExitOk;
  std::vector<std::string> files = options.files;
  if (files.empty()) files.emplace_back("-");
  for (const std::string& name : files) {
    Reader reader(options.multi, printer);
    if (name == "-") {
      if (!ReadIstream(in, reader)) {
        printer.Flush();
        env.err << "dbrunbook fingerprint: cannot read standard input\n";
        status = 1;
      }
      continue;
    }
    std::FILE* file = std::fopen(name.c_str(), "rb");
    if (file == nullptr) {
      const int error = errno;
      printer.Flush();
      env.err << fmt::format("dbrunbook fingerprint: cannot open {}: {}\n", name,
                             std::strerror(error));  // NOLINT(concurrency-mt-unsafe)
      status = 1;
      continue;
    }
    errno = 0;
    const bool ok = ReadStream(file, reader);
    const int error = errno;
    std::fclose(file);
    if (!ok) {
      printer.Flush();
      env.err << fmt::format(
          "dbrunbook fingerprint: cannot read {}: {}\n", name,
          std::strerror(error != 0 ? error : EIO));  // NOLINT(concurrency-mt-unsafe)
      status = 1;
    }
  }
  printer.Flush();
  env.out.flush();
  return status;
}

}  // namespace dbrunbook::app
