#include "report/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/clock.h"
#include "core/duration.h"

namespace dbrunbook::report {
namespace {

constexpr double kLeft = 56;  // room for the y labels
constexpr double kRight = 12;
constexpr double kTop = 24;     // the title
constexpr double kBottom = 30;  // the x labels
constexpr int64_t kMinGapMs = 5000;

std::string Number(double v) {
  if (std::fabs(v) >= 1e6) return fmt::format("{:.3g}", v);
  if (v == std::floor(v)) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.2f}", v);
}

std::string Coord(double v) { return fmt::format("{:.1f}", v); }

// "HH:MM:SS" of an epoch millisecond, UTC.
std::string TimeLabel(int64_t at_ms) {
  const std::string full =
      core::FormatRfc3339(core::WallTime(std::chrono::milliseconds(at_ms)));  // ...T10:04:12.000Z
  return full.size() >= 19 ? full.substr(11, 8) : full;
}

// A round tick step for a span of `span_ms` in about `ticks` steps.
int64_t TimeStep(int64_t span_ms, int ticks) {
  static constexpr int64_t kSteps[] = {1000,    2000,    5000,     10000,    15000,    30000,
                                       60000,   120000,  300000,   600000,   900000,   1800000,
                                       3600000, 7200000, 10800000, 21600000, 43200000, 86400000};
  for (int64_t step : kSteps) {
    if (span_ms / step <= ticks) return step;
  }
  return 86400000 * ((span_ms / 86400000) / ticks + 1);
}

}  // namespace

