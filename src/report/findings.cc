#include "report/findings.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::report {
namespace {

using steps::Finding;
using steps::Severity;

constexpr std::string_view kReset = "\033[0m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kDim = "\033[2m";

std::string_view AnsiFor(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "\033[36m";
    case Severity::kWarning:
      return "\033[33m";
    case Severity::kCritical:
      return "\033[1;31m";
  }
  return "";
}

std::string Paint(std::string_view text, std::string_view ansi, const TableStyle& style) {
  if (!style.color) return std::string(text);
  return fmt::format("{}{}{}", ansi, text, kReset);
}

std::string PadTo(std::string_view s, size_t width) {
  std::string out(s);
  const size_t w = core::DisplayWidth(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string StatusName(const steps::Investigation& inv) {
  if (inv.findings.empty()) return "ok";
  Severity worst = Severity::kInfo;
  for (const auto& f : inv.findings) {
    if (static_cast<int>(f.severity) > static_cast<int>(worst)) worst = f.severity;
  }
  return std::string(steps::SeverityName(worst));
}

std::string Counts(const steps::Investigation& inv) {
  std::map<Severity, int> counts;
  for (const auto& f : inv.findings) ++counts[f.severity];
  return fmt::format("{} critical, {} warning, {} info", counts[Severity::kCritical],
                     counts[Severity::kWarning], counts[Severity::kInfo]);
}

// The evidence rows of a finding as an aligned table indented under it; long values are cut
// to what the terminal has left.
std::string EvidenceTable(const Finding& f, const TableStyle& style, size_t indent) {
  if (f.evidence.empty()) return "";
  // Columns in first-seen order across rows.
  std::vector<std::string> columns;
  for (const auto& row : f.evidence) {
    for (const auto& [name, value] : row.fields()) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : f.evidence) {
    std::vector<std::string> line;
    for (const auto& column : columns) {
      const steps::EvidenceValue* value = row.Find(column);
      line.push_back(value != nullptr ? core::SanitizeForTerminal(steps::EvidenceText(*value))
                                      : std::string());
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> widths(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    widths[c] = core::DisplayWidth(columns[c]);
    for (const auto& line : cells) widths[c] = std::max(widths[c], core::DisplayWidth(line[c]));
  }
  // The last column (usually a statement) takes what the terminal has left.
  size_t used = indent;
  for (size_t c = 0; c + 1 < columns.size(); ++c) used += widths[c] + 2;
  size_t last_width = 0;
  if (style.width > 0) {
    const auto width = static_cast<size_t>(style.width);
    last_width = width > used + 10 ? width - used : 10;
    widths.back() = std::min(widths.back(), last_width);
  }
  auto render = [&](const std::vector<std::string>& values) {
    std::string line(indent, ' ');
    for (size_t c = 0; c < values.size(); ++c) {
      const bool last = c + 1 == values.size();
      const std::string value = last ? core::FitToWidth(values[c], last_width) : values[c];
      line += last ? value : PadTo(value, widths[c]) + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::string out =
      style.color ? fmt::format("{}{}{}", kDim, render(columns), kReset) : render(columns);
  for (const auto& line : cells) out += render(line);
  return out;
}

std::string MarkdownCell(std::string_view text) {
  const std::string s = core::SanitizeForTerminal(text);
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

// SQL in a Markdown code span: backticks inside are made safe by a longer fence.
std::string MarkdownCode(std::string_view sql) {
  const std::string s = core::SanitizeForTerminal(sql);
  const std::string fence = s.find('`') != std::string::npos ? "`` " : "`";
  const std::string close = fence == "`" ? "`" : " ``";
  return fence + s + close;
}

nlohmann::json FlavorObject(const steps::Investigation& inv) {
  return {{"version", inv.server_version}, {"flavor", FlavorJson(inv.flavor)}};
}

}  // namespace

nlohmann::json EvidenceJson(const steps::EvidenceValue& value) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(int64_t v) const { return v; }
    nlohmann::json operator()(double v) const { return v; }
    nlohmann::json operator()(bool v) const { return v; }
    nlohmann::json operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

namespace {

// The steps that ran ("locks 4ms", "mdl (incomplete) 1ms") and those --only left out.
struct StepSummary {
  std::vector<std::string> ran;
  std::vector<std::string> skipped;
};

StepSummary SummarizeSteps(const steps::Investigation& inv) {
  StepSummary summary;
  for (const auto& step : inv.steps) {
    if (!step.ran) {
      summary.skipped.push_back(step.group);
    } else {
      summary.ran.push_back(fmt::format("{}{} {}", step.group, step.failed ? " (incomplete)" : "",
                                        core::FormatDuration(step.elapsed)));
    }
  }
  return summary;
}

}  // namespace

std::string RenderInvestigationTable(const steps::Investigation& inv, const TableStyle& style) {
  using core::SanitizeForTerminal;
  std::string out;
  const std::string title =
      SanitizeForTerminal(fmt::format("Investigation of {} ({})", inv.target, inv.endpoint));
  out += style.color ? fmt::format("{}{}{}\n", kBold, title, kReset) : title + "\n";
  out += fmt::format("{} ({}) · {} · {} · {} statements\n", SanitizeForTerminal(inv.flavor.Name()),
                     SanitizeForTerminal(inv.server_version), core::FormatRfc3339(inv.started_at),
                     core::FormatDuration(inv.elapsed), inv.statements_sent);
  if (inv.findings.empty()) out += "\nNo findings.\n";
  for (const auto& f : inv.findings) {
    const std::string severity = core::ToUpper(steps::SeverityName(f.severity));
    out += fmt::format("\n{}  {}  {}\n", Paint(PadTo(severity, 8), AnsiFor(f.severity), style),
                       Paint(f.code, kBold, style), SanitizeForTerminal(f.title));
    if (!f.detail.empty()) {
      out += fmt::format(
          "          {}\n",
          core::FitToWidth(SanitizeForTerminal(f.detail), style.width > 10 ? style.width - 10 : 0));
    }
    out += EvidenceTable(f, style, 10);
    for (const auto& s : f.suggestions) {
      out += fmt::format("          -> {}{}\n", SanitizeForTerminal(s.text),
                         s.sql.empty() ? "" : ": " + SanitizeForTerminal(s.sql));
    }
  }
  const StepSummary summary = SummarizeSteps(inv);
  out += fmt::format("\nChecked: {}\n", fmt::join(summary.ran, ", "));
  if (!summary.skipped.empty()) {
    out += fmt::format("Not checked (--only): {}\n", fmt::join(summary.skipped, ", "));
  }
  const std::string status = core::ToUpper(StatusName(inv));
  out += fmt::format("Overall: {} ({})\n", status, Counts(inv));
  return out;
}

std::string RenderInvestigationMarkdown(const steps::Investigation& inv) {
  std::string out = fmt::format("### Investigation of {} — {}\n\n", MarkdownCell(inv.target),
                                core::ToUpper(StatusName(inv)));
  out += fmt::format("{} at `{}`, {}, took {} ({})\n", MarkdownCell(inv.flavor.Name()),
                     core::SanitizeForTerminal(inv.endpoint), core::FormatRfc3339(inv.started_at),
                     core::FormatDuration(inv.elapsed), Counts(inv));
  for (const auto& f : inv.findings) {
    out += fmt::format("\n#### {} `{}` — {}\n\n", core::ToUpper(steps::SeverityName(f.severity)),
                       f.code, MarkdownCell(f.title));
    if (!f.detail.empty()) out += MarkdownCell(f.detail) + "\n\n";
    if (!f.evidence.empty()) {
      std::vector<std::string> columns;
      for (const auto& row : f.evidence) {
        for (const auto& [name, value] : row.fields()) {
          if (std::find(columns.begin(), columns.end(), name) == columns.end()) {
            columns.push_back(name);
          }
        }
      }
      out += "|";
      for (const auto& c : columns) out += " " + MarkdownCell(c) + " |";
      out += "\n|";
      for (size_t i = 0; i < columns.size(); ++i) out += "---|";
      out += "\n";
      for (const auto& row : f.evidence) {
        out += "|";
        for (const auto& c : columns) {
          const steps::EvidenceValue* value = row.Find(c);
          out += " " + (value != nullptr ? MarkdownCell(steps::EvidenceText(*value)) : "") + " |";
        }
        out += "\n";
      }
    }
    if (!f.suggestions.empty()) out += "\n";
    for (const auto& s : f.suggestions) {
      out += fmt::format("- {}{}\n", MarkdownCell(s.text),
                         s.sql.empty() ? "" : ": " + MarkdownCode(s.sql));
    }
  }
  const StepSummary summary = SummarizeSteps(inv);
  out +=
      fmt::format("\nChecked: {}.", MarkdownCell(fmt::format("{}", fmt::join(summary.ran, ", "))));
  if (!summary.skipped.empty()) {
    out += fmt::format(" Not checked (--only): {}.",
                       MarkdownCell(fmt::format("{}", fmt::join(summary.skipped, ", "))));
  }
  out += "\n";
  return out;
}

nlohmann::json InvestigationJson(const steps::Investigation& inv) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : inv.findings) {
    nlohmann::json evidence = nlohmann::json::array();
    for (const auto& row : f.evidence) {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& [name, value] : row.fields()) object[name] = EvidenceJson(value);
      evidence.push_back(std::move(object));
    }
    nlohmann::json suggestions = nlohmann::json::array();
    for (const auto& s : f.suggestions) {
      suggestions.push_back(
          {{"text", s.text},
           {"sql", s.sql.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.sql)}});
    }
    findings.push_back({{"code", f.code},
                        {"severity", std::string(steps::SeverityName(f.severity))},
                        {"title", f.title},
                        {"detail", f.detail},
                        {"step", f.step},
                        {"evidence", std::move(evidence)},
                        {"suggestions", std::move(suggestions)}});
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : inv.steps) {
    steps.push_back({{"name", s.name},
                     {"group", s.group},
                     {"ran", s.ran},
                     {"failed", s.failed},
                     {"elapsed_seconds", core::ToSeconds(s.elapsed)},
                     {"statements", s.statements}});
  }
  return {{"schema", "dbrunbook.investigation"},
          {"schema_version", kJsonSchemaVersion},
          {"target", inv.target},
          {"endpoint", inv.endpoint},
          {"started_at", core::FormatRfc3339(inv.started_at)},
          {"elapsed_seconds", core::ToSeconds(inv.elapsed)},
          {"server", FlavorObject(inv)},
          {"status", StatusName(inv)},
          {"exit_code", steps::ExitCodeFor(inv)},
          {"findings", std::move(findings)},
          {"steps", std::move(steps)},
          {"statements_sent", inv.statements_sent},
          {"error", nullptr}};
}

nlohmann::json InvestigationErrorJson(const std::string& target, const std::string& endpoint,
                                      const core::Error& error) {
  return {{"schema", "dbrunbook.investigation"},
          {"schema_version", kJsonSchemaVersion},
          {"target", target},
          {"endpoint", endpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(endpoint)},
          {"status", "unknown"},
          {"exit_code", 3},
          {"findings", nlohmann::json::array()},
          {"error", ErrorJson(error)}};
}

}  // namespace dbrunbook::report
