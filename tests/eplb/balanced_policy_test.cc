#include "dualpipe/eplb/balanced_policy.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb {
namespace {

LoadMatrix lognormal_loads(int layers, int experts, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<float> draw(0.0f, static_cast<float>(sigma));
  LoadMatrix loads(layers, experts);
  for (int l = 0; l < layers; ++l) {
    for (int e = 0; e < experts; ++e) loads(l, e) = draw(rng);
  }
  return loads;
}

LoadMatrix integer_loads(int layers, int experts, int max_value, unsigned seed) {
  std::mt19937 rng(seed);
  LoadMatrix loads(layers, experts);
  for (int l = 0; l < layers; ++l) {
    for (int e = 0; e < experts; ++e) loads(l, e) = static_cast<float>(rng() % (max_value + 1));
  }
  return loads;
}

double mean_gap(const std::vector<LayerStatistics>& stats) {
  double sum = 0.0;
  for (const auto& s : stats) sum += s.gap();
  return sum / static_cast<double>(stats.size());
}

// Checks the policy's promises on one input: no worse than deepseek per layer, no duplicate copies,
// never below the lower bound, every expert placed.
void expect_balanced_promises(const LoadMatrix& loads, const PlanParameters& p) {
  const PlanProblem problem = make_plan_problem(loads, p);
  const SlotTable balanced = plan_balanced(problem);
  const SlotTable deepseek = plan_deepseek(problem);
  EXPECT_EQ(duplicate_copies_on_gpus(balanced, p.gpus), 0);
  const auto ours = placement_statistics(balanced, problem);
  const auto theirs = placement_statistics(deepseek, problem);
  const Placement balanced_maps = to_placement(balanced);
  for (std::size_t l = 0; l < ours.size(); ++l) {
    EXPECT_LE(ours[l].max_gpu_load, theirs[l].max_gpu_load * (1 + 1e-9)) << "layer " << l;
    EXPECT_GE(ours[l].max_gpu_load, ours[l].lower_bound.value() * (1 - 1e-9)) << "layer " << l;
    for (int count : balanced_maps.logcnt[l]) EXPECT_GE(count, 1);
  }
}

TEST(PlanBalanced, StaysWithinOnePercentOfTheBoundOnLognormalLoadsOver144Gpus) {
  const PlanProblem problem = make_plan_problem(lognormal_loads(58, 256, 1.0, 1), {288, 8, 3, 144});
  const auto ours = placement_statistics(plan_balanced(problem), problem);
  const auto theirs = placement_statistics(plan_deepseek(problem), problem);
  std::printf("mean gap: balanced %.4f, deepseek %.4f\n", mean_gap(ours), mean_gap(theirs));
  EXPECT_LE(mean_gap(ours), 1.01);
}

TEST(PlanBalanced, KeepsItsPromisesOnRandomGlobalInputs) {
  for (unsigned seed = 0; seed < 6; ++seed) {
    SCOPED_TRACE(seed);
    expect_balanced_promises(lognormal_loads(4, 64, 1.0 + 0.3 * seed, seed), {96, 4, 3, 12});
    expect_balanced_promises(integer_loads(4, 32, 5, seed), {72, 4, 3, 12});
  }
}

TEST(PlanBalanced, KeepsItsPromisesOnRandomHierarchicalInputs) {
  for (unsigned seed = 0; seed < 6; ++seed) {
    SCOPED_TRACE(seed);
    expect_balanced_promises(lognormal_loads(4, 64, 1.5, seed), {96, 8, 2, 8});
    expect_balanced_promises(integer_loads(4, 48, 4, seed), {72, 6, 3, 12});
  }
}

TEST(PlanBalanced, KeepsEachGroupsExpertsOnOneNode) {
  const LoadMatrix loads = lognormal_loads(3, 64, 1.0, 9);
  const PlanParameters p{96, 8, 4, 16};
  const Placement plan = to_placement(plan_balanced(make_plan_problem(loads, p)));
  const int slots_per_node = p.replicas / p.nodes;
  for (const auto& row : plan.phy2log) {
    std::vector<int> node_of_group(static_cast<std::size_t>(p.groups), -1);
    for (int slot = 0; slot < p.replicas; ++slot) {
      const int group = row[slot] / (64 / p.groups);
      if (node_of_group[group] < 0) node_of_group[group] = slot / slots_per_node;
      EXPECT_EQ(node_of_group[group], slot / slots_per_node);
    }
  }
}

TEST(PlanBalanced, KeepsItsPromisesOnALayerOfThousandsOfExperts) {
  expect_balanced_promises(lognormal_loads(1, 4096, 1.0, 4), {4608, 8, 4, 512});
}

TEST(PlanBalanced, RejectsMoreSlotsPerGpuThanExpertsPerNode) {
  const PlanProblem problem = make_plan_problem(lognormal_loads(1, 4, 1.0, 1), {16, 1, 1, 2});
  EXPECT_THROW(plan_balanced(problem), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
