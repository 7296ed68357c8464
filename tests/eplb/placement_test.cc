#include "dualpipe/eplb/placement.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(PlacementFromPhy2log, ListsEachExpertsSlotsInOrderPaddedWithMinusOne) {
  const Placement p = placement_from_phy2log({{2, 0, 2, 1}, {0, 1, 2, 0}}, 3);
  EXPECT_EQ(p.logcnt, (std::vector<std::vector<int>>{{1, 1, 2}, {2, 1, 1}}));
  EXPECT_EQ(p.log2phy[0], (std::vector<std::vector<int>>{{1, -1}, {3, -1}, {0, 2}}));
  EXPECT_EQ(p.log2phy[1][0], (std::vector<int>{0, 3}));
}

TEST(PlacementFromPhy2log, RejectsUnknownOrMissingExpertsAndRaggedRows) {
  EXPECT_THROW(placement_from_phy2log({{0, 3}}, 3), std::invalid_argument);
  EXPECT_THROW(placement_from_phy2log({{0, 0, 1}}, 3), std::invalid_argument);
  EXPECT_THROW(placement_from_phy2log({{0, 1, 2}, {0, 1}}, 3), std::invalid_argument);
}

// Layer 0: expert 2 in slots 2 (copy 0) and 0 (copy 1); layer 1: expert 0 in slots 0 and 3.
SlotTable two_layers() {
  SlotTable table;
  table.num_layers = 2;
  table.num_replicas = 4;
  table.num_experts = 3;
  table.phy2log = {2, 0, 2, 1, /**/ 0, 1, 2, 0};
  table.copy = {1, 0, 0, 0, /**/ 0, 0, 0, 1};
  return table;
}

TEST(ToPlacement, ListsEachExpertsSlotsByCopyNumberPaddedToTheMostCopies) {
  const Placement p = to_placement(two_layers());
  EXPECT_EQ(p.phy2log, (std::vector<std::vector<int>>{{2, 0, 2, 1}, {0, 1, 2, 0}}));
  EXPECT_EQ(p.logcnt, (std::vector<std::vector<int>>{{1, 1, 2}, {2, 1, 1}}));
  EXPECT_EQ(p.log2phy[0], (std::vector<std::vector<int>>{{1, -1}, {3, -1}, {2, 0}}));
  EXPECT_EQ(p.log2phy[1], (std::vector<std::vector<int>>{{0, 3}, {1, -1}, {2, -1}}));
}

TEST(ToSlotTable, InvertsToPlacement) {
  const SlotTable table = to_slot_table(to_placement(two_layers()));
  EXPECT_EQ(table.num_layers, 2);
  EXPECT_EQ(table.num_replicas, 4);
  EXPECT_EQ(table.num_experts, 3);
  EXPECT_EQ(table.phy2log, two_layers().phy2log);
  EXPECT_EQ(table.copy, two_layers().copy);
  EXPECT_EQ(table.max_copies(), 2);
}

}  // namespace
}  // namespace dualpipe::eplb
