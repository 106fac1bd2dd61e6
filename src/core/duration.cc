#include "core/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "core/strings.h"
#include "core/text.h"

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

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::optional<WallTime> ParseRfc3339Value(std::string_view text) {
  size_t pos = 0;
  auto number = [&](size_t digits) -> std::optional<int> {
    if (pos + digits > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos += digits;
    return value;
  };
  auto expect = [&](std::string_view any_of) {
    if (pos < text.size() && any_of.find(text[pos]) != std::string_view::npos) {
      ++pos;
      return true;
    }
    return false;
  };
  const auto year = number(4);
  if (!year || *year < 1 || !expect("-")) return std::nullopt;
  const auto month = number(2);
  if (!month || *month < 1 || *month > 12 || !expect("-")) return std::nullopt;
  const auto day = number(2);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!day || *day < 1) return std::nullopt;
  const int month_days = kDays[*month - 1] + (*month == 2 && IsLeap(*year) ? 1 : 0);
  if (*day > month_days || !expect("Tt ")) return std::nullopt;
  const auto hour = number(2);
  if (!hour || *hour > 23 || !expect(":")) return std::nullopt;
  const auto minute = number(2);
  if (!minute || *minute > 59 || !expect(":")) return std::nullopt;
  const auto second = number(2);
  if (!second || *second > 60) return std::nullopt;  // 60: a leap second, folded below
  int64_t nanos = 0;
  if (expect(".")) {
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_minutes = 0;
  if (!expect("Zz")) {
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto off_hour = number(2);
    if (!off_hour || *off_hour > 23 || !expect(":")) return std::nullopt;
    const auto off_minute = number(2);
    if (!off_minute || *off_minute > 59) return std::nullopt;
    offset_minutes = int64_t{sign} * (int64_t{*off_hour} * 60 + *off_minute);
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t days =
      DaysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const int64_t seconds = days * 86400 + int64_t{*hour} * 3600 + int64_t{*minute} * 60 +
                          std::min(*second, 59) - offset_minutes * 60;
  // system_clock counts nanoseconds in 64 bits on Linux: about +-292 years around 1970, so
  // year 1 does not fit. Clamp to the representable range (only Go's zero time lands there).
  using std::chrono::duration_cast;
  using Rep = WallTime::duration;
  constexpr int64_t kMinSeconds = -(int64_t{292} * 365 * 86400);
  constexpr int64_t kMaxSeconds = int64_t{292} * 365 * 86400;
  if (seconds <= kMinSeconds) return WallTime::min();
  if (seconds >= kMaxSeconds) return WallTime::max();
  return WallTime(duration_cast<Rep>(std::chrono::seconds(seconds)) +
                  duration_cast<Rep>(std::chrono::nanoseconds(nanos)));
}

}  // namespace

Result<WallTime> ParseRfc3339(std::string_view text) {
  if (auto t = ParseRfc3339Value(text)) return *t;
  return MakeError(ErrorCode::kParse,
                   fmt::format("'{}' is not an RFC 3339 time", OneLine(text, 64)),
                   "write it as 2026-11-27T06:30:00Z (UTC) or with an offset, +02:00");
}

}  // namespace dbrunbook::core
