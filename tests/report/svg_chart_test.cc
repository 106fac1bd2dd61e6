// The incident report's SVG line chart: the y scale's round maximum, the x range, gaps as
// breaks in the line, one point as a marker, no point as a note, the incident window and the
// threshold, and escaping.
#include "report/svg_chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace dbrunbook::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The (x, y) pairs of every polyline, in order.
std::vector<std::vector<std::pair<double, double>>> Polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> out;
  const std::regex polyline("<polyline[^>]*points=\"([^\"]*)\"");
  const std::regex pair("([0-9.]+),([0-9.]+)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), polyline);
       it != std::sregex_iterator(); ++it) {
    std::vector<std::pair<double, double>> points;
    const std::string coords = (*it)[1];
    for (auto p = std::sregex_iterator(coords.begin(), coords.end(), pair);
         p != std::sregex_iterator(); ++p) {
      points.emplace_back(std::stod((*p)[1]), std::stod((*p)[2]));
    }
    out.push_back(points);
  }
  return out;
}

constexpr int64_t kT0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

ChartOptions Options() {
  ChartOptions o;
  o.title = "threads_running";
  o.width = 720;
  o.height = 200;
  o.from_ms = kT0;
  o.to_ms = kT0 + 100'000;
  return o;
}

TEST(NiceCeilingTest, RoundNumbersAtOrAboveTheValue) {
  EXPECT_EQ(NiceCeiling(0), 1);
  EXPECT_EQ(NiceCeiling(-3), 1);
  EXPECT_EQ(NiceCeiling(1), 1);
  EXPECT_EQ(NiceCeiling(1.2), 2);
  EXPECT_EQ(NiceCeiling(2.2), 2.5);
  EXPECT_EQ(NiceCeiling(3), 5);
  EXPECT_EQ(NiceCeiling(7), 10);
  EXPECT_EQ(NiceCeiling(48), 50);
  EXPECT_EQ(NiceCeiling(90), 100);
  EXPECT_EQ(NiceCeiling(0.03), 0.05);
}

TEST(SvgChartTest, PointsScaleIntoThePlotArea) {
  // Plot area: x 56 .. 708 (720 - 12), y 24 .. 170 (200 - 30). y max: NiceCeiling(8) = 10.
  const std::string svg =
      RenderSvgLineChart({{kT0, 0}, {kT0 + 50'000, 8}, {kT0 + 100'000, 4}}, Options());
  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 1U) << svg;
  ASSERT_EQ(lines[0].size(), 3U);
  EXPECT_DOUBLE_EQ(lines[0][0].first, 56.0);
  EXPECT_DOUBLE_EQ(lines[0][0].second, 170.0);  // 0 at the bottom
  EXPECT_DOUBLE_EQ(lines[0][1].first, 382.0);   // halfway
  EXPECT_DOUBLE_EQ(lines[0][1].second, 53.2);   // 170 - 0.8 * 146
  EXPECT_DOUBLE_EQ(lines[0][2].first, 708.0);
  EXPECT_DOUBLE_EQ(lines[0][2].second, 111.6);  // 170 - 0.4 * 146
  // The y labels: 0 .. 10 in quarters; the x ticks are round UTC times.
  EXPECT_THAT(svg, HasSubstr(">10</text>"));
  EXPECT_THAT(svg, HasSubstr(">2.50</text>"));
  EXPECT_THAT(svg, HasSubstr(">08:00:15</text>"));  // 100 s in about 6 steps: every 15 s
  EXPECT_THAT(svg, HasSubstr(">08:01:30</text>"));
  EXPECT_THAT(svg, Not(HasSubstr(">08:01:45</text>")));
  EXPECT_THAT(svg, HasSubstr("time (UTC)"));
  EXPECT_THAT(svg, Not(HasSubstr("no samples")));
}

