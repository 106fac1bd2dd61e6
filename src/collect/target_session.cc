#include "collect/target_session.h"

#include <fmt/format.h>

namespace dbrunbook::collect {

core::Result<TargetSession> OpenTargetSession(mysql::SessionFactory& factory,
                                              mysql::ConnectOptions options, core::Clock& clock) {
  options.init_statements = dialect::Dialect::UniversalSessionSetup();
  options.warnings_statement = dialect::Dialect::ShowWarnings();
  auto session = factory.Connect(options);
  if (!session) return core::Fail(session.error());

  const auto start = clock.MonotonicNow();
  auto detection = dialect::Detect(**session);
  if (!detection) return core::Fail(detection.error());
  if (!detection->flavor.detected()) {
    return core::MakeError(
        core::ErrorCode::kUnsupported,
        fmt::format("target '{}': cannot recognise the server (version '{}', version_comment '{}')",
                    options.target_name, detection->flavor.version_string,
                    detection->flavor.version_comment),
        "dbrunbook supports MySQL 5.7+, Percona Server, MariaDB 10.x/11.x, Amazon RDS and Aurora "
        "MySQL; please report this server's SHOW VARIABLES LIKE 'version%'");
  }
  TargetSession target{std::move(*session),
                       dialect::Dialect(detection->flavor),
                       std::move(detection->variables),
                       {},
                       {}};
  for (const auto& statement : target.dialect.SessionSetup()) {
    auto result = target.session->Query(statement);
    if (!result) target.setup_notes.push_back(result.error().ToString());
  }
  target.detect_time = clock.MonotonicNow() - start;
  return target;
}

core::Result<dialect::PrivilegeState> GlobalPrivilege(TargetSession& target,
                                                      std::string_view privilege) {
  if (!target.grants) {
    auto result = target.session->Query(dialect::ShowGrantsStatement());
    if (!result) return core::Fail(result.error());
    std::vector<std::string> lines;
    lines.reserve(result->rows.size());
    for (const auto& row : result->rows) lines.push_back(row.at(0).StringOr(""));
    target.grants = std::move(lines);
  }
  return dialect::GlobalPrivilege(*target.grants, privilege);
}

std::string QuotedAccount(TargetSession& target) {
  std::string account = target.session->info().user + "@%";
  auto result = target.session->Query(dialect::Dialect::CurrentAccount());
  if (result && !result->rows.empty()) account = result->rows[0]["account"].StringOr(account);
  const auto at = account.rfind('@');
  if (at == std::string::npos) return fmt::format("'{}'", account);
  return fmt::format("'{}'@'{}'", account.substr(0, at), account.substr(at + 1));
}

core::Status RequireGlobalPrivilege(TargetSession& target, std::string_view privilege,
                                    std::string_view why) {
  auto state = GlobalPrivilege(target, privilege);
  // SHOW GRANTS itself failing says nothing about the privilege: let the step try.
  if (!state || *state != dialect::PrivilegeState::kMissing) return {};
  return core::MakeError(
      core::ErrorCode::kPrivilege,
      fmt::format("the monitoring account lacks the {} privilege on target '{}': {}", privilege,
                  target.target_name(), why),
      fmt::format("GRANT {} ON *.* TO the monitoring account", privilege));
}

}  // namespace dbrunbook::collect
