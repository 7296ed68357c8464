#include "dualpipe/eplb/plan_parameters.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::eplb {
namespace {

std::string error_of(const PlanParameters& p, int experts) {
  try {
    validate_parameters(p, experts);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

TEST(ValidateParameters, AcceptsTheReadmeExample) { EXPECT_EQ(error_of({16, 4, 2, 8}, 12), "no error"); }

TEST(ValidateParameters, NamesTheParameterAtFault) {
  EXPECT_EQ(error_of({15, 4, 2, 8}, 12), "--replicas (15) must be a multiple of --gpus (8)");
  EXPECT_EQ(error_of({16, 5, 1, 8}, 12), "--groups (5) must divide the 12 experts");
  EXPECT_EQ(error_of({16, 4, 3, 8}, 12), "--gpus (8) must be a multiple of --nodes (3)");
  EXPECT_EQ(error_of({8, 4, 2, 8}, 12), "--replicas (8) must be at least the number of experts (12)");
  EXPECT_EQ(error_of({0, 4, 2, 8}, 12), "--replicas must be positive (got 0)");
  EXPECT_EQ(error_of({16, 0, 2, 8}, 12), "--groups must be positive (got 0)");
  EXPECT_EQ(error_of({16, 4, 0, 8}, 12), "--nodes must be positive (got 0)");
  EXPECT_EQ(error_of({16, 4, 2, 0}, 12), "--gpus must be positive (got 0)");
}

TEST(DeepseekIsHierarchical, WhenNodesDivideGroups) {
  EXPECT_TRUE(deepseek_is_hierarchical({16, 4, 2, 8}));
  EXPECT_TRUE(deepseek_is_hierarchical({16, 4, 1, 8}));
  EXPECT_FALSE(deepseek_is_hierarchical({16, 4, 3, 6}));
  EXPECT_FALSE(keeps_groups_on_nodes({16, 4, 1, 8}));
}

}  // namespace
}  // namespace dualpipe::eplb
