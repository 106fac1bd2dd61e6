// The digest's reports against pt-query-digest 3.5.7's expected reports
// (../shared/conformance/pt-query-digest-expected/manifest.json and its slow logs).
//
// Every manifest case is either run or listed in kUnsupported with the reason (a case that is
// neither fails the test, and so does a listed case that is supported). A case runs as pt would
// run it: its argv is translated into DigestOptions, --order-by / --limit into a Ranking, and
// --report-format / --output into the report's options; then
//  - text reports are parsed, ours and pt's, by the same parser into cells (the "# Overall"
//    figures, every attribute row's cells, Boolean and String rows, the histogram bars, the
//    tables, the profile rows, each class's ID, rank, QPS, byte offset, V/M, time range and
//    sample), and compared cell by cell; the classes' IDs must come in the same order;
//  - the whole text must then be byte-identical, except for the cases in kTextDifferences;
//  - JSON reports (--output json / json-anon) are compared value by value, numbers as numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "digest/aggregate.h"
#include "digest/digest.h"
#include "digest/filter.h"
#include "digest/query_parser.h"
#include "digest/report.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Cases that are not run, by expected file, and why (pt-only features).
const std::map<std::string, std::string>& Unsupported() {
  static const std::map<std::string, std::string> kUnsupported = {
      {"slow001_distillreport.txt", "--group-by distill is not offered"},
      {"slow002_distilltimeline.txt", "--group-by distill and --timeline are not offered"},
      {"slow010_reportbyfile.txt", "--embedded-attributes and --group-by file are not offered"},
      {"slow054.txt",
       "PT_QUERY_DIGEST_CHECK_ATTRIB_LIMIT (pt looks for new attributes in the first N events "
       "only; we aggregate every attribute of every event)"},
      {"slow034-inheritance.txt", "--output slowlog is not offered"},
      {"slow034-no-ts-inheritance.txt",
       "--output slowlog and --inherit-attributes are not offered"},
      {"slow002_iters_2.txt", "--iterations is not offered"},
      {"slow013_report_outliers.txt", "--outliers is not offered"},
      {"slow049.txt", "--outliers is not offered"},
      {"slow033-rtm-event-1h.txt", "--run-time-mode is not offered"},
      {"slow033-rtm-event-25h.txt", "--run-time-mode is not offered"},
      {"slow033-rtm-interval-1d.txt", "--run-time-mode and --iterations are not offered"},
      {"slow033-rtm-interval-30s.txt", "--run-time-mode and --iterations are not offered"},
      {"slow033-rtm-interval-30m.txt", "--run-time-mode and --iterations are not offered"},
      {"slow033-rtm-interval-30s-3iter.txt", "--run-time-mode and --iterations are not offered"},
      {"slow006-first2.txt", "--sample and --output slowlog are not offered"},
      {"slow033-since-Nd.txt", "time_dependent: a relative --since (now minus N days)"},
      {"slow033-untl-1d.txt", "time_dependent: a relative --until (now minus 1 day)"},
      {"slow033-since-2009-07-08.txt (<DSN>)", "needs_mysql: --since is a MySQL expression"},
      {"slow033-until-date.txt (<DSN>)", "needs_mysql: --until is a MySQL expression"},
      {"slow007_explain_1-80.txt", "needs_mysql: --explain"},
      {"slow007_explain_1-57.txt", "needs_mysql: --explain"},
      {"slow007_explain_1-55.txt", "needs_mysql: --explain"},
      {"slow007_explain_1-51.txt", "needs_mysql: --explain"},
      {"slow007_explain_1.txt", "needs_mysql: --explain"},
      {"slow007_explain_2-80.txt", "needs_mysql: --explain"},
      {"slow007_explain_2-57.txt", "needs_mysql: --explain"},
      {"slow007_explain_2-51.txt", "needs_mysql: --explain"},
      {"slow007_explain_2.txt", "needs_mysql: --explain"},
      {"slow007_explain_json_1-80.txt", "needs_mysql: --explain"},
      {"slow007_explain_json_1-57.txt", "needs_mysql: --explain"},
      {"slow007_explain_json_2-80.txt", "needs_mysql: --explain"},
      {"slow007_explain_json_2-57.txt", "needs_mysql: --explain"},
      {"slow007_explain_3.txt", "needs_mysql: --explain"},
      {"slow007_explain_4.txt", "needs_mysql: --explain"},
      {"slow006_AR_1.txt", "needs_mysql: --review"},
      {"slow006_AR_2.txt", "needs_mysql: --review"},
      {"slow006_AR_4.txt", "needs_mysql: --review"},
      {"slow006_AR_5.txt", "needs_mysql: --review"},
  };
  return kUnsupported;
}

