#include "steps/level.h"

namespace dbrunbook::steps {
namespace {

int Rank(Level level) {
  switch (level) {
    case Level::kOk:
      return 0;
    case Level::kWarn:
      return 1;
    case Level::kUnknown:
      return 2;
    case Level::kCritical:
      return 3;
  }
  return 0;
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kOk:
      return "ok";
    case Level::kWarn:
      return "warn";
    case Level::kCritical:
      return "critical";
    case Level::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Level Worse(Level a, Level b) { return Rank(a) >= Rank(b) ? a : b; }

std::string_view DirectionName(Direction direction) {
  return direction == Direction::kAbove ? "above" : "below";
}

Level Threshold::Evaluate(double value) const {
  auto breaches = [this, value](double limit) {
    return direction == Direction::kAbove ? value >= limit : value <= limit;
  };
  if (critical && breaches(*critical)) return Level::kCritical;
  if (warn && breaches(*warn)) return Level::kWarn;
  return Level::kOk;
}

}  // namespace dbrunbook::steps