TEST(SvgChartTest, UnsortedAndNonFinitePointsAreHandled) {
  const std::string svg = RenderSvgLineChart(
      {{kT0 + 100'000, 4}, {kT0, 0}, {kT0 + 60'000, std::nan("")}, {kT0 + 50'000, 8}}, Options());
  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 1U);
  ASSERT_EQ(lines[0].size(), 3U);
  EXPECT_LT(lines[0][0].first, lines[0][1].first);
  EXPECT_LT(lines[0][1].first, lines[0][2].first);
}

TEST(SvgChartTest, AGapBreaksTheLine) {
  // Every 2 s, then nothing for 40 s (an unreachable server stores no sample), then every 2 s.
  std::vector<ChartPoint> points;
  points.reserve(10);
  for (int64_t i = 0; i < 5; ++i) points.push_back({kT0 + i * 2000, 1.0 * static_cast<double>(i)});
  for (int64_t i = 0; i < 5; ++i) points.push_back({kT0 + 48'000 + i * 2000, 2.0});
  const auto lines = Polylines(RenderSvgLineChart(points, Options()));
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].size(), 5U);
  EXPECT_EQ(lines[1].size(), 5U);
  // An explicit gap_ms wider than the hole joins them.
  ChartOptions wide = Options();
  wide.gap_ms = 60'000;
  EXPECT_EQ(Polylines(RenderSvgLineChart(points, wide)).size(), 1U);
}

TEST(SvgChartTest, AnIsolatedPointIsAMarker) {
  std::vector<ChartPoint> points = {{kT0, 1}, {kT0 + 2000, 2}, {kT0 + 4000, 3}, {kT0 + 90'000, 5}};
  const std::string svg = RenderSvgLineChart(points, Options());
  EXPECT_EQ(Polylines(svg).size(), 1U);
  EXPECT_EQ(Count(svg, "<circle"), 1) << svg;
}

TEST(SvgChartTest, OnePoint) {
  ChartOptions o = Options();
  o.from_ms = o.to_ms = 0;  // the points' own range: a minute around the one point
  const std::string svg = RenderSvgLineChart({{kT0, 3}}, o);
  EXPECT_EQ(Count(svg, "<polyline"), 0);
  EXPECT_EQ(Count(svg, "<circle"), 1);
  EXPECT_THAT(svg, HasSubstr("cx=\"382.0\""));  // in the middle
}

TEST(SvgChartTest, NoPointsIsSaidNotDrawn) {
  const std::string svg = RenderSvgLineChart({}, Options());
  EXPECT_EQ(Count(svg, "<polyline"), 0);
  EXPECT_EQ(Count(svg, "<circle"), 0);
  EXPECT_THAT(svg, HasSubstr("no samples in this window"));
  EXPECT_THAT(svg, HasSubstr(">1</text>")) << "the axis still has a scale";
  EXPECT_EQ(svg.rfind("<svg ", 0), 0U);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
}

TEST(SvgChartTest, IncidentWindowAndThreshold) {
  ChartOptions o = Options();
  o.shade_from_ms = kT0 + 25'000;
  o.shade_to_ms = kT0 + 75'000;
  o.threshold = 5;
  o.unit = "s";
  o.title = "longest_query_seconds";
  const std::string svg = RenderSvgLineChart({{kT0, 1}, {kT0 + 100'000, 2}}, o);
  // x 56 + 0.25 * 652 = 219, width 0.5 * 652 = 326; the threshold raises the scale to 5.
  EXPECT_THAT(svg, HasSubstr("class=\"incident-window\" x=\"219.0\" y=\"24.0\" width=\"326.0\""));
  EXPECT_THAT(svg, HasSubstr("class=\"threshold\" x1=\"56.0\" y1=\"24.0\""));
  EXPECT_THAT(svg, HasSubstr("longest_query_seconds (s)"));
  EXPECT_THAT(svg, HasSubstr("<pattern id=\"hatch\""));
}

TEST(SvgChartTest, TextIsEscaped) {
  ChartOptions o = Options();
  o.title = "a<b & \"c\"";
  const std::string svg = RenderSvgLineChart({}, o);
  EXPECT_THAT(svg, HasSubstr("a&lt;b &amp; &quot;c&quot;"));
  EXPECT_THAT(svg, Not(HasSubstr("a<b")));
  EXPECT_EQ(XmlEscape("<'&'>"), "&lt;&#39;&amp;&#39;&gt;");
}

}  // namespace
}  // namespace dbrunbook::report
