// A line chart as inline SVG, for the incident report: one signal over time, with a y axis
// from 0 (the signals charted are counts, seconds and percentages) to a round number above the
// largest value, time ticks in UTC, the unit, the incident's window shaded (with a hatch, so it
// reads in black and white), an optional threshold line, and gaps in the samples (the daemon
// stores a sample a minute between incidents, every poll during one; an unreachable server
// stores none) shown as breaks in the line rather than drawn across.
//
// Pure: text in, text out. All text is XML-escaped. Thread-safety: free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbrunbook::report {

struct ChartPoint {
  int64_t at_ms = 0;  // milliseconds since the epoch
  double value = 0;
};

struct ChartOptions {
  std::string title;  // "threads_running"
  std::string unit;   // "s", "%", "" (a count)
  int width = 720;
  int height = 200;
  int64_t from_ms = 0;  // the x axis' range; from_ms >= to_ms: the points' own range
  int64_t to_ms = 0;
  // The incident window (opened .. resolved or now), shaded; none when both are 0.
  int64_t shade_from_ms = 0;
  int64_t shade_to_ms = 0;
  std::optional<double> threshold;  // the trigger's threshold, a dashed line
  // Consecutive points further apart than this break the line; 0: 3x the median spacing
  // (at least 5 s).
  int64_t gap_ms = 0;
};

// The chart's y axis maximum for the largest value: 1, 2, 2.5 or 5 times a power of ten at or
// above it (1 for a largest value <= 0).
double NiceCeiling(double value);

// The SVG element (no XML declaration), width x height user units, scaling with its container
// (viewBox). Points need not be sorted; non-finite values are dropped. No point: the axes and
// "no samples in this window". One point: a marker. Otherwise one <polyline> per run of
// points without a gap (a run of one point is a marker).
std::string RenderSvgLineChart(const std::vector<ChartPoint>& points, const ChartOptions& options);

// Escapes & < > " ' for XML and HTML text and attributes.
std::string XmlEscape(std::string_view text);

}  // namespace dbrunbook::report
