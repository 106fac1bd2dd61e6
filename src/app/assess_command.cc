#include <fmt/format.h>

#include "app/commands.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "steps/assess.h"

namespace dbrunbook::app {
namespace {

int CannotAssess(Env& env, const AssessCommandOptions& options, const std::string& target,
                 const std::string& endpoint, const core::Error& error) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(report::AssessmentErrorJson(target, endpoint, error)) << "\n";
  }
  env.err << "dbrunbook assess: cannot assess " << target << ": " << error.ToString() << "\n";
  return kExitCannotAssess;
}

}  // namespace

int RunAssess(Env& env, const GlobalOptions& global, const AssessCommandOptions& options) {
  // A configured TARGET, or an ad-hoc one: --dsn, or the connection of a --defaults-file.
  const auto& credentials = options.credentials;
  const bool has_credentials = !credentials.password_env.empty() ||
                               !credentials.password_file.empty() ||
                               !credentials.defaults_file.empty();
  const bool ad_hoc = !options.dsn.empty() || !credentials.defaults_file.empty();
  if (!options.target.empty() && (!options.dsn.empty() || has_credentials)) {
    env.err << "dbrunbook assess: a configured TARGET takes its connection and credentials from "
               "the configuration; --dsn, --password-env, --password-file and --defaults-file "
               "are for ad-hoc targets\n";
    return kExitCannotAssess;
  }
  if (options.target.empty() && !ad_hoc) {
    env.err << "dbrunbook assess: give a TARGET name, or --dsn URL (or --defaults-file holding "
               "the connection)\n";
    return kExitCannotAssess;
  }
  auto loaded = LoadConfiguration(env, global, /*required=*/!ad_hoc);
  if (!loaded) return kExitCannotAssess;
  const config::Config* config = loaded->has_value() ? &**loaded : nullptr;

  auto resolved = ad_hoc ? ResolveDsnTarget(env, options.dsn, options.credentials)
                         : ResolveNamedTarget(env, config, options.target);
  if (!resolved) {
    const config::TargetConfig* known =
        config != nullptr && !options.target.empty() ? config->Find(options.target) : nullptr;
    return CannotAssess(env, options, options.target.empty() ? options.dsn : options.target,
                        known != nullptr ? known->connect.Endpoint() : std::string(),
                        resolved.error());
  }
  steps::AssessOptions assess_options = AssessOptionsFor(config, resolved->config);
  if (options.interval) assess_options.interval = *options.interval;

  auto target = collect::OpenTargetSession(env.sessions, resolved->options, env.clock);
  if (!target) {
    return CannotAssess(env, options, resolved->name, resolved->options.Endpoint(), target.error());
  }

  const steps::Assessment assessment = steps::RunAssessment(*target, env.clock, assess_options);
  switch (options.format) {
    case report::Format::kJson:
      env.out << report::ToJsonText(report::AssessmentJson(assessment)) << "\n";
      break;
    case report::Format::kMarkdown:
      env.out << report::RenderAssessmentMarkdown(assessment);
      break;
    case report::Format::kTable:
      env.out << report::RenderAssessmentTable(
          assessment, report::TableStyle{UseColor(env, global), env.terminal_width});
      break;
  }
  return steps::ExitCodeFor(assessment.overall);
}

}  // namespace dbrunbook::app
