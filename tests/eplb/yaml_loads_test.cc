#include "dualpipe/eplb/yaml_loads.h"

#include <gtest/gtest.h>

#include "load_formats_test_util.h"

namespace dualpipe::eplb {
namespace {

// The message of the ParseError that parse_yaml_loads throws, or "no error".
const auto error_of = testing::parse_error_of<parse_yaml_loads>;

TEST(ParseYamlLoads, ReadsBlockAndFlowSequences) {
  const LoadSeries series = parse_yaml_loads("- [1, 2]\n- - 3\n  - 4\n");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0](1, 1), 4.0f);
}

TEST(ParseYamlLoads, RoundTripsATimeSeriesThroughItsWriter) {
  testing::expect_round_trip(parse_yaml_loads, format_yaml_loads);
  const LoadSeries series = testing::two_step_series();
  EXPECT_EQ(parse_yaml_loads(format_yaml_loads({series[0]}))[0], series[0]);
}

TEST(ParseYamlLoads, NamesLineAndColumnOfProblems) {
  EXPECT_EQ(error_of("loads:\n  - [1, 2]\n  - [3, x]\n"),
            "line 3, column 9: expected a number, found 'x'");
  EXPECT_EQ(error_of("loads:\n  - [1, 2]\n  - [3]\n"), "line 3, column 5: 1 loads; expected 2");
  EXPECT_NE(error_of("- [1, .nan]\n").find("line 1, column 7: expected a number"),
            std::string::npos);
  EXPECT_NE(error_of("- [1, -1]\n").find("negative"), std::string::npos);
  EXPECT_NE(error_of("- [1, 2\n").find("invalid YAML"), std::string::npos);
  EXPECT_NE(error_of("").find("no loads found"), std::string::npos);
  EXPECT_NE(error_of("other: 1\n").find("expected a \"loads\" key"), std::string::npos);
}

TEST(ParseYamlLoads, RefusesAKeyGivenTwiceAndSkipsAByteOrderMark) {
  EXPECT_EQ(error_of("loads: [[1, 2]]\nloads: [[3, 4]]\n"),
            "line 2, column 1: the key \"loads\" appears twice");
  EXPECT_EQ(parse_yaml_loads("\xEF\xBB\xBF"
                             "loads: [[1, 2]]\n")[0](0, 1),
            2.0f);
}

}  // namespace
}  // namespace dualpipe::eplb
