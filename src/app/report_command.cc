// `dbrunbook report ID`: the incident report of a watch-daemon incident, from the store.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "app/commands.h"
#include "app/runbooks.h"
#include "app/targets.h"
#include "report/incident_report.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kPrefix = "dbrunbook report: ";
constexpr int kExitUnknownIncident = 1;

// Writes `text` to `path` through a temporary file renamed over it, so a reader never sees half
// a report.
core::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return core::MakeError(core::ErrorCode::kIo, fmt::format("cannot write {}", path),
                             "check that its directory exists and is writable");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    return core::MakeError(core::ErrorCode::kIo,
                           fmt::format("cannot write {}: {}", path, error.message()),
                           "check that its directory exists and is writable");
  }
  return {};
}

}  // namespace

int RunReport(Env& env, const GlobalOptions& global, const ReportCommandOptions& options) {
  if (options.format != "markdown" && options.format != "html" && options.format != "json") {
    env.err << kPrefix << "unknown --format '" << options.format
            << "' — use markdown, html or json\n";
    return kExitUsage;
  }
  std::string path;
  if (options.store_path) {
    path = *options.store_path;
  } else {
    auto found = store::DefaultStorePath(env.environment);
    if (!found) {
      env.err << kPrefix << found.error().ToString() << "\n";
      return kExitUsage;
    }
    path = *found;
  }
  // Opening a store creates it: a report of a store that is not there is a typo, not a new
  // empty store.
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error)) {
    env.err << kPrefix << "the store " << path
            << " does not exist — give the file `dbrunbook watch` uses with --store FILE\n";
    return kExitUsage;
  }
  auto store = store::Store::Open(path);
  if (!store) {
    env.err << kPrefix << store.error().ToString() << "\n";
    return kExitUsage;
  }
  auto runbook = LoadRunbookOrDefault(options.runbook_path, env.clock);
  if (!runbook) {
    for (const auto& d : runbook.error()) env.err << d.ToString() << "\n";
    env.err << kPrefix << "the runbook is invalid — fix it, or leave --runbook out for the "
            << "built-in one\n";
    return kExitUsage;
  }
  auto input = report::LoadIncidentReport(**store, options.id, *runbook, env.clock.WallNow());
  if (!input) {
    env.err << kPrefix << input.error().ToString() << "\n";
    return input.error().code == core::ErrorCode::kNotFound ? kExitUnknownIncident : kExitUsage;
  }
  // The target's tags (affected services) from the configuration, when there is one; a report
  // of the past does not fail on today's configuration.
  auto config = LoadConfiguration(env, global, /*required=*/false);
  if (!config) {
    env.err << kPrefix
            << "without the configuration's tags (affected services): " << config.error().ToString()
            << "\n";
  } else if (*config) {
    for (const auto& target : (*config)->targets) {
      if (target.name == input->record.target) input->target_tags = target.tags;
    }
  }
  auto built = report::BuildIncidentReport(*input);
  if (!built) {
    env.err << kPrefix << built.error().ToString() << "\n";
    return kExitUsage;
  }
  std::string text;
  if (options.format == "html") {
    text = report::RenderIncidentHtml(*built);
  } else if (options.format == "json") {
    text = report::ToJsonText(report::IncidentReportJson(*built)) + "\n";
  } else {
    text = report::RenderIncidentMarkdown(*built);
  }
  if (!options.output) {
    env.out << text;
    return kExitOk;
  }
  if (auto written = WriteFileAtomically(*options.output, text); !written) {
    env.err << kPrefix << written.error().ToString() << "\n";
    return kExitUsage;
  }
  env.err << "incident " << options.id << " report (" << options.format << ") written to "
          << *options.output << "\n";
  return kExitOk;
}

}  // namespace dbrunbook::app
