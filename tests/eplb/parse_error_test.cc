#include "dualpipe/eplb/parse_error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dualpipe::eplb {
namespace {

TEST(CheckedLoad, AcceptsFiniteNonNegativeFloat32Values) {
  EXPECT_EQ(checked_load(2.5, "x"), 2.5f);
  EXPECT_THROW(checked_load(-0.5, "x"), ParseError);
  EXPECT_THROW(checked_load(NAN, "x"), ParseError);
  EXPECT_THROW(checked_load(INFINITY, "x"), ParseError);
  EXPECT_THROW(checked_load(1e39, "x"), ParseError);
}

TEST(FormatNumber, PrintsTheShortestTextThatReadsBack) {
  EXPECT_EQ(format_number(0.1f), "0.1");
  EXPECT_EQ(format_number(3.0), "3");
  EXPECT_EQ(std::stof(format_number(1.0f / 3.0f)), 1.0f / 3.0f);
}

TEST(PrintableText, EscapesEveryByteOutsidePrintableAscii) {
  EXPECT_EQ(printable_text(std::string_view("a\0b\n\x7f\xc3\xa9\\", 8)),
            "a\\x00b\\x0a\\x7f\\xc3\\xa9\\\\");
  EXPECT_EQ(std::string(ParseError(std::string("found '\0'", 9)).what()), "found '\\x00'");
}

TEST(WithoutUtf8Bom, DropsOnlyALeadingMark) {
  EXPECT_EQ(without_utf8_bom("\xEF\xBB\xBF"
                             "1,2"),
            "1,2");
  EXPECT_EQ(without_utf8_bom("1,\xEF\xBB\xBF"), "1,\xEF\xBB\xBF");
}

TEST(CheckNoNulBytes, NamesTheLineAndColumnOfTheFirst) {
  EXPECT_NO_THROW(check_no_nul_bytes("1,2\n"));
  try {
    check_no_nul_bytes(std::string_view("ab\ncd\0", 6));
    FAIL() << "no error";
  } catch (const ParseError& error) {
    EXPECT_EQ(std::string(error.what()), "line 2, column 3: a NUL byte; expected text");
  }
}

}  // namespace
}  // namespace dualpipe::eplb
