#include "core/text.h"

#include <gtest/gtest.h>

namespace dbrunbook::core {
namespace {

TEST(TextTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xC3"), "a\xEF\xBF\xBD");                // truncated sequence
  EXPECT_EQ(ToValidUtf8("\xFF"), "\xEF\xBF\xBD");                  // never valid
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(TextTest, ControlCharactersBecomeVisibleOrSpaces) {
  EXPECT_EQ(SanitizeForTerminal("a\tb\nc\rd"), "a b c d");
  EXPECT_EQ(SanitizeForTerminal("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(SanitizeForTerminal("x\x7fy"), "x\\x7fy");
  EXPECT_EQ(SanitizeForTerminal("\xC2\x9B"
                                "31m"),
            "\\x9b31m");  // C1 CSI
  EXPECT_EQ(SanitizeForTerminal("Größe"), "Größe");
}

TEST(TextTest, WidthCountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("Größe"), 5u);
  EXPECT_EQ(DisplayWidth("注文"), 4u);       // wide
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);  // e + combining acute
  EXPECT_EQ(DisplayWidth("🚨"), 2u);
  EXPECT_EQ(DisplayWidth("✅"), 2u);
}

TEST(TextTest, FitCutsAtCharacterBoundariesByColumns) {
  EXPECT_EQ(FitToWidth("abcdef", 0), "abcdef");
  EXPECT_EQ(FitToWidth("abcdef", 6), "abcdef");
  EXPECT_EQ(FitToWidth("abcdefg", 6), "abc...");
  EXPECT_EQ(FitToWidth("注文注文注文", 8), "注文...");  // 4 + 3 columns; a third would be 9
  EXPECT_EQ(FitToWidth("ééééé", 4), "é...");
  EXPECT_EQ(FitToWidth("abcdef", 2), "..");
}

TEST(TextTest, OneLineCollapsesWhitespaceAndCutsByCharacters) {
  EXPECT_EQ(OneLine("  SELECT *\n\tFROM t  ", 100), "SELECT * FROM t");
  EXPECT_EQ(OneLine("SELECT 'é€𝔸'", 10), "SELECT 'é€...");
  EXPECT_EQ(OneLine("abc", 3), "abc");
  EXPECT_EQ(OneLine("abcd", 3), "abc...");
  EXPECT_EQ(OneLine("a\xC3", 5), "a\xEF\xBF\xBD");
}

}  // namespace
}  // namespace dbrunbook::core
