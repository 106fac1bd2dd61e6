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

}  // namespace dbrunbook::collect
