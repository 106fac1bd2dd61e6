// `dbrunbook mitigate failover TARGET`: promote a replica of TARGET to primary — plan, and with
// --apply fence, promote and verify (steps/mitigate_failover.h) or, for a target with a
// `cloud:` section, RDS PromoteReadReplica / Aurora FailoverDBCluster (failover_cloud.cc) —
// one recovery per cluster at a time and none again within the block period (the store's
// recovery table), every step in the audit store, the application's new endpoint printed and
// the hook run.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "app/failover.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/duration.h"
#include "core/text.h"
#include "dialect/replication.h"
#include "report/render.h"
#include "store/store.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace dbrunbook::app {
namespace {

constexpr std::string_view kCommand = "dbrunbook mitigate failover";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

// host:port (or the socket) of a resolved target: what the application connects to.
std::string HostPort(const mysql::ConnectOptions& o) {
  if (o.uses_socket()) return o.socket;
  if (o.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", o.host, o.port);
  return fmt::format("{}:{}", o.host, o.port);
}

nlohmann::json CheckJson(const steps::PreCheck& c) {
  return {{"name", c.name},
          {"passed", c.passed},
          {"forceable", c.forceable},
          {"forced", c.forced},
          {"detail", c.detail}};
}

nlohmann::json StepJson(const steps::FailoverStep& s) {
  return {{"name", s.name},
          {"server", s.server},
          {"sql", s.sql.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.sql)},
          {"status", steps::FailoverStepStatusName(s.status)},
          {"detail", s.detail},
          {"error", s.error ? report::ErrorJson(*s.error) : nlohmann::json(nullptr)}};
}

nlohmann::json RecoveryJson(const store::Recovery& r) {
  return {{"run_id", r.run_id},           {"started_at", r.started_at},  {"ended_at", r.ended_at},
          {"outcome", r.outcome},         {"os_user", r.os_user},        {"pid", r.pid},
          {"old_primary", r.old_primary}, {"new_primary", r.new_primary}};
}

nlohmann::json RunJson(const FailoverRun& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) checks.push_back(CheckJson(c));
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) steps.push_back(StepJson(s));
  nlohmann::json hook = nullptr;
  if (r.hook) {
    hook = {{"command", r.hook->command},
            {"exit_status",
             r.hook->exit_status ? nlohmann::json(*r.hook->exit_status) : nlohmann::json(nullptr)},
            {"ok", r.hook->ok},
            {"detail", r.hook->detail}};
  }
  nlohmann::json doc = ActionEnvelopeJson(r, "failover");
  doc.update({
      {"kind", r.kind},
      {"cluster", r.cluster},
      {"old_primary", {{"target", r.target}, {"endpoint", r.old_endpoint}}},
      {"new_primary",
       {{"target", r.replica.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.replica)},
        {"endpoint",
         r.new_endpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.new_endpoint)}}},
      {"force", r.force},
      {"acknowledge", r.acknowledge},
      {"reasons", r.reasons},
      {"checks", checks},
      {"planned_steps", r.planned_steps},
      {"steps", steps},
      {"fenced", r.fenced},
      {"promoted", r.promoted},
      {"rolled_back", r.rolled_back},
      {"verified", r.verified},
      {"manual", r.manual},
      {"previous_recovery", r.previous ? RecoveryJson(*r.previous) : nlohmann::json(nullptr)},
      {"block_period_seconds", r.block_period_seconds},
      {"hook", hook},
      {"application_change", r.application_change.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(r.application_change)},
  });
  return doc;
}

std::string Headline(const FailoverRun& r) {
  if (r.status == "planned") return "plan — nothing was changed (add --apply to fail over)";
  if (r.status == "refused") return "refused — nothing was changed";
  if (r.status == "done") return "failed over and verified";
  if (r.status == "hook_failed") return "failed over and verified, but the hook failed";
  if (r.status == "unverified") return "failed over, but the verification failed (see below)";
  if (r.status == "rolled_back") return "failed, and rolled back (see below)";
  if (r.status == "failed") return "FAILED part-way (see below: what is left to do)";
  return "error";
}

