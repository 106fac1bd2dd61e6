// The incident report from a real store file (SQLite in a temporary directory) holding an
// incident built through the store's incident API: what LoadIncidentReport reads (the audit
// entries of the incident's runs only, the samples of the window only, a clear error for an
// unknown incident), the deadlines beside the actual times (met, missed, skipped), the three
// renderings, and that statement literals never reach any of them.
#include "report/incident_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/duration.h"

namespace dbrunbook::report {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

core::WallTime At(std::string_view text) { return *core::ParseRfc3339(text); }
int64_t Ms(std::string_view text) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(At(text).time_since_epoch()).count();
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class IncidentReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("dbrunbook-incident-report-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto store = store::Store::Open((dir_ / "store.db").string());
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto rb = runbook::DefaultRunbook({}, "2026-11-27");
    ASSERT_TRUE(rb.has_value());
    runbook_ = *rb;
    Populate();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Incident 3 on orders-db: opened 10:00:00 by slow_queries, assessed and diagnosed in 3 s,
  // kill-queries applied at 10:20 (the investigation's 15-minute deadline missed), verify from
  // 10:25, resolved at 10:55.
  void Populate() {
    watch::Incident i;
    i.id = 3;
    i.target = "orders-db";
    i.phase = watch::Phase::kResolved;
    i.severity = "critical";
    i.opened_at = At("2026-11-27T10:00:00Z");
    i.resolved_at = At("2026-11-27T10:55:00Z");
    i.triggers = {"slow_queries"};
    i.diagnoses = 1;
    i.findings = {{"query.long_running", "critical",
                   "connection 42 has run one statement for 1200s: SELECT * FROM customers WHERE "
                   "email='alice@example.com'"}};
    i.actions.push_back({"kill-queries", "3:kill-queries:1", 1, runbook::Policy::kApprove,
                         watch::ActionState::kVerified, "query.long_running",
                         "killed connection 42", "run-77", "bob", At("2026-11-27T10:20:00Z")});
    i.resolution = "triggers clear for 30m";
    i.prevention = {"Review the slow query log weekly"};
    auto event = [](const char* at, const char* kind, const std::string& text, const json& data) {
      return store::TimelineEntry{0, 3, at, kind, text, data.dump()};
    };
    const std::vector<store::TimelineEntry> events = {
        event("2026-11-27T10:00:00Z", "opened", "incident 3 opened on orders-db by slow_queries",
              {{"trigger", "slow_queries"}}),
        event("2026-11-27T10:00:03Z", "phase", "assess -> investigate: diagnosis done",
              {{"from", "assess"}, {"to", "investigate"}}),
        event(
            "2026-11-27T10:00:03Z", "findings",
            "1 finding: connection 42 ran SELECT * FROM customers WHERE email='alice@example.com'",
            json::object()),
        event("2026-11-27T10:15:00Z", "deadline.missed",
              "deadline for investigate (15m) missed: the incident is in investigate",
              {{"phase", "investigate"}, {"deadline_seconds", 900}}),
        event("2026-11-27T10:20:00Z", "phase", "investigate -> mitigate: kill-queries approved",
              {{"from", "investigate"}, {"to", "mitigate"}}),
        event("2026-11-27T10:25:00Z", "phase", "mitigate -> verify: every trigger clear",
              {{"from", "mitigate"}, {"to", "verify"}}),
        event("2026-11-27T10:55:00Z", "resolved", "resolved: triggers clear for 30m",
              {{"duration_seconds", 3300}}),
    };
    store::IncidentRecord record{3,
                                 "orders-db",
                                 "resolved",
                                 "critical",
                                 "2026-11-27T10:00:00Z",
                                 "2026-11-27T10:55:00Z",
                                 "2026-11-27T10:55:00Z",
                                 watch::IncidentToJson(i).dump()};
    ASSERT_TRUE(store_->SaveIncident(record, events));
    ASSERT_TRUE(store_->SaveFindings(
        3, 1,
        {{3, 1, "2026-11-27T10:00:03Z", "query.long_running", "critical", i.findings[0].title,
          json({{"detail", "WHERE email='alice@example.com' scans 2M rows"},
                {"suggestions", {{{"text", "kill it: dbrunbook mitigate kill-queries"}}}}})
              .dump()}}));
    ASSERT_TRUE(store_->SaveEvidence({
        {3, "2026-11-27T10:00:01Z", "processlist",
         json::array({{{"id", 42},
                       {"user", "app"},
                       {"host", "10.0.0.5:5123"},
                       {"db", "shop"},
                       {"command", "Query"},
                       {"time", 1200},
                       {"state", "Sending data"},
                       // As an older dbrunbook might have stored it: the report redacts again.
                       {"statement", "SELECT * FROM customers WHERE email='alice@example.com'"}},
                      {{"id", 43}, {"command", "Sleep"}, {"time", 5}}})
             .dump()},
        {3, "2026-11-27T10:00:01Z", "lock_waits", "[]"},
        {3, "2026-11-27T10:00:01Z", "innodb_status",
         "------------\nSEMAPHORES\n------------\nOS WAIT ARRAY INFO\n------------\nTRANSACTIONS\n"
         "------------\nTrx id counter 900\n---TRANSACTION 899, ACTIVE 1200 sec fetching rows\n"
         "MySQL thread id 42, OS thread handle 1, query id 7 10.0.0.5 app Sending data\n"
         "SELECT * FROM customers WHERE email='alice@example.com'\n------------\nFILE I/O\n"
         "------------\nI/O thread 0\n"},
        {3, "2026-11-27T10:00:01Z", "status",
         json({{"Threads_running", "37"}, {"Threads_connected", "120"}, {"Uptime", "86400"}})
             .dump()},
    }));
    // Audit: the incident's run, and another run on the same target that is not its.
    store::AuditEntry mine{
        "run-77",        "2026-11-27T10:20:01Z",  "bob",     "orders-db", "kill-queries",
        "connection 42", store::Phase::kVerified, "KILL 42", "killed",    ""};
    store::AuditEntry other{
        "run-12",       "2026-11-27T09:00:00Z", "eve",    "orders-db", "kill-queries",
        "connection 7", store::Phase::kApplied, "KILL 7", "killed",    ""};
    ASSERT_TRUE(store_->Append(other));
    ASSERT_TRUE(store_->Append(mine));
    // Samples: one 20 minutes before the opening (outside the 10-minute margin), then every
    // 30 s from 09:55 to 11:00; threads_running peaks at 40 during the incident.
    std::vector<store::SampleRecord> samples;
    samples.push_back({"orders-db", Ms("2026-11-27T09:40:00Z"), R"({"threads_running": 99})"});
    for (int64_t t = Ms("2026-11-27T09:55:00Z"); t <= Ms("2026-11-27T11:00:00Z"); t += 30'000) {
      const bool during = t >= Ms("2026-11-27T10:00:00Z") && t <= Ms("2026-11-27T10:25:00Z");
      samples.push_back({"orders-db", t,
                         json({{"threads_running", during ? 40 : 3},
                               {"longest_query_seconds", during ? 600.5 : 0.2}})
                             .dump()});
    }
    samples.push_back({"other-db", Ms("2026-11-27T10:10:00Z"), R"({"threads_running": 77})"});
    ASSERT_TRUE(store_->AppendSamples(samples, 100000));
  }

  IncidentReport Build(std::vector<SentMessage> messages = {}) {
    auto input = LoadIncidentReport(*store_, 3, runbook_, At("2026-11-27T12:00:00Z"));
    EXPECT_TRUE(input) << input.error().ToString();
    if (!input) return {};
    input->messages = std::move(messages);
    auto report = BuildIncidentReport(*input);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : IncidentReport{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  runbook::Runbook runbook_;
};

TEST_F(IncidentReportTest, UnknownIncidentNamesTheStore) {
  auto input = LoadIncidentReport(*store_, 99, runbook_, At("2026-11-27T12:00:00Z"));
  ASSERT_FALSE(input);
  EXPECT_EQ(input.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(input.error().message, "no incident 99 in " + (dir_ / "store.db").string());
  EXPECT_THAT(input.error().hint, HasSubstr("dbrunbook incidents --store"));
}

TEST_F(IncidentReportTest, ReadsOnlyWhatBelongsToTheIncident) {
  auto input = LoadIncidentReport(*store_, 3, runbook_, At("2026-11-27T12:00:00Z"));
  ASSERT_TRUE(input) << input.error().ToString();
  ASSERT_EQ(input->audit.size(), 1U);
  EXPECT_EQ(input->audit[0].entry.run_id, "run-77");
  EXPECT_EQ(input->timeline.size(), 7U);
  EXPECT_EQ(input->findings.size(), 1U);
  EXPECT_EQ(input->evidence.size(), 4U);
  // 09:50 .. 11:05 of orders-db: not the sample at 09:40, not other-db's.
  ASSERT_FALSE(input->samples.empty());
  EXPECT_EQ(input->samples.front().at_ms, Ms("2026-11-27T09:55:00Z"));
  EXPECT_EQ(input->samples.back().at_ms, Ms("2026-11-27T11:00:00Z"));
  for (const auto& s : input->samples) EXPECT_EQ(s.target, "orders-db");
}

TEST_F(IncidentReportTest, DeadlinesBesideTheActualTimes) {
  const IncidentReport r = Build();
  ASSERT_EQ(r.deadlines.size(), 3U);
  EXPECT_EQ(r.deadlines[0].phase, "assess");
  EXPECT_EQ(r.deadlines[0].result, "met");
  EXPECT_EQ(r.deadlines[0].reached_at, At("2026-11-27T10:00:03Z"));
  EXPECT_EQ(r.deadlines[1].phase, "investigate");
  EXPECT_EQ(r.deadlines[1].result, "missed");
  EXPECT_EQ(r.deadlines[1].reached_at, At("2026-11-27T10:20:00Z"));
  EXPECT_EQ(r.deadlines[2].phase, "mitigate");
  EXPECT_EQ(r.deadlines[2].result, "met");
  EXPECT_EQ(r.deadlines[2].due_at, At("2026-11-27T10:30:00Z"));
  // The timeline rows carry the phase the incident was in.
  ASSERT_EQ(r.timeline.size(), 7U);
  EXPECT_EQ(r.timeline[0].phase, "assess");
  EXPECT_EQ(r.timeline[3].kind, "deadline.missed");
  EXPECT_EQ(r.timeline[3].phase, "investigate");
  EXPECT_EQ(r.timeline[6].phase, "resolved");
  EXPECT_DOUBLE_EQ(r.timeline[6].elapsed_seconds, 3300);
}

TEST_F(IncidentReportTest, Markdown) {
  const std::string text = RenderIncidentMarkdown(Build());
  EXPECT_THAT(text, HasSubstr("# Incident 3: orders-db (resolved)\n"));
  EXPECT_THAT(text, HasSubstr("| Duration | 55m 00s |\n"));
  EXPECT_THAT(text, HasSubstr("| assess | 5m | 10:05:00 | 10:00:03 (+3s) | met |\n"));
  EXPECT_THAT(text, HasSubstr("| investigate | 15m | 10:15:00 | 10:20:00 (+20m00s) | MISSED |\n"));
  EXPECT_THAT(text, HasSubstr("| mitigate | 30m | 10:30:00 | 10:25:00 (+25m00s) | met |\n"));
  EXPECT_THAT(text, HasSubstr("| threads_running | 131 | 3 | 40 | 40 | 3 | 50 |\n"));
  EXPECT_THAT(text, HasSubstr("| replication_lag_seconds (s) | 0 | - | - | - | - | 60 |\n"));
  EXPECT_THAT(text, HasSubstr("## Messages sent\n\nNone recorded.\n"));
  EXPECT_THAT(text, HasSubstr("- [ ] Review the slow query log weekly\n"));
  EXPECT_THAT(text, HasSubstr("  - audit 2026-11-27T10:20:01Z verified connection 42: killed\n"));
  EXPECT_THAT(text, HasSubstr("| Threads_running | 37 |\n"));
  const std::string with_messages = RenderIncidentMarkdown(
      Build({{"alert", "dba-slack", "sent", "2026-11-27T10:00:02Z", "🚨 Database alert"}}));
  EXPECT_THAT(with_messages,
              HasSubstr("| alert | dba-slack | sent | 2026-11-27T10:00:02Z | 🚨 Database alert |"));
}

TEST_F(IncidentReportTest, HtmlIsOneSelfContainedPrintableFile) {
  const std::string html = RenderIncidentHtml(Build());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0U);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy\" content=\"default-src 'none'"));
  EXPECT_THAT(html, HasSubstr("@media print"));
  EXPECT_THAT(html, HasSubstr("page-break-before: always"));
  // Nothing to fetch: no script, link, image or frame, no URL but the SVG namespace.
  for (const char* tag : {"<script", "<link", "<img", "<iframe", "src=", "@import", "url(http"}) {
    EXPECT_THAT(html, Not(HasSubstr(tag))) << tag;
  }
  EXPECT_EQ(Count(html, "http://") + Count(html, "https://"),
            Count(html, "http://www.w3.org/2000/svg"));
  EXPECT_EQ(Count(html, "<svg "), 4);
  EXPECT_EQ(Count(html, "class=\"deadline "), 3);
  EXPECT_EQ(Count(html, "<tr class=\"event"), 7);
  EXPECT_THAT(html, HasSubstr("<tr class=\"deadline missed\"><td>investigate</td>"));
  EXPECT_GE(Count(html, "<polyline"), 2);  // threads_running and longest_query_seconds
  EXPECT_EQ(Count(html, "no samples in this window"), 2);  // lag and CPU
  EXPECT_THAT(html, HasSubstr("<p class=\"none\">None recorded.</p>"));
}

TEST_F(IncidentReportTest, Json) {
  const json doc = IncidentReportJson(Build());
  EXPECT_EQ(doc["schema"], "dbrunbook.incident_report");
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["incident"]["id"], 3);
  EXPECT_EQ(doc["incident"]["target"], "orders-db");
  EXPECT_EQ(doc["incident"]["status"], "resolved");
  EXPECT_EQ(doc["incident"]["duration_seconds"], 3300);
  EXPECT_EQ(doc["incident"]["affected_services"], "not recorded (no service tag on the target)");
  EXPECT_EQ(doc["runbook"]["name"], "database-performance");
  ASSERT_EQ(doc["deadlines"].size(), 3U);
  EXPECT_EQ(doc["deadlines"][1]["result"], "missed");
  EXPECT_EQ(doc["timeline"].size(), 7U);
  ASSERT_EQ(doc["actions"].size(), 1U);
  EXPECT_EQ(doc["actions"][0]["approved_by"], "bob");
  ASSERT_EQ(doc["actions"][0]["audit"].size(), 1U);
  EXPECT_EQ(doc["actions"][0]["audit"][0]["phase"], "verified");
  EXPECT_EQ(doc["evidence"]["processlist"].size(), 1U) << "sleeping sessions are left out";
  EXPECT_EQ(doc["evidence"]["status"]["Threads_running"], "37");
  ASSERT_EQ(doc["signals"].size(), 4U);
  EXPECT_EQ(doc["signals"][0]["signal"], "threads_running");
  EXPECT_EQ(doc["signals"][0]["max"], 40);
  EXPECT_EQ(doc["signals"][0]["threshold"], 50);
  EXPECT_EQ(doc["signals"][0]["points"].size(), 131U);
  EXPECT_TRUE(doc["signals"][3]["min"].is_null());
  // As long before and after as it lasted (at most 10 min), within the samples there are.
  EXPECT_EQ(doc["chart_window"]["from"], "2026-11-27T09:55:00.000Z");
  EXPECT_EQ(doc["chart_window"]["to"], "2026-11-27T11:00:00.000Z");
  EXPECT_EQ(doc["messages"], json::array());
}

TEST_F(IncidentReportTest, StatementLiteralsReachNoRendering) {
  const IncidentReport r = Build();
  for (const std::string& text :
       {RenderIncidentMarkdown(r), RenderIncidentHtml(r), IncidentReportJson(r).dump()}) {
    EXPECT_THAT(text, Not(HasSubstr("alice@example.com")));
    EXPECT_THAT(text, Not(HasSubstr("alice")));
  }
  EXPECT_THAT(r.innodb_excerpt, HasSubstr("select * from customers where email = ?\n"));
  EXPECT_THAT(r.innodb_excerpt, HasSubstr("---TRANSACTION 899, ACTIVE 1200 sec fetching rows\n"));
  EXPECT_THAT(r.innodb_excerpt, Not(HasSubstr("FILE I/O")));
  EXPECT_EQ(r.processlist[0]["statement"], "select * from customers where email = ?");
}

}  // namespace
}  // namespace dbrunbook::report
