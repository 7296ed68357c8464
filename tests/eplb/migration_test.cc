#include "dualpipe/eplb/migration.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb {
namespace {

LoadMatrix lognormal(int layers, int experts, unsigned seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<float> draw(0.0f, 1.0f);
  LoadMatrix loads(layers, experts);
  for (int l = 0; l < layers; ++l) {
    for (int e = 0; e < experts; ++e) loads(l, e) = draw(rng);
  }
  return loads;
}

const PlanParameters kParameters{96, 8, 2, 16};

PlanProblem problem_of(const LoadMatrix& loads) { return make_plan_problem(loads, kParameters); }

double total_max(const SlotTable& placement, const LoadMatrix& loads) {
  double sum = 0.0;
  for (const auto& s : placement_statistics(placement, problem_of(loads))) sum += s.max_gpu_load;
  return sum;
}

TEST(Replan, KeepsAPlanThatIsStillTheBest) {
  const PlanProblem problem = problem_of(lognormal(3, 64, 1));
  const SlotTable fresh = plan_balanced(problem);
  const Replan again = replan(problem, Policy::kBalanced, fresh, {});
  EXPECT_EQ(again.replicas_moved, 0);
  EXPECT_EQ(again.placement.phy2log, fresh.phy2log);
}

TEST(Replan, ImprovesOnAStalePlanWithoutMakingAnyLayerWorse) {
  const LoadMatrix old_loads = lognormal(4, 64, 2);
  const LoadMatrix new_loads = lognormal(4, 64, 3);
  const SlotTable stale = plan_balanced(problem_of(old_loads));
  const Replan result = replan(problem_of(new_loads), Policy::kBalanced, stale, {});
  const auto before = placement_statistics(stale, problem_of(new_loads));
  const auto after = placement_statistics(result.placement, problem_of(new_loads));
  for (std::size_t l = 0; l < after.size(); ++l)
    EXPECT_LE(after[l].max_gpu_load, before[l].max_gpu_load);
  EXPECT_LT(total_max(result.placement, new_loads), total_max(stale, new_loads));
  EXPECT_EQ(result.replicas_moved, replicas_moved(stale, result.placement));
  EXPECT_EQ(duplicate_copies_on_gpus(result.placement, kParameters.gpus), 0);
}

TEST(Replan, MovesNoMoreReplicasThanAllowedAndGainsMoreWithMore) {
  const LoadMatrix old_loads = lognormal(4, 64, 4);
  const LoadMatrix new_loads = lognormal(4, 64, 5);
  const SlotTable stale = plan_balanced(problem_of(old_loads));
  double previous_total = total_max(stale, new_loads);
  for (int cap : {0, 4, 16, 64}) {
    MigrationOptions options;
    options.max_moves = cap;
    const Replan result = replan(problem_of(new_loads), Policy::kBalanced, stale, options);
    EXPECT_LE(result.replicas_moved, cap);
    const double total = total_max(result.placement, new_loads);
    EXPECT_LE(total, previous_total * (1 + 1e-12)) << "cap " << cap;
    previous_total = total;
  }
}

TEST(Replan, LeavesLayersAloneWhenTheGainIsBelowTheMinimum) {
  const LoadMatrix old_loads = lognormal(3, 64, 6);
  const LoadMatrix new_loads = old_loads * 1.0f;
  const SlotTable stale = plan_balanced(problem_of(old_loads));
  MigrationOptions options;
  options.min_gain = 0.5;  // nothing halves the max load of an already balanced plan
  EXPECT_EQ(replan(problem_of(new_loads), Policy::kBalanced, stale, options).replicas_moved, 0);
}

TEST(Replan, RejectsAPreviousPlanOfAnotherShape) {
  const PlanProblem problem = problem_of(lognormal(3, 64, 7));
  const SlotTable other = plan_balanced(problem_of(lognormal(2, 64, 7)));
  EXPECT_THROW(replan(problem, Policy::kBalanced, other, {}), std::invalid_argument);
}

TEST(AlignToPrevious, RecoversAPlanWhoseGpusWereShuffled) {
  const LoadMatrix loads = lognormal(1, 32, 8);
  const PlanParameters p{48, 4, 1, 8};
  const std::vector<int> plan = plan_balanced(make_plan_problem(loads, p)).layer_row(0);
  std::vector<int> shuffled(plan.size());
  for (int gpu = 0; gpu < p.gpus; ++gpu) {  // GPU g's slots go to GPU (g + 3) % 8, reversed
    for (int s = 0; s < 6; ++s) shuffled[((gpu + 3) % 8) * 6 + s] = plan[gpu * 6 + 5 - s];
  }
  EXPECT_EQ(align_to_previous(shuffled, plan, p), plan);
}

}  // namespace
}  // namespace dualpipe::eplb
