#include "app/mitigation.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "app/commands.h"
#include "core/duration.h"
#include "core/text.h"
#include "report/render.h"

namespace dbrunbook::app {

nlohmann::json ActionEnvelopeJson(const ActionRun& run, std::string_view action) {
  return {
      {"schema", "dbrunbook.mitigation"},
      {"schema_version", 1},
      {"action", action},
      {"target", run.target},
      {"apply", run.apply},
      {"status", run.status},
      {"exit_code", run.exit_code},
      {"store", run.store_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.store_path)},
      {"run_id", run.run_id},
      {"warnings", run.warnings},
      {"error", run.error ? report::ErrorJson(*run.error) : nlohmann::json(nullptr)}};
}

void PrintActionError(Env& env, std::string_view command, const ActionRun& run) {
  if (!run.error) return;
  env.err << command << ": " << core::SanitizeForTerminal(run.target) << ": "
          << core::SanitizeForTerminal(run.error->ToString()) << "\n";
}

nlohmann::json ServerJson(const collect::TargetSession* target) {
  if (target == nullptr) return nullptr;
  return {{"version", target->session->info().server_version},
          {"flavor", report::FlavorJson(target->flavor())}};
}

std::string NewRunId(Env& env) {
  return fmt::format("{}-{}", core::FormatRfc3339(env.clock.WallNow()), getpid());
}

core::Result<std::unique_ptr<store::Store>> OpenAuditStore(
    Env& env, const std::optional<std::string>& store_path, bool apply,
    std::vector<std::string>& warnings) {
  core::Result<std::string> path = store_path ? core::Result<std::string>(*store_path)
                                              : store::DefaultStorePath(env.environment);
  core::Result<std::unique_ptr<store::Store>> opened =
      path ? store::Store::Open(*path) : core::Fail(path.error());
  if (opened) return opened;
  if (apply) return core::Fail(opened.error().WithContext("refusing to act without the audit log"));
  warnings.push_back("the plan is not audited: " + opened.error().ToString());
  return std::unique_ptr<store::Store>();
}

Auditor::Auditor(Env& env, store::Store* store, std::string action, std::string target,
                 std::string run_id, std::vector<std::string>& warnings)
    : env_(env),
      store_(store),
      action_(std::move(action)),
      target_(std::move(target)),
      run_id_(std::move(run_id)),
      warnings_(warnings),
      os_user_(store::CurrentOsUser(env.environment)) {}

void Auditor::Write(store::Phase phase, std::string subject, std::string plan, std::string result,
                    std::string error) {
  if (store_ == nullptr) return;
  store::AuditEntry e;
  e.run_id = run_id_;
  e.at = core::FormatRfc3339(env_.clock.WallNow());
  e.os_user = os_user_;
  e.target = target_;
  e.action = action_;
  e.subject = std::move(subject);
  e.phase = phase;
  e.plan = std::move(plan);
  e.result = std::move(result);
  e.error = std::move(error);
  if (auto appended = store_->Append(std::move(e)); !appended) {
    warnings_.push_back("audit entry not written: " + appended.error().ToString());
    env_.log.warn("audit entry not written: {}", appended.error().ToString());
  }
}

std::vector<std::string> ProtectedUsersFor(const TargetLookup& lookup) {
  if (!lookup.config) return {};
  const config::TargetConfig* known =
      lookup.resolved ? lookup.resolved->config : lookup.config->Find(lookup.display_name);
  return known != nullptr ? lookup.config->ProtectedUsersFor(*known)
                          : lookup.config->protected_users;
}

std::string AuditFooter(const std::vector<std::string>& warnings, const std::string& store_path,
                        const std::string& run_id) {
  std::string out;
  for (const auto& w : warnings) {
    out += fmt::format("\nwarning: {}\n", core::SanitizeForTerminal(w));
  }
  if (!store_path.empty()) {
    out +=
        fmt::format("\nAudited in {} (run {}).\n", core::SanitizeForTerminal(store_path), run_id);
  }
  return out;
}

tl::expected<collect::TargetSession, ConnectFailure> ConnectForAction(Env& env,
                                                                      const TargetLookup& lookup,
                                                                      bool apply, Auditor& audit) {
  if (!lookup.resolved) {
    return tl::unexpected(
        ConnectFailure{lookup.resolved.error(), ExitCodeForUnresolved(lookup.resolved.error())});
  }
  auto target = collect::OpenTargetSession(env.sessions, lookup.resolved->options, env.clock);
  if (!target) {
    if (apply) {
      audit.Write(store::Phase::kFailed, "", "", "could not connect", target.error().ToString());
    }
    return tl::unexpected(ConnectFailure{target.error(), kExitCannotAssess});
  }
  return std::move(*target);
}

int ExitCodeForUnresolved(const core::Error& error) {
  return error.code == core::ErrorCode::kNotFound || error.code == core::ErrorCode::kInvalidConfig
             ? kExitUsage
             : kExitCannotAssess;
}

}  // namespace dbrunbook::app
