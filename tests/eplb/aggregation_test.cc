#include "dualpipe/eplb/aggregation.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

namespace dualpipe::eplb {
namespace {

LoadSeries steps(std::initializer_list<float> values) {
  LoadSeries series;
  for (float v : values) series.push_back(LoadMatrix::Constant(1, 2, v));
  return series;
}

TEST(ParseAggregation, ReadsEveryFormAndPrintsItBack) {
  for (const std::string text : {"sum", "mean", "window:8", "ema:0.25"}) {
    EXPECT_EQ(to_string(parse_aggregation(text)), text);
  }
}

TEST(ParseAggregation, RejectsMalformedArguments) {
  for (const std::string text : {"", "median", "window:0", "window:2.5", "window:", "ema:0", "ema:1.5",
                                 "ema:x", "window:3x"}) {
    EXPECT_THROW(parse_aggregation(text), std::invalid_argument) << text;
  }
}

TEST(Aggregate, SumsAveragesWindowsAndSmooths) {
  const LoadSeries series = steps({1, 2, 3, 6});
  EXPECT_EQ(aggregate(series, parse_aggregation("sum"))(0, 0), 12.0f);
  EXPECT_EQ(aggregate(series, parse_aggregation("mean"))(0, 0), 3.0f);
  EXPECT_EQ(aggregate(series, parse_aggregation("window:2"))(0, 1), 4.5f);
  // ema 0.5: 1 -> 1.5 -> 2.25 -> 4.125
  EXPECT_FLOAT_EQ(aggregate(series, parse_aggregation("ema:0.5"))(0, 0), 4.125f);
  EXPECT_EQ(aggregate(series, parse_aggregation("sum"), 2)(0, 0), 3.0f);
}

TEST(Aggregate, TakesASingleAggregatedStepOutOfASeriesItOwns) {
  LoadSeries series = steps({1, 2, 3});
  const float* last_step = series[2].data();
  const LoadMatrix window = aggregate(std::move(series), parse_aggregation("window:1"));
  EXPECT_EQ(window.data(), last_step);
  EXPECT_EQ(aggregate(steps({1, 2, 3}), parse_aggregation("mean"))(0, 1), 2.0f);
}

TEST(Aggregate, RejectsSumsBeyondFloat32) {
  EXPECT_THROW(aggregate(steps({3e38f, 3e38f}), parse_aggregation("sum")), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