std::string RenderText(const FailoverRun& r) {
  std::string out = fmt::format("Failover of {} ({}) to {} ({}): {}\n", Clean(r.target),
                                Clean(r.old_endpoint), r.replica.empty() ? "?" : Clean(r.replica),
                                r.new_endpoint.empty() ? "?" : Clean(r.new_endpoint), Headline(r));
  out += fmt::format("Cluster: {}; {}{}{}\n", Clean(r.cluster), r.kind, r.force ? "; --force" : "",
                     r.acknowledge ? "; --acknowledge" : "");
  if (r.previous) {
    out += fmt::format("Previous recovery of the cluster: {} ({}, run {}, {} -> {})\n",
                       r.previous->started_at, r.previous->outcome, r.previous->run_id,
                       Clean(r.previous->old_primary), Clean(r.previous->new_primary));
  }
  if (!r.checks.empty()) out += "\nPre-checks:\n";
  for (const auto& c : r.checks) {
    const char* mark = c.passed ? "ok    " : c.forced ? "FORCED" : "FAILED";
    out += fmt::format("  [{}] {}: {}\n", mark, c.name, Clean(c.detail));
  }
  if (!r.planned_steps.empty() && r.steps.empty()) {
    out += "\nSteps (in order):\n";
    for (size_t i = 0; i < r.planned_steps.size(); ++i) {
      out += fmt::format("  {}. {}\n", i + 1, Clean(r.planned_steps[i]));
    }
  }
  if (!r.steps.empty()) out += "\nSteps:\n";
  for (const auto& s : r.steps) {
    out += fmt::format("  {} on {}: {} — {}\n", s.name, s.server,
                       steps::FailoverStepStatusName(s.status), Clean(s.detail));
    if (!s.sql.empty()) out += fmt::format("      sql: {}\n", Clean(s.sql));
    if (s.error) out += fmt::format("      error: {}\n", Clean(s.error->ToString()));
  }
  if (!r.reasons.empty()) {
    out += "\nRefused because:\n";
    for (const auto& reason : r.reasons) out += fmt::format("  - {}\n", Clean(reason));
  }
  if (!r.manual.empty()) {
    out += "\nLeft to do by hand:\n";
    for (const auto& m : r.manual) out += fmt::format("  - {}\n", Clean(m));
  }
  if (!r.application_change.empty()) {
    out += fmt::format("\nThe application must now write to the new primary: {}\n",
                       Clean(r.application_change));
  }
  if (r.hook) {
    out += fmt::format("Hook: {} — {}\n", Clean(r.hook->command), Clean(r.hook->detail));
  }
  out += AuditFooter(r.warnings, r.store_path, r.run_id);
  return out;
}

}  // namespace

std::optional<int> AuditPlanOrFinish(FailoverContext& c, const nlohmann::json& plan) {
  FailoverRun& run = c.run;
  const bool apply = c.options.apply;
  if (!run.reasons.empty()) {
    run.status = "refused";
    run.exit_code = 1;
    c.audit.Write(store::Phase::kRefused, "", plan.dump(), apply ? "refused" : "refused (dry run)",
                  fmt::format("{}", fmt::join(run.reasons, "; ")));
    return FinishFailover(c.env, c.options, run);
  }
  c.audit.Write(store::Phase::kPlanned, "", plan.dump(),
                apply ? "pre-checks passed" : "pre-checks passed; dry run", "");
  if (!apply) {
    run.status = "planned";
    return FinishFailover(c.env, c.options, run);
  }
  return std::nullopt;
}

store::Recovery StartingRecovery(Env& env, const FailoverRun& run, std::string new_primary) {
  store::Recovery recovery;
  recovery.cluster = run.cluster;
  recovery.action = "failover";
  recovery.run_id = run.run_id;
  recovery.os_user = store::CurrentOsUser(env.environment);
  recovery.pid = getpid();
  recovery.started_at = core::FormatRfc3339(env.clock.WallNow());
  recovery.started_epoch =
      std::chrono::duration_cast<std::chrono::seconds>(env.clock.WallNow().time_since_epoch())
          .count();
  recovery.old_primary = run.target;
  recovery.new_primary = std::move(new_primary);
  return recovery;
}

int FinishFailover(Env& env, const MitigateFailoverOptions& options, FailoverRun& run) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(RunJson(run)) << "\n";
  } else {
    env.out << RenderText(run);
  }
  if (run.error) {
    PrintActionError(env, kCommand, run);
  }
  return run.exit_code;
}

