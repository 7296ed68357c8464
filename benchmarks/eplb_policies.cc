// Planner speed on realistic inputs: 58 MoE layers x 256 experts (DeepSeek-V3 shape) with lognormal
// loads, 288 replicas, in the hierarchical (8 groups, 4 nodes, 32 GPUs) and the global (144 GPUs) case.
// Counters report the mean gap to the lower bound. Run: build/release/benchmarks/eplb_policies
#include <benchmark/benchmark.h>

#include <random>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/statistics.h"

namespace {

using dualpipe::eplb::LoadMatrix;
using dualpipe::eplb::PlanParameters;

LoadMatrix deepseek_v3_loads() {
  std::mt19937 rng(1);
  std::lognormal_distribution<float> draw(0.0f, 1.0f);
  LoadMatrix loads(58, 256);
  for (int l = 0; l < loads.rows(); ++l) {
    for (int e = 0; e < loads.cols(); ++e) loads(l, e) = draw(rng);
  }
  return loads;
}

const PlanParameters kHierarchical{288, 8, 4, 32};
const PlanParameters kGlobal{288, 8, 3, 144};

template <typename Policy>
void run(benchmark::State& state, Policy policy, const PlanParameters& parameters) {
  const LoadMatrix loads = deepseek_v3_loads();
  dualpipe::eplb::Placement placement;
  for (auto _ : state) {
    placement = policy(loads, parameters);
    benchmark::DoNotOptimize(placement);
  }
  double gap = 0.0;
  for (const auto& s : dualpipe::eplb::placement_statistics(placement, loads, parameters)) {
    gap += s.gap();
  }
  state.counters["mean_gap"] = gap / loads.rows();
}

void BM_DeepseekHierarchical(benchmark::State& s) { run(s, dualpipe::eplb::plan_deepseek, kHierarchical); }
void BM_DeepseekGlobal(benchmark::State& s) { run(s, dualpipe::eplb::plan_deepseek, kGlobal); }
void BM_BalancedHierarchical(benchmark::State& s) { run(s, dualpipe::eplb::plan_balanced, kHierarchical); }
void BM_BalancedGlobal(benchmark::State& s) { run(s, dualpipe::eplb::plan_balanced, kGlobal); }

BENCHMARK(BM_DeepseekHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedGlobal)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
