// `dbrunbook report` end to end: a real incident, made by a real watch daemon polling the
// sandbox server daemondb (read only: the cause is a long SELECT SLEEP of the test's own
// session), diagnosed, verified and resolved by the daemon; then its report as Markdown, JSON
// and HTML from the store the daemon wrote, and the HTML opened in headless Chromium:
// screenshotted (a PNG with the charts' ink in it, decoded here) and its DOM dumped (the SVG
// charts with their lines, the deadline and timeline rows), with no console message (the page
// has no script, and its Content-Security-Policy turns any attempt to load something from
// outside into one). A control page that does try proves the console check can fail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "store/store.h"
#include "support/cli_fixture.h"
#include "support/daemon_process.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A decoded PNG (8-bit RGB or RGBA, not interlaced: what Chromium writes).
struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
  std::string error;
};

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

Image DecodePng(const std::string& png) {
  Image image;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    image.error = "not a PNG";
    return image;
  }
  std::string idat;
  int color_type = -1;
  for (size_t at = 8; at + 8 <= png.size();) {
    const uint32_t length = Be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    if (type == "IHDR") {
      image.width = Be32(png, at + 8);
      image.height = Be32(png, at + 12);
      const int depth = static_cast<uint8_t>(png[at + 16]);
      color_type = static_cast<uint8_t>(png[at + 17]);
      if (depth != 8 || (color_type != 2 && color_type != 6) || png[at + 20] != 0) {
        image.error = "unexpected PNG format";
        return image;
      }
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  const size_t channels = color_type == 6 ? 4 : 3;
  const size_t stride = image.width * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    image.error = "cannot inflate the image data";
    return image;
  }
  std::vector<uint8_t> previous(stride, 0);
  std::vector<uint8_t> row(stride);
  image.rgb.reserve(static_cast<size_t>(image.width) * image.height * 3);
  for (uint32_t y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= channels ? row[x - channels] : 0;
      const int b = previous[x];
      const int c = x >= channels ? previous[x - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c;
          const int pa = std::abs(p - a);
          const int pb = std::abs(p - b);
          const int pc = std::abs(p - c);
          predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          break;
      }
      row[x] = static_cast<uint8_t>(in[x] + predictor);
    }
    for (uint32_t x = 0; x < image.width; ++x) {
      for (size_t k = 0; k < 3; ++k) image.rgb.push_back(row[x * channels + k]);
    }
    previous = row;
  }
  return image;
}

class ReportE2eTest : public testing::CliFixture {
 protected:
  ReportE2eTest() : CliFixture("report-e2e") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto server = testing::LoadSandbox("daemondb");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "store.db").string();
  }

  testing::SandboxServer server_;
  std::string store_;
};

