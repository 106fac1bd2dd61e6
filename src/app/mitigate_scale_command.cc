// `dbrunbook mitigate scale-up TARGET`: plan, and with --apply make and verify, the runbook's
// "scale up the instance" through the cloud provider (cloud/scale_plan.h), every attempt in
// the audit store. The database itself is not touched: this is an RDS API call.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/cloud.h"
#include "app/commands.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "cloud/scale_plan.h"
#include "core/duration.h"
#include "core/text.h"
#include "report/render.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kCommand = "dbrunbook mitigate scale-up";
constexpr std::string_view kAction = "scale-up";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

// status: planned, nothing_to_do, done, scheduled, in_progress, failed, refused, error
struct Run : ActionRun {
  std::optional<cloud::ScalePlan> plan;
  std::optional<cloud::ScaleState> state;  // after the apply
  std::string detail;                      // what the last check said
  double verify_seconds = 0;
};

std::string_view KindName(cloud::ScaleKind kind) {
  return kind == cloud::ScaleKind::kInstanceClass ? "instance_class" : "serverless_v2_capacity";
}

nlohmann::json PlanJson(const cloud::ScalePlan& p) {
  return {
      {"kind", KindName(p.kind)},
      {"resource", p.resource},
      {"engine", p.engine},
      {"current", p.current},
      {"proposed", p.proposed},
      {"ratio", p.ratio},
      {"apply_immediately", p.apply_immediately},
      {"maintenance_window", p.maintenance_window.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(p.maintenance_window)},
      {"api_call", p.api_call},
      {"effects", p.effects},
      {"warnings", p.warnings}};
}

nlohmann::json RunJson(const Run& r) {
  nlohmann::json outcome = nullptr;
  if (r.state) {
    outcome = {{"state", cloud::ScaleStateName(*r.state)},
               {"detail", r.detail},
               {"verify_seconds", r.verify_seconds}};
  }
  nlohmann::json doc = ActionEnvelopeJson(r, kAction);
  doc["plan"] = r.plan ? PlanJson(*r.plan) : nlohmann::json(nullptr);
  doc["outcome"] = outcome;
  return doc;
}

std::string RenderText(const Run& r) {
  const cloud::ScalePlan& p = *r.plan;
  std::string headline;
  if (r.status == "planned") {
    headline = "plan — nothing was changed (add --apply to make the change)";
  } else if (r.status == "nothing_to_do") {
    headline = "nothing to do: the same change is already pending";
  } else if (r.status == "done") {
    headline = "done and verified";
  } else if (r.status == "scheduled") {
    headline = "scheduled for the maintenance window, verified pending";
  } else if (r.status == "in_progress") {
    headline = "applied; RDS is still applying it (not verified yet)";
  } else {
    headline = "the change was not made (see below)";
  }
  const bool capacity = p.kind == cloud::ScaleKind::kServerlessCapacity;
  std::string out = fmt::format("Scale up {} ({} {}, {}): {}\n", Clean(r.target),
                                capacity ? "Aurora Serverless v2 cluster" : "RDS instance",
                                Clean(p.resource), Clean(p.engine), headline);
  out += fmt::format("  now:       {}\n", Clean(p.current));
  out += fmt::format("  proposed:  {}{}\n", Clean(p.proposed),
                     p.ratio > 0 ? fmt::format(" ({:g}x)", p.ratio) : "");
  out += fmt::format(
      "  when:      {}\n",
      p.apply_immediately
          ? "now (ApplyImmediately)"
          : fmt::format("at the next maintenance window ({} UTC)",
                        p.maintenance_window.empty() ? "unknown" : Clean(p.maintenance_window)));
  out += fmt::format("  call:      {}\n", Clean(p.api_call));
  if (!p.effects.empty()) out += "\nEffects:\n";
  for (const auto& e : p.effects) out += fmt::format("  - {}\n", Clean(e));
  if (!p.warnings.empty()) out += "\nCheck before applying:\n";
  for (const auto& w : p.warnings) out += fmt::format("  - {}\n", Clean(w));
  if (r.state) {
    out +=
        fmt::format("\n-> {}: {}{}\n", cloud::ScaleStateName(*r.state), Clean(r.detail),
                    r.verify_seconds > 0 ? fmt::format(" (after {:.1f}s)", r.verify_seconds) : "");
  }
  out += AuditFooter(r.warnings, r.store_path, r.run_id);
  return out;
}

int Finish(Env& env, const MitigateScaleOptions& options, const Run& run) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(RunJson(run)) << "\n";
  } else if (run.plan) {
    env.out << RenderText(run);
  }
  if (run.error) {
    PrintActionError(env, kCommand, run);
  }
  return run.exit_code;
}

