// The shape of an expert placement: replicas, expert groups, nodes and GPUs.
#pragma once

namespace dualpipe::eplb {

// Planning parameters, named as in the reference: `replicas` physical expert slots per layer spread
// evenly over `gpus` GPUs on `nodes` nodes; logical experts form `groups` equal groups.
struct PlanParameters {
  int replicas = 0;
  int groups = 1;
  int nodes = 1;
  int gpus = 1;

  // Physical slots on each GPU.
  int replicas_per_gpu() const { return replicas / gpus; }
  // GPUs on each node.
  int gpus_per_node() const { return gpus / nodes; }
};

// Throws std::invalid_argument naming the offending parameter unless: every count is positive, groups
// divide `num_experts`, GPUs are a multiple of nodes, replicas a multiple of GPUs and at least
// `num_experts`.
void validate_parameters(const PlanParameters& parameters, int num_experts);

// Whether the reference's deepseek policy runs hierarchically (nodes divide the groups).
bool deepseek_is_hierarchical(const PlanParameters& parameters);

// Whether the balanced policy keeps groups on nodes: more than one node, and nodes divide the groups.
bool keeps_groups_on_nodes(const PlanParameters& parameters);

}  // namespace dualpipe::eplb
