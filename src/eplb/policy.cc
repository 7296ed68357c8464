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

std::string to_string(Policy policy) { return policy == Policy::kDeepseek ? "deepseek" : "balanced"; }

Placement plan(const LoadMatrix& loads, const PlanParameters& parameters, Policy policy) {
  return policy == Policy::kDeepseek ? plan_deepseek(loads, parameters) : plan_balanced(loads, parameters);
}

SlotTable plan_slots(const LoadMatrix& loads, const PlanParameters& parameters, Policy policy) {
  return policy == Policy::kDeepseek ? plan_deepseek_slots(loads, parameters)
                                     : to_slot_table(plan_balanced(loads, parameters));
}

std::vector<int> plan_layer(const std::vector<float>& loads, const PlanParameters& parameters,
                            Policy policy) {
  return policy == Policy::kDeepseek ? plan_deepseek_layer(loads, parameters).phy2log
                                     : plan_balanced_layer(loads, parameters);
}

}  // namespace dualpipe::eplb
