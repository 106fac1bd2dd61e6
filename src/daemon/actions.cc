#include "daemon/actions.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "collect/target_session.h"
#include "core/duration.h"
#include "core/strings.h"
#include "steps/investigate_locks.h"
#include "steps/mitigate_kill.h"

namespace dbrunbook::daemon {
namespace {

constexpr std::string_view kKillQueries = "kill-queries";

watch::ActionResult Result(const watch::Effect& effect, watch::ActionState state,
                           std::string detail, std::string run_id, core::Clock& clock) {
  return {effect.incident_id, effect.key,        state,
          std::move(detail),  std::move(run_id), clock.WallNow()};
}

core::Result<double> Seconds(const std::map<std::string, std::string>& params,
                             const std::string& key) {
  auto d = core::ParseDuration(params.at(key), /*bare_unit_seconds=*/true);
  if (!d) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           fmt::format("runbook parameter {}: {}", key, d.error().message),
                           "write a duration such as 300s or 5m");
  }
  return core::ToSeconds(*d);
}

bool Truthy(const std::string& value) {
  const std::string v = core::ToLower(value);
  return v == "true" || v == "yes" || v == "1" || v == "on";
}

// The runbook's parameters as KillCriteria.
core::Result<steps::KillCriteria> CriteriaFrom(const std::map<std::string, std::string>& params,
                                               const std::string& reason,
                                               const DaemonTarget& target) {
  steps::KillCriteria c;
  for (const auto& [key, value] : params) {
    if (key == "busy_time") {
      auto s = Seconds(params, key);
      if (!s) return core::Fail(s.error());
      c.busy_seconds = *s;
    } else if (key == "idle_time") {
      auto s = Seconds(params, key);
      if (!s) return core::Fail(s.error());
      c.idle_seconds = *s;
    } else if (key == "min_wait") {
      auto s = Seconds(params, key);
      if (!s) return core::Fail(s.error());
      c.min_wait_seconds = *s;
    } else if (key == "max_victims") {
      c.max_victims = std::atoi(value.c_str());
    } else if (key == "match_user") {
      c.match_user = value;
    } else if (key == "ignore_user") {
      c.ignore_user = value;
    } else if (key == "match_db") {
      c.match_db = value;
    } else if (key == "match_info") {
      c.match_info = value;
    } else if (key == "root_blockers") {
      c.root_blockers = Truthy(value);
    } else if (key == "kill_query") {
      c.kill_query = Truthy(value);
    }
  }
  // Proposed by a root blocker: only a rollback releases the locks, so the victims are the
  // roots of the blocking trees (and the kill is of the connection).
  if (reason.find("lock.root_blocker") != std::string::npos) c.root_blockers = true;
  if (c.root_blockers) {
    // The runbook gives one parameter set for both ways the action is proposed: busy and idle
    // time are for long runners, min_wait for root blockers (the matcher refuses the mix).
    c.kill_query = false;
    c.busy_seconds.reset();
    c.idle_seconds.reset();
  }
  c.protected_users = target.protected_users;
  return c;
}

}  // namespace

std::vector<std::string> UnattendedActions(bool with_runner) {
  if (!with_runner) return {std::string(kKillQueries)};
  return {std::string(kKillQueries), "failover", "scale-up", "tune", "index"};
}

