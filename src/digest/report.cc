// pt-query-digest's report formatters, ported from Percona Toolkit 3.x (QueryReportFormatter,
// ReportFormatter, JSONReportFormatter, Transformers). Comments name the Perl sub each piece
// reproduces; pt's quirks are kept on purpose (they are what the conformance test compares).
#include "digest/report.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include "core/text.h"
#include "digest/fingerprint.h"
#include "digest/json_writer.h"
#include "digest/query_parser.h"

namespace dbrunbook::digest {

namespace {

constexpr int kLineLength = 74;          // QueryReportFormatter::LINE_LENGTH
constexpr std::size_t kLabelWidth = 12;  // label_width
constexpr std::size_t kMaxStringLength = 10;
constexpr long long kShortenLength = 1024;      // options->{shorten}
constexpr std::size_t kMaxQueryLength = 10000;  // JSONReportFormatter max_query_length
constexpr std::size_t kMaxFingerprintLength = 5000;

// printf-style formatting (pt's sprintf formats, ported as they are).
template <typename... Args>
std::string Sprintf(const char* format, Args... args) {
  const int n =
      std::snprintf(nullptr, 0, format, args...);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (n <= 0) return {};
  // n + 1 bytes written, the terminating NUL then dropped: a buffer the size snprintf asks for
  // (GCC's -Wformat-truncation cannot see that n is the length, and says so in a PGO build).
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), format,
                args...);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  out.pop_back();
  return out;
}

// Perl's numeric value of a string: leading blanks, sign, digits, fraction, exponent.
double PerlNumify(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  std::string buf;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) buf += s[i++];
  bool digits = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') buf += s[i++], digits = true;
  if (i < s.size() && s[i] == '.') {
    buf += s[i++];
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') buf += s[i++], digits = true;
  }
  if (!digits) return 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::string exp = "e";
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) exp += s[j++];
    if (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') exp += s[j++];
      buf += exp;
    }
  }
  return std::strtod(buf.c_str(), nullptr);
}

// Whether Perl takes the whole string as a number without an "isn't numeric" warning.
bool LooksLikeNumber(std::string_view s) {
  static const RE2 kNumber(R"(\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*)");
  return RE2::FullMatch(s, kNumber);
}

// Perl's truth of a string: "" and "0" are false.
bool PerlTrue(std::string_view s) { return !s.empty() && s != "0"; }

// Perl's sprintf("%d", NV): the integer part, clamped to the IV range.
long long PerlInt(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<long long>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<long long>::min();
  return static_cast<long long>(v);
}

std::string RightTrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\f')) {
    s.pop_back();
  }
  return s;
}

std::string Repeat(char c, long n) {
  return n > 0 ? std::string(static_cast<std::size_t>(n), c) : "";
}

// Perl's split(' ', s): fields separated by whitespace runs, leading whitespace ignored.
std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
    if (i >= s.size()) break;
    std::size_t j = i;
    while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j])) == 0) ++j;
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsTimeAttribute(std::string_view name) {  // m/time|wait$/
  return name.find("time") != std::string_view::npos ||
         (name.size() >= 4 && name.substr(name.size() - 4) == "wait");
}

std::string NumFormat(std::string_view label, std::string_view pct,
                      const std::array<std::string, 7>& v) {
  return Sprintf("# %-12s %3s %7s %7s %7s %7s %7s %7s %7s", std::string(label).c_str(),
                 std::string(pct).c_str(), v[0].c_str(), v[1].c_str(), v[2].c_str(), v[3].c_str(),
                 v[4].c_str(), v[5].c_str(), v[6].c_str());
}

// pt's type_for presets (pt-query-digest main): attributes whose type is not guessed.
std::optional<AttributeKind> PresetKind(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kStrings = {
      "val",       "key_print",     "Status_code", "Statement_id", "Error_no", "Last_errno",
      "Thread_id", "InnoDB_trx_id", "host",        "ip",           "port",     "rate_limit"};
  if (name == "Killed") return AttributeKind::kBool;
  if (name == "Query_time") return AttributeKind::kNumber;
  if (std::find(kStrings.begin(), kStrings.end(), name) != kStrings.end()) {
    return AttributeKind::kString;
  }
  return std::nullopt;
}

bool Hidden(std::string_view name) {
  return name == "arg" || name == "fingerprint" || name == "pos_in_log" || name == "ts";
}

// ---- the digest, as pt's EventAggregator results -------------------------------------------

struct Attr {
  int id = -1;
  std::string name;
  AttributeKind kind = AttributeKind::kString;
};

struct Sorted {
  std::vector<Attr> num, innodb, boolean, string;
};

// One attribute of one class (or the globals), seen as the form pt gave the attribute.
struct View {
  const AttributeStats* stats = nullptr;
  AttributeKind kind = AttributeKind::kString;

  bool Exists() const {
    if (stats == nullptr) return false;
    switch (kind) {
      case AttributeKind::kNumber:
        return stats->number.count() > 0;
      case AttributeKind::kBool:
        return stats->count() > 0;
      case AttributeKind::kString:
        return stats->text.count() > 0;
    }
    return false;
  }
  std::uint64_t Count() const { return stats == nullptr ? 0 : stats->count(); }
  // pt's {sum}: the numbers' sum, the booleans' yes count; 0 for strings.
  double Sum() const {
    if (stats == nullptr) return 0;
    if (kind == AttributeKind::kNumber) return stats->number.sum();
    if (kind == AttributeKind::kBool) return static_cast<double>(stats->boolean.yes);
    return 0;
  }
};

class Digest {
 public:
  Digest(const DigestResult& result, const ReportOptions& options)
      : result_(result), ag_(result.aggregator), options_(options) {
    resolved_ = ResolveOrderBy(ag_, options.order_by);
    for (std::size_t id = 0; id < ag_.AttributeNames().size(); ++id) {
      const std::string& name = ag_.AttributeNames()[id];
      const AttributeStats* s = ag_.Overall().Find(static_cast<int>(id));
      if (s == nullptr) continue;
      Attr a{static_cast<int>(id), name, KindOf(name, *s)};
      all_.push_back(a);
    }
    // sort_attribs
    static const std::vector<std::string_view> kNumOrder = {
        "Query_time",    "Exec_orig_time",  "Transmit_time",   "Lock_time",  "Rows_sent",
        "Rows_examined", "Rows_affected",   "Rows_read",       "Bytes_sent", "Merge_passes",
        "Tmp_tables",    "Tmp_disk_tables", "Tmp_table_sizes", "bytes"};
    for (const Attr& a : all_) {
      if (Hidden(a.name)) continue;
      switch (a.kind) {
        case AttributeKind::kNumber:
          (a.name.rfind("InnoDB_", 0) == 0 ? sorted_.innodb : sorted_.num).push_back(a);
          break;
        case AttributeKind::kBool:
          sorted_.boolean.push_back(a);
          break;
        case AttributeKind::kString:
          sorted_.string.push_back(a);
          break;
      }
    }
    auto order_of = [&](const std::string& n) -> std::optional<std::size_t> {
      const auto it = std::find(kNumOrder.begin(), kNumOrder.end(), n);
      if (it == kNumOrder.end()) return std::nullopt;
      return static_cast<std::size_t>(it - kNumOrder.begin());
    };
    std::stable_sort(sorted_.num.begin(), sorted_.num.end(), [&](const Attr& a, const Attr& b) {
      const auto oa = order_of(a.name);
      const auto ob = order_of(b.name);
      if (!oa && !ob) return a.name < b.name;
      if (oa && ob) return *oa < *ob;
      return oa.has_value();
    });
    auto upper_less = [](const Attr& a, const Attr& b) {
      std::string ua = a.name, ub = b.name;
      for (char& c : ua) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (char& c : ub) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return ua < ub;
    };
    std::stable_sort(sorted_.innodb.begin(), sorted_.innodb.end(), upper_less);
    std::stable_sort(sorted_.boolean.begin(), sorted_.boolean.end(), upper_less);
    std::stable_sort(sorted_.string.begin(), sorted_.string.end(), upper_less);
  }

