#include "dualpipe/eplb/replay.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb {
namespace {

// The loads the planner sees at `end_step`.
LoadMatrix planning_loads(const LoadSeries& series, const ReplayOptions& options, int end_step) {
  Aggregation aggregation = options.aggregation;
  if (aggregation.kind == Aggregation::Kind::kSum || aggregation.kind == Aggregation::Kind::kMean) {
    const bool mean = aggregation.kind == Aggregation::Kind::kMean;
    aggregation.kind = Aggregation::Kind::kWindow;
    aggregation.window = options.interval;
    LoadMatrix window = aggregate(series, aggregation, end_step);
    if (!mean) window *= static_cast<float>(std::min(options.interval, end_step));
    return window;
  }
  return aggregate(series, aggregation, end_step);
}

double mean_balancedness(const SlotTable& placement, const PlanProblem& scored) {
  double sum = 0.0;
  for (const auto& layer : placement_statistics(placement, scored)) sum += layer.balancedness();
  return sum / static_cast<double>(scored.num_layers());
}

}  // namespace

std::vector<ReplayWindow> replay(const LoadSeries& series, const PlanParameters& parameters,
                                 const ReplayOptions& options) {
  validate_series(series);
  validate_parameters(parameters, static_cast<int>(series[0].cols()));
  if (options.interval < 1) {
    throw std::invalid_argument("--interval must be at least 1 (got " +
                                std::to_string(options.interval) + ")");
  }
  const int num_steps = static_cast<int>(series.size());
  SlotTable current = trivial_placement(static_cast<int>(series[0].rows()),
                                        static_cast<int>(series[0].cols()), parameters.replicas);
  std::vector<ReplayWindow> windows;
  for (int start = options.interval; start < num_steps; start += options.interval) {
    const PlanProblem planned_on =
        make_plan_problem(planning_loads(series, options, start), parameters);
    SlotTable next;
    if (options.migration && !windows.empty()) {
      next = replan(planned_on, options.policy, current, *options.migration).placement;
    } else {
      next = plan(planned_on, options.policy);
    }
    ReplayWindow window;
    window.first_step = start;
    window.steps = std::min(options.interval, num_steps - start);
    LoadMatrix scored = LoadMatrix::Zero(series[0].rows(), series[0].cols());
    for (int step = start; step < start + window.steps; ++step) scored += series[step];
    const PlanProblem scored_problem = make_plan_problem(std::move(scored), parameters);
    window.balancedness = mean_balancedness(next, scored_problem);
    window.balancedness_before = mean_balancedness(current, scored_problem);
    window.replicas_moved = replicas_moved(current, next);
    windows.push_back(window);
    current = std::move(next);
  }
  return windows;
}

}  // namespace dualpipe::eplb
