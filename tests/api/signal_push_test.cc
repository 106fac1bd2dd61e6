#include "api/signal_push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/duration.h"

namespace dbrunbook::api {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kTargets = {"orders-primary", "orders-replica"};

TEST(SignalPush, TheTwoShapes) {
  auto single = ParseSignalPush(
      R"({"target":"orders-primary","signals":{"app_errors_per_min":12},"at":"2026-11-27T06:35:11Z"})",
      kTargets);
  ASSERT_TRUE(single) << single.error().ToString();
  ASSERT_EQ(single->size(), 1u);
  EXPECT_EQ((*single)[0].target, "orders-primary");
  EXPECT_EQ((*single)[0].signal, "app_errors_per_min");
  EXPECT_EQ((*single)[0].value, 12);
  ASSERT_TRUE((*single)[0].at.has_value());
  EXPECT_EQ(core::FormatRfc3339(*(*single)[0].at), "2026-11-27T06:35:11.000Z");

  auto samples = ParseSignalPush(
      R"({"samples":[{"target":"orders-primary","signal":"app_errors_per_min","value":3},
                     {"target":"orders-replica","signal":"app_errors_per_min","value":0.5,
                      "at":"2026-11-27T07:35:11.5+01:00"}]})",
      kTargets);
  ASSERT_TRUE(samples) << samples.error().ToString();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_FALSE((*samples)[0].at.has_value());
  EXPECT_EQ((*samples)[1].target, "orders-replica");
  EXPECT_EQ((*samples)[1].value, 0.5);
  EXPECT_EQ(core::FormatRfc3339(*(*samples)[1].at), "2026-11-27T06:35:11.500Z");
}

TEST(SignalPush, ASourceNamesWhoPushes) {
  auto single = ParseSignalPush(
      R"({"target":"orders-primary","source":"orders-api","signals":{"app_errors_per_min":4}})",
      kTargets);
  ASSERT_TRUE(single) << single.error().ToString();
  EXPECT_EQ((*single)[0].source, "orders-api");
  auto samples = ParseSignalPush(
      R"({"samples":[{"target":"orders-primary","signal":"app_errors_per_min","value":3,
                      "source":"billing/worker-7"},
                     {"target":"orders-primary","signal":"app_errors_per_min","value":1}]})",
      kTargets);
  ASSERT_TRUE(samples) << samples.error().ToString();
  EXPECT_EQ((*samples)[0].source, "billing/worker-7");
  EXPECT_EQ((*samples)[1].source, "default") << "no source: the default one";
  for (const std::string bad : {R"("")", R"("has space")", "12", R"("x\n")"}) {
    auto refused = ParseSignalPush(
        R"({"target":"orders-primary","source":)" + bad + R"(,"signals":{"app_errors_per_min":1}})",
        kTargets);
    ASSERT_FALSE(refused) << bad;
    EXPECT_THAT(refused.error().message, HasSubstr("source")) << bad;
  }
}

TEST(SignalPush, PushableSignalsAreTheExternalOnes) {
  const auto pushable = PushableSignals();
  EXPECT_THAT(pushable, ::testing::Contains("app_errors_per_min"));
  EXPECT_THAT(pushable, ::testing::Not(::testing::Contains("threads_running")));
}

struct BadCase {
  std::string body;
  std::string message;
};

TEST(SignalPush, BadBodiesNameThePathAndWhatToDo) {
  const std::vector<BadCase> cases = {
      {"7", "signals body: expected a JSON object, found a number"},
      {R"({"target":"orders-primry","signals":{"app_errors_per_min":1}})",
       "target: unknown target \"orders-primry\" (did you mean \"orders-primary\"?)"},
      {R"({"target":"orders-primary","signals":{"threads_running":40}})",
       "signals.threads_running: \"threads_running\" is read by dbrunbook itself (fast cadence) "
       "and cannot be pushed"},
      {R"({"target":"orders-primary","signals":{"app_error_per_min":1}})",
       "signals.app_error_per_min: unknown signal \"app_error_per_min\" (did you mean "
       "\"app_errors_per_min\"?)"},
      {R"({"target":"orders-primary","signals":{"app_errors_per_min":"12"}})",
       "signals.app_errors_per_min: expected a number, found \"12\""},
      {R"({"target":"orders-primary","signals":{"app_errors_per_min":-1}})",
       "signals.app_errors_per_min: -1 is negative; pushed signals are counts and rates"},
      {R"({"target":"orders-primary","signals":{"app_errors_per_min":1e999}})",
       "signals body is not valid JSON: number overflow parsing '1e999'"},
      {R"({"target":"orders-primary","signals":{}})", "signals: empty"},
      {R"({"target":"orders-primary"})", "signals: missing"},
      {R"({"target":"orders-primary","signal":{"app_errors_per_min":1}})",
       "signal: unknown key (did you mean \"signals\"?)"},
      {R"({"target":"orders-primary","signals":{"app_errors_per_min":1},"at":"now"})",
       "at: expected an RFC 3339 time such as \"2026-11-27T06:35:11Z\", found \"now\""},
      {R"({"samples":[{"target":"orders-primary","signal":"app_errors_per_min"}]})",
       "samples[0].value: missing"},
      {R"({"samples":[{"target":"orders-primary","signal":"app_errors_per_min","value":1},
                      {"target":"orders-primary","signal":"cpu_percent","value":1}]})",
       "samples[1].signal: \"cpu_percent\" is read by dbrunbook itself (cloud cadence) and "
       "cannot be pushed"},
      {R"({"samples":[], "target":"orders-primary"})",
       "samples: give either \"samples\" or \"target\" with \"signals\", not both"},
      {R"({"samples":{}})", "samples: expected an array, found an object {}"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseSignalPush(c.body, kTargets);
    ASSERT_FALSE(parsed) << c.body;
    EXPECT_EQ(parsed.error().message, c.message) << c.body;
    EXPECT_FALSE(parsed.error().hint.empty()) << c.body;
  }
  auto server_signal =
      ParseSignalPush(R"({"target":"orders-primary","signals":{"threads_running":40}})", kTargets);
  ASSERT_FALSE(server_signal);
  EXPECT_THAT(server_signal.error().hint, HasSubstr("app_errors_per_min"));
}

TEST(SignalPush, AtMostAThousandSamples) {
  const auto body = [](int n) {
    std::string out = R"({"samples":[)";
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += ",";
      out += R"({"target":"orders-primary","signal":"app_errors_per_min","value":1})";
    }
    return out + "]}";
  };
  auto ok = ParseSignalPush(body(1000), kTargets);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->size(), 1000u);
  auto too_many = ParseSignalPush(body(1001), kTargets);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().message, "samples: 1001 samples; at most 1000 per request");
}

}  // namespace
}  // namespace dbrunbook::api
