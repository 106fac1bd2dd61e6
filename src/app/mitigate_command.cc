// `dbrunbook mitigate kill-queries TARGET`: plan, and with --apply kill and verify, the
// runbook's long-running queries (steps/mitigate_kill.h), every attempt in the audit store.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/commands.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/duration.h"
#include "core/text.h"
#include "report/render.h"
#include "steps/mitigate_kill.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kCommand = "dbrunbook mitigate kill-queries";
constexpr std::string_view kAction = "kill-queries";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

nlohmann::json SessionJson(const collect::ActiveStatement& s, const std::string& statement) {
  return {{"connection_id", s.id},
          {"user", s.user},
          {"host", s.host},
          {"db", s.db.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.db)},
          {"command", s.command},
          {"state", s.state},
          {"time_seconds", s.time_seconds},
          {"query_id", s.query_id ? nlohmann::json(*s.query_id) : nlohmann::json(nullptr)},
          {"statement", statement.empty() ? nlohmann::json(nullptr) : nlohmann::json(statement)}};
}

nlohmann::json OutcomeJson(const steps::KillOutcome& o) {
  return {{"status", steps::KillStatusName(o.status)},
          {"detail", o.detail},
          {"sql_sent", o.sql.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.sql)},
          {"verify_seconds", o.verify_seconds},
          {"lock_waits_before", o.waits_before},
          {"lock_waits_remaining", o.waits_remaining},
          {"error", o.error ? report::ErrorJson(*o.error) : nlohmann::json(nullptr)}};
}

// The plan as audited and printed with --format json (victims' statements redacted).
nlohmann::json PlanJson(const steps::KillPlan& plan,
                        const std::vector<steps::KillOutcome>* outcomes) {
  nlohmann::json victims = nlohmann::json::array();
  for (size_t i = 0; i < plan.victims.size(); ++i) {
    const auto& v = plan.victims[i];
    nlohmann::json j = SessionJson(v.session, v.statement);
    j["idle_in_transaction"] = v.idle_in_transaction;
    j["root_blocker_trx_id"] =
        v.blocker_trx_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.blocker_trx_id);
    j["holds_up"] = v.held_up;
    j["sql"] = v.sql;
    j["why"] = v.why;
    j["outcome"] = outcomes != nullptr && i < outcomes->size() ? OutcomeJson((*outcomes)[i])
                                                               : nlohmann::json(nullptr);
    victims.push_back(std::move(j));
  }
  nlohmann::json excluded = nlohmann::json::array();
  for (const auto& e : plan.excluded) {
    nlohmann::json j = SessionJson(e.session, e.statement);
    j["reason"] = e.reason;
    j["guardrail"] = e.guardrail;
    excluded.push_back(std::move(j));
  }
  return {{"criteria", plan.criteria},
          {"kill", plan.kill_query ? "query" : "connection"},
          {"sessions_read", plan.sessions_read},
          {"victims", victims},
          {"excluded", excluded}};
}

// status: planned, nothing_to_do, done, incomplete, error
struct Run : ActionRun {
  std::string endpoint;
  std::optional<steps::KillPlan> plan;
  std::vector<steps::KillOutcome> outcomes;
};

nlohmann::json RunJson(const Run& r, const collect::TargetSession* target) {
  nlohmann::json doc = ActionEnvelopeJson(r, kAction);
  doc["endpoint"] = r.endpoint;
  doc["server"] = ServerJson(target);
  if (r.plan) {
    doc.update(PlanJson(*r.plan, r.apply ? &r.outcomes : nullptr));
  } else {
    doc.update({{"criteria", nullptr},
                {"kill", nullptr},
                {"sessions_read", 0},
                {"victims", nlohmann::json::array()},
                {"excluded", nlohmann::json::array()}});
  }
  return doc;
}

std::string SessionLine(const collect::ActiveStatement& s) {
  return fmt::format("connection {} {}@{}{} {} {:.1f}s{}", s.id, Clean(s.user), Clean(s.host),
                     s.db.empty() ? "" : " db " + Clean(s.db), Clean(s.command), s.time_seconds,
                     s.state.empty() ? "" : fmt::format(" state '{}'", Clean(s.state)));
}

std::string RenderText(const Run& r, const collect::TargetSession& target) {
  const steps::KillPlan& plan = *r.plan;
  std::string headline;
  if (r.status == "planned") {
    headline = fmt::format("plan — nothing was changed (add --apply to kill {})",
                           plan.victims.size() == 1 ? "it" : "them");
  } else if (r.status == "nothing_to_do") {
    headline = "nothing to kill";
  } else if (r.status == "done") {
    headline = "every victim killed and verified";
  } else {
    headline = "not every victim was killed (see below)";
  }
  std::string out = fmt::format("Kill queries on {} ({}, {}): {}\n", Clean(r.target),
                                Clean(target.flavor().Name()), Clean(r.endpoint), headline);
  out += fmt::format("Criteria: {}; kill the {}\n", Clean(plan.criteria),
                     plan.kill_query ? "statement (KILL QUERY)" : "connection");
  out += fmt::format("Sessions read: {}\n", plan.sessions_read);
  if (!plan.victims.empty()) out += "\nVictims (oldest first):\n";
  for (size_t i = 0; i < plan.victims.size(); ++i) {
    const auto& v = plan.victims[i];
    out += fmt::format("  {}\n", SessionLine(v.session));
    if (!v.statement.empty()) out += fmt::format("      statement: {}\n", Clean(v.statement));
    out += fmt::format("      why: {}\n", Clean(v.why));
    out += fmt::format("      sql: {};\n", v.sql);
    if (r.apply && i < r.outcomes.size()) {
      const auto& o = r.outcomes[i];
      out += fmt::format("      -> {}: {}\n", steps::KillStatusName(o.status), Clean(o.detail));
      if (o.error) {
        out += fmt::format("         {}\n", Clean(o.error->message));
        if (!o.error->hint.empty()) out += fmt::format("         {}\n", Clean(o.error->hint));
      }
    }
  }
  if (!plan.excluded.empty()) out += "\nMatched but spared:\n";
  for (const auto& e : plan.excluded) {
    out += fmt::format("  {}: {}{}\n", SessionLine(e.session), Clean(e.reason),
                       e.guardrail ? " (guardrail)" : "");
  }
  out += AuditFooter(r.warnings, r.store_path, r.run_id);
  return out;
}