std::string ClusterName(const config::Config& config, const config::TargetConfig& target) {
  // The connected part of the replica_of / replicas graph around the target.
  std::set<std::string> seen;
  std::vector<std::string> queue = {target.name};
  while (!queue.empty()) {
    const std::string name = queue.back();
    queue.pop_back();
    if (!seen.insert(name).second) continue;
    const config::TargetConfig* t = config.Find(name);
    if (t == nullptr) continue;
    if (!t->replica_of.empty()) queue.push_back(t->replica_of);
    for (const auto& r : t->replicas) queue.push_back(r);
    for (const auto& other : config.targets) {
      if (other.replica_of == name ||
          std::find(other.replicas.begin(), other.replicas.end(), name) != other.replicas.end()) {
        queue.push_back(other.name);
      }
    }
  }
  for (const auto& name : seen) {
    const config::TargetConfig* t = config.Find(name);
    if (t == nullptr) continue;
    if (auto it = t->tags.find("cluster"); it != t->tags.end() && !it->second.empty()) {
      return it->second;
    }
  }
  return *seen.begin();  // the smallest name: stable whichever member is the primary
}

std::vector<std::string> ReplicaCandidates(const config::Config& config,
                                           const config::TargetConfig& target) {
  std::vector<std::string> out = target.replicas;
  for (const auto& t : config.targets) {
    if (t.replica_of == target.name && std::find(out.begin(), out.end(), t.name) == out.end()) {
      out.push_back(t.name);
    }
  }
  return out;
}

HookResult RunHook(const std::string& command, const std::map<std::string, std::string>& vars,
                   const std::vector<std::string>& scrub, core::Duration timeout) {
  HookResult result;
  result.command = command;
  // The environment: ours, without the variables holding passwords, plus the hook's own.
  std::vector<std::string> entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (std::find(scrub.begin(), scrub.end(), name) != scrub.end()) continue;
    if (vars.count(name) > 0) continue;
    entries.push_back(entry);
  }
  for (const auto& [k, v] : vars) entries.push_back(fmt::format("{}={}", k, v));
  std::vector<char*> envp;
  envp.reserve(entries.size() + 1);
  for (auto& e : entries) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::string cmd = command;
  std::vector<char*> argv = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  // The hook's stdout goes to our stderr: stdout carries the report (JSON).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Its own process group, so that a timeout kills what it started too.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    result.detail = fmt::format("cannot start /bin/sh: {}", std::strerror(rc));  // NOLINT
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      result.detail = "lost track of the hook process";
      return result;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.detail = fmt::format(
          "killed after {} s", std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
    result.ok = *result.exit_status == 0;
    result.detail = result.ok ? "exit 0" : fmt::format("failed: exit {}", *result.exit_status);
  } else {
    result.detail = fmt::format("killed by signal {}", WTERMSIG(status));
  }
  return result;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

