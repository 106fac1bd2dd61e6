#include "cloud/scale_plan.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <utility>

#include "core/strings.h"

namespace dbrunbook::cloud {
namespace {

struct Size {
  std::string_view name;
  double units;
};

// AWS's normalization factors (size flexibility); the order is the ladder of sizes RDS offers.
constexpr std::array<Size, 13> kLadder = {{{"micro", 0.5},
                                           {"small", 1},
                                           {"medium", 2},
                                           {"large", 4},
                                           {"xlarge", 8},
                                           {"2xlarge", 16},
                                           {"4xlarge", 32},
                                           {"8xlarge", 64},
                                           {"12xlarge", 96},
                                           {"16xlarge", 128},
                                           {"24xlarge", 192},
                                           {"32xlarge", 256},
                                           {"48xlarge", 384}}};

// Sizes not on the ladder but that some families have (x2iedn.3xlarge, m5d.6xlarge...): known
// units, so a class of that size can be scaled from.
constexpr std::array<Size, 4> kOtherSizes = {
    {{"3xlarge", 24}, {"6xlarge", 48}, {"9xlarge", 72}, {"18xlarge", 144}}};

// 0.5, 16, 1.5: ACUs and unit counts as people write them.
std::string Num(double x) { return fmt::format("{:g}", x); }

bool Burstable(std::string_view family) { return !family.empty() && family.front() == 't'; }

std::string Capacity(const rds::ServerlessV2Scaling& s) {
  return fmt::format("{}-{} ACU", Num(s.min_capacity.value_or(0)), Num(s.max_capacity.value_or(0)));
}

bool HalfStep(double acu) { return std::fabs(acu * 2 - std::round(acu * 2)) < 1e-9; }

tl::unexpected<core::Error> Invalid(std::string message, std::string hint) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message), std::move(hint));
}

std::string Ratio(double r) { return fmt::format("{}x", Num(r)); }

core::Result<PlanResult> PlanCapacity(const rds::DBCluster& cluster, const ScaleRequest& request) {
  const rds::ServerlessV2Scaling now = *cluster.serverless_v2_scaling;
  if (!now.max_capacity) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("cluster {} reports no Serverless v2 MaxCapacity",
                                       cluster.db_cluster_identifier));
  }
  if (request.instance_class) {
    return Invalid(fmt::format("cluster {} is Aurora Serverless v2: its capacity is scaled in "
                               "ACUs, not by class",
                               cluster.db_cluster_identifier),
                   "use --max-capacity (and --min-capacity) instead of --class");
  }
  rds::ServerlessV2Scaling next = now;
  if (request.max_capacity) {
    next.max_capacity = *request.max_capacity;
  } else if (!request.min_capacity) {
    next.max_capacity = std::min(*now.max_capacity * 2, kMaxServerlessV2Capacity);
  }
  if (request.min_capacity) next.min_capacity = *request.min_capacity;
  const double max = *next.max_capacity;
  const double min = next.min_capacity.value_or(0);
  if (!HalfStep(max) || !HalfStep(min) || min < 0 || max < 1 || max > kMaxServerlessV2Capacity) {
    return Invalid(fmt::format("capacity {} is not valid for Aurora Serverless v2", Capacity(next)),
                   fmt::format("ACUs go in steps of 0.5; MaxCapacity from 1 to {} (128 on older "
                               "engine versions), MinCapacity from 0 or 0.5 up to MaxCapacity",
                               Num(kMaxServerlessV2Capacity)));
  }
  if (min > max) {
    return Invalid(fmt::format("MinCapacity {} is above MaxCapacity {}", Num(min), Num(max)),
                   "raise --max-capacity too");
  }
  const bool grows = max > *now.max_capacity || min > now.min_capacity.value_or(0);
  if (max < *now.max_capacity || min < now.min_capacity.value_or(0) || !grows) {
    if (!request.max_capacity && !request.min_capacity) {
      return Invalid(fmt::format("cluster {} is already at the largest capacity Aurora Serverless "
                                 "v2 allows ({})",
                                 cluster.db_cluster_identifier, Capacity(now)),
                     "add a reader, or move the load elsewhere");
    }
    return Invalid(fmt::format("{} is not a scale-up of {}: scale-up only grows the capacity",
                               Capacity(next), Capacity(now)),
                   "give a larger --max-capacity or --min-capacity");
  }

  PlanResult out;
  ScalePlan& p = out.plan;
  p.kind = ScaleKind::kServerlessCapacity;
  p.resource = cluster.db_cluster_identifier;
  p.engine = cluster.engine;
  p.current = Capacity(now);
  p.proposed = Capacity(next);
  p.ratio = max / *now.max_capacity;
  p.apply_immediately = true;
  p.new_capacity = next;
  p.cluster_request.db_cluster_identifier = cluster.db_cluster_identifier;
  p.cluster_request.apply_immediately = true;
  p.cluster_request.serverless_v2_scaling = next;
  p.api_call = fmt::format(
      "rds:ModifyDBCluster DBClusterIdentifier={} "
      "rds::ServerlessV2ScalingConfiguration={{MinCapacity={},MaxCapacity={}}} "
      "ApplyImmediately=true",
      cluster.db_cluster_identifier, Num(min), Num(max));
  p.effects.push_back(
      "Aurora changes the capacity range without a restart; each Serverless v2 instance of the "
      "cluster may then scale up to the new maximum on its own");
  p.effects.push_back(fmt::format(
      "cost: the ceiling grows {} (at most {} ACU-hours per hour per instance instead of {}); "
      "what is billed is the capacity actually used",
      Ratio(p.ratio), Num(max), Num(*now.max_capacity)));
  if (min > now.min_capacity.value_or(0)) {
    p.effects.push_back(fmt::format(
        "the floor rises to {} ACU: each instance is billed at least that much, even idle",
        Num(min)));
  }
  if (request.in_maintenance_window) {
    p.warnings.push_back(
        "--in-maintenance-window is ignored: a Serverless v2 capacity range is applied at once");
  }
  return out;
}

}  // namespace

