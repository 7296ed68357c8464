#include "dualpipe/eplb/slot_table.h"

#include <gtest/gtest.h>

#include "dualpipe/eplb/deepseek_policy.h"
#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

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

TEST(LayerLog2phy, FillsOneLayersRowsAndCounts) {
  int log2phy[6], logcnt[3];
  layer_log2phy(two_layers(), 1, 2, log2phy, logcnt);
  EXPECT_EQ(std::vector<int>(log2phy, log2phy + 6), (std::vector<int>{0, 3, 1, -1, 2, -1}));
  EXPECT_EQ(std::vector<int>(logcnt, logcnt + 3), (std::vector<int>{2, 1, 1}));
}

TEST(PlanDeepseekSlots, HoldsTheReferenceOutputsOfEveryRecordedCase) {
  for (const auto& c : testing::load_reference_cases()) {
    SCOPED_TRACE(c.name);
    const Placement plan = to_placement(plan_deepseek_slots(c.loads, c.parameters));
    EXPECT_EQ(plan.phy2log, c.phy2log);
    EXPECT_EQ(plan.logcnt, c.logcnt);
    EXPECT_EQ(plan.log2phy, c.log2phy);
  }
}

}  // namespace
}  // namespace dualpipe::eplb
