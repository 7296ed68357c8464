#include "dualpipe/runtime/gradient_buckets.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::runtime {
namespace {

TEST(PlanBuckets, FillsBucketsInOrderUpToTheByteBudget) {
  // 8-byte elements, 64-byte buckets: 8 elements each.
  const std::vector<BucketLayout> buckets = plan_buckets({3, 4, 2, 20, 1}, 8, 64, 1);
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0].first, 0u);
  EXPECT_EQ(buckets[0].end, 2u);
  EXPECT_EQ(buckets[0].offsets, (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(buckets[0].numel, 7);
  EXPECT_EQ(buckets[1].first, 2u);  // 2 more would make 9 elements: a new bucket
  EXPECT_EQ(buckets[1].end, 3u);
  EXPECT_EQ(buckets[2].first, 3u);  // a parameter larger than a bucket gets its own
  EXPECT_EQ(buckets[2].end, 4u);
  EXPECT_EQ(buckets[3].first, 4u);
  EXPECT_EQ(buckets[3].numel, 1);
}

TEST(PlanBuckets, PadsEachBucketToAMultipleOfItsMembers) {
  const std::vector<BucketLayout> buckets = plan_buckets({5, 6}, 4, 1 << 20, 4);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].numel, 11);
  EXPECT_EQ(buckets[0].padded, 12);
  EXPECT_EQ(buckets[0].shard_numel(), 3);
}

TEST(PlanBuckets, RefusesImpossibleSizes) {
  EXPECT_THROW(plan_buckets({1}, 4, 0, 1), std::invalid_argument);
  EXPECT_THROW(plan_buckets({1}, 4, 16, 0), std::invalid_argument);
  EXPECT_TRUE(plan_buckets({}, 4, 16, 2).empty());
}

}  // namespace
}  // namespace dualpipe::runtime
