// When and how long to wait before repeating a cloud API request.
//
// Exponential backoff with full jitter (the delay before retry n is uniform in
// [0, min(max_delay, base_delay * 2^(n-1)))), bounded by a number of attempts and by a total
// time, honouring a server's Retry-After. Retried: HTTP 429 and throttling error codes,
// 500/502/503/504, and transport timeouts and broken connections. A request that is not
// idempotent is repeated only when the failure certainly happened before it was sent
// (`FailedBeforeSending`): repeating a half-delivered "reboot" or "failover" could do it twice.
//
// Thread-safety: a `RetryPolicy` holds a random generator; use one per thread (or per request).
// The clock must outlive the policy.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "cloud/http.h"
#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud {

struct RetryOptions {
  int max_attempts = 3;  // including the first; 1 disables retries
  core::Duration base_delay = std::chrono::milliseconds(500);
  core::Duration max_delay = std::chrono::seconds(20);  // cap of one backoff
  // No retry starts after this much time since the first attempt began, and no wait (backoff or
  // Retry-After) may cross it.
  core::Duration max_total = std::chrono::seconds(60);
};

enum class Idempotency { kIdempotent, kNonIdempotent };

// What one failed attempt produced, as classified by the caller.
struct AttemptOutcome {
  std::optional<int> http_status;                  // set when a response arrived
  std::optional<core::ErrorCode> transport_error;  // set when none did
  // The caller's word that the request never left this machine (see FailedBeforeSending).
  bool failed_before_sending = false;
  // The caller recognised a throttling error code in the response (IsThrottlingErrorCode).
  bool throttled = false;
  std::optional<std::string> retry_after;  // the Retry-After header, verbatim
};

struct RetryDecision {
  bool retry = false;
  core::Duration delay{};
  std::string reason;  // for logs: "HTTP 503; retry 2 of 3 in 740ms", "not idempotent"
};

// AWS error codes that mean "slow down" (botocore's standard retry mode list).
bool IsThrottlingErrorCode(std::string_view code);

// Retry-After as a delay from `now`: delta-seconds ("120") or an HTTP-date in any of the three
// RFC 9110 forms (IMF-fixdate, RFC 850, asctime). A date in the past is zero. Nullopt when the
// value is neither.
std::optional<core::Duration> ParseRetryAfter(std::string_view value, core::WallTime now);

class RetryPolicy {
 public:
  // `uniform01` returns numbers in [0, 1); by default a generator seeded from random_device.
  RetryPolicy(RetryOptions options, core::Clock& clock, std::function<double()> uniform01 = {});
  // Not copyable: the default random source refers to this object's generator.
  RetryPolicy(const RetryPolicy&) = delete;
  RetryPolicy& operator=(const RetryPolicy&) = delete;

  const RetryOptions& options() const { return options_; }
  core::Clock& clock() const { return clock_; }

  // The full-jitter backoff before retry number `retry` (1 = the first retry).
  core::Duration Backoff(int retry);

  // After attempt number `attempt` (1-based) of an operation that began at `started`
  // (monotonic) failed with `outcome`: retry or not, and after how long.
  RetryDecision Decide(int attempt, core::MonoTime started, Idempotency idempotency,
                       const AttemptOutcome& outcome);

 private:
  RetryOptions options_;
  core::Clock& clock_;
  std::function<double()> uniform01_;
  std::mt19937_64 generator_;
};

// Classifies a response the caller may want retried beyond its status code: returns true when
// the body carries a throttling error code (e.g. parsed <Code>Throttling</Code>).
using ThrottleClassifier = std::function<bool(const HttpResponse&)>;

// Sends `request`, retrying as `policy` decides (with `request.idempotent` as the request's
// idempotency) and sleeping on the policy's clock between attempts. Returns the last response when
// one arrived (even a 503: the caller turns statuses into errors), else the last transport error,
// with "after N attempts" added when it retried. `on_retry`, when set, is told each decision to
// retry (for logging and metrics).
core::Result<HttpResponse> SendWithRetry(
    HttpTransport& transport, const HttpRequest& request, RetryPolicy& policy,
    const ThrottleClassifier& is_throttled = {},
    const std::function<void(int attempt, const RetryDecision&)>& on_retry = {});

}  // namespace dbrunbook::cloud
