#include "api/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/text.h"

namespace dbrunbook::api {

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
  }
  return "untyped";
}

namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

core::Error Invalid(std::string message, std::string hint = {}) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message), std::move(hint), 0, {}};
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && IsDigit(c));
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiLetter(c) || c == '_' || (i > 0 && IsDigit(c));
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(std::string_view text) {
  const std::string valid = core::ToValidUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeLabelValue(std::string_view text) {
  const std::string valid = core::ToValidUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

MetricFamily SignalFamily(const std::vector<watch::SampleBatch>& latest) {
  MetricFamily family;
  family.name = "dbrunbook_signal";
  family.help =
      "The last value of each signal the watch daemon follows, by target and signal (README, "
      "\"Signals\", gives each one's meaning and unit).";
  family.type = MetricType::kGauge;
  for (const watch::SampleBatch& batch : latest) {
    for (const auto& [signal, value] : batch.values) {
      family.samples.push_back(MetricSample{{{"target", batch.target}, {"signal", signal}}, value});
    }
  }
  return family;
}

core::Result<std::string> WriteExposition(const std::vector<MetricFamily>& families) {
  std::string out;
  std::set<std::string, std::less<>> names;
  for (const MetricFamily& family : families) {
    const std::string where = fmt::format("metric family \"{}\"", family.name);
    if (!IsValidMetricName(family.name)) {
      return core::Fail(Invalid(
          fmt::format("{}: not a valid metric name", where),
          "metric names are ASCII letters, digits, '_' and ':', not starting with a digit"));
    }
    if (family.name.rfind("__", 0) == 0) {
      return core::Fail(Invalid(fmt::format("{}: names starting with \"__\" are reserved", where)));
    }
    if (!names.insert(family.name).second) {
      return core::Fail(Invalid(fmt::format("{}: written twice", where),
                                "put every sample of a metric in one family"));
    }
    const bool total = EndsWith(family.name, "_total");
    if (family.type == MetricType::kCounter && !total) {
      return core::Fail(Invalid(fmt::format("{}: a counter's name must end in _total", where)));
    }
    if (family.type != MetricType::kCounter && total) {
      return core::Fail(
          Invalid(fmt::format("{}: only counters may be named *_total", where),
                  "make it a counter, or drop the _total suffix from the gauge's name"));
    }
    if (family.help.empty()) {
      return core::Fail(Invalid(fmt::format("{}: HELP text is empty", where),
                                "say in one line what the metric measures"));
    }
    std::string lines =
        fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, EscapeHelp(family.help),
                    family.name, MetricTypeName(family.type));
    std::set<std::string> label_sets;
    for (size_t i = 0; i < family.samples.size(); ++i) {
      const MetricSample& sample = family.samples[i];
      const std::string at = fmt::format("{}, sample {}", where, i + 1);
      std::set<std::string, std::less<>> label_names;
      std::string labels;
      for (const auto& [name, value] : sample.labels) {
        if (!IsValidLabelName(name)) {
          return core::Fail(Invalid(
              fmt::format("{}: label name \"{}\" is not valid", at, core::ToValidUtf8(name)),
              "label names are ASCII letters, digits and '_', not starting with a digit"));
        }
        if (name.rfind("__", 0) == 0) {
          return core::Fail(
              Invalid(fmt::format("{}: label names starting with \"__\" are reserved", at)));
        }
        if (!label_names.insert(name).second) {
          return core::Fail(Invalid(fmt::format("{}: label \"{}\" given twice", at, name)));
        }
        labels += labels.empty() ? "{" : ",";
        labels += fmt::format("{}=\"{}\"", name, EscapeLabelValue(value));
      }
      if (!labels.empty()) labels += "}";
      // The same set in another order is the same series.
      auto sorted = sample.labels;
      std::sort(sorted.begin(), sorted.end());
      std::string key;
      for (const auto& [name, value] : sorted) {
        key += fmt::format("{}=\"{}\",", name, EscapeLabelValue(value));
      }
      if (!label_sets.insert(key).second) {
        return core::Fail(Invalid(fmt::format("{}: the same labels as an earlier sample {}", at,
                                              labels.empty() ? "(none)" : labels)));
      }
      if (family.type == MetricType::kCounter && !(sample.value >= 0) &&
          !std::isnan(sample.value)) {
        return core::Fail(Invalid(fmt::format("{}: a counter cannot be negative", at)));
      }
      lines += fmt::format("{}{} {}\n", family.name, labels, FormatSampleValue(sample.value));
    }
    out += lines;
  }
  return out;
}

}  // namespace dbrunbook::api