int RunMitigateFailover(Env& env, const GlobalOptions& global,
                        const MitigateFailoverOptions& options) {
  TargetSelection selection;
  selection.target = options.target;
  auto lookup = LookupTarget(env, global, selection, kCommand);
  if (!lookup) return kExitUsage;

  FailoverRun run;
  run.apply = options.apply;
  run.force = options.force;
  run.acknowledge = options.acknowledge;
  run.target = lookup->display_name;
  run.run_id = NewRunId(env);
  auto usage = [&](core::Error e) {
    run.Fail("error", kExitUsage, std::move(e));
    return FinishFailover(env, options, run);
  };
  if (!lookup->config) {
    return usage(core::Error{core::ErrorCode::kInvalidConfig,
                             "no configuration file",
                             "failover needs the configuration: its replicas come from it",
                             0,
                             {}});
  }
  const config::Config& config = *lookup->config;
  const config::TargetConfig* target = config.Find(options.target);
  if (target == nullptr) {
    return usage(lookup->resolved ? core::Error{core::ErrorCode::kNotFound, "unknown target"}
                                  : lookup->resolved.error());
  }
  run.cluster = ClusterName(config, *target);
  run.kind = target->cloud ? (target->cloud->cluster_identifier.empty() ? "rds" : "aurora")
                           : "replication";
  if (lookup->resolved) run.old_endpoint = HostPort(lookup->resolved->options);

  // The replica to promote. Aurora picks its own when --to is not given.
  const auto candidates = ReplicaCandidates(config, *target);
  if (!options.to.empty()) {
    if (std::find(candidates.begin(), candidates.end(), options.to) == candidates.end() &&
        !(run.kind == "aurora" && config.Find(options.to) == nullptr)) {
      return usage(core::Error{
          core::ErrorCode::kInvalidArgument,
          fmt::format("'{}' is not a configured replica of '{}': never fail over to it", options.to,
                      run.target),
          candidates.empty()
              ? "configure the replica (replicas: on the target, or replica_of: on the replica)"
              : fmt::format("its replicas: {}", fmt::join(candidates, ", ")),
          0,
          {}});
    }
    run.replica = options.to;
  } else if (candidates.size() == 1) {
    run.replica = candidates.front();
  } else if (candidates.size() > 1) {
    return usage(
        core::Error{core::ErrorCode::kInvalidArgument,
                    fmt::format("'{}' has several replicas: choose one with --to", run.target),
                    fmt::format("its replicas: {}", fmt::join(candidates, ", ")),
                    0,
                    {}});
  } else if (run.kind != "aurora") {
    return usage(
        core::Error{core::ErrorCode::kInvalidArgument,
                    fmt::format("'{}' has no configured replica to fail over to", run.target),
                    "configure one (replicas: on the target, or replica_of: on the replica)",
                    0,
                    {}});
  }

  // The audit store: required to act (every step and the cluster's lock are in it).
  auto store = OpenAuditStore(env, options.store_path, options.apply, run.warnings);
  if (!store) return usage(store.error());
  if (*store) run.store_path = (*store)->path();
  Auditor audit(env, store->get(), "failover", run.target, run.run_id, run.warnings);
  FailoverContext context{env, config, *target, *lookup, store->get(), audit, run, options};

  const core::Duration block =
      options.block_period.value_or(config.failover_block_period.value_or(std::chrono::hours(1)));
  run.block_period_seconds = std::chrono::duration_cast<std::chrono::seconds>(block).count();

  // Anti-flapping: the previous recovery of the cluster (shown in a plan too).
  if (*store) {
    auto last = (*store)->LastRecovery(run.cluster);
    if (!last) {
      run.warnings.push_back("cannot read the previous recoveries: " + last.error().ToString());
      if (options.apply) return usage(last.error());
    } else if (last->has_value()) {
      run.previous = **last;
      const int64_t now =
          std::chrono::duration_cast<std::chrono::seconds>(env.clock.WallNow().time_since_epoch())
              .count();
      const int64_t age = now - run.previous->started_epoch;
      if (run.previous->outcome == "running") {
        if (ProcessAlive(run.previous->pid)) {
          run.reasons.push_back(fmt::format(
              "another recovery of cluster '{}' is running (run {}, pid {}, by {}, since {}): "
              "one recovery per cluster at a time",
              run.cluster, run.previous->run_id, run.previous->pid, run.previous->os_user,
              run.previous->started_at));
        } else {
          run.warnings.push_back(fmt::format(
              "recovery run {} (pid {}) ended without releasing the cluster's lock: its "
              "process is gone, the lock is broken",
              run.previous->run_id, run.previous->pid));
          if (options.apply) {
            (void)(*store)->EndRecovery(run.previous->id, "abandoned",
                                        "its process was gone; lock broken by run " + run.run_id);
          }
        }
      } else if (age < run.block_period_seconds && !options.acknowledge) {
        run.reasons.push_back(fmt::format(
            "cluster '{}' was failed over {} s ago (run {} at {}, {}), within the block period "
            "of {} s: give --acknowledge to fail over again",
            run.cluster, age, run.previous->run_id, run.previous->started_at, run.previous->outcome,
            run.block_period_seconds));
      }
    }
  }

  if (run.kind == "replication") return RunReplicationFailover(context);
  return RunCloudFailover(context);
}

