#include "dualpipe/eplb/balanced_policy.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/statistics.h"
#include "node_partitions.h"
#include "partition_plan.h"
#include "stacked_copies.h"

namespace dualpipe::eplb {
namespace {

using detail::num_node_partitions;

// Applies `step(first slot, slots, GPUs)` to every node partition of a layer's phy2log; returns
// whether it succeeded on all of them.
template <typename Step>
bool for_each_partition(std::vector<int>& phy2log, const PlanParameters& p, Step step) {
  const int partitions = num_node_partitions(p);
  const int slots = p.replicas / partitions;
  bool all = true;
  for (int part = 0; part < partitions; ++part) {
    all = step(phy2log.data() + part * slots, slots, p.gpus / partitions) && all;
  }
  return all;
}

bool has_duplicates(const std::vector<int>& phy2log, int num_gpus) {
  const auto per_gpu = static_cast<std::ptrdiff_t>(phy2log.size()) / num_gpus;
  for (auto gpu = phy2log.begin(); gpu != phy2log.end(); gpu += per_gpu) {
    for (auto slot = gpu + 1; slot != gpu + per_gpu; ++slot) {
      if (std::find(gpu, slot, *slot) != slot) return true;
    }
  }
  return false;
}

// The best layer plan offered: duplicate-free first, then the lowest largest GPU load, the first
// on ties.
class BestLayerPlan {
 public:
  BestLayerPlan(const std::vector<float>& loads, int num_gpus) : loads_(loads), gpus_(num_gpus) {}

  void offer(std::vector<int> phy2log, bool clean) {
    const double value = max_gpu_load(phy2log, loads_, gpus_);
    if (best_.empty() || (clean && !clean_) || (clean == clean_ && value < value_)) {
      best_ = std::move(phy2log);
      value_ = value;
      clean_ = clean;
    }
  }
  double value() const { return value_; }
  std::vector<int> take() { return std::move(best_); }

 private:
  const std::vector<float>& loads_;
  int gpus_;
  std::vector<int> best_;
  double value_ = 0.0;
  bool clean_ = false;
};

// The balanced policy's own plan: each node partition planned (PartitionPlan), more copy counts
// tried on the partitions that could hold the layer's largest GPU load, heaviest first, until the
// next one is lighter than the best reached on those already tried.
std::vector<int> plan_partitions(const std::vector<float>& loads, const PlanParameters& p) {
  const int partitions = num_node_partitions(p);
  std::vector<detail::PartitionPlan> plans;
  for (std::vector<int>& experts : detail::experts_per_partition(loads, p)) {
    plans.emplace_back(loads, std::move(experts), p.replicas / partitions, p.gpus / partitions);
  }
  std::vector<int> order(plans.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return plans[a].max_load() > plans[b].max_load(); });
  double heaviest_tried = 0.0;
  for (int part : order) {
    if (plans[part].max_load() < heaviest_tried) break;
    plans[part].try_more_copy_counts();
    heaviest_tried = std::max(heaviest_tried, plans[part].max_load());
  }
  std::vector<int> phy2log;
  for (const detail::PartitionPlan& plan : plans) {
    const std::vector<int> slots = plan.slots();
    phy2log.insert(phy2log.end(), slots.begin(), slots.end());
  }
  return phy2log;
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
  BestLayerPlan best(loads, p.gpus);
  std::vector<int> own = plan_partitions(loads, p);
  const bool own_clean = !has_duplicates(own, p.gpus);
  best.offer(std::move(own), own_clean);

  // When that is worse than the deepseek plan: the deepseek plan itself if it has no duplicate (so
  // that the result is never worse than it), and refined by the same local search. Duplicates in it
  // are swapped away, or folded (fold_stacked_copies), before the search.
  std::vector<int> deepseek = plan_deepseek_layer(problem, layer).phy2log;
  if (best.value() <= max_gpu_load(deepseek, loads, p.gpus)) return best.take();
  auto refine = [&](int* slots, int num_slots, int gpus) {
    return detail::refine_partition(slots, num_slots, loads, gpus);
  };
  if (has_duplicates(deepseek, p.gpus)) {
    std::vector<int> folded = deepseek;
    auto fold = [&](int* slots, int num_slots, int gpus) {
      return detail::fold_stacked_copies(slots, num_slots, gpus, loads);
    };
    if (for_each_partition(folded, p, fold)) {
      const bool clean = for_each_partition(folded, p, refine);
      best.offer(std::move(folded), clean);
    }
  } else {
    best.offer(deepseek, true);
  }
  const bool clean = for_each_partition(deepseek, p, refine);
  best.offer(std::move(deepseek), clean);
  return best.take();
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
