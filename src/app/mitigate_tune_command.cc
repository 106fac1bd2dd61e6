// `dbrunbook mitigate tune TARGET`: configuration advice from the interval's counters
// (steps/mitigate_tune.h), and with --apply the guarded change of the applicable items —
// SET GLOBAL (or SET PERSIST) on a self-managed server, the DB parameter group for a target
// with a cloud: section — each verified and audited with its previous value, which
// `--revert [RUN_ID]` sets back.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "app/cloud.h"
#include "app/commands.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/duration.h"
#include "core/text.h"
#include "dialect/tuning.h"
#include "report/render.h"
#include "steps/investigate_resources.h"
#include "steps/mitigate_tune.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kCommand = "dbrunbook mitigate tune";
constexpr std::string_view kAction = "tune";
constexpr int kAuditScan = 5000;  // audit entries searched for the run to revert
constexpr std::string_view kModeSetGlobal = "set_global";
constexpr std::string_view kModeParameterGroup = "parameter_group";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

struct Change {
  std::string variable;
  std::string previous;  // empty + previous_unset: the parameter had no value (engine default)
  bool previous_unset = false;
  std::string value;
  std::string now;
  std::string sql;     // self-managed: the statement; cloud: "parameter group NAME"
  std::string status;  // verified, pending_reboot, failed, not_verified, refused
  std::string detail;
  std::optional<core::Error> error;
};

// status: planned, nothing_to_do, done, incomplete, error
struct Run : ActionRun {
  std::string endpoint;
  bool revert = false;
  std::string revert_of;  // the run id reverted
  bool persist = false;
  std::string mode;  // set_global, parameter_group
  std::string parameter_group;
  double interval_seconds = 0;
  std::optional<steps::TuneInputs> inputs;
  std::vector<steps::Advice> advice;
  std::vector<std::string> chosen;  // variables to change
  std::vector<Change> changes;
  std::string undo_selection;  // how the target was named: "orders-db" or "--dsn '...'"
};

core::Error Usage(std::string message, std::string hint = {}) {
  return core::MakeError(core::ErrorCode::kInvalidArgument, std::move(message), std::move(hint))
      .value();
}

nlohmann::json AdviceJson(const steps::Advice& a, bool chosen) {
  auto opt = [](const std::string& s) {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  return {
      {"rule", a.rule},
      {"variable", opt(a.variable)},
      {"current", opt(a.current)},
      {"suggested", a.suggested ? nlohmann::json(*a.suggested) : nlohmann::json(nullptr)},
      {"evidence", a.evidence},
      {"why", a.why},
      {"severity", steps::LevelName(a.severity) == "ok" ? "info" : steps::LevelName(a.severity)},
      {"dynamic", a.variable.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.dynamic)},
      {"applicable", a.applicable},
      {"refused", opt(a.refused)},
      {"chosen", chosen}};
}

nlohmann::json ChangeJson(const Change& c) {
  return {{"variable", c.variable},
          {"previous", c.previous_unset ? nlohmann::json(nullptr) : nlohmann::json(c.previous)},
          {"value", c.value},
          {"now", c.now.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.now)},
          {"sql", c.sql.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.sql)},
          {"status", c.status},
          {"detail", c.detail},
          {"error", c.error ? report::ErrorJson(*c.error) : nlohmann::json(nullptr)}};
}

bool Chosen(const Run& r, const std::string& variable) {
  return std::find(r.chosen.begin(), r.chosen.end(), variable) != r.chosen.end();
}

nlohmann::json RunJson(const Run& r, const collect::TargetSession* target) {
  nlohmann::json advice = nlohmann::json::array();
  for (const auto& a : r.advice) advice.push_back(AdviceJson(a, Chosen(r, a.variable)));
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : r.changes) changes.push_back(ChangeJson(c));
  nlohmann::json memory = nullptr;
  if (r.inputs) {
    memory = {{"bytes", r.inputs->memory_bytes ? nlohmann::json(*r.inputs->memory_bytes)
                                               : nlohmann::json(nullptr)},
              {"source", r.inputs->memory_source},
              {"freeable_bytes", r.inputs->freeable_memory_bytes
                                     ? nlohmann::json(*r.inputs->freeable_memory_bytes)
                                     : nlohmann::json(nullptr)}};
  }
  nlohmann::json doc = ActionEnvelopeJson(r, kAction);
  doc.update({
      {"endpoint", r.endpoint},
      {"server", ServerJson(target)},
      {"revert", r.revert},
      {"revert_of", r.revert_of.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.revert_of)},
      {"mode", r.mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.mode)},
      {"parameter_group",
       r.parameter_group.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.parameter_group)},
      {"persisted", r.persist},
      {"interval_seconds", r.interval_seconds},
      {"memory", memory},
      {"advice", advice},
      {"changes", changes},
  });
  return doc;
}

