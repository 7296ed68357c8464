#include "stacked_copies.h"

#include <gtest/gtest.h>

namespace dualpipe::eplb::detail {
namespace {

TEST(PackCopiesLikeReference, StacksAnExpertsCopiesWhereTheLightestGpuHoldsOneAlready) {
  // Copies of 3, 2.5, 2.5 and 2: the second 2.5 goes to the lighter GPU, which holds the first.
  EXPECT_EQ(pack_copies_like_reference({3, 2, 5}, {1, 1, 2}, 2), (std::vector<int>{0, 1, 2, 2}));
}

TEST(FoldStackedCopies, KeepsTheStackedExpertsShareAndGivesTheFreedSlotTheLightestNewCopy) {
  std::vector<int> slots = {0, 1, 2, 2};
  // Expert 2 (load 5) keeps one copy on GPU 1, carrying the same 5; expert 1 (2 / 2 = 1) adds less
  // than expert 0 would (3 / 2).
  EXPECT_TRUE(fold_stacked_copies(slots.data(), 4, 2, {3, 2, 5}));
  EXPECT_EQ(slots, (std::vector<int>{0, 1, 2, 1}));
}

TEST(FoldStackedCopies, LeavesPlansWithoutStacksAlone) {
  std::vector<int> slots = {0, 1, 2, 0};
  EXPECT_TRUE(fold_stacked_copies(slots.data(), 4, 2, {3, 2, 5}));
  EXPECT_EQ(slots, (std::vector<int>{0, 1, 2, 0}));
}

TEST(FoldStackedCopies, FailsWhenNoOtherExpertCanTakeTheFreedSlot) {
  std::vector<int> slots = {0, 0};
  EXPECT_FALSE(fold_stacked_copies(slots.data(), 2, 1, {1}));
}

}  // namespace
}  // namespace dualpipe::eplb::detail
