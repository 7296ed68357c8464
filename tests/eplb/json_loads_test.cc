#include "dualpipe/eplb/json_loads.h"

#include <gtest/gtest.h>

#include "load_formats_test_util.h"

namespace dualpipe::eplb {
namespace {

// The message of the ParseError that parse_json_loads throws, or "no error".
const auto error_of = testing::parse_error_of<parse_json_loads>;

TEST(ParseJsonLoads, ReadsANestedArray) {
  const LoadSeries series = parse_json_loads("[[1, 2], [3, 4.5]]");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0](1, 1), 4.5f);
}

TEST(ParseJsonLoads, ReadsAnObjectWithLoadsOrLogicalCount) {
  EXPECT_EQ(parse_json_loads("{\"loads\": [[1, 2]]}")[0](0, 1), 2.0f);
  EXPECT_EQ(parse_json_loads("{\"logical_count\": [[[1, 2]], [[3, 4]]]}").size(), 2u);
}

TEST(ParseJsonLoads, RoundTripsATimeSeriesThroughItsWriter) {
  testing::expect_round_trip(parse_json_loads, format_json_loads);
}

TEST(ParseJsonLoads, NamesThePathOfWrongTypesAndValues) {
  EXPECT_EQ(error_of("[[1, \"x\"]]"), "$[0][1]: expected a number, found a string");
  EXPECT_EQ(error_of("{\"loads\": [[1], [2, 3]]}"), "loads[1]: 2 loads; expected 1");
  EXPECT_EQ(error_of("[[1, -2]]"), "$[0][1]: negative load; expected a number >= 0");
  EXPECT_NE(error_of("[[1e39]]").find("float32"), std::string::npos);
  EXPECT_EQ(error_of("{\"x\": 1}"), "$: expected an array or an object with a \"loads\" array");
  EXPECT_EQ(error_of("[]"), "$: expected an array of layer rows or of steps, found an empty array");
  EXPECT_NE(error_of("[[[1]], [[1], [2]]]").find("$[1]: 2 layers; expected 1"), std::string::npos);
}

TEST(ParseJsonLoads, ReportsTruncatedAndMalformedJson) {
  EXPECT_NE(error_of("[[1, 2], [3").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("not json").find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("[[1e999]]").find("invalid JSON"), std::string::npos);
}

TEST(ParseJsonLoads, NamesTheLineAndColumnOfASyntaxError) {
  EXPECT_EQ(error_of("[[1, 2],\n [3 4]]").substr(0, 36), "line 2, column 5: invalid JSON: The ");
  EXPECT_EQ(error_of("{\"loads\": [[1, 2], [3").substr(0, 33), "line 1, column 21: invalid JSON: ");
  EXPECT_EQ(error_of("[[1, \"ab]]").substr(0, 31), "line 1, column 6: invalid JSON:");
  EXPECT_EQ(error_of("[[1, 2]]\n\n\xff").substr(0, 31), "line 3, column 1: invalid JSON:");
  EXPECT_EQ(error_of("").substr(0, 31), "line 1, column 1: invalid JSON:");
}

TEST(ParseJsonLoads, RefusesAKeyGivenTwice) {
  EXPECT_EQ(error_of("{\"loads\": [[1]], \"loads\": [[2]]}"), "$: the key \"loads\" appears twice");
  EXPECT_EQ(error_of("{\"meta\": {\"a\": 1, \"a\": 2}, \"loads\": [[1]]}"),
            "$.meta: the key \"a\" appears twice");
}

TEST(ParseJsonLoads, SkipsALeadingByteOrderMarkAndRefusesNulBytes) {
  EXPECT_EQ(parse_json_loads("\xEF\xBB\xBF[[1, 2]]")[0](0, 1), 2.0f);
  EXPECT_EQ(error_of(std::string_view("[[1, 2]]\n\0", 10)),
            "line 2, column 1: a NUL byte; expected text");
}

}  // namespace
}  // namespace dualpipe::eplb