// Cases that run but whose output is known to differ from pt's, and why. Their differences
// are printed, not failed; a listed case that matches pt's output fails the test (the entry is
// stale).
const std::map<std::string, std::string>& KnownDifferences() {
  // None left: every supported case is byte-identical to pt 3.5.7's expected output. A
  // difference found later goes here with its reason.
  static const std::map<std::string, std::string> kKnown = {};
  return kKnown;
}

// ---- running a case ---------------------------------------------------------------------------

struct Case {
  std::string expected;
  std::vector<std::string> inputs;
  std::vector<std::string> argv;
  bool needs_mysql = false;
  bool time_dependent = false;
  std::map<std::string, std::string> env;
};

struct Args {
  std::vector<std::string> group_by = {"fingerprint"};
  std::vector<std::string> order_by = {"Query_time:sum"};
  std::vector<std::string> limit = {"95%:20"};
  std::string report_format = "rusage,date,hostname,files,header,profile,query_report,prepared";
  std::string output = "report";
  bool vertical = true;
  std::size_t expected_min = 5, expected_max = 10;
  std::string histogram = "Query_time";
  bool preserve_embedded_numbers = false;
  std::optional<std::string> filter;
  std::optional<std::string> since, until;
  std::string unsupported;  // why pt's argv cannot be run, or ""
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

Args ParseArgv(const Case& c) {
  Args a;
  auto unsupported = [&](const std::string& why) {
    if (a.unsupported.empty()) a.unsupported = why;
  };
  if (c.needs_mysql) unsupported("needs_mysql");
  if (c.time_dependent) unsupported("time_dependent");
  if (!c.env.empty()) unsupported("environment variables");
  const auto& v = c.argv;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string opt = v[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = opt.find('='); opt.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() {
      if (has_value) return value;
      return i + 1 < v.size() ? v[++i] : std::string();
    };
    if (opt == "--report-format") {
      a.report_format = next();
    } else if (opt == "--limit") {
      a.limit = SplitComma(next());
    } else if (opt == "--order-by") {
      a.order_by = SplitComma(next());
    } else if (opt == "--group-by") {
      a.group_by = SplitComma(next());
    } else if (opt == "--output") {
      a.output = next();
    } else if (opt == "--no-vertical-format") {
      a.vertical = false;
    } else if (opt == "--expected-range") {
      const auto r = SplitComma(next());
      a.expected_min = std::stoul(r.at(0));
      a.expected_max = std::stoul(r.at(1));
    } else if (opt == "--report-histogram") {
      a.histogram = next();
    } else if (opt == "--preserve-embedded-numbers") {
      a.preserve_embedded_numbers = true;
    } else if (opt == "--filter") {
      const std::string perl = next();
      if (perl == "$event->{arg} =~ m/fill/") {
        a.filter = "arg =~ 'fill'";
      } else {
        unsupported("--filter with Perl code");
      }
    } else if (opt == "--since") {
      a.since = next();
    } else if (opt == "--until") {
      a.until = next();
    } else {
      unsupported("option " + opt);
      if (i + 1 < v.size() && v[i + 1].rfind("--", 0) != 0 && !has_value) ++i;
    }
  }
  for (const std::string& g : a.group_by) {
    if (!ParseGroupBy(g)) unsupported("--group-by " + g);
  }
  if (a.output != "report" && a.output != "json" && a.output != "json-anon") {
    unsupported("--output " + a.output);
  }
  for (const auto& s : SplitComma(a.report_format)) {
    if (!ParseReportSections(s)) unsupported("--report-format " + s);
  }
  return a;
}

struct CaseOutput {
  std::string text;  // what pt prints
  std::optional<nlohmann::json> json;
  std::string error;
};

CaseOutput RunCase(const Case& c, const Args& a) {
  CaseOutput run;
  std::vector<std::string> paths;
  for (const std::string& in : c.inputs)
    paths.push_back(testing::SharedPath("conformance/slowlogs/" + in));
  auto sections_or = ParseReportSections(a.report_format);
  if (!sections_or) {
    run.error = sections_or.error().ToString();
    return run;
  }
  std::vector<ReportSection> sections = *sections_or;
  for (std::size_t i = 0; i < a.group_by.size(); ++i) {
    const std::string order_text = i < a.order_by.size() ? a.order_by[i] : "Query_time:sum";
    const std::string limit_text =
        i < a.limit.size() && !a.limit[i].empty() ? a.limit[i] : "95%:20";
    const auto order_by = ParseOrderBy(order_text);
    const auto limit = ParseLimit(limit_text);
    const auto group_by = ParseGroupBy(a.group_by[i]);
    if (!order_by || !limit || !group_by) {
      run.error = "bad --order-by/--limit/--group-by";
      return run;
    }
    DigestOptions options;
    options.threads = 1;
    options.aggregate.group_by = *group_by;
    options.aggregate.worst_attribute = order_by->attribute;
    options.aggregate.ignore_attributes = DefaultIgnoredAttributes();
    options.aggregate.fingerprint.match_embedded_numbers = a.preserve_embedded_numbers;
    options.aggregate.tables_of = [](std::string_view query) {
      return GroupByTables(query, "").value_or(std::vector<std::string>{});
    };
    std::shared_ptr<Filter> filter;
    if (a.filter) {
      auto f = Filter::Parse(*a.filter);
      if (!f) {
        run.error = f.error().ToString();
        return run;
      }
      filter = std::make_shared<Filter>(std::move(*f));
      options.aggregate.filter_needs_fingerprint = filter->NeedsFingerprint();
    }
    std::optional<double> since, until;
    if (a.since) {
      auto t = ParseTimeBound(*a.since, 0);
      if (!t) {
        run.error = t.error().ToString();
        return run;
      }
      since = *t;
    }
    if (a.until) {
      auto t = ParseTimeBound(*a.until, 0);
      if (!t) {
        run.error = t.error().ToString();
        return run;
      }
      until = *t;
    }
    // pt's stateful --since/--until, before inheritance: the aggregator's own.
    options.aggregate.since = since;
    options.aggregate.until = until;
    if (filter) {
      options.aggregate.filter = [filter](const EventView& e) { return filter->Matches(e); };
    }
    auto result = DigestFiles(paths, options);
    if (!result) {
      run.error = result.error().ToString();
      return run;
    }
    for (std::string& f : result->files) f = fs::path(f).filename().string();
    const Ranking ranking = RankForReport(result->aggregator, *order_by, *limit);
    ReportOptions ro;
    ro.sections = sections;
    ro.order_by = *order_by;
    ro.several_group_by = a.group_by.size() > 1;
    ro.vertical = a.vertical;
    ro.expected_min = a.expected_min;
    ro.expected_max = a.expected_max;
    ro.histogram = a.histogram;
    if (a.output == "report") {
      run.text += TextReport(*result, ranking, ro);
    } else {
      const auto j = PtJsonReport(*result, ranking, ro, a.output == "json-anon");
      run.text += PtJsonText(j);
      if (!j.is_null()) run.json = j;
    }
    // pt prints the header once, for the first --group-by.
    std::erase(sections, ReportSection::kHeader);
  }
  return run;
}

// ---- the text report as cells ------------------------------------------------------------------

struct Cell {
  std::string key;
  std::string value;
};

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(' ');
  return s.substr(b, e - b + 1);
}