  static AttributeKind KindOf(std::string_view name, const AttributeStats& s) {
    if (name == "bytes") return AttributeKind::kNumber;
    if (name == "user" || name == "host" || name == "db") return AttributeKind::kString;
    if (const auto preset = PresetKind(name)) return *preset;
    return s.Kind();
  }

  const Aggregator& ag() const { return ag_; }
  const DigestResult& result() const { return result_; }
  const ReportOptions& options() const { return options_; }
  const Sorted& sorted() const { return sorted_; }
  const std::vector<Attr>& all() const { return all_; }
  const std::string& orderby() const { return resolved_.order_by.attribute; }
  const std::string& notice() const { return resolved_.notice; }
  std::string_view groupby() const { return GroupByName(ag_.options().group_by); }
  bool by_fingerprint() const { return ag_.options().group_by == GroupBy::kFingerprint; }

  View Global(std::string_view name) const { return ViewOf(ag_.Overall(), name); }
  View Class(const ClassStats& c, std::string_view name) const { return ViewOf(c, name); }
  View ViewOf(const ClassStats& c, std::string_view name) const {
    View v;
    const auto id = ag_.AttributeId(name);
    if (!id) return v;
    v.stats = c.Find(*id);
    const AttributeStats* g = ag_.Overall().Find(*id);
    v.kind = g != nullptr ? KindOf(name, *g) : AttributeKind::kString;
    return v;
  }

  const ClassStats& ClassAt(std::size_t index) const { return ag_.Classes()[index]; }

  // pt's EventAggregator::metrics(where => class, attrib => Query_time) stddev^2 / avg.
  double VarianceToMean(const ClassStats& c) const {
    const View qt = Class(c, "Query_time");
    if (!qt.Exists() || qt.kind != AttributeKind::kNumber) return 0;
    const Metrics m = qt.stats->number.Compute();
    const double avg = (m.sum != 0 && m.count != 0) ? m.sum / static_cast<double>(m.count) : 0;
    return m.stddev * m.stddev / (avg != 0 ? avg : 1);
  }

  // QPS and concurrency of a class (header: the globals), as pt computes them.
  std::pair<double, double> Rates(const ClassStats& c, bool global) const {
    const std::uint64_t global_cnt = Global(orderby()).Count();
    const View own = Class(c, orderby());
    double qps = 0;
    double conc = 0;
    if (global_cnt != 0 && c.time.present && c.time.max_text > c.time.min_text) {
      // pt's eval: a timestamp that is not a number dies (fatal warnings), leaving 0 and 0.
      const auto max = UnixTimestamp(ParseTimestamp(c.time.max_text));
      const auto min = UnixTimestamp(ParseTimestamp(c.time.min_text));
      if (!max || !min) return {0, 0};
      const double diff = *max - *min;
      if (global) {
        qps = static_cast<double>(global_cnt) / (diff != 0 ? diff : 1);
        if (diff != 0) conc = own.Sum() / diff;  // Perl dies dividing by 0: conc stays 0
      } else if (diff != 0) {
        qps = static_cast<double>(own.Count()) / diff;
        conc = own.Sum() / diff;
      }
    }
    return {qps, conc};
  }

  // QueryReportFormatter::query_report_values: the default db of a class's sample.
  std::string DefaultDb(const ClassStats& c) const {
    if (PerlTrue(c.sample.db)) return c.sample.db;
    const View db = Class(c, "db");
    // pt assigns `keys %{unq}` in scalar context: the number of distinct dbs.
    if (db.stats != nullptr && db.stats->text.count() > 0) {
      return std::to_string(db.stats->text.distinct());
    }
    return "";
  }

  std::vector<TableRef> Tables(const ClassStats& c) const {
    return ExtractTables(c.sample.arg, DefaultDb(c));
  }

 private:
  const DigestResult& result_;
  const Aggregator& ag_;
  const ReportOptions& options_;
  ResolvedOrderBy resolved_;
  std::vector<Attr> all_;
  Sorted sorted_;
};

// A value the aggregation does not know (NaN: min, max and the distribution of a live digest's
// totals) prints as pt prints an undefined one: empty.
std::array<std::string, 7> NumValues(const Metrics& m, bool time) {
  const auto f = [&](double v) {
    if (std::isnan(v)) return std::string();
    return time ? MicroT(v) : Shorten(v);
  };
  return {f(m.sum), f(m.min),    f(m.max),   f(m.sum / static_cast<double>(m.count)),
          f(m.p95), f(m.stddev), f(m.median)};
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += RightTrim(lines[i]);
  }
  return out + "\n";
}

// QueryReportFormatter::bool_percents
std::pair<std::string, std::string> BoolPercents(double yes, double count) {
  return {PercentageOf(yes, count), PercentageOf(count - yes, count)};
}

std::string BoolLine(std::string_view attribute, double yes, double count) {
  const auto [p_yes, p_no] = BoolPercents(yes, count);
  return Sprintf("# %-12s %3lld%% yes, %3lld%% no", MakeLabel(attribute).c_str(),
                 static_cast<long long>(PerlNumify(p_yes)),
                 static_cast<long long>(PerlNumify(p_no)));
}

// ---- header ---------------------------------------------------------------------------------

std::string Header(const Digest& d, std::string& printed_before) {
  const Aggregator& ag = d.ag();
  const ClassStats& g = ag.Overall();
  std::vector<std::string> result;
  const std::uint64_t global_cnt = d.Global(d.orderby()).Count();
  const auto [qps, conc] = d.Rates(g, true);
  std::string line = Sprintf("# Overall: %s total, %s unique, %s QPS, %sx concurrency ",
                             Shorten(static_cast<double>(global_cnt), 1000).c_str(),
                             Shorten(static_cast<double>(ag.Classes().size()), 1000).c_str(),
                             Shorten(qps, 1000).c_str(), Shorten(conc, 1000).c_str());
  line += Repeat('_', kLineLength - static_cast<long>(line.size()));
  result.push_back(line);
  if (g.time.present) {
    std::string range = FormatTimeRange(g.time.min_text, g.time.max_text);
    result.push_back("# Time range: " + (range.empty() ? std::string("unknown") : range));
  }
  if (d.Global("rate_limit").Exists()) printed_before += "# Rate limits apply\n";
  // make_global_header
  result.push_back(
      NumFormat("Attribute", "", {"total", "min", "max", "avg", "95%", "stddev", "median"}));
  result.push_back(
      NumFormat(std::string(kLabelWidth, '='), "   ",
                {"=======", "=======", "=======", "=======", "=======", "=======", "======="}));
  for (const auto* list : {&d.sorted().num, &d.sorted().innodb}) {
    if (list == &d.sorted().innodb && !list->empty()) result.push_back("# InnoDB:");
    for (const Attr& a : *list) {
      const View v = d.Global(a.name);
      if (!v.Exists()) continue;
      const Metrics m = v.stats->number.Compute();
      result.push_back(NumFormat(MakeLabel(a.name), "", NumValues(m, IsTimeAttribute(a.name))));
    }
  }
  if (!d.sorted().boolean.empty()) {
    result.push_back("# Boolean:");
    bool printed = false;
    for (const Attr& a : d.sorted().boolean) {
      const View v = d.Global(a.name);
      if (v.stats == nullptr) continue;
      if (v.Sum() > 0) {
        result.push_back(BoolLine(a.name, v.Sum(), static_cast<double>(v.Count())));
        printed = true;
      }
    }
    if (!printed) result.pop_back();
  }
  return JoinLines(result);
}

// ---- query report ---------------------------------------------------------------------------

// QueryReportFormatter::format_string_list
std::string FormatStringList(const StringStats& s, std::uint64_t class_cnt) {
  if (!s.complete()) {
    return Sprintf("(more than %zu distinct values)", kMaxStringValues);
  }
  const auto top = s.Top(s.distinct());
  if (top.size() == 1) {
    std::string str = top[0].first;
    const std::size_t max = kLineLength - 30;
    if (str.size() > max) str = str.substr(0, max) + "...";
    return str;
  }
  static const RE2 kIp(R"((?:\d+\.){3}\d+)");
  std::string line;
  std::size_t i = 0;
  for (const auto& [str, cnt] : top) {
    // IP addresses are not shortened.
    std::string print = str;
    if (str.size() > kMaxStringLength && !RE2::PartialMatch(str, kIp)) {
      print = str.substr(0, kMaxStringLength) + "...";
    }
    print += " (" + std::to_string(cnt) + "/" +
             PercentageOf(static_cast<double>(cnt), static_cast<double>(class_cnt)) + "%)";
    if (line.size() + print.size() > kLineLength - 27) break;
    line += print + ", ";
    ++i;
  }
  if (line.size() >= 2 && line.compare(line.size() - 2, 2, ", ") == 0) line.resize(line.size() - 2);
  if (i < top.size()) line += "... " + std::to_string(top.size() - i) + " more";
  return line;
}