std::string Severity(steps::Level level) {
  return level == steps::Level::kOk ? "info" : std::string(steps::LevelName(level));
}

std::string RenderText(const Run& r, const collect::TargetSession& target) {
  std::string headline;
  if (r.status == "planned") {
    headline = r.revert ? "plan — nothing was changed (add --apply to restore)"
                        : "advice — nothing was changed (add --apply to change the chosen items)";
  } else if (r.status == "nothing_to_do") {
    headline = r.revert ? "nothing to restore" : "nothing to change";
  } else if (r.status == "done") {
    headline = r.revert ? "every value restored and verified" : "every change verified";
  } else {
    headline = "not every change worked (see below)";
  }
  std::string out =
      fmt::format("{} on {} ({}, {}): {}\n", r.revert ? "Tune revert" : "Tune", Clean(r.target),
                  Clean(target.flavor().Name()), Clean(r.endpoint), headline);
  if (!r.revert) {
    out += fmt::format("Interval: {} (rates are of this interval; since-boot totals are context)\n",
                       core::FormatSeconds(r.interval_seconds));
    if (r.inputs) {
      out += fmt::format("Memory: {}\n",
                         r.inputs->memory_bytes
                             ? fmt::format("{} ({})", steps::FormatBytes(*r.inputs->memory_bytes),
                                           Clean(r.inputs->memory_source))
                             : std::string("unknown (the buffer pool is never raised)"));
    }
    if (r.advice.empty()) out += "\nNo advice: every rule found its numbers fine.\n";
    for (const auto& a : r.advice) {
      out += fmt::format("\n[{}] {}{}\n", Severity(a.severity), a.rule,
                         a.variable.empty() ? "" : fmt::format(" ({})", a.variable));
      out += fmt::format("    evidence: {}\n", Clean(a.evidence));
      if (a.suggested) {
        out += fmt::format("    suggest:  {} = {} (now {}; {}{})\n", a.variable, *a.suggested,
                           a.current, a.dynamic ? "dynamic" : "not dynamic",
                           Chosen(r, a.variable) ? ", chosen" : "");
      }
      out += fmt::format("    why:      {}\n", Clean(a.why));
      if (!a.refused.empty()) out += fmt::format("    not applied: {}\n", Clean(a.refused));
    }
  }
  if (!r.changes.empty()) {
    out += r.mode == kModeParameterGroup
               ? fmt::format("\nParameter group {}:\n", Clean(r.parameter_group))
               : std::string("\nChanges:\n");
  }
  for (const auto& c : r.changes) {
    out += fmt::format("  {}: {} -> {}: {}{}\n", c.variable,
                       c.previous_unset ? std::string("(engine default)") : c.previous, c.value,
                       c.status, c.detail.empty() ? "" : " — " + Clean(c.detail));
    if (c.error) {
      out += fmt::format("      {}\n", Clean(c.error->message));
      if (!c.error->hint.empty()) out += fmt::format("      {}\n", Clean(c.error->hint));
    }
  }
  if (r.mode == kModeSetGlobal && r.apply && !r.changes.empty()) {
    out += r.persist ? "\nPersisted with SET PERSIST (mysqld-auto.cnf): kept across restarts.\n"
                     : "\nNot persisted: SET GLOBAL is lost at the next restart; put the values "
                       "in the option file to keep them" +
                           std::string(dialect::HasSetPersist(target.flavor())
                                           ? " (or run again with --persist)"
                                           : "") +
                           ".\n";
  }
  if (!r.run_id.empty() && r.apply && !r.changes.empty() && !r.revert) {
    out += fmt::format("Undo: dbrunbook mitigate tune {} --revert {} --apply\n",
                       Clean(r.undo_selection), r.run_id);
  }
  out += AuditFooter(r.warnings, r.store_path, r.run_id);
  return out;
}

