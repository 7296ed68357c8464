// Lower bounds on the largest GPU load any placement of one layer can reach.
#pragma once

#include <vector>

#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/plan_problem.h"

namespace dualpipe::eplb {

// Bounds for one layer, in the loads' units, for placements that never put two copies of an expert
// on one GPU. With loads w, G GPUs of S slots, R = G*S copies, and m*(R') the smallest reachable
// maximum of w_e / c_e over copy counts 1 <= c_e <= G summing to R':
struct LayerLowerBound {
  // The classic bound max(total / G, m*(R)).
  double basic = 0.0;
  // max(basic, slot bound). The slot bound counts the S-1 other copies sharing the GPU of the
  // heaviest copy: each weighs at least the lightest copy w_j / c_j, and spending c_j copies on
  // expert j leaves the rest at least m*(R - c_j + 1), so the heaviest GPU carries at least min
  // over c of [m*(R - c + 1) + (S-1) * w_min / c] (or m*(R) * (1 + (S-1)/c_max) when the lightest
  // copy belongs to an expert heavier than m*(R); c_max = min(G, R - experts + 1)).
  double global = 0.0;
  // Only when groups stay on nodes (keeps_groups_on_nodes), else 0: max(global, the heaviest node's
  // least possible load / GPUs per node, the slot bound with at most GPUs-per-node copies). The
  // least heaviest node load is at least total / nodes, and with two groups per node the best
  // pairing's heaviest pair (heaviest with lightest, and so on), else the heaviest group plus the
  // lightest groups that fill its node.
  double hierarchical = 0.0;

  // The bound that applies: the largest of the three.
  double value() const { return hierarchical > global ? hierarchical : global; }
};

// The bounds for one layer's loads under `parameters` (assumed valid for loads.size() experts).
LayerLowerBound layer_lower_bound(const std::vector<float>& loads,
                                  const PlanParameters& parameters);

// layer_lower_bound of every layer of the problem, [layers].
std::vector<LayerLowerBound> lower_bounds(const PlanProblem& problem);

// m*(R') for R' = loads.size() .. num_replicas: element i is the smallest reachable maximum of
// loads[e] / copies[e] over copy counts 1 <= copies[e] <= max_copies summing to loads.size() + i,
// computed in double.
std::vector<double> min_max_load_per_copy(const std::vector<float>& loads, int num_replicas,
                                          int max_copies);

}  // namespace dualpipe::eplb
