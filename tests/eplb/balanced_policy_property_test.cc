// The balanced policy's promises over thousands of random configurations (seeded): per layer never
// worse than the deepseek plan when that plan has no duplicate, no expert twice on a GPU, every
// expert placed, never below the lower bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb {
namespace {

constexpr int kConfigurations = 2000;
// The most slots of one configuration beyond the experts (at least 256 in all): keeps the sweep
// within seconds in a Debug build.
constexpr int kMostExtraSlots = 64;

// One random planning problem and how its loads were drawn.
struct RandomCase {
  LoadMatrix loads;
  PlanParameters parameters;
  std::string skew;
};

int uniform_int(std::mt19937_64& rng, int low, int high) {
  return std::uniform_int_distribution<int>(low, high)(rng);
}

// Loads of one layer: equal, uniform, integer, lognormal (sigma up to 3) or Zipf-like.
std::vector<float> random_loads(std::mt19937_64& rng, int experts, std::string& skew) {
  std::vector<float> loads(static_cast<std::size_t>(experts));
  switch (uniform_int(rng, 0, 4)) {
    case 0:
      skew = "equal";
      std::fill(loads.begin(), loads.end(), 7.0f);
      break;
    case 1: {
      skew = "uniform";
      std::uniform_real_distribution<float> draw(0.5f, 1.5f);
      for (float& x : loads) x = draw(rng);
      break;
    }
    case 2: {
      skew = "integer";
      for (float& x : loads) x = static_cast<float>(uniform_int(rng, 0, 6));
      break;
    }
    case 3: {
      const float sigma = std::uniform_real_distribution<float>(0.25f, 3.0f)(rng);
      skew = "lognormal sigma " + std::to_string(sigma);
      std::lognormal_distribution<float> draw(0.0f, sigma);
      for (float& x : loads) x = draw(rng);
      break;
    }
    default: {
      const double exponent = std::uniform_real_distribution<double>(0.5, 2.0)(rng);
      skew = "zipf " + std::to_string(exponent);
      std::vector<int> rank(loads.size());
      std::iota(rank.begin(), rank.end(), 1);
      std::shuffle(rank.begin(), rank.end(), rng);
      for (std::size_t e = 0; e < loads.size(); ++e) {
        loads[e] = static_cast<float>(1000.0 / std::pow(rank[e], exponent));
      }
    }
  }
  return loads;
}

std::vector<int> divisors(int n) {
  std::vector<int> result;
  for (int d = 1; d <= n; ++d) {
    if (n % d == 0) result.push_back(d);
  }
  return result;
}

// A configuration the balanced policy accepts: experts 8..512, groups dividing them (divisible
// by the nodes or not), 1..16 nodes, 1..16 replicas per GPU, at most max(256, experts +
// kMostExtraSlots) slots.
RandomCase random_case(std::mt19937_64& rng) {
  while (true) {
    const int experts = static_cast<int>(std::exp2(std::uniform_real_distribution<>(3, 9)(rng)));
    const std::vector<int> group_counts = divisors(experts);
    PlanParameters p;
    p.groups = group_counts[uniform_int(rng, 0, static_cast<int>(group_counts.size()) - 1)];
    const bool nodes_divide_groups = uniform_int(rng, 0, 2) != 0;
    if (nodes_divide_groups) {
      std::vector<int> node_counts = divisors(p.groups);
      node_counts.erase(
          std::remove_if(node_counts.begin(), node_counts.end(), [](int n) { return n > 16; }),
          node_counts.end());
      p.nodes = node_counts[uniform_int(rng, 0, static_cast<int>(node_counts.size()) - 1)];
    } else {
      p.nodes = uniform_int(rng, 1, 16);
    }
    const int per_gpu = uniform_int(rng, 1, 16);
    // GPUs per node: the fewest that give every expert a slot, plus a few.
    const int least = (experts + p.nodes * per_gpu - 1) / (p.nodes * per_gpu);
    p.gpus = p.nodes * (least + uniform_int(rng, 0, 2));
    p.replicas = p.gpus * per_gpu;
    const int experts_per_partition = keeps_groups_on_nodes(p) ? experts / p.nodes : experts;
    if (p.replicas > std::max(256, experts + kMostExtraSlots) || experts_per_partition < per_gpu)
      continue;
    RandomCase c;
    c.parameters = p;
    const std::vector<float> row = random_loads(rng, experts, c.skew);
    c.loads = Eigen::Map<const LoadMatrix>(row.data(), 1, experts);
    return c;
  }
}

std::string describe(const RandomCase& c) {
  const PlanParameters& p = c.parameters;
  return std::to_string(c.loads.cols()) + " experts, " + std::to_string(p.replicas) +
         " replicas, " + std::to_string(p.groups) + " groups, " + std::to_string(p.nodes) +
         " nodes, " + std::to_string(p.gpus) + " GPUs, " + c.skew;
}

TEST(PlanBalancedProperty, KeepsItsPromisesOnThousandsOfRandomConfigurations) {
  std::mt19937_64 rng(20240601);
  int deepseek_duplicate_layers = 0, worse_than_stacked_deepseek = 0;
  double worst_ratio = 1.0;
  for (int i = 0; i < kConfigurations; ++i) {
    const RandomCase c = random_case(rng);
    SCOPED_TRACE("configuration " + std::to_string(i) + ": " + describe(c));
    const PlanParameters& p = c.parameters;
    const PlanProblem problem = make_plan_problem(c.loads, p);
    const SlotTable balanced = plan_balanced(problem);
    const SlotTable deepseek = plan_deepseek(problem);
    ASSERT_EQ(duplicate_copies_on_gpus(balanced, p.gpus), 0);
    const std::vector<int> row = balanced.layer_row(0);
    for (int e = 0; e < problem.num_experts(); ++e) {
      ASSERT_NE(std::find(row.begin(), row.end(), e), row.end()) << "expert " << e;
    }
    const LayerStatistics ours = placement_statistics(balanced, problem)[0];
    const double theirs = placement_statistics(deepseek, problem)[0].max_gpu_load;
    ASSERT_GE(ours.max_gpu_load, ours.lower_bound.value() * (1 - 1e-9));
    if (duplicate_copies_on_gpus(deepseek, p.gpus) == 0) {
      ASSERT_LE(ours.max_gpu_load, theirs);
    } else {
      ++deepseek_duplicate_layers;
      worse_than_stacked_deepseek += ours.max_gpu_load > theirs;
      worst_ratio = std::max(worst_ratio, ours.max_gpu_load / theirs);
    }
  }
  std::printf(
      "%d configurations; deepseek stacked copies of an expert on a GPU in %d, where "
      "balanced was worse in %d (by up to %.2f%%)\n",
      kConfigurations, deepseek_duplicate_layers, worse_than_stacked_deepseek,
      100.0 * (worst_ratio - 1.0));
}

}  // namespace
}  // namespace dualpipe::eplb
