// The assessment's cloud checks from what a provider answers (a fake CloudProvider: this is the
// mapping's logic; the real provider against moto is tests/app/cloud_e2e_test.cc).
#include "app/cloud_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace dbrunbook::app {
namespace {

using ::testing::HasSubstr;

class FakeProvider final : public cloud::CloudProvider {
 public:
  core::Result<cloud::CloudStatus> status;
  core::Result<cloud::MetricsReport> metrics;

  core::Result<cloud::CloudStatus> Status(const cloud::CloudResource&) override { return status; }
  core::Result<cloud::MetricsReport> Metrics(const cloud::CloudResource&, std::chrono::seconds,
                                             std::chrono::seconds,
                                             const cloud::CloudStatus*) override {
    return metrics;
  }
  core::Result<cloud::rds::DBInstance> ModifyInstance(
      const cloud::rds::ModifyDBInstanceRequest&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<cloud::rds::DBCluster> ModifyCluster(
      const cloud::rds::ModifyDBClusterRequest&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<std::vector<cloud::rds::Parameter>> DescribeParameters(const std::string&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<std::string> ModifyParameterGroup(
      const cloud::rds::ModifyDBParameterGroupRequest&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<cloud::rds::DBInstance> PromoteReadReplica(
      const cloud::rds::PromoteReadReplicaRequest&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<cloud::rds::DBCluster> FailoverCluster(const std::string&,
                                                      const std::optional<std::string>&) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
  core::Result<cloud::rds::DBInstance> RebootInstance(const std::string&, bool) override {
    return core::MakeError(core::ErrorCode::kUnsupported, "not in this test");
  }
};

cloud::MetricSummary Metric(std::string name, std::string unit, double min, double avg,
                            double max) {
  cloud::MetricSummary m;
  m.name = std::move(name);
  m.unit = std::move(unit);
  m.min = min;
  m.avg = avg;
  m.max = max;
  m.averages = {avg};
  m.timestamps = {core::WallTime{}};
  return m;
}

std::map<std::string, steps::Check> ById(const std::vector<steps::Check>& checks) {
  std::map<std::string, steps::Check> out;
  for (const auto& c : checks) out.emplace(c.id, c);
  return out;
}

TEST(CloudChecksTest, StatusLevels) {
  EXPECT_EQ(CloudStatusLevel("available"), steps::Level::kOk);
  for (const char* s : {"modifying", "backing-up", "maintenance", "upgrading", "creating",
                        "configuring-enhanced-monitoring", "something-new"}) {
    EXPECT_EQ(CloudStatusLevel(s), steps::Level::kWarn) << s;
  }
  for (const char* s : {"rebooting", "failed", "storage-full", "stopped", "failing-over",
                        "incompatible-parameters", "inaccessible-encryption-credentials"}) {
    EXPECT_EQ(CloudStatusLevel(s), steps::Level::kCritical) << s;
  }
}

TEST(CloudChecksTest, AnAuroraReaderWithAStoppedReplicaAndALaggingReader) {
  FakeProvider provider;
  cloud::CloudStatus status;
  status.region = "eu-west-1";
  cloud::rds::DBInstance instance;
  instance.db_instance_identifier = "reader-1";
  instance.status = "available";
  instance.db_instance_class = "db.r6g.large";
  instance.engine = "aurora-mysql";
  instance.db_cluster_identifier = "c1";
  instance.pending_modified_values.db_instance_class = "db.r6g.xlarge";
  status.instance = instance;
  cloud::rds::DBCluster cluster;
  cluster.db_cluster_identifier = "c1";
  cluster.status = "failing-over";
  status.cluster = cluster;  // (no writer while failing over)
  cloud::rds::DBInstance other = instance;
  other.db_instance_identifier = "reader-2";
  other.status = "rebooting";
  status.replicas = {other};
  status.replica_lag_seconds["reader-2"] = 4.5;
  status.notes.push_back("pending maintenance: AWS DescribePendingMaintenanceActions failed");
  provider.status = status;
  cloud::MetricsReport report;
  report.metrics = {Metric("CPUUtilization", "Percent", 40, 75, 99),
                    Metric("FreeableMemory", "Bytes", 100.0 * 1024 * 1024, 2e9, 3e9),
                    Metric("AuroraReplicaLag", "Milliseconds", 10, 20000, 120000)};
  provider.metrics = report;

  CloudCheckSource source(provider, cloud::CloudResource{});
  steps::AssessOptions options;
  options.thresholds["cloud_cpu_percent"] = steps::ThresholdOverride{80, std::nullopt};
  const auto checks = ById(steps::RunCheckSource(source, options));

  EXPECT_EQ(checks.at("cloud_instance_status").level, steps::Level::kOk);
  EXPECT_EQ(checks.at("cloud_cluster_status").level, steps::Level::kCritical);
  EXPECT_THAT(checks.at("cloud_cluster_status").display, HasSubstr("writer none"));
  EXPECT_EQ(checks.at("cloud_replicas").level, steps::Level::kWarn);
  EXPECT_THAT(checks.at("cloud_replicas").detail, HasSubstr("reader-2 rebooting"));
  EXPECT_THAT(checks.at("cloud_replicas").detail, HasSubstr("reader-2 lag 4.5 s"));
  EXPECT_THAT(checks.at("cloud_pending_changes").display, HasSubstr("class db.r6g.xlarge"));
  EXPECT_THAT(checks.at("cloud_pending_changes").display, HasSubstr("maintenance unknown"));
  // avg 75% is under the overridden warn of 80 (the default would warn at 70)
  EXPECT_EQ(checks.at("cloud_cpu_percent").level, steps::Level::kOk);
  EXPECT_EQ(checks.at("cloud_cpu_percent").value, 75);
  // the lowest freeable memory, 100 MiB, is under the critical 128 MiB
  EXPECT_EQ(checks.at("cloud_freeable_memory_bytes").level, steps::Level::kCritical);
  // AuroraReplicaLag is in milliseconds: 120000 ms is 120 s, a warning (>= 60 s)
  EXPECT_EQ(checks.at("cloud_replica_lag_seconds").value, 120);
  EXPECT_EQ(checks.at("cloud_replica_lag_seconds").level, steps::Level::kWarn);
}

TEST(CloudChecksTest, AFailingCloudIsOneUnknownCheck) {
  FakeProvider provider;
  provider.status = core::MakeError(core::ErrorCode::kAccessDenied,
                                    "RDS DescribeDBInstances: AccessDenied", "check the policy");
  provider.metrics = cloud::MetricsReport{};
  CloudCheckSource source(provider, cloud::CloudResource{});
  const auto checks = steps::RunCheckSource(source, steps::AssessOptions{});
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].id, "cloud");
  EXPECT_EQ(checks[0].level, steps::Level::kUnknown);
  EXPECT_THAT(checks[0].detail, HasSubstr("AccessDenied"));
}

TEST(CloudChecksTest, MetricsWithoutDataAreUnknownNotOk) {
  FakeProvider provider;
  cloud::CloudStatus status;
  cloud::rds::DBInstance instance;
  instance.status = "available";
  status.instance = instance;
  provider.status = status;
  cloud::MetricsReport report;
  cloud::MetricSummary empty;
  empty.name = "CPUUtilization";
  empty.unit = "Percent";
  report.metrics = {empty};
  provider.metrics = report;
  CloudCheckSource source(provider, cloud::CloudResource{});
  const auto checks = ById(steps::RunCheckSource(source, steps::AssessOptions{}));
  EXPECT_EQ(checks.at("cloud_cpu_percent").level, steps::Level::kUnknown);
  EXPECT_EQ(checks.at("cloud_cpu_percent").display, "no data");
}

}  // namespace
}  // namespace dbrunbook::app