std::optional<InstanceClass> ParseInstanceClass(std::string_view name) {
  const std::vector<std::string_view> parts = core::Split(name, '.');
  if (parts.size() != 3 || parts[0] != "db" || parts[1].empty() || parts[2].empty()) {
    return std::nullopt;
  }
  for (const Size& s : kLadder) {
    if (s.name == parts[2]) {
      return InstanceClass{std::string(name), std::string(parts[1]), std::string(parts[2]),
                           s.units};
    }
  }
  for (const Size& s : kOtherSizes) {
    if (s.name == parts[2]) {
      return InstanceClass{std::string(name), std::string(parts[1]), std::string(parts[2]),
                           s.units};
    }
  }
  return std::nullopt;
}

core::Result<InstanceClass> NextSizeUp(std::string_view instance_class) {
  const auto current = ParseInstanceClass(instance_class);
  if (!current) {
    return Invalid(fmt::format("'{}' is not an instance class dbrunbook can size "
                               "(db.<family>.<size>, e.g. db.r6g.large)",
                               instance_class),
                   "give the class to scale to with --class");
  }
  for (const Size& s : kLadder) {
    if (s.units <= current->units) continue;
    if (Burstable(current->family) && s.units > 16) break;
    return InstanceClass{fmt::format("db.{}.{}", current->family, s.name), current->family,
                         std::string(s.name), s.units};
  }
  return Invalid(
      fmt::format("{} is the largest size of its family dbrunbook knows", instance_class),
      Burstable(current->family)
          ? "the burstable t classes stop at 2xlarge: give --class in another family, e.g. "
            "db.m6g.2xlarge or db.r6g.2xlarge"
          : "give --class in a larger family, or add a read replica for the reads");
}

