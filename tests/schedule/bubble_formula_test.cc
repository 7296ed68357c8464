#include "dualpipe/schedule/bubble_formula.h"

#include <gtest/gtest.h>

namespace dualpipe::schedule {
namespace {

const StageCosts kCosts{1.0, 2.0, 0.5, 2.5};  // F, B, W, F&B

TEST(PublishedBubble, FollowsTheDualPipeReadmeTable) {
  EXPECT_DOUBLE_EQ(*published_bubble("1f1b", 8, kCosts), 7 * 3.0);
  EXPECT_DOUBLE_EQ(*published_bubble("zb1p", 8, kCosts), 7 * (3.0 - 1.0));
  EXPECT_DOUBLE_EQ(*published_bubble("dualpipe", 8, kCosts), 3 * (2.5 + 2.0 - 1.5));
  EXPECT_DOUBLE_EQ(*published_bubble("dualpipev", 16, kCosts), 7 * (2.5 + 2.0 - 1.5));
}

TEST(PublishedBubble, DividesInterleavedStagesByTheVirtualStagesPerRank) {
  EXPECT_DOUBLE_EQ(*published_bubble("interleaved-1f1b", 8, kCosts, 2), 3 * 3.0);
  EXPECT_DOUBLE_EQ(*published_bubble("gpipe", 4, kCosts), 3 * 3.0);
}

TEST(PublishedBubble, KnowsNoFormulaForOtherNames) {
  EXPECT_FALSE(published_bubble("mystery", 8, kCosts).has_value());
  EXPECT_EQ(published_bubble_formula("mystery"), "");
  EXPECT_EQ(published_bubble_formula("dualpipev"), "(PP/2-1)(F&B+B-3W)");
}

}  // namespace
}  // namespace dualpipe::schedule
