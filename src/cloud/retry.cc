#include "cloud/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::cloud {

bool IsThrottlingErrorCode(std::string_view code) {
  // botocore's standard retry mode: these codes mean the request was refused to slow the
  // caller down, whatever HTTP status carried them (often 400).
  static constexpr std::array<std::string_view, 14> kCodes = {
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "TransactionInProgressException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "RequestThrottled",
      "SlowDown",
      "PriorRequestNotComplete",
      "EC2ThrottledException",
  };
  return std::find(kCodes.begin(), kCodes.end(), code) != kCodes.end();
}

namespace {

std::optional<unsigned> MonthOf(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() < 3) return std::nullopt;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (core::EqualsIgnoreCase(name, kMonths[i])) return i + 1;
  }
  return std::nullopt;
}

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c & 0xff) != 0; });
}

// The three HTTP-date forms differ in order and separators but each has one month name, one
// hh:mm:ss, and two numbers that are, in order, the day and the year:
//   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
//   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
//   asctime      Sun Nov  6 08:49:37 1994
std::optional<core::WallTime> ParseHttpDate(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ' || text[i] == ',' || text[i] == '-') {
      if (i > start) tokens.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::optional<unsigned> month;
  std::vector<int64_t> numbers;
  std::optional<std::string_view> time;
  for (std::string_view token : tokens) {
    if (token.find(':') != std::string_view::npos) {
      if (time) return std::nullopt;
      time = token;
    } else if (AllDigits(token)) {
      numbers.push_back(core::ParseInt64(token).value_or(-1));
    } else if (auto m = MonthOf(token); m && token.size() == 3) {
      if (month) return std::nullopt;
      month = m;
    }
    // Anything else is the weekday or "GMT".
  }
  if (!month || !time || numbers.size() != 2) return std::nullopt;
  const auto parts = core::Split(*time, ':');
  if (parts.size() != 3) return std::nullopt;
  const auto hh = core::ParseInt64(parts[0]);
  const auto mm = core::ParseInt64(parts[1]);
  const auto ss = core::ParseInt64(parts[2]);
  if (!hh || !mm || !ss || *hh < 0 || *hh > 23 || *mm < 0 || *mm > 59 || *ss < 0 || *ss > 60) {
    return std::nullopt;
  }
  int64_t year = numbers[1];
  if (year >= 0 && year < 100) year += year < 70 ? 2000 : 1900;  // RFC 850's two-digit years
  const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(year)),
                                         std::chrono::month(*month),
                                         std::chrono::day(static_cast<unsigned>(numbers[0]))};
  if (year < 1970 || year > 9999 || numbers[0] < 1 || !date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) +
         std::chrono::seconds(*ss);
}

}  // namespace

std::optional<core::Duration> ParseRetryAfter(std::string_view value, core::WallTime now) {
  value = core::Trim(value);
  if (AllDigits(value)) {
    const auto seconds = core::ParseUint64(value);
    if (!seconds) return std::nullopt;
    // Clamped so that the conversion cannot overflow; anything this long exceeds every budget.
    return std::chrono::seconds(std::min<uint64_t>(*seconds, uint64_t{1} << 32));
  }
  const auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  return std::max(core::Duration::zero(), std::chrono::duration_cast<core::Duration>(*when - now));
}

RetryPolicy::RetryPolicy(RetryOptions options, core::Clock& clock,
                         std::function<double()> uniform01)
    : options_(options), clock_(clock), uniform01_(std::move(uniform01)) {
  if (!uniform01_) {
    generator_.seed(std::random_device{}());
    uniform01_ = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(generator_); };
  }
}

core::Duration RetryPolicy::Backoff(int retry) {
  // min(cap, base * 2^(retry-1)) by doubling, which cannot overflow once it reaches the cap.
  core::Duration ceiling = options_.base_delay;
  for (int i = 1; i < retry && ceiling < options_.max_delay; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, options_.max_delay);
  const double u = std::clamp(uniform01_(), 0.0, 1.0);
  return std::chrono::duration_cast<core::Duration>(ceiling * u);
}