// EventAggregator::buckets_of(10) applied to a class's values (bucket 0 is not counted).
std::array<std::uint64_t, 8> Distribution(const NumericStats& s) {
  std::array<std::uint64_t, 8> d{};
  for (const auto& [bucket, n] : s.Buckets()) {
    if (bucket == 0) continue;
    d[static_cast<std::size_t>(DecadeOfBucket(bucket))] += n;
  }
  return d;
}

// QueryReportFormatter::chart_distro
std::string ChartDistro(const Digest& d, const ClassStats& c, const std::string& attribute) {
  const View v = d.Class(c, attribute);
  if (v.stats == nullptr || v.stats->number.count() == 0) return "";
  const auto distro = Distribution(v.stats->number);
  static constexpr std::array<const char*, 8> kLabels = {"1us",  "10us",  "100us", "1ms",
                                                         "10ms", "100ms", "1s",    "10s+"};
  std::vector<std::string> lines = {"# " + attribute + " distribution"};
  std::uint64_t max_val = 0;
  for (const std::uint64_t n : distro) max_val = std::max(max_val, n);
  const double per_mark = static_cast<double>(max_val) / 64;
  for (std::size_t i = 0; i < distro.size(); ++i) {
    double marks = static_cast<double>(distro[i]) / (per_mark != 0 ? per_mark : 1);
    if (marks < 1 && distro[i] > 0) marks = 1;
    const std::string bar = (marks != 0 ? "  " : "") + Repeat('#', static_cast<long>(marks));
    lines.push_back(Sprintf("# %5s%s", kLabels[i], bar.c_str()));
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i > 0 ? "\n" : "") + lines[i];
  return out + "\n";
}

// Quoter::quote of the non-empty parts.
std::string QuoteParts(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!PerlTrue(p)) continue;
    if (!out.empty()) out += '.';
    out += '`';
    for (const char ch : p) {
      out += ch;
      if (ch == '`') out += '`';
    }
    out += '`';
  }
  return out;
}

bool StartsWithSelectInsertReplace(std::string_view item) {  // m/^(?:[\(\s]*select|insert|replace)/
  if (item.rfind("insert", 0) == 0 || item.rfind("replace", 0) == 0) return true;
  std::size_t i = 0;
  while (i < item.size() &&
         (item[i] == '(' || std::isspace(static_cast<unsigned char>(item[i])) != 0))
    ++i;
  return item.substr(i).rfind("select", 0) == 0;
}

bool ConvertedIsSelect(std::string_view s) {  // m/^[\(\s]*select/i
  std::size_t i = 0;
  while (i < s.size() && (s[i] == '(' || std::isspace(static_cast<unsigned char>(s[i])) != 0)) ++i;
  if (s.size() - i < 6) return false;
  std::string w(s.substr(i, 6));
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w == "select";
}

// QueryReportFormatter::event_report
std::string EventReport(const Digest& d, const ClassStats& c, std::size_t rank, bool explain_why) {
  std::vector<std::string> result;
  const auto [qps, conc] = d.Rates(c, false);
  std::string line = Sprintf("# %s %zu: %s QPS, %sx concurrency, ID 0x%s at byte %.0f ",
                             d.by_fingerprint() ? "Query" : "Item", rank,
                             Shorten(qps, 1000).c_str(), Shorten(conc, 1000).c_str(),
                             QueryId(c.key).c_str(), static_cast<double>(c.sample.offset));
  line += Repeat('_', kLineLength - static_cast<long>(line.size()));
  result.push_back(line);
  if (explain_why) {
    result.emplace_back("# This item is included in the report because it matches --limit.");
  }
  // A live digest's classes have totals only: no V/M.
  const double vm = d.VarianceToMean(c);
  result.push_back(std::isnan(vm) ? std::string("# Scores: V/M = -")
                                  : Sprintf("# Scores: V/M = %.2f", vm));
  // pt's calculate_statistical_metrics autovivifies every global attribute in every class, so
  // a class without a time gets "unknown" when other events had one.
  if (c.time.present || d.ag().Overall().time.present) {
    std::string range = FormatTimeRange(c.time.min_text, c.time.max_text);
    result.push_back("# Time range: " + (range.empty() ? std::string("unknown") : range));
  }
  result.push_back(
      NumFormat("Attribute", "pct", {"total", "min", "max", "avg", "95%", "stddev", "median"}));
  result.push_back(NumFormat(
      std::string(kLabelWidth, '='),
      "===", {"=======", "=======", "=======", "=======", "=======", "=======", "======="}));
  const std::uint64_t class_cnt = d.Class(c, d.orderby()).Count();
  const std::uint64_t global_cnt = d.Global(d.orderby()).Count();
  result.push_back(NumFormat(
      "Count", PercentageOf(static_cast<double>(class_cnt), static_cast<double>(global_cnt)),
      {std::to_string(class_cnt), "", "", "", "", "", ""}));
  for (const auto* list : {&d.sorted().num, &d.sorted().innodb}) {
    std::vector<std::string> rows;
    for (const Attr& a : *list) {
      const View v = d.Class(c, a.name);
      if (!v.Exists()) continue;
      const Metrics m = v.stats->number.Compute();
      const std::string pct = PercentageOf(m.sum, d.Global(a.name).Sum());
      rows.push_back(NumFormat(MakeLabel(a.name), pct, NumValues(m, IsTimeAttribute(a.name))));
    }
    if (list == &d.sorted().innodb && !rows.empty()) result.emplace_back("# InnoDB:");
    result.insert(result.end(), rows.begin(), rows.end());
  }
  {
    std::vector<std::string> rows;
    for (const Attr& a : d.sorted().boolean) {
      const View v = d.Class(c, a.name);
      if (!v.Exists()) continue;
      if (v.Sum() > 0) rows.push_back(BoolLine(a.name, v.Sum(), static_cast<double>(v.Count())));
    }
    if (!rows.empty()) {
      result.emplace_back("# Boolean:");
      result.insert(result.end(), rows.begin(), rows.end());
    }
  }
  {
    std::vector<std::string> rows;
    for (const Attr& a : d.sorted().string) {
      const View v = d.Class(c, a.name);
      if (!v.Exists()) continue;
      rows.push_back(Sprintf("# %-12s %s", MakeLabel(a.name).c_str(),
                             FormatStringList(v.stats->text, class_cnt).c_str()));
    }
    if (!rows.empty()) {
      result.emplace_back("# String:");
      result.insert(result.end(), rows.begin(), rows.end());
    }
  }
  return JoinLines(result);
}

std::string QueryReport(const Digest& d, const Ranking& ranking) {
  const ReportOptions& o = d.options();
  std::string report;
  const bool print_header = o.several_group_by || !d.by_fingerprint();
  if (print_header) {
    report += "# " + std::string(72, '#') + "\n# Report grouped by " + std::string(d.groupby()) +
              "\n# " + std::string(72, '#') + "\n\n";
  }
  const bool explain_why =
      ranking.top.size() < o.expected_min || ranking.top.size() > o.expected_max;
  const std::string mark = o.vertical ? "\\G" : "";
  for (const RankedClass& r : ranking.top) {
    const ClassStats& c = d.ClassAt(r.index);
    if (r.rank > 1) report += "\n";
    report += EventReport(d, c, r.rank, explain_why);
    if (!o.histogram.empty()) report += ChartDistro(d, c, o.histogram);
    if (d.by_fingerprint()) {
      const std::string& item = c.key;
      const std::string samp_query = Shorten(c.sample.arg, kShortenLength);
      report += TablesReport(d.Tables(c), o.vertical);
      if (StartsWithSelectInsertReplace(item)) {
        if (item.rfind("insert", 0) == 0 || item.rfind("replace", 0) == 0) {
          report += samp_query + mark + "\n";
        } else {
          report += "# EXPLAIN /*!50100 PARTITIONS*/\n";
          report += samp_query + mark + "\n";
        }
      } else {
        report += samp_query + mark + "\n";
        const std::string converted = ConvertToSelect(samp_query).value_or("");
        if (PerlTrue(converted) && ConvertedIsSelect(converted)) {
          report += "# Converted for EXPLAIN\n# EXPLAIN /*!50100 PARTITIONS*/\n";
          report += converted + mark + "\n";
        }
      }
    } else {
      if (d.ag().options().group_by == GroupBy::kTables) {
        report += TablesReport({SplitUnquote(c.key)}, o.vertical);
      }
      report += c.key + "\n";
    }
  }
  return report;
}

