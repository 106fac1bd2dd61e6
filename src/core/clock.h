// Time, as a side effect handed in at construction.
//
// Two clocks, never mixed: wall time (`WallNow`) for what users read (timestamps in output,
// reports), monotonic time (`MonotonicNow`) for intervals, rates, deadlines and timeouts.
// Code that waits calls `SleepFor` on the clock it was given, so a `SimulatedClock` turns a
// wait of minutes into an instant in unit tests.
//
// Thread-safety: `RealClock` is stateless and safe from any thread. `SimulatedClock` is
// safe to read from several threads; `Advance`/`SleepFor` serialise on an internal mutex.
#pragma once

#include <chrono>
#include <mutex>

namespace dbrunbook::core {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime WallNow() const = 0;
  virtual MonoTime MonotonicNow() const = 0;
  // Blocks the calling thread for `d` (real clock) or advances simulated time by `d`.
  virtual void SleepFor(Duration d) = 0;
};

class RealClock final : public Clock {
 public:
  WallTime WallNow() const override;
  MonoTime MonotonicNow() const override;
  void SleepFor(Duration d) override;
};

// A clock that moves only when told to. Starts at the given wall time and at an arbitrary
// monotonic origin.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(WallTime start = WallTime{} + std::chrono::hours(24 * 365 * 56));
  WallTime WallNow() const override;
  MonoTime MonotonicNow() const override;
  void SleepFor(Duration d) override { Advance(d); }
  void Advance(Duration d);

 private:
  mutable std::mutex mutex_;
  WallTime wall_;
  MonoTime mono_;
};

// Seconds as a double, for rates and display.
inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace dbrunbook::core