// Reads a pt text report into keyed cells. Keys: "<group>/<section>/<row>/<column>".
std::vector<Cell> ParseText(const std::string& text, std::vector<std::string>* class_ids) {
  std::vector<Cell> cells;
  std::vector<std::string> lines;
  {
    std::stringstream ss(text);
    std::string l;
    while (std::getline(ss, l)) lines.push_back(l);
  }
  std::string group = "default";
  std::string section = "pre";
  std::string sub;  // "", "InnoDB", "Boolean", "String", "distribution", "Tables", "sample"
  int histogram_row = 0;
  int sample_line = 0;
  int table_line = 0;
  int profile_row = 0;
  auto add = [&](const std::string& row, const std::string& col, const std::string& value) {
    cells.push_back({group + "/" + section + "/" + row + "/" + col, value});
  };
  static const std::regex kOverall(
      R"(^# Overall: (\S+) total, (\S+) unique, (\S+) QPS, (\S+)x concurrency ?_*$)");
  static const std::regex kClass(
      R"(^# (Query|Item) (\d+): (\S+) QPS, (\S+)x concurrency, ID 0x([0-9A-F]+) at byte (\d+) ?_*$)");
  static const std::regex kProfileRow(
      R"(^# +(\d+|MISC) (0x\S*) +(\S+) +(\S+%) +(\d+) +(\S+) +(\S+) ?(.*)$)");
  static const std::regex kBool(R"(^# (.{12}) +(\d+)% yes, +(\d+)% no$)");
  static const std::regex kBar(R"(^# ([ \d]{3}\S+)(  (#+))?$)");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    std::smatch m;
    if (l.empty()) {
      sub.clear();
      continue;
    }
    if (l == "# " + std::string(72, '#') && i + 1 < lines.size() &&
        lines[i + 1].rfind("# Report grouped by ", 0) == 0) {
      group = lines[i + 1].substr(20);
      add("grouped", "by", group);
      i += 2;
      continue;
    }
    if (std::regex_match(l, m, kOverall)) {
      section = "header";
      sub.clear();
      add("overall", "total", m[1]);
      add("overall", "unique", m[2]);
      add("overall", "qps", m[3]);
      add("overall", "concurrency", m[4]);
      continue;
    }
    if (std::regex_match(l, m, kClass)) {
      section = std::string(m[1]) + " " + std::string(m[2]);
      sub.clear();
      sample_line = table_line = 0;
      add("title", "id", m[5]);
      add("title", "qps", m[3]);
      add("title", "concurrency", m[4]);
      add("title", "byte", m[6]);
      if (class_ids != nullptr) class_ids->push_back(group + ":" + std::string(m[5]));
      continue;
    }
    if (l == "# Profile") {
      section = "profile";
      profile_row = 0;
      continue;
    }
    if (section == "profile") {
      if (l.rfind("# Rank", 0) == 0 || l.rfind("# ====", 0) == 0) continue;
      if (std::regex_match(l, m, kProfileRow)) {
        const std::string row = "row " + std::to_string(++profile_row);
        const char* names[] = {"rank", "id", "time", "pct", "calls", "r_call", "v_m", "item"};
        for (int k = 0; k < 8; ++k) add(row, names[k], m[k + 1]);
        continue;
      }
    }
    if (l.rfind("# Time range: ", 0) == 0) {
      add("time range", "", l.substr(14));
      continue;
    }
    if (l.rfind("# Scores: ", 0) == 0) {
      add("scores", "", l.substr(10));
      continue;
    }
    if (l.rfind("# This item is included", 0) == 0) {
      add("reason", "", l);
      continue;
    }
    if (l.rfind("# Attribute ", 0) == 0 || l.rfind("# ====", 0) == 0) continue;
    if (l == "# InnoDB:" || l == "# Boolean:" || l == "# String:" || l == "# Tables") {
      sub = l.substr(2, l.size() - (l.back() == ':' ? 3 : 2));
      add(sub, "present", "yes");
      continue;
    }
    if (l.size() > 15 && l.rfind("# ", 0) == 0 && l.find(" distribution") != std::string::npos &&
        l.find(' ', 2) == l.size() - 13) {
      sub = "distribution";
      histogram_row = 0;
      add("distribution", "attribute", l.substr(2, l.size() - 15));
      continue;
    }
    if (sub == "distribution" && histogram_row < 8 && std::regex_match(l, m, kBar)) {
      add("distribution", Trim(m[1]), std::to_string(m[3].length()));
      ++histogram_row;
      continue;
    }
    if (sub == "Tables" && l.rfind("#    ", 0) == 0) {
      add("Tables", std::to_string(++table_line), l.substr(5));
      continue;
    }
    if (l == "# Converted for EXPLAIN" || l.rfind("# EXPLAIN", 0) == 0) {
      add(l, "present", "yes");
      sub = "sample";
      continue;
    }
    if (l.rfind("# No events processed.", 0) == 0 || l == "# Rate limits apply") {
      add(l, "present", "yes");
      continue;
    }
    if (l.rfind("# ", 0) == 0 &&
        (section == "header" || section.rfind("Query ", 0) == 0 ||
         section.rfind("Item ", 0) == 0) &&
        sub != "sample") {
      if (std::regex_match(l, m, kBool)) {
        add("bool " + Trim(m[1]), "yes", m[2]);
        add("bool " + Trim(m[1]), "no", m[3]);
        continue;
      }
      const std::string label = Trim(l.substr(2, 12));
      const std::string rest = l.size() > 15 ? l.substr(15) : "";
      if (sub == "String") {
        add("string " + label, "", rest);
        continue;
      }
      if (label == "Count") {
        const auto w = Words(rest);
        add("Count", "pct", w.size() > 0 ? w[0] : "");
        add("Count", "count", w.size() > 1 ? w[1] : "");
        continue;
      }
      const auto w = Words(rest);
      static const char* kCols8[] = {"pct", "total", "min",    "max",
                                     "avg", "95%",   "stddev", "median"};
      const bool global = section == "header";
      for (std::size_t k = 0; k < w.size(); ++k) {
        add((sub.empty() ? "" : sub + " ") + label,
            global ? kCols8[k + 1 < 8 ? k + 1 : 7] : kCols8[k < 8 ? k : 7], w[k]);
      }
      continue;
    }
    // Anything else is text: the sample statement (and its conversion), the item of a
    // non-fingerprint grouping, a notice.
    add("text", std::to_string(++sample_line), l);
  }
  return cells;
}

