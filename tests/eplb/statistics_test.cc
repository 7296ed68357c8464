#include "dualpipe/eplb/statistics.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(GpuLoads, SplitsEachExpertsLoadOverItsCopies) {
  // Expert 0 (load 8) has copies on GPUs 0 and 1; expert 1 (load 2) on GPU 1... slots: [0,1 | 0,2]
  const auto loads = gpu_loads({0, 1, 0, 2}, {8.0f, 2.0f, 1.0f}, 2);
  EXPECT_DOUBLE_EQ(loads[0], 6.0);
  EXPECT_DOUBLE_EQ(loads[1], 5.0);
}

TEST(LayerStatistics, ReportsBalancednessAndGap) {
  const LayerStatistics s = layer_statistics({0, 1, 0, 2}, {8.0f, 2.0f, 1.0f}, {4, 1, 1, 2});
  EXPECT_DOUBLE_EQ(s.max_gpu_load, 6.0);
  EXPECT_DOUBLE_EQ(s.mean_gpu_load, 5.5);
  EXPECT_DOUBLE_EQ(s.balancedness(), 5.5 / 6.0);
  EXPECT_DOUBLE_EQ(s.gap(), 6.0 / s.lower_bound.value());
}

TEST(PlacementStatistics, GivesASlotTableTheStatisticsOfItsPlacementWithTheGivenBounds) {
  LoadMatrix loads(2, 3);
  loads << 8, 2, 1,  //
      1, 5, 3;
  const PlanParameters p{4, 1, 1, 2};
  const PlanProblem problem = make_plan_problem(loads, p);
  const SlotTable placement = slot_table_from_phy2log({{0, 1, 0, 2}, {1, 2, 1, 0}}, 3);
  const std::vector<std::vector<int>> rows = {{0, 1, 0, 2}, {1, 2, 1, 0}};
  const auto bounds = lower_bounds(problem);
  const auto actual = placement_statistics(placement, problem, bounds);
  ASSERT_EQ(actual.size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    const LayerStatistics expected = layer_statistics(rows[l], layer_loads(loads, l), p);
    EXPECT_EQ(actual[l].max_gpu_load, expected.max_gpu_load);
    EXPECT_EQ(actual[l].mean_gpu_load, expected.mean_gpu_load);
    EXPECT_EQ(actual[l].lower_bound.value(), expected.lower_bound.value());
  }
  EXPECT_THROW(placement_statistics(placement, problem, {bounds[0]}), std::invalid_argument);
}

TEST(DuplicateCopiesOnGpus, CountsSecondCopiesOnOneGpu) {
  const SlotTable p = slot_table_from_phy2log({{0, 0, 1, 2}, {0, 1, 2, 0}}, 3);
  EXPECT_EQ(duplicate_copies_on_gpus(p, 2), 1);
}

TEST(ReplicasMoved, CountsSlotsWhoseExpertChanged) {
  const SlotTable a = slot_table_from_phy2log({{0, 1, 2, 0}}, 3);
  const SlotTable b = slot_table_from_phy2log({{0, 2, 1, 0}}, 3);
  EXPECT_EQ(replicas_moved(a, b), 2);
  EXPECT_EQ(replicas_moved(a, a), 0);
}

}  // namespace
}  // namespace dualpipe::eplb
