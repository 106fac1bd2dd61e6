// POST /api/v1/signals: applications that count their own database connectivity errors push
// them instead of (or as well as) having their log files tailed. Two body shapes:
//
//   {"target": "orders-primary", "signals": {"app_errors_per_min": 12}, "at": "<RFC 3339>"}
//   {"samples": [{"target": "orders-primary", "signal": "app_errors_per_min", "value": 12,
//                 "at": "<RFC 3339>"}, ...]}
//
// `at` is optional (absent: the time the daemon received it). `source` (optional, beside
// `target` or in each sample; default "default") names who reports: the daemon sums a target's
// signal over its sources, so two applications pushing for one database add up instead of
// replacing each other; 1 to 64 characters of [A-Za-z0-9._:/-]. Only external signals
// (watch::Cadence::kExternal) can be pushed: the server signals are read by dbrunbook itself,
// and a pushed value would fight the poller's. Values are finite numbers, not negative (the
// external signals are counts and rates). At most kMaxPushedSamples per body. Unknown keys
// are refused (a typo would otherwise drop data silently).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::api {

inline constexpr size_t kMaxPushedSamples = 1000;

struct PushedSample {
  std::string target;
  std::string signal;
  double value = 0;
  std::optional<core::WallTime> at;
  std::string source = "default";
};

// The samples of a body, in body order. Errors (kParse for a malformed body, kInvalidArgument
// for an unknown target or a signal that cannot be pushed) name the JSON path, the value, and
// the closest known name when there is one.
core::Result<std::vector<PushedSample>> ParseSignalPush(std::string_view body,
                                                        const std::vector<std::string>& targets);

// The signals that can be pushed (external cadence), in catalogue order.
std::vector<std::string> PushableSignals();

}  // namespace dbrunbook::api
