// The `balanced` policy (the default): placements close to the lower bound, one copy per GPU at
// most.
#pragma once

#include <vector>

#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// Plans every layer: copy counts that minimise the largest load per copy (at most one copy per
// GPU), copies packed heaviest first onto the lightest GPU that lacks that expert, then local
// search (swaps between GPUs, moving a copy from one expert to another) until no change lowers the
// heaviest GPU. When groups stay on nodes (keeps_groups_on_nodes) groups are first spread over
// nodes (equal counts, balanced load) and each node is planned on its own GPUs. Each layer is also
// compared with the deepseek plan refined the same way, so no layer's largest GPU load exceeds the
// deepseek policy's. No GPU holds two copies of one expert. Each expert's copies are numbered in
// ascending slot order. Throws std::invalid_argument as check_balanced_feasible does.
SlotTable plan_balanced(const PlanProblem& problem);

// Throws std::invalid_argument when a node (or, without nodes, the layer) has fewer experts than a
// GPU has slots, so that the balanced policy could not avoid two copies of an expert on one GPU.
void check_balanced_feasible(const PlanProblem& problem);

// plan_balanced for one layer of the problem: returns phy2log [replicas].
std::vector<int> plan_balanced_layer(const PlanProblem& problem, int layer);

}  // namespace dualpipe::eplb
