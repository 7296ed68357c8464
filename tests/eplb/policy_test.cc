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

}  // namespace
}  // namespace dualpipe::eplb
