// The signals the watch daemon follows, by name: what triggers in the runbook compare with
// thresholds. Each has a unit and a cadence (how often it is read). Counter-based signals
// are rates between two polls (a cumulative counter compared with `> 0` would fire forever).
//
// Thread-safety: constant data.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace dbrunbook::watch {

enum class Cadence {
  kFast,      // every poll (default 1 s): cheap status counters, the processlist
  kSlow,      // every slow poll (default 10 s): a fresh probe connection, lock waits, HLL
  kCloud,     // the cloud provider's metrics, every 60 s
  kExternal,  // pushed: application log files, POST /api/v1/signals
};
std::string_view CadenceName(Cadence cadence);  // "fast", "slow", "cloud", "external"

struct SignalSpec {
  std::string_view name;
  std::string_view unit;  // "s", "ms", "ratio", "/s", "/min", "", "%", "bytes"
  Cadence cadence = Cadence::kFast;
  std::string_view description;  // one line for the README and /metrics HELP
};

// Every signal, in display order.
const std::vector<SignalSpec>& Signals();
const SignalSpec* FindSignal(std::string_view name);
std::vector<std::string> SignalNames();

// Well-known names (the catalogue in signals.cc has them all).
inline constexpr std::string_view kTargetUnreachable = "target_unreachable";  // 1 or 0
inline constexpr std::string_view kLongestQuery = "longest_query_seconds";
inline constexpr std::string_view kAppErrors = "app_errors_per_min";

// One poll's values for one target. A poll that could not reach the server carries
// target_unreachable = 1 and `error` (never a secret); its other values are absent, not 0.
struct SampleBatch {
  std::string target;
  core::WallTime wall{};
  core::MonoTime mono{};
  std::map<std::string, double> values;  // signal name -> value
  std::string error;
  // Context for people, by signal (e.g. the longest query's connection id and fingerprint).
  std::map<std::string, std::string> context;
};

}  // namespace dbrunbook::watch
