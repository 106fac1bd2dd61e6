#include "core/clock.h"

#include <thread>

namespace dbrunbook::core {

WallTime RealClock::WallNow() const { return std::chrono::system_clock::now(); }

MonoTime RealClock::MonotonicNow() const { return std::chrono::steady_clock::now(); }

void RealClock::SleepFor(Duration d) {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

SimulatedClock::SimulatedClock(WallTime start)
    : wall_(start), mono_(MonoTime{} + std::chrono::hours(1)) {}

WallTime SimulatedClock::WallNow() const {
  std::lock_guard lock(mutex_);
  return wall_;
}

MonoTime SimulatedClock::MonotonicNow() const {
  std::lock_guard lock(mutex_);
  return mono_;
}

void SimulatedClock::Advance(Duration d) {
  std::lock_guard lock(mutex_);
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  mono_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

}  // namespace dbrunbook::core
