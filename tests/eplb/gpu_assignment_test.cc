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
  GpuAssignment assignment({5, 5, 1, 1}, 2, {0, 1, 2, 3}, work_budget(8));
  EXPECT_DOUBLE_EQ(assignment.max_load(), 10.0);
  EXPECT_TRUE(assignment.improve_once());
  EXPECT_DOUBLE_EQ(assignment.max_load(), 6.0);
  EXPECT_FALSE(assignment.improve_once());
}

TEST(GpuAssignment, MovesACopyToTheExpertThatNeedsIt) {
  // Expert 0 (load 12) has one copy, expert 1 (load 1) has two; giving expert 0 the second copy
  // wins.
  GpuAssignment assignment({12, 1, 1, 1}, 2, {0, 1, 1, 2, 3, 3}, work_budget(10));
  assignment.refine(10);
  EXPECT_LT(assignment.max_load(), 12.0);
}

TEST(GpuAssignment, RemovesDuplicateCopiesFromAGpu) {
  GpuAssignment assignment({4, 4, 1, 1}, 2, {0, 0, 1, 2, 1, 3}, work_budget(10));
  EXPECT_TRUE(assignment.remove_duplicates());
  EXPECT_FALSE(has_duplicates(assignment.slots(), 3));
}

TEST(GpuAssignment, StopsSearchingOnceItsWorkBudgetIsSpent) {
  GpuAssignment spent({5, 5, 1, 1}, 2, {0, 1, 2, 3}, 0);
  EXPECT_TRUE(spent.out_of_work());
  EXPECT_FALSE(spent.improve_once());
  EXPECT_DOUBLE_EQ(spent.max_load(), 10.0);
  GpuAssignment duplicates({4, 4, 1, 1}, 2, {0, 0, 1, 2, 1, 3}, 0);
  EXPECT_FALSE(duplicates.remove_duplicates());
  GpuAssignment ample({5, 5, 1, 1}, 2, {0, 1, 2, 3}, work_budget(8));
  EXPECT_TRUE(ample.improve_once());
  EXPECT_LT(ample.work_left(), work_budget(8));
}

TEST(WorkBudget, CoversSmallLayersAndGrowsAsElementsTimesTheirLogarithm) {
  EXPECT_GE(work_budget(1000), 10'000'000);
  const double ratio = static_cast<double>(work_budget(2'000'000)) / work_budget(1'000'000);
  EXPECT_GT(ratio, 2.0);
  EXPECT_LT(ratio, 2.2);
}

}  // namespace
}  // namespace dualpipe::eplb::detail
