#include "dualpipe/trace/json_text.h"

#include <gtest/gtest.h>

namespace dualpipe::trace {
namespace {

TEST(JsonQuote, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

TEST(JsonUnescape, DecodesEveryEscapeIncludingSurrogatePairs) {
  std::size_t bad = 0;
  EXPECT_EQ(json_unescape(R"(a\"b\\c\/\n\t\u00e9\ud83d\ude00)", bad),
            "a\"b\\c/\n\t\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(JsonUnescape, RejectsInvalidEscapesAndSaysWhere) {
  std::size_t bad = 0;
  EXPECT_FALSE(json_unescape(R"(ok\q)", bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(json_unescape(R"(\u12)", bad));
  EXPECT_FALSE(json_unescape(R"(\ud83d alone)", bad));
  EXPECT_FALSE(json_unescape(R"(\ude00)", bad));
  EXPECT_FALSE(json_unescape("\\", bad));
}

TEST(JsonNumber, PrintsShortestFixedForm) {
  EXPECT_EQ(json_number(12.5), "12.5");
  EXPECT_EQ(json_number(3.0), "3");
  EXPECT_EQ(json_number(-0.0001), "0");
  EXPECT_EQ(json_number(1.23456, 2), "1.23");
  EXPECT_EQ(json_number(1.0 / 0.0), "0");
}

}  // namespace
}  // namespace dualpipe::trace