// Compares two reports cell by cell; returns the differences, one per line.
std::string CompareCells(const std::string& ours, const std::string& theirs) {
  std::vector<std::string> our_ids, their_ids;
  const auto a = ParseText(ours, &our_ids);
  const auto b = ParseText(theirs, &their_ids);
  std::string diffs;
  if (our_ids != their_ids) {
    diffs += "class order: ours";
    for (const auto& id : our_ids) diffs += " " + id;
    diffs += "\n             pt's";
    for (const auto& id : their_ids) diffs += " " + id;
    diffs += "\n";
  }
  std::multimap<std::string, std::string> am, bm;
  for (const auto& c : a) am.emplace(c.key, c.value);
  for (const auto& c : b) bm.emplace(c.key, c.value);
  std::set<std::string> keys;
  for (const auto& [k, v] : am) keys.insert(k);
  for (const auto& [k, v] : bm) keys.insert(k);
  for (const auto& k : keys) {
    std::vector<std::string> av, bv;
    for (auto [it, end] = am.equal_range(k); it != end; ++it) av.push_back(it->second);
    for (auto [it, end] = bm.equal_range(k); it != end; ++it) bv.push_back(it->second);
    if (av == bv) continue;
    std::string as, bs;
    for (const auto& s : av) as += "[" + s + "]";
    for (const auto& s : bv) bs += "[" + s + "]";
    diffs += k + ": ours " + (as.empty() ? "(none)" : as) + ", pt's " +
             (bs.empty() ? "(none)" : bs) + "\n";
  }
  return diffs;
}

