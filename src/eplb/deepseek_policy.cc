#include "dualpipe/eplb/deepseek_policy.h"

#include <algorithm>

#include "dualpipe/eplb/packing.h"
#include "dualpipe/eplb/replication.h"

namespace dualpipe::eplb {
namespace {

std::vector<int> inverse(const std::vector<int>& permutation) {
  std::vector<int> inverted(permutation.size());
  for (std::size_t i = 0; i < permutation.size(); ++i) inverted[permutation[i]] = static_cast<int>(i);
  return inverted;
}

// Sum of each group's loads, exact then rounded once to float32.
std::vector<float> group_loads(const std::vector<float>& loads, int num_groups) {
  const std::size_t group_size = loads.size() / static_cast<std::size_t>(num_groups);
  std::vector<float> sums(static_cast<std::size_t>(num_groups));
  for (int g = 0; g < num_groups; ++g) {
    double sum = 0.0;
    for (std::size_t i = 0; i < group_size; ++i) sum += loads[g * group_size + i];
    sums[g] = static_cast<float>(sum);
  }
  return sums;
}

}  // namespace

DeepseekLayerPlan plan_deepseek_layer(const std::vector<float>& loads, const PlanParameters& p) {
  const bool hierarchical = deepseek_is_hierarchical(p);
  const int num_groups = hierarchical ? p.groups : 1;
  const int num_nodes = hierarchical ? p.nodes : 1;
  const int num_experts = static_cast<int>(loads.size());
  const int group_size = num_experts / num_groups;
  const int groups_per_node = num_groups / num_nodes;
  const int experts_per_node = num_experts / num_nodes;
  const int replicas_per_node = p.replicas / num_nodes;
  const int gpus_per_node = p.gpus / num_nodes;
  const int replicas_per_gpu = p.replicas / p.gpus;

  // Step 1: groups onto nodes. Node-major numbering ("mlog") of the logical experts.
  const PackAssignment group_packing = pack_like_reference(group_loads(loads, num_groups), num_nodes);
  std::vector<int> log2mlog(loads.size());
  for (int e = 0; e < num_experts; ++e) {
    const int g = e / group_size;
    log2mlog[e] = (group_packing.pack[g] * groups_per_node + group_packing.rank_in_pack[g]) *
                      group_size + e % group_size;
  }
  const std::vector<int> mlog2log = inverse(log2mlog);

  DeepseekLayerPlan plan{std::vector<int>(static_cast<std::size_t>(p.replicas)),
                         std::vector<int>(static_cast<std::size_t>(p.replicas))};
  for (int node = 0; node < num_nodes; ++node) {
    // Step 2: replicate within the node.
    std::vector<float> node_loads(static_cast<std::size_t>(experts_per_node));
    for (int m = 0; m < experts_per_node; ++m) node_loads[m] = loads[mlog2log[node * experts_per_node + m]];
    const Replication replication = replicate_in_order(node_loads, replicas_per_node);
    // Step 3: the node's replicas onto its GPUs, by load per copy.
    std::vector<float> replica_loads(static_cast<std::size_t>(replicas_per_node));
    for (int r = 0; r < replicas_per_node; ++r) {
      const int m = replication.phy2log[r];
      replica_loads[r] = node_loads[m] / static_cast<float>(replication.count[m]);
    }
    const PackAssignment gpu_packing = pack_like_reference(replica_loads, gpus_per_node);
    for (int r = 0; r < replicas_per_node; ++r) {
      const int slot = node * replicas_per_node + gpu_packing.pack[r] * replicas_per_gpu +
                       gpu_packing.rank_in_pack[r];
      plan.phy2log[slot] = mlog2log[node * experts_per_node + replication.phy2log[r]];
      plan.rank[slot] = replication.rank[r];
    }
  }
  return plan;
}

Placement plan_deepseek(const LoadMatrix& loads, const PlanParameters& parameters) {
  validate_loads(loads);
  const int num_experts = static_cast<int>(loads.cols());
  validate_parameters(parameters, num_experts);
  std::vector<DeepseekLayerPlan> layers;
  layers.reserve(static_cast<std::size_t>(loads.rows()));
  for (int layer = 0; layer < loads.rows(); ++layer) {
    layers.push_back(plan_deepseek_layer(layer_loads(loads, layer), parameters));
  }
  Placement placement;
  int max_copies = 0;
  for (auto& layer : layers) {
    std::vector<int> count(static_cast<std::size_t>(num_experts), 0);
    for (int expert : layer.phy2log) max_copies = std::max(max_copies, ++count[expert]);
    placement.logcnt.push_back(std::move(count));
  }
  for (auto& layer : layers) {
    std::vector<std::vector<int>> log2phy(static_cast<std::size_t>(num_experts),
                                          std::vector<int>(static_cast<std::size_t>(max_copies), -1));
    for (std::size_t slot = 0; slot < layer.phy2log.size(); ++slot) {
      log2phy[layer.phy2log[slot]][layer.rank[slot]] = static_cast<int>(slot);
    }
    placement.log2phy.push_back(std::move(log2phy));
    placement.phy2log.push_back(std::move(layer.phy2log));
  }
  return placement;
}

}  // namespace dualpipe::eplb
