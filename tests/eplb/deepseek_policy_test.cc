#include "dualpipe/eplb/deepseek_policy.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

using testing::readme_loads;

TEST(PlanDeepseek, ReproducesTheReadmeExample) {
  const Placement plan = plan_deepseek(readme_loads(), {16, 4, 2, 8});
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
    const Placement plan = plan_deepseek(c.loads, c.parameters);
    EXPECT_EQ(plan.phy2log, c.phy2log);
    EXPECT_EQ(plan.logcnt, c.logcnt);
    EXPECT_EQ(plan.log2phy, c.log2phy);
  }
}

TEST(PlanDeepseek, RejectsReplicasThatAreNotAMultipleOfTheGpus) {
  EXPECT_THROW(plan_deepseek(readme_loads(), {15, 4, 2, 8}), std::invalid_argument);
}

TEST(PlanDeepseek, RejectsNegativeLoads) {
  LoadMatrix loads = readme_loads();
  loads(1, 3) = -1.0f;
  EXPECT_THROW(plan_deepseek(loads, {16, 4, 2, 8}), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
