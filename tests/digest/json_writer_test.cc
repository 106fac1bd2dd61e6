// JsonWriter against nlohmann::json's dump(2), the format it promises to write byte for byte,
// and the digest's JSON report against its own canonical form.
#include "digest/json_writer.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "digest/digest.h"
#include "digest/report.h"
#include "support/recorded_output.h"

namespace dbrunbook::digest {
namespace {

// Writes a nlohmann::json tree with the writer, in the tree's order (std::map's for objects).
void Write(JsonWriter& w, const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      w.BeginObject();
      for (const auto& [key, value] : j.items()) {
        w.Key(key);
        Write(w, value);
      }
      w.EndObject();
      break;
    case nlohmann::json::value_t::array:
      w.BeginArray();
      for (const auto& value : j) Write(w, value);
      w.EndArray();
      break;
    case nlohmann::json::value_t::string:
      w.String(j.get_ref<const std::string&>());
      break;
    case nlohmann::json::value_t::number_float:
      w.Double(j.get<double>());
      break;
    case nlohmann::json::value_t::number_unsigned:
      w.Unsigned(j.get<std::uint64_t>());
      break;
    case nlohmann::json::value_t::number_integer:
      w.Signed(j.get<std::int64_t>());
      break;
    case nlohmann::json::value_t::boolean:
      w.Bool(j.get<bool>());
      break;
    default:
      w.Null();
  }
}

std::string Written(const nlohmann::json& j) {
  std::string out;
  JsonWriter w(out);
  Write(w, j);
  EXPECT_TRUE(w.Complete());
  return out;
}

class RandomJson {
 public:
  explicit RandomJson(unsigned seed) : rng_(seed) {}

  nlohmann::json Value(int depth) {
    switch (Pick(depth > 0 ? 9 : 7)) {
      case 0:
        return Double();
      case 1:
        return Text();
      case 2:
        return static_cast<std::uint64_t>(rng_()) << Pick(33);
      case 3:
        return -static_cast<std::int64_t>(rng_() >> Pick(40)) - 1;
      case 4:
        return Pick(2) == 0;
      case 5:
        return nullptr;
      case 6:
        return Double();
      case 7: {
        nlohmann::json o = nlohmann::json::object();
        for (int i = Pick(5); i > 0; --i) o[Text()] = Value(depth - 1);
        return o;
      }
      default: {
        nlohmann::json a = nlohmann::json::array();
        for (int i = Pick(5); i > 0; --i) a.push_back(Value(depth - 1));
        return a;
      }
    }
  }

  double Double() {
    static const double kSpecial[] = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      0.1,
                                      1e-4,
                                      9.9999e-5,
                                      1e-5,
                                      1e15,
                                      1e16,
                                      1e17,
                                      123456789012345678.0,
                                      5e-324,
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::max(),
                                      0.000552,
                                      12.06283};
    switch (Pick(4)) {
      case 0:
        return kSpecial[Pick(std::size(kSpecial))];
      case 1: {  // any finite double
        double d = 0;
        do d = std::bit_cast<double>((static_cast<std::uint64_t>(rng_()) << 32) | rng_());
        while (!std::isfinite(d));
        return d;
      }
      case 2:
        return static_cast<double>(rng_() % 1000000) / 1e6;  // log-like times
      default:
        return static_cast<double>(rng_() % 100000);
    }
  }