double NiceCeiling(double value) {
  if (!(value > 0) || !std::isfinite(value)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(value)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * power >= value * (1 - 1e-12)) return m * power;
  }
  return 10 * power;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderSvgLineChart(const std::vector<ChartPoint>& input, const ChartOptions& o) {
  std::vector<ChartPoint> points;
  for (const ChartPoint& p : input) {
    if (std::isfinite(p.value)) points.push_back(p);
  }
  std::sort(points.begin(), points.end(),
            [](const ChartPoint& a, const ChartPoint& b) { return a.at_ms < b.at_ms; });

  int64_t from = o.from_ms;
  int64_t to = o.to_ms;
  if (from >= to) {
    from = points.empty() ? 0 : points.front().at_ms;
    to = points.empty() ? 1 : points.back().at_ms;
    if (from >= to) {  // one point, or all at one instant: a minute around it
      from -= 30000;
      to += 30000;
    }
  }
  double max_value = 0;
  for (const ChartPoint& p : points) max_value = std::max(max_value, p.value);
  if (o.threshold) max_value = std::max(max_value, *o.threshold);
  const double y_max = NiceCeiling(max_value);

  const double w = o.width;
  const double h = o.height;
  const double plot_w = w - kLeft - kRight;
  const double plot_h = h - kTop - kBottom;
  auto x_of = [&](int64_t at) {
    const double f = static_cast<double>(at - from) / static_cast<double>(to - from);
    return kLeft + std::clamp(f, 0.0, 1.0) * plot_w;
  };
  auto y_of = [&](double v) { return kTop + plot_h - std::clamp(v / y_max, 0.0, 1.0) * plot_h; };

  const std::string title = o.unit.empty() ? o.title : fmt::format("{} ({})", o.title, o.unit);
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">\n",
      o.width, o.height, o.width, o.height, XmlEscape(title));
  // The hatch for the incident window: visible without colour.
  svg +=
      "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
      "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fde8e8\"/>"
      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b0b0b0\" stroke-width=\"1\"/>"
      "</pattern></defs>\n";
  svg += fmt::format(
      "<text class=\"chart-title\" x=\"{}\" y=\"15\" font-size=\"13\" "
      "font-weight=\"bold\">{}</text>\n",
      Coord(kLeft), XmlEscape(title));
  if (o.shade_from_ms != 0 || o.shade_to_ms != 0) {
    const double x1 = x_of(std::max(o.shade_from_ms, from));
    const double x2 = x_of(std::min(o.shade_to_ms > 0 ? o.shade_to_ms : to, to));
    if (x2 > x1) {
      svg += fmt::format(
          "<rect class=\"incident-window\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
          "fill=\"url(#hatch)\" stroke=\"#c04040\" stroke-dasharray=\"4 2\"><title>incident "
          "window</title></rect>\n",
          Coord(x1), Coord(kTop), Coord(x2 - x1), Coord(plot_h));
    }
  }
  // Y axis: 0, quarter steps, y_max.
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4;
    const double y = y_of(v);
    svg += fmt::format(
        "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#dddddd\"/>"
        "<text class=\"y-label\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}"
        "</text>\n",
        Coord(kLeft), Coord(y), Coord(kLeft + plot_w), Coord(y), Coord(kLeft - 4), Coord(y + 3),
        XmlEscape(Number(v)));
  }
  // X axis: round UTC times.
  const int64_t step = TimeStep(to - from, 6);
  for (int64_t t = (from / step + 1) * step; t < to; t += step) {
    const double x = x_of(t);
    svg += fmt::format(
        "<line class=\"tick\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999999\"/>"
        "<text class=\"x-label\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}"
        "</text>\n",
        Coord(x), Coord(kTop + plot_h), Coord(x), Coord(kTop + plot_h + 4), Coord(x),
        Coord(kTop + plot_h + 15), TimeLabel(t));
  }
  svg += fmt::format(
      "<line class=\"axis\" x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333333\"/>"
      "<line class=\"axis\" x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"#333333\"/>\n",
      Coord(kLeft), Coord(kTop), Coord(kTop + plot_h), Coord(kLeft + plot_w));
  svg += fmt::format(
      "<text class=\"x-caption\" x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">time "
      "(UTC)</text>\n",
      Coord(kLeft + plot_w), Coord(h - 2));
  if (o.threshold) {
    const double y = y_of(*o.threshold);
    svg += fmt::format(
        "<line class=\"threshold\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000000\" "
        "stroke-dasharray=\"6 3\"><title>threshold {}</title></line>\n",
        Coord(kLeft), Coord(y), Coord(kLeft + plot_w), Coord(y), XmlEscape(Number(*o.threshold)));
  }

  if (points.empty()) {
    svg += fmt::format(
        "<text class=\"no-data\" x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" "
        "fill=\"#555555\">no samples in this window</text>\n",
        Coord(kLeft + plot_w / 2), Coord(kTop + plot_h / 2));
    svg += "</svg>";
    return svg;
  }

  int64_t gap = o.gap_ms;
  if (gap <= 0) {
    std::vector<int64_t> spacing;
    for (size_t i = 1; i < points.size(); ++i) {
      spacing.push_back(points[i].at_ms - points[i - 1].at_ms);
    }
    int64_t median = 0;
    if (!spacing.empty()) {
      std::nth_element(spacing.begin(),
                       spacing.begin() + static_cast<ptrdiff_t>(spacing.size() / 2), spacing.end());
      median = spacing[spacing.size() / 2];
    }
    gap = std::max(kMinGapMs, 3 * median);
  }
  // Runs of points without a gap: a polyline each, a marker for a run of one.
  size_t start = 0;
  for (size_t i = 1; i <= points.size(); ++i) {
    if (i < points.size() && points[i].at_ms - points[i - 1].at_ms <= gap) continue;
    if (i - start == 1) {
      svg +=
          fmt::format("<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#1f3a93\"/>\n",
                      Coord(x_of(points[start].at_ms)), Coord(y_of(points[start].value)));
    } else {
      std::string coords;
      for (size_t j = start; j < i; ++j) {
        if (!coords.empty()) coords += ' ';
        coords += Coord(x_of(points[j].at_ms)) + "," + Coord(y_of(points[j].value));
      }
      svg += fmt::format(
          "<polyline class=\"series\" fill=\"none\" stroke=\"#1f3a93\" stroke-width=\"1.8\" "
          "points=\"{}\"/>\n",
          coords);
    }
    start = i;
  }
  svg += "</svg>";
  return svg;
}

}  // namespace dbrunbook::report
