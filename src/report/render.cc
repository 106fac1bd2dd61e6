#include "report/render.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::report {
namespace {

using steps::Level;

std::string_view AnsiFor(Level level) {
  switch (level) {
    case Level::kOk:
      return "\033[32m";
    case Level::kWarn:
      return "\033[33m";
    case Level::kCritical:
      return "\033[1;31m";
    case Level::kUnknown:
      return "\033[35m";
  }
  return "";
}

constexpr std::string_view kReset = "\033[0m";
constexpr std::string_view kBold = "\033[1m";

std::string Pad(std::string_view s, size_t width) {
  std::string out(s);
  const size_t w = core::DisplayWidth(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string Colored(std::string_view text, Level level, const TableStyle& style) {
  if (!style.color) return std::string(text);
  return fmt::format("{}{}{}", AnsiFor(level), text, kReset);
}

std::string MarkdownEscape(std::string_view text) {
  // Control characters (a lone CR also ends a Markdown row) become spaces or \xNN first.
  const std::string s = core::SanitizeForTerminal(text);
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>') {
      out.push_back('\\');
    }
    out.push_back(c == '\n' ? ' ' : c);
  }
  return out;
}

std::string CheckTitle(const steps::Check& c) {
  return core::SanitizeForTerminal(c.channel.empty() ? c.title
                                                     : fmt::format("{} [{}]", c.title, c.channel));
}

// Narrowest detail column: just the ellipsis that says something was cut.
constexpr size_t kMinDetailWidth = 3;

std::string FlavorLine(const steps::Assessment& a) {
  return fmt::format("{} ({})", a.flavor.Name(), a.server_version);
}

std::string Summary(const steps::Assessment& a) {
  int warn = 0;
  int critical = 0;
  int unknown = 0;
  for (const auto& c : a.checks) {
    warn += c.level == Level::kWarn;
    critical += c.level == Level::kCritical;
    unknown += c.level == Level::kUnknown;
  }
  return fmt::format("{} warn, {} critical, {} unknown", warn, critical, unknown);
}

nlohmann::json OptionalNumber(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

double Millis(core::Duration d) { return core::ToSeconds(d) * 1000; }

}  // namespace

std::optional<Format> ParseFormat(std::string_view text) {
  if (core::EqualsIgnoreCase(text, "table")) return Format::kTable;
  if (core::EqualsIgnoreCase(text, "json")) return Format::kJson;
  if (core::EqualsIgnoreCase(text, "markdown") || core::EqualsIgnoreCase(text, "md")) {
    return Format::kMarkdown;
  }
  return std::nullopt;
}

std::string RenderAssessmentTable(const steps::Assessment& a, const TableStyle& style) {
  using core::SanitizeForTerminal;
  std::string out;
  const std::string title =
      SanitizeForTerminal(fmt::format("Assessment of {} ({})", a.target, a.endpoint));
  out += style.color ? fmt::format("{}{}{}\n", kBold, title, kReset) : title + "\n";
  out += fmt::format("{} · {} · sampled over {} · {} statements\n\n",
                     SanitizeForTerminal(FlavorLine(a)), core::FormatRfc3339(a.assessed_at),
                     core::FormatDuration(a.interval), a.statements_sent);
  struct Row {
    Level level;
    std::string title;
    std::string value;
    std::string detail;
  };
  std::vector<Row> rows;
  size_t title_width = 5;
  size_t value_width = 5;
  for (const auto& c : a.checks) {
    Row row{c.level, CheckTitle(c), SanitizeForTerminal(c.display), SanitizeForTerminal(c.detail)};
    title_width = std::max(title_width, core::DisplayWidth(row.title));
    value_width = std::max(value_width, core::DisplayWidth(row.value));
    rows.push_back(std::move(row));
  }
  constexpr size_t kStatusWidth = 8;
  const size_t used = 2 + kStatusWidth + 2 + title_width + 2 + value_width + 2;
  size_t detail_width = 0;  // no limit
  if (style.width > 0) {
    const auto width = static_cast<size_t>(style.width);
    // On a terminal too narrow for the other columns the detail shrinks to its ellipsis.
    detail_width = width > used + kMinDetailWidth ? width - used : kMinDetailWidth;
  }
  out += fmt::format("  {}  {}  {}  {}\n", Pad("STATUS", kStatusWidth), Pad("CHECK", title_width),
                     Pad("VALUE", value_width), "DETAIL");
  for (const auto& row : rows) {
    std::string line =
        fmt::format("  {}  {}  {}  {}",
                    Colored(Pad(steps::LevelName(row.level), kStatusWidth), row.level, style),
                    Pad(row.title, title_width), Pad(row.value, value_width),
                    core::FitToWidth(row.detail, detail_width));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  for (const auto& note : a.notes) out += fmt::format("\n  note: {}", SanitizeForTerminal(note));
  if (!a.notes.empty()) out += "\n";
  const std::string overall = core::ToUpper(steps::LevelName(a.overall));
  out += fmt::format("\nOverall: {} ({})\n", Colored(overall, a.overall, style), Summary(a));
  return out;
}

std::string RenderAssessmentMarkdown(const steps::Assessment& a) {
  std::string out;
  out += fmt::format("### Assessment of {} — {}\n\n", MarkdownEscape(a.target),
                     core::ToUpper(steps::LevelName(a.overall)));
  out += fmt::format("{} at `{}`, {}, sampled over {} ({})\n\n", MarkdownEscape(FlavorLine(a)),
                     a.endpoint, core::FormatRfc3339(a.assessed_at),
                     core::FormatDuration(a.interval), Summary(a));
  out += "| Status | Check | Value | Detail |\n|---|---|---|---|\n";
  for (const auto& c : a.checks) {
    const std::string_view level = steps::LevelName(c.level);
    const std::string status =
        c.level == Level::kOk ? std::string(level) : fmt::format("**{}**", level);
    out += fmt::format("| {} | {} | {} | {} |\n", status, MarkdownEscape(CheckTitle(c)),
                       MarkdownEscape(c.display), MarkdownEscape(c.detail));
  }
  for (const auto& note : a.notes) out += fmt::format("\n> note: {}\n", MarkdownEscape(note));
  return out;
}

std::string ToJsonText(const nlohmann::json& document) {
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json ErrorJson(const core::Error& error) {
  nlohmann::json j = {{"code", std::string(core::ErrorCodeName(error.code))},
                      {"message", error.message},
                      {"hint", error.hint}};
  if (error.server_errno != 0) j["server_errno"] = error.server_errno;
  if (!error.sqlstate.empty()) j["sqlstate"] = error.sqlstate;
  return j;
}

nlohmann::json FlavorJson(const dialect::Flavor& flavor) {
  return {
      {"id", flavor.Id()},
      {"name", flavor.Name()},
      {"product", std::string(dialect::ProductId(flavor.product))},
      {"platform", std::string(dialect::PlatformId(flavor.platform))},
      {"version", flavor.version.ToString()},
      {"aurora_version", flavor.aurora_version.empty() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(flavor.aurora_version)}};
}

nlohmann::json CheckJson(const steps::Check& c) {
  nlohmann::json j = {
      {"id", c.id},
      {"title", c.title},
      {"status", std::string(steps::LevelName(c.level))},
      {"value", OptionalNumber(c.value)},
      {"unit", c.unit},
      {"display", c.display},
      {"detail", c.detail},
      {"channel", c.channel.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.channel)}};
  if (!c.threshold.empty()) {
    j["thresholds"] = {{"warn", OptionalNumber(c.threshold.warn)},
                       {"critical", OptionalNumber(c.threshold.critical)},
                       {"direction", std::string(steps::DirectionName(c.threshold.direction))}};
  } else {
    j["thresholds"] = nullptr;
  }
  return j;
}

nlohmann::json AssessmentJson(const steps::Assessment& a) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : a.checks) checks.push_back(CheckJson(c));
  return {{"schema", "dbrunbook.assessment"},
          {"schema_version", kJsonSchemaVersion},
          {"target", a.target},
          {"endpoint", a.endpoint},
          {"assessed_at", core::FormatRfc3339(a.assessed_at)},
          {"interval_seconds", core::ToSeconds(a.interval)},
          {"server", {{"version", a.server_version}, {"flavor", FlavorJson(a.flavor)}}},
          {"status", std::string(steps::LevelName(a.overall))},
          {"exit_code", steps::ExitCodeFor(a.overall)},
          {"checks", std::move(checks)},
          {"notes", a.notes},
          {"statements_sent", a.statements_sent},
          {"error", nullptr}};
}

