#include "steps/finding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace dbrunbook::steps {

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

EvidenceRow& EvidenceRow::Add(std::string name, EvidenceValue value) {
  fields_.emplace_back(std::move(name), std::move(value));
  return *this;
}

EvidenceRow& EvidenceRow::Add(std::string name, std::optional<std::string> text) {
  if (text) return Add(std::move(name), EvidenceValue(std::move(*text)));
  return Add(std::move(name), EvidenceValue(std::monostate{}));
}

const EvidenceValue* EvidenceRow::Find(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (field == name) return &value;
  }
  return nullptr;
}

std::string EvidenceText(const EvidenceValue& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(int64_t v) const { return fmt::format("{}", v); }
    std::string operator()(double v) const {
      if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15) {
        return fmt::format("{}", static_cast<int64_t>(std::round(v)));
      }
      std::string text = fmt::format("{:.3f}", v);
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
      return text;
    }
    std::string operator()(bool v) const { return v ? "yes" : "no"; }
    std::string operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, value);
}

void SortFindings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) > static_cast<int>(b.severity);
  });
}

}  // namespace dbrunbook::steps
