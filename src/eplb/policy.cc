#include "dualpipe/eplb/policy.h"

#include <stdexcept>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/deepseek_policy.h"

namespace dualpipe::eplb {

Policy parse_policy(const std::string& name) {
  if (name == "balanced") return Policy::kBalanced;
  if (name == "deepseek") return Policy::kDeepseek;
  throw std::invalid_argument("--policy '" + name + "': expected balanced or deepseek");
}

std::string to_string(Policy policy) {
  return policy == Policy::kDeepseek ? "deepseek" : "balanced";
}

SlotTable plan(const PlanProblem& problem, Policy policy) {
  return policy == Policy::kDeepseek ? plan_deepseek(problem) : plan_balanced(problem);
}

std::vector<int> plan_layer(const PlanProblem& problem, int layer, Policy policy) {
  return policy == Policy::kDeepseek ? plan_deepseek_layer(problem, layer).phy2log
                                     : plan_balanced_layer(problem, layer);
}

}  // namespace dualpipe::eplb
