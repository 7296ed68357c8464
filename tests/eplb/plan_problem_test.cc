#include "dualpipe/eplb/plan_problem.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

using testing::readme_loads;

std::string error_of(const LoadMatrix& loads, const PlanParameters& parameters) {
  try {
    make_plan_problem(loads, parameters);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

TEST(MakePlanProblem, HoldsTheLoadsAndParametersItChecked) {
  const PlanProblem problem = make_plan_problem(readme_loads(), {16, 4, 2, 8});
  EXPECT_EQ(problem.num_layers(), 2);
  EXPECT_EQ(problem.num_experts(), 12);
  EXPECT_EQ(problem.parameters().gpus, 8);
  EXPECT_EQ(problem.layer_data(1)[5], 197.0f);
}

TEST(MakePlanProblem, RejectsReplicasThatAreNotAMultipleOfTheGpus) {
  EXPECT_THROW(make_plan_problem(readme_loads(), {15, 4, 2, 8}), std::invalid_argument);
  EXPECT_EQ(error_of(readme_loads(), {15, 4, 2, 8}),
            "--replicas (15) must be a multiple of --gpus (8)");
}

TEST(MakePlanProblem, RejectsNegativeLoadsBeforeLookingAtTheParameters) {
  LoadMatrix loads = readme_loads();
  loads(1, 3) = -1.0f;
  EXPECT_THROW(make_plan_problem(loads, {16, 4, 2, 8}), std::invalid_argument);
  EXPECT_EQ(error_of(loads, {15, 4, 2, 8}),
            "load of layer 1, expert 3 is -1.000000; expected a finite, non-negative number");
}

}  // namespace
}  // namespace dualpipe::eplb
