// Policy: choosing between the planning policies by name.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// The planning policies: kBalanced (plan_balanced, the default) and kDeepseek (plan_deepseek).
enum class Policy { kBalanced, kDeepseek };

// Parses "balanced" or "deepseek"; throws std::invalid_argument otherwise.
Policy parse_policy(const std::string& name);
std::string to_string(Policy policy);

// Plans all layers with `policy`.
Placement plan(const LoadMatrix& loads, const PlanParameters& parameters, Policy policy);

// plan() as a SlotTable (the deepseek policy fills it directly, without the nested log2phy).
SlotTable plan_slots(const LoadMatrix& loads, const PlanParameters& parameters, Policy policy);

// Plans one layer with `policy`; returns phy2log [replicas] (parameters assumed valid).
std::vector<int> plan_layer(const std::vector<float>& loads, const PlanParameters& parameters,
                            Policy policy);

}  // namespace dualpipe::eplb
