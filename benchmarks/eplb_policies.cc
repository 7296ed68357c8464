// Planner speed on realistic inputs: 58 MoE layers x 256 experts (DeepSeek-V3 shape) with lognormal
// loads, 288 replicas, in the hierarchical (8 groups, 4 nodes, 32 GPUs) and the global (144 GPUs)
// case. Counters report the mean gap to the lower bound. The per-layer statistics (with the lower
// bounds) and the JSON plan writer are timed too: with the policy they are eplb-plan's work besides
// reading the loads. Run: build/release/benchmarks/eplb_policies
#include <benchmark/benchmark.h>

#include <random>
#include <string_view>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_formats.h"
#include "dualpipe/eplb/statistics.h"

namespace {

using dualpipe::eplb::LoadMatrix;
using dualpipe::eplb::make_plan_problem;
using dualpipe::eplb::PlanParameters;
using dualpipe::eplb::PlanProblem;

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
  const PlanProblem problem = make_plan_problem(deepseek_v3_loads(), parameters);
  dualpipe::eplb::SlotTable table;
  for (auto _ : state) {
    table = policy(problem);
    benchmark::DoNotOptimize(table);
  }
  double gap = 0.0;
  for (const auto& s : dualpipe::eplb::placement_statistics(table, problem)) gap += s.gap();
  state.counters["mean_gap"] = gap / problem.num_layers();
}

void BM_DeepseekHierarchical(benchmark::State& s) {
  run(s, dualpipe::eplb::plan_deepseek, kHierarchical);
}
void BM_DeepseekGlobal(benchmark::State& s) { run(s, dualpipe::eplb::plan_deepseek, kGlobal); }
void BM_BalancedHierarchical(benchmark::State& s) {
  run(s, dualpipe::eplb::plan_balanced, kHierarchical);
}
void BM_BalancedGlobal(benchmark::State& s) { run(s, dualpipe::eplb::plan_balanced, kGlobal); }

// The deepseek plan converted to the reference's nested shape (phy2log, log2phy, logcnt vectors).
void run_nested(benchmark::State& state, const PlanParameters& parameters) {
  const PlanProblem problem = make_plan_problem(deepseek_v3_loads(), parameters);
  for (auto _ : state) {
    dualpipe::eplb::Placement placement =
        dualpipe::eplb::to_placement(dualpipe::eplb::plan_deepseek(problem));
    benchmark::DoNotOptimize(placement);
  }
}

void BM_DeepseekNestedHierarchical(benchmark::State& s) { run_nested(s, kHierarchical); }
void BM_DeepseekNestedGlobal(benchmark::State& s) { run_nested(s, kGlobal); }

// placement_statistics and write_plan (JSON, to a sink that only counts bytes) of the deepseek
// plan.
void BM_StatisticsAndJsonHierarchical(benchmark::State& state) {
  const PlanProblem problem = make_plan_problem(deepseek_v3_loads(), kHierarchical);
  dualpipe::eplb::PlanDocument document;
  document.parameters = kHierarchical;
  document.policy = "deepseek";
  document.slots = dualpipe::eplb::plan_deepseek(problem);
  std::size_t bytes = 0;
  for (auto _ : state) {
    document.statistics = dualpipe::eplb::placement_statistics(
        document.slots, problem, dualpipe::eplb::lower_bounds(problem));
    dualpipe::eplb::write_plan(document, dualpipe::eplb::PlanFormat::kJson,
                               [&](std::string_view piece) { bytes += piece.size(); });
  }
  state.counters["json_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_DeepseekHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekNestedHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeepseekNestedGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BalancedGlobal)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StatisticsAndJsonHierarchical)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
