#include "core/duration.h"

#include <gtest/gtest.h>

namespace dbrunbook::core {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(DurationTest, ParsesUnitsAndCompounds) {
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("2s"), seconds(2));
  EXPECT_EQ(*ParseDuration("5m"), seconds(300));
  EXPECT_EQ(*ParseDuration("1h30m"), seconds(5400));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*ParseDuration("1d"), seconds(86400));
}

TEST(DurationTest, RejectsBareNumbersUnlessSecondsAllowed) {
  auto bare = ParseDuration("5");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bare.error().hint.find("5s"), std::string::npos);
  EXPECT_EQ(*ParseDuration("5", true), seconds(5));
  EXPECT_FALSE(ParseDuration("-5", true));
}

TEST(DurationTest, RejectsGarbage) {
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("5 parsecs"));
  EXPECT_FALSE(ParseDuration("m5"));
  EXPECT_FALSE(ParseDuration("5x"));
}

// Found by the option-file fuzzer: a 50-digit connect-timeout overflowed the conversion to
// nanoseconds (undefined behaviour). Anything past a century is refused with a clear error.
TEST(DurationTest, RejectsDurationsTooLongToRepresent) {
  const auto huge = ParseDuration("3666666666666666666666666666666666666666666666666", true);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("longer than 100 years"), std::string::npos);
  EXPECT_FALSE(ParseDuration("1e300s"));
  EXPECT_FALSE(ParseDuration("99999999999d"));
  EXPECT_FALSE(ParseDuration("inf", true));
  EXPECT_FALSE(ParseDuration("nan", true));
  EXPECT_EQ(*ParseDuration("36500d"), hours(24 * 36500));
}

TEST(DurationTest, FormatsForHumans) {
  EXPECT_EQ(FormatSeconds(0.25), "250ms");
  EXPECT_EQ(FormatSeconds(4.2), "4.2s");
  EXPECT_EQ(FormatSeconds(185), "3m 05s");
  EXPECT_EQ(FormatSeconds(2 * 3600 + 14 * 60), "2h 14m");
  EXPECT_EQ(FormatSeconds(3 * 86400 + 4 * 3600), "3d 4h");
}

TEST(DurationTest, FormatsRfc3339InUtc) {
  WallTime t = WallTime{} + seconds(1700000000) + milliseconds(42);
  EXPECT_EQ(FormatRfc3339(t), "2023-11-14T22:13:20.042Z");
}

TEST(DurationTest, ParsesRfc3339AndRoundTrips) {
  const WallTime t = WallTime{} + seconds(1700000000) + milliseconds(42);
  auto parsed = ParseRfc3339(FormatRfc3339(t));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, t);
  EXPECT_EQ(ParseRfc3339("2023-11-14T22:13:20Z").value(), WallTime{} + seconds(1700000000));
  // An offset: 23:13:20+01:00 is 22:13:20Z.
  EXPECT_EQ(ParseRfc3339("2023-11-14T23:13:20+01:00").value(), WallTime{} + seconds(1700000000));
  EXPECT_EQ(ParseRfc3339("2023-11-14t22:13:20.5z").value(),
            WallTime{} + seconds(1700000000) + milliseconds(500));
  // Go's zero time (Alertmanager's "not ended") is before what system_clock holds.
  EXPECT_EQ(ParseRfc3339("0001-01-01T00:00:00Z").value(), WallTime::min());
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z").value(), WallTime{} + seconds(1709164800));
  for (const char* bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z", "2023-02-29T00:00:00Z",
        "2023-11-14T24:00:00Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Zjunk", "yesterday"}) {
    auto r = ParseRfc3339(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
  }
}

}  // namespace
}  // namespace dbrunbook::core
