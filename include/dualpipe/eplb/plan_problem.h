// PlanProblem: the loads and parameters of a plan, checked once where a caller enters the library.
#pragma once

#include <cstdint>
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
// (validate_parameters), then that planning fits this machine's memory (plan_memory_bytes against
// the physical memory). Throws std::invalid_argument with a one-line message naming the flag.
PlanProblem make_plan_problem(LoadMatrix loads, const PlanParameters& parameters);

// About how many bytes planning `num_layers` layers of `num_experts` experts takes at its peak:
// the plan's tables and their copies on the way out (16 bytes per slot and layer) and one layer's
// working state (about 128 bytes per slot and expert).
std::uint64_t plan_memory_bytes(int num_layers, int num_experts, const PlanParameters& parameters);

}  // namespace dualpipe::eplb
