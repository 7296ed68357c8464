#include "dualpipe/eplb/lower_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

namespace dualpipe::eplb {
namespace {

TEST(MinMaxLoadPerCopy, FollowsTheGreedySplitForEveryReplicaCount) {
  // 2 experts: 8 and 2. Copies 2 -> max 8; 3 -> 4; 4 -> 8/3; 5 -> 2 (8/4 = 2 = 2/1).
  const auto m = min_max_load_per_copy({8.0f, 2.0f}, 5, 10);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_DOUBLE_EQ(m[0], 8.0);
  EXPECT_DOUBLE_EQ(m[1], 4.0);
  EXPECT_DOUBLE_EQ(m[2], 8.0 / 3.0);
  EXPECT_DOUBLE_EQ(m[3], 2.0);
}

TEST(MinMaxLoadPerCopy, RespectsTheCopyCap) {
  EXPECT_DOUBLE_EQ(min_max_load_per_copy({8.0f, 2.0f}, 5, 2).back(), 4.0);
}

TEST(LayerLowerBound, IsTheMeanGpuLoadForEvenLoads) {
  const LayerLowerBound bound = layer_lower_bound(std::vector<float>(8, 1.0f), {8, 1, 1, 4});
  EXPECT_DOUBLE_EQ(bound.basic, 2.0);
  EXPECT_DOUBLE_EQ(bound.value(), 2.0);
  EXPECT_EQ(bound.hierarchical, 0.0);
}

// The best max GPU load over all placements of tiny layers, by exhaustive search: copies assigned
// to GPUs slot by slot, never two copies of an expert on one GPU.
double exhaustive_best(const std::vector<float>& loads, int gpus, int slots_per_gpu) {
  const int experts = static_cast<int>(loads.size());
  std::vector<int> copies(loads.size(), 0);
  std::vector<std::vector<int>> gpu(static_cast<std::size_t>(gpus));
  double best = 1e300;
  std::function<void(int)> place = [&](int slot) {
    if (slot == gpus * slots_per_gpu) {
      for (int c : copies) {
        if (c == 0) return;
      }
      double worst = 0.0;
      for (const auto& held : gpu) {
        double load = 0.0;
        for (int e : held) load += static_cast<double>(loads[e]) / copies[e];
        worst = std::max(worst, load);
      }
      best = std::min(best, worst);
      return;
    }
    auto& held = gpu[slot / slots_per_gpu];
    for (int e = held.empty() ? 0 : held.back() + 1; e < experts; ++e) {
      held.push_back(e);
      ++copies[e];
      place(slot + 1);
      --copies[e];
      held.pop_back();
    }
  };
  place(0);
  return best;
}

TEST(LowerBounds, HoldsTheBoundOfEveryLayer) {
  LoadMatrix loads(2, 4);
  loads << 9, 1, 1, 1,  //
      1, 2, 3, 4;
  const PlanParameters p{8, 2, 2, 4};
  const std::vector<LayerLowerBound> bounds = lower_bounds(make_plan_problem(loads, p));
  ASSERT_EQ(bounds.size(), 2u);
  for (int layer = 0; layer < 2; ++layer) {
    const LayerLowerBound expected = layer_lower_bound(layer_loads(loads, layer), p);
    EXPECT_EQ(bounds[layer].basic, expected.basic);
    EXPECT_EQ(bounds[layer].global, expected.global);
    EXPECT_EQ(bounds[layer].hierarchical, expected.hierarchical);
  }
  EXPECT_GT(bounds[0].value(), bounds[1].value());
}

TEST(LayerLowerBound, NeverExceedsTheBestPlacementOfTinyLayers) {
  std::mt19937 rng(3);
  int slot_bound_tighter = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int experts = 3 + static_cast<int>(rng() % 3);
    const int gpus = 2 + static_cast<int>(rng() % 2);
    const int slots = 2;
    if (gpus * slots < experts) continue;
    std::vector<float> loads;
    for (int e = 0; e < experts; ++e) loads.push_back(static_cast<float>(1 + rng() % 20));
    const LayerLowerBound bound = layer_lower_bound(loads, {gpus * slots, 1, 1, gpus});
    const double best = exhaustive_best(loads, gpus, slots);
    EXPECT_LE(bound.value(), best * (1 + 1e-12)) << "trial " << trial;
    EXPECT_GE(bound.global, bound.basic);
    slot_bound_tighter += bound.global > bound.basic;
  }
  EXPECT_GT(slot_bound_tighter, 0);
}

TEST(LayerLowerBound, CountsTheHeaviestNodeWhenGroupsStayOnNodes) {
  // Groups (2 experts each): 10, 2, 1, 1 on 2 nodes x 1 GPU: best pairing 10+1 = 11 per GPU.
  const LayerLowerBound bound =
      layer_lower_bound({5, 5, 1, 1, 0.5f, 0.5f, 0.5f, 0.5f}, {8, 4, 2, 2});
  EXPECT_GT(bound.hierarchical, bound.global);
  EXPECT_DOUBLE_EQ(bound.hierarchical, 11.0);
}

}  // namespace
}  // namespace dualpipe::eplb
