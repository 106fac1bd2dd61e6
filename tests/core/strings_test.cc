#include "core/strings.h"

#include <gtest/gtest.h>

namespace dbrunbook::core {
namespace {

TEST(StringsTest, ParsesWholeNumbersOnly) {
  EXPECT_EQ(ParseInt64(" 42 "), 42);
  EXPECT_EQ(ParseInt64("-7"), -7);
  EXPECT_EQ(ParseInt64("+7"), 7);
  EXPECT_FALSE(ParseInt64("42abc"));
  EXPECT_FALSE(ParseInt64(""));
  EXPECT_FALSE(ParseInt64("99999999999999999999"));
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint64("-1"));
  EXPECT_DOUBLE_EQ(*ParseDouble("0.25"), 0.25);
  EXPECT_FALSE(ParseDouble("1.5x"));
}

TEST(StringsTest, ParsesServerBooleans) {
  EXPECT_EQ(ParseBool("ON"), true);
  EXPECT_EQ(ParseBool("Yes"), true);
  EXPECT_EQ(ParseBool("off"), false);
  EXPECT_EQ(ParseBool("0"), false);
  EXPECT_FALSE(ParseBool("Connecting"));
}

TEST(StringsTest, CaseInsensitiveHelpers) {
  EXPECT_TRUE(EqualsIgnoreCase("Variable_name", "VARIABLE_NAME"));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abcd"));
  EXPECT_TRUE(StartsWithIgnoreCase("MariaDB Server", "mariadb"));
  EXPECT_TRUE(ContainsIgnoreCase("Percona Server (GPL)", "percona"));
  EXPECT_TRUE(CaseInsensitiveLess{}("abc", "ABD"));
  EXPECT_FALSE(CaseInsensitiveLess{}("ABC", "abc"));
}

TEST(StringsTest, SuggestsCloseMatchesOnly) {
  const std::vector<std::string> keys = {"password_env", "password_file", "defaults_file", "host"};
  EXPECT_EQ(ClosestMatch("pasword_env", keys), "password_env");
  EXPECT_EQ(ClosestMatch("hots", keys), "host");
  EXPECT_EQ(ClosestMatch("completely_different", keys), "");
  EXPECT_EQ(ClosestMatch("defaults", keys), "defaults_file");  // a truncated name
  EXPECT_EQ(ClosestMatch("pas", keys), "");                    // too short to mean one
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(StringsTest, SplitsAndTrims) {
  auto parts = Split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(Trim("  x \r\n"), "x");
  EXPECT_EQ(Trim("   "), "");
}

}  // namespace
}  // namespace dbrunbook::core