// The first differing line of two texts, for the whole-text comparison.
std::string FirstDifference(const std::string& ours, const std::string& theirs) {
  std::stringstream a(ours), b(theirs);
  std::string la, lb;
  int n = 0;
  while (true) {
    ++n;
    const bool ga = static_cast<bool>(std::getline(a, la));
    const bool gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) return "(texts differ only in their final newline)";
    if (!ga || !gb || la != lb) {
      return "line " + std::to_string(n) + ":\n  ours: " + (ga ? la : "(end)") +
             "\n  pt's: " + (gb ? lb : "(end)");
    }
  }
}

// ---- JSON ---------------------------------------------------------------------------------------

std::optional<double> AsNumber(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    static const std::regex kNum(R"(^-?\d+(\.\d+)?$)");
    if (std::regex_match(s, kNum)) return std::stod(s);
  }
  return std::nullopt;
}

void CompareJson(const nlohmann::json& ours, const nlohmann::json& theirs, const std::string& path,
                 std::string& diffs) {
  if (theirs.is_object() && ours.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : ours.items()) keys.insert(k);
    for (const auto& [k, v] : theirs.items()) keys.insert(k);
    for (const auto& k : keys) {
      if (!ours.contains(k) || !theirs.contains(k)) {
        diffs += path + "/" + k + ": " +
                 (ours.contains(k) ? "only ours " + ours[k].dump().substr(0, 120)
                                   : "only pt's " + theirs[k].dump().substr(0, 120)) +
                 "\n";
        continue;
      }
      CompareJson(ours[k], theirs[k], path + "/" + k, diffs);
    }
    return;
  }
  if (theirs.is_array() && ours.is_array()) {
    if (ours.size() != theirs.size()) {
      diffs += path + ": " + std::to_string(ours.size()) + " elements, pt's " +
               std::to_string(theirs.size()) + "\n";
    }
    for (std::size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i) {
      CompareJson(ours[i], theirs[i], path + "/" + std::to_string(i), diffs);
    }
    return;
  }
  if (ours.type() != theirs.type()) {
    diffs += path + ": type " + ours.type_name() + " " + ours.dump() + ", pt's " +
             theirs.type_name() + " " + theirs.dump() + "\n";
    return;
  }
  const auto an = AsNumber(ours);
  const auto bn = AsNumber(theirs);
  if (an && bn) {
    if (std::abs(*an - *bn) > 1e-9 * std::max(1.0, std::abs(*bn)) || ours != theirs) {
      diffs += path + ": ours " + ours.dump() + ", pt's " + theirs.dump() + "\n";
    }
    return;
  }
  if (ours != theirs) diffs += path + ": ours " + ours.dump() + ", pt's " + theirs.dump() + "\n";
}

