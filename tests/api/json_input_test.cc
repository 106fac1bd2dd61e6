#include "api/json_input.h"

#include <gtest/gtest.h>

#include "core/duration.h"

namespace dbrunbook::api {
namespace {

std::string Rfc(std::string_view text) {
  const auto t = ParseRfc3339(text);
  return t ? core::FormatRfc3339(*t) : "invalid";
}

TEST(Rfc3339, ParsesWhatAlertmanagerAndPeopleWrite) {
  EXPECT_EQ(Rfc("2026-11-27T06:35:11Z"), "2026-11-27T06:35:11.000Z");
  EXPECT_EQ(Rfc("2018-08-03T09:52:26.739266876+02:00"), "2018-08-03T07:52:26.739Z");
  EXPECT_EQ(Rfc("2026-11-27t06:35:11.5z"), "2026-11-27T06:35:11.500Z");
  EXPECT_EQ(Rfc("2026-11-27 06:35:11-05:30"), "2026-11-27T12:05:11.000Z");
  EXPECT_EQ(Rfc("2024-02-29T00:00:00Z"), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(Rfc("1970-01-01T00:00:00Z"), "1970-01-01T00:00:00.000Z");
  // Go's zero time: Alertmanager's "not ended".
  const auto zero = ParseRfc3339("0001-01-01T00:00:00Z");
  ASSERT_TRUE(zero);
  EXPECT_TRUE(IsGoZeroTime(*zero));
  EXPECT_FALSE(IsGoZeroTime(*ParseRfc3339("2026-11-27T06:35:11Z")));
}

TEST(Rfc3339, RejectsEverythingElse) {
  for (const char* bad : {"", "2026-11-27", "2026-11-27T06:35:11", "2026-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T06:35:11.Z",
                          "2026-11-27T06:35:11+0200", "2026-11-27T06:35:11Z ",
                          "x2026-11-27T06:35:11Z", "2026-11-27T06:35Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(JsonBody, ErrorsSayWhereAndNeverThrow) {
  auto bad = ParseJsonBody("{\"a\": [1, 2,", "test body");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kParse);
  EXPECT_NE(bad.error().message.find("test body is not valid JSON (byte 13)"), std::string::npos)
      << bad.error().message;
  auto invalid_utf8 = ParseJsonBody("\"\xff\"", "test body");
  ASSERT_FALSE(invalid_utf8);
  EXPECT_EQ(JsonPath("", "alerts"), "alerts");
  EXPECT_EQ(JsonPath(JsonPath("alerts", 2), "status"), "alerts[2].status");
  EXPECT_EQ(JsonExcerpt(nlohmann::json(std::string(100, 'x'))).size(), 63u);  // 60 and "..."
}

}  // namespace
}  // namespace dbrunbook::api
