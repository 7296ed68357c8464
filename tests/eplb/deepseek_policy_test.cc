#include "dualpipe/eplb/deepseek_policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/eplb/placement.h"
#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

using testing::readme_loads;

TEST(PlanDeepseek, ReproducesTheReadmeExample) {
  const Placement plan =
      to_placement(plan_deepseek(make_plan_problem(readme_loads(), {16, 4, 2, 8})));
  const std::vector<std::vector<int>> expected = {
      {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
      {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  EXPECT_EQ(plan.phy2log, expected);
}

TEST(PlanDeepseek, MatchesEveryRecordedReferenceOutputExactly) {
  const auto cases = testing::load_reference_cases();
  ASSERT_GE(cases.size(), 15u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Placement plan = to_placement(plan_deepseek(make_plan_problem(c.loads, c.parameters)));
    EXPECT_EQ(plan.phy2log, c.phy2log);
    EXPECT_EQ(plan.logcnt, c.logcnt);
    EXPECT_EQ(plan.log2phy, c.log2phy);
  }
}

TEST(PlanDeepseekLayer, PlansOneLayerAsTheWholePlanDoes) {
  const PlanProblem problem = make_plan_problem(readme_loads(), {16, 4, 2, 8});
  const SlotTable table = plan_deepseek(problem);
  const DeepseekLayerPlan layer = plan_deepseek_layer(problem, 1);
  EXPECT_EQ(layer.phy2log, table.layer_row(1));
  EXPECT_EQ(layer.rank, std::vector<int>(table.layer_copy(1), table.layer_copy(1) + 16));
}

}  // namespace
}  // namespace dualpipe::eplb
