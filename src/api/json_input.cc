#include "api/json_input.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

#include "core/text.h"

namespace dbrunbook::api {

core::Result<nlohmann::json> ParseJsonBody(std::string_view body, std::string_view what) {
  if (body.empty()) {
    return core::MakeError(core::ErrorCode::kParse, fmt::format("{} is empty", what),
                           "send a JSON object with Content-Type: application/json");
  }
  try {
    return nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...":
    // keep the part after the bracketed id, which says where and what.
    std::string detail = e.what();
    if (const auto close = detail.find("] "); close != std::string::npos) {
      detail = detail.substr(close + 2);
    }
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("{} is not valid JSON (byte {}): {}", what, e.byte, core::OneLine(detail, 200)),
        "send one JSON object encoded in UTF-8");
  } catch (const nlohmann::json::exception& e) {
    // Numbers out of the range of a double (1e999) end here: out_of_range.406.
    std::string detail = e.what();
    if (const auto close = detail.find("] "); close != std::string::npos) {
      detail = detail.substr(close + 2);
    }
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("{} is not valid JSON: {}", what, core::OneLine(detail, 200)),
        "send one JSON object encoded in UTF-8");
  }
}

std::string JsonPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string JsonPath(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::binary:
      return "binary data";
    case nlohmann::json::value_t::discarded:
      return "nothing";
  }
  return "a value";
}

std::string JsonExcerpt(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return core::OneLine(core::ToValidUtf8(text), 60);
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

}  // namespace

std::optional<core::WallTime> ParseRfc3339(std::string_view text) {
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
  using Rep = core::WallTime::duration;
  constexpr int64_t kMinSeconds = -(int64_t{292} * 365 * 86400);
  constexpr int64_t kMaxSeconds = int64_t{292} * 365 * 86400;
  if (seconds <= kMinSeconds) return core::WallTime::min();
  if (seconds >= kMaxSeconds) return core::WallTime::max();
  return core::WallTime(duration_cast<Rep>(std::chrono::seconds(seconds)) +
                        duration_cast<Rep>(std::chrono::nanoseconds(nanos)));
}

bool IsGoZeroTime(core::WallTime t) { return t == core::WallTime::min(); }

}  // namespace dbrunbook::api
