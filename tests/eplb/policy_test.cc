#include "dualpipe/eplb/policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/eplb/deepseek_policy.h"

namespace dualpipe::eplb {
namespace {

TEST(ParsePolicy, ReadsBothNamesAndRejectsOthers) {
  EXPECT_EQ(parse_policy("deepseek"), Policy::kDeepseek);
  EXPECT_EQ(to_string(parse_policy("balanced")), "balanced");
  EXPECT_THROW(parse_policy("greedy"), std::invalid_argument);
}

TEST(Plan, DispatchesToTheNamedPolicy) {
  LoadMatrix loads(1, 4);
  loads << 9, 1, 1, 1;
  EXPECT_EQ(plan(loads, {8, 1, 1, 4}, Policy::kDeepseek).phy2log, plan_deepseek(loads, {8, 1, 1, 4}).phy2log);
  EXPECT_EQ(plan_layer({9, 1, 1, 1}, {8, 1, 1, 4}, Policy::kDeepseek),
            plan_deepseek(loads, {8, 1, 1, 4}).phy2log[0]);
}

TEST(PlanSlots, HoldsThePlanOfEitherPolicy) {
  LoadMatrix loads(2, 4);
  loads << 9, 1, 1, 1,  //
      1, 2, 3, 4;
  for (const Policy policy : {Policy::kDeepseek, Policy::kBalanced}) {
    const Placement expected = plan(loads, {8, 1, 1, 4}, policy);
    const Placement placement = to_placement(plan_slots(loads, {8, 1, 1, 4}, policy));
    EXPECT_EQ(placement.phy2log, expected.phy2log);
    EXPECT_EQ(placement.log2phy, expected.log2phy);
    EXPECT_EQ(placement.logcnt, expected.logcnt);
  }
}

}  // namespace
}  // namespace dualpipe::eplb