core::Result<PlanResult> PlanScaleUp(const CloudStatus& status, const ScaleRequest& request) {
  const rds::DBInstance* instance = status.instance ? &*status.instance : nullptr;
  const rds::DBCluster* cluster = status.cluster ? &*status.cluster : nullptr;
  const bool serverless_instance =
      instance != nullptr && instance->db_instance_class == "db.serverless";

  if (cluster != nullptr && (instance == nullptr || serverless_instance)) {
    if (cluster->status != "available") {
      return core::MakeError(
          core::ErrorCode::kUnavailable,
          fmt::format("cluster {} is '{}', not available: RDS takes one change at a time",
                      cluster->db_cluster_identifier, cluster->status),
          "wait until `dbrunbook cloud status` shows it available, then plan again");
    }
    if (cluster->serverless_v2_scaling) return PlanCapacity(*cluster, request);
    if (serverless_instance) {
      return core::MakeError(
          core::ErrorCode::kParse,
          fmt::format("instance {} is db.serverless but cluster {} reports no "
                      "Serverless v2 scaling configuration",
                      instance->db_instance_identifier, cluster->db_cluster_identifier));
    }
    const rds::DBClusterMember* writer = cluster->Writer();
    return core::MakeError(
        core::ErrorCode::kInvalidConfig,
        fmt::format("cluster {} is provisioned: its instances have classes, the cluster none",
                    cluster->db_cluster_identifier),
        writer != nullptr
            ? fmt::format("add db_instance_identifier: {} (the writer) or a reader's id to the "
                          "target's cloud: section",
                          writer->db_instance_identifier)
            : "add the instance to scale as db_instance_identifier in the target's cloud: section");
  }
  if (instance == nullptr) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           "the cloud status has no instance or cluster to scale",
                           "set cloud.db_instance_identifier for the target");
  }
  if (request.min_capacity || request.max_capacity) {
    return Invalid(fmt::format("instance {} is {}, not Aurora Serverless v2: it is scaled by class",
                               instance->db_instance_identifier, instance->db_instance_class),
                   "use --class (or nothing, for the next size up)");
  }
  const auto current = ParseInstanceClass(instance->db_instance_class);
  core::Result<InstanceClass> next = request.instance_class
                                         ? core::Result<InstanceClass>(InstanceClass{})
                                         : NextSizeUp(instance->db_instance_class);
  if (!next) return core::Fail(next.error());
  if (request.instance_class) {
    auto given = ParseInstanceClass(*request.instance_class);
    if (!given) {
      return Invalid(fmt::format("--class '{}' is not an instance class (db.<family>.<size>, "
                                 "e.g. db.r6g.xlarge)",
                                 *request.instance_class),
                     "see the instance classes your engine offers in the RDS console");
    }
    if (*request.instance_class == instance->db_instance_class) {
      return Invalid(fmt::format("instance {} already is {}", instance->db_instance_identifier,
                                 instance->db_instance_class),
                     "give a larger class, or leave --class out for the next size up");
    }
    if (current && given->units < current->units) {
      return Invalid(fmt::format("{} is smaller than {}: scale-up only grows the instance",
                                 given->name, current->name),
                     "give a larger class; scaling down is not a mitigation");
    }
    if (current && given->units == current->units && given->family == current->family) {
      return Invalid(fmt::format("{} is the same size as {}", given->name, current->name),
                     "give a larger class");
    }
    next = *given;
  }
  if (instance->status != "available") {
    return core::MakeError(
        core::ErrorCode::kUnavailable,
        fmt::format("instance {} is '{}', not available: RDS takes one change at a time",
                    instance->db_instance_identifier, instance->status),
        "wait until `dbrunbook cloud status` shows it available, then plan again");
  }

  PlanResult out;
  ScalePlan& p = out.plan;
  p.kind = ScaleKind::kInstanceClass;
  p.resource = instance->db_instance_identifier;
  p.engine = instance->engine;
  p.current = instance->db_instance_class;
  p.proposed = next->name;
  p.new_class = next->name;
  p.ratio = current ? next->units / current->units : 0;
  p.apply_immediately = !request.in_maintenance_window;
  p.maintenance_window = instance->preferred_maintenance_window;
  p.instance_request.db_instance_identifier = instance->db_instance_identifier;
  p.instance_request.db_instance_class = next->name;
  p.instance_request.apply_immediately = p.apply_immediately;
  p.api_call =
      fmt::format("rds:ModifyDBInstance DBInstanceIdentifier={} DBInstanceClass={} {}",
                  instance->db_instance_identifier, next->name,
                  p.apply_immediately ? "ApplyImmediately=true" : "ApplyImmediately=false");
  out.already_pending = instance->pending_modified_values.db_instance_class == next->name;

  const bool aurora = !instance->db_cluster_identifier.empty();
  const bool writer = [&] {
    if (cluster == nullptr) return false;
    for (const auto& m : cluster->members) {
      if (m.db_instance_identifier == instance->db_instance_identifier) return m.is_cluster_writer;
    }
    return false;
  }();
  if (!p.apply_immediately) {
    p.effects.push_back(fmt::format(
        "applied at the next maintenance window ({} UTC), not now: it will not relieve the "
        "current incident",
        p.maintenance_window.empty() ? "unknown" : p.maintenance_window));
  }
  if (aurora) {
    p.effects.push_back(
        writer ? "Aurora restarts the writer with the new class: writes fail for a few minutes "
                 "(Aurora may fail over to a reader). Gentler: scale a reader first, fail over "
                 "to it, then scale the old writer"
               : "Aurora restarts this reader with the new class; the cluster's other instances "
                 "serve the reads meanwhile");
  } else if (instance->multi_az) {
    p.effects.push_back(
        "Multi-AZ: RDS changes the standby first, then fails over to it; connections drop "
        "once, for about a minute or two, and the endpoint stays the same");
  } else {
    p.effects.push_back(
        "Single-AZ: the instance is unavailable while RDS changes its class (typically several "
        "minutes; longer for large instances)");
  }
  if (current && next->family == current->family) {
    p.effects.push_back(fmt::format(
        "cost: about {} the on-demand hourly price of {} (RDS prices a family's sizes in "
        "proportion to their size: {} is {} normalized units, {} is {})",
        Ratio(p.ratio), current->name, current->name, Num(current->units), next->name,
        Num(next->units)));
  } else {
    p.effects.push_back(fmt::format(
        "cost: {} is in another family than {}: compare their prices for {} in your region "
        "before applying",
        next->name, instance->db_instance_class, instance->engine));
  }
  for (const auto& r : status.replicas) {
    if (aurora) break;  // Aurora readers are the cluster's members, not replicas to resize
    const auto replica_class = ParseInstanceClass(r.db_instance_class);
    if (replica_class && replica_class->units < next->units) {
      p.warnings.push_back(fmt::format(
          "read replica {} stays {}: smaller than its source after the change, it may lag "
          "under the same write load",
          r.db_instance_identifier, r.db_instance_class));
    }
  }
  if (!instance->pending_modified_values.empty() && !out.already_pending) {
    p.warnings.push_back(
        "other changes are pending on the instance; with ApplyImmediately RDS applies them now "
        "too");
  }
  return out;
}