RetryDecision RetryPolicy::Decide(int attempt, core::MonoTime started, Idempotency idempotency,
                                  const AttemptOutcome& outcome) {
  RetryDecision no;
  std::string what;
  bool retryable = false;
  if (outcome.http_status) {
    const int status = *outcome.http_status;
    what = outcome.throttled && status != 429 ? fmt::format("HTTP {} (throttled)", status)
                                              : fmt::format("HTTP {}", status);
    retryable = outcome.throttled || status == 429 || status == 500 || status == 502 ||
                status == 503 || status == 504;
  } else if (outcome.transport_error) {
    what = std::string(core::ErrorCodeName(*outcome.transport_error));
    retryable = *outcome.transport_error == core::ErrorCode::kTimeout ||
                *outcome.transport_error == core::ErrorCode::kUnavailable ||
                *outcome.transport_error == core::ErrorCode::kServerError;
  } else {
    no.reason = "nothing to retry on";
    return no;
  }
  if (!retryable) {
    no.reason = what + " is not retryable";
    return no;
  }
  if (idempotency == Idempotency::kNonIdempotent && !outcome.failed_before_sending) {
    no.reason = what + "; not retried: the request is not idempotent and may have been received";
    return no;
  }
  if (attempt >= options_.max_attempts) {
    no.reason = fmt::format("{}; gave up after {} attempts", what, attempt);
    return no;
  }
  const core::Duration elapsed = clock_.MonotonicNow() - started;
  const core::Duration remaining = options_.max_total - elapsed;
  core::Duration delay;
  std::string why_delay;
  std::optional<core::Duration> retry_after;
  if (outcome.retry_after) retry_after = ParseRetryAfter(*outcome.retry_after, clock_.WallNow());
  if (retry_after) {
    delay = *retry_after;
    why_delay = " (Retry-After)";
    if (delay > remaining) {
      no.reason = fmt::format("{}; the server asks to wait {}, longer than the {} left to retry",
                              what, core::FormatDuration(delay),
                              core::FormatDuration(std::max(remaining, core::Duration::zero())));
      return no;
    }
  } else {
    delay = Backoff(attempt);
    if (delay > remaining) {
      no.reason = fmt::format("{}; gave up: retrying for longer than {}", what,
                              core::FormatDuration(options_.max_total));
      return no;
    }
  }
  RetryDecision yes;
  yes.retry = true;
  yes.delay = delay;
  yes.reason = fmt::format("{}; retry {} of {} in {}{}", what, attempt, options_.max_attempts - 1,
                           core::FormatDuration(delay), why_delay);
  return yes;
}

core::Result<HttpResponse> SendWithRetry(
    HttpTransport& transport, const HttpRequest& request, RetryPolicy& policy,
    const ThrottleClassifier& is_throttled,
    const std::function<void(int attempt, const RetryDecision&)>& on_retry) {
  const core::MonoTime started = policy.clock().MonotonicNow();
  const Idempotency idempotency =
      request.idempotent ? Idempotency::kIdempotent : Idempotency::kNonIdempotent;
  for (int attempt = 1;; ++attempt) {
    core::Result<HttpResponse> result = transport.Send(request);
    AttemptOutcome outcome;
    if (result) {
      if (result->status < 400) return result;
      outcome.http_status = result->status;
      outcome.throttled = is_throttled && is_throttled(*result);
      outcome.retry_after = result->Header("Retry-After");
    } else {
      outcome.transport_error = result.error().code;
      outcome.failed_before_sending = FailedBeforeSending(result.error());
    }
    const RetryDecision decision = policy.Decide(attempt, started, idempotency, outcome);
    if (!decision.retry) {
      if (!result && attempt > 1) {
        core::Error error = result.error();
        error.message += fmt::format(" (after {} attempts)", attempt);
        return core::Fail(std::move(error));
      }
      return result;
    }
    if (on_retry) on_retry(attempt, decision);
    policy.clock().SleepFor(decision.delay);
  }
}

}  // namespace dbrunbook::cloud
