// pt's formatting helpers (digest/report.h) on values whose output pt-query-digest 3.2.1 was
// run on, and dbrunbook's own JSON report (schema "dbrunbook.digest" version 1) against the
// figures pt prints for the same log.
#include "digest/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "digest/digest.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

TEST(ReportFormat, MicroT) {
  EXPECT_EQ(MicroT(0), "0");
  EXPECT_EQ(MicroT(-1), "0");
  EXPECT_EQ(MicroT(0.000012), "12us");
  EXPECT_EQ(MicroT(0.000091), "91us");
  EXPECT_EQ(MicroT(0.000999), "999us");
  EXPECT_EQ(MicroT(0.0000001), "0");     // 1e-07: truncated to 6 decimals first
  EXPECT_EQ(MicroT(0.0000159), "15us");  // truncated, not rounded
  EXPECT_EQ(MicroT(0.001), "1ms");
  EXPECT_EQ(MicroT(0.0025), "2ms");  // %.0f rounds half to even
  EXPECT_EQ(MicroT(0.726052), "726ms");
  EXPECT_EQ(MicroT(0.9999999), "1000ms");  // 0.999999 * 1000 rounds up
  EXPECT_EQ(MicroT(1), "1s");
  EXPECT_EQ(MicroT(2.5), "2s");
  EXPECT_EQ(MicroT(1349.0001), "1349s");
  EXPECT_EQ(MicroT(18446744073709.796870), "18446744073710s");
}

TEST(ReportFormat, Shorten) {
  EXPECT_EQ(Shorten(0), "0");
  EXPECT_EQ(Shorten(129), "129");
  EXPECT_EQ(Shorten(41.5), "41.50");
  EXPECT_EQ(Shorten(2.0), "2");          // no '.' in Perl's "2"
  EXPECT_EQ(Shorten(0.00001), "0");      // "1e-05" has no '.': %d
  EXPECT_EQ(Shorten(0.000015), "0.00");  // "1.5e-05" has one
  EXPECT_EQ(Shorten(1023), "1023");
  EXPECT_EQ(Shorten(1024), "1.00k");
  EXPECT_EQ(Shorten(62951), "61.48k");
  EXPECT_EQ(Shorten(1571), "1.53k");
  EXPECT_EQ(Shorten(342733), "334.70k");
  EXPECT_EQ(Shorten(5, 1000), "5");
  EXPECT_EQ(Shorten(0.149537, 1000), "0.15");
  EXPECT_EQ(Shorten(2.3e-5, 1000), "0.00");
  EXPECT_EQ(Shorten(1234567, 1000), "1.23M");
}

TEST(ReportFormat, PercentageOf) {
  EXPECT_EQ(PercentageOf(1, 8), "12");
  EXPECT_EQ(PercentageOf(2, 3), "66");   // truncated
  EXPECT_EQ(PercentageOf(5, 0), "500");  // pt divides by 1 then
  EXPECT_EQ(PercentageOf(0, 0), "0");
  EXPECT_EQ(PercentageOf(3, 3), "100");
}

TEST(ReportFormat, MakeLabel) {
  EXPECT_EQ(MakeLabel("Query_time"), "Exec time");
  EXPECT_EQ(MakeLabel("Lock_time"), "Lock time");
  EXPECT_EQ(MakeLabel("Rows_examined"), "Rows examine");
  EXPECT_EQ(MakeLabel("Rows_affected"), "Rows affecte");
  EXPECT_EQ(MakeLabel("bytes"), "Query size");
  EXPECT_EQ(MakeLabel("db"), "Databases");
  EXPECT_EQ(MakeLabel("user"), "Users");
  EXPECT_EQ(MakeLabel("host"), "Hosts");
  EXPECT_EQ(MakeLabel("Error_no"), "Errors");
  EXPECT_EQ(MakeLabel("Tmp_disk_tables"), "Tmp disk tbl");
  EXPECT_EQ(MakeLabel("Tmp_table_sizes"), "Tmp tbl size");
  EXPECT_EQ(MakeLabel("InnoDB_IO_r_bytes"), "IO r bytes");
  EXPECT_EQ(MakeLabel("InnoDB_pages_distinct"), "pages distin");
  EXPECT_EQ(MakeLabel("InnoDB_rec_lock_wait"), "rec lock wai");
  EXPECT_EQ(MakeLabel("InnoDB_trx_id"), "InnoDB trxID");
  EXPECT_EQ(MakeLabel("rate_limit"), "rate limit");
  EXPECT_EQ(MakeLabel("Log_slow_rate_limit"), "Log slow rat");
  EXPECT_EQ(MakeLabel(""), "");
  EXPECT_EQ(MakeLabel("0"), "");
}