// ---- the test -----------------------------------------------------------------------------------

std::vector<Case> LoadCases() {
  const std::string dir = testing::SharedPath("conformance/pt-query-digest-expected/");
  const auto manifest = nlohmann::json::parse(ReadFile(dir + "manifest.json"));
  std::vector<Case> cases;
  for (const auto& c : manifest["cases"]) {
    Case k;
    k.expected = c["expected"];
    k.inputs = c["input"].get<std::vector<std::string>>();
    k.argv = c["argv"].get<std::vector<std::string>>();
    k.needs_mysql = c.value("needs_mysql", false);
    k.time_dependent = c.value("time_dependent", false);
    if (c.contains("env")) k.env = c["env"].get<std::map<std::string, std::string>>();
    cases.push_back(k);
  }
  return cases;
}

// The manifest has two cases for slow033-until-date.txt; the one with a DSN needs a server.
std::string Key(const Case& c) {
  const bool dsn = std::find(c.argv.begin(), c.argv.end(), "<DSN>") != c.argv.end();
  return c.expected + (dsn ? " (<DSN>)" : "");
}

std::string Argv(const Case& c) {
  std::string s;
  for (const auto& a : c.argv) s += " " + a;
  return s;
}

TEST(DigestConformance, EveryManifestCaseIsRunOrListed) {
  std::set<std::string> listed_and_unsupported;
  for (const Case& c : LoadCases()) {
    const Args a = ParseArgv(c);
    const bool listed = Unsupported().count(Key(c)) > 0;
    if (!a.unsupported.empty()) {
      EXPECT_TRUE(listed) << Key(c) << ": not supported (" << a.unsupported
                          << ") and not in the list of unsupported cases";
      listed_and_unsupported.insert(Key(c));
    } else {
      EXPECT_FALSE(listed) << c.expected << " is listed as unsupported but runs";
    }
  }
  for (const auto& [expected, why] : Unsupported()) {
    EXPECT_TRUE(listed_and_unsupported.count(expected) > 0)
        << expected << ": listed, not in the manifest";
  }
  std::printf("not run (%zu):\n", Unsupported().size());
  for (const auto& [expected, why] : Unsupported())
    std::printf("  %-38s %s\n", expected.c_str(), why.c_str());
}