int RunReplicationFailover(FailoverContext& c) {
  Env& env = c.env;
  FailoverRun& run = c.run;
  const MitigateFailoverOptions& options = c.options;

  const config::TargetConfig* replica_config = c.config.Find(run.replica);
  auto replica_target = ResolveNamedTarget(env, &c.config, run.replica);
  if (!replica_target) {
    run.Fail("error", ExitCodeForUnresolved(replica_target.error()), replica_target.error());
    return FinishFailover(env, options, run);
  }
  run.new_endpoint = HostPort(replica_target->options);

  // The guardrail the configuration already answers: a target configured as a replica.
  if (!c.target.replica_of.empty() && c.target.replica_of != run.replica) {
    run.reasons.push_back(fmt::format(
        "'{}' is configured as a replica of '{}' (replica_of): fail over its primary instead",
        run.target, c.target.replica_of));
  }
  (void)replica_config;

  // Connect: the replica must answer; the old primary may be down.
  auto replica = collect::OpenTargetSession(env.sessions, replica_target->options, env.clock);
  std::optional<collect::TargetSession> primary;
  steps::PrimaryFacts pf;
  if (c.lookup.resolved) {
    auto opened = collect::OpenTargetSession(env.sessions, c.lookup.resolved->options, env.clock);
    if (opened) {
      primary = std::move(*opened);
    } else {
      pf.error = opened.error();
    }
  } else {
    pf.error = c.lookup.resolved.error();
  }
  if (primary) {
    auto read = steps::ReadPrimaryFacts(*primary);
    if (read) {
      pf = std::move(*read);
    } else {
      pf.error = read.error();
      primary.reset();
    }
  }
  steps::ReplicaFacts rf;
  if (replica) {
    // The relay log may be a few events behind under load: read up to three times.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto read = steps::ReadReplicaFacts(*replica);
      if (!read) {
        rf = steps::ReplicaFacts{};
        rf.error = read.error();
        break;
      }
      rf = std::move(*read);
      if (rf.read_file == rf.exec_file && rf.read_pos == rf.exec_pos) break;
      env.clock.SleepFor(std::chrono::milliseconds(500));
    }
  } else {
    rf.error = replica.error();
  }

  steps::FailoverCheckSettings settings;
  settings.max_lag_seconds = options.max_lag_seconds;
  settings.force = options.force;
  if (c.lookup.resolved) {
    settings.target_host =
        c.lookup.resolved->options.uses_socket() ? "localhost" : c.lookup.resolved->options.host;
    settings.target_port = c.lookup.resolved->options.port;
  }
  settings.replica_host = replica_target->options.host;
  settings.replica_port = replica_target->options.port;
  run.checks = steps::EvaluatePreChecks(pf, rf, settings);
  for (auto& reason : steps::BlockingChecks(run.checks)) run.reasons.push_back(reason);

  run.planned_steps = {
      primary ? fmt::format("fence the old primary: {}",
                            fmt::join(steps::FenceStatements(pf.flavor), "; "))
              : "the old primary cannot be reached: it is NOT fenced",
      "read its final position, wait (at most --wait-timeout) until the replica has applied it",
      fmt::format("on the replica: {}; {}; {}",
                  replica ? dialect::StopReplica(replica->dialect, rf.channel.channel)
                          : std::string("STOP SLAVE"),
                  steps::ResetReplicaAll(rf.flavor, rf.channel.channel),
                  steps::UnfenceStatement(rf.flavor)),
      std::string("verify: the new primary accepts a read-write transaction, the old one "
                  "refuses it (START TRANSACTION READ WRITE; ROLLBACK — nothing is written)"),
      "print the application's new endpoint and run the hook",
  };

  nlohmann::json plan = {{"cluster", run.cluster},
                         {"old_primary", run.old_endpoint},
                         {"new_primary", run.new_endpoint},
                         {"steps", run.planned_steps}};
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& check : run.checks) checks.push_back(CheckJson(check));
  plan["checks"] = checks;

  if (!replica) {
    run.Fail("error", kExitCannotAssess,
             replica.error().WithContext(fmt::format("replica '{}'", run.replica)));
    if (options.apply) {
      c.audit.Write(store::Phase::kFailed, run.replica, plan.dump(),
                    "cannot connect to the replica", replica.error().ToString());
    }
    return FinishFailover(env, options, run);
  }

  if (auto finished = AuditPlanOrFinish(c, plan)) return *finished;

  // The cluster's lock.
  store::Recovery recovery = StartingRecovery(env, run, run.replica);
  auto lock = c.store->BeginRecovery(recovery);
  if (!lock || !lock->id) {
    run.status = "refused";
    run.exit_code = 1;
    if (!lock) {
      run.reasons.push_back("cannot take the cluster's lock: " + lock.error().ToString());
    } else {
      run.reasons.push_back(
          fmt::format("another recovery of cluster '{}' is running (run {}, pid {}): one at a time",
                      run.cluster, lock->holder->run_id, lock->holder->pid));
    }
    c.audit.Write(store::Phase::kRefused, "", plan.dump(), "refused",
                  fmt::format("{}", fmt::join(run.reasons, "; ")));
    return FinishFailover(env, options, run);
  }

  steps::FailoverExecuteOptions execute;
  execute.wait_timeout = options.wait_timeout;
  execute.force = options.force;
  execute.on_step = [&](const steps::FailoverStep& s) {
    const std::string subject = fmt::format("{} {}", s.server, s.name);
    const std::string error = s.error ? s.error->ToString() : "";
    store::Phase phase = store::Phase::kApplied;
    if (s.status == steps::FailoverStepStatus::kFailed) phase = store::Phase::kFailed;
    if (s.status == steps::FailoverStepStatus::kDone && s.name == "verify") {
      phase = store::Phase::kVerified;
    }
    c.audit.Write(phase, subject, s.sql,
                  std::string(steps::FailoverStepStatusName(s.status)) + ": " + s.detail, error);
  };
  auto outcome =
      steps::ExecuteFailover(primary ? &*primary : nullptr, *replica, pf, rf, env.clock, execute);
  run.steps = std::move(outcome.steps);
  run.fenced = outcome.fenced;
  run.promoted = outcome.promoted;
  run.rolled_back = outcome.rolled_back;
  run.verified = outcome.verified;
  run.manual = std::move(outcome.manual);
  if (run.promoted) {
    run.status = run.verified ? "done" : "unverified";
    run.application_change =
        fmt::format("{} (target '{}') instead of {} (target '{}')", run.new_endpoint, run.replica,
                    run.old_endpoint, run.target);
  } else {
    run.status = run.rolled_back ? "rolled_back" : "failed";
  }
  run.exit_code = run.status == "done" ? kExitOk : 1;
  const std::string end_outcome = run.status == "done" ? "done" : "failed";
  if (auto ended = c.store->EndRecovery(*lock->id, end_outcome, run.status); !ended) {
    run.warnings.push_back("the cluster's lock was not released: " + ended.error().ToString());
  }
  if (run.promoted) RunFailoverHook(c);
  return FinishFailover(env, options, run);
}

