#include "dualpipe/eplb/balanced_policy.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/replication.h"
#include "dualpipe/eplb/statistics.h"
#include "gpu_assignment.h"

namespace dualpipe::eplb {
namespace {

// Refinement steps allowed per slot: ample for convergence, a bound against pathological inputs.
constexpr int kStepsPerSlot = 8;

int num_node_partitions(const PlanParameters& p) { return keeps_groups_on_nodes(p) ? p.nodes : 1; }

// Spreads groups over nodes, groups-per-node each: heaviest group first into the lightest node with
// room, then pairwise swaps between the heaviest node and others while that lowers it. Returns the
// node of each group.
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

// The experts of each node partition: all experts for a flat plan, else the experts of the groups
// that assign_groups_to_nodes put on each node (ascending expert order).
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

// Plans the given experts onto `num_gpus` GPUs with `num_slots` slots in all; returns global expert
// ids per slot.
std::vector<int> plan_partition(const std::vector<float>& loads, const std::vector<int>& experts,
                                int num_slots, int num_gpus) {
  std::vector<float> local_loads;
  for (int e : experts) local_loads.push_back(loads[e]);
  const std::vector<int> copies = replicate(local_loads, num_slots, num_gpus);
  std::vector<double> local(local_loads.begin(), local_loads.end());
  detail::GpuAssignment assignment(local, num_gpus,
                                   detail::pack_copies_without_duplicates(local, copies, num_gpus));
  assignment.remove_duplicates();
  assignment.refine(kStepsPerSlot * num_slots);
  std::vector<int> slots = assignment.slots();
  for (int& s : slots) s = experts[s];
  return slots;
}

// Refines an existing layer plan (e.g. deepseek's) partition by partition, first removing
// duplicates. Returns false when a duplicate could not be removed.
bool refine_existing(std::vector<int>& phy2log, const std::vector<float>& loads,
                     const PlanParameters& p) {
  const int partitions = num_node_partitions(p);
  const int slots_per_partition = p.replicas / partitions;
  bool clean = true;
  for (int part = 0; part < partitions; ++part) {
    const auto first = phy2log.begin() + part * slots_per_partition;
    auto [experts, assignment] =
        detail::assign_partition(&*first, slots_per_partition, loads, p.gpus / partitions);
    clean = assignment.remove_duplicates() && clean;
    assignment.refine(kStepsPerSlot * slots_per_partition);
    for (int s = 0; s < slots_per_partition; ++s) first[s] = experts[assignment.slots()[s]];
  }
  return clean;
}

}  // namespace

void check_balanced_feasible(const PlanProblem& problem) {
  const PlanParameters& p = problem.parameters();
  const int experts_per_node = problem.num_experts() / num_node_partitions(p);
  if (experts_per_node < p.replicas_per_gpu()) {
    throw std::invalid_argument("the balanced policy needs at least as many experts per node (" +
                                std::to_string(experts_per_node) + ") as replicas per GPU (" +
                                std::to_string(p.replicas_per_gpu()) +
                                "); use --policy deepseek or more GPUs");
  }
}

std::vector<int> plan_balanced_layer(const PlanProblem& problem, int layer) {
  const PlanParameters& p = problem.parameters();
  const std::vector<float> loads = layer_loads(problem.loads(), layer);
  const int partitions = num_node_partitions(p);
  std::vector<int> phy2log;
  for (const auto& experts : experts_per_partition(loads, p)) {
    const auto part = plan_partition(loads, experts, p.replicas / partitions, p.gpus / partitions);
    phy2log.insert(phy2log.end(), part.begin(), part.end());
  }
  std::vector<int> deepseek = plan_deepseek_layer(problem, layer).phy2log;
  const double deepseek_max = max_gpu_load(deepseek, loads, p.gpus);
  if (max_gpu_load(phy2log, loads, p.gpus) > deepseek_max) {
    if (refine_existing(deepseek, loads, p) &&
        max_gpu_load(deepseek, loads, p.gpus) < max_gpu_load(phy2log, loads, p.gpus)) {
      return deepseek;
    }
  }
  return phy2log;
}

SlotTable plan_balanced(const PlanProblem& problem) {
  check_balanced_feasible(problem);
  std::vector<std::vector<int>> phy2log;
  for (int layer = 0; layer < problem.num_layers(); ++layer) {
    phy2log.push_back(plan_balanced_layer(problem, layer));
  }
  return slot_table_from_phy2log(phy2log, problem.num_experts());
}

}  // namespace dualpipe::eplb
