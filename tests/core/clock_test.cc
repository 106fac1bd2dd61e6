#include "core/clock.h"

#include <gtest/gtest.h>

namespace dbrunbook::core {
namespace {

TEST(ClockTest, SimulatedClockMovesOnlyWhenAdvanced) {
  SimulatedClock clock;
  const auto wall = clock.WallNow();
  const auto mono = clock.MonotonicNow();
  EXPECT_EQ(clock.WallNow(), wall);
  clock.SleepFor(std::chrono::minutes(30));
  EXPECT_EQ(clock.MonotonicNow() - mono, std::chrono::minutes(30));
  EXPECT_EQ(clock.WallNow() - wall, std::chrono::minutes(30));
}

TEST(ClockTest, RealClockSleeps) {
  RealClock clock;
  const auto start = clock.MonotonicNow();
  clock.SleepFor(std::chrono::milliseconds(20));
  EXPECT_GE(clock.MonotonicNow() - start, std::chrono::milliseconds(20));
}

}  // namespace
}  // namespace dbrunbook::core
