// The Query-protocol request builder and error envelope against botocore's protocol test cases
// (../shared/conformance/aws/query-protocol/): each input case's params are written through
// QueryRequest by a small walker that reads the case's shapes, and the body must equal botocore's
// expected body byte for byte. Each output error case must give the expected code and message.
#include "cloud/query_protocol.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/recorded_output.h"

namespace dbrunbook::cloud {
namespace {

using Json = nlohmann::ordered_json;

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

double JsonDouble(const Json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return HUGE_VAL;
    if (s == "-Infinity") return -HUGE_VAL;
    return std::stod(s);
  }
  return v.get<double>();
}

// Writes `value` (of model shape `shape_name`, with the referring member's traits `member`)
// under `prefix` the way the Query protocol serialises it, using QueryRequest for every scalar
// and list name.
class ShapeWalker {
 public:
  explicit ShapeWalker(const Json& shapes) : shapes_(shapes) {}

  void Walk(QueryRequest& q, const Json& member, const Json& value, const std::string& prefix) {
    const Json& shape = shapes_.at(member.at("shape").get<std::string>());
    const std::string type = shape.at("type");
    auto trait = [&](const char* name) -> Json {
      if (member.contains(name)) return member.at(name);
      if (shape.contains(name)) return shape.at(name);
      return nullptr;
    };
    if (type == "structure") {
      Json filled = value;
      for (const auto& [name, m] : shape.at("members").items()) {
        if (m.value("idempotencyToken", false) && !filled.contains(name)) {
          // botocore fills a missing idempotency token with a fresh UUID; the case fixes it.
          filled[name] = "00000000-0000-4000-8000-000000000000";
        }
      }
      for (const auto& [name, v] : filled.items()) {
        const Json& m = shape.at("members").at(name);
        const std::string wire = m.value("locationName", name);
        Walk(q, m, v, prefix.empty() ? wire : prefix + "." + wire);
      }
    } else if (type == "list") {
      std::vector<Json> items(value.begin(), value.end());
      const Json& item_member = shape.at("member");
      const ListStyle style{
          item_member.contains("locationName")
              ? std::string_view(item_member["locationName"].get_ref<const std::string&>())
              : std::string_view(),
          trait("flattened").is_boolean() && trait("flattened").get<bool>()};
      if (items.empty()) {
        q.Add(prefix, "");  // the Query protocol's empty list
        return;
      }
      for (size_t i = 0; i < items.size(); ++i) {
        Walk(q, item_member, items[i], QueryRequest::ItemPrefix(prefix, style, i + 1));
      }
    } else if (type == "map") {
      const bool flattened = trait("flattened").is_boolean() && trait("flattened").get<bool>();
      const std::string key_name = shape.at("key").value("locationName", "key");
      const std::string value_name = shape.at("value").value("locationName", "value");
      size_t i = 0;
      for (const auto& [k, v] : value.items()) {
        const std::string entry =
            (flattened ? prefix : prefix + ".entry") + "." + std::to_string(++i);
        Walk(q, shape.at("key"), Json(k), entry + "." + key_name);
        Walk(q, shape.at("value"), v, entry + "." + value_name);
      }
    } else if (type == "boolean") {
      q.AddBool(prefix, value.get<bool>());
    } else if (type == "integer" || type == "long") {
      q.AddInt(prefix, value.get<int64_t>());
    } else if (type == "float" || type == "double") {
      q.AddDouble(prefix, JsonDouble(value));
    } else if (type == "timestamp") {
      const auto seconds = value.get<int64_t>();
      if (trait("timestampFormat") == "unixTimestamp") {
        q.AddInt(prefix, seconds);
      } else {
        q.AddTimestamp(prefix, core::WallTime(std::chrono::seconds(seconds)));
      }
    } else if (type == "blob") {
      q.Add(prefix, Base64(value.get<std::string>()));
    } else {
      q.Add(prefix, value.get<std::string>());
    }
  }

