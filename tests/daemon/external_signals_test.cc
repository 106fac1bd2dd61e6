// The external signals' sources add up: the log tailer's count and each pushed source's, each
// with its own freshness.
#include "daemon/external_signals.h"

#include <gtest/gtest.h>

#include <chrono>

namespace dbrunbook::daemon {
namespace {

using std::chrono::seconds;

const core::WallTime kT0 = core::WallTime(std::chrono::hours(24 * 365 * 56));

TEST(ExternalSignalsTest, SourcesAddUpInsteadOfReplacingEachOther) {
  ExternalSignals signals(std::chrono::minutes(2));
  signals.Set("db", "app_errors_per_min", "app_logs", 5, kT0);
  signals.Set("db", "app_errors_per_min", "api:orders-api", 7, kT0 + seconds(1));
  signals.Set("db", "app_errors_per_min", "api:billing", 1, kT0 + seconds(2));
  auto fresh = signals.Fresh("db", kT0 + seconds(3));
  ASSERT_EQ(fresh.count("app_errors_per_min"), 1U);
  EXPECT_DOUBLE_EQ(fresh["app_errors_per_min"], 13);
  // A source's new value replaces its own old one only.
  signals.Set("db", "app_errors_per_min", "app_logs", 0, kT0 + seconds(4));
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(5))["app_errors_per_min"], 8);
  // Other targets are apart.
  EXPECT_TRUE(signals.Fresh("db2", kT0 + seconds(5)).empty());
}

TEST(ExternalSignalsTest, EachSourceAgesOnItsOwn) {
  ExternalSignals signals(std::chrono::minutes(2));
  signals.Set("db", "app_errors_per_min", "api:orders-api", 7, kT0);
  signals.Set("db", "app_errors_per_min", "app_logs", 2, kT0 + seconds(100));
  // At 2 min the pushed value is exactly the TTL old: still counted; a second later it is not.
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(120))["app_errors_per_min"], 9);
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(121))["app_errors_per_min"], 2);
  // Dropped for good: a later read does not bring it back.
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(122))["app_errors_per_min"], 2);
  // When no source is fresh the signal is absent (not 0): the trigger sees no data.
  EXPECT_TRUE(signals.Fresh("db", kT0 + seconds(300)).empty());
}

TEST(ExternalSignalsTest, AnOlderValueOfASourceNeverReplacesItsNewerOne) {
  ExternalSignals signals(std::chrono::minutes(2));
  signals.Set("db", "app_errors_per_min", "api:orders-api", 7, kT0 + seconds(10));
  signals.Set("db", "app_errors_per_min", "api:orders-api", 99, kT0 + seconds(5));
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(11))["app_errors_per_min"], 7);
}

TEST(ExternalSignalsTest, SourcesPerSignalAreBoundedTheStalestGoesFirst) {
  ExternalSignals signals(std::chrono::hours(1));
  for (size_t i = 0; i < ExternalSignals::kMaxSources; ++i) {
    signals.Set("db", "app_errors_per_min", "api:s" + std::to_string(i), 1,
                kT0 + seconds(static_cast<int64_t>(i)));
  }
  signals.Set("db", "app_errors_per_min", "api:new", 100, kT0 + seconds(1000));
  // s0 (the stalest) went; the 63 others and the new one remain.
  EXPECT_DOUBLE_EQ(signals.Fresh("db", kT0 + seconds(1001))["app_errors_per_min"],
                   static_cast<double>(ExternalSignals::kMaxSources - 1) + 100);
}

}  // namespace
}  // namespace dbrunbook::daemon
