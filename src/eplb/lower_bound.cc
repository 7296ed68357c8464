#include "dualpipe/eplb/lower_bound.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <utility>

namespace dualpipe::eplb {
namespace {

// max(m*(R), slot bound) for S slots per GPU and at most max_copies copies per expert (see header);
// m_star = min_max_load_per_copy(loads, num_replicas, max_copies).
double slot_bound(const std::vector<double>& m_star, const std::vector<float>& loads,
                  int num_replicas, int slots_per_gpu, int max_copies) {
  const int num_experts = static_cast<int>(loads.size());
  const double top = m_star.back();
  if (slots_per_gpu == 1) return top;
  const double lightest = *std::min_element(loads.begin(), loads.end());
  const int most_copies = std::min(max_copies, num_replicas - num_experts + 1);
  double bound = top * (1.0 + static_cast<double>(slots_per_gpu - 1) / most_copies);
  if (lightest < top) {
    for (int c = 1; c <= most_copies; ++c) {
      bound = std::min(bound, m_star[num_replicas - c + 1 - num_experts] +
                                  (slots_per_gpu - 1) * static_cast<double>(lightest) / c);
    }
  }
  return std::max(top, bound);
}

// A lower bound on the heaviest node's load over all spreads of the (ascending) group loads with
// `per_node` groups per node: exact for two groups per node (pairing the heaviest with the lightest
// is optimal), else the heaviest group plus the lightest groups that fill its node.
double least_heaviest_node(const std::vector<double>& ascending_groups, int per_node) {
  const std::size_t n = ascending_groups.size();
  double bound = ascending_groups.back();
  if (per_node == 2) {
    for (std::size_t i = 0; i < n / 2; ++i) {
      bound = std::max(bound, ascending_groups[i] + ascending_groups[n - 1 - i]);
    }
    return bound;
  }
  for (int i = 0; i + 1 < per_node; ++i) bound += ascending_groups[i];
  return bound;
}

}  // namespace

std::vector<double> min_max_load_per_copy(const std::vector<float>& loads, int num_replicas,
                                          int max_copies) {
  // Greedy: each extra copy goes to the expert with the largest load per copy, optimal at every
  // step. With X extra copies only the X + 1 heaviest experts can get one (an expert that has no
  // extra copy yet always beats a lighter one), so the heap holds those and `rest` is the largest
  // other load.
  const std::size_t extras =
      static_cast<std::size_t>(std::max<int>(0, num_replicas - static_cast<int>(loads.size())));
  const std::size_t candidates = std::min(loads.size(), extras + 1);
  std::vector<float> heaviest(loads);
  std::nth_element(heaviest.begin(), heaviest.begin() + static_cast<std::ptrdiff_t>(candidates - 1),
                   heaviest.end(), std::greater<float>());
  const double rest =
      candidates < heaviest.size()
          ? *std::max_element(heaviest.begin() + static_cast<std::ptrdiff_t>(candidates),
                              heaviest.end())
          : 0.0;
  // A max-heap of (load per copy, copies, load) of the candidates below the cap.
  struct Candidate {
    double per_copy;
    int copies;
    float load;
    bool operator<(const Candidate& other) const { return per_copy < other.per_copy; }
  };
  std::vector<Candidate> heap;
  double capped_max = rest;  // largest load per copy outside the heap
  for (std::size_t i = 0; i < candidates; ++i) {
    if (max_copies > 1) {
      heap.push_back({heaviest[i], 1, heaviest[i]});
    } else {
      capped_max = std::max(capped_max, static_cast<double>(heaviest[i]));
    }
  }
  std::make_heap(heap.begin(), heap.end());
  std::vector<double> result;
  result.reserve(extras + 1);
  auto current_max = [&] {
    return std::max(capped_max, heap.empty() ? 0.0 : heap.front().per_copy);
  };
  result.push_back(current_max());
  for (std::size_t extra = 0; extra < extras; ++extra) {
    if (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      Candidate& top = heap.back();
      top.per_copy = static_cast<double>(top.load) / ++top.copies;
      if (top.copies < max_copies) {
        std::push_heap(heap.begin(), heap.end());
      } else {
        capped_max = std::max(capped_max, top.per_copy);
        heap.pop_back();
      }
    }
    result.push_back(current_max());
  }
  return result;
}

LayerLowerBound layer_lower_bound(const std::vector<float>& loads, const PlanParameters& p) {
  const double total = std::accumulate(loads.begin(), loads.end(), 0.0);
  const int slots_per_gpu = p.replicas_per_gpu();
  const std::vector<double> m_star = min_max_load_per_copy(loads, p.replicas, p.gpus);
  LayerLowerBound bound;
  bound.basic = std::max(total / p.gpus, m_star.back());
  bound.global =
      std::max(bound.basic, slot_bound(m_star, loads, p.replicas, slots_per_gpu, p.gpus));
  if (!keeps_groups_on_nodes(p)) return bound;

  const std::size_t group_size = loads.size() / static_cast<std::size_t>(p.groups);
  std::vector<double> groups(static_cast<std::size_t>(p.groups), 0.0);
  for (std::size_t e = 0; e < loads.size(); ++e) groups[e / group_size] += loads[e];
  std::sort(groups.begin(), groups.end());
  const double heaviest_node =
      std::max(total / p.nodes, least_heaviest_node(groups, p.groups / p.nodes));
  bound.hierarchical =
      std::max({bound.global, heaviest_node / p.gpus_per_node(),
                slot_bound(min_max_load_per_copy(loads, p.replicas, p.gpus_per_node()), loads,
                           p.replicas, slots_per_gpu, p.gpus_per_node())});
  return bound;
}

std::vector<LayerLowerBound> lower_bounds(const PlanProblem& problem) {
  std::vector<LayerLowerBound> bounds;
  bounds.reserve(static_cast<std::size_t>(problem.num_layers()));
  std::vector<float> row(static_cast<std::size_t>(problem.num_experts()));
  for (int layer = 0; layer < problem.num_layers(); ++layer) {
    std::copy_n(problem.layer_data(layer), row.size(), row.begin());
    bounds.push_back(layer_lower_bound(row, problem.parameters()));
  }
  return bounds;
}

}  // namespace dualpipe::eplb