TEST(ReportFormat, Timestamps) {
  EXPECT_EQ(ParseTimestamp("071015 21:43:52"), "2007-10-15 21:43:52");
  EXPECT_EQ(ParseTimestamp("090504  9:07:24"), "2009-05-04 09:07:24");
  EXPECT_EQ(ParseTimestamp("071015 21:43:52.5"), "2007-10-15 21:43:52.500000");
  EXPECT_EQ(ParseTimestamp("2016-07-20T18:13:25"), "2016-07-20T18:13:25");
  EXPECT_EQ(ParseTimestamp("garbage"), "garbage");
  EXPECT_EQ(FormatTimeRange("071015 21:43:52", "071015 21:43:52"),
            "all events occurred at 2007-10-15 21:43:52");
  EXPECT_EQ(FormatTimeRange("071218 11:48:27", "071218 11:49:30"),
            "2007-12-18 11:48:27 to 11:49:30");
  EXPECT_EQ(FormatTimeRange("090725 11:19:27", "090726 11:19:28"),
            "2009-07-25 11:19:27 to 2009-07-26 11:19:28");
  EXPECT_EQ(FormatTimeRange("2016-07-20T18:13:25", "2016-07-20T18:13:26"),
            "2016-07-20T18:13:25 to 2016-07-20T18:13:26");
  EXPECT_EQ(FormatTimeRange("", ""), "");
  const auto a = UnixTimestamp("2009-07-27 11:19:30");
  const auto b = UnixTimestamp("2009-07-27T11:19:31.25");
  ASSERT_TRUE(a && b);
  EXPECT_DOUBLE_EQ(*b - *a, 1.25);
  EXPECT_FALSE(UnixTimestamp("2019-01-01T10:00:00Z").has_value());  // pt dies: not numeric
  EXPECT_EQ(UnixTimestamp("12"), 12);
}

TEST(ReportFormat, Sections) {
  const auto s = ParseReportSections("rusage,date,header,query_report,profile,prepared,files");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (std::vector<ReportSection>{ReportSection::kHeader, ReportSection::kQueryReport,
                                            ReportSection::kProfile, ReportSection::kPrepared,
                                            ReportSection::kFiles}));
  EXPECT_FALSE(ParseReportSections("header,timeline").has_value());
  EXPECT_EQ(DefaultReportSections().size(), 5u);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DigestResult Digest(const std::string& log) {
  DigestOptions o;
  o.aggregate.ignore_attributes = DefaultIgnoredAttributes();
  auto r = DigestFiles({testing::SharedPath("conformance/slowlogs/" + log)}, o);
  EXPECT_TRUE(r.has_value());
  return std::move(*r);
}