 private:
  const Json& shapes_;
};

// Cases whose expectation is not a request body: request compression is the transport's job.
const std::set<std::string> kNotBodyCases = {
    "SDKAppliedContentEncoding_awsQuery", "SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsQuery"};

TEST(QueryProtocolTest, BotocoreInputCasesSerializeToTheExpectedBody) {
  auto text =
      testing::ReadSharedFile("conformance/aws/query-protocol/botocore-protocols-input-query.json");
  ASSERT_TRUE(text) << text.error().ToString();
  const Json suites = Json::parse(*text);
  int passed = 0;
  int skipped = 0;
  for (const Json& suite : suites) {
    const std::string version = suite.at("metadata").at("apiVersion");
    for (const Json& c : suite.at("cases")) {
      const std::string id = c.value("id", "");
      const Json& serialized = c.at("serialized");
      if (!serialized.contains("body")) {
        EXPECT_TRUE(kNotBodyCases.count(id)) << id << " has no body and is not listed";
        ++skipped;
        continue;
      }
      const Json& given = c.at("given");
      QueryRequest q(given.at("name"), version);
      ShapeWalker walker(suite.at("shapes"));
      if (given.contains("input")) walker.Walk(q, given.at("input"), c.at("params"), "");
      EXPECT_EQ(q.Body(), serialized.at("body").get<std::string>()) << id;
      ++passed;
    }
  }
  EXPECT_EQ(passed, 36);
  EXPECT_EQ(skipped, 2);
}

TEST(QueryProtocolTest, BotocoreOutputErrorCasesParse) {
  auto text = testing::ReadSharedFile(
      "conformance/aws/query-protocol/botocore-protocols-output-query.json");
  ASSERT_TRUE(text) << text.error().ToString();
  int errors = 0;
  for (const Json& suite : Json::parse(*text)) {
    for (const Json& c : suite.at("cases")) {
      if (!c.contains("errorCode")) continue;
      const Json& response = c.at("response");
      const AwsError error = ParseAwsError(c.at("given").at("name").get<std::string>(),
                                           response.at("status_code").get<int>(),
                                           response.at("body").get<std::string>());
      EXPECT_EQ(error.code, c.at("errorCode").get<std::string>());
      EXPECT_EQ(error.message, c.value("errorMessage", ""));
      EXPECT_EQ(error.type, "Sender");
      EXPECT_EQ(error.request_id, "foo-id");
      ++errors;
    }
  }
  EXPECT_EQ(errors, 3);
}

TEST(QueryProtocolTest, FormEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(FormUrlEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(FormUrlEncode("cpu * 2"), "cpu%20%2A%202");
  EXPECT_EQ(FormUrlEncode("{DBInstanceClassMemory/12582880}"),
            "%7BDBInstanceClassMemory%2F12582880%7D");
  EXPECT_EQ(FormUrlEncode("a+b=c&d:é"), "a%2Bb%3Dc%26d%3A%C3%A9");
  EXPECT_EQ(FormUrlEncode(std::string_view("\0\xff", 2)), "%00%FF");
}

TEST(QueryProtocolTest, DoublesAreWrittenAsPythonReprDoes) {
  EXPECT_EQ(FormatQueryDouble(10.8), "10.8");
  EXPECT_EQ(FormatQueryDouble(0.5), "0.5");
  EXPECT_EQ(FormatQueryDouble(64), "64.0");
  EXPECT_EQ(FormatQueryDouble(-2.25), "-2.25");
  EXPECT_EQ(FormatQueryDouble(0.0001), "0.0001");
  EXPECT_EQ(FormatQueryDouble(0.00001), "1e-05");
  EXPECT_EQ(FormatQueryDouble(1e15), "1000000000000000.0");
  EXPECT_EQ(FormatQueryDouble(1e16), "1e+16");
  EXPECT_EQ(FormatQueryDouble(1.5e300), "1.5e+300");
  EXPECT_EQ(FormatQueryDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatQueryDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatQueryDouble(-HUGE_VAL), "-Infinity");
}

TEST(QueryProtocolTest, TimestampsAreIso8601Utc) {
  const core::WallTime t{std::chrono::seconds(1440938160)};
  EXPECT_EQ(FormatIso8601(t), "2015-08-30T12:36:00Z");
  EXPECT_EQ(FormatIso8601(t + std::chrono::microseconds(508000)), "2015-08-30T12:36:00.508000Z");
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00Z"), t);
  EXPECT_EQ(ParseIso8601("2015-08-30T14:36:00+02:00"), t);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.508Z"), t + std::chrono::milliseconds(508));
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.6492439Z"), t + std::chrono::microseconds(649243));
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00"), t);
  for (const char* bad :
       {"", "2015-08-30", "2015-02-30T00:00:00Z", "2015-08-30T24:00:00Z",
        "2015-08-30T12:36:00Zjunk", "2015-08-30T12:36:00.Z", "yesterday", "9999-12-31T23:59:59Z"}) {
    EXPECT_FALSE(ParseIso8601(bad)) << bad;
  }
}

TEST(QueryProtocolTest, ListNames) {
  EXPECT_EQ(QueryRequest::ItemPrefix("Dimensions", kMemberList, 2), "Dimensions.member.2");
  EXPECT_EQ(QueryRequest::ItemPrefix("Filters", {"Filter"}, 1), "Filters.Filter.1");
  EXPECT_EQ(QueryRequest::ItemPrefix("Name", {"item", true}, 3), "Name.3");
  QueryRequest q("X", "2010-08-01");
  q.AddStringList("Statistics", kMemberList, {"Average", "Maximum"});
  q.AddStringList("Empty", kMemberList, {});
  EXPECT_EQ(q.Body(),
            "Action=X&Version=2010-08-01&Statistics.member.1=Average&Statistics.member.2=Maximum"
            "&Empty=");
}

TEST(QueryProtocolTest, ErrorCodesAreClassified) {
  EXPECT_EQ(ClassifyAwsError("DBInstanceNotFound", 404), AwsErrorKind::kNotFound);
  EXPECT_EQ(ClassifyAwsError("DBClusterNotFoundFault", 404), AwsErrorKind::kNotFound);
  EXPECT_EQ(ClassifyAwsError("InvalidDBInstanceState", 400), AwsErrorKind::kInvalidState);
  EXPECT_EQ(ClassifyAwsError("InvalidDBClusterStateFault", 400), AwsErrorKind::kInvalidState);
  EXPECT_EQ(ClassifyAwsError("Throttling", 400), AwsErrorKind::kThrottling);
  EXPECT_EQ(ClassifyAwsError("RequestLimitExceeded", 503), AwsErrorKind::kThrottling);
  EXPECT_EQ(ClassifyAwsError("AccessDenied", 403), AwsErrorKind::kAccessDenied);
  EXPECT_EQ(ClassifyAwsError("ExpiredToken", 403), AwsErrorKind::kExpiredToken);
  EXPECT_EQ(ClassifyAwsError("InvalidParameterCombination", 400), AwsErrorKind::kInvalidParameter);
  EXPECT_EQ(ClassifyAwsError("MissingParameter", 400), AwsErrorKind::kInvalidParameter);
  EXPECT_EQ(ClassifyAwsError("InternalServiceError", 500), AwsErrorKind::kTransient);
  EXPECT_EQ(ClassifyAwsError("", 502), AwsErrorKind::kTransient);
  EXPECT_EQ(ClassifyAwsError("StorageQuotaExceeded", 400), AwsErrorKind::kOther);
  EXPECT_EQ(AwsErrorKindName(AwsErrorKind::kExpiredToken), "expired_token");
}

TEST(QueryProtocolTest, AwsErrorBecomesCoreErrorWithHint) {
  const AwsError throttled = ParseAwsError(
      "DescribeDBInstances", 400,
      "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender"
      "</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1"
      "</RequestId></ErrorResponse>");
  const core::Error e = throttled.ToError();
  EXPECT_EQ(e.code, core::ErrorCode::kThrottled);
  EXPECT_EQ(e.message,
            "AWS DescribeDBInstances failed: Throttling: Rate exceeded (HTTP 400, request id r-1)");
  EXPECT_NE(e.hint.find("back off"), std::string::npos);

  const AwsError expired = ParseAwsError(
      "GetMetricData", 403,
      "<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security "
      "token included in the request is expired</Message></Error><RequestId>r-2</RequestId>"
      "</ErrorResponse>");
  EXPECT_EQ(expired.kind, AwsErrorKind::kExpiredToken);
  EXPECT_EQ(expired.ToError().code, core::ErrorCode::kAccessDenied);
  EXPECT_NE(expired.ToError().hint.find("refresh"), std::string::npos);

  // The EC2-style envelope.
  const AwsError ec2 = ParseAwsError(
      "X", 403,
      "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no</Message></Error>"
      "</Errors><RequestID>r-3</RequestID></Response>");
  EXPECT_EQ(ec2.kind, AwsErrorKind::kAccessDenied);
  EXPECT_EQ(ec2.request_id, "r-3");
}

TEST(QueryProtocolTest, UnreadableErrorBodiesStillGiveAnError) {
  const AwsError html =
      ParseAwsError("ModifyDBInstance", 503, "<html><body>Service Unavailable</body></html>");
  EXPECT_EQ(html.kind, AwsErrorKind::kTransient);
  EXPECT_TRUE(html.code.empty());
  EXPECT_EQ(html.ToError().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(html.ToError().message.find("ModifyDBInstance"), std::string::npos);
  const AwsError empty = ParseAwsError("DescribeDBInstances", 404, "");
  EXPECT_EQ(empty.kind, AwsErrorKind::kNotFound);
  // A control sequence in a service message does not reach the terminal.
  const AwsError esc =
      ParseAwsError("X", 400,
                    "<ErrorResponse><Error><Code>Bad</Code><Message>a&#27;[31mb</Message></Error>"
                    "</ErrorResponse>");
  EXPECT_EQ(esc.ToError().message.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::cloud
