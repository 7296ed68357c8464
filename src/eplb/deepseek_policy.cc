#include "dualpipe/eplb/deepseek_policy.h"

#include <algorithm>

#include "reference_steps.h"

namespace dualpipe::eplb {
namespace {

// The shape of one layer's plan.
struct LayerShape {
  int num_experts, num_groups, num_nodes, group_size, groups_per_node, experts_per_node,
      replicas_per_node, gpus_per_node, replicas_per_gpu;

  LayerShape(int experts, const PlanParameters& p) {
    const bool hierarchical = deepseek_is_hierarchical(p);
    num_experts = experts;
    num_groups = hierarchical ? p.groups : 1;
    num_nodes = hierarchical ? p.nodes : 1;
    group_size = experts / num_groups;
    groups_per_node = num_groups / num_nodes;
    experts_per_node = experts / num_nodes;
    replicas_per_node = p.replicas / num_nodes;
    gpus_per_node = p.gpus / num_nodes;
    replicas_per_gpu = p.replicas / p.gpus;
  }
};

// Buffers for planning layer after layer of one shape without allocating.
struct DeepseekScratch {
  explicit DeepseekScratch(const LayerShape& shape)
      : group_loads(shape.num_groups),
        group_node(shape.num_groups),
        group_rank(shape.num_groups),
        mlog2log(shape.num_experts),
        node_loads(shape.experts_per_node),
        replica_expert(shape.replicas_per_node),
        replica_rank(shape.replicas_per_node),
        copies(shape.experts_per_node),
        replica_loads(shape.replicas_per_node),
        replica_gpu(shape.replicas_per_node),
        replica_slot(shape.replicas_per_node) {}

  std::vector<float> group_loads;    // [groups]
  std::vector<int> group_node;       // [groups]: node of each group
  std::vector<int> group_rank;       // [groups]: position of the group on its node
  std::vector<int> mlog2log;         // [experts]: logical expert of each node-major position
  std::vector<float> node_loads;     // [experts per node]
  std::vector<int> replica_expert;   // [replicas per node]: node-local expert of each copy
  std::vector<int> replica_rank;     // [replicas per node]: copy number of each copy
  std::vector<int> copies;           // [experts per node]
  std::vector<float> replica_loads;  // [replicas per node]: load per copy
  std::vector<int> replica_gpu;      // [replicas per node]: GPU (within the node) of each copy
  std::vector<int> replica_slot;     // [replicas per node]: slot on that GPU
  detail::StepScratch steps;
};

// One layer: writes phy2log and the copy rank of each slot, [replicas] each.
void plan_layer(const float* loads, const LayerShape& shape, DeepseekScratch& s, int* phy2log,
                int* rank) {
  // Step 1: groups onto nodes, by group load (summed exactly, rounded once to float32).
  for (int g = 0; g < shape.num_groups; ++g) {
    double sum = 0.0;
    for (int i = 0; i < shape.group_size; ++i) sum += loads[g * shape.group_size + i];
    s.group_loads[g] = static_cast<float>(sum);
  }
  detail::pack_like_reference(s.group_loads.data(), shape.num_groups, shape.num_nodes,
                              s.group_node.data(), s.group_rank.data(), s.steps);
  // Node-major numbering ("mlog") of the logical experts.
  for (int e = 0; e < shape.num_experts; ++e) {
    const int g = e / shape.group_size;
    const int mlog =
        (s.group_node[g] * shape.groups_per_node + s.group_rank[g]) * shape.group_size +
        e % shape.group_size;
    s.mlog2log[mlog] = e;
  }
  for (int node = 0; node < shape.num_nodes; ++node) {
    const int* node_experts = s.mlog2log.data() + node * shape.experts_per_node;
    // Step 2: replicate within the node.
    for (int m = 0; m < shape.experts_per_node; ++m) s.node_loads[m] = loads[node_experts[m]];
    detail::replicate_in_order(s.node_loads.data(), shape.experts_per_node, shape.replicas_per_node,
                               s.replica_expert.data(), s.replica_rank.data(), s.copies.data(),
                               s.steps);
    // Step 3: the node's copies onto its GPUs, by load per copy (float32).
    for (int r = 0; r < shape.replicas_per_node; ++r) {
      const int m = s.replica_expert[r];
      s.replica_loads[r] = s.node_loads[m] / static_cast<float>(s.copies[m]);
    }
    detail::pack_like_reference(s.replica_loads.data(), shape.replicas_per_node,
                                shape.gpus_per_node, s.replica_gpu.data(), s.replica_slot.data(),
                                s.steps);
    for (int r = 0; r < shape.replicas_per_node; ++r) {
      const int slot = node * shape.replicas_per_node + s.replica_gpu[r] * shape.replicas_per_gpu +
                       s.replica_slot[r];
      phy2log[slot] = node_experts[s.replica_expert[r]];
      rank[slot] = s.replica_rank[r];
    }
  }
}

}  // namespace

DeepseekLayerPlan plan_deepseek_layer(const PlanProblem& problem, int layer) {
  const PlanParameters& p = problem.parameters();
  const LayerShape shape(problem.num_experts(), p);
  DeepseekScratch scratch(shape);
  DeepseekLayerPlan plan{std::vector<int>(static_cast<std::size_t>(p.replicas)),
                         std::vector<int>(static_cast<std::size_t>(p.replicas))};
  plan_layer(problem.layer_data(layer), shape, scratch, plan.phy2log.data(), plan.rank.data());
  return plan;
}

SlotTable plan_deepseek(const PlanProblem& problem) {
  const PlanParameters& p = problem.parameters();
  const LayerShape shape(problem.num_experts(), p);
  DeepseekScratch scratch(shape);
  SlotTable table;
  table.num_layers = problem.num_layers();
  table.num_replicas = p.replicas;
  table.num_experts = problem.num_experts();
  const std::size_t slots = static_cast<std::size_t>(table.num_layers) * p.replicas;
  table.phy2log.resize(slots);
  table.copy.resize(slots);
  for (int layer = 0; layer < table.num_layers; ++layer) {
    const std::size_t row = static_cast<std::size_t>(layer) * p.replicas;
    plan_layer(problem.layer_data(layer), shape, scratch, table.phy2log.data() + row,
               table.copy.data() + row);
  }
  return table;
}

}  // namespace dualpipe::eplb