int Finish(Env& env, const MitigateTuneOptions& options, Run& run,
           const collect::TargetSession* target) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(RunJson(run, target)) << "\n";
  } else if (target != nullptr && run.status != "error") {
    env.out << RenderText(run, *target);
  }
  if (run.error) {
    PrintActionError(env, kCommand, run);
  }
  return run.exit_code;
}

int Fail(Env& env, const MitigateTuneOptions& options, Run& run,
         const collect::TargetSession* target, int code, core::Error error) {
  run.Fail("error", code, std::move(error));
  return Finish(env, options, run, target);
}

bool IsLocal(const mysql::ConnectOptions& o) {
  return o.uses_socket() || o.host == "127.0.0.1" || o.host == "localhost" || o.host == "::1";
}

std::optional<int64_t> LocalMemory() {
  std::ifstream in("/proc/meminfo");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return steps::ParseMemTotal(text.str());
}

std::string ChangePlan(std::string_view op, std::string_view mode, const std::string& variable,
                       const std::string& previous, bool previous_unset, const std::string& value,
                       bool persist, const std::string& group, const std::string& reverts) {
  nlohmann::json j = {
      {"op", op},
      {"mode", mode},
      {"variable", variable},
      {"previous", previous_unset ? nlohmann::json(nullptr) : nlohmann::json(previous)},
      {"value", value},
      {"persist", persist}};
  if (!group.empty()) j["parameter_group"] = group;
  if (!reverts.empty()) j["reverts"] = reverts;
  return j.dump();
}

// --- the cloud: the DB parameter group ------------------------------------------------------

struct CloudContext {
  std::unique_ptr<cloud::CloudProvider> provider;
  cloud::CloudResource resource;
  std::optional<cloud::CloudStatus> status;
};

// Applies `wanted` (variable -> value) to the instance's parameter group; fills r.changes.
void ApplyParameterGroup(CloudContext& cloud, Run& r, Auditor& audit,
                         const std::vector<std::pair<std::string, std::string>>& wanted,
                         const std::map<std::string, std::pair<std::string, bool>>* previous,
                         const std::string& reverts) {
  auto parameters = cloud.provider->DescribeParameters(r.parameter_group);
  if (!parameters) {
    for (const auto& [name, value] : wanted) {
      Change c;
      c.variable = name;
      c.value = value;
      c.status = "failed";
      c.detail = "could not read the parameter group";
      c.error = parameters.error();
      audit.Write(store::Phase::kFailed, name, "", c.detail, parameters.error().ToString());
      r.changes.push_back(std::move(c));
    }
    return;
  }
  std::map<std::string, cloud::rds::Parameter> by_name;
  for (const auto& p : *parameters) by_name.emplace(p.name, p);
  cloud::rds::ModifyDBParameterGroupRequest request;
  request.db_parameter_group_name = r.parameter_group;
  std::vector<size_t> sent;
  for (const auto& [name, value] : wanted) {
    Change c;
    c.variable = name;
    c.value = value;
    c.sql = "parameter group " + r.parameter_group;
    auto it = by_name.find(name);
    if (previous != nullptr) {
      auto prev = previous->find(name);
      if (prev != previous->end()) {
        c.previous = prev->second.first;
        c.previous_unset = prev->second.second;
      }
    } else if (it != by_name.end()) {
      c.previous = it->second.value.value_or("");
      c.previous_unset = !it->second.value;
    } else {
      c.previous_unset = true;
    }
    if (it == by_name.end() || !it->second.is_modifiable) {
      c.status = "refused";
      c.detail = it == by_name.end()
                     ? "DescribeDBParameters does not list it: not changed"
                     : "DescribeDBParameters says it is not modifiable: not changed";
      audit.Write(store::Phase::kRefused, name, "", c.detail, "");
      r.changes.push_back(std::move(c));
      continue;
    }
    const bool dynamic = it->second.apply_type == "dynamic";
    request.parameters.push_back(
        {name, value,
         dynamic ? cloud::rds::ApplyMethod::kImmediate : cloud::rds::ApplyMethod::kPendingReboot});
    c.detail = dynamic ? "applied immediately" : "static: pending reboot";
    sent.push_back(r.changes.size());
    r.changes.push_back(std::move(c));
  }
  if (request.parameters.empty()) return;
  auto modified = cloud.provider->ModifyParameterGroup(request);
  for (size_t i : sent) {
    Change& c = r.changes[i];
    const std::string plan =
        ChangePlan(reverts.empty() ? "set" : "revert", kModeParameterGroup, c.variable, c.previous,
                   c.previous_unset, c.value, false, r.parameter_group, reverts);
    if (!modified) {
      c.status = "failed";
      c.error = modified.error();
      c.detail = "ModifyDBParameterGroup refused";
      audit.Write(store::Phase::kFailed, c.variable, plan, c.detail, modified.error().ToString());
      continue;
    }
    audit.Write(store::Phase::kApplied, c.variable, plan, c.detail, "");
  }
  if (!modified) return;
  // Verify: the group now holds the values.
  auto after = cloud.provider->DescribeParameters(r.parameter_group);
  for (size_t i : sent) {
    Change& c = r.changes[i];
    const std::string plan =
        ChangePlan(reverts.empty() ? "set" : "revert", kModeParameterGroup, c.variable, c.previous,
                   c.previous_unset, c.value, false, r.parameter_group, reverts);
    std::optional<std::string> now;
    if (after) {
      for (const auto& p : *after) {
        if (p.name == c.variable) now = p.value;
      }
    }
    c.now = now.value_or("");
    if (now && *now == c.value) {
      c.status = c.detail.starts_with("static") ? "pending_reboot" : "verified";
      audit.Write(store::Phase::kVerified, c.variable, plan, c.status, "");
    } else {
      c.status = "not_verified";
      c.detail = after ? fmt::format("the group reads back {}", now.value_or("no value"))
                       : "could not read the group back";
      if (!after) c.error = after.error();
      audit.Write(store::Phase::kFailed, c.variable, plan, c.detail,
                  after ? "" : after.error().ToString());
    }
  }
}

