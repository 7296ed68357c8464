// Planner speed on realistic inputs: 58 MoE layers x 256 experts (DeepSeek-V3 shape) with lognormal
// loads, 288 replicas, in the hierarchical (8 groups, 4 nodes, 32 GPUs) and the global (144 GPUs) case.
// Counters report the mean gap to the lower bound. The per-layer statistics (with the lower bounds) and
// the JSON plan writer are timed too: with the policy they are eplb-plan's work besides reading the
// loads. Run: build/release/benchmarks/eplb_policies
#include <benchmark/benchmark.h>

#include <random>
#include <string_view>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/plan_formats.h"
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

// plan_deepseek_slots: the deepseek plan as eplb-plan builds it (flat tables, no nested log2phy).
void run_slots(benchmark::State& state, const PlanParameters& parameters) {
  const LoadMatrix loads = deepseek_v3_loads();
  for (auto _ : state) {
    dualpipe::eplb::SlotTable table = dualpipe::eplb::plan_deepseek_slots(loads, parameters);
    benchmark::DoNotOptimize(table);
  }
}

void BM_DeepseekSlotsHierarchical(benchmark::State& s) { run_slots(s, kHierarchical); }
void BM_DeepseekSlotsGlobal(benchmark::State& s) { run_slots(s, kGlobal); }

// placement_statistics and write_plan (JSON, to a sink that only counts bytes) of the deepseek plan.
void BM_StatisticsAndJsonHierarchical(benchmark::State& state) {
  const LoadMatrix loads = deepseek_v3_loads();
  dualpipe::eplb::PlanDocument document;
  document.parameters = kHierarchical;
  document.policy = "deepseek";
  document.slots = dualpipe::eplb::plan_deepseek_slots(loads, kHierarchical);
  std::size_t bytes = 0;
  for (auto _ : state) {
    document.statistics = dualpipe::eplb::placement_statistics(
        document.slots, loads, kHierarchical, dualpipe::eplb::lower_bounds(loads, kHierarchical));
    dualpipe::eplb::write_plan(document, dualpipe::eplb::PlanFormat::kJson,
                               [&](std::string_view piece) { bytes += piece.size(); });
  }
  state.counters["json_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_DeepseekHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekSlotsHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekSlotsGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StatisticsAndJsonHierarchical)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
