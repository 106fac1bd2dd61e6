// The configuration's investigate: section reaching the investigation's options.
#include "app/targets.h"

#include <gtest/gtest.h>

#include "core/environment.h"

namespace dbrunbook::app {
namespace {

config::Config Parse(std::string_view yaml) {
  const core::MapEnvironment env;
  auto config = config::ParseConfig(yaml, "dbrunbook.yaml", env);
  if (!config) {
    for (const auto& d : config.error()) ADD_FAILURE() << d.ToString();
    return {};
  }
  return *config;
}

TEST(InvestigateOptionsForTest, WithoutAConfigurationTheDefaultsStand) {
  const steps::InvestigateOptions defaults;
  const steps::InvestigateOptions options = InvestigateOptionsFor(nullptr);
  EXPECT_EQ(options.long_query_seconds, defaults.long_query_seconds);
  EXPECT_EQ(options.replication.lag_warning_seconds, 60);
  EXPECT_EQ(options.resources.fragmented_min_bytes, int64_t{100} << 20);
}

TEST(InvestigateOptionsForTest, EveryKeyReachesItsOption) {
  const config::Config config = Parse(R"(targets: []
investigate:
  long_query: 2m
  idle_transaction: 30s
  unused_index_min_uptime: 1h
  digest_interval: 3s
  step_budget: 5s
  top_tables: 7
  max_tables_for_details: 900
  digest_top: 4
  replication_lag_warning: 30s
  replication_lag_critical: 2m
  applier_transaction: 5s
  fragmented_min_mib: 512
  fragmented_min_percent: 35
  low_cardinality_min_rows: 5000000
  low_cardinality_max_distinct: 4
  max_findings_per_code: 100
)");
  const steps::InvestigateOptions o = InvestigateOptionsFor(&config);
  EXPECT_EQ(o.long_query_seconds, 120);
  EXPECT_EQ(o.idle_transaction_seconds, 30);
  EXPECT_EQ(o.unused_index_min_uptime, std::chrono::hours(1));
  EXPECT_EQ(o.digest_interval, std::chrono::seconds(3));
  EXPECT_EQ(o.step_budget, std::chrono::seconds(5));
  EXPECT_EQ(o.top_tables, 7);
  EXPECT_EQ(o.max_tables_for_details, 900);
  EXPECT_EQ(o.digest_top, 4);
  EXPECT_EQ(o.replication.lag_warning_seconds, 30);
  EXPECT_EQ(o.replication.lag_critical_seconds, 120);
  EXPECT_EQ(o.replication.applier_transaction_seconds, 5);
  EXPECT_EQ(o.resources.fragmented_min_bytes, int64_t{512} << 20);
  EXPECT_DOUBLE_EQ(o.resources.fragmented_min_ratio, 0.35);
  EXPECT_EQ(o.resources.low_cardinality_min_rows, 5'000'000);
  EXPECT_EQ(o.resources.low_cardinality_max_distinct, 4);
  EXPECT_EQ(o.resources.max_findings_per_code, 100u);
}

}  // namespace
}  // namespace dbrunbook::app