// --- self-managed: SET GLOBAL ---------------------------------------------------------------

void ApplySetGlobal(collect::TargetSession& target, Run& r, Auditor& audit,
                    const std::vector<steps::VariableChange>& wanted, bool persist,
                    const std::string& reverts) {
  const std::string_view op = reverts.empty() ? "set" : "revert";
  auto outcomes = steps::ApplyChanges(target, wanted, persist, [&](const steps::ChangeOutcome& o) {
    audit.Write(store::Phase::kApplied, o.variable,
                ChangePlan(op, kModeSetGlobal, o.variable, o.previous, false, o.requested, persist,
                           "", reverts),
                "statement accepted", "");
  });
  for (auto& o : outcomes) {
    Change c;
    c.variable = o.variable;
    c.previous = o.previous;
    c.value = o.requested;
    c.now = o.now;
    c.sql = o.sql;
    c.status = std::string(steps::ChangeStatusName(o.status));
    c.detail = o.detail;
    c.error = o.error;
    const std::string plan = ChangePlan(op, kModeSetGlobal, o.variable, o.previous, false,
                                        o.requested, persist, "", reverts);
    const std::string error = o.error ? o.error->ToString() : "";
    switch (o.status) {
      case steps::ChangeStatus::kVerified:
        audit.Write(store::Phase::kVerified, o.variable, plan, o.detail, "");
        break;
      case steps::ChangeStatus::kRefused:
        audit.Write(store::Phase::kRefused, o.variable, plan, o.detail, error);
        break;
      default:
        audit.Write(store::Phase::kFailed, o.variable, plan, o.detail, error);
    }
    r.changes.push_back(std::move(c));
  }
}

void Conclude(Run& r) {
  const bool all = std::all_of(r.changes.begin(), r.changes.end(), [](const Change& c) {
    return c.status == "verified" || c.status == "pending_reboot";
  });
  r.status = all ? "done" : "incomplete";
  r.exit_code = all ? kExitOk : 1;
}

