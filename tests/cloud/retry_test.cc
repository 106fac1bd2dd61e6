// Retry policy: pure decisions on a simulated clock with a scripted random source, and
// SendWithRetry against a real loopback server (still on the simulated clock, so waits are
// instant and exact).
#include "cloud/retry.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/http_test_server.h"

namespace dbrunbook::cloud {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpTestServer;
using testing::ScriptedResponse;

RetryOptions Options(int attempts, core::Duration base, core::Duration cap,
                     core::Duration total = seconds(60)) {
  RetryOptions o;
  o.max_attempts = attempts;
  o.base_delay = base;
  o.max_delay = cap;
  o.max_total = total;
  return o;
}

AttemptOutcome Status(int status) {
  AttemptOutcome o;
  o.http_status = status;
  return o;
}

AttemptOutcome Transport(core::ErrorCode code, bool before_sending = false) {
  AttemptOutcome o;
  o.transport_error = code;
  o.failed_before_sending = before_sending;
  return o;
}

TEST(RetryPolicyTest, BackoffIsFullJitterUnderAnExponentialCeilingCappedAtMaxDelay) {
  core::SimulatedClock clock;
  double u = 0.0;
  RetryPolicy policy(Options(10, milliseconds(100), seconds(1)), clock, [&] { return u; });
  EXPECT_EQ(policy.Backoff(1), core::Duration::zero());  // the "full" in full jitter
  u = 0.5;
  EXPECT_EQ(policy.Backoff(1), milliseconds(50));
  EXPECT_EQ(policy.Backoff(2), milliseconds(100));
  EXPECT_EQ(policy.Backoff(3), milliseconds(200));
  EXPECT_EQ(policy.Backoff(4), milliseconds(400));
  EXPECT_EQ(policy.Backoff(5), milliseconds(500));   // ceiling 1.6 s capped at 1 s
  EXPECT_EQ(policy.Backoff(80), milliseconds(500));  // no overflow however many retries
}

TEST(RetryPolicyTest, DefaultRandomSourceStaysWithinTheCeiling) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(10, milliseconds(100), seconds(1)), clock);
  core::Duration low = seconds(10), high = core::Duration::zero();
  for (int i = 0; i < 2000; ++i) {
    const auto d = policy.Backoff(3);  // ceiling 400 ms
    ASSERT_GE(d, core::Duration::zero());
    ASSERT_LT(d, milliseconds(400));
    low = std::min(low, d);
    high = std::max(high, d);
  }
  // Spread over the whole range, not a constant.
  EXPECT_LT(low, milliseconds(40));
  EXPECT_GT(high, milliseconds(360));
}

TEST(RetryPolicyTest, RetriesThrottlingAndServerErrorsUpToMaxAttempts) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  const auto start = clock.MonotonicNow();
  for (int status : {429, 500, 502, 503, 504}) {
    auto d = policy.Decide(1, start, Idempotency::kIdempotent, Status(status));
    EXPECT_TRUE(d.retry) << status << ": " << d.reason;
    EXPECT_EQ(d.delay, milliseconds(50));
  }
  auto second = policy.Decide(2, start, Idempotency::kIdempotent, Status(503));
  EXPECT_TRUE(second.retry);
  EXPECT_EQ(second.delay, milliseconds(100));
  auto third = policy.Decide(3, start, Idempotency::kIdempotent, Status(503));
  EXPECT_FALSE(third.retry);
  EXPECT_NE(third.reason.find("gave up after 3 attempts"), std::string::npos) << third.reason;
}

TEST(RetryPolicyTest, ClientErrorsAreNotRetriedUnlessThrottled) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  const auto start = clock.MonotonicNow();
  for (int status : {400, 401, 403, 404, 409, 501}) {
    EXPECT_FALSE(policy.Decide(1, start, Idempotency::kIdempotent, Status(status)).retry) << status;
  }
  AttemptOutcome throttled = Status(400);  // AWS sends <Code>Throttling</Code> as a 400
  throttled.throttled = true;
  EXPECT_TRUE(policy.Decide(1, start, Idempotency::kIdempotent, throttled).retry);
}

TEST(RetryPolicyTest, TransportFailuresThatMayHealAreRetried) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  const auto start = clock.MonotonicNow();
  using C = core::ErrorCode;
  for (C code : {C::kTimeout, C::kUnavailable, C::kServerError}) {
    EXPECT_TRUE(policy.Decide(1, start, Idempotency::kIdempotent, Transport(code)).retry);
  }
  for (C code : {C::kTlsError, C::kDnsFailure, C::kInvalidArgument, C::kIo}) {
    EXPECT_FALSE(policy.Decide(1, start, Idempotency::kIdempotent, Transport(code)).retry);
  }
}