nlohmann::json AssessmentErrorJson(const std::string& target, const std::string& endpoint,
                                   const core::Error& error,
                                   const std::vector<steps::Check>& other_checks) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : other_checks) checks.push_back(CheckJson(c));
  return {{"schema", "dbrunbook.assessment"},
          {"schema_version", kJsonSchemaVersion},
          {"target", target},
          {"endpoint", endpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(endpoint)},
          {"status", "unknown"},
          {"exit_code", 3},
          {"checks", std::move(checks)},
          {"error", ErrorJson(error)}};
}

std::string RenderConnectivityTable(const std::vector<steps::ConnectivityResult>& results,
                                    const TableStyle& style) {
  using core::SanitizeForTerminal;
  std::string out;
  for (const auto& r : results) {
    const Level level = r.reachable() ? Level::kOk : Level::kCritical;
    const std::string verdict = r.reachable() ? "reachable" : "UNREACHABLE";
    const std::string heading = SanitizeForTerminal(fmt::format("{} ({})", r.target, r.endpoint));
    out += fmt::format("{}  {}\n", Colored(Pad(verdict, 11), level, style), heading);
    if (!r.reachable()) {
      out += fmt::format("    error:      {}\n", SanitizeForTerminal(r.error->message));
      if (!r.error->hint.empty()) {
        out += fmt::format("    what to do: {}\n", SanitizeForTerminal(r.error->hint));
      }
      continue;
    }
    out += fmt::format("    user:       {}\n", SanitizeForTerminal(r.user));
    out += fmt::format("    tls:        {}\n",
                       r.tls ? fmt::format("on ({}, {})", r.tls_version, r.tls_cipher) : "off");
    out += fmt::format("    connect:    {:.1f} ms (transport + TLS + authentication)\n",
                       Millis(r.connect_time));
    out += fmt::format("    round trip: {:.2f} ms median of {} (SELECT 1)\n",
                       Millis(r.median_round_trip), r.round_trips.size());
    out += fmt::format("    server:     {}\n", SanitizeForTerminal(r.server_version));
    out += fmt::format("    flavor:     {}\n", SanitizeForTerminal(r.flavor.Name()));
  }
  const auto reachable =
      std::count_if(results.begin(), results.end(), [](const auto& r) { return r.reachable(); });
  out += fmt::format("\n{} of {} targets reachable\n", reachable, results.size());
  return out;
}