// ---- ReportFormatter (the profile and prepared tables) -------------------------------------

struct Column {
  std::string name;
  bool right_justify = false;
  int width = 0;  // fixed width in characters (0: automatic)
  // computed
  int width_pct = 0;
  bool auto_width = false;
  std::size_t min_val = 0;
  std::size_t max_val = 0;
  std::size_t header_width = 0;
  bool right_most = false;
  long print_width = 0;
};

std::string StripBlanks(std::string s) {  // s/^\s+//g; s/\s+$//
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
  return RightTrim(s.substr(i));
}

std::string FormatCell(const std::string& v, long width, bool left) {
  if (width <= 0) return v;
  if (static_cast<long>(v.size()) >= width) return v;
  const std::string pad(static_cast<std::size_t>(width) - v.size(), ' ');
  return left ? v + pad : pad + v;
}

// ReportFormatter with line_width 74, extend_right, the default '# ' prefix and ' ' spacing.
std::string FormatTable(const std::string& title, std::vector<Column> cols,
                        std::vector<std::vector<std::string>> lines) {
  const int line_width = kLineLength;
  int used = 0;
  std::size_t n_auto = 0;
  std::size_t min_hdr = 0;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    Column& c = cols[i];
    if (c.width > 0) c.width_pct = static_cast<int>(std::ceil(c.width * 100.0 / line_width));
    if (c.width_pct > 0) {
      used += c.width_pct;
    } else {
      c.auto_width = true;
      ++n_auto;
    }
    c.header_width = c.name.size();
    min_hdr += c.name.size();
    c.right_most = i + 1 == cols.size();
  }
  if (n_auto > 0) {
    const int per = (100 - used) / static_cast<int>(n_auto);
    for (Column& c : cols) {
      if (c.auto_width) c.width_pct = per;
    }
  }
  min_hdr += cols.size() - 1;
  const bool truncate_headers = static_cast<int>(min_hdr) > line_width;
  for (auto& vals : lines) {
    for (std::size_t i = 0; i < vals.size() && i < cols.size(); ++i) {
      vals[i] = StripBlanks(vals[i]);
      const std::size_t w = vals[i].size();
      cols[i].min_val = std::min(w, cols[i].min_val != 0 ? cols[i].min_val : w);
      cols[i].max_val = std::max(w, cols[i].max_val != 0 ? cols[i].max_val : w);
    }
  }
  // _calculate_column_widths
  long extra = 0;
  for (Column& c : cols) {
    long pw = static_cast<long>(line_width * (c.width_pct / 100.0));
    if (c.auto_width) {
      if (c.min_val != 0 && pw < static_cast<long>(c.min_val)) {
        pw = static_cast<long>(c.min_val);
      } else if (c.max_val != 0 && pw > static_cast<long>(c.max_val)) {
        extra += pw - static_cast<long>(c.max_val);
        pw = static_cast<long>(c.max_val);
      }
    }
    c.print_width = pw;
  }
  while (extra-- > 0) {
    for (Column& c : cols) {
      if (c.auto_width && (c.print_width < static_cast<long>(c.max_val) ||
                           c.print_width < static_cast<long>(c.header_width))) {
        ++c.print_width;
      }
    }
  }
  auto truncate_value = [&](const Column& c, const std::string& v, long width, bool left_side) {
    if (static_cast<long>(v.size()) <= width) return v;
    if (c.right_most) return v;  // extend_right
    const std::string mark = "...";
    if (!left_side) return v.substr(0, static_cast<std::size_t>(std::max(0L, width - 3))) + mark;
    const long keep = std::max(0L, width - 3);
    return mark + v.substr(v.size() - static_cast<std::size_t>(keep));
  };
  if (truncate_headers) {
    for (Column& c : cols) {
      if (static_cast<long>(c.name.size()) > c.print_width) {
        c.name = truncate_value(c, c.name, c.print_width, true);
      }
    }
  }
  for (auto& vals : lines) {
    for (std::size_t i = 0; i < vals.size() && i < cols.size(); ++i) {
      const Column& c = cols[i];
      if (c.print_width != 0 && static_cast<long>(vals[i].size()) > c.print_width) {
        vals[i] = truncate_value(c, vals[i], c.print_width, false);
      }
    }
  }
  auto format_line = [&](const std::vector<std::string>& vals, bool header) {
    std::string out = "# ";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const Column& c = cols[i];
      const long width = (c.right_most && !c.right_justify) ? 0 : c.print_width;
      if (i > 0) out += ' ';
      std::string v = i < vals.size() ? vals[i] : "";
      if (!header) std::replace(v.begin(), v.end(), '\n', ' ');
      out += FormatCell(v, width, header || !c.right_justify);
    }
    return out;
  };
  auto truncate_line = [&](std::string line, bool strip) {
    if (strip) line = RightTrim(line);
    if (static_cast<int>(line.size()) > line_width)
      line.resize(static_cast<std::size_t>(line_width));
    return line;
  };
  std::vector<std::string> out;
  out.push_back("# " + title);
  std::vector<std::string> names;
  std::vector<std::string> underlines;
  for (const Column& c : cols) {
    names.push_back(c.name);
    underlines.push_back(Repeat('=', c.print_width));
  }
  out.push_back(truncate_line(format_line(names, true), true));
  out.push_back(truncate_line(format_line(underlines, false), false));
  for (const auto& vals : lines) out.push_back(format_line(vals, false));
  std::string text;
  for (std::size_t i = 0; i < out.size(); ++i) text += (i > 0 ? "\n" : "") + out[i];
  return text + "\n";
}

double ClassQueryTimeSum(const Digest& d, const ClassStats& c) {
  return d.Class(c, "Query_time").Sum();
}
std::uint64_t ClassQueryTimeCount(const Digest& d, const ClassStats& c) {
  const View v = d.Class(c, "Query_time");
  return v.Exists() ? v.Count() : 0;
}

// QueryReportFormatter::profile
std::string Profile(const Digest& d, const Ranking& ranking) {
  const double total_r = d.Global("Query_time").Sum();
  std::vector<Column> cols = {
      {.name = "Rank", .right_justify = true},
      // 3.5.7 gives the ID its 34 characters (3.2.1 cut it to fit an automatic width);
      // width 35 reproduces every 3.5.7 profile of the conformance set.
      {.name = "Query ID", .width = 35},
      {.name = "Response time", .right_justify = true},
      {.name = "Calls", .right_justify = true},
      {.name = "R/Call", .right_justify = true},
      {.name = "V/M", .right_justify = true, .width = 5},
      {.name = "Item"},
  };
  std::vector<std::vector<std::string>> lines;
  for (const RankedClass& r : ranking.top) {
    const ClassStats& c = d.ClassAt(r.index);
    const double rt = ClassQueryTimeSum(d, c);
    const auto cnt = ClassQueryTimeCount(d, c);
    const double per_call = cnt != 0 ? rt / static_cast<double>(cnt) : 0;
    lines.push_back(
        {std::to_string(r.rank), "0x" + (d.by_fingerprint() ? QueryId(c.key) : std::string()),
         Sprintf("%10.4f %4.1f%%", rt, rt / (total_r != 0 ? total_r : 1) * 100),
         std::to_string(cnt), Sprintf("%8.4f", per_call),
         std::isnan(d.VarianceToMean(c)) ? std::string("-") : Sprintf("%4.2f", d.VarianceToMean(c)),
         d.by_fingerprint() ? Distill(c.sample.arg) : c.key});
  }
  if (!ranking.other.empty()) {
    double r = 0;
    std::uint64_t cnt = 0;
    for (const RankedClass& o : ranking.other) {
      r += ClassQueryTimeSum(d, d.ClassAt(o.index));
      cnt += ClassQueryTimeCount(d, d.ClassAt(o.index));
    }
    lines.push_back(
        {"MISC", "0xMISC", Sprintf("%10.4f %4.1f%%", r, r / (total_r != 0 ? total_r : 1) * 100),
         std::to_string(cnt), Sprintf("%8.4f", cnt != 0 ? r / static_cast<double>(cnt) : 0), "0.0",
         "<" + std::to_string(ranking.other.size()) + " ITEMS>"});
  }
  return FormatTable("Profile", std::move(cols), std::move(lines));
}

