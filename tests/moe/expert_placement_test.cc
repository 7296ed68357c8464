#include "dualpipe/moe/expert_placement.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "dualpipe/eplb/placement.h"

namespace dualpipe::moe {
namespace {

TEST(ExpertPlacement, IdentityGivesEachExpertItsOwnSlot) {
  const ExpertPlacement placement = ExpertPlacement::identity(8, 2);
  EXPECT_EQ(placement.num_slots(), 8);
  EXPECT_EQ(placement.slots_per_rank(), 4);
  EXPECT_EQ(placement.rank_of_slot(5), 1);
  for (int e = 0; e < 8; ++e) {
    EXPECT_EQ(placement.copies(e), 1);
    EXPECT_EQ(placement.log2phy()[static_cast<std::size_t>(e)].front(), e);
  }
}

TEST(ExpertPlacement, ListsCopiesInSlotOrder) {
  const ExpertPlacement placement({2, 0, 1, 2, 0, 2}, 3, 3);
  EXPECT_EQ(placement.log2phy()[2], (std::vector<int>{0, 3, 5}));
  EXPECT_EQ(placement.log2phy()[0], (std::vector<int>{1, 4}));
  const torch::Tensor table = placement.log2phy_tensor();
  EXPECT_EQ(table.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(table[1][1].item<int64_t>(), -1);
  EXPECT_EQ(placement.copies_tensor()[2].item<int64_t>(), 3);
}

TEST(ExpertPlacement, SpreadsTokensRoundRobinFromARankOffset) {
  const ExpertPlacement placement({0, 1, 0, 1}, 2, 2);  // expert 0 in slots 0 and 2
  EXPECT_EQ(placement.slot_for(0, 0, 0), 0);
  EXPECT_EQ(placement.slot_for(0, 1, 0), 2);
  EXPECT_EQ(placement.slot_for(0, 2, 0), 0);
  EXPECT_EQ(placement.slot_for(0, 0, 1), 2);  // rank 1 starts on the second copy
  std::map<int, int> uses;
  for (int occurrence = 0; occurrence < 10; ++occurrence)
    ++uses[placement.slot_for(0, occurrence, 1)];
  EXPECT_EQ(uses[0], 5);
  EXPECT_EQ(uses[2], 5);
}

TEST(ExpertPlacement, RejectsMapsThatCannotBeLaidOut) {
  EXPECT_THROW(ExpertPlacement({0, 1, 2}, 3, 2), std::invalid_argument);     // 3 slots on 2 ranks
  EXPECT_THROW(ExpertPlacement({0, 0, 1, 1}, 3, 2), std::invalid_argument);  // expert 2 has no slot
  EXPECT_THROW(ExpertPlacement({0, 5}, 2, 1), std::invalid_argument);        // expert out of range
  EXPECT_THROW(ExpertPlacement::identity(4, 0), std::invalid_argument);
}

TEST(ExpertPlacement, ReadsOneLayerOfAnEplbPlan) {
  const eplb::Placement plan =
      eplb::placement_from_phy2log({{0, 1, 2, 3, 0, 1}, {3, 1, 1, 0, 2, 3}}, 4);
  EXPECT_THROW(ExpertPlacement::from_plan(plan, 1, 4),
               std::invalid_argument);  // 6 slots on 4 ranks
  const ExpertPlacement second = ExpertPlacement::from_plan(plan, 1, 2);
  EXPECT_EQ(second.phy2log(), (std::vector<int>{3, 1, 1, 0, 2, 3}));
  EXPECT_EQ(second.log2phy()[3], (std::vector<int>{0, 5}));
  EXPECT_THROW(ExpertPlacement::from_plan(plan, 2, 2), std::invalid_argument);
}

TEST(ExpertPlacement, RejectsAPlanWhoseInverseMapsDisagree) {
  eplb::Placement plan = eplb::placement_from_phy2log({{0, 1, 1, 0}}, 2);
  plan.logcnt[0][1] = 1;
  EXPECT_THROW(ExpertPlacement::from_plan(plan, 0, 2), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
