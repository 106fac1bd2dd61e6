// SHOW GLOBAL STATUS samples and rates between two of them.
//
// Counters such as Questions or Innodb_row_lock_waits only mean something as a rate over an
// interval; a since-boot total of a server up for months says nothing about now. A sample
// records the monotonic time it was taken, so the rate divides by the real elapsed time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "collect/target_session.h"
#include "core/clock.h"
#include "core/strings.h"

namespace dbrunbook::collect {

using StatusMap = std::map<std::string, std::string, core::CaseInsensitiveLess>;

struct StatusSample {
  core::MonoTime taken{};
  core::WallTime wall{};
  StatusMap values;

  std::optional<double> Get(std::string_view name) const;
};

core::Result<StatusSample> SampleStatus(TargetSession& target, core::Clock& clock);
// Only the counters named (and those starting with a prefix): Dialect::GlobalStatusOf.
core::Result<StatusSample> SampleStatus(TargetSession& target, core::Clock& clock,
                                        const std::vector<std::string>& names,
                                        const std::vector<std::string>& prefixes);

// Per-second rate of a counter between two samples. nullopt when the counter is missing in
// either sample, the interval is empty, or the counter went backwards (server restart or
// FLUSH STATUS): never a negative or invented rate.
std::optional<double> Rate(const StatusSample& before, const StatusSample& after,
                           std::string_view counter);
// Delta of a counter between two samples (nullopt as for Rate).
std::optional<double> Delta(const StatusSample& before, const StatusSample& after,
                            std::string_view counter);

}  // namespace dbrunbook::collect
