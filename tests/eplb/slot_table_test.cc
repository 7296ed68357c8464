#include "dualpipe/eplb/slot_table.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/placement.h"
#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

TEST(SlotTableFromPhy2log, NumbersEachExpertsCopiesInSlotOrder) {
  const SlotTable table = slot_table_from_phy2log({{2, 0, 2, 1}, {0, 1, 2, 0}}, 3);
  EXPECT_EQ(table.num_layers, 2);
  EXPECT_EQ(table.num_replicas, 4);
  EXPECT_EQ(table.copy, (std::vector<int>{0, 0, 1, 0, /**/ 0, 0, 0, 1}));
  EXPECT_EQ(table.layer_row(1), (std::vector<int>{0, 1, 2, 0}));
}

TEST(SlotTableFromPhy2log, RejectsUnknownOrMissingExpertsAndRaggedRows) {
  EXPECT_THROW(slot_table_from_phy2log({{0, 3}}, 3), std::invalid_argument);
  EXPECT_THROW(slot_table_from_phy2log({{0, 0, 1}}, 3), std::invalid_argument);
  EXPECT_THROW(slot_table_from_phy2log({{0, 1, 2}, {0, 1}}, 3), std::invalid_argument);
}

TEST(TrivialPlacement, WrapsSlotsAroundTheExperts) {
  EXPECT_EQ(trivial_placement(1, 3, 5).layer_row(0), (std::vector<int>{0, 1, 2, 0, 1}));
  const SlotTable table = trivial_placement(2, 3, 5);
  EXPECT_EQ(table.copy, slot_table_from_phy2log({{0, 1, 2, 0, 1}, {0, 1, 2, 0, 1}}, 3).copy);
}

TEST(LayerLog2phy, FillsOneLayersRowsAndCounts) {
  int log2phy[6], logcnt[3];
  layer_log2phy(slot_table_from_phy2log({{2, 0, 2, 1}, {0, 1, 2, 0}}, 3), 1, 2, log2phy, logcnt);
  EXPECT_EQ(std::vector<int>(log2phy, log2phy + 6), (std::vector<int>{0, 3, 1, -1, 2, -1}));
  EXPECT_EQ(std::vector<int>(logcnt, logcnt + 3), (std::vector<int>{2, 1, 1}));
}

TEST(PlanDeepseek, FillsASlotTableHoldingTheReferenceOutputsOfEveryRecordedCase) {
  for (const auto& c : testing::load_reference_cases()) {
    SCOPED_TRACE(c.name);
    const Placement plan = to_placement(plan_deepseek(make_plan_problem(c.loads, c.parameters)));
    EXPECT_EQ(plan.phy2log, c.phy2log);
    EXPECT_EQ(plan.logcnt, c.logcnt);
    EXPECT_EQ(plan.log2phy, c.log2phy);
  }
}

}  // namespace
}  // namespace dualpipe::eplb