void RunFailoverHook(FailoverContext& c) {
  FailoverRun& run = c.run;
  const std::string command = c.options.hook ? *c.options.hook : c.config.failover_hook;
  if (command.empty()) return;
  std::map<std::string, std::string> vars = {
      {"DBRUNBOOK_CLUSTER", run.cluster},
      {"DBRUNBOOK_OLD_PRIMARY", run.old_endpoint},
      {"DBRUNBOOK_NEW_PRIMARY", run.new_endpoint},
      {"DBRUNBOOK_OLD_PRIMARY_TARGET", run.target},
      {"DBRUNBOOK_NEW_PRIMARY_TARGET", run.replica},
      {"DBRUNBOOK_FAILOVER_KIND", run.kind},
      {"DBRUNBOOK_FAILOVER_VERIFIED", run.verified ? "1" : "0"},
      {"DBRUNBOOK_RUN_ID", run.run_id},
  };
  // Never hand a password to the hook: the variables the configuration reads passwords from
  // are left out of its environment.
  std::vector<std::string> scrub = {"MYSQL_PWD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"};
  for (const auto& t : c.config.targets) {
    if (!t.password_env.empty()) scrub.push_back(t.password_env);
  }
  run.hook = RunHook(command, vars, scrub, c.options.hook_timeout);
  c.audit.Write(run.hook->ok ? store::Phase::kApplied : store::Phase::kFailed, "hook", command,
                run.hook->detail,
                run.hook->ok ? "" : "the failover hook failed: " + run.hook->detail);
  if (!run.hook->ok) {
    if (run.status == "done") run.status = "hook_failed";
    run.exit_code = 1;
  }
}

}  // namespace dbrunbook::app
