#include "dualpipe/eplb/policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/placement.h"

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
  const PlanProblem problem = make_plan_problem(loads, {8, 1, 1, 4});
  EXPECT_EQ(plan(problem, Policy::kDeepseek).phy2log, plan_deepseek(problem).phy2log);
  EXPECT_EQ(plan_layer(problem, 0, Policy::kDeepseek), plan_deepseek(problem).layer_row(0));
}

TEST(Plan, HoldsThePlanOfEitherPolicyInItsNestedForm) {
  LoadMatrix loads(2, 4);
  loads << 9, 1, 1, 1,  //
      1, 2, 3, 4;
  const PlanProblem problem = make_plan_problem(loads, {8, 1, 1, 4});
  for (const Policy policy : {Policy::kDeepseek, Policy::kBalanced}) {
    const Placement expected =
        to_placement(policy == Policy::kDeepseek ? plan_deepseek(problem) : plan_balanced(problem));
    const Placement placement = to_placement(plan(problem, policy));
    EXPECT_EQ(placement.phy2log, expected.phy2log);
    EXPECT_EQ(placement.log2phy, expected.log2phy);
    EXPECT_EQ(placement.logcnt, expected.logcnt);
  }
}

}  // namespace
}  // namespace dualpipe::eplb
