// Health levels and thresholds shared by every step.
#pragma once

#include <optional>
#include <string_view>

namespace dbrunbook::steps {

// Ordered by severity: the worst level of a set is its maximum.
enum class Level { kOk = 0, kWarn = 1, kCritical = 2, kUnknown = 3 };

std::string_view LevelName(Level level);  // "ok", "warn", "critical", "unknown"
// Worse of two levels. kUnknown ranks between warn and critical: a check that could not run
// is an incomplete assessment (warn-worthy) but not evidence of an outage.
Level Worse(Level a, Level b);

enum class Direction {
  kAbove,  // higher values are worse: warn when value >= warn
  kBelow,  // lower values are worse: warn when value <= warn
};
std::string_view DirectionName(Direction direction);  // "above", "below"

struct Threshold {
  std::optional<double> warn;
  std::optional<double> critical;
  Direction direction = Direction::kAbove;

  Level Evaluate(double value) const;
  bool empty() const { return !warn && !critical; }
};

}  // namespace dbrunbook::steps
