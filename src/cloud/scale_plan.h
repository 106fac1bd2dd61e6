// Scale-up of an RDS instance or an Aurora cluster, planned from what the cloud says (pure:
// no API call here; app/mitigate_scale_command.cc asks, plans, applies and verifies).
//
// Three forms, chosen from the status:
//   * an instance with a provisioned class (RDS, or an Aurora instance): ModifyDBInstance to a
//     larger class — the next size up in the same family by default ("db.r6g.large" ->
//     "db.r6g.xlarge"), or the one given;
//   * an Aurora Serverless v2 cluster (ServerlessV2ScalingConfiguration, writer db.serverless):
//     ModifyDBCluster raising MaxCapacity (doubled by default, at most 256 ACU) and, when
//     asked, MinCapacity.
//   * an Aurora provisioned cluster named without an instance: refused, naming the writer to
//     configure instead (a cluster has no class of its own).
//
// Sizes and cost: RDS prices the sizes of a family in proportion to their normalized units
// (large 4, xlarge 8, 2xlarge 16, ... — AWS's size-flexibility table), so the ratio of units is
// the ratio of on-demand hourly prices within a family. Across families it is not, and the
// plan says so. Which classes an engine offers is not checked here (DescribeOrderable... is not
// used): RDS refuses a class it does not offer, and that refusal is the apply's error.
//
// Guardrails: scale-up only grows (a smaller class is refused); an instance that is not
// "available" is not modified (RDS takes one modification at a time); the same change already
// pending is "nothing to do".
//
// Thread-safety: plain functions on values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/provider.h"
#include "cloud/rds_api.h"
#include "core/error.h"

namespace dbrunbook::cloud {

// The largest Aurora Serverless v2 capacity recent engine versions accept (older: 128; RDS
// refuses more than the version allows).
inline constexpr double kMaxServerlessV2Capacity = 256;

// "db.r6g.2xlarge": family "r6g", size "2xlarge", 16 normalized units.
struct InstanceClass {
  std::string name;
  std::string family;
  std::string size;
  double units = 0;
};
// nullopt for anything but db.<family>.<size> with a known size (micro ... 48xlarge, metal is
// not a scale target) and for db.serverless.
std::optional<InstanceClass> ParseInstanceClass(std::string_view name);

// The next size up in the same family, from RDS's usual ladder (micro, small, medium, large,
// xlarge, 2xlarge, 4xlarge, 8xlarge, 12xlarge, 16xlarge, 24xlarge, 32xlarge, 48xlarge; the
// burstable t families stop at 2xlarge). kInvalidArgument (with a hint to give --class) for an
// unknown class or the top of the ladder.
core::Result<InstanceClass> NextSizeUp(std::string_view instance_class);

struct ScaleRequest {
  std::optional<std::string> instance_class;  // --class: this class instead of the next size
  std::optional<double> min_capacity;         // --min-capacity (ACU, Serverless v2)
  std::optional<double> max_capacity;         // --max-capacity (ACU, Serverless v2)
  bool in_maintenance_window = false;         // else ApplyImmediately
};

enum class ScaleKind { kInstanceClass, kServerlessCapacity };

struct ScalePlan {
  ScaleKind kind = ScaleKind::kInstanceClass;
  std::string resource;  // the instance or cluster identifier
  std::string engine;
  std::string current;   // "db.r6g.large", or "0.5-16 ACU"
  std::string proposed;  // "db.r6g.xlarge", or "0.5-32 ACU"
  // Proposed over current: normalized units (class), or maximum capacity (Serverless v2).
  double ratio = 1;
  bool apply_immediately = true;
  std::string maintenance_window;  // the instance's PreferredMaintenanceWindow, when known
  // The call, as `aws rds ...` would spell it, for the plan and the audit log.
  std::string api_call;
  std::vector<std::string> effects;   // downtime, cost, what is not scaled
  std::vector<std::string> warnings;  // worth a second look before --apply
  // The request to send (kind says which).
  rds::ModifyDBInstanceRequest instance_request;
  rds::ModifyDBClusterRequest cluster_request;
  rds::ServerlessV2Scaling new_capacity;  // kServerlessCapacity
  std::string new_class;                  // kInstanceClass
};

// Plans from `status` (the target's instance and/or cluster). Errors: kInvalidArgument for a
// request that does not grow anything or is out of range; kInvalidConfig when the status has
// nothing to scale (a provisioned cluster without an instance: the hint names the writer);
// kUnavailable when the instance or cluster is not "available" (the message gives its status).
// A plan whose change is already pending has `already_pending` set.
struct PlanResult {
  ScalePlan plan;
  bool already_pending = false;  // the same class is already scheduled: nothing to do
};
core::Result<PlanResult> PlanScaleUp(const CloudStatus& status, const ScaleRequest& request);

enum class ScaleState {
  kDone,        // in place and available
  kScheduled,   // pending for the maintenance window (what was asked)
  kInProgress,  // RDS is applying it (modifying)
  kNotApplied,  // no trace of the change
};
std::string_view ScaleStateName(ScaleState state);  // done, scheduled, in_progress, not_applied

// What `status` (read after the apply) says about `plan`; `detail` says it in words.
ScaleState CheckScaled(const ScalePlan& plan, const CloudStatus& status, std::string* detail);

}  // namespace dbrunbook::cloud
