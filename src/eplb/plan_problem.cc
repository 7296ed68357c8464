#include "dualpipe/eplb/plan_problem.h"

namespace dualpipe::eplb {

PlanProblem make_plan_problem(LoadMatrix loads, const PlanParameters& parameters) {
  validate_loads(loads);
  validate_parameters(parameters, static_cast<int>(loads.cols()));
  return PlanProblem(std::move(loads), parameters);
}

}  // namespace dualpipe::eplb