std::string_view ScaleStateName(ScaleState state) {
  switch (state) {
    case ScaleState::kDone:
      return "done";
    case ScaleState::kScheduled:
      return "scheduled";
    case ScaleState::kInProgress:
      return "in_progress";
    case ScaleState::kNotApplied:
      return "not_applied";
  }
  return "not_applied";
}

ScaleState CheckScaled(const ScalePlan& plan, const CloudStatus& status, std::string* detail) {
  auto say = [&](ScaleState state, std::string text) {
    if (detail != nullptr) *detail = std::move(text);
    return state;
  };
  if (plan.kind == ScaleKind::kServerlessCapacity) {
    if (!status.cluster || !status.cluster->serverless_v2_scaling) {
      return say(ScaleState::kNotApplied, "the cluster reports no Serverless v2 capacity");
    }
    const rds::ServerlessV2Scaling& now = *status.cluster->serverless_v2_scaling;
    const bool in_place =
        now.max_capacity == plan.new_capacity.max_capacity &&
        now.min_capacity.value_or(0) == plan.new_capacity.min_capacity.value_or(0);
    if (in_place && status.cluster->status == "available") {
      return say(ScaleState::kDone, fmt::format("capacity is {}", Capacity(now)));
    }
    if (in_place || status.cluster->status == "modifying") {
      return say(ScaleState::kInProgress, fmt::format("cluster is '{}', capacity {}",
                                                      status.cluster->status, Capacity(now)));
    }
    return say(ScaleState::kNotApplied, fmt::format("capacity is still {} (cluster '{}')",
                                                    Capacity(now), status.cluster->status));
  }
  if (!status.instance) return say(ScaleState::kNotApplied, "the instance is not in the status");
  const rds::DBInstance& i = *status.instance;
  const bool pending = i.pending_modified_values.db_instance_class == plan.new_class;
  if (i.db_instance_class == plan.new_class && i.status == "available") {
    return say(ScaleState::kDone, fmt::format("{} is {} and available", i.db_instance_identifier,
                                              i.db_instance_class));
  }
  if (!plan.apply_immediately && pending) {
    return say(
        ScaleState::kScheduled,
        fmt::format(
            "{} pending for the maintenance window ({} UTC)", plan.new_class,
            i.preferred_maintenance_window.empty() ? "unknown" : i.preferred_maintenance_window));
  }
  if (i.db_instance_class == plan.new_class || pending || i.status == "modifying") {
    return say(ScaleState::kInProgress,
               fmt::format("{} is '{}' (class {}{})", i.db_instance_identifier, i.status,
                           i.db_instance_class, pending ? ", " + plan.new_class + " pending" : ""));
  }
  return say(ScaleState::kNotApplied, fmt::format("{} is still {} ('{}')", i.db_instance_identifier,
                                                  i.db_instance_class, i.status));
}

}  // namespace dbrunbook::cloud
