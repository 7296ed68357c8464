#include "dualpipe/eplb/csv_loads.h"

#include <gtest/gtest.h>

#include "load_formats_test_util.h"

namespace dualpipe::eplb {
namespace {

// The message of the ParseError that parse_csv_loads throws, or "no error".
const auto error_of = testing::parse_error_of<parse_csv_loads>;

TEST(ParseCsvLoads, ReadsOneRowPerLayer) {
  const LoadSeries series = parse_csv_loads("1, 2,3\n4,5,6\n");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].rows(), 2);
  EXPECT_EQ(series[0](1, 2), 6.0f);
}

TEST(ParseCsvLoads, SplitsStepsAtBlankLinesAndSkipsComments) {
  const LoadSeries series = parse_csv_loads("# step 0\n1,2\n3,4\n\n\n5,6\r\n7,8\n\n");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[1](1, 0), 7.0f);
}

TEST(ParseCsvLoads, RoundTripsThroughItsWriter) {
  testing::expect_round_trip(parse_csv_loads, format_csv_loads);
}

TEST(ParseCsvLoads, NamesLineAndColumnOfBadValues) {
  EXPECT_EQ(error_of("1,2\n3,abc\n"), "line 2, column 3: expected a number, found 'abc'");
  EXPECT_EQ(error_of("1,2\n3,-4\n"), "line 2, column 3: negative load; expected a number >= 0");
  EXPECT_NE(error_of("1,nan\n").find("line 1, column 3: NaN"), std::string::npos);
  EXPECT_NE(error_of("inf,1\n").find("line 1, column 1: infinity"), std::string::npos);
  EXPECT_NE(error_of("1e39,1\n").find("float32"), std::string::npos);
  EXPECT_NE(error_of("1e999,1\n").find("out of range"), std::string::npos);
  EXPECT_EQ(error_of("1,,2\n"), "line 1, column 3: expected a number, found an empty field");
}

TEST(ParseCsvLoads, RejectsRaggedRowsAndStepsAndEmptyInput) {
  EXPECT_EQ(error_of("1,2,3\n4,5\n"), "line 2, column 1: 2 values; expected 3 like line 1");
  EXPECT_NE(error_of("1,2\n3,4\n\n5,6\n").find("step 2 has 1 layers; expected 2"),
            std::string::npos);
  EXPECT_NE(error_of("").find("no loads found"), std::string::npos);
  EXPECT_NE(error_of("\n# only a comment\n").find("no loads found"), std::string::npos);
}

TEST(ParseCsvLoads, SkipsALeadingByteOrderMark) {
  EXPECT_EQ(parse_csv_loads("\xEF\xBB\xBF"
                            "1,2\n")[0](0, 0),
            1.0f);
}

TEST(ParseCsvLoads, FailsAtTheFirstNulByteAndShowsControlBytesEscaped) {
  EXPECT_EQ(error_of(std::string_view("1,2\n3,\0"
                                      "4\n",
                                      8)),
            "line 2, column 3: a NUL byte; expected text");
  EXPECT_EQ(error_of("1,\x01x\n"), "line 1, column 3: expected a number, found '\\x01x'");
}

}  // namespace
}  // namespace dualpipe::eplb
