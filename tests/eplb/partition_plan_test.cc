#include "partition_plan.h"

#include <gtest/gtest.h>

#include <numeric>

#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb::detail {
namespace {

// One node of 8 GPUs with 5 slots and 32 experts, two of them far heavier than the rest: the
// fewest largest copies (6 and 4 of them) put both heavy experts on two GPUs.
std::vector<float> two_heavy_experts() {
  std::vector<float> loads = {293.6f, 151.8f};
  for (int i = 0; i < 30; ++i) loads.push_back(1.0f + 0.2f * static_cast<float>(i));
  return loads;
}

TEST(PartitionPlan, TriesCopyCountsThatKeepHeavyCopiesOffEachOthersGpus) {
  const std::vector<float> loads = two_heavy_experts();
  std::vector<int> experts(loads.size());
  std::iota(experts.begin(), experts.end(), 0);
  PartitionPlan plan(loads, experts, 40, 8);
  EXPECT_GT(plan.max_load(), 90.0);
  plan.try_more_copy_counts();
  const double mean = std::accumulate(loads.begin(), loads.end(), 0.0) / 8;
  EXPECT_LT(plan.max_load(), mean * 1.01);
  EXPECT_DOUBLE_EQ(max_gpu_load(plan.slots(), loads, 8), plan.max_load());
}

TEST(PartitionPlan, NamesTheLogicalExpertsOfItsPartition) {
  const std::vector<float> loads = {0, 0, 4, 1, 1, 1};
  PartitionPlan plan(loads, {2, 3, 4, 5}, 6, 3);
  for (int e : plan.slots()) EXPECT_GE(e, 2);
}

TEST(RefinePartition, RemovesDuplicatesWithoutRaisingTheLargestLoad) {
  const std::vector<float> loads = {4, 4, 1, 1};
  std::vector<int> slots = {0, 0, 1, 2, 1, 3};
  const double before = max_gpu_load(slots, loads, 2);
  EXPECT_TRUE(refine_partition(slots.data(), 6, loads, 2));
  EXPECT_LE(max_gpu_load(slots, loads, 2), before);
  EXPECT_NE(slots[0], slots[1]);
}

}  // namespace
}  // namespace dualpipe::eplb::detail