// The applied changes of the run to revert, newest run when `run_id` is empty.
struct RevertSource {
  std::string run_id;
  std::string mode;
  std::string parameter_group;
  bool persist = false;
  // variable -> previous (value, unset), in the order applied
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> previous;
};

// A string field of an audited plan; "" when absent or not a string (the store is a file a
// person could edit: nothing read back from it may throw).
std::string Field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

core::Result<RevertSource> FindRevert(store::Store& store, const std::string& target,
                                      const std::string& run_id) {
  auto entries = store.Recent(kAuditScan, target);
  if (!entries) return core::Fail(entries.error());
  RevertSource source;
  source.run_id = run_id;
  std::set<std::string> reverted_runs;
  for (const auto& rec : *entries) {
    const auto& e = rec.entry;
    if (e.action != kAction) continue;
    auto j = nlohmann::json::parse(e.plan, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (Field(j, "op") == "revert" && e.phase == store::Phase::kVerified) {
      reverted_runs.insert(Field(j, "reverts"));
    }
  }
  // Newest first: the first applied "set" entry names the newest run.
  for (const auto& rec : *entries) {
    const auto& e = rec.entry;
    if (e.action != kAction || e.phase != store::Phase::kApplied) continue;
    auto j = nlohmann::json::parse(e.plan, nullptr, false);
    if (j.is_discarded() || !j.is_object() || Field(j, "op") != "set") continue;
    const std::string variable = Field(j, "variable");
    if (!dialect::IsTunableVariable(variable)) continue;
    if (source.run_id.empty()) source.run_id = e.run_id;
    if (e.run_id != source.run_id) continue;
    source.mode = Field(j, "mode");
    source.parameter_group = Field(j, "parameter_group");
    auto persist = j.find("persist");
    source.persist = persist != j.end() && persist->is_boolean() && persist->get<bool>();
    auto previous = j.find("previous");
    const bool unset = previous == j.end() || !previous->is_string();
    source.previous.insert(
        source.previous.begin(),
        {variable, {unset ? std::string() : previous->get<std::string>(), unset}});
  }
  if (source.previous.empty()) {
    return core::MakeError(
        core::ErrorCode::kNotFound,
        run_id.empty()
            ? fmt::format("no applied tune change of target {} in the audit store", target)
            : fmt::format("run {} changed nothing on target {} (audit store)", run_id, target),
        "the audit entries of `dbrunbook mitigate tune --apply` name the run ids");
  }
  if (reverted_runs.contains(source.run_id)) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("run {} was already reverted", source.run_id),
                           "nothing to restore; check the audit store for later changes");
  }
  return source;
}

}  // namespace

