// Plans expert replicas from a load log with the dualpipe::eplb library: read a CSV time series,
// smooth it with an exponential moving average, plan with both policies and compare them per layer.
//   plan_experts [examples/data/expert_loads.csv]
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "dualpipe/eplb/aggregation.h"
#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/load_reader.h"
#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/statistics.h"

int main(int argc, char** argv) {
  namespace eplb = dualpipe::eplb;
  const std::string path = argc > 1 ? argv[1] : DUALPIPE_EXAMPLE_DATA "/expert_loads.csv";
  std::ifstream in(path, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    const eplb::LoadSeries series = eplb::parse_loads(content, path);
    const eplb::LoadMatrix loads = eplb::aggregate(series, eplb::parse_aggregation("ema:0.3"));
    // 64 experts in 8 groups, 80 replicas on 16 GPUs (5 per GPU) of 2 nodes.
    const eplb::PlanParameters parameters{80, 8, 2, 16};
    const eplb::PlanProblem problem = eplb::make_plan_problem(loads, parameters);
    const eplb::SlotTable balanced = eplb::plan_balanced(problem);
    const eplb::SlotTable deepseek = eplb::plan_deepseek(problem);
    const auto ours = eplb::placement_statistics(balanced, problem);
    const auto theirs = eplb::placement_statistics(deepseek, problem);
    std::printf("layer  bound      balanced   deepseek   (max GPU load)\n");
    for (std::size_t l = 0; l < ours.size(); ++l) {
      std::printf("%-6zu %-10.1f %-10.1f %-10.1f\n", l, ours[l].lower_bound.value(),
                  ours[l].max_gpu_load, theirs[l].max_gpu_load);
    }
    std::printf("duplicate copies on a GPU: balanced %d, deepseek %d\n",
                eplb::duplicate_copies_on_gpus(balanced, parameters.gpus),
                eplb::duplicate_copies_on_gpus(deepseek, parameters.gpus));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "plan_experts: %s: %s\n", path.c_str(), error.what());
    return 2;
  }
  return 0;
}
