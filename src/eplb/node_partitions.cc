#include "node_partitions.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <queue>
#include <utility>

#include "gpu_assignment.h"

namespace dualpipe::eplb::detail {

int num_node_partitions(const PlanParameters& p) { return keeps_groups_on_nodes(p) ? p.nodes : 1; }

std::vector<int> assign_groups_to_nodes(const std::vector<double>& group_loads, int num_nodes) {
  const int per_node = static_cast<int>(group_loads.size()) / num_nodes;
  std::vector<int> order(group_loads.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return group_loads[a] > group_loads[b]; });
  // Nodes with room as (load, node), the lightest (then the lower index) on top.
  using OpenNode = std::pair<double, int>;
  std::priority_queue<OpenNode, std::vector<OpenNode>, std::greater<OpenNode>> open;
  for (int n = 0; n < num_nodes; ++n) open.emplace(0.0, n);
  std::vector<int> node_of(group_loads.size());
  std::vector<double> node_load(static_cast<std::size_t>(num_nodes), 0.0);
  std::vector<int> node_count(static_cast<std::size_t>(num_nodes), 0);
  for (int g : order) {
    const int chosen = open.top().second;
    open.pop();
    node_of[g] = chosen;
    node_load[chosen] += group_loads[g];
    if (++node_count[chosen] < per_node) open.emplace(node_load[chosen], chosen);
  }
  // Each node's groups as (load, group), ascending: a swap's best partner on node m for group a of
  // the heaviest node h is the group nearest to load(a) - (load(h) - load(m)) / 2.
  using Member = std::pair<double, int>;
  std::vector<std::vector<Member>> members(static_cast<std::size_t>(num_nodes));
  for (std::size_t g = 0; g < group_loads.size(); ++g) {
    members[node_of[g]].emplace_back(group_loads[g], static_cast<int>(g));
  }
  for (auto& list : members) std::sort(list.begin(), list.end());
  for (long long work = work_budget(group_loads.size()); work > 0;) {
    const int heavy =
        static_cast<int>(std::max_element(node_load.begin(), node_load.end()) - node_load.begin());
    double best = node_load[heavy];
    Member best_a{0.0, -1}, best_b{0.0, -1};
    for (const Member& a : members[heavy]) {
      for (int m = 0; m < num_nodes; ++m) {
        if (m == heavy) continue;
        work -= 2;
        const double target = a.first - (node_load[heavy] - node_load[m]) / 2;
        const auto near =
            std::lower_bound(members[m].begin(), members[m].end(), Member{target, -1});
        for (auto b = near == members[m].begin() ? near : near - 1;
             b != members[m].end() && b <= near; ++b) {
          const double delta = a.first - b->first;
          if (delta <= 0.0) continue;
          const double value = std::max(node_load[heavy] - delta, node_load[m] + delta);
          if (value < best * (1.0 - 1e-12)) {
            best = value;
            best_a = a;
            best_b = *b;
          }
        }
      }
    }
    if (best_a.second < 0) break;
    const int other = node_of[best_b.second];
    const double delta = best_a.first - best_b.first;
    node_load[heavy] -= delta;
    node_load[other] += delta;
    std::swap(node_of[best_a.second], node_of[best_b.second]);
    auto move = [&](const Member& member, int from, int to) {
      auto& source = members[from];
      source.erase(std::lower_bound(source.begin(), source.end(), member));
      auto& target = members[to];
      target.insert(std::upper_bound(target.begin(), target.end(), member), member);
    };
    move(best_a, heavy, other);
    move(best_b, other, heavy);
    work -= static_cast<long long>(members[heavy].size() + members[other].size());
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