int RunMitigateTune(Env& env, const GlobalOptions& global, const MitigateTuneOptions& options) {
  Run run;
  run.apply = options.apply;
  run.revert = options.revert;
  run.persist = options.persist;
  run.interval_seconds = core::ToSeconds(options.interval);
  // Usage first: nothing is read or connected for a bad command line.
  std::optional<core::Error> usage;
  if (options.interval <= core::Duration::zero() || options.interval > std::chrono::hours(1)) {
    usage = Usage("--interval must be more than 0 and at most 1h",
                  "the counters are read twice, --interval apart (default 10s)");
  } else if (options.persist && !options.apply) {
    usage = Usage("--persist only goes with --apply");
  } else if (options.revert && !options.only.empty()) {
    usage = Usage("--only does not go with --revert: a revert restores the whole run");
  }
  for (const auto& name : options.only) {
    if (!usage && !dialect::IsTunableVariable(name)) {
      std::string names;
      for (auto n : dialect::TunableVariables())
        names += (names.empty() ? "" : ", ") + std::string(n);
      usage = Usage(fmt::format("--only: '{}' is not a variable tune changes", name),
                    "one of: " + names);
    }
  }
  if (usage) {
    env.err << kCommand << ": " << usage->ToString() << "\n";
    return kExitUsage;
  }
  auto lookup = LookupTarget(env, global, options.selection, kCommand);
  if (!lookup) return kExitUsage;
  run.target = lookup->display_name;
  run.endpoint = lookup->endpoint;
  run.run_id = NewRunId(env);
  run.undo_selection =
      options.selection.dsn.empty() ? run.target : fmt::format("--dsn '{}'", run.target);

  auto store =
      OpenAuditStore(env, options.store_path, options.apply || options.revert, run.warnings);
  if (!store) return Fail(env, options, run, nullptr, kExitUsage, store.error());
  if (*store) run.store_path = (*store)->path();
  Auditor audit(env, store->get(), std::string(kAction), run.target, run.run_id, run.warnings);

  if (!lookup->resolved) {
    return Fail(env, options, run, nullptr, ExitCodeForUnresolved(lookup->resolved.error()),
                lookup->resolved.error());
  }
  const config::TargetConfig* config = lookup->resolved->config;
  std::optional<CloudContext> cloud;
  if (config != nullptr && config->cloud) {
    CloudContext c;
    c.resource = CloudResourceOf(*config->cloud, options.aws_endpoint_url);
    auto made = MakeCloudProvider(env, c.resource);
    if (!made) return Fail(env, options, run, nullptr, kExitUsage, made.error());
    c.provider = std::move(*made);
    cloud = std::move(c);
    run.mode = kModeParameterGroup;
  } else {
    run.mode = kModeSetGlobal;
  }

  auto target = collect::OpenTargetSession(env.sessions, lookup->resolved->options, env.clock);
  if (!target) {
    if (options.apply) {
      audit.Write(store::Phase::kFailed, "", "", "could not connect", target.error().ToString());
    }
    return Fail(env, options, run, nullptr, kExitCannotAssess, target.error());
  }
  if (options.persist && (cloud || !dialect::HasSetPersist(target->flavor()))) {
    return Fail(env, options, run, &*target, kExitUsage,
                Usage(fmt::format("--persist: {} has no SET PERSIST",
                                  cloud ? "a parameter group change" : target->flavor().Name()),
                      cloud ? "parameter group changes are persistent already"
                            : "put the values in the option file ([mysqld] section)"));
  }
  if (cloud) {
    auto status = cloud->provider->Status(cloud->resource);
    if (!status) return Fail(env, options, run, &*target, kExitCannotAssess, status.error());
    cloud->status = std::move(*status);
    if (!cloud->status->instance || cloud->status->instance->db_parameter_groups.empty()) {
      return Fail(env, options, run, &*target, kExitUsage,
                  Usage("the cloud: section names no instance with a DB parameter group",
                        "set cloud.instance to the DB instance identifier"));
    }
    run.parameter_group = cloud->status->instance->db_parameter_groups.front().name;
  }

  // --- revert ---------------------------------------------------------------------------
  if (options.revert) {
    if (!*store) {
      return Fail(env, options, run, &*target, kExitUsage,
                  Usage("--revert needs the audit store (the previous values are there)"));
    }
    auto source = FindRevert(**store, run.target, options.revert_run);
    if (!source) {
      return Fail(env, options, run, &*target,
                  source.error().code == core::ErrorCode::kNotFound ? kExitOk : kExitUsage,
                  source.error());
    }
    run.revert_of = source->run_id;
    if (source->mode != run.mode) {
      return Fail(env, options, run, &*target, kExitUsage,
                  Usage(fmt::format("run {} changed the target by {}, this target is now "
                                    "configured for {}",
                                    source->run_id, source->mode, run.mode)));
    }
    for (const auto& [variable, previous] : source->previous) {
      Change c;
      c.variable = variable;
      c.value = previous.first;
      c.previous_unset = previous.second;
      c.status = "planned";
      run.chosen.push_back(variable);
      if (!options.apply) run.changes.push_back(std::move(c));
    }
    audit.Write(store::Phase::kPlanned, "",
                nlohmann::json({{"op", "revert"}, {"reverts", source->run_id}}).dump(),
                fmt::format("restore {} variable(s){}", source->previous.size(),
                            options.apply ? "" : "; dry run"),
                "");
    if (!options.apply) {
      run.status = "planned";
      return Finish(env, options, run, &*target);
    }
    if (cloud) {
      std::vector<std::pair<std::string, std::string>> wanted;
      std::map<std::string, std::pair<std::string, bool>> previous;
      for (const auto& [variable, prev] : source->previous) {
        if (prev.second) {
          Change c;
          c.variable = variable;
          c.previous_unset = true;
          c.status = "refused";
          c.detail = fmt::format(
              "it had no value in the group (engine default): reset it with `aws rds "
              "reset-db-parameter-group --db-parameter-group-name {} --parameters "
              "ParameterName={},ApplyMethod=immediate`",
              run.parameter_group, variable);
          audit.Write(store::Phase::kRefused, variable, "", c.detail, "");
          run.changes.push_back(std::move(c));
          continue;
        }
        wanted.emplace_back(variable, prev.first);
      }
      if (!wanted.empty()) ApplyParameterGroup(*cloud, run, audit, wanted, nullptr, source->run_id);
    } else {
      std::vector<steps::VariableChange> wanted;
      for (const auto& [variable, prev] : source->previous)
        wanted.push_back({variable, prev.first});
      ApplySetGlobal(*target, run, audit, wanted, source->persist, source->run_id);
    }
    Conclude(run);
    return Finish(env, options, run, &*target);
  }

  // --- advice -----------------------------------------------------------------------------
  auto inputs = steps::ReadTuneInputs(*target, env.clock, options.interval);
  if (!inputs) return Fail(env, options, run, &*target, kExitCannotAssess, inputs.error());
  if (cloud) {
    inputs->parameter_groups = true;
    const auto& klass = cloud->status->instance->db_instance_class;
    inputs->memory_bytes = steps::InstanceClassMemory(klass);
    inputs->memory_source = "instance class " + klass;
    auto metrics = cloud->provider->Metrics(cloud->resource, std::chrono::minutes(15),
                                            std::chrono::seconds(60), &*cloud->status);
    if (metrics) {
      for (const auto& m : metrics->metrics) {
        if (m.name == "FreeableMemory" && m.min) inputs->freeable_memory_bytes = m.min;
      }
    } else {
      run.warnings.push_back("FreeableMemory not read: " + metrics.error().ToString());
    }
    if (!inputs->memory_bytes) {
      run.warnings.push_back(fmt::format(
          "the memory of instance class {} is not known here: the buffer pool is not raised",
          klass));
    }
  } else if (IsLocal(lookup->resolved->options)) {
    inputs->memory_bytes = LocalMemory();
    inputs->memory_source = "/proc/meminfo of this host (local target)";
  }
  run.advice = steps::Advise(*inputs);
  run.inputs = std::move(*inputs);
  std::set<std::string> advised;
  for (const auto& a : run.advice) {
    if (!a.applicable || !a.suggested) continue;
    advised.insert(a.variable);
    if (options.only.empty() ||
        std::find(options.only.begin(), options.only.end(), a.variable) != options.only.end()) {
      if (!Chosen(run, a.variable)) run.chosen.push_back(a.variable);
    }
  }
  for (const auto& name : options.only) {
    if (!advised.contains(name)) {
      run.warnings.push_back(
          fmt::format("--only {}: not in this run's applicable advice, not changed", name));
    }
  }
  nlohmann::json plan = nlohmann::json::array();
  for (const auto& a : run.advice) plan.push_back(AdviceJson(a, Chosen(run, a.variable)));
  audit.Write(store::Phase::kPlanned, "", plan.dump(),
              fmt::format("{} advice item(s), {} chosen{}", run.advice.size(), run.chosen.size(),
                          options.apply ? "" : "; dry run"),
              "");
  if (run.chosen.empty()) {
    run.status = "nothing_to_do";
    return Finish(env, options, run, &*target);
  }
  if (!options.apply) {
    run.status = "planned";
    return Finish(env, options, run, &*target);
  }
  if (cloud) {
    std::vector<std::pair<std::string, std::string>> wanted;
    for (const auto& a : run.advice) {
      if (Chosen(run, a.variable) && a.suggested) wanted.emplace_back(a.variable, *a.suggested);
    }
    ApplyParameterGroup(*cloud, run, audit, wanted, nullptr, "");
  } else {
    std::vector<steps::VariableChange> wanted;
    for (const auto& a : run.advice) {
      if (Chosen(run, a.variable) && a.suggested) wanted.push_back({a.variable, *a.suggested});
    }
    ApplySetGlobal(*target, run, audit, wanted, options.persist, "");
  }
  Conclude(run);
  return Finish(env, options, run, &*target);
}

}  // namespace dbrunbook::app