watch::ActionResult ApplyAction(const DaemonTarget& target, const watch::Effect& effect,
                                const std::string& reason, mysql::SessionFactory& factory,
                                core::Clock& clock, store::Store* audit,
                                const ActionRunner& run_action) {
  if (effect.action != kKillQueries && run_action) {
    // The command's own planning, pre-checks, guardrails, verification and audit.
    ActionOutcome outcome = run_action(target, effect);
    return Result(effect, outcome.state, std::move(outcome.detail), std::move(outcome.run_id),
                  clock);
  }
  const std::string run_id = fmt::format("{}-{}-incident{}", core::FormatRfc3339(clock.WallNow()),
                                         getpid(), effect.incident_id);
  auto write = [&](store::Phase phase, const std::string& subject, const std::string& plan,
                   const std::string& result, const std::string& error) {
    if (audit == nullptr) return;
    store::AuditEntry e;
    e.run_id = run_id;
    e.target = target.name;
    e.action = effect.action;
    e.subject = subject;
    e.phase = phase;
    e.plan = plan;
    e.result = result;
    e.error = error;
    (void)audit->Append(std::move(e));
  };

  if (effect.action != kKillQueries) {
    const std::string detail = fmt::format(
        "the watch daemon does not run {} unattended yet; run `dbrunbook mitigate {} {}` to see "
        "the plan and add --apply to act",
        effect.action, effect.action, target.name);
    write(store::Phase::kRefused, "", "", detail, "");
    return Result(effect, watch::ActionState::kRefused, detail, run_id, clock);
  }

  auto criteria = CriteriaFrom(effect.params, reason, target);
  if (!criteria) {
    write(store::Phase::kRefused, "", "", "bad runbook parameters", criteria.error().ToString());
    return Result(effect, watch::ActionState::kRefused, criteria.error().ToString(), run_id, clock);
  }
  auto matcher = steps::KillMatcher::Create(*criteria);
  if (!matcher) {
    write(store::Phase::kRefused, "", "", "bad runbook parameters", matcher.error().ToString());
    return Result(effect, watch::ActionState::kRefused, matcher.error().ToString(), run_id, clock);
  }
  auto session = collect::OpenTargetSession(factory, target.options, clock);
  if (!session) {
    write(store::Phase::kFailed, "", matcher->Describe(), "cannot connect",
          session.error().ToString());
    return Result(effect, watch::ActionState::kFailed,
                  "cannot connect: " + session.error().ToString(), run_id, clock);
  }
  if (auto granted = collect::RequireGlobalPrivilege(
          *session, "PROCESS", "without it the processlist shows only its own sessions");
      !granted) {
    write(store::Phase::kRefused, "", matcher->Describe(), "missing privilege",
          granted.error().ToString());
    return Result(effect, watch::ActionState::kRefused, granted.error().ToString(), run_id, clock);
  }
  auto plan = steps::ReadAndPlanKills(*session, clock, *matcher);
  if (!plan) {
    write(store::Phase::kFailed, "", matcher->Describe(), "cannot plan", plan.error().ToString());
    return Result(effect, watch::ActionState::kFailed, plan.error().ToString(), run_id, clock);
  }
  write(store::Phase::kPlanned, "", plan->criteria,
        fmt::format("{} victim(s), {} spared; incident {} ({})", plan->victims.size(),
                    plan->excluded.size(), effect.incident_id, effect.key),
        "");
  if (plan->victims.empty()) {
    const std::string detail = fmt::format("nothing to kill: no session matches {} ({} spared)",
                                           plan->criteria, plan->excluded.size());
    return Result(effect, watch::ActionState::kRefused, detail, run_id, clock);
  }

  steps::ExecuteOptions execute;
  execute.on_event = [&](const steps::Victim& v, steps::KillEvent event,
                         const steps::KillOutcome& o) {
    const steps::KillAudit entry = steps::AuditOf(v, event, o);
    write(store::ParsePhase(entry.phase).value_or(store::Phase::kFailed), entry.subject, v.sql,
          entry.result, entry.error);
  };
  const auto outcomes = steps::ExecuteKills(*session, clock, *plan, execute);
  std::vector<std::string> parts;
  size_t killed = 0;
  for (const auto& o : outcomes) {
    if (o.status == steps::KillStatus::kKilled) ++killed;
    parts.push_back(fmt::format("connection {}: {}", o.connection_id, o.detail));
  }
  const std::string detail =
      fmt::format("{} of {} killed ({})", killed, outcomes.size(), fmt::join(parts, "; "));
  if (killed == outcomes.size()) {
    return Result(effect, watch::ActionState::kVerified, detail, run_id, clock);
  }
  return Result(effect, killed > 0 ? watch::ActionState::kApplied : watch::ActionState::kFailed,
                detail, run_id, clock);
}

}  // namespace dbrunbook::daemon
