#include "gpu_assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace dualpipe::eplb::detail {
namespace {

bool has_duplicates(const std::vector<int>& slots, int per_gpu) {
  for (std::size_t g = 0; g < slots.size() / per_gpu; ++g) {
    std::set<int> seen(slots.begin() + g * per_gpu, slots.begin() + (g + 1) * per_gpu);
    if (seen.size() != static_cast<std::size_t>(per_gpu)) return true;
  }
  return false;
}

TEST(PackCopiesWithoutDuplicates, SpreadsAnExpertsCopiesOverDistinctGpus) {
  const std::vector<int> slots = pack_copies_without_duplicates({9, 1, 1, 1}, {3, 1, 1, 1}, 3);
  EXPECT_FALSE(has_duplicates(slots, 2));
}

TEST(GpuAssignment, ImproveOnceLowersTheHeaviestGpu) {
  // GPU 0 holds the two heavy experts; a swap with GPU 1 halves its excess.
  GpuAssignment assignment({5, 5, 1, 1}, 2, {0, 1, 2, 3});
  EXPECT_DOUBLE_EQ(assignment.max_load(), 10.0);
  EXPECT_TRUE(assignment.improve_once());
  EXPECT_DOUBLE_EQ(assignment.max_load(), 6.0);
  EXPECT_FALSE(assignment.improve_once());
}

TEST(GpuAssignment, MovesACopyToTheExpertThatNeedsIt) {
  // Expert 0 (load 12) has one copy, expert 1 (load 1) has two; giving expert 0 the second copy wins.
  GpuAssignment assignment({12, 1, 1, 1}, 2, {0, 1, 1, 2, 3, 3});
  assignment.refine(10);
  EXPECT_LT(assignment.max_load(), 12.0);
}

TEST(GpuAssignment, RemovesDuplicateCopiesFromAGpu) {
  GpuAssignment assignment({4, 4, 1, 1}, 2, {0, 0, 1, 2, 1, 3});
  EXPECT_TRUE(assignment.remove_duplicates());
  EXPECT_FALSE(has_duplicates(assignment.slots(), 3));
}

}  // namespace
}  // namespace dualpipe::eplb::detail