// QueryReportFormatter::prepared
std::string Prepared(const Digest& d, const Ranking& ranking) {
  struct Row {
    std::size_t rank;
    std::string id, sample;
    double prep_r, exec_r;
    std::uint64_t prep_cnt, exec_cnt;
  };
  std::vector<Row> rows;
  std::map<std::string, int> seen;
  double total_r = 0;
  std::unordered_map<std::string_view, const ClassStats*> by_key;  // built when first needed
  auto find_class = [&](const std::string& key) -> const ClassStats* {
    if (by_key.empty()) {
      for (const ClassStats& c : d.ag().Classes()) by_key.emplace(c.key, &c);
    }
    const auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : it->second;
  };
  for (const RankedClass& r : ranking.top) {
    const ClassStats& c = d.ClassAt(r.index);
    const std::string& item = c.key;
    total_r += ClassQueryTimeSum(d, c);
    if (d.Class(c, "Statement_id").stats == nullptr) continue;
    const bool prepare = item.rfind("prepare ", 0) == 0;
    if (!prepare && item.rfind("execute ", 0) != 0) continue;
    const std::string rest = item.substr(8);
    const std::string prep_stmt = "prepare " + rest;
    const std::string exec_stmt = "execute " + rest;
    if (seen[prep_stmt]++ != 0) continue;
    Row row{r.rank,
            d.by_fingerprint() ? QueryId(item) : "",
            d.by_fingerprint() ? Distill(c.sample.arg) : item,
            0,
            0,
            0,
            0};
    if (const ClassStats* e = find_class(exec_stmt)) {
      row.exec_r = ClassQueryTimeSum(d, *e);
      row.exec_cnt = ClassQueryTimeCount(d, *e);
    }
    if (const ClassStats* p = find_class(prep_stmt)) {
      row.prep_r = ClassQueryTimeSum(d, *p);
      const View sid = d.Class(*p, "Statement_id");
      row.prep_cnt = sid.stats != nullptr ? sid.stats->text.distinct() : 0;
    }
    rows.push_back(row);
  }
  if (rows.empty()) return "";
  std::vector<Column> cols = {
      {.name = "Rank", .right_justify = true},
      {.name = "Query ID"},
      {.name = "PREP", .right_justify = true},
      {.name = "PREP Response", .right_justify = true},
      {.name = "EXEC", .right_justify = true},
      {.name = "EXEC Response", .right_justify = true},
      {.name = "Item"},
  };
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows.size());
  const double tr = total_r != 0 ? total_r : 1;
  for (const Row& r : rows) {
    lines.push_back({std::to_string(r.rank), "0x" + r.id, std::to_string(r.prep_cnt),
                     Sprintf("%10.4f %4.1f%%", r.prep_r, r.prep_r / tr * 100),
                     std::to_string(r.exec_cnt),
                     Sprintf("%10.4f %4.1f%%", r.exec_r, r.exec_r / tr * 100), r.sample});
  }
  return FormatTable("Prepared statements", std::move(cols), std::move(lines));
}

std::string Files(const DigestResult& result) {
  if (result.files.empty()) return "";  // a live digest reads no file
  std::string out = "# Files: ";
  for (std::size_t i = 0; i < result.files.size(); ++i)
    out += (i > 0 ? ", " : "") + result.files[i];
  return out + "\n";
}

bool Grouped(ReportSection s) { return s == ReportSection::kFiles || s == ReportSection::kHeader; }

// ---- JSON helpers ---------------------------------------------------------------------------

std::string Substr(const std::string& s, std::size_t n) {
  return s.size() > n ? s.substr(0, n) : s;
}

// nlohmann::json refuses invalid UTF-8 when dumping; slow logs are bytes. Our JSON replaces
// invalid sequences by U+FFFD (core::ToValidUtf8) so that a report never throws.
std::string ValidUtf8(std::string_view s) { return core::ToValidUtf8(s); }

// pt reads the log as bytes and its JSON encoder writes every byte above 0x7F as the Latin-1
// character of that code (UTF-8 text comes out double-encoded); pt-json keeps that.
std::string Latin1(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

nlohmann::json TimeOrNull(const std::string& ts) {
  if (!PerlTrue(ts)) return nullptr;
  return Latin1(ParseTimestamp(ts));
}

}  // namespace

// ---- public helpers -------------------------------------------------------------------------

std::string PerlNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  if (value == 0) return "0";
  return Sprintf("%.15g", value);
}

std::string MicroT(double t) {
  if (t < 0) t = 0;
  std::string s = PerlNumber(t);
  if (s.find('e') != std::string::npos) s = Sprintf("%.17f", t);
  // s/\.(\d{1,6})\d*/\.$1/
  const std::size_t dot = s.find('.');
  if (dot != std::string::npos && dot + 1 < s.size() && s[dot + 1] >= '0' && s[dot + 1] <= '9') {
    std::size_t end = dot + 1;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    const std::size_t keep = std::min<std::size_t>(end - dot - 1, 6);
    s = s.substr(0, dot + 1 + keep) + s.substr(end);
  }
  const double v = PerlNumify(s);
  if (v > 0 && v <= 0.000999) return PerlNumber(v * 1000000) + "us";
  if (v >= 0.001 && v <= 0.999999) return PerlNumber(PerlNumify(Sprintf("%.0f", v * 1000))) + "ms";
  if (v >= 1) return PerlNumber(PerlNumify(Sprintf("%.0f", v))) + "s";
  return "0";
}

std::string Shorten(double num, double divisor) {
  static constexpr std::array<const char*, 9> kUnits = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
  std::size_t n = 0;
  while (num >= divisor && n < kUnits.size() - 1) {
    num /= divisor;
    ++n;
  }
  if (PerlNumber(num).find('.') != std::string::npos || n > 0) {
    return Sprintf("%.2f%s", num, kUnits[n]);
  }
  return Sprintf("%lld", PerlInt(num));
}

std::string PercentageOf(double is, double of) {
  return Sprintf("%lld", PerlInt((is * 100) / (of != 0 ? of : 1)));
}

std::string MakeLabel(std::string_view attribute) {
  if (!PerlTrue(attribute)) return "";
  std::string val(attribute);
  std::replace(val.begin(), val.end(), '_', ' ');
  if (val.rfind("InnoDB", 0) == 0) {
    if (val.rfind("InnoDB ", 0) == 0) val.erase(0, 7);
    val = val == "trx id" ? "InnoDB trxID" : val.substr(0, kLabelWidth);
  }
  if (val == "user") return "Users";
  if (val == "db") return "Databases";
  if (val == "Query time") return "Exec time";
  if (val == "host") return "Hosts";
  if (val == "Error no") return "Errors";
  if (val == "bytes") return "Query size";
  if (val == "Tmp disk tables") return "Tmp disk tbl";
  if (val == "Tmp table sizes") return "Tmp tbl size";
  return val.substr(0, kLabelWidth);
}