core::Result<void> Modify(cloud::CloudProvider& provider, const cloud::ScalePlan& plan) {
  if (plan.kind == cloud::ScaleKind::kServerlessCapacity) {
    auto changed = provider.ModifyCluster(plan.cluster_request);
    if (!changed) return core::Fail(changed.error());
  } else {
    auto changed = provider.ModifyInstance(plan.instance_request);
    if (!changed) return core::Fail(changed.error());
  }
  return {};
}

}  // namespace

int RunMitigateScaleUp(Env& env, const GlobalOptions& global, const MitigateScaleOptions& options) {
  auto config = LoadConfiguration(env, global, /*required=*/true);
  if (!config || !config->has_value()) return kExitUsage;  // (already printed)

  Run run;
  run.apply = options.apply;
  run.target = options.target;
  run.run_id = NewRunId(env);
  auto fail = [&](std::string status, int code, core::Error error) {
    run.Fail(std::move(status), code, std::move(error));
    return Finish(env, options, run);
  };

  auto resource = CloudResourceForTarget(**config, options.target, options.endpoint_url);
  if (!resource) return fail("error", kExitUsage, resource.error());
  auto store = OpenAuditStore(env, options.store_path, options.apply, run.warnings);
  if (!store) return fail("error", kExitUsage, store.error());
  if (*store) run.store_path = (*store)->path();
  Auditor audit(env, store->get(), std::string(kAction), run.target, run.run_id, run.warnings);

  auto provider = MakeCloudProvider(env, *resource);
  if (!provider) return fail("error", kExitCannotAssess, provider.error());
  auto status = (*provider)->Status(*resource);
  if (!status) return fail("error", kExitCannotAssess, status.error());

  auto planned = cloud::PlanScaleUp(*status, options.request);
  if (!planned) {
    const core::Error& e = planned.error();
    if (e.code == core::ErrorCode::kUnavailable) {
      // Not now: the instance is busy with another change. A refusal, audited.
      audit.Write(store::Phase::kRefused, "", "", "not planned", e.ToString());
      return fail("refused", 1, e);
    }
    const bool usage =
        e.code == core::ErrorCode::kInvalidArgument || e.code == core::ErrorCode::kInvalidConfig;
    return fail("error", usage ? kExitUsage : kExitCannotAssess, e);
  }
  run.plan = planned->plan;
  const std::string plan_text = PlanJson(*run.plan).dump();
  audit.Write(store::Phase::kPlanned, run.plan->resource, plan_text,
              fmt::format("{} -> {}{}", run.plan->current, run.plan->proposed,
                          options.apply ? "" : "; dry run"),
              "");
  if (planned->already_pending) {
    run.status = "nothing_to_do";
    return Finish(env, options, run);
  }
  if (!options.apply) {
    run.status = "planned";
    return Finish(env, options, run);
  }

  const core::MonoTime started = env.clock.MonotonicNow();
  if (auto modified = Modify(**provider, *run.plan); !modified) {
    audit.Write(store::Phase::kFailed, run.plan->resource, run.plan->api_call, "not applied",
                modified.error().ToString());
    return fail("failed", 1, modified.error());
  }
  audit.Write(store::Phase::kApplied, run.plan->resource, run.plan->api_call, "accepted by RDS",
              "");

  // Verify: the change in place (or, deferred, pending), polling until --wait runs out.
  const cloud::ScaleState goal =
      run.plan->apply_immediately ? cloud::ScaleState::kDone : cloud::ScaleState::kScheduled;
  const core::MonoTime deadline = started + options.wait;
  while (true) {
    auto now = (*provider)->Status(*resource);
    if (now) {
      run.state = cloud::CheckScaled(*run.plan, *now, &run.detail);
    } else {
      run.state = cloud::ScaleState::kInProgress;
      run.detail = "status not readable: " + now.error().message;
    }
    // Deferred to the window but already in place (RDS may apply at once) is as good.
    if (run.state == goal || run.state == cloud::ScaleState::kDone ||
        env.clock.MonotonicNow() >= deadline) {
      break;
    }
    env.clock.SleepFor(
        std::min<core::Duration>(options.poll_interval, deadline - env.clock.MonotonicNow()));
  }
  run.verify_seconds = std::chrono::duration<double>(env.clock.MonotonicNow() - started).count();
  if (run.state == goal || run.state == cloud::ScaleState::kDone) {
    run.status = std::string(cloud::ScaleStateName(*run.state));
    audit.Write(store::Phase::kVerified, run.plan->resource, run.plan->api_call, run.detail, "");
    return Finish(env, options, run);
  }
  run.status = "in_progress";
  run.exit_code = 1;
  run.warnings.push_back(
      fmt::format("not verified within {}: {}; follow it with `dbrunbook cloud status {}`",
                  core::FormatDuration(options.wait), run.detail, run.target));
  audit.Write(store::Phase::kFailed, run.plan->resource, run.plan->api_call,
              fmt::format("not verified within {}", core::FormatDuration(options.wait)),
              run.detail);
  return Finish(env, options, run);
}

}  // namespace dbrunbook::app