TEST_F(ReportE2eTest, RealIncidentReportedInEveryFormatAndRenderedByChromium) {
  // The monitor account over TCP with its password file, as an SRE would configure it: the
  // password must appear in no report.
  const std::string config = Write("dbrunbook.yaml",
                                   "targets:\n"
                                   "  - name: db\n"
                                   "    host: 127.0.0.1\n"
                                   "    port: " +
                                       std::to_string(server_.port) +
                                       "\n"
                                       "    user: " +
                                       server_.monitor_user +
                                       "\n"
                                       "    password_file: " +
                                       server_.monitor_password_file +
                                       "\n"
                                       "    tags: {service: checkout}\n"
                                       "investigate:\n"
                                       "  digest_interval: 0s\n"
                                       "  long_query: 1s\n");
  const std::string runbook =
      Write("runbook.yaml",
            "runbook: {name: report-test, version: 4, owner: tests}\n"
            "triggers:\n"
            "  - {name: slow_queries, signal: longest_query_seconds, op: \">\", threshold: 1.5,"
            " severity: critical, summary: A query has run for more than 1.5 s}\n"
            "phases:\n"
            "  verify: {period: 1s}\n"
            "prevention:\n"
            "  - Review the slow query log weekly\n");
  testing::DaemonProcess daemon(binary_,
                                {"--config", config, "watch", "--runbook", runbook, "--store",
                                 store_, "--listen", "127.0.0.1:0", "--interval", "500ms"},
                                (dir_ / "daemon.log").string(), (dir_ / "home").string());
  ASSERT_GT(daemon.WaitForPort(std::chrono::seconds(20)), 0) << daemon.Log();

  // The cause: one statement of the test's own session that runs 3 s and carries a literal
  // that must not reach any report.
  auto sleeper = std::async(std::launch::async, [] {
    return testing::SandboxSql("daemondb", "SELECT SLEEP(3), 'alice@example.com' AS contact;");
  });

  auto store = store::Store::Open(store_);
  ASSERT_TRUE(store) << store.error().ToString();
  std::optional<store::IncidentRecord> incident;
  const auto deadline = Clock::now() + std::chrono::seconds(40);
  while (Clock::now() < deadline && !incident) {
    auto list = (*store)->Incidents(false, 5);
    ASSERT_TRUE(list) << list.error().ToString();
    for (const auto& i : *list) {
      if (i.target == "db" && i.phase == "resolved") incident = i;
    }
    if (!incident) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto slept = sleeper.get();
  ASSERT_TRUE(slept) << slept.error().ToString();
  ASSERT_TRUE(incident) << "no resolved incident within 40 s\n" << daemon.Log();
  EXPECT_EQ(daemon.Signal(SIGTERM), 0) << daemon.Log();
  const std::string id = std::to_string(incident->id);
  const std::string secret = server_.monitor_password.Reveal();
  ASSERT_FALSE(secret.empty());

  // --- JSON ---
  const std::string json_path = (dir_ / "report.json").string();
  testing::RunResult run = Shell("\"$B\" --config " + config + " report " + id + " --store " +
                                 store_ + " --runbook " + runbook + " -o " + json_path);
  ASSERT_EQ(run.status, 0) << run.Describe();
  EXPECT_THAT(run.err, HasSubstr("written to " + json_path));
  const std::string json_text = Slurp(json_path);
  const json doc = json::parse(json_text, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << json_text.substr(0, 2000);
  EXPECT_EQ(doc["schema"], "dbrunbook.incident_report");
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["incident"]["id"], incident->id);
  EXPECT_EQ(doc["incident"]["target"], "db");
  EXPECT_EQ(doc["incident"]["status"], "resolved");
  EXPECT_EQ(doc["incident"]["severity"], "critical");
  EXPECT_EQ(doc["incident"]["affected_services"], "checkout") << "the target's tags";
  EXPECT_EQ(doc["runbook"]["name"], "report-test");
  EXPECT_EQ(doc["runbook"]["version"], "4");
  ASSERT_EQ(doc["deadlines"].size(), 3U);
  for (const auto& d : doc["deadlines"]) EXPECT_EQ(d["result"], "met") << d.dump();
  std::vector<std::string> kinds;
  for (const auto& e : doc["timeline"]) kinds.push_back(e["kind"]);
  EXPECT_THAT(kinds, ::testing::Contains("opened"));
  EXPECT_THAT(kinds, ::testing::Contains("findings"));
  EXPECT_THAT(kinds, ::testing::Contains("resolved"));
  EXPECT_FALSE(doc["findings"].empty()) << json_text.substr(0, 4000);
  EXPECT_THAT(doc["evidence"]["kinds"].dump(), HasSubstr("processlist"));
  EXPECT_FALSE(doc["evidence"]["status"].empty());
  ASSERT_EQ(doc["signals"].size(), 4U);
  EXPECT_EQ(doc["signals"][1]["signal"], "longest_query_seconds");
  EXPECT_GE(doc["signals"][1]["points"].size(), 3U) << "a sample every poll during the incident";
  EXPECT_GT(doc["signals"][1]["max"].get<double>(), 1.5);
  EXPECT_TRUE(doc["signals"][2]["min"].is_null()) << "not a replica: no lag samples";
  EXPECT_EQ(doc["messages"], json::array());

  // --- Markdown (the default on standard output) ---
  run = Shell("\"$B\" report " + id + " --store " + store_);
  ASSERT_EQ(run.status, 0) << run.Describe();
  EXPECT_THAT(run.out, HasSubstr("# Incident " + id + ": db (resolved)"));
  EXPECT_THAT(run.out, HasSubstr("| assess | 5m |"));
  EXPECT_THAT(run.out, HasSubstr("| Affected services | not recorded (no service tag on the "
                                 "target) |"))
      << "no configuration given or found: no tags";
  EXPECT_THAT(run.out, HasSubstr("## Messages sent\n\nNone recorded.\n"));
  EXPECT_THAT(run.out, HasSubstr("| longest_query_seconds (s) |"));
  const std::string markdown = run.out;

  // --- HTML ---
  const std::string html_path = (dir_ / "report.html").string();
  run = Shell("\"$B\" report " + id + " --store " + store_ + " --runbook " + runbook +
              " --format html -o " + html_path);
  ASSERT_EQ(run.status, 0) << run.Describe();
  const std::string html = Slurp(html_path);
  for (const std::string& text : {json_text, markdown, html}) {
    EXPECT_THAT(text, Not(HasSubstr("alice@example.com")));
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }

  // --- Chromium: one run for the screenshot and the DOM, and a control page ---
  const auto chromium = [&](const std::string& page, const std::string& png) {
    return Shell(
        "chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars "
        "--enable-logging=stderr --v=0 --window-size=1200,2200 --screenshot=" +
        png + " --dump-dom file://" + page);
  };
  const std::string control_page =
      Write("control.html",
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv="
            "\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<link rel=\"stylesheet\" href=\"https://cdn.example.invalid/chart.css\"></head><body>"
            "x</body></html>");
  const testing::RunResult control = chromium(control_page, (dir_ / "control.png").string());
  ASSERT_EQ(control.status, 0) << control.Describe();
  EXPECT_THAT(control.err, HasSubstr(":CONSOLE")) << "the console check would not see an error";

  const std::string png_path = (dir_ / "report.png").string();
  const auto started = Clock::now();
  const testing::RunResult browser = chromium(html_path, png_path);
  const double browser_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_EQ(browser.status, 0) << browser.Describe();
  RecordProperty("chromium_seconds", std::to_string(browser_seconds));
  std::regex console(":CONSOLE[^\n]*");
  std::smatch message;
  EXPECT_FALSE(std::regex_search(browser.err, message, console)) << message.str();
  const std::string& dom = browser.out;
  EXPECT_THAT(dom, HasSubstr("<title>Incident " + id + ": db</title>"));
  EXPECT_EQ(Count(dom, "<svg "), 4) << "the four charts";
  EXPECT_GE(Count(dom, "<polyline"), 2) << "threads_running and longest_query_seconds have lines";
  EXPECT_EQ(Count(dom, "class=\"incident-window\""), 4);
  EXPECT_EQ(Count(dom, "<tr class=\"deadline met\">"), 3);
  EXPECT_GE(Count(dom, "<tr class=\"event"), 5);
  EXPECT_THAT(dom, HasSubstr("<code>opened</code>"));
  EXPECT_THAT(dom, HasSubstr("<code>resolved</code>"));

  const std::string png = Slurp(png_path);
  EXPECT_GT(png.size(), 20000U) << "a blank page compresses to a few kilobytes";
  const Image image = DecodePng(png);
  ASSERT_TRUE(image.error.empty()) << image.error;
  EXPECT_EQ(image.width, 1200U);
  EXPECT_EQ(image.height, 2200U);
  size_t ink = 0;
  size_t line = 0;
  for (size_t p = 0; p + 2 < image.rgb.size(); p += 3) {
    const int r = image.rgb[p];
    const int g = image.rgb[p + 1];
    const int b = image.rgb[p + 2];
    if (r + g + b < 600) ++ink;
    // The series' colour (#1f3a93), antialiased.
    if (std::abs(r - 0x1f) < 40 && std::abs(g - 0x3a) < 40 && std::abs(b - 0x93) < 40) ++line;
  }
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  EXPECT_GT(ink, pixels / 100) << "text, tables and charts: at least 1% of the page is ink";
  EXPECT_LT(ink, pixels / 2) << "a white page with ink, not a black one";
  EXPECT_GT(line, 200U) << "the chart lines were drawn";
  RecordProperty("screenshot_bytes", std::to_string(png.size()));

  // To look at them: DBRUNBOOK_TEST_ARTIFACTS=DIR keeps the report and the screenshot.
  if (const char* keep =
          std::getenv("DBRUNBOOK_TEST_ARTIFACTS")) {  // NOLINT(concurrency-mt-unsafe)
    std::filesystem::create_directories(keep);
    for (const std::string& path : {html_path, png_path, json_path}) {
      std::filesystem::copy_file(
          path, std::filesystem::path(keep) / std::filesystem::path(path).filename(),
          std::filesystem::copy_options::overwrite_existing);
    }
  }
}

TEST_F(ReportE2eTest, UnknownIncidentAndMissingStore) {
  // An empty store (opening creates it).
  ASSERT_TRUE(store::Store::Open(store_));
  testing::RunResult run = Shell("\"$B\" report 999 --store " + store_);
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_THAT(run.err, HasSubstr("no incident 999 in " + store_));
  run = Shell("\"$B\" report 1 --store " + (dir_ / "nope.db").string());
  EXPECT_EQ(run.status, 2) << run.Describe();
  EXPECT_THAT(run.err, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "nope.db")) << "no store is created by a report";
  run = Shell("\"$B\" report 1 --store " + store_ + " --format pdf");
  EXPECT_EQ(run.status, 2) << run.Describe();
}

}  // namespace
}  // namespace dbrunbook