std::string RenderConnectivityMarkdown(const std::vector<steps::ConnectivityResult>& results) {
  std::string out =
      "| Target | Endpoint | Reachable | TLS | Connect | Round trip | Flavor | Error |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : results) {
    if (r.reachable()) {
      out += fmt::format("| {} | `{}` | yes | {} | {:.1f} ms | {:.2f} ms | {} | |\n",
                         MarkdownEscape(r.target), r.endpoint,
                         r.tls ? MarkdownEscape(r.tls_version) : "off", Millis(r.connect_time),
                         Millis(r.median_round_trip), MarkdownEscape(r.flavor.Name()));
    } else {
      out += fmt::format("| {} | `{}` | **no** | | | | | {} |\n", MarkdownEscape(r.target),
                         r.endpoint, MarkdownEscape(r.error->ToString()));
    }
  }
  return out;
}

nlohmann::json ConnectivityJson(const std::vector<steps::ConnectivityResult>& results) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json j = {{"target", r.target},
                        {"endpoint", r.endpoint},
                        {"user", r.user},
                        {"reachable", r.reachable()}};
    if (r.reachable()) {
      nlohmann::json trips = nlohmann::json::array();
      for (const auto& d : r.round_trips) trips.push_back(Millis(d));
      j["tls"] = r.tls ? nlohmann::json{{"version", r.tls_version}, {"cipher", r.tls_cipher}}
                       : nlohmann::json(nullptr);
      j["connect_ms"] = Millis(r.connect_time);
      j["detect_ms"] = Millis(r.detect_time);
      j["round_trip_ms"] = {{"median", Millis(r.median_round_trip)}, {"samples", trips}};
      j["server_version"] = r.server_version;
      j["flavor"] = FlavorJson(r.flavor);
      j["error"] = nullptr;
    } else {
      j["error"] = ErrorJson(*r.error);
    }
    targets.push_back(std::move(j));
  }
  const bool all =
      std::all_of(results.begin(), results.end(), [](const auto& r) { return r.reachable(); });
  return {{"schema", "dbrunbook.check"},
          {"schema_version", kJsonSchemaVersion},
          {"all_reachable", all},
          {"targets", std::move(targets)}};
}

}  // namespace dbrunbook::report
