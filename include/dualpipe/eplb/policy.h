// Policy: choosing between the planning policies by name.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// The planning policies: kBalanced (plan_balanced, the default) and kDeepseek (plan_deepseek).
enum class Policy { kBalanced, kDeepseek };

// Parses "balanced" or "deepseek"; throws std::invalid_argument otherwise.
Policy parse_policy(const std::string& name);
std::string to_string(Policy policy);

// Plans all layers with `policy`.
SlotTable plan(const PlanProblem& problem, Policy policy);

// Plans one layer of the problem with `policy`; returns phy2log [replicas].
std::vector<int> plan_layer(const PlanProblem& problem, int layer, Policy policy);

}  // namespace dualpipe::eplb
