#include "node_partitions.h"

#include <gtest/gtest.h>

namespace dualpipe::eplb::detail {
namespace {

TEST(AssignGroupsToNodes, PairsHeavyGroupsWithLightOnes) {
  EXPECT_EQ(assign_groups_to_nodes({10, 9, 1, 1}, 2), (std::vector<int>{0, 1, 1, 0}));
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