int Finish(Env& env, const MitigateKillOptions& options, Run& run,
           const collect::TargetSession* target) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(RunJson(run, target)) << "\n";
  } else if (run.plan && target != nullptr) {
    env.out << RenderText(run, *target);
  }
  if (run.error) {
    PrintActionError(env, kCommand, run);
  }
  return run.exit_code;
}

}  // namespace

int RunMitigateKillQueries(Env& env, const GlobalOptions& global,
                           const MitigateKillOptions& options) {
  // Criteria first: a bad pattern is a usage error before anything is read or connected.
  if (auto checked = steps::KillMatcher::Create(options.criteria); !checked) {
    env.err << kCommand << ": " << checked.error().ToString() << "\n";
    return kExitUsage;
  }
  auto lookup = LookupTarget(env, global, options.selection, kCommand);
  if (!lookup) return kExitUsage;

  Run run;
  run.apply = options.apply;
  run.target = lookup->display_name;
  run.endpoint = lookup->endpoint;
  run.run_id = NewRunId(env);

  steps::KillCriteria criteria = options.criteria;
  for (auto& user : ProtectedUsersFor(*lookup)) {
    if (std::find(criteria.protected_users.begin(), criteria.protected_users.end(), user) ==
        criteria.protected_users.end()) {
      criteria.protected_users.push_back(std::move(user));
    }
  }
  auto matcher = steps::KillMatcher::Create(criteria);
  if (!matcher) {
    env.err << kCommand << ": " << matcher.error().ToString() << "\n";
    return kExitUsage;
  }

  // The audit store: required to act (every attempt is audited); a plan is still shown
  // without it.
  auto store = OpenAuditStore(env, options.store_path, options.apply, run.warnings);
  if (!store) {
    run.Fail("error", kExitUsage, store.error());
    return Finish(env, options, run, nullptr);
  }
  if (*store) run.store_path = (*store)->path();
  Auditor audit(env, store->get(), std::string(kAction), run.target, run.run_id, run.warnings);

  auto target = ConnectForAction(env, *lookup, options.apply, audit);
  if (!target) {
    run.Fail("error", target.error().exit_code, target.error().error);
    return Finish(env, options, run, nullptr);
  }
  // Without PROCESS the processlist shows the account's own sessions only: an empty plan
  // would be a false "nothing to kill".
  if (auto granted = collect::RequireGlobalPrivilege(
          *target, "PROCESS", "without it the processlist shows only its own sessions");
      !granted) {
    run.Fail("error", kExitCannotAssess, granted.error());
    return Finish(env, options, run, &*target);
  }
  auto plan = steps::ReadAndPlanKills(*target, env.clock, *matcher);
  if (!plan) {
    run.Fail("error", kExitCannotAssess, plan.error());
    return Finish(env, options, run, &*target);
  }
  run.plan = std::move(*plan);
  audit.Write(store::Phase::kPlanned, "", PlanJson(*run.plan, nullptr).dump(),
              fmt::format("{} victim(s), {} spared{}", run.plan->victims.size(),
                          run.plan->excluded.size(), options.apply ? "" : "; dry run"),
              "");
  if (run.plan->victims.empty()) {
    run.status = "nothing_to_do";
    return Finish(env, options, run, &*target);
  }
  if (!options.apply) {
    run.status = "planned";
    return Finish(env, options, run, &*target);
  }

  steps::ExecuteOptions execute;
  execute.on_event = [&](const steps::Victim& v, steps::KillEvent event,
                         const steps::KillOutcome& o) {
    const steps::KillAudit entry = steps::AuditOf(v, event, o);
    audit.Write(store::ParsePhase(entry.phase).value_or(store::Phase::kFailed), entry.subject,
                v.sql, entry.result, entry.error);
  };
  run.outcomes = steps::ExecuteKills(*target, env.clock, *run.plan, execute);
  const bool all = std::all_of(run.outcomes.begin(), run.outcomes.end(), [](const auto& o) {
    return o.status == steps::KillStatus::kKilled;
  });
  run.status = all ? "done" : "incomplete";
  run.exit_code = all ? kExitOk : 1;
  return Finish(env, options, run, &*target);
}

}  // namespace dbrunbook::app
