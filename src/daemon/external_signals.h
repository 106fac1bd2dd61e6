// The external signals of the targets (watch::Cadence::kExternal, today
// app_errors_per_min) as several sources report them at once: the application log tailer,
// and each application that pushes through POST /api/v1/signals under its own `source`.
//
// A target's signal is the sum over its sources of each source's latest value; each source's
// value counts while it is no older than the TTL (a source that stops reporting drops out
// instead of counting for ever, and one that reports 0 counts 0). Two sources never replace
// each other's value; a source's older value (an `at` before the one kept) never replaces
// its newer one.
//
// Thread-safety: none; the daemon guards it with a mutex.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>

#include "core/clock.h"

namespace dbrunbook::daemon {

class ExternalSignals {
 public:
  // Sources kept per target and signal; beyond it the stalest is dropped (sources are named
  // from outside, by the API's callers).
  static constexpr size_t kMaxSources = 64;

  explicit ExternalSignals(core::Duration ttl) : ttl_(ttl) {}

  void Set(const std::string& target, const std::string& signal, const std::string& source,
           double value, core::WallTime at);

  // The signals of `target` at `now`: per signal, the sum of its fresh sources' values
  // (absent when no source is fresh). Values older than the TTL are dropped on the way.
  std::map<std::string, double> Fresh(const std::string& target, core::WallTime now);

 private:
  using Values = std::map<std::string, std::pair<double, core::WallTime>>;  // by source
  core::Duration ttl_;
  std::map<std::string, std::map<std::string, Values>> values_;  // target -> signal -> source
};

}  // namespace dbrunbook::daemon
