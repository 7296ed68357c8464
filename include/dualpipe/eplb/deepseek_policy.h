// The `deepseek` policy: the published EPLB algorithm, reproduced output for output.
#pragma once

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// The reference's rebalance_experts: hierarchical (groups packed onto nodes, experts replicated within
// each node, replicas packed onto the node's GPUs) when nodes divide groups, else the same with one
// group and one node. Returns exactly the reference's phy2log, log2phy (-1 padded) and logcnt,
// computing in float32 and breaking ties as it does (see torch_descending_order; argmax and the pack
// choice take the lower index). Group loads are summed exactly and rounded to float32 once, which equals
// the reference's float32 sum whenever that sum is exact (e.g. integer token counts below 2^24).
// Two copies of one expert may share a GPU, as in the reference. Throws std::invalid_argument on
// invalid loads or parameters.
Placement plan_deepseek(const LoadMatrix& loads, const PlanParameters& parameters);

// plan_deepseek as a SlotTable (copy numbers are the reference's replica ranks), without building
// the nested log2phy.
SlotTable plan_deepseek_slots(const LoadMatrix& loads, const PlanParameters& parameters);

// One layer of plan_deepseek: phy2log and the copy rank of each slot.
struct DeepseekLayerPlan {
  std::vector<int> phy2log;  // [replicas]
  std::vector<int> rank;     // [replicas]: the slot's copy number among its expert's copies
};

// plan_deepseek for a single layer's loads (parameters assumed valid).
DeepseekLayerPlan plan_deepseek_layer(const std::vector<float>& loads,
                                      const PlanParameters& parameters);

}  // namespace dualpipe::eplb
