// Scale-up planning (cloud/scale_plan.h): the class ladder, and plans made from recorded
// DescribeDBInstances / DescribeDBClusters answers in ../shared/conformance/aws/responses (an
// RDS MySQL instance with a read replica as moto answers, the AWS documentation's Single-AZ
// instance, one being created, and the API reference's two Aurora clusters). Aurora Serverless
// v2 has no recorded answer: its plans are tested on a cluster value built here (logic only),
// and for real against moto in tests/app/mitigate_scale_cli_test.cc.
#include "cloud/scale_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cloud/rds_api.h"
#include "support/recorded_output.h"

namespace dbrunbook::cloud {
namespace {

using ::testing::HasSubstr;

rds::DBInstance RecordedInstance(const std::string& file) {
  auto body = testing::ReadSharedFile("conformance/aws/responses/" + file);
  EXPECT_TRUE(body) << body.error().ToString();
  auto parsed = rds::ParseDescribeDBInstancesResponse(body.value_or(""));
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_FALSE(parsed->instances.empty());
  return parsed && !parsed->instances.empty() ? parsed->instances.front() : rds::DBInstance{};
}

CloudStatus StatusOf(rds::DBInstance instance) {
  CloudStatus s;
  s.instance = std::move(instance);
  return s;
}

TEST(InstanceClassTest, ParsesClassesAndTheirUnits) {
  auto c = ParseInstanceClass("db.r6g.2xlarge");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->family, "r6g");
  EXPECT_EQ(c->size, "2xlarge");
  EXPECT_EQ(c->units, 16);
  EXPECT_EQ(ParseInstanceClass("db.t3.micro")->units, 0.5);
  EXPECT_EQ(ParseInstanceClass("db.x2iedn.24xlarge")->units, 192);
  EXPECT_EQ(ParseInstanceClass("db.m5d.6xlarge")->units, 48);
  EXPECT_FALSE(ParseInstanceClass("db.serverless"));
  EXPECT_FALSE(ParseInstanceClass("r6g.large"));
  EXPECT_FALSE(ParseInstanceClass("db.r6g.huge"));
  EXPECT_FALSE(ParseInstanceClass("db..large"));
  EXPECT_FALSE(ParseInstanceClass(""));
}

TEST(InstanceClassTest, NextSizeUpFollowsTheLadder) {
  EXPECT_EQ(NextSizeUp("db.r6g.large")->name, "db.r6g.xlarge");
  EXPECT_EQ(NextSizeUp("db.r6g.xlarge")->name, "db.r6g.2xlarge");
  EXPECT_EQ(NextSizeUp("db.r6g.2xlarge")->name, "db.r6g.4xlarge");  // no 3xlarge step
  EXPECT_EQ(NextSizeUp("db.r5.8xlarge")->name, "db.r5.12xlarge");
  EXPECT_EQ(NextSizeUp("db.m5d.6xlarge")->name, "db.m5d.8xlarge");  // off-ladder size
  EXPECT_EQ(NextSizeUp("db.t3.micro")->name, "db.t3.small");
  EXPECT_EQ(NextSizeUp("db.t4g.xlarge")->name, "db.t4g.2xlarge");
  // The burstable classes stop at 2xlarge: the hint names other families.
  auto top = NextSizeUp("db.t3.2xlarge");
  ASSERT_FALSE(top);
  EXPECT_EQ(top.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(top.error().hint, HasSubstr("db.m6g.2xlarge"));
  EXPECT_FALSE(NextSizeUp("db.x2g.48xlarge"));
  auto unknown = NextSizeUp("db.serverless");
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().hint, HasSubstr("--class"));
}

// moto's answer: db.r6g.large, Multi-AZ, one read replica, maintenance window recorded.
TEST(ScalePlanTest, RdsMultiAzInstanceToTheNextSize) {
  CloudStatus status = StatusOf(RecordedInstance("DescribeDBInstances--moto-5.2.1.xml"));
  rds::DBInstance replica;
  replica.db_instance_identifier = "mydb-replica";
  replica.db_instance_class = "db.r6g.large";
  replica.status = "available";
  status.replicas.push_back(replica);

  auto planned = PlanScaleUp(status, ScaleRequest{});
  ASSERT_TRUE(planned) << planned.error().ToString();
  const ScalePlan& p = planned->plan;
  EXPECT_FALSE(planned->already_pending);
  EXPECT_EQ(p.kind, ScaleKind::kInstanceClass);
  EXPECT_EQ(p.resource, "mydb");
  EXPECT_EQ(p.current, "db.r6g.large");
  EXPECT_EQ(p.proposed, "db.r6g.xlarge");
  EXPECT_EQ(p.ratio, 2);
  EXPECT_TRUE(p.apply_immediately);
  EXPECT_EQ(p.maintenance_window, "wed:06:38-wed:07:08");
  EXPECT_EQ(p.instance_request.db_instance_identifier, "mydb");
  EXPECT_EQ(p.instance_request.db_instance_class, "db.r6g.xlarge");
  EXPECT_EQ(p.instance_request.apply_immediately, true);
  EXPECT_EQ(p.api_call,
            "rds:ModifyDBInstance DBInstanceIdentifier=mydb DBInstanceClass=db.r6g.xlarge "
            "ApplyImmediately=true");
  const std::string effects = ::testing::PrintToString(p.effects);
  EXPECT_THAT(effects, HasSubstr("Multi-AZ"));
  EXPECT_THAT(effects, HasSubstr("about 2x the on-demand hourly price"));
  ASSERT_EQ(p.warnings.size(), 1U);
  EXPECT_THAT(p.warnings[0], HasSubstr("read replica mydb-replica stays db.r6g.large"));
}

// The documentation's Single-AZ db.t2.micro, deferred to its maintenance window.
TEST(ScalePlanTest, SingleAzInTheMaintenanceWindow) {
  CloudStatus status =
      StatusOf(RecordedInstance("DescribeDBInstances--aws-doc-sdk-examples--available.xml"));
  ScaleRequest request;
  request.in_maintenance_window = true;
  auto planned = PlanScaleUp(status, request);
  ASSERT_TRUE(planned) << planned.error().ToString();
  const ScalePlan& p = planned->plan;
  EXPECT_EQ(p.proposed, "db.t2.small");
  EXPECT_FALSE(p.apply_immediately);
  EXPECT_EQ(p.instance_request.apply_immediately, false);
  const std::string effects = ::testing::PrintToString(p.effects);
  EXPECT_THAT(effects, HasSubstr("Single-AZ"));
  EXPECT_THAT(effects, HasSubstr("next maintenance window (sun:05:42-sun:06:12 UTC)"));
  EXPECT_THAT(p.api_call, HasSubstr("ApplyImmediately=false"));
}

TEST(ScalePlanTest, AGivenClassMustBeLarger) {
  CloudStatus status = StatusOf(RecordedInstance("DescribeDBInstances--moto-5.2.1.xml"));
  ScaleRequest request;
  request.instance_class = "db.r6g.4xlarge";
  auto big = PlanScaleUp(status, request);
  ASSERT_TRUE(big) << big.error().ToString();
  EXPECT_EQ(big->plan.proposed, "db.r6g.4xlarge");
  EXPECT_EQ(big->plan.ratio, 8);

  request.instance_class = "db.r6g.medium";
  auto smaller = PlanScaleUp(status, request);
  ASSERT_FALSE(smaller);
  EXPECT_EQ(smaller.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(smaller.error().message, HasSubstr("scale-up only grows"));

  request.instance_class = "db.r6g.large";
  EXPECT_FALSE(PlanScaleUp(status, request));  // the class it already has

  request.instance_class = "r6g.xlarge";
  auto malformed = PlanScaleUp(status, request);
  ASSERT_FALSE(malformed);
  EXPECT_THAT(malformed.error().message, HasSubstr("not an instance class"));

  // Another family of the same size is allowed, with a cost note instead of a ratio.
  request.instance_class = "db.m6g.large";
  auto other = PlanScaleUp(status, request);
  ASSERT_TRUE(other) << other.error().ToString();
  EXPECT_THAT(::testing::PrintToString(other->plan.effects), HasSubstr("another family"));

  // Capacity options do not apply to a provisioned instance.
  ScaleRequest capacity;
  capacity.max_capacity = 32;
  EXPECT_FALSE(PlanScaleUp(status, capacity));
}

// The documentation's instance while it is being created: RDS would refuse a modification.
TEST(ScalePlanTest, AnInstanceThatIsNotAvailableIsNotModified) {
  CloudStatus status =
      StatusOf(RecordedInstance("DescribeDBInstances--aws-doc-sdk-examples--creating.xml"));
  auto planned = PlanScaleUp(status, ScaleRequest{});
  ASSERT_FALSE(planned);
  EXPECT_EQ(planned.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(planned.error().message, HasSubstr("'creating'"));
}

TEST(ScalePlanTest, TheSameChangeAlreadyPendingIsNothingToDo) {
  rds::DBInstance instance = RecordedInstance("DescribeDBInstances--moto-5.2.1.xml");
  instance.pending_modified_values.db_instance_class = "db.r6g.xlarge";
  auto planned = PlanScaleUp(StatusOf(instance), ScaleRequest{});
  ASSERT_TRUE(planned);
  EXPECT_TRUE(planned->already_pending);
}

// The API reference's provisioned Aurora clusters: a cluster has no class; the writer is named.
TEST(ScalePlanTest, AProvisionedAuroraClusterNamesItsWriter) {
  auto body = testing::ReadSharedFile(
      "conformance/aws/responses/DescribeDBClusters--aws-api-reference--aurora-two-clusters.xml");
  ASSERT_TRUE(body) << body.error().ToString();
  auto parsed = rds::ParseDescribeDBClustersResponse(*body);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const rds::DBCluster* with_writer = nullptr;
  for (const auto& c : parsed->clusters) {
    if (c.Writer() != nullptr) with_writer = &c;
  }
  ASSERT_NE(with_writer, nullptr);
  CloudStatus status;
  status.cluster = *with_writer;
  auto planned = PlanScaleUp(status, ScaleRequest{});
  ASSERT_FALSE(planned);
  EXPECT_EQ(planned.error().code, core::ErrorCode::kInvalidConfig);
  EXPECT_THAT(planned.error().hint, HasSubstr(with_writer->Writer()->db_instance_identifier));
}

rds::DBCluster ServerlessCluster(double min, double max) {
  rds::DBCluster c;
  c.db_cluster_identifier = "sv2";
  c.engine = "aurora-mysql";
  c.status = "available";
  c.serverless_v2_scaling = rds::ServerlessV2Scaling{min, max};
  return c;
}

TEST(ScalePlanTest, ServerlessV2DoublesTheMaximumUpToTheLimit) {
  CloudStatus status;
  status.cluster = ServerlessCluster(0.5, 16);
  auto planned = PlanScaleUp(status, ScaleRequest{});
  ASSERT_TRUE(planned) << planned.error().ToString();
  const ScalePlan& p = planned->plan;
  EXPECT_EQ(p.kind, ScaleKind::kServerlessCapacity);
  EXPECT_EQ(p.current, "0.5-16 ACU");
  EXPECT_EQ(p.proposed, "0.5-32 ACU");
  EXPECT_EQ(p.ratio, 2);
  EXPECT_EQ(p.cluster_request.serverless_v2_scaling->max_capacity, 32);
  EXPECT_EQ(p.cluster_request.serverless_v2_scaling->min_capacity, 0.5);
  EXPECT_THAT(p.api_call, HasSubstr("MaxCapacity=32"));

  status.cluster = ServerlessCluster(2, 200);
  EXPECT_EQ(PlanScaleUp(status, ScaleRequest{})->plan.proposed, "2-256 ACU");
  status.cluster = ServerlessCluster(2, 256);
  auto at_top = PlanScaleUp(status, ScaleRequest{});
  ASSERT_FALSE(at_top);
  EXPECT_THAT(at_top.error().message, HasSubstr("already at the largest capacity"));
}

TEST(ScalePlanTest, ServerlessV2ExplicitCapacityIsChecked) {
  CloudStatus status;
  status.cluster = ServerlessCluster(1, 16);
  ScaleRequest r;
  r.min_capacity = 4;
  auto floor = PlanScaleUp(status, r);
  ASSERT_TRUE(floor) << floor.error().ToString();
  EXPECT_EQ(floor->plan.proposed, "4-16 ACU");  // only the floor rises
  EXPECT_THAT(::testing::PrintToString(floor->plan.effects), HasSubstr("floor rises to 4 ACU"));

  r = {};
  r.max_capacity = 8;  // smaller
  EXPECT_FALSE(PlanScaleUp(status, r));
  r.max_capacity = 300;  // over the limit
  EXPECT_FALSE(PlanScaleUp(status, r));
  r.max_capacity = 20.25;  // not a half step
  EXPECT_FALSE(PlanScaleUp(status, r));
  r.max_capacity = 32;
  r.min_capacity = 40;  // floor above the ceiling
  EXPECT_FALSE(PlanScaleUp(status, r));
  r = {};
  r.instance_class = "db.r6g.xlarge";  // a class for a serverless cluster
  EXPECT_FALSE(PlanScaleUp(status, r));

  status.cluster->status = "modifying";
  auto busy = PlanScaleUp(status, ScaleRequest{});
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, core::ErrorCode::kUnavailable);
}

TEST(ScalePlanTest, CheckScaledReadsTheStatusAfterTheApply) {
  CloudStatus status = StatusOf(RecordedInstance("DescribeDBInstances--moto-5.2.1.xml"));
  auto planned = PlanScaleUp(status, ScaleRequest{});
  ASSERT_TRUE(planned);
  std::string detail;
  EXPECT_EQ(CheckScaled(planned->plan, status, &detail), ScaleState::kNotApplied);
  EXPECT_THAT(detail, HasSubstr("still db.r6g.large"));

  // RDS's answer while applying: modifying, the new class pending.
  status.instance->status = "modifying";
  status.instance->pending_modified_values.db_instance_class = "db.r6g.xlarge";
  EXPECT_EQ(CheckScaled(planned->plan, status, &detail), ScaleState::kInProgress);
  status.instance->status = "available";
  status.instance->pending_modified_values = {};
  status.instance->db_instance_class = "db.r6g.xlarge";
  EXPECT_EQ(CheckScaled(planned->plan, status, &detail), ScaleState::kDone);

  // Deferred: pending for the window is what was asked.
  ScaleRequest later;
  later.in_maintenance_window = true;
  CloudStatus before = StatusOf(RecordedInstance("DescribeDBInstances--moto-5.2.1.xml"));
  auto deferred = PlanScaleUp(before, later);
  ASSERT_TRUE(deferred);
  before.instance->pending_modified_values.db_instance_class = "db.r6g.xlarge";
  EXPECT_EQ(CheckScaled(deferred->plan, before, &detail), ScaleState::kScheduled);
  EXPECT_THAT(detail, HasSubstr("wed:06:38-wed:07:08"));

  CloudStatus sv2;
  sv2.cluster = ServerlessCluster(0.5, 16);
  auto capacity = PlanScaleUp(sv2, ScaleRequest{});
  ASSERT_TRUE(capacity);
  EXPECT_EQ(CheckScaled(capacity->plan, sv2, &detail), ScaleState::kNotApplied);
  sv2.cluster->serverless_v2_scaling->max_capacity = 32;
  EXPECT_EQ(CheckScaled(capacity->plan, sv2, &detail), ScaleState::kDone);
}

}  // namespace
}  // namespace dbrunbook::cloud
