#include "dualpipe/trace/intervals.h"

#include <gtest/gtest.h>

namespace dualpipe::trace {
namespace {

TEST(UnionOf, MergesOverlappingAndTouchingIntervalsAndDropsEmptyOnes) {
  EXPECT_EQ(union_of({{5, 8}, {0, 2}, {2, 3}, {7, 10}, {4, 4}}),
            (IntervalSet{{0, 3}, {5, 10}}));
}

TEST(TotalLength, SumsTheSet) { EXPECT_EQ(total_length({{0, 3}, {5, 10}}), 8); }

TEST(Intersection, KeepsTimeCoveredByBoth) {
  EXPECT_EQ(intersection({{0, 10}, {20, 30}}, {{5, 25}, {28, 40}}),
            (IntervalSet{{5, 10}, {20, 25}, {28, 30}}));
  EXPECT_TRUE(intersection({{0, 5}}, {{5, 9}}).empty());
}

TEST(Difference, KeepsTimeOnlyInTheFirstSet) {
  EXPECT_EQ(difference({{0, 10}, {20, 30}}, {{2, 4}, {6, 22}, {25, 26}}),
            (IntervalSet{{0, 2}, {4, 6}, {22, 25}, {26, 30}}));
  EXPECT_EQ(difference({{0, 10}}, {}), (IntervalSet{{0, 10}}));
  EXPECT_TRUE(difference({{3, 4}}, {{0, 10}}).empty());
}

TEST(Clip, CutsToTheWindow) {
  EXPECT_EQ(clip({{0, 10}, {20, 30}, {40, 50}}, {5, 25}), (IntervalSet{{5, 10}, {20, 25}}));
}

TEST(Intervals, IntersectionAndDifferenceSplitTheFirstSet) {
  const IntervalSet a = union_of({{0, 7}, {9, 31}, {40, 41}});
  const IntervalSet b = union_of({{3, 12}, {30, 45}});
  EXPECT_EQ(total_length(intersection(a, b)) + total_length(difference(a, b)), total_length(a));
}

}  // namespace
}  // namespace dualpipe::trace