TEST(DigestConformance, ReportsMatchPt) {
  const std::string dir = testing::SharedPath("conformance/pt-query-digest-expected/");
  std::size_t run = 0, identical = 0;
  std::string summary;
  for (const Case& c : LoadCases()) {
    const Args a = ParseArgv(c);
    if (!a.unsupported.empty()) continue;
    SCOPED_TRACE(c.expected + ":" + Argv(c));
    ++run;
    const std::string expected = ReadFile(dir + c.expected);
    const CaseOutput r = RunCase(c, a);
    ASSERT_TRUE(r.error.empty()) << r.error;
    std::string diffs;
    if (a.output != "report" && expected.find('{') != std::string::npos) {
      if (!r.json) {
        diffs = "we printed no JSON: " + r.text + "\n";
      } else {
        CompareJson(*r.json, nlohmann::json::parse(expected.substr(expected.find('{'))), "", diffs);
      }
    } else if (a.output != "report") {
      if (r.text != expected) diffs = "text: ours [" + r.text + "], pt's [" + expected + "]\n";
    } else {
      diffs = CompareCells(r.text, expected);
      if (diffs.empty() && r.text != expected) {
        diffs = "whole text differs at " + FirstDifference(r.text, expected) + "\n";
      }
    }
    const bool same = diffs.empty();
    if (same) ++identical;
    const auto known = KnownDifferences().find(c.expected);
    summary += (same                                ? "  identical  "
                : known != KnownDifferences().end() ? "  known diff "
                                                    : "  DIFFERS    ") +
               c.expected + Argv(c) + "\n";
    if (known == KnownDifferences().end()) {
      if (!same) ADD_FAILURE() << "differs from pt's:\n" << diffs;
    } else if (same) {
      ADD_FAILURE() << "listed as differing (" << known->second << ") but identical: unlist it";
    } else {
      std::printf("%s: known difference (%s):\n%s", c.expected.c_str(), known->second.c_str(),
                  diffs.c_str());
    }
  }
  std::printf("ran %zu cases; %zu identical to pt's output:\n%s", run, identical, summary.c_str());
  EXPECT_GE(run, 30u);
}

}  // namespace
}  // namespace dbrunbook::digest
