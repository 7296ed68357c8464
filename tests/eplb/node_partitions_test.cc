#include "node_partitions.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace dualpipe::eplb::detail {
namespace {

TEST(AssignGroupsToNodes, PairsHeavyGroupsWithLightOnes) {
  EXPECT_EQ(assign_groups_to_nodes({10, 9, 1, 1}, 2), (std::vector<int>{0, 1, 1, 0}));
}

TEST(AssignGroupsToNodes, SpreadsThousandsOfGroupsEvenly) {
  std::mt19937 rng(3);
  std::lognormal_distribution<double> draw(0.0, 1.0);
  std::vector<double> loads(20000);
  for (double& load : loads) load = draw(rng);
  const std::vector<int> node_of = assign_groups_to_nodes(loads, 16);
  std::vector<int> count(16, 0);
  std::vector<double> node_load(16, 0.0);
  for (std::size_t g = 0; g < loads.size(); ++g) {
    ++count[node_of[g]];
    node_load[node_of[g]] += loads[g];
  }
  const double mean = std::accumulate(loads.begin(), loads.end(), 0.0) / 16;
  for (int n = 0; n < 16; ++n) {
    EXPECT_EQ(count[n], 1250);
    EXPECT_LT(node_load[n], mean * 1.001);
  }
}

TEST(ExpertsPerPartition, GivesEachNodeTheExpertsOfItsGroups) {
  // Groups {0, 1}, {2, 3}, {4, 5}, {6, 7} with loads 10, 9, 1, 1 on 2 nodes.
  const std::vector<float> loads = {5, 5, 4, 5, 1, 0, 0, 1};
  const auto partitions = experts_per_partition(loads, {16, 4, 2, 4});
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0], (std::vector<int>{0, 1, 6, 7}));
  EXPECT_EQ(partitions[1], (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(num_node_partitions({16, 4, 2, 4}), 2);
}

TEST(ExpertsPerPartition, KeepsAllExpertsTogetherWhenGroupsDoNotStayOnNodes) {
  EXPECT_EQ(num_node_partitions({16, 4, 3, 6}), 1);
  EXPECT_EQ(experts_per_partition({1, 2, 3}, {6, 1, 3, 3}).size(), 1u);
}

}  // namespace
}  // namespace dualpipe::eplb::detail