TEST(RetryPolicyTest, NonIdempotentRequestsAreRetriedOnlyWhenNeverSent) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  const auto start = clock.MonotonicNow();
  const auto post = Idempotency::kNonIdempotent;
  auto answered = policy.Decide(1, start, post, Status(503));
  EXPECT_FALSE(answered.retry);
  EXPECT_NE(answered.reason.find("not idempotent"), std::string::npos) << answered.reason;
  EXPECT_FALSE(policy.Decide(1, start, post, Transport(core::ErrorCode::kTimeout)).retry);
  EXPECT_FALSE(policy.Decide(1, start, post, Transport(core::ErrorCode::kServerError)).retry);
  EXPECT_TRUE(policy.Decide(1, start, post, Transport(core::ErrorCode::kUnavailable, true)).retry);
}

TEST(RetryPolicyTest, RetryAfterSecondsReplacesTheBackoff) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  AttemptOutcome outcome = Status(429);
  outcome.retry_after = "3";
  auto d = policy.Decide(1, clock.MonotonicNow(), Idempotency::kIdempotent, outcome);
  ASSERT_TRUE(d.retry);
  EXPECT_EQ(d.delay, seconds(3));  // longer than max_delay: the server knows best
  EXPECT_NE(d.reason.find("Retry-After"), std::string::npos);
}

TEST(RetryPolicyTest, RetryAfterHttpDateIsMeasuredFromTheWallClock) {
  // Ten seconds before the date in the header (784111777 is 1994-11-06 08:49:37 UTC).
  core::SimulatedClock clock(core::WallTime(seconds(784111777)) - seconds(10));
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1)), clock, [] { return 0.5; });
  AttemptOutcome outcome = Status(503);
  outcome.retry_after = "Sun, 06 Nov 1994 08:49:37 GMT";
  auto d = policy.Decide(1, clock.MonotonicNow(), Idempotency::kIdempotent, outcome);
  ASSERT_TRUE(d.retry);
  EXPECT_EQ(d.delay, seconds(10));
}

TEST(RetryPolicyTest, RetryAfterBeyondTheTotalBudgetStopsRetrying) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(3, milliseconds(100), seconds(1), seconds(30)), clock,
                     [] { return 0.5; });
  AttemptOutcome outcome = Status(503);
  outcome.retry_after = "120";
  auto d = policy.Decide(1, clock.MonotonicNow(), Idempotency::kIdempotent, outcome);
  EXPECT_FALSE(d.retry);
  EXPECT_NE(d.reason.find("asks to wait 2m"), std::string::npos) << d.reason;
}

TEST(RetryPolicyTest, TotalTimeBoundsRetries) {
  core::SimulatedClock clock;
  RetryPolicy policy(Options(10, seconds(1), seconds(20), seconds(10)), clock, [] { return 0.9; });
  const auto start = clock.MonotonicNow();
  EXPECT_TRUE(policy.Decide(1, start, Idempotency::kIdempotent, Status(503)).retry);
  clock.Advance(milliseconds(9500));
  auto late = policy.Decide(2, start, Idempotency::kIdempotent, Status(503));  // wants 1.8 s
  EXPECT_FALSE(late.retry);
  EXPECT_NE(late.reason.find("retrying for longer than 10"), std::string::npos) << late.reason;
}

TEST(RetryAfterTest, ParsesSecondsAndTheThreeHttpDateForms) {
  const core::WallTime now(seconds(784111777));  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("0", now), core::Duration::zero());
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:37 GMT", now), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:50:37 1994", now), seconds(60));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), core::Duration::zero());
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Sun, 31 Feb 1994 08:00:00 GMT", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

TEST(ThrottlingCodesTest, KnowsAwsThrottlingCodes) {
  for (const char* code :
       {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}) {
    EXPECT_TRUE(IsThrottlingErrorCode(code)) << code;
  }
  EXPECT_FALSE(IsThrottlingErrorCode("InvalidParameterValue"));
  EXPECT_FALSE(IsThrottlingErrorCode("throttling"));  // AWS codes are case-sensitive
}

