// The `deepseek` policy: the published EPLB algorithm, reproduced output for output.
#pragma once

#include <vector>

#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// The reference's rebalance_experts: hierarchical (groups packed onto nodes, experts replicated
// within each node, replicas packed onto the node's GPUs) when nodes divide groups, else the same
// with one group and one node. Gives exactly the reference's phy2log, log2phy (-1 padded) and
// logcnt, computing in float32 and breaking ties as it does (see torch_descending_order; argmax and
// the pack choice take the lower index). Group loads are summed exactly and rounded to float32
// once, which equals the reference's float32 sum whenever that sum is exact (e.g. integer token
// counts below 2^24). Two copies of one expert may share a GPU, as in the reference. The table's
// copy numbers are the reference's replica ranks, so to_placement gives its log2phy.
SlotTable plan_deepseek(const PlanProblem& problem);

// One layer of plan_deepseek: phy2log and the copy rank of each slot.
struct DeepseekLayerPlan {
  std::vector<int> phy2log;  // [replicas]
  std::vector<int> rank;     // [replicas]: the slot's copy number among its expert's copies
};

// plan_deepseek for one layer of the problem.
DeepseekLayerPlan plan_deepseek_layer(const PlanProblem& problem, int layer);

}  // namespace dualpipe::eplb