TEST(ReportJson, OwnSchemaCarriesPtsFigures) {
  const DigestResult r = Digest("slow002.txt");
  ReportOptions ro;
  const Ranking ranking = RankForReport(r.aggregator, ro.order_by, *ParseLimit("0"));
  const nlohmann::json j = JsonReport(r, ranking, ro);
  EXPECT_EQ(j["schema"], "dbrunbook.digest");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["group_by"], "fingerprint");
  EXPECT_EQ(j["order_by"], "Query_time:sum");
  EXPECT_EQ(j["overall"]["events"], 8);
  EXPECT_EQ(j["overall"]["unique"], 7);
  EXPECT_EQ(j["overall"]["time_range"]["min"], "2007-12-18 11:48:27");
  // pt's JSON for the same log (pt-query-digest-expected/json/slow002.txt).
  const auto pt = nlohmann::json::parse(
      ReadFile(testing::SharedPath("conformance/pt-query-digest-expected/json/slow002.txt")));
  const auto& g = j["overall"]["metrics"];
  for (const std::string attr :
       {"Query_time", "Lock_time", "Rows_examined", "Query_length", "InnoDB_pages_distinct"}) {
    SCOPED_TRACE(attr);
    const auto& theirs = pt["global"]["metrics"][attr];
    const bool time = attr.find("time") != std::string::npos;
    for (const auto& [ours_key, pt_key] :
         std::vector<std::pair<std::string, std::string>>{{"sum", "sum"},
                                                          {"min", "min"},
                                                          {"max", "max"},
                                                          {"p95", "pct_95"},
                                                          {"stddev", "stddev"},
                                                          {"median", "median"}}) {
      const double ours = g[attr][ours_key].get<double>();
      const double expected = std::stod(theirs[pt_key].get<std::string>());
      // pt prints times with 6 decimals and the rest as integers (truncated).
      if (time) {
        EXPECT_NEAR(ours, expected, 0.0000005) << ours_key;
      } else {
        EXPECT_EQ(std::trunc(ours), expected) << ours_key;
      }
    }
  }
  EXPECT_EQ(j["overall"]["booleans"]["Full_scan"]["yes"], 1);
  EXPECT_EQ(j["overall"]["booleans"]["Full_scan"]["count"], 8);
  ASSERT_EQ(j["classes"].size(), 7u);
  const auto& top = j["classes"][0];
  EXPECT_EQ(top["rank"], 1);
  EXPECT_EQ(top["query_id"], "45FE45AEC222350466825DDC008FFA89");
  EXPECT_TRUE(std::regex_match(top["query_id"].get<std::string>(), std::regex("[0-9A-F]{32}")));
  EXPECT_EQ(top["fingerprint"], pt["classes"][0]["fingerprint"]);
  EXPECT_EQ(top["count"], 1);
  EXPECT_DOUBLE_EQ(top["metrics"]["Query_time"]["sum"].get<double>(), 0.726052);
  EXPECT_EQ(top["metrics"]["Query_time"]["count"], 1);
  EXPECT_EQ(top["metrics"]["Rows_examined"]["max"], 62951);
  EXPECT_EQ(top["strings"]["db"]["top"][0]["value"], "db1");
  EXPECT_EQ(top["strings"]["db"]["top"][0]["count"], 1);
  EXPECT_EQ(top["strings"]["user"]["distinct"], 1);
  EXPECT_EQ(top["strings"]["user"]["complete"], true);
  EXPECT_EQ(top["histogram"], pt["classes"][0]["histograms"]["Query_time"]);
  EXPECT_EQ(top["sample"]["db"], "db1");
  EXPECT_EQ(top["sample"]["offset"], 338);
  EXPECT_EQ(top["sample"]["ts"], "2007-12-18 11:48:27");
  EXPECT_EQ(top["sample"]["query"], pt["classes"][0]["example"]["query"]);
  EXPECT_EQ(j["other"]["classes"], 0);
  EXPECT_EQ(j["reader"]["events"], 8);
  // Every class of the ranking, in order.
  for (std::size_t i = 0; i < ranking.top.size(); ++i) {
    EXPECT_EQ(j["classes"][i]["rank"], i + 1);
    EXPECT_EQ(j["classes"][i]["fingerprint"], r.aggregator.Classes()[ranking.top[i].index].key);
  }
}

TEST(ReportJson, LimitLeavesTheRestInOther) {
  const DigestResult r = Digest("slow002.txt");
  ReportOptions ro;
  const Ranking ranking = RankForReport(r.aggregator, ro.order_by, *ParseLimit("2"));
  const nlohmann::json j = JsonReport(r, ranking, ro);
  ASSERT_EQ(j["classes"].size(), 2u);
  EXPECT_EQ(j["other"]["classes"], 5);
  EXPECT_EQ(j["other"]["count"], 6);
  EXPECT_NEAR(j["other"]["Query_time"].get<double>(), 0.762080 - 0.726052 - 0.033384, 1e-9);
}

TEST(ReportText, NoEvents) {
  const DigestResult r = Digest("empty");
  ReportOptions ro;
  const Ranking ranking = RankForReport(r.aggregator, ro.order_by, *ParseLimit("0"));
  EXPECT_EQ(TextReport(r, ranking, ro), "\n# No events processed.\n");
  EXPECT_EQ(PtJsonText(PtJsonReport(r, ranking, ro)), "");
  const auto j = JsonReport(r, ranking, ro);
  EXPECT_EQ(j["overall"]["events"], 0);
  EXPECT_TRUE(j["classes"].empty());
}

TEST(ReportText, DefaultSectionsAreGroupedLikePts) {
  const DigestResult r = Digest("slow013.txt");
  ReportOptions ro;
  const Ranking ranking = RankForReport(r.aggregator, ro.order_by, *ParseLimit("95%:20"));
  const std::string text = TextReport(r, ranking, ro);
  // files and header are one block; profile, query report and prepared are separated.
  const std::string files = "\n# Files: " + r.files[0] + "\n# Overall: 5 total, 4 unique";
  EXPECT_EQ(text.rfind(files, 0), 0u) << text.substr(0, 200);
  EXPECT_NE(text.find("\n\n# Profile\n"), std::string::npos);
  EXPECT_NE(text.find("\n\n# Query 1: "), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::digest