// SendWithRetry over a real transport and server.
class SendWithRetryTest : public ::testing::Test {
 protected:
  SendWithRetryTest() {
    auto transport = CurlTransport::Create();
    EXPECT_TRUE(transport);
    transport_ = std::move(*transport);
  }
  HttpRequest Request(const std::string& method = "GET", bool idempotent = true) const {
    HttpRequest r;
    r.method = method;
    r.idempotent = idempotent;
    r.url = server_.BaseUrl() + "/";
    return r;
  }

  HttpTestServer server_;
  std::unique_ptr<CurlTransport> transport_;
  core::SimulatedClock clock_;
  RetryPolicy policy_{Options(3, milliseconds(100), seconds(1)), clock_, [] { return 0.5; }};
};

TEST_F(SendWithRetryTest, RetriesServerErrorsThenReturnsTheSuccess) {
  server_.Enqueue(ScriptedResponse::Text(503, "busy"));
  server_.Enqueue(ScriptedResponse::Text(500, "oops"));
  server_.Enqueue(ScriptedResponse::Text(200, "done"));
  const auto start = clock_.MonotonicNow();
  std::vector<std::string> reasons;
  auto response = SendWithRetry(*transport_, Request(), policy_, {},
                                [&](int, const RetryDecision& d) { reasons.push_back(d.reason); });
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(server_.Requests().size(), 3u);
  EXPECT_EQ(clock_.MonotonicNow() - start, milliseconds(50 + 100));
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_NE(reasons[0].find("HTTP 503"), std::string::npos) << reasons[0];
}

TEST_F(SendWithRetryTest, GivesBackTheLastResponseWhenAttemptsRunOut) {
  for (int i = 0; i < 3; ++i) server_.Enqueue(ScriptedResponse::Text(503, "busy"));
  auto response = SendWithRetry(*transport_, Request(), policy_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(server_.Requests().size(), 3u);
}

TEST_F(SendWithRetryTest, HonoursRetryAfter) {
  server_.Enqueue(ScriptedResponse::Text(429, "slow down", {{"Retry-After", "2"}}));
  server_.Enqueue(ScriptedResponse::Text(200, "ok"));
  const auto start = clock_.MonotonicNow();
  auto response = SendWithRetry(*transport_, Request(), policy_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(clock_.MonotonicNow() - start, seconds(2));
}

TEST_F(SendWithRetryTest, ThrottlingCodeInTheBodyIsRetried) {
  server_.Enqueue(ScriptedResponse::Text(400, "<Error><Code>Throttling</Code></Error>"));
  server_.Enqueue(ScriptedResponse::Text(200, "ok"));
  const ThrottleClassifier classify = [](const HttpResponse& r) {
    return r.body.find("<Code>Throttling</Code>") != std::string::npos;
  };
  auto response = SendWithRetry(*transport_, Request(), policy_, classify);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(server_.Requests().size(), 2u);
}

TEST_F(SendWithRetryTest, NonIdempotentRequestIsSentOnceWhenItMayHaveArrived) {
  server_.Enqueue(ScriptedResponse::Text(503, "busy"));
  auto response = SendWithRetry(*transport_, Request("POST", false), policy_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(server_.Requests().size(), 1u);

  ScriptedResponse hang_up;
  hang_up.close_without_answer = true;
  server_.Enqueue(hang_up);
  auto broken = SendWithRetry(*transport_, Request("POST", false), policy_);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, core::ErrorCode::kServerError);
  EXPECT_EQ(server_.Requests().size(), 2u);  // the 503, the hang-up; nothing repeated
}

TEST_F(SendWithRetryTest, NonIdempotentRequestIsRetriedWhenTheConnectionWasRefused) {
  // A port nobody listens on: every attempt fails before sending.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  HttpRequest request = Request("POST", false);
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  int retries = 0;
  auto response = SendWithRetry(*transport_, request, policy_, {},
                                [&](int, const RetryDecision&) { ++retries; });
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(retries, 2);
  EXPECT_NE(response.error().message.find("after 3 attempts"), std::string::npos)
      << response.error().message;
}

TEST_F(SendWithRetryTest, IdempotentRequestIsRetriedAfterAHangUp) {
  ScriptedResponse hang_up;
  hang_up.close_without_answer = true;
  server_.Enqueue(hang_up);
  server_.Enqueue(ScriptedResponse::Text(200, "ok"));
  auto response = SendWithRetry(*transport_, Request(), policy_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "ok");
  EXPECT_EQ(server_.AcceptedConnections(), 2);
}

}  // namespace
}  // namespace dbrunbook::cloud
