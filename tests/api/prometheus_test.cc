// The exposition writer, and Prometheus's own promtool reading what it writes.
#include "api/prometheus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "support/peer_tools.h"
#include "support/temp_file.h"

namespace dbrunbook::api {
namespace {

using ::testing::HasSubstr;

struct ToolRun {
  int exit_code = -1;
  std::string output;
};

// `promtool check metrics` reading `exposition` on stdin (as `curl ... | promtool check
// metrics` does); stdout and stderr together.
ToolRun PromtoolCheck(const std::string& exposition) {
  ToolRun run;
  const std::string promtool = testing::FindInPath("promtool");
  if (promtool.empty()) {
    ADD_FAILURE() << "promtool not found on PATH: install Debian's prometheus package "
                     "(scripts/setup)";
    return run;
  }
  testing::TempFile file;
  const auto created = file.Create(exposition, "dbrunbook-exposition");
  if (!created) {
    ADD_FAILURE() << created.error().ToString();
    return run;
  }
  const std::string command = promtool + " check metrics < " + file.path() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c): a test running a peer
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return run;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::vector<MetricFamily> Tricky() {
  std::vector<MetricFamily> families;
  families.push_back(MetricFamily{
      "dbrunbook_signal_value",
      "The last value of each signal, by target and signal. A backslash \\ and a\nnewline.",
      MetricType::kGauge,
      {
          {{{"target", "orders-primary"}, {"signal", "threads_running"}}, 12},
          {{{"target", "quote\"d \\ back\\slash\nnew line"}, {"signal", "x"}}, 0.25},
          {{{"target", "ünïcødé-数据库-🚀"}, {"signal", "x"}}, -3.5e-9},
          {{{"target", "nan"}, {"signal", "x"}}, std::nan("")},
          {{{"target", "inf"}, {"signal", "x"}}, std::numeric_limits<double>::infinity()},
          {{{"target", "-inf"}, {"signal", "x"}}, -std::numeric_limits<double>::infinity()},
          {{{"target", ""}, {"signal", "empty target"}}, 1e21},
      }});
  families.push_back(MetricFamily{"dbrunbook_http_requests_total",
                                  "HTTP requests served, by status code.",
                                  MetricType::kCounter,
                                  {{{{"code", "200"}}, 17}, {{{"code", "401"}}, 2}}});
  families.push_back(
      MetricFamily{"dbrunbook_open_incidents", "Open incidents.", MetricType::kGauge, {{{}, 1}}});
  families.push_back(
      MetricFamily{"dbrunbook_up", "1 while the daemon runs.", MetricType::kGauge, {}});
  return families;
}

TEST(Exposition, EscapesAndFormatsAsTheTextFormatSays) {
  auto text = WriteExposition(Tricky());
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_THAT(
      *text,
      HasSubstr("# HELP dbrunbook_signal_value The last value of each signal, by target "
                "and signal. A backslash \\\\ and a\\nnewline.\n"
                "# TYPE dbrunbook_signal_value gauge\n"
                "dbrunbook_signal_value{target=\"orders-primary\",signal=\"threads_running\"} 12\n"
                "dbrunbook_signal_value{target=\"quote\\\"d \\\\ back\\\\slash\\nnew line\","
                "signal=\"x\"} 0.25\n"));
  EXPECT_THAT(*text, HasSubstr("{target=\"ünïcødé-数据库-🚀\",signal=\"x\"} -3.5e-09\n"));
  EXPECT_THAT(*text, HasSubstr("{target=\"nan\",signal=\"x\"} NaN\n"));
  EXPECT_THAT(*text, HasSubstr("{target=\"inf\",signal=\"x\"} +Inf\n"));
  EXPECT_THAT(*text, HasSubstr("{target=\"-inf\",signal=\"x\"} -Inf\n"));
  EXPECT_THAT(*text, HasSubstr("# TYPE dbrunbook_http_requests_total counter\n"
                               "dbrunbook_http_requests_total{code=\"200\"} 17\n"));
  EXPECT_THAT(*text, HasSubstr("\ndbrunbook_open_incidents 1\n"));
  EXPECT_EQ(text->back(), '\n');
  EXPECT_EQ(EscapeLabelValue("a\xff"), "a\xEF\xBF\xBD");  // invalid UTF-8 replaced
}

TEST(Exposition, PromtoolAcceptsTrickyLabelValues) {
  auto text = WriteExposition(Tricky());
  ASSERT_TRUE(text) << text.error().ToString();
  const ToolRun run = PromtoolCheck(*text);
  EXPECT_EQ(run.exit_code, 0) << run.output << "\n--- exposition:\n" << *text;
  EXPECT_EQ(run.output, "") << *text;
}

TEST(Exposition, PromtoolFlagsWhatTheWriterRefuses) {
  // The check can fail: promtool's linter on a counter without _total and a missing HELP, and
  // its parser on an unescaped quote. The writer refuses each of them.
  const ToolRun lint = PromtoolCheck(
      "# HELP dbrunbook_requests Requests.\n# TYPE dbrunbook_requests counter\n"
      "dbrunbook_requests 1\n# TYPE dbrunbook_x gauge\ndbrunbook_x 1\n");
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_THAT(lint.output, HasSubstr("counter metrics should have \"_total\" suffix"));
  EXPECT_THAT(lint.output, HasSubstr("no help text"));
  const ToolRun parse = PromtoolCheck("# HELP x_y X.\n# TYPE x_y gauge\nx_y{a=\"b\"c\"} 1\n");
  EXPECT_NE(parse.exit_code, 0);
  EXPECT_THAT(parse.output, HasSubstr("error"));

  auto counter = WriteExposition({{"dbrunbook_requests", "Requests.", MetricType::kCounter, {}}});
  ASSERT_FALSE(counter);
  EXPECT_EQ(counter.error().message,
            "metric family \"dbrunbook_requests\": a counter's name must end in _total");
  auto no_help = WriteExposition({{"dbrunbook_x", "", MetricType::kGauge, {}}});
  ASSERT_FALSE(no_help);
  EXPECT_THAT(no_help.error().message, HasSubstr("HELP text is empty"));
}

TEST(Exposition, EverySignalOfTheCatalogueIsAValidSampleForPromtool) {
  std::vector<watch::SampleBatch> batches(2);
  batches[0].target = "orders-primary";
  batches[1].target = "orders-replica";
  double value = 0;
  for (const auto& spec : watch::Signals()) {
    batches[0].values[std::string(spec.name)] = value++;
    batches[1].values[std::string(spec.name)] = value++;
  }
  batches[1].values.erase("replication_lag_seconds");  // absent: no sample, not 0
  const MetricFamily family = SignalFamily(batches);
  EXPECT_EQ(family.samples.size(), 2 * watch::Signals().size() - 1);
  auto text = WriteExposition({family});
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_THAT(*text, HasSubstr("dbrunbook_signal{target=\"orders-primary\","
                               "signal=\"longest_query_seconds\"} "));
  EXPECT_THAT(
      *text,
      ::testing::Not(HasSubstr("{target=\"orders-replica\",signal=\"replication_lag_seconds\"}")));
  const ToolRun run = PromtoolCheck(*text);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
}

TEST(Exposition, RefusesWhatAScraperWouldReject) {
  const auto fails = [](std::vector<MetricFamily> families, const std::string& message) {
    auto text = WriteExposition(families);
    ASSERT_FALSE(text) << *text;
    EXPECT_EQ(text.error().message, message);
  };
  fails({{"9lives", "h", MetricType::kGauge, {}}},
        "metric family \"9lives\": not a valid metric name");
  fails({{"dbrunbook-x", "h", MetricType::kGauge, {}}},
        "metric family \"dbrunbook-x\": not a valid metric name");
  fails({{"a_total", "h", MetricType::kGauge, {}}},
        "metric family \"a_total\": only counters may be named *_total");
  fails({{"a", "h", MetricType::kGauge, {}}, {"a", "h", MetricType::kGauge, {}}},
        "metric family \"a\": written twice");
  fails({{"a", "h", MetricType::kGauge, {{{{"bad-name", "v"}}, 1}}}},
        "metric family \"a\", sample 1: label name \"bad-name\" is not valid");
  fails({{"a", "h", MetricType::kGauge, {{{{"__name__", "v"}}, 1}}}},
        "metric family \"a\", sample 1: label names starting with \"__\" are reserved");
  fails({{"a", "h", MetricType::kGauge, {{{{"x", "1"}, {"x", "2"}}, 1}}}},
        "metric family \"a\", sample 1: label \"x\" given twice");
  fails({{"a",
          "h",
          MetricType::kGauge,
          {{{{"x", "1"}, {"y", "2"}}, 1}, {{{"y", "2"}, {"x", "1"}}, 2}}}},
        "metric family \"a\", sample 2: the same labels as an earlier sample {y=\"2\",x=\"1\"}");
  fails({{"a_total", "h", MetricType::kCounter, {{{}, -1}}}},
        "metric family \"a_total\", sample 1: a counter cannot be negative");
  EXPECT_TRUE(IsValidMetricName("dbrunbook:rule:rate5m"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

}  // namespace
}  // namespace dbrunbook::api
