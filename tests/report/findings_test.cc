#include "report/findings.h"

#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::report {
namespace {

using json = nlohmann::json;
using steps::EvidenceRow;
using steps::Finding;
using steps::Severity;

steps::Investigation Sample() {
  steps::Investigation inv;
  inv.target = "orders-primary";
  inv.endpoint = "tcp 10.0.0.5:3306";
  inv.server_version = "10.11.19-MariaDB";
  inv.flavor.product = dialect::Product::kMariaDB;
  inv.flavor.version = {10, 11, 19};
  inv.elapsed = std::chrono::milliseconds(1234);
  inv.statements_sent = 17;
  Finding root;
  root.code = "lock.root_blocker";
  root.severity = Severity::kCritical;
  root.title = "connection 1234 (app@10.0.0.9) blocks 3 sessions for 42s";
  root.step = "investigate.locks";
  EvidenceRow r1;
  r1.Add("connection_id", int64_t{1234}).Add("idle", true).Add("wait_seconds", 42.5);
  r1.Add("statement", std::optional<std::string>());
  EvidenceRow r2;
  r2.Add("connection_id", int64_t{77}).Add("idle", false).Add("wait_seconds", 3.0);
  r2.Add("statement", std::string("UPDATE t SET v = 1\nWHERE id = 1 \x1b[2J"));
  root.evidence = {r1, r2};
  root.suggestions.push_back({"kill the root blocker", "KILL CONNECTION 1234"});
  Finding info;
  info.code = "query.active";
  info.severity = Severity::kInfo;
  info.title = "2 statements running";
  inv.findings = {root, info};
  inv.steps.push_back({"investigate.locks", "locks", true, false, std::chrono::milliseconds(3), 2});
  inv.steps.push_back({"investigate.digest", "digest", false, false, {}, 0});
  return inv;
}

TEST(FindingsRenderTest, TableShowsSeverityCodeEvidenceAndSuggestions) {
  const std::string out = RenderInvestigationTable(Sample(), TableStyle{false, 0});
  EXPECT_NE(out.find("CRITICAL  lock.root_blocker  connection 1234 (app@10.0.0.9) blocks 3"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("connection_id  idle  wait_seconds  statement"), std::string::npos) << out;
  EXPECT_NE(out.find("1234           yes   42.5"), std::string::npos) << out;
  EXPECT_NE(out.find("-> kill the root blocker: KILL CONNECTION 1234"), std::string::npos);
  EXPECT_NE(out.find("Not checked (--only): digest"), std::string::npos);
  EXPECT_NE(out.find("Overall: CRITICAL (1 critical, 0 warning, 1 info)"), std::string::npos);
  // Server text cannot reach the terminal as control sequences or break the table.
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_NE(out.find("UPDATE t SET v = 1 WHERE id = 1 \\x1b[2J"), std::string::npos) << out;
}

TEST(FindingsRenderTest, ColourOnlyWhenAsked) {
  EXPECT_NE(RenderInvestigationTable(Sample(), TableStyle{true, 0}).find("\x1b[1;31m"),
            std::string::npos);
  EXPECT_EQ(RenderInvestigationTable(Sample(), TableStyle{false, 0}).find('\x1b'),
            std::string::npos);
}

TEST(FindingsRenderTest, NarrowTerminalCutsTheLastEvidenceColumn) {
  const std::string out = RenderInvestigationTable(Sample(), TableStyle{false, 60});
  for (const auto& line : core::Split(out, '\n')) {
    if (line.find("UPDATE") != std::string_view::npos) {
      EXPECT_LE(core::DisplayWidth(line), 60u) << line;
      EXPECT_TRUE(line.ends_with("...")) << line;
    }
  }
}

TEST(FindingsRenderTest, JsonKeepsTypesAndTheSchema) {
  const json j = InvestigationJson(Sample());
  EXPECT_EQ(j["schema"], "dbrunbook.investigation");
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["status"], "critical");
  EXPECT_EQ(j["exit_code"], 2);
  ASSERT_EQ(j["findings"].size(), 2u);
  const json& f = j["findings"][0];
  EXPECT_EQ(f["code"], "lock.root_blocker");
  EXPECT_EQ(f["severity"], "critical");
  EXPECT_EQ(f["step"], "investigate.locks");
  EXPECT_TRUE(f["evidence"][0]["connection_id"].is_number_integer());
  EXPECT_EQ(f["evidence"][0]["idle"], true);
  EXPECT_DOUBLE_EQ(f["evidence"][0]["wait_seconds"].get<double>(), 42.5);
  EXPECT_TRUE(f["evidence"][0]["statement"].is_null());
  EXPECT_EQ(f["suggestions"][0]["sql"], "KILL CONNECTION 1234");
  EXPECT_TRUE(j["findings"][1]["suggestions"].empty());
  EXPECT_EQ(j["steps"][1]["ran"], false);
  EXPECT_EQ(j["statements_sent"], 17);
  EXPECT_TRUE(j["error"].is_null());
  const json err = InvestigationErrorJson(
      "x", "", core::Error{core::ErrorCode::kUnavailable, "down", "start it", 0, ""});
  EXPECT_EQ(err["exit_code"], 3);
  EXPECT_EQ(err["error"]["code"], "unavailable");
  EXPECT_TRUE(err["findings"].empty());
}

TEST(FindingsRenderTest, MarkdownEscapesCellsAndFencesSql) {
  steps::Investigation inv = Sample();
  inv.findings[0].suggestions.push_back({"a | pipe", "SELECT `a` FROM t"});
  const std::string md = RenderInvestigationMarkdown(inv);
  EXPECT_NE(md.find("#### CRITICAL `lock.root_blocker`"), std::string::npos) << md;
  EXPECT_NE(md.find("| connection\\_id | idle | wait\\_seconds | statement |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("- a \\| pipe: `` SELECT `a` FROM t ``"), std::string::npos) << md;
  EXPECT_NE(md.find("- kill the root blocker: `KILL CONNECTION 1234`"), std::string::npos);
  EXPECT_EQ(md.find('\x1b'), std::string::npos);
  // Which steps ran, and which --only left out: a reader must not take silence for "fine".
  EXPECT_NE(md.find("Checked: locks 3ms. Not checked (--only): digest."), std::string::npos) << md;
}

TEST(FindingsRenderTest, NoFindingsIsOk) {
  steps::Investigation inv = Sample();
  inv.findings.clear();
  EXPECT_NE(RenderInvestigationTable(inv, {}).find("No findings."), std::string::npos);
  EXPECT_EQ(InvestigationJson(inv)["status"], "ok");
  EXPECT_EQ(steps::ExitCodeFor(inv), 0);
}

}  // namespace
}  // namespace dbrunbook::report
