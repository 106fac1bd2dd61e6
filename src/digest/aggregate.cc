#include "digest/aggregate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>

#include "core/strings.h"
#include "digest/pt_text.h"

namespace dbrunbook::digest {

namespace {

constexpr double kBucketBase = 1.05;

double BaseLog() {
  static const double kValue = std::log(kBucketBase);
  return kValue;
}
double BaseOffset() {
  static const double kValue = std::abs(1 - std::log(kMinBucketValue) / BaseLog());
  return kValue;
}

const std::array<double, kBucketCount>& BucketValues() {
  static const std::array<double, kBucketCount> kValues = [] {
    std::array<double, kBucketCount> v{};
    v[0] = 0;
    for (int b = 1; b < kBucketCount; ++b) v[b] = std::pow(kBucketBase, b - 1) * kMinBucketValue;
    return v;
  }();
  return kValues;
}

const std::array<std::uint8_t, kBucketCount>& BucketDecades() {
  static const std::array<std::uint8_t, kBucketCount> kDecades = [] {
    std::array<std::uint8_t, kBucketCount> d{};
    std::array<double, 8> starts{};
    starts[0] = 0;
    for (int i = 1; i <= 7; ++i) starts[i] = std::pow(10.0, i) * kMinBucketValue;
    int start = 0;
    for (int decade = 0; decade < 7; ++decade) {
      const int next = BucketIndex(starts[decade + 1]);
      for (int b = start; b < next; ++b) d[b] = static_cast<std::uint8_t>(decade);
      start = next;
    }
    for (int b = start; b < kBucketCount; ++b) d[b] = 7;
    return d;
  }();
  return kDecades;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && SameText(s.substr(0, p.size()), p);
}

std::string_view StripBackticks(std::string_view s) {
  if (!s.empty() && s.front() == '`') s.remove_prefix(1);
  if (!s.empty() && s.back() == '`') s.remove_suffix(1);
  return s;
}

// Perl's numification of a string: leading blanks, sign, digits, fraction, exponent; else 0.
double Numify(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  s.remove_prefix(i);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() ? v : 0;
}

}  // namespace

// ---- buckets ------------------------------------------------------------------------------

namespace {
// pt's bucket of a value: 0 below kMinBucketValue (and NaN), else the floor of
// BaseOffset + log(value) / log(1.05), at most kBucketCount - 1.
int BucketIndexByLog(double value) {
  if (!(value >= kMinBucketValue)) return 0;  // also NaN
  const double idx = BaseOffset() + std::log(value) / BaseLog();
  if (idx >= kBucketCount - 1) return kBucketCount - 1;
  return static_cast<int>(idx);
}

std::uint64_t Bits(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double FromBits(std::uint64_t b) {
  double v = 0;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// BucketIndexByLog without a logarithm. The bucket is a non-decreasing step function of the
// value, so it is given by its steps: threshold[b] is the smallest double whose bucket is b
// (found once, by searching the doubles near pt's exact boundary with BucketIndexByLog
// itself). Positive doubles are ordered as their bit patterns; the top 6 mantissa bits cut
// each power of two into 64 cells narrower (ratio 2^(1/64) ~ 1.011) than a bucket (1.05), so
// a cell holds at most one step: a table gives the bucket of the cell's smallest value, and
// one comparison with the next threshold finishes. digest_aggregate_test compares the two
// functions around every threshold and over random values.
class BucketSteps {
 public:
  BucketSteps() {
    threshold_[0] = kMinBucketValue;  // (values below it: bucket 0 too, handled first)
    for (int b = 1; b < kBucketCount; ++b) threshold_[static_cast<std::size_t>(b)] = FirstOf(b);
    first_cell_ = Bits(kMinBucketValue) >> kCellShift;
    const std::uint64_t last_cell = Bits(threshold_[kBucketCount - 1]) >> kCellShift;
    cell_bucket_.resize(static_cast<std::size_t>(last_cell - first_cell_ + 1));
    int b = 0;
    for (std::size_t c = 0; c < cell_bucket_.size(); ++c) {
      const double low = FromBits((first_cell_ + c) << kCellShift);
      while (b + 1 < kBucketCount && threshold_[static_cast<std::size_t>(b) + 1] <= low) ++b;
      cell_bucket_[c] = static_cast<std::uint16_t>(b);
    }
  }

  int Index(double value) const {
    if (!(value >= kMinBucketValue)) return 0;  // also NaN
    if (value >= threshold_[kBucketCount - 1]) return kBucketCount - 1;
    const std::size_t cell = (Bits(value) >> kCellShift) - first_cell_;
    int b = cell_bucket_[cell];
    if (value >= threshold_[static_cast<std::size_t>(b) + 1]) ++b;
    return b;
  }

 private:
  static constexpr int kCellShift = 52 - 6;

  // The smallest double whose bucket is at least b (b >= 1): around pt's boundary
  // exp((b - offset) * log 1.05), a bracket grown in ulps, then a binary search on the bits.
  static double FirstOf(int b) {
    const double guess = std::exp((b - BaseOffset()) * BaseLog());
    std::uint64_t lo = Bits(guess), hi = lo;  // invariant: bucket(lo) < b <= bucket(hi)
    for (std::uint64_t step = 1; BucketIndexByLog(FromBits(lo)) >= b; step *= 2) {
      lo = step < lo ? lo - step : 0;
    }
    for (std::uint64_t step = 1; BucketIndexByLog(FromBits(hi)) < b; step *= 2) hi += step;
    while (hi - lo > 1) {
      const std::uint64_t mid = lo + (hi - lo) / 2;
      (BucketIndexByLog(FromBits(mid)) >= b ? hi : lo) = mid;
    }
    return FromBits(hi);
  }

  std::array<double, kBucketCount> threshold_{};
  std::uint64_t first_cell_ = 0;
  std::vector<std::uint16_t> cell_bucket_;
};
}  // namespace

int BucketIndex(double value) {
  static const BucketSteps kSteps;
  return kSteps.Index(value);
}

int BucketIndexReference(double value) { return BucketIndexByLog(value); }

double BucketValue(int bucket) {
  if (bucket <= 0) return 0;
  return BucketValues()[static_cast<std::size_t>(std::min(bucket, kBucketCount - 1))];
}

int DecadeOfBucket(int bucket) {
  return BucketDecades()[static_cast<std::size_t>(std::clamp(bucket, 0, kBucketCount - 1))];
}

// ---- NumericStats -------------------------------------------------------------------------

namespace {
// std::llround(x) for |x| < 2^53 without the library call: truncate, then x minus its integer
// part (exact for doubles) decides the rounding, halves away from zero.
std::int64_t RoundHalfAway(double x) {
  auto r = static_cast<std::int64_t>(x);
  const double rest = x - static_cast<double>(r);
  if (rest >= 0.5) ++r;
  if (rest <= -0.5) --r;
  return r;
}
}  // namespace

void NumericStats::Add(double value) {
  const std::uint64_t bits = Bits(value);
  if (has_last_ && bits == last_bits_) {  // (min and max already include it)
    ++count_;
    whole_ += last_whole_;
    nanos_ += last_nanos_;
    if (dense_.empty()) {
      ++sparse_[last_cell_].second;
    } else {
      ++dense_[last_cell_];
    }
    return;
  }
  ExtendRange(value);
  ++count_;
  has_last_ = false;
  if (std::abs(value) < 1e15) {
    const auto whole = static_cast<std::int64_t>(value);  // toward zero
    const std::int64_t nanos = RoundHalfAway((value - static_cast<double>(whole)) * 1e9);
    whole_ += whole;
    nanos_ += nanos;
    has_last_ = true;
    last_bits_ = bits;
    last_whole_ = whole;
    last_nanos_ = nanos;
  } else {
    huge_ += value;
  }
  last_cell_ = CountIn(static_cast<std::uint16_t>(BucketIndex(value)), 1);
}

std::uint16_t NumericStats::CountIn(std::uint16_t bucket, std::uint64_t times) {
  if (!dense_.empty()) {
    dense_[bucket] += times;
    return bucket;
  }
  for (std::size_t i = 0; i < sparse_.size(); ++i) {
    if (sparse_[i].first == bucket) {
      sparse_[i].second += times;
      return static_cast<std::uint16_t>(i);
    }
  }
  if (sparse_.size() < kSparseLimit) {
    sparse_.emplace_back(bucket, times);
    return static_cast<std::uint16_t>(sparse_.size() - 1);
  }
  dense_.assign(kBucketCount, 0);
  for (const auto& [b, n] : sparse_) dense_[b] += n;
  sparse_.clear();
  sparse_.shrink_to_fit();
  dense_[bucket] += times;
  return bucket;
}

void NumericStats::AddRepeated(double value, std::uint64_t times) {
  if (times == 0) return;
  if (times == 1 || !(std::abs(value) < 1e15)) {  // (huge values: the same double additions)
    for (std::uint64_t i = 0; i < times; ++i) Add(value);
    return;
  }
  ExtendRange(value);
  count_ += times;
  has_last_ = false;  // (cells may move)
  const auto whole = static_cast<std::int64_t>(value);
  const std::int64_t nanos = RoundHalfAway((value - static_cast<double>(whole)) * 1e9);
  whole_ += whole * static_cast<std::int64_t>(times);
  nanos_ += static_cast<__int128>(nanos) * times;
  CountIn(static_cast<std::uint16_t>(BucketIndex(value)), times);
}

void NumericStats::AddTotal(std::uint64_t count, double sum) {
  if (count == 0) return;
  count_ += count;
  partial_ = true;
  if (std::abs(sum) < 1e15) {
    const auto whole = static_cast<std::int64_t>(sum);
    whole_ += whole;
    nanos_ += static_cast<std::int64_t>(std::llround((sum - static_cast<double>(whole)) * 1e9));
  } else {
    huge_ += sum;
  }
}

void NumericStats::Merge(const NumericStats& o) {
  if (o.count_ == 0) return;
  has_last_ = false;
  partial_ = partial_ || o.partial_;
  if (count_ == 0) {
    *this = o;
    return;
  }
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  count_ += o.count_;
  whole_ += o.whole_;
  nanos_ += o.nanos_;
  huge_ += o.huge_;
  for (const auto& [b, n] : o.Buckets()) {
    if (dense_.empty()) {
      bool found = false;
      for (auto& [sb, sn] : sparse_) {
        if (sb == b) {
          sn += n;
          found = true;
          break;
        }
      }
      if (found) continue;
      if (sparse_.size() < kSparseLimit) {
        sparse_.emplace_back(static_cast<std::uint16_t>(b), n);
        continue;
      }
      dense_.assign(kBucketCount, 0);
      for (const auto& [sb, sn] : sparse_) dense_[sb] += sn;
      sparse_.clear();
    }
    dense_[static_cast<std::size_t>(b)] += n;
  }
}

double NumericStats::sum() const {
  const __int128 total = static_cast<__int128>(whole_) * 1000000000 + nanos_;
  const auto whole = static_cast<double>(static_cast<std::int64_t>(total / 1000000000));
  const auto frac = static_cast<double>(static_cast<std::int64_t>(total % 1000000000)) / 1e9;
  return whole + frac + huge_;
}

std::vector<std::pair<int, std::uint64_t>> NumericStats::Buckets() const {
  std::vector<std::pair<int, std::uint64_t>> out;
  if (!dense_.empty()) {
    for (int b = 0; b < kBucketCount; ++b) {
      if (dense_[static_cast<std::size_t>(b)] != 0)
        out.emplace_back(b, dense_[static_cast<std::size_t>(b)]);
    }
    return out;
  }
  for (const auto& [b, n] : sparse_) out.emplace_back(b, n);
  std::sort(out.begin(), out.end());
  return out;
}

std::array<std::uint64_t, 8> NumericStats::Decades() const {
  std::array<std::uint64_t, 8> d{};
  for (const auto& [b, n] : Buckets()) d[static_cast<std::size_t>(DecadeOfBucket(b))] += n;
  return d;
}

Metrics NumericStats::Compute() const {
  Metrics m;
  m.count = count_;
  if (count_ == 0) return m;
  m.sum = sum();
  m.min = min_;
  m.max = max_;
  m.avg = m.sum / static_cast<double>(count_);
  if (partial_) {
    m.min = m.max = m.p95 = m.stddev = m.median = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  // EventAggregator::_calc_metrics.
  if (count_ == 1 || max_ == min_) {
    m.p95 = max_;
    m.median = max_;
    return m;
  }
  if (count_ == 2) {
    const double mean = (min_ + max_) / 2;
    m.p95 = max_;
    m.stddev = std::sqrt(((max_ - mean) * (max_ - mean)) * 2);
    m.median = mean;
    return m;
  }
  const std::uint64_t n = count_;
  const std::uint64_t cutoff =
      n >= 10 ? static_cast<std::uint64_t>(static_cast<double>(n) * 0.95) : n;
  std::uint64_t total_left = n;
  const std::uint64_t top_vals = n - cutoff;
  std::uint64_t sum_excl = 0;
  double sum = 0;
  double sumsq = 0;
  const std::uint64_t mid = n / 2;
  double median = 0;
  bool have_median = false;
  int prev = kBucketCount - 1;
  int bucket_95 = 0;
  bool have_95 = false;
  const auto& values = BucketValues();
  const auto buckets = Buckets();
  for (auto it = buckets.rbegin(); it != buckets.rend(); ++it) {
    const int bucket = it->first;
    const std::uint64_t val = it->second;
    total_left -= val;
    sum_excl += val;
    // pt: $bucket_95 = $bucket if !$bucket_95 && $sum_excl > $top_vals (bucket 0 never "sets").
    if (!have_95 && sum_excl > top_vals) {
      bucket_95 = bucket;
      have_95 = bucket != 0;
    }
    // pt: if ( !$median && $total_left <= $mid ) — a median of 0 is "not set" and retried.
    if (!have_median && total_left <= mid) {
      median = ((cutoff % 2) != 0 || val > 1) ? values[static_cast<std::size_t>(bucket)]
                                              : (values[static_cast<std::size_t>(bucket)] +
                                                 values[static_cast<std::size_t>(prev)]) /
                                                    2;
      have_median = median != 0;
    }
    const double bv = values[static_cast<std::size_t>(bucket)];
    sum += static_cast<double>(val) * bv;
    sumsq += static_cast<double>(val) * (bv * bv);
    prev = bucket;
  }
  const double nd = static_cast<double>(n);
  const double var = sumsq / nd - ((sum / nd) * (sum / nd));
  double stddev = var > 0 ? std::sqrt(var) : 0;
  const double maxstdev = (max_ - min_) / 2;
  if (stddev > maxstdev) stddev = maxstdev;
  m.stddev = stddev;
  m.p95 = values[static_cast<std::size_t>(bucket_95)];
  m.median = median;
  return m;
}

// ---- StringStats / AttributeStats ---------------------------------------------------------

void StringStats::Add(std::string_view value, std::uint64_t times) {
  count_ += times;
  if (overflow_) return;
  if (last_.entry != nullptr && SameText(last_.entry->first, value)) {
    last_.entry->second += times;
    return;
  }
  auto it = values_.find(value);
  if (it != values_.end()) {
    it->second += times;
    last_.entry = &*it;
    return;
  }
  if (values_.size() >= kMaxStringValues) {
    overflow_ = true;
    values_.clear();
    last_.entry = nullptr;
    return;
  }
  last_.entry = &*values_.emplace(std::string(value), times).first;
}

void StringStats::Merge(const StringStats& o) {
  count_ += o.count_;
  if (overflow_) return;
  last_.entry = nullptr;
  if (o.overflow_) {
    overflow_ = true;
    values_.clear();
    return;
  }
  for (const auto& [v, n] : o.values_) values_[v] += n;
  if (values_.size() > kMaxStringValues) {
    overflow_ = true;
    values_.clear();
  }
}

std::vector<std::pair<std::string, std::uint64_t>> StringStats::Top(std::size_t n) const {
  std::vector<std::pair<std::string, std::uint64_t>> all(values_.begin(), values_.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

AttributeKind AttributeStats::Kind() const {
  const std::uint64_t n = number.count();
  const std::uint64_t b = boolean.count;
  const std::uint64_t s = text.count();
  if (n >= b && n >= s) return AttributeKind::kNumber;
  if (b >= s) return AttributeKind::kBool;
  return AttributeKind::kString;
}

void AttributeStats::Merge(const AttributeStats& o) {
  number.Merge(o.number);
  boolean.Merge(o.boolean);
  text.Merge(o.text);
}

// ---- group by, time -----------------------------------------------------------------------

core::Result<GroupBy> ParseGroupBy(std::string_view name) {
  if (name == "fingerprint") return GroupBy::kFingerprint;
  if (name == "db" || name == "Schema") return GroupBy::kDb;
  if (name == "user") return GroupBy::kUser;
  if (name == "host") return GroupBy::kHost;
  if (name == "tables" || name == "table") return GroupBy::kTables;
  return core::MakeError(core::ErrorCode::kInvalidArgument,
                         "unknown --group-by '" + std::string(name) + "'",
                         "use one of: fingerprint, db, user, host, tables");
}

std::string_view GroupByName(GroupBy g) {
  switch (g) {
    case GroupBy::kFingerprint:
      return "fingerprint";
    case GroupBy::kDb:
      return "db";
    case GroupBy::kUser:
      return "user";
    case GroupBy::kHost:
      return "host";
    case GroupBy::kTables:
      return "tables";
  }
  return "fingerprint";
}

namespace {

bool Digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[at + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

double LocalEpoch(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  tm.tm_isdst = -1;
  return static_cast<double>(std::mktime(&tm));
}

}  // namespace

std::optional<double> ParseLogTime(std::string_view ts) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::size_t at = 0;
  if (ts.size() >= 15 && ts[6] == ' ' && Digits(ts, 0, 2, y) && Digits(ts, 2, 2, mo) &&
      Digits(ts, 4, 2, d)) {
    // "071015 21:43:52" or "071015  1:43:52" (MySQL 5.0 pads the hour with a blank)
    y += 2000;
    at = 7;
    while (at < ts.size() && ts[at] == ' ') ++at;
    std::size_t hl = 0;
    while (at + hl < ts.size() && hl < 2 && ts[at + hl] >= '0' && ts[at + hl] <= '9') ++hl;
    if (hl == 0 || !Digits(ts, at, hl, h)) return std::nullopt;
    at += hl;
  } else if (ts.size() >= 19 && ts[4] == '-' && ts[7] == '-' && (ts[10] == 'T' || ts[10] == ' ') &&
             Digits(ts, 0, 4, y) && Digits(ts, 5, 2, mo) && Digits(ts, 8, 2, d) &&
             Digits(ts, 11, 2, h)) {
    at = 13;
  } else {
    return std::nullopt;
  }
  if (at + 6 > ts.size() || ts[at] != ':' || !Digits(ts, at + 1, 2, mi) || ts[at + 3] != ':' ||
      !Digits(ts, at + 4, 2, s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  at += 6;
  double frac = 0;
  if (at < ts.size() && ts[at] == '.') {
    std::size_t e = at + 1;
    double scale = 0.1;
    while (e < ts.size() && ts[e] >= '0' && ts[e] <= '9') {
      frac += (ts[e] - '0') * scale;
      scale /= 10;
      ++e;
    }
    at = e;
  }
  const std::string_view zone = ts.substr(at);
  if (zone.empty()) return LocalEpoch(y, mo, d, h, mi, s) + frac;
  double offset = 0;
  if (zone == "Z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = 0, om = 0;
    if (!Digits(zone, 1, 2, oh) || !Digits(zone, 4, 2, om)) return std::nullopt;
    offset = (zone[0] == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t seconds = days * 86400 + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + s;
  return static_cast<double>(seconds) + frac - offset;
}

std::string FormatLogTime(double epoch_seconds, bool with_fraction) {
  const auto whole = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm tm{};
  localtime_r(&whole, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (with_fraction) {
    char f[16];
    std::snprintf(f, sizeof f, "%.6f", epoch_seconds - static_cast<double>(whole));
    out += std::string_view(f).substr(1);
  }
  return out;
}

void TimeRange::Add(double t, std::string_view text) {
  if (!present || t < min) {
    min = t;
    min_text.assign(text);
  }
  if (!present || t >= max) {
    max = t;
    max_text.assign(text);
  }
  present = true;
}

void TimeRange::Merge(const TimeRange& o) {
  if (!o.present) return;
  if (!present) {
    *this = o;
    return;
  }
  if (o.min < min) {
    min = o.min;
    min_text = o.min_text;
  }
  if (o.max >= max) {
    max = o.max;
    max_text = o.max_text;
  }
}

const AttributeStats* ClassStats::Find(int id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= attributes.size()) return nullptr;
  const AttributeStats& a = attributes[static_cast<std::size_t>(id)];
  return a.count() == 0 ? nullptr : &a;
}

std::optional<double> EventView::Number(std::string_view attribute) const {
  if (attribute == "Query_time") return event.QueryTime();
  if (attribute == "bytes") return static_cast<double>(event.no_query ? 0 : event.arg.size());
  if (attribute == "pos_in_log") return static_cast<double>(event.offset);
  const Attribute* a = event.Find(attribute);
  if (a == nullptr) return std::nullopt;
  if (a->type == AttributeType::kString) return Numify(a->text);
  return a->number;
}

std::optional<std::string_view> EventView::Text(std::string_view attribute) const {
  if (attribute == "db" || attribute == "Schema") {
    if (db.empty()) return std::nullopt;
    return db;
  }
  if (attribute == "user") return event.user.empty() ? std::nullopt : std::optional(event.user);
  if (attribute == "host") return event.host.empty() ? std::nullopt : std::optional(event.host);
  if (attribute == "ip") return event.ip.empty() ? std::nullopt : std::optional(event.ip);
  if (attribute == "arg") return event.arg;
  if (attribute == "fingerprint") return fingerprint;
  if (attribute == "ts") return ts.empty() ? std::nullopt : std::optional(ts);
  const Attribute* a = event.Find(attribute);
  if (a == nullptr) return std::nullopt;
  return a->text;
}

std::vector<std::string> DefaultIgnoredAttributes() {
  return {"arg",   "cmd", "insert_id", "ip",  "port",      "Thread_id", "timestamp",   "exptime",
          "flags", "key", "res",       "val", "server_id", "offset",    "end_log_pos", "Xid"};
}

// ---- Aggregator ---------------------------------------------------------------------------

namespace {
// Fixed attribute ids of the pseudo-attributes every event has.
constexpr int kIdUser = 0;
constexpr int kIdHost = 1;
constexpr int kIdDb = 2;
constexpr int kIdBytes = 3;

// pt-query-digest's type_for: attributes that are strings (or booleans) whatever they look like.
bool ForcedString(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kNames = {
      "val",       "key_print",     "Status_code", "Statement_id", "Error_no", "Last_errno",
      "Thread_id", "InnoDB_trx_id", "host",        "ip",           "port",     "rate_limit"};
  if (name.size() > 4 && name.substr(name.size() - 4) == "_crc") return true;
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}
}  // namespace

namespace {
// One value of an attribute, `times` times, into its statistics by form (AddValue's one event,
// FlushLines' counted lines).
void AddTimes(AttributeStats& s, AttributeKind kind, double number, std::string_view text,
              std::uint64_t times) {
  switch (kind) {
    case AttributeKind::kNumber:
      if (times == 1) {
        s.number.Add(number);
      } else {
        s.number.AddRepeated(number, times);
      }
      break;
    case AttributeKind::kBool:
      s.boolean.count += times;
      if (number != 0) s.boolean.yes += times;
      break;
    case AttributeKind::kString:
      s.text.Add(text, times);
      break;
  }
}
}  // namespace

struct Aggregator::Impl {
  std::string last_db;
  bool has_last_db = false;  // last_db was set (it may be "")
  bool past_since = false;   // pt's $args->{past_since}
  bool at_until = false;     // pt's $args->{at_until}
  std::string last_ts;
  std::string fingerprint;
  std::string time_text;       // the ts `time` was parsed from
  std::optional<double> time;  // ParseLogTime(time_text)
  std::vector<std::string> tables;
  // Attribute-id cache by position: the names of the previous event's attributes.
  std::vector<std::string> layout_names;
  std::vector<int> layout_ids;
  // What to do with each attribute id (IdOf decides once per name).
  enum Treatment : std::uint8_t {
    kAsParsed,
    kIgnore,
    kQueryTime,
    kForcedString,
    kRowsCount,
    kRateLimit,  // Log_slow_rate_limit / Log_slow_rate_type: see rate_limit in Add
  };
  int rate_limit_id = -1;  // the combined "rate_limit" attribute, once seen
  std::string rate_limit;  // its value for the current event
  std::vector<Treatment> treatment;
  // The attributes Add looks up by name, by attribute id (kNotLooked for the others).
  enum Looked : std::uint8_t { kNotLooked, kSchema, kRateLimitValue, kRateLimitType, kLookedKinds };
  std::vector<Looked> looked;
  static Looked LookedOf(std::string_view name) {
    return name == "Schema"                ? kSchema
           : name == "Log_slow_rate_limit" ? kRateLimitValue
           : name == "Log_slow_rate_type"  ? kRateLimitType
                                           : kNotLooked;
  }
  // The id of an attribute name, or -1 when it has none yet: through a small cache of names
  // (direct-mapped by AttributeNameHash), then the aggregator's map.
  struct NameId {
    std::string name;
    int id = -1;
  };
  std::array<NameId, 256> name_ids;
  int KnownId(std::string_view name, const StringKeyMap<int>& ids) {
    NameId& slot = name_ids[AttributeNameHash(name)];
    if (slot.id >= 0 && SameText(slot.name, name)) return slot.id;
    const auto it = ids.find(name);
    if (it == ids.end()) return -1;
    slot.name.assign(name);
    slot.id = it->second;
    return slot.id;
  }
  int worst_id = -1;
  std::uint64_t event_seq = 0;

  // Repeated header lines (SlowLogEvent::lines) are counted per class and line, and their
  // values added `count` times when the classes are read (FlushLines): the same statistics as
  // adding them event by event (sums are exact, the rest are counts and extremes).
  struct LinePlan {
    struct Item {
      int id = 0;
      AttributeKind kind = AttributeKind::kNumber;
      double number = 0;
      std::string text;
    };
    std::vector<Item> items;  // the pairs aggregated (ignored attributes left out)
    std::vector<int> ids;     // the attribute id of every pair, in order
    // False when a pair needs each event's own treatment (the ranking attribute, a rate
    // limit, a value too large for exact sums): the line's pairs are then added one by one.
    bool countable = true;
    bool has_rows = false;  // a Rows_* count, which administrator commands zero
    std::vector<std::pair<Looked, std::size_t>> looked;  // looked-up pairs: kind, index
  };
  std::vector<LinePlan> plans;
  std::uint64_t plan_parser = 0;  // RepeatedLine::parser that plan_of_id is for
  std::vector<int> plan_of_id;    // RepeatedLine::id -> index into plans (-1: none yet)
  struct LineSlot {
    std::uint32_t plan = UINT32_MAX;  // UINT32_MAX: empty
    std::uint64_t count = 0;
  };
  // Adds the lines `slot` counted to `c` and empties it.
  void Flush(ClassStats& c, LineSlot& slot, std::size_t attribute_count) const {
    if (c.attributes.size() < attribute_count) c.attributes.resize(attribute_count);
    for (const LinePlan::Item& item : plans[slot.plan].items) {
      AddTimes(c.attributes[static_cast<std::size_t>(item.id)], item.kind, item.number, item.text,
               slot.count);
    }
    slot.count = 0;
  }
  // A class's line counts: open addressing by plan index, 8 to kMaxLineSlots slots; when it
  // is three-quarters full at the largest size, every count is added and the table emptied
  // (memory per class stays bounded whatever the log).
  static constexpr std::size_t kMaxLineSlots = 256;
  struct LineTable {
    std::vector<LineSlot> slots;
    std::size_t used = 0;
  };
  std::vector<LineTable> line_tables;  // parallel to classes_
  bool tables_pending = false;

  void FlushTable(ClassStats& c, LineTable& t, std::size_t attribute_count) const {
    for (LineSlot& slot : t.slots) {
      if (slot.count > 0) Flush(c, slot, attribute_count);
      slot.plan = UINT32_MAX;
    }
    t.used = 0;
  }
  static std::size_t SlotOf(std::uint32_t plan, std::size_t mask) {
    return static_cast<std::size_t>(static_cast<std::uint32_t>(plan * 0x9E3779B1U)) & mask;
  }
  // Counts one more occurrence of `plan` in class `c` (table `t`).
  void Count(ClassStats& c, LineTable& t, std::uint32_t plan, std::size_t attribute_count) {
    if (t.slots.empty()) t.slots.resize(8);
    std::size_t mask = t.slots.size() - 1;
    std::size_t i = SlotOf(plan, mask);
    while (true) {
      LineSlot& s = t.slots[i];
      if (s.plan == plan) {
        ++s.count;
        return;
      }
      if (s.plan == UINT32_MAX) break;
      i = (i + 1) & mask;
    }
    if ((t.used + 1) * 4 > t.slots.size() * 3) {  // grow, or empty when at the largest size
      if (t.slots.size() >= kMaxLineSlots) {
        FlushTable(c, t, attribute_count);
      } else {
        std::vector<LineSlot> old(t.slots.size() * 2);
        old.swap(t.slots);
        mask = t.slots.size() - 1;
        for (const LineSlot& s : old) {
          if (s.plan == UINT32_MAX) continue;
          std::size_t k = SlotOf(s.plan, mask);
          while (t.slots[k].plan != UINT32_MAX) k = (k + 1) & mask;
          t.slots[k] = s;
        }
      }
      mask = t.slots.size() - 1;
      i = SlotOf(plan, mask);
      while (t.slots[i].plan != UINT32_MAX) i = (i + 1) & mask;
    }
    t.slots[i].plan = plan;
    t.slots[i].count = 1;
    ++t.used;
  }
  std::array<int, kMaxRepeatedLines> event_plans{};  // the current event's lines' plans

  // Statements with the same DigitRunKey have the same fingerprint (fingerprint.h): a
  // direct-mapped table of such keys (statements up to kMemoMaxLength bytes) gives the class
  // of a statement that differs from a recent one only in its digits, without computing its
  // fingerprint or looking its class up. Only for pt's fingerprint with default options.
  struct MemoEntry {
    std::string key;
    std::size_t class_index = 0;
  };
  static constexpr std::size_t kMemoEntries = 4096;
  static constexpr std::size_t kMemoMaxLength = 512;
  bool memo_on = false;
  std::vector<MemoEntry> memo;
  std::string memo_key;
  // The entry for `arg` (nullptr when it cannot be memoised), and in `class_index` its class
  // when the entry holds it (else SIZE_MAX); the caller fills a missed entry with memo_key.
  MemoEntry* Memo(std::string_view arg, std::size_t& class_index) {
    class_index = SIZE_MAX;
    if (arg.size() > kMemoMaxLength) return nullptr;
    if (!DigitRunKey(arg, memo_key)) return nullptr;
    const std::string_view key(memo_key);
    const std::size_t o = key.size();
    std::uint64_t h = o * 0x9E3779B97F4A7C15ULL;  // the key's 8-byte words, the last overlapping
    std::uint64_t w = 0;
    if (o < 8) {
      std::memcpy(&w, key.data(), o);
      h ^= w;
    } else {
      for (std::size_t j = 0; j + 8 < o; j += 8) {
        std::memcpy(&w, key.data() + j, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
      }
      std::memcpy(&w, key.data() + o - 8, 8);
      h ^= w;
    }
    h *= 0xC4CEB9FE1A85EC53ULL;
    if (memo.empty()) memo.resize(kMemoEntries);
    MemoEntry& e = memo[(h >> 40) & (kMemoEntries - 1)];
    if (e.key == key) class_index = e.class_index;
    return &e;
  }
};

Aggregator::Aggregator(AggregateOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  for (const char* name : {"user", "host", "db", "bytes"}) IdOf(name);
  impl_->worst_id = IdOf(options_.worst_attribute);
  impl_->memo_on = options_.group_by == GroupBy::kFingerprint && !options_.fingerprint.abstract &&
                   !options_.fingerprint.match_md5_checksums &&
                   !options_.fingerprint.match_embedded_numbers;
}
Aggregator::Aggregator(Aggregator&&) noexcept = default;
Aggregator& Aggregator::operator=(Aggregator&&) noexcept = default;
Aggregator::~Aggregator() = default;

void Aggregator::SetInherited(const Inherited& inherited) {
  impl_->last_db = inherited.db;
  impl_->has_last_db = inherited.has_db;
  impl_->last_ts = inherited.ts;
}

const ClassStats& Aggregator::Overall() const {
  FlushLines();
  if (overall_valid_) return overall_;
  // The overall figures are the merge of every class (exact: sums, counts and histograms add
  // up), in key order so that ties in the time range resolve the same way every time. Under
  // --group-by tables an event counts once per table, as in pt.
  ClassStats all;
  all.attributes.resize(attribute_names_.size());
  std::vector<const ClassStats*> sorted;
  sorted.reserve(classes_.size());
  for (const ClassStats& c : classes_) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(),
            [](const ClassStats* a, const ClassStats* b) { return a->key < b->key; });
  for (const ClassStats* c : sorted) {
    all.count += c->count;
    for (std::size_t i = 0; i < c->attributes.size(); ++i) {
      if (c->attributes[i].count() > 0) all.attributes[i].Merge(c->attributes[i]);
    }
    all.time.Merge(c->time);
    if (c->last_offset >= all.last_offset) {
      all.last_offset = c->last_offset;
      all.last_file = c->last_file;
    }
  }
  overall_ = std::move(all);
  overall_valid_ = true;
  return overall_;
}

Inherited Aggregator::Current() const {
  return {impl_->last_db, impl_->last_ts, impl_->has_last_db};
}

std::optional<int> Aggregator::AttributeId(std::string_view name) const {
  const auto it = attribute_ids_.find(name);
  if (it == attribute_ids_.end()) return std::nullopt;
  return it->second;
}

int Aggregator::IdOf(std::string_view name) {
  const auto it = attribute_ids_.find(name);
  if (it != attribute_ids_.end()) return it->second;
  const int id = static_cast<int>(attribute_names_.size());
  attribute_names_.emplace_back(name);
  attribute_ids_.emplace(std::string(name), id);
  bool ignore = std::find(options_.ignore_attributes.begin(), options_.ignore_attributes.end(),
                          name) != options_.ignore_attributes.end();
  if (name == "Schema" || name == "fingerprint" || name == "ts") ignore = true;
  if ((options_.group_by == GroupBy::kDb && name == "db") ||
      (options_.group_by == GroupBy::kUser && name == "user") ||
      (options_.group_by == GroupBy::kHost && name == "host")) {
    ignore = true;
  }
  Impl::Treatment t = Impl::kAsParsed;
  if (ignore) {
    t = Impl::kIgnore;
  } else if (name == "Query_time") {
    t = Impl::kQueryTime;
  } else if (ForcedString(name)) {
    t = Impl::kForcedString;
  } else if (name == "Rows_sent" || name == "Rows_examined" || name == "Rows_read" ||
             name == "Rows_affected") {
    t = Impl::kRowsCount;
  } else if (name == "Log_slow_rate_limit" || name == "Log_slow_rate_type") {
    t = Impl::kRateLimit;
  }
  impl_->treatment.push_back(t);
  impl_->looked.push_back(Impl::LookedOf(name));
  overall_valid_ = false;
  return id;
}

ClassStats& Aggregator::ClassFor(std::string_view key) {
  auto it = class_index_.find(key);
  if (it != class_index_.end()) return classes_[it->second];
  classes_.emplace_back();
  classes_.back().key.assign(key);
  class_index_.emplace(std::string(key), classes_.size() - 1);
  return classes_.back();
}

void Aggregator::AddValue(ClassStats& c, int id, const Attribute& a, double number,
                          AttributeKind kind) {
  if (c.attributes.size() <= static_cast<std::size_t>(id))
    c.attributes.resize(attribute_names_.size());
  AddTimes(c.attributes[static_cast<std::size_t>(id)], kind, number, a.text, 1);
}

void Aggregator::FlushLines() const {
  Impl& im = *impl_;
  if (!im.tables_pending) return;
  im.tables_pending = false;
  for (std::size_t ci = 0; ci < im.line_tables.size() && ci < classes_.size(); ++ci) {
    if (im.line_tables[ci].used > 0)
      im.FlushTable(classes_[ci], im.line_tables[ci], attribute_names_.size());
  }
}

void Aggregator::Add(const SlowLogEvent& event, std::size_t file) {
  Impl& im = *impl_;
  overall_valid_ = false;
  ++counts_.events;
  // pt's "since" and "until" pipeline steps come before inheritance and look at the event's
  // own time only.
  if (options_.since || options_.until) {
    std::optional<double> own;
    if (!event.ts.empty()) own = ParseLogTime(event.ts);
    if (options_.since && !im.past_since) {
      if (!own || *own < *options_.since) {
        ++counts_.out_of_time;
        return;
      }
      im.past_since = true;
    }
    if (options_.until) {
      if (!im.at_until && own && *own >= *options_.until) im.at_until = true;
      if (im.at_until) {
        ++counts_.out_of_time;
        return;
      }
    }
  }
  ++im.event_seq;

  // Attribute ids of the event, by position (logs repeat the same layout), and the attributes
  // looked up by name below (Schema, the rate limit's pair). A name not seen before gets its
  // id further down, after the steps that may drop the event (ids are made only for the
  // attributes of aggregated events).
  std::array<const Attribute*, Impl::kLookedKinds> looked{};
  const std::size_t n = event.attribute_count;
  const std::size_t line_count = event.line_count;
  if (im.layout_ids.size() < n) {
    im.layout_ids.resize(n, -1);
    im.layout_names.resize(n);
  }
  bool layout_complete = true;  // every attribute has its id
  for (std::size_t i = 0; i < n; ++i) {
    const Attribute& a = event.attributes[i];
    int id = im.layout_ids[i];
    if (id < 0 || !SameText(im.layout_names[i], a.name)) {
      id = im.KnownId(a.name, attribute_ids_);
      im.layout_names[i].assign(a.name);
      im.layout_ids[i] = id;
    }
    if (id >= 0) {
      looked[im.looked[static_cast<std::size_t>(id)]] = &a;
    } else {
      looked[Impl::LookedOf(a.name)] = &a;
      layout_complete = false;
    }
  }
  // The plans of the event's repeated lines (made further down for lines new to the aggregator).
  bool plans_complete = true;
  for (std::size_t l = 0; l < line_count; ++l) {
    const RepeatedLine& line = *event.lines[l];
    if (line.parser == im.plan_parser && line.id < im.plan_of_id.size() &&
        im.plan_of_id[line.id] >= 0) {
      im.event_plans[l] = im.plan_of_id[line.id];
      for (const auto& [kind, k] : im.plans[static_cast<std::size_t>(im.event_plans[l])].looked) {
        looked[kind] = &line.attributes[k];
      }
    } else {
      for (const Attribute& a : line.attributes) looked[Impl::LookedOf(a.name)] = &a;
      plans_complete = false;
    }
  }

  // Attribute aliases (db|Schema), then inheritance of db and ts (pt's pipeline order).
  // A db is present when the event says one, even an empty one ("Schema:" at the end of its
  // line): pt then has db "" (defined), which is inherited and is a class of its own.
  std::string_view db = event.db;
  bool db_present = !db.empty();
  if (!db_present) {
    if (const Attribute* schema = looked[Impl::kSchema]) {
      db = StripBackticks(schema->text);
      db_present = true;
    }
  }
  if (db_present) {
    if (!SameText(im.last_db, db)) im.last_db.assign(db);  // (the same db event after event)
    im.has_last_db = true;
  }
  db = im.last_db;
  db_present = im.has_last_db;
  if (!event.ts.empty()) im.last_ts.assign(event.ts);
  const std::string_view ts = im.last_ts;
  // Parsing a time (mktime reads the time zone) once per distinct "# Time:" value.
  if (!SameText(ts, im.time_text)) {
    im.time_text.assign(ts);
    im.time = ts.empty() ? std::nullopt : ParseLogTime(ts);
  }
  const std::optional<double> time = im.time;

  const bool need_fp =
      options_.group_by == GroupBy::kFingerprint || options_.filter_needs_fingerprint;
  // The class of a statement that differs from an earlier one only in its digits is that
  // one's (FingerprintMemo): no fingerprint to compute, no class to look up.
  std::size_t memo_class = SIZE_MAX;
  Impl::MemoEntry* memo_entry = nullptr;
  std::string_view fingerprint;
  if (need_fp) {
    if (im.memo_on) memo_entry = im.Memo(event.arg, memo_class);
    if (memo_class != SIZE_MAX) {
      fingerprint = classes_[memo_class].key;
    } else {
      FingerprintInto(event.arg, options_.fingerprint, im.fingerprint);
      fingerprint = im.fingerprint;
    }
  }

  if (options_.filter) {
    const EventView view{event, db, ts, time, fingerprint};
    if (!options_.filter(view)) {
      ++counts_.filtered;
      return;
    }
  }

  // The classes this event belongs to.
  std::string_view single_key;
  bool multi = false;
  switch (options_.group_by) {
    case GroupBy::kFingerprint:
      single_key = fingerprint;
      break;
    case GroupBy::kDb:
      single_key = db;
      break;
    case GroupBy::kUser:
      single_key = event.user;
      break;
    case GroupBy::kHost:
      single_key = event.host;
      break;
    case GroupBy::kTables: {
      multi = true;
      im.tables.clear();
      if (options_.tables_of) {
        for (std::string t : options_.tables_of(event.arg)) {
          t.erase(std::remove(t.begin(), t.end(), '`'), t.end());
          if (t.find('.') == std::string::npos && !db.empty()) t.insert(0, std::string(db) + ".");
          im.tables.push_back(std::move(t));
        }
      }
      break;
    }
  }
  // pt skips only events without the attribute; an empty value is a class ("").
  bool key_present = !single_key.empty();
  if (options_.group_by == GroupBy::kDb) key_present = db_present;
  if (options_.group_by == GroupBy::kUser || options_.group_by == GroupBy::kHost) {
    key_present = key_present || event.has_user_host;
  }
  if (!multi && !key_present) {
    ++counts_.no_group;
    return;
  }
  if (multi && im.tables.empty()) {
    ++counts_.no_group;
    return;
  }
  ++counts_.aggregated;

  const bool admin = StartsWith(event.arg, "administrator");
  // pt's "rate limit" step: "Log_slow_rate_type: query  Log_slow_rate_limit: 2" become one
  // string attribute rate_limit = "query:2" (type "session" when absent), and both go; a
  // limit of 0 (or none) leaves the two as they are.
  bool rate_limited = false;
  if (const Attribute* limit = looked[Impl::kRateLimitValue];
      limit != nullptr && !limit->text.empty() && limit->text != "0") {
    const Attribute* type = looked[Impl::kRateLimitType];
    im.rate_limit.assign(type != nullptr && !type->text.empty() && type->text != "0" ? type->text
                                                                                     : "session");
    im.rate_limit.push_back(':');
    im.rate_limit.append(limit->text);
    if (im.rate_limit_id < 0) im.rate_limit_id = IdOf("rate_limit");
    rate_limited = true;
  }

  // Ids for the names new to the aggregator, plans for its new lines.
  for (std::size_t i = 0; i < n && !layout_complete; ++i) {
    if (im.layout_ids[i] < 0) im.layout_ids[i] = IdOf(event.attributes[i].name);
  }
  for (std::size_t l = 0; l < line_count && !plans_complete; ++l) {
    const RepeatedLine& line = *event.lines[l];
    if (line.parser != im.plan_parser) {
      im.plan_parser = line.parser;
      im.plan_of_id.clear();
    }
    if (im.plan_of_id.size() <= line.id) im.plan_of_id.resize(line.id + 1, -1);
    int& plan_index = im.plan_of_id[line.id];
    if (plan_index < 0) {
      Impl::LinePlan plan;
      for (const Attribute& a : line.attributes) {
        const int id = IdOf(a.name);
        if (const Impl::Looked kind = im.looked[static_cast<std::size_t>(id)]) {
          plan.looked.emplace_back(kind, plan.ids.size());
        }
        plan.ids.push_back(id);
        const Impl::Treatment t = im.treatment[static_cast<std::size_t>(id)];
        if (t == Impl::kIgnore) continue;
        if (t != Impl::kAsParsed && t != Impl::kForcedString && t != Impl::kRowsCount)
          plan.countable = false;
        if (id == im.worst_id || (a.type == AttributeType::kNumber && !(std::abs(a.number) < 1e15)))
          plan.countable = false;
        if (t == Impl::kRowsCount) plan.has_rows = true;
        Impl::LinePlan::Item item;
        item.id = id;
        item.kind = t == Impl::kForcedString           ? AttributeKind::kString
                    : a.type == AttributeType::kNumber ? AttributeKind::kNumber
                    : a.type == AttributeType::kBool   ? AttributeKind::kBool
                                                       : AttributeKind::kString;
        item.number = a.number;
        if (item.kind == AttributeKind::kString) item.text.assign(a.text);
        plan.items.push_back(std::move(item));
      }
      plan_index = static_cast<int>(im.plans.size());
      im.plans.push_back(std::move(plan));
    }
    im.event_plans[l] = plan_index;
  }

  double worst_value = 0;
  bool have_worst = false;

  auto aggregate_into = [&](ClassStats& c) {
    ++c.count;
    if (c.attributes.size() < attribute_names_.size()) c.attributes.resize(attribute_names_.size());
    auto add_attribute = [&](int id, const Attribute& a) {
      const Impl::Treatment t = im.treatment[static_cast<std::size_t>(id)];
      if (t == Impl::kIgnore || (t == Impl::kRateLimit && rate_limited)) return;
      double number = a.number;
      AttributeKind kind = a.type == AttributeType::kNumber ? AttributeKind::kNumber
                           : a.type == AttributeType::kBool ? AttributeKind::kBool
                                                            : AttributeKind::kString;
      if (t == Impl::kQueryTime) {
        // pt: $val =~ s/^(\d+(?:\.\d+)?).*/$1/; then numeric ("abc" is 0).
        if (kind != AttributeKind::kNumber) {
          const auto qt = event.QueryTime();
          number = qt ? *qt : Numify(a.text);
          kind = AttributeKind::kNumber;
        }
      } else if (t == Impl::kForcedString) {
        kind = AttributeKind::kString;
      } else if (t == Impl::kRowsCount && admin && kind == AttributeKind::kNumber) {
        number = 0;
      }
      AddValue(c, id, a, number, kind);
      if (id == im.worst_id) {  // the ranking value, as aggregated (admin Rows_* are 0)
        worst_value = kind == AttributeKind::kString ? Numify(a.text) : number;
        have_worst = true;
      }
    };
    for (std::size_t i = 0; i < n; ++i) add_attribute(im.layout_ids[i], event.attributes[i]);
    if (line_count > 0) {
      const auto ci = static_cast<std::size_t>(&c - classes_.data());
      if (im.line_tables.size() <= ci) im.line_tables.resize(classes_.size());
      for (std::size_t l = 0; l < line_count; ++l) {
        const auto p = static_cast<std::size_t>(im.event_plans[l]);
        const Impl::LinePlan& plan = im.plans[p];
        if (!plan.countable || (admin && plan.has_rows)) {
          const RepeatedLine& line = *event.lines[l];
          for (std::size_t k = 0; k < line.attributes.size(); ++k)
            add_attribute(plan.ids[k], line.attributes[k]);
          continue;
        }
        if (plan.items.empty()) continue;
        im.Count(c, im.line_tables[ci], static_cast<std::uint32_t>(p), attribute_names_.size());
        im.tables_pending = true;
      }
    }
    // Pseudo-attributes.
    auto add_text = [&](int id, std::string_view v, bool present) {
      if (!present || im.treatment[static_cast<std::size_t>(id)] == Impl::kIgnore) return;
      c.attributes[static_cast<std::size_t>(id)].text.Add(v);
    };
    add_text(kIdUser, event.user, event.has_user_host || !event.user.empty());
    add_text(kIdHost, event.host, event.has_user_host || !event.host.empty());
    add_text(kIdDb, db, db_present);
    if (rate_limited) add_text(im.rate_limit_id, im.rate_limit, true);
    if (im.treatment[kIdBytes] != Impl::kIgnore) {
      const auto bytes = static_cast<double>(event.no_query ? 0 : event.arg.size());
      c.attributes[kIdBytes].number.Add(bytes);
      if (im.worst_id == kIdBytes) {
        worst_value = bytes;
        have_worst = true;
      }
    }
    if (time) c.time.Add(*time, ts);
    if (event.offset >= c.last_offset) {
      c.last_offset = event.offset;
      c.last_file = file;
    }
  };

  auto update_sample = [&](ClassStats& c) {
    // pt: the sample starts as the class's first event and becomes every event whose ranking
    // value is >= the class's largest so far: the last event with the largest value.
    Sample& s = c.sample;
    // Under --group-by tables pt's worst-event update never matches a class (it is keyed by the
    // list of tables), so the sample stays the class's first event.
    const bool replace =
        !s.present || (!multi && have_worst && (!s.has_value || worst_value >= s.value));
    if (!replace) return;
    s.arg.assign(event.arg);
    s.db.assign(db);
    s.ts.assign(ts);
    s.user.assign(event.user);
    s.host.assign(event.host);
    const Attribute* qt = event.Find("Query_time");
    s.query_time.assign(qt != nullptr ? qt->text : std::string_view());
    s.offset = event.offset;
    s.file = file;
    if (have_worst) {
      s.value = worst_value;
      s.has_value = true;
    }
    s.present = true;
  };

  if (!multi) {
    ClassStats& c = memo_class != SIZE_MAX ? classes_[memo_class] : ClassFor(single_key);
    if (memo_entry != nullptr && memo_class == SIZE_MAX) {
      memo_entry->key.swap(im.memo_key);
      memo_entry->class_index = static_cast<std::size_t>(&c - classes_.data());
    }
    aggregate_into(c);
    update_sample(c);
  } else {
    // pt updates its global statistics once per class of the event (an event touching three
    // tables counts three times in the overall figures of --group-by tables); so does this.
    for (const std::string& t : im.tables) {
      ClassStats& c = ClassFor(t);
      aggregate_into(c);
      update_sample(c);
    }
  }
}

void Aggregator::AddSummary(const ClassSummary& s) {
  if (s.count == 0) return;
  overall_valid_ = false;
  ++counts_.events;
  ++counts_.aggregated;
  std::vector<std::pair<int, double>> totals;
  for (const auto& [name, total] : s.totals) totals.emplace_back(IdOf(name), total);
  std::vector<std::pair<int, std::uint64_t>> yes;
  for (const auto& [name, n] : s.yes_counts) yes.emplace_back(IdOf(name), n);
  auto add = [&](ClassStats& c) {
    c.count += s.count;
    if (c.attributes.size() < attribute_names_.size()) c.attributes.resize(attribute_names_.size());
    for (const auto& [id, total] : totals)
      c.attributes[static_cast<std::size_t>(id)].number.AddTotal(s.count, total);
    for (const auto& [id, n] : yes) {
      BoolStats& b = c.attributes[static_cast<std::size_t>(id)].boolean;
      b.count += s.count;
      b.yes += std::min(n, s.count);
    }
    if (!s.db.empty()) c.attributes[kIdDb].text.Add(s.db, s.count);
  };
  ClassStats& c = ClassFor(s.key);
  add(c);
  const double value = [&] {
    for (const auto& [name, total] : s.totals) {
      if (name == options_.worst_attribute) return total / static_cast<double>(s.count);
    }
    return 0.0;
  }();
  if (!c.sample.present || value >= c.sample.value) {
    c.sample.arg = s.sample;
    c.sample.db = s.db;
    c.sample.value = value;
    c.sample.has_value = true;
    c.sample.present = true;
  }
}

void Aggregator::Merge(Aggregator&& later) {
  FlushLines();
  later.FlushLines();
  // Map the later aggregator's attribute ids onto this one's.
  std::vector<int> map(later.attribute_names_.size());
  for (std::size_t i = 0; i < later.attribute_names_.size(); ++i)
    map[i] = IdOf(later.attribute_names_[i]);
  auto merge_class = [&](ClassStats& into, ClassStats& from) {
    into.count += from.count;
    if (into.attributes.size() < attribute_names_.size())
      into.attributes.resize(attribute_names_.size());
    for (std::size_t i = 0; i < from.attributes.size(); ++i) {
      if (from.attributes[i].count() == 0) continue;
      into.attributes[static_cast<std::size_t>(map[i])].Merge(from.attributes[i]);
    }
    into.time.Merge(from.time);
    if (from.count > 0 && from.last_offset >= into.last_offset) {
      into.last_offset = from.last_offset;
      into.last_file = from.last_file;
    }
    // The later part's sample wins when it reached at least the earlier part's largest value
    // (a single pass would have replaced the sample with it), or when the earlier part has
    // none.
    const bool first_wins = options_.group_by == GroupBy::kTables;  // see Add
    if (from.sample.present &&
        (!into.sample.present ||
         (!first_wins && from.sample.has_value &&
          (!into.sample.has_value || from.sample.value >= into.sample.value)))) {
      into.sample = std::move(from.sample);
    }
  };
  for (ClassStats& c : later.classes_) {
    auto it = class_index_.find(c.key);
    if (it == class_index_.end()) {
      ClassStats fresh;
      fresh.key = c.key;
      merge_class(fresh, c);
      classes_.push_back(std::move(fresh));
      class_index_.emplace(classes_.back().key, classes_.size() - 1);
    } else {
      merge_class(classes_[it->second], c);
    }
  }
  overall_valid_ = false;
  counts_.events += later.counts_.events;
  counts_.aggregated += later.counts_.aggregated;
  counts_.filtered += later.counts_.filtered;
  counts_.out_of_time += later.counts_.out_of_time;
  counts_.no_group += later.counts_.no_group;
  impl_->last_db = later.impl_->last_db;
  impl_->last_ts = later.impl_->last_ts;
}

// ---- ranking ------------------------------------------------------------------------------

core::Result<OrderBy> ParseOrderBy(std::string_view text) {
  OrderBy o;
  const std::size_t colon = text.find(':');
  o.attribute = std::string(text.substr(0, colon));
  if (o.attribute.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "--order-by '" + std::string(text) + "' names no attribute",
                           "write ATTRIBUTE:STAT, e.g. Query_time:sum");
  }
  if (colon == std::string_view::npos) {  // pt: $orderby_func || 'cnt'
    o.stat = OrderStat::kCount;
    return o;
  }
  const std::string_view stat = text.substr(colon + 1);
  if (stat == "sum") {
    o.stat = OrderStat::kSum;
  } else if (stat == "min") {
    o.stat = OrderStat::kMin;
  } else if (stat == "max") {
    o.stat = OrderStat::kMax;
  } else if (stat == "cnt" || stat == "count") {
    o.stat = OrderStat::kCount;
  } else if (stat == "avg") {
    o.stat = OrderStat::kAvg;
  } else {
    return core::MakeError(
        core::ErrorCode::kInvalidArgument,
        "--order-by '" + std::string(text) + "': unknown statistic '" + std::string(stat) + "'",
        "use sum, min, max, cnt or avg");
  }
  return o;
}

core::Result<Limit> ParseLimit(std::string_view text) {
  Limit l;
  auto bad = [&](std::string_view why) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "--limit '" + std::string(text) + "': " + std::string(why),
                           "write N (classes), P% (of the total), or P%:N; 0 means all");
  };
  std::string_view rest = text;
  const std::size_t pct = rest.find('%');
  if (pct != std::string_view::npos) {
    const auto p = core::ParseDouble(rest.substr(0, pct));
    if (!p || *p < 0 || *p > 100) return bad("the percentage must be between 0 and 100");
    l.percent = *p;
    rest = rest.substr(pct + 1);
    if (rest.empty()) return l;
    if (rest.front() != ':') return bad("expected ':' after the percentage");
    rest.remove_prefix(1);
  }
  const auto n = core::ParseUint64(rest);
  if (!n) return bad("not a number of classes");
  l.count = static_cast<std::size_t>(*n);
  return l;
}

std::optional<double> OrderValue(const Aggregator& ag, const ClassStats& c, const OrderBy& o) {
  const auto id = ag.AttributeId(o.attribute);
  if (!id) return std::nullopt;
  const AttributeStats* a = c.Find(*id);
  if (a == nullptr) return std::nullopt;
  switch (a->Kind()) {
    case AttributeKind::kNumber: {
      const NumericStats& s = a->number;
      switch (o.stat) {
        case OrderStat::kSum:
          return s.sum();
        case OrderStat::kMin:
          return s.min();
        case OrderStat::kMax:
          return s.max();
        case OrderStat::kCount:
          return static_cast<double>(s.count());
        case OrderStat::kAvg:
          return s.sum() / static_cast<double>(s.count());
      }
      break;
    }
    case AttributeKind::kBool:
      switch (o.stat) {
        case OrderStat::kCount:
          return static_cast<double>(a->boolean.count);
        case OrderStat::kSum:
          return static_cast<double>(a->boolean.yes);
        case OrderStat::kAvg:
          return static_cast<double>(a->boolean.yes) / static_cast<double>(a->boolean.count);
        case OrderStat::kMin:
          return a->boolean.yes == a->boolean.count ? 1.0 : 0.0;
        case OrderStat::kMax:
          return a->boolean.yes > 0 ? 1.0 : 0.0;
      }
      break;
    case AttributeKind::kString:
      if (o.stat == OrderStat::kCount) return static_cast<double>(a->text.count());
      return std::nullopt;
  }
  return std::nullopt;
}

Ranking Rank(const Aggregator& ag, const OrderBy& o, const Limit& limit) {
  struct Item {
    std::size_t index;
    double value;
  };
  std::vector<Item> items;
  const auto& classes = ag.Classes();
  items.reserve(classes.size());
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (const auto v = OrderValue(ag, classes[i], o)) items.push_back({i, *v});
  }
  // pt 3.5.7: reverse sort { $a <=> $b || $a cmp $b } over the class keys: the largest value
  // first, ties by class key, descending.
  std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    if (a.value != b.value) return a.value > b.value;
    return classes[a.index].key > classes[b.index].key;
  });
  // pt's get_worst_queries: a percentage is of the attribute's overall SUM whatever the
  // statistic ranked by; a limit that comes to 0 is no limit.
  double total_limit = 0;
  if (limit.percent > 0) {
    if (const auto id = ag.AttributeId(o.attribute)) {
      if (const AttributeStats* a = ag.Overall().Find(*id)) {
        const double sum = a->Kind() == AttributeKind::kBool ? static_cast<double>(a->boolean.yes)
                                                             : a->number.sum();
        total_limit = sum * limit.percent / 100;
      }
    }
  }
  Ranking r;
  double total = 0;
  std::size_t count = 0;
  for (const Item& it : items) {
    const bool by_total = total_limit <= 0 || total < total_limit;
    const bool by_count = limit.count == 0 || count < limit.count;
    if (by_total && by_count) {
      r.top.push_back({it.index, count + 1});
    } else {
      r.other.push_back({it.index, count + 1});
    }
    total += it.value;
    ++count;
  }
  return r;
}

// ---- inheritance at a chunk start ---------------------------------------------------------

namespace {

// The last line start at or before `end` (exclusive) beginning a header line of interest.
// Returns npos when none in [from, end).
struct Candidate {
  std::size_t db = std::string_view::npos;
  std::size_t ts = std::string_view::npos;
};

bool LineHasDb(std::string_view line) {
  if (StartsWith(line, "use ") && line.size() > 4 && line[4] != ';') return true;
  return line.size() > 2 && line[0] == '#' && line.find("Schema:") != std::string_view::npos;
}
bool LineHasTs(std::string_view line) { return StartsWith(line, "# Time: "); }

// The db / ts of the last event before `end` whose record starts at or after `begin`.
void ParseForInherited(std::string_view text, std::size_t begin, std::size_t end, Inherited& out,
                       bool& got_db, bool& got_ts) {
  SlowLogParser p = SlowLogParser::ForRange(text, begin, end);
  auto ev = std::make_unique<SlowLogEvent>();
  std::string db;
  std::string ts;
  bool have_db = false;
  bool have_ts = false;
  while (p.Next(*ev)) {
    std::string_view d = ev->db;
    bool present = !d.empty();
    if (!present) {
      if (const Attribute* s = ev->Find("Schema")) {
        d = StripBackticks(s->text);
        present = true;
      }
    }
    if (present) {
      db.assign(d);
      have_db = true;
    }
    if (!ev->ts.empty()) {
      ts.assign(ev->ts);
      have_ts = true;
    }
  }
  if (have_db && !got_db) {
    out.db = db;
    out.has_db = true;
    got_db = true;
  }
  if (have_ts && !got_ts) {
    out.ts = ts;
    got_ts = true;
  }
}

}  // namespace

Inherited InheritedAt(std::string_view text, std::size_t offset) {
  Inherited out;
  if (offset == 0) return out;
  offset = std::min(offset, text.size());
  bool got_db = false;
  bool got_ts = false;
  // Walk backwards over lines; a candidate line is verified by parsing the events from the
  // event boundary before it up to `offset` (a "use" inside a statement is not a header).
  std::size_t scan_end = offset;  // lines starting before this are still to look at
  while ((!got_db || !got_ts) && scan_end > 0) {
    std::size_t cand = std::string_view::npos;
    std::size_t cand_end = 0;
    std::size_t e = scan_end;
    while (e > 0) {
      const void* nl = memrchr(text.data(), '\n', e - 1);
      const std::size_t start =
          nl == nullptr ? 0
                        : static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1;
      const std::size_t line_end = std::min(e, text.size());
      std::string_view line = text.substr(start, line_end - start);
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      if ((!got_db && LineHasDb(line)) || (!got_ts && LineHasTs(line))) {
        cand = start;
        cand_end = line_end;
        break;
      }
      if (start == 0) break;
      e = start;
    }
    if (cand == std::string_view::npos) break;
    // The boundary at or before the candidate's record.
    std::size_t back = 4096;
    std::size_t b = 0;
    while (true) {
      const std::size_t from = cand > back ? cand - back : 0;
      b = from == 0 ? 0 : NextEventBoundary(text, from);
      if (b <= cand) break;
      back *= 4;
    }
    // Records start after the '#' of ";\n#": parse those starting up to the candidate line's
    // end, which includes the record holding the line.
    ParseForInherited(text, b, std::min(offset, cand_end), out, got_db, got_ts);
    scan_end = b;
  }
  return out;
}

}  // namespace dbrunbook::digest
