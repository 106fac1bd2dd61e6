#include "core/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "core/strings.h"

namespace dbrunbook::core {
namespace {

struct Unit {
  std::string_view suffix;
  double seconds;
};

// A century: far beyond any timeout, window or age a user means, and well inside what
// Duration (signed 64-bit nanoseconds, about 292 years) can hold, so the conversion below
// can never overflow.
constexpr double kMaxSeconds = 100.0 * 365 * 86400;

Result<Duration> ToDuration(double seconds, std::string_view original) {
  if (!(seconds <= kMaxSeconds)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("duration '{}' is longer than 100 years", original),
                     "write a shorter duration, e.g. 30s, 5m, 1h or 7d");
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// Longest suffixes first so "ms" wins over "m" and "s".
constexpr Unit kUnits[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"h", 3600},
                           {"m", 60},    {"s", 1},     {"d", 86400}};

}  // namespace

Result<Duration> ParseDuration(std::string_view text, bool bare_unit_seconds) {
  const std::string_view original = text;
  text = Trim(text);
  if (text.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "empty duration",
                     "write a number with a unit, e.g. 500ms, 2s, 5m, 1h30m");
  }
  if (auto bare = ParseDouble(text)) {
    if (!bare_unit_seconds) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("duration '{}' has no unit", original),
                       fmt::format("write {}s for seconds (units: ms, s, m, h, d)", text));
    }
    if (*bare < 0 || !std::isfinite(*bare)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("duration '{}' must be a positive number", original));
    }
    return ToDuration(*bare, original);
  }
  double total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t num_end = pos;
    while (num_end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[num_end])) || text[num_end] == '.')) {
      ++num_end;
    }
    auto number = ParseDouble(text.substr(pos, num_end - pos));
    if (!number) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("cannot parse duration '{}'", original),
                       "write a number with a unit, e.g. 500ms, 2s, 5m, 1h30m");
    }
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.substr(num_end, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("duration '{}' has an unknown or missing unit", original),
                       "units: ns, us, ms, s, m, h, d (e.g. 1h30m)");
    }
    total += *number * unit->seconds;
    pos = num_end + unit->suffix.size();
  }
  return ToDuration(total, original);
}

std::string FormatSeconds(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  if (seconds < 0) return fmt::format("-{}", FormatSeconds(-seconds));
  if (seconds < 1) return fmt::format("{:.0f}ms", seconds * 1000);
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const auto whole = static_cast<int64_t>(seconds);
  if (whole < 3600) return fmt::format("{}m {:02}s", whole / 60, whole % 60);
  if (whole < 86400) return fmt::format("{}h {:02}m", whole / 3600, (whole % 3600) / 60);
  return fmt::format("{}d {}h", whole / 86400, (whole % 86400) / 3600);
}

std::string FormatDuration(Duration d) { return FormatSeconds(ToSeconds(d)); }

std::string FormatRfc3339(WallTime t) {
  const auto since_epoch = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs);
  const std::time_t tt = secs.count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis.count());
}

Result<WallTime> ParseRfc3339(std::string_view text) {
  auto bad = [&]() -> Result<WallTime> {
    return MakeError(ErrorCode::kParse,
                     fmt::format("'{}' is not an RFC 3339 time", text.substr(0, 64)),
                     "write it as 2026-11-27T06:30:00Z (UTC) or with an offset, +02:00");
  };
  size_t pos = 0;
  auto digits = [&](size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
  };
  auto expect = [&](std::string_view options) {
    if (pos >= text.size() || options.find(text[pos]) == std::string_view::npos) return false;
    ++pos;
    return true;
  };
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!digits(4, year) || !expect("-") || !digits(2, month) || !expect("-") || !digits(2, day) ||
      !expect("Tt ") || !digits(2, hour) || !expect(":") || !digits(2, minute) || !expect(":") ||
      !digits(2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int offset_seconds = 0;
  if (expect("Zz")) {
    offset_seconds = 0;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0;
    int om = 0;
    if (!digits(2, oh) || !expect(":") || !digits(2, om) || oh > 23 || om > 59) return bad();
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = std::min(second, 59);
  const std::time_t t = timegm(&tm);
  return WallTime{} + std::chrono::seconds(t - offset_seconds) +
         std::chrono::duration_cast<WallTime::duration>(fraction);
}

}  // namespace dbrunbook::core
