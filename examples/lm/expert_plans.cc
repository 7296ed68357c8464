#include "expert_plans.h"

#include <algorithm>
#include <numeric>

#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/policy.h"
#include "dualpipe/eplb/statistics.h"

namespace lm {

namespace eplb = dualpipe::eplb;

namespace {

std::vector<float> as_loads(const std::vector<int64_t>& tokens) {
  return std::vector<float>(tokens.begin(), tokens.end());
}

}  // namespace

ExpertPlans::ExpertPlans(int layers, int experts, int slots, int gpus, int groups)
    : experts_(experts),
      slots_(slots),
      gpus_(gpus),
      groups_(groups),
      table_(eplb::trivial_placement(layers, experts, slots)) {}

dualpipe::moe::ExpertPlacement ExpertPlans::placement(int layer) const {
  return dualpipe::moe::ExpertPlacement(table_.layer_row(layer), experts_, gpus_);
}

double ExpertPlans::balance(const ExpertTokens& tokens) const {
  double sum = 0.0;
  for (int layer = 0; layer < table_.num_layers; ++layer) {
    const std::vector<double> gpu = eplb::gpu_loads(
        table_.layer_row(layer), as_loads(tokens[static_cast<std::size_t>(layer)]), gpus_);
    const double mean = std::accumulate(gpu.begin(), gpu.end(), 0.0) / gpus_;
    sum += mean > 0 ? *std::max_element(gpu.begin(), gpu.end()) / mean : 1.0;
  }
  return table_.num_layers > 0 ? sum / table_.num_layers : 1.0;
}

int ExpertPlans::replan(const ExpertTokens& tokens) {
  eplb::LoadMatrix loads(table_.num_layers, experts_);
  for (int layer = 0; layer < table_.num_layers; ++layer) {
    for (int e = 0; e < experts_; ++e)
      loads(layer, e) = static_cast<float>(tokens[static_cast<std::size_t>(layer)][static_cast<std::size_t>(e)]);
  }
  eplb::PlanParameters parameters;
  parameters.replicas = slots_;
  parameters.groups = groups_;
  parameters.gpus = gpus_;
  const eplb::SlotTable planned =
      eplb::plan(eplb::make_plan_problem(loads, parameters), eplb::Policy::kBalanced);
  const int moved = eplb::replicas_moved(table_, planned);
  table_ = planned;
  return moved;
}

void ExpertPlans::restore(const std::vector<std::vector<int>>& phy2log) {
  table_ = eplb::slot_table_from_phy2log(phy2log, experts_);
}

}  // namespace lm