std::string ParseTimestamp(std::string_view ts) {
  // $mysql_ts = qr/(\d\d)(\d\d)(\d\d) +(\d+):(\d+):(\d+)(\.\d+)?/, anchored.
  std::string_view s = ts;
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);  // Perl's $ before a final newline
  if (s.size() < 7 || !AllDigits(s.substr(0, 6)) || s[6] != ' ') return std::string(ts);
  std::size_t i = 6;
  while (i < s.size() && s[i] == ' ') ++i;
  std::array<std::string_view, 3> hms;
  for (std::size_t k = 0; k < 3; ++k) {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::string(ts);
    hms[k] = s.substr(start, i - start);
    if (k < 2) {
      if (i >= s.size() || s[i] != ':') return std::string(ts);
      ++i;
    }
  }
  std::string_view frac;
  if (i < s.size() && s[i] == '.') {
    const std::size_t start = i;
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start + 1) return std::string(ts);
    frac = s.substr(start, i - start);
  }
  if (i != s.size()) return std::string(ts);
  const auto num = [](std::string_view v) {
    return std::strtoll(std::string(v).c_str(), nullptr, 10);
  };
  std::string out = Sprintf("%lld-%02lld-%02lld %02lld:%02lld:", num(s.substr(0, 2)) + 2000,
                            num(s.substr(2, 2)), num(s.substr(4, 2)), num(hms[0]), num(hms[1]));
  if (!frac.empty()) {
    out += Sprintf("%09.6f", static_cast<double>(num(hms[2])) + PerlNumify(frac));
  } else {
    out += Sprintf("%02lld", num(hms[2]));
  }
  return out;
}

