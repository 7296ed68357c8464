// PlanProblem: the loads and parameters of a plan, checked once where a caller enters the library.
#pragma once

#include <utility>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/plan_parameters.h"

namespace dualpipe::eplb {

// Loads [layers, experts] and parameters that passed validate_loads and validate_parameters. The
// planners, bounds and statistics take it and check neither again. Made by make_plan_problem.
class PlanProblem {
 public:
  const LoadMatrix& loads() const { return loads_; }
  const PlanParameters& parameters() const { return parameters_; }
  int num_layers() const { return static_cast<int>(loads_.rows()); }
  int num_experts() const { return static_cast<int>(loads_.cols()); }
  // The loads of `layer`, [experts], contiguous.
  const float* layer_data(int layer) const { return loads_.data() + layer * loads_.cols(); }

 private:
  friend PlanProblem make_plan_problem(LoadMatrix loads, const PlanParameters& parameters);
  PlanProblem(LoadMatrix loads, const PlanParameters& parameters)
      : loads_(std::move(loads)), parameters_(parameters) {}

  LoadMatrix loads_;
  PlanParameters parameters_;
};

// Checks `loads` (validate_loads), then `parameters` for its number of experts
// (validate_parameters). Throws std::invalid_argument with their one-line messages.
PlanProblem make_plan_problem(LoadMatrix loads, const PlanParameters& parameters);

}  // namespace dualpipe::eplb
