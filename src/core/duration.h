// Human durations in configuration and output: "500ms", "2s", "5m", "1h30m", "1.5s".
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::core {

// Parses a duration. A bare number is rejected unless `bare_unit_seconds` is true, in which
// case it means seconds (for keys documented as seconds). Negative durations are rejected.
Result<Duration> ParseDuration(std::string_view text, bool bare_unit_seconds = false);

// Short form for humans: "850ms", "4.2s", "3m 05s", "2h 14m", "3d 4h".
std::string FormatDuration(Duration d);
std::string FormatSeconds(double seconds);

// RFC 3339 UTC with millisecond precision: "2026-11-26T15:38:28.123Z".
std::string FormatRfc3339(WallTime t);
// Parses RFC 3339 ("2026-11-26T15:38:28Z", "...28.123456789Z", "...28+02:00"; 't'/'z' and a
// space for 'T' accepted; real calendar days only; a leap second reads as :59) to a wall time.
// A time outside what system_clock holds (before 1678 or after 2261) reads as WallTime::min() /
// max(): in practice only Go's zero time, 0001-01-01T00:00:00Z. kParse naming the text when it
// is not one.
Result<WallTime> ParseRfc3339(std::string_view text);

}  // namespace dbrunbook::core
