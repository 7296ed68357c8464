#include "node_partitions.h"

#include <algorithm>
#include <numeric>

namespace dualpipe::eplb::detail {

int num_node_partitions(const PlanParameters& p) { return keeps_groups_on_nodes(p) ? p.nodes : 1; }

std::vector<int> assign_groups_to_nodes(const std::vector<double>& group_loads, int num_nodes) {
  const int num_groups = static_cast<int>(group_loads.size());
  const int per_node = num_groups / num_nodes;
  std::vector<int> order(group_loads.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return group_loads[a] > group_loads[b]; });
  std::vector<int> node_of(group_loads.size());
  std::vector<double> node_load(static_cast<std::size_t>(num_nodes), 0.0);
  std::vector<int> node_count(static_cast<std::size_t>(num_nodes), 0);
  for (int g : order) {
    int chosen = -1;
    for (int n = 0; n < num_nodes; ++n) {
      if (node_count[n] < per_node && (chosen < 0 || node_load[n] < node_load[chosen])) chosen = n;
    }
    node_of[g] = chosen;
    node_load[chosen] += group_loads[g];
    ++node_count[chosen];
  }
  for (bool improved = true; improved;) {
    improved = false;
    const int heavy =
        static_cast<int>(std::max_element(node_load.begin(), node_load.end()) - node_load.begin());
    double best = node_load[heavy];
    int best_a = -1, best_b = -1;
    for (int a = 0; a < num_groups; ++a) {
      if (node_of[a] != heavy) continue;
      for (int b = 0; b < num_groups; ++b) {
        const double delta = group_loads[a] - group_loads[b];
        if (node_of[b] == heavy || delta <= 0.0) continue;
        const double value = std::max(node_load[heavy] - delta, node_load[node_of[b]] + delta);
        if (value < best * (1.0 - 1e-12)) {
          best = value;
          best_a = a;
          best_b = b;
        }
      }
    }
    if (best_a >= 0) {
      const double delta = group_loads[best_a] - group_loads[best_b];
      node_load[heavy] -= delta;
      node_load[node_of[best_b]] += delta;
      std::swap(node_of[best_a], node_of[best_b]);
      improved = true;
    }
  }
  return node_of;
}

std::vector<std::vector<int>> experts_per_partition(const std::vector<float>& loads,
                                                    const PlanParameters& p) {
  const int partitions = num_node_partitions(p);
  std::vector<std::vector<int>> experts(static_cast<std::size_t>(partitions));
  if (partitions == 1) {
    experts[0].resize(loads.size());
    std::iota(experts[0].begin(), experts[0].end(), 0);
    return experts;
  }
  const std::size_t group_size = loads.size() / static_cast<std::size_t>(p.groups);
  std::vector<double> group_loads(static_cast<std::size_t>(p.groups), 0.0);
  for (std::size_t e = 0; e < loads.size(); ++e) group_loads[e / group_size] += loads[e];
  const std::vector<int> node_of = assign_groups_to_nodes(group_loads, p.nodes);
  for (std::size_t e = 0; e < loads.size(); ++e) {
    experts[node_of[e / group_size]].push_back(static_cast<int>(e));
  }
  return experts;
}

}  // namespace dualpipe::eplb::detail
