// Node partitions of the balanced policy: when groups stay on nodes, which experts each node
// plans on its own GPUs. Internal header.
#pragma once

#include <vector>

#include "dualpipe/eplb/plan_parameters.h"

namespace dualpipe::eplb::detail {

// The partitions planned separately: the nodes when groups stay on nodes (keeps_groups_on_nodes),
// else 1. Partition i holds slots [i * replicas / n, (i + 1) * replicas / n) and the GPUs of those.
int num_node_partitions(const PlanParameters& parameters);

// Spreads groups over nodes, groups-per-node each: heaviest group first into the lightest node with
// room, then the swap of two groups between the heaviest node and another that lowers it most,
// while one does (within work_budget of the groups). Returns the node of each group.
std::vector<int> assign_groups_to_nodes(const std::vector<double>& group_loads, int num_nodes);

// The experts of each partition, ascending: all experts for one partition, else the experts of the
// groups that assign_groups_to_nodes puts on each node.
std::vector<std::vector<int>> experts_per_partition(const std::vector<float>& loads,
                                                    const PlanParameters& parameters);

}  // namespace dualpipe::eplb::detail