  std::string Text() {
    // ASCII with every control character, quotes and backslashes, and UTF-8 of 2 to 4 bytes.
    static const std::string kPieces[] = {
        "a", "Query_time", " ",        "\"",           "\\",
        "/", "\x7f",       "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    std::string s;
    for (int i = Pick(8); i > 0; --i) {
      if (Pick(3) == 0)
        s += static_cast<char>(Pick(0x20));
      else
        s += kPieces[Pick(std::size(kPieces))];
    }
    return s;
  }

 private:
  int Pick(std::size_t n) { return static_cast<int>(rng_() % n); }
  std::mt19937 rng_;
};

TEST(JsonWriter, WritesWhatNlohmannDumpWrites) {
  RandomJson random(20261127);
  for (int i = 0; i < 3000; ++i) {
    const nlohmann::json j = random.Value(4);
    ASSERT_EQ(Written(j), j.dump(2)) << "document " << i;
  }
}

TEST(JsonWriter, EmptyContainersAndScalarsAtTheTop) {
  for (const nlohmann::json& j :
       {nlohmann::json::object(), nlohmann::json::array(), nlohmann::json(nullptr),
        nlohmann::json("x\ny"), nlohmann::json(1.5), nlohmann::json::parse(R"({"a":{},"b":[]})"),
        nlohmann::json::parse(R"([[],[{}],{"x":[1,2]}])")}) {
    EXPECT_EQ(Written(j), j.dump(2));
  }
}

TEST(JsonWriter, NonFiniteDoublesAreNull) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(-std::numeric_limits<double>::infinity());
  w.EndArray();
  EXPECT_EQ(out, "[\n  null,\n  null,\n  null\n]");
  EXPECT_TRUE(w.Complete());
}

TEST(JsonWriter, MemberWritesKeyAndValue) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Member("a", 1);
  w.Member("b", std::uint64_t{18446744073709551615ULL});
  w.Member("c", "t\x01");
  w.Member("d", false);
  w.Member("e", nullptr);
  w.Member("f", 0.25);
  w.Key("g");
  EXPECT_FALSE(w.Complete());
  w.BeginArray();
  w.EndArray();
  w.EndObject();
  EXPECT_TRUE(w.Complete());
  EXPECT_EQ(out,
            "{\n  \"a\": 1,\n  \"b\": 18446744073709551615,\n  \"c\": \"t\\u0001\",\n"
            "  \"d\": false,\n  \"e\": null,\n  \"f\": 0.25,\n  \"g\": []\n}");
}

// The report is written without a tree: it must be exactly the dump of its own parse (keys in
// std::map order at every level, nlohmann's number and string forms), as when it was a tree.
TEST(ReportJson, TextIsItsOwnCanonicalDump) {
  for (const std::string log : {"slow002.txt", "slow006.txt", "slow023.txt", "slow034.txt",
                                "slow039.txt.gz", "slow054.txt", "mysql5.7.log", "empty"}) {
    SCOPED_TRACE(log);
    DigestOptions o;
    o.aggregate.ignore_attributes = DefaultIgnoredAttributes();
    auto r = DigestFiles({testing::SharedPath("conformance/slowlogs/" + log)}, o);
    ASSERT_TRUE(r.has_value());
    for (const char* limit : {"0", "95%:20", "1"}) {
      ReportOptions ro;
      const Ranking ranking = RankForReport(r->aggregator, ro.order_by, *ParseLimit(limit));
      const std::string text = JsonReportText(*r, ranking, ro);
      ASSERT_FALSE(text.empty());
      EXPECT_EQ(text.back(), '\n');
      EXPECT_EQ(nlohmann::json::parse(text).dump(2) + "\n", text) << "limit " << limit;
    }
  }
}

// A log that writes its own Query_length: the JSON name of pt's statement length ("bytes") too.
// One key, not two (the later attribute, as a map assignment kept it).
TEST(ReportJson, AttributeNamedLikeTheStatementLengthIsOneKey) {
  const std::string path = ::testing::TempDir() + "/json_writer_query_length.log";
  {
    std::ofstream out(path, std::ios::binary);
    out << "# Time: 071218 11:48:27\n# User@Host: u[u] @ h []\n"
           "# Query_time: 0.5  Lock_time: 0  Rows_sent: 1  Rows_examined: 1  Query_length: 99\n"
           "SELECT 1;\n";
  }
  DigestOptions o;
  auto r = DigestFiles({path}, o);
  ASSERT_TRUE(r.has_value());
  ReportOptions ro;
  const Ranking ranking = RankForReport(r->aggregator, ro.order_by, *ParseLimit("0"));
  const std::string text = JsonReportText(*r, ranking, ro);
  EXPECT_EQ(nlohmann::json::parse(text).dump(2) + "\n", text);
  const auto j = nlohmann::json::parse(text);
  ASSERT_EQ(j["classes"].size(), 1u);
  EXPECT_EQ(j["classes"][0]["metrics"]["Query_length"]["max"], 99);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace dbrunbook::digest
