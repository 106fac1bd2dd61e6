// The Prometheus text exposition format, version 0.0.4, as /metrics serves it.
//
// A family is one metric name with its HELP, its TYPE and its samples. The writer checks
// everything a scraper or `promtool check metrics` would reject or lint before writing a byte:
// metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not starting
// with "__" (reserved), counters named *_total and nothing else named so, a family name used
// once, label names unique within a sample, label sets unique within a family, counters
// finite and not negative. Escaping follows the format: in HELP text backslash and newline
// become \\ and \n; in label values backslash, double quote and newline become \\, \" and \n.
// Text that is not valid UTF-8 has its bad bytes replaced by U+FFFD. Values: the shortest
// text that reads back as the same double, and NaN, +Inf, -Inf.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "watch/signals.h"

namespace dbrunbook::api {

// The Content-Type of a /metrics response.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kGauge, kCounter };
std::string_view MetricTypeName(MetricType type);  // "gauge", "counter"

struct MetricSample {
  // In the order they are written; names checked as described above.
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;  // one line for people; required (promtool lints a missing HELP)
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;  // a family without samples writes HELP and TYPE only
};

bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);
std::string EscapeHelp(std::string_view text);
std::string EscapeLabelValue(std::string_view text);
std::string FormatSampleValue(double value);

// The latest value of every signal of every target, as one gauge family:
//   dbrunbook_signal{target="orders-primary",signal="threads_running"} 12
// One family for all signals rather than one metric per signal: the signal names carry their
// unit the runbook's way (questions_per_s), which promtool's lint rejects in metric names
// ("should not contain abbreviated units"); as a label value it is fine. A batch's absent
// signals have no sample (absent is not 0). Batches in the order given, signals by name.
MetricFamily SignalFamily(const std::vector<watch::SampleBatch>& latest);

// The exposition of `families`, in the given order, ending with a newline. Fails with
// kInvalidArgument naming the family (and sample) on the first rule broken; nothing is
// written then.
core::Result<std::string> WriteExposition(const std::vector<MetricFamily>& families);

}  // namespace dbrunbook::api