std::optional<double> UnixTimestamp(std::string_view ts) {
  // $proper_ts = qr/(\d\d\d\d)-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?/, anchored.
  std::string_view s = ts;
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  const bool shape = s.size() >= 19 && AllDigits(s.substr(0, 4)) && s[4] == '-' &&
                     AllDigits(s.substr(5, 2)) && s[7] == '-' && AllDigits(s.substr(8, 2)) &&
                     (s[10] == 'T' || s[10] == ' ') && AllDigits(s.substr(11, 2)) && s[13] == ':' &&
                     AllDigits(s.substr(14, 2)) && s[16] == ':' && AllDigits(s.substr(17, 2));
  std::string_view frac;
  bool match = shape;
  if (shape && s.size() > 19) {
    match = s[19] == '.' && s.size() > 20 && AllDigits(s.substr(20));
    frac = s.substr(19);
  }
  if (!match) {
    if (!LooksLikeNumber(ts)) return std::nullopt;
    return PerlNumify(ts);
  }
  const auto num = [&](std::size_t at, std::size_t n) {
    return static_cast<int>(std::strtol(std::string(s.substr(at, n)).c_str(), nullptr, 10));
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  tm.tm_isdst = -1;
  double epoch = static_cast<double>(std::mktime(&tm));
  if (!frac.empty()) {
    // $us = sprintf('%.6f', $us); $us =~ s/^0\././; $val .= $us;
    std::string us = Sprintf("%.6f", PerlNumify(frac));
    if (us.rfind("0.", 0) == 0) {
      epoch += PerlNumify(us);
    } else {
      epoch = PerlNumify(Sprintf("%.0f", epoch) + us);  // pt appends "1.000000" to the text
    }
  }
  return epoch;
}

std::string FormatTimeRange(std::string_view min_ts, std::string_view max_ts) {
  const std::string min = ParseTimestamp(min_ts);
  std::string max = ParseTimestamp(max_ts);
  if (PerlTrue(min) && PerlTrue(max) && min == max) return "all events occurred at " + min;
  const auto min_words = SplitWords(min);
  const auto max_words = SplitWords(max);
  const std::string min_day = min_words.empty() ? "" : min_words[0];
  const std::string max_day = max_words.empty() ? "" : max_words[0];
  if (min_day == max_day) max = max_words.size() > 1 ? max_words[1] : "";
  return PerlTrue(min) && PerlTrue(max) ? min + " to " + max : "";
}

core::Result<std::vector<ReportSection>> ParseReportSections(std::string_view list) {
  std::vector<ReportSection> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string_view name = list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (name == "files") {
      out.push_back(ReportSection::kFiles);
    } else if (name == "header") {
      out.push_back(ReportSection::kHeader);
    } else if (name == "profile") {
      out.push_back(ReportSection::kProfile);
    } else if (name == "query_report") {
      out.push_back(ReportSection::kQueryReport);
    } else if (name == "prepared") {
      out.push_back(ReportSection::kPrepared);
    } else if (name == "rusage" || name == "date" || name == "hostname") {
      // machine-specific: accepted, not printed
    } else {
      return core::MakeError(core::ErrorCode::kInvalidArgument,
                             "unknown report section '" + std::string(name) + "'",
                             "use files, header, profile, query_report and prepared");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<ReportSection> DefaultReportSections() {
  return {ReportSection::kFiles, ReportSection::kHeader, ReportSection::kProfile,
          ReportSection::kQueryReport, ReportSection::kPrepared};
}

ResolvedOrderBy ResolveOrderBy(const Aggregator& aggregator, const OrderBy& requested) {
  ResolvedOrderBy r{requested, {}};
  if (requested.attribute == "Query_time" || PresetKind(requested.attribute)) return r;
  const auto id = aggregator.AttributeId(requested.attribute);
  if (id && aggregator.Overall().Find(*id) != nullptr) return r;
  r.order_by.attribute = "Query_time";
  r.notice = "--order-by attribute " + requested.attribute + " doesn't exist, using Query_time:sum";
  return r;
}

Ranking RankForReport(const Aggregator& aggregator, const OrderBy& requested, const Limit& limit) {
  return Rank(aggregator, ResolveOrderBy(aggregator, requested).order_by, limit);
}

std::string TextReport(const DigestResult& result, const Ranking& ranking,
                       const ReportOptions& options) {
  if (result.aggregator.counts().aggregated == 0) return "\n# No events processed.\n";
  const Digest d(result, options);
  std::string out;
  const bool has_query_report = std::find(options.sections.begin(), options.sections.end(),
                                          ReportSection::kQueryReport) != options.sections.end();
  if (!d.notice().empty() && has_query_report) out += d.notice() + "\n";
  std::optional<ReportSection> last;
  for (const ReportSection section : options.sections) {
    std::string before;
    std::string text;
    switch (section) {
      case ReportSection::kFiles:
        text = Files(result);
        break;
      case ReportSection::kHeader:
        text = Header(d, before);
        break;
      case ReportSection::kProfile:
        text = Profile(d, ranking);
        break;
      case ReportSection::kQueryReport:
        text = QueryReport(d, ranking);
        break;
      case ReportSection::kPrepared:
        text = Prepared(d, ranking);
        break;
    }
    out += before;
    if (!text.empty()) {
      if (!last || !(Grouped(*last) && Grouped(section))) out += "\n";
      out += text;
    }
    last = section;
  }
  return out;
}

// ---- pt --output json ----------------------------------------------------------------------

nlohmann::json PtJsonReport(const DigestResult& result, const Ranking& ranking,
                            const ReportOptions& options, bool anonymous) {
  using nlohmann::json;
  if (result.aggregator.counts().aggregated == 0) return nullptr;
  const Digest d(result, options);
  const Aggregator& ag = d.ag();
  json global = json::object();
  global["metrics"] = json::object();
  json files = json::array();
  for (std::size_t i = 0; i < result.files.size(); ++i) {
    files.push_back({{"name", Latin1(result.files[i])},
                     {"size", i < result.file_bytes.size() ? result.file_bytes[i] : 0}});
  }
  global["files"] = std::move(files);
  global["query_count"] = d.Global(d.orderby()).Count();
  global["unique_query_count"] = ag.Classes().size();
  // pt computes queries_per_second and concurrency with unix_timestamp, which its JSON
  // formatter does not import: the call dies inside an eval and neither key is ever printed.
  if (const View rl = d.Global("rate_limit"); rl.Exists()) {
    const auto top = rl.stats->text.Top(rl.stats->text.distinct());
    std::string min, max;
    for (const auto& [v, n] : top) {
      if (min.empty() || v < min) min = v;
      if (max.empty() || v > max) max = v;
    }
    static const RE2 kRate(R"(^(\w+):(\d+)$)");
    std::string type, limit;
    json rate = json::object();
    if (RE2::FullMatch(min, kRate, &type, &limit) && PerlTrue(type) && PerlTrue(limit)) {
      rate["type"] = type;
      rate["limit"] = static_cast<std::uint64_t>(std::strtoull(limit.c_str(), nullptr, 10));
    } else {
      rate["error"] = Latin1("Invalid rate limit: " + min);
    }
    if (min != max) rate["diff"] = 1;
    global["rate_limit"] = std::move(rate);
  }
  for (const Attr& a : d.all()) {
    if (Hidden(a.name)) continue;
    if (a.kind == AttributeKind::kString) continue;
    const View v = d.Global(a.name);
    if (v.stats == nullptr) continue;
    const std::string real = a.name == "bytes" ? "Query_length" : a.name;
    const bool integer = !(a.name.size() >= 4 && (a.name.substr(a.name.size() - 4) == "time" ||
                                                  a.name.substr(a.name.size() - 4) == "wait"));
    const auto fmt = [&](double x) {  // pt: sprintf(..., $value || 0)
      if (std::isnan(x)) x = 0;
      return integer ? Sprintf("%lld", PerlInt(x)) : Sprintf("%.6f", x);
    };
    if (a.kind == AttributeKind::kNumber) {
      if (v.stats->number.count() == 0) continue;
      const Metrics m = v.stats->number.Compute();
      global["metrics"][Latin1(real)] = {{"sum", fmt(m.sum)},
                                         {"min", fmt(m.min)},
                                         {"max", fmt(m.max)},
                                         {"pct_95", fmt(m.p95)},
                                         {"stddev", fmt(m.stddev)},
                                         {"median", fmt(m.median)},
                                         {"avg", fmt(m.sum / static_cast<double>(m.count))}};
    } else {
      global["metrics"][Latin1(real)] = {{"cnt", Sprintf("%lld", PerlInt(v.Sum()))}};
    }
  }
  json classes = json::array();
  for (const RankedClass& r : ranking.top) {
    const ClassStats& c = d.ClassAt(r.index);
    const std::string& item = c.key;
    json klass = json::object();
    const std::string distill = d.by_fingerprint() ? Distill(c.sample.arg) : "";
    klass["checksum"] = QueryId(item);
    klass["fingerprint"] = Latin1(Substr(item, kMaxFingerprintLength));
    klass["distillate"] = d.by_fingerprint() ? json(Latin1(distill)) : json(nullptr);
    klass["attribute"] = std::string(d.groupby());
    klass["query_count"] = c.count;
    if (!anonymous) {
      json example = json::object();
      example["query"] = Latin1(Substr(c.sample.arg, kMaxQueryLength));
      example["ts"] = TimeOrNull(c.sample.ts);
      // pt prints the sample's Query_time as the log wrote it ("0.726052"); the aggregator
      // keeps its value when Query_time is the ranking attribute, and logs write 6 decimals.
      if (c.sample.has_value && ag.options().worst_attribute == "Query_time") {
        example["Query_time"] = Sprintf("%.6f", c.sample.value);
      } else {
        example["Query_time"] = nullptr;
      }
      klass["example"] = std::move(example);
    }
    // metrics
    json metrics = json::object();
    for (const Attr& a : d.all()) {
      const std::string real = a.name == "bytes" ? "Query_length" : a.name;
      if (real == "Rows_affected" && !distill.empty() &&
          RE2::PartialMatch(distill, R"(^(?:SELECT|SHOW|SET|ADMIN))")) {
        continue;
      }
      if (a.name == "pos_in_log" || a.name == "arg" || a.name == "fingerprint") continue;
      const View v = d.Class(c, a.name);
      if (v.stats == nullptr || v.Count() == 0) continue;  // every value false: deleted
      const View g = d.Global(a.name);
      const AttributeKind kind = real == "Query_length" ? AttributeKind::kNumber : a.kind;
      if (a.name == "ts") continue;  // ts_min / ts_max below
      if (kind == AttributeKind::kString) {
        std::string max;
        bool first = true;
        for (const auto& [value, n] : v.stats->text.values()) {
          if (first || value > max) max = value;
          first = false;
        }
        metrics[Latin1(real)] = {{"value", Latin1(max)}};
      } else if (kind == AttributeKind::kNumber) {
        if (v.stats->number.count() == 0) continue;
        const Metrics m = v.stats->number.Compute();
        const bool time = real.size() >= 5 && (real.substr(real.size() - 5) == "_time" ||
                                               real.substr(real.size() - 5) == "_wait");
        const auto fmt = [&](double x) -> json {  // pt leaves an undefined value null
          if (std::isnan(x)) return nullptr;
          return time ? Sprintf("%.6f", x) : Sprintf("%lld", PerlInt(x));
        };
        const double pct =
            g.Count() != 0 ? static_cast<double>(v.Count()) / static_cast<double>(g.Count()) : 0;
        const double avg = (m.sum != 0 && m.count != 0) ? m.sum / static_cast<double>(m.count) : 0;
        metrics[Latin1(real)] = {{"pct", fmt(pct)},      {"sum", fmt(m.sum)},
                                 {"min", fmt(m.min)},    {"max", fmt(m.max)},
                                 {"avg", fmt(avg)},      {"median", fmt(m.median)},
                                 {"pct_95", fmt(m.p95)}, {"stddev", fmt(m.stddev)}};
      } else {
        metrics[Latin1(real)] = {{"yes", Sprintf("%lld", PerlInt(v.Sum()))}};
      }
    }
    if (c.time.present) {
      klass["ts_min"] = Latin1(ParseTimestamp(c.time.min_text));
      klass["ts_max"] = Latin1(ParseTimestamp(c.time.max_text));
    }
    json tables = json::array();
    if (d.by_fingerprint()) {
      const std::string mark = options.vertical ? "\\G" : "";
      for (const auto& [db, tbl] : d.Tables(c)) {
        std::string status = "SHOW TABLE STATUS";
        if (PerlTrue(db)) status += " FROM `" + db + "`";
        status += " LIKE '";
        status += tbl;
        status += "'";
        status += mark;
        tables.push_back({{"status", Latin1(status)},
                          {"create", Latin1("SHOW CREATE TABLE " + QuoteParts({db, tbl}) + mark)}});
      }
      if (!anonymous && !StartsWithSelectInsertReplace(item)) {
        const std::string converted = ConvertToSelect(c.sample.arg).value_or("");
        if (PerlTrue(converted) && ConvertedIsSelect(converted)) {
          klass["example"]["as_select"] = Latin1(converted);
        }
      }
    }
    if (const View qt = d.Class(c, "Query_time");
        qt.stats != nullptr && qt.stats->number.count() > 0) {
      const auto distro = Distribution(qt.stats->number);
      klass["histograms"] = {{"Query_time", distro}};
    }
    klass["metrics"] = std::move(metrics);
    if (!tables.empty()) klass["tables"] = tables;
    classes.push_back(std::move(klass));
  }
  json out = json::object();
  out["global"] = std::move(global);
  out["classes"] = std::move(classes);
  return out;
}

std::string PtJsonText(const nlohmann::json& report) {
  if (report.is_null()) return "";
  return report.dump() + "\n";
}

// ---- dbrunbook.digest v1 --------------------------------------------------------------------

namespace {

// Written in nlohmann::json dump()'s key order (std::map's: byte order), which the report had
// when it was a nlohmann::json tree; JsonReport() still gives that tree.
void WriteMetrics(JsonWriter& w, const Metrics& m) {
  w.BeginObject();
  w.Member("avg", m.count != 0 ? m.sum / static_cast<double>(m.count) : 0.0);
  w.Member("count", m.count);
  w.Member("max", m.max);
  w.Member("median", m.median);
  w.Member("min", m.min);
  w.Member("p95", m.p95);
  w.Member("stddev", m.stddev);
  w.Member("sum", m.sum);
  w.EndObject();
}

std::string JsonName(const std::string& name) { return name == "bytes" ? "Query_length" : name; }

void WriteTimeRange(JsonWriter& w, const TimeRange& t) {
  if (!t.present) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Member("max", ValidUtf8(ParseTimestamp(t.max_text)));
  w.Member("min", ValidUtf8(ParseTimestamp(t.min_text)));
  w.EndObject();
}

// An attribute of a class, under the name the JSON gives it.
struct NamedView {
  std::string name;
  View view;
};

// A class's attributes that it has, by kind, each by name in byte order (one pass over the
// digest's attributes); of two with the same JSON name (bytes and a logged Query_length) the
// later in d.all() order, as a map assignment would keep.
struct ClassAttributes {
  std::vector<NamedView> booleans, numbers, strings;
};

ClassAttributes AttributesOf(const Digest& d, const ClassStats& c) {
  ClassAttributes out;
  for (const Attr& a : d.all()) {
    if (Hidden(a.name)) continue;
    const View v = d.Class(c, a.name);
    if (!v.Exists()) continue;
    std::vector<NamedView>& list = a.kind == AttributeKind::kNumber ? out.numbers
                                   : a.kind == AttributeKind::kBool ? out.booleans
                                                                    : out.strings;
    list.push_back({ValidUtf8(JsonName(a.name)), v});
  }
  for (std::vector<NamedView>* list : {&out.booleans, &out.numbers, &out.strings}) {
    std::stable_sort(list->begin(), list->end(),
                     [](const NamedView& x, const NamedView& y) { return x.name < y.name; });
    std::vector<NamedView> unique;
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (i + 1 < list->size() && (*list)[i + 1].name == (*list)[i].name) continue;
      unique.push_back(std::move((*list)[i]));
    }
    *list = std::move(unique);
  }
  return out;
}

void WriteBooleans(JsonWriter& w, const std::vector<NamedView>& booleans) {
  w.Key("booleans");
  w.BeginObject();
  for (const NamedView& a : booleans) {
    w.Key(a.name);
    w.BeginObject();
    w.Member("count", a.view.Count());
    w.Member("yes", a.view.stats->boolean.yes);
    w.EndObject();
  }
  w.EndObject();
}

void WriteNumbers(JsonWriter& w, const std::vector<NamedView>& numbers) {
  w.Key("metrics");
  w.BeginObject();
  for (const NamedView& a : numbers) {
    w.Key(a.name);
    WriteMetrics(w, a.view.stats->number.Compute());
  }
  w.EndObject();
}

void WriteStrings(JsonWriter& w, const std::vector<NamedView>& strings) {
  w.Key("strings");
  w.BeginObject();
  for (const NamedView& a : strings) {
    const StringStats& text = a.view.stats->text;
    w.Key(a.name);
    w.BeginObject();
    w.Member("complete", text.complete());
    w.Member("distinct", text.distinct());
    w.Key("top");
    w.BeginArray();
    for (const auto& [value, n] : text.Top(10)) {
      w.BeginObject();
      w.Member("count", n);
      w.Member("value", ValidUtf8(value));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
}

std::string OrderByText(const OrderBy& o) {
  switch (o.stat) {
    case OrderStat::kSum:
      return o.attribute + ":sum";
    case OrderStat::kMin:
      return o.attribute + ":min";
    case OrderStat::kMax:
      return o.attribute + ":max";
    case OrderStat::kCount:
      return o.attribute + ":cnt";
    case OrderStat::kAvg:
      return o.attribute + ":avg";
  }
  return o.attribute;
}

void WriteClass(JsonWriter& w, const DigestResult& result, const Digest& d, const RankedClass& r) {
  const ClassStats& c = d.ClassAt(r.index);
  const auto [qps, conc] = d.Rates(c, false);
  const ClassAttributes attributes = AttributesOf(d, c);
  w.BeginObject();
  WriteBooleans(w, attributes.booleans);
  w.Member("concurrency", conc);
  w.Member("count", c.count);
  w.Member("fingerprint", ValidUtf8(c.key));
  std::array<std::uint64_t, 8> histogram{};
  if (const View qt = d.Class(c, "Query_time"); qt.stats != nullptr)
    histogram = qt.stats->number.Decades();
  w.Key("histogram");
  w.BeginArray();
  for (const std::uint64_t n : histogram) w.Unsigned(n);
  w.EndArray();
  WriteNumbers(w, attributes.numbers);
  w.Member("qps", qps);
  w.Member("query_id", QueryId(c.key));
  w.Member("rank", r.rank);
  w.Key("sample");
  w.BeginObject();
  w.Key("db");
  if (c.sample.db.empty())
    w.Null();
  else
    w.String(ValidUtf8(c.sample.db));
  w.Key("file");
  if (c.sample.file < result.files.size())
    w.String(ValidUtf8(result.files[c.sample.file]));
  else
    w.Null();
  w.Member("offset", c.sample.offset);
  w.Member("query", ValidUtf8(c.sample.arg));
  w.Key("ts");
  if (c.sample.ts.empty())
    w.Null();
  else
    w.String(ValidUtf8(ParseTimestamp(c.sample.ts)));
  w.EndObject();
  WriteStrings(w, attributes.strings);
  w.Key("time_range");
  WriteTimeRange(w, c.time);
  w.Member("variance_to_mean", d.VarianceToMean(c));
  w.EndObject();
}

}  // namespace

std::string JsonReportText(const DigestResult& result, const Ranking& ranking,
                           const ReportOptions& options) {
  const Digest d(result, options);
  const Aggregator& ag = d.ag();
  std::string text;
  JsonWriter w(text);
  w.BeginObject();  // members in byte order of their keys

  w.Key("classes");
  w.BeginArray();
  for (const RankedClass& r : ranking.top) WriteClass(w, result, d, r);
  w.EndArray();

  w.Key("files");
  w.BeginArray();
  for (std::size_t i = 0; i < result.files.size(); ++i) {
    w.BeginObject();
    w.Member("bytes", i < result.file_bytes.size() ? result.file_bytes[i] : 0);
    w.Member("name", ValidUtf8(result.files[i]));
    w.EndObject();
  }
  w.EndArray();

  w.Member("group_by", d.groupby());
  OrderBy used = options.order_by;
  used.attribute = d.orderby();
  w.Member("order_by", ValidUtf8(OrderByText(used)));

  {
    std::uint64_t count = 0;
    double query_time = 0;
    for (const RankedClass& r : ranking.other) {
      const ClassStats& c = d.ClassAt(r.index);
      count += c.count;
      query_time += ClassQueryTimeSum(d, c);
    }
    w.Key("other");
    w.BeginObject();
    w.Member("Query_time", query_time);
    w.Member("classes", ranking.other.size());
    w.Member("count", count);
    w.EndObject();
  }

  {
    const auto [qps, conc] = d.Rates(ag.Overall(), true);
    const ClassAttributes attributes = AttributesOf(d, ag.Overall());
    w.Key("overall");
    w.BeginObject();
    WriteBooleans(w, attributes.booleans);
    w.Member("concurrency", conc);
    w.Member("events", d.Global(d.orderby()).Count());
    WriteNumbers(w, attributes.numbers);
    w.Member("qps", qps);
    w.Key("time_range");
    WriteTimeRange(w, ag.Overall().time);
    w.Member("unique", ag.Classes().size());
    w.EndObject();
  }

  const SlowLogStats& s = result.stats;
  const AggregateCounts& n = ag.counts();
  w.Key("reader");
  w.BeginObject();
  w.Member("admin_events", s.admin_events);
  w.Member("attributes_dropped", s.attributes_dropped);
  w.Member("bytes", s.bytes);
  w.Member("events", s.events);
  w.Member("filtered", n.filtered);
  w.Member("no_group", n.no_group);
  w.Member("out_of_time", n.out_of_time);
  w.Member("query_time_invalid", s.query_time_invalid);
  w.Member("query_time_missing", s.query_time_missing);
  w.Member("query_time_repaired", s.query_time_repaired);
  w.Key("skipped");
  w.BeginObject();
  w.Member("malformed", s.skipped_malformed);
  w.Member("no_statement", s.skipped_no_statement);
  w.Member("truncated", s.skipped_truncated);
  w.EndObject();
  w.EndObject();

  w.Member("schema", "dbrunbook.digest");
  w.Member("version", 1);
  w.EndObject();
  text += '\n';
  return text;
}

nlohmann::json JsonReport(const DigestResult& result, const Ranking& ranking,
                          const ReportOptions& options) {
  return nlohmann::json::parse(JsonReportText(result, ranking, options));
}

}  // namespace dbrunbook::digest
