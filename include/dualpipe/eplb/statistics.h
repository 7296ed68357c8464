// Statistics of a placement under given loads: GPU loads, balancedness, gap to the lower bound.
#pragma once

#include <vector>

#include "dualpipe/eplb/lower_bound.h"
#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// Load of each GPU for one layer: every slot carries its expert's load divided by the expert's copy
// count in `phy2log` (tokens split evenly over copies); slot s lies on GPU s / (slots per GPU).
// Returns [num_gpus].
std::vector<double> gpu_loads(const std::vector<int>& phy2log, const std::vector<float>& loads,
                              int num_gpus);

// The largest of gpu_loads(phy2log, loads, num_gpus).
double max_gpu_load(const std::vector<int>& phy2log, const std::vector<float>& loads, int num_gpus);

// Each GPU's load summed over the layers of `table` under the problem's loads, [gpus].
std::vector<double> total_gpu_loads(const SlotTable& table, const PlanProblem& problem);

// How one layer fares.
struct LayerStatistics {
  double max_gpu_load = 0.0;
  double mean_gpu_load = 0.0;
  LayerLowerBound lower_bound;
  // mean / max GPU load, in (0, 1]; 1 when every GPU carries the same load (or all loads are zero).
  double balancedness() const { return max_gpu_load > 0.0 ? mean_gpu_load / max_gpu_load : 1.0; }
  // max GPU load / lower bound, >= 1; 1 when the bound is zero.
  double gap() const {
    return lower_bound.value() > 0.0 ? max_gpu_load / lower_bound.value() : 1.0;
  }
};

// Statistics of one layer's `phy2log` under `loads`.
LayerStatistics layer_statistics(const std::vector<int>& phy2log, const std::vector<float>& loads,
                                 const PlanParameters& parameters);

// The statistics of every layer of `table` under the problem's loads, with each layer's bound taken
// from `bounds` ([layers], e.g. lower_bounds(problem)). Throws std::invalid_argument when the
// shapes disagree.
std::vector<LayerStatistics> placement_statistics(const SlotTable& table,
                                                  const PlanProblem& problem,
                                                  const std::vector<LayerLowerBound>& bounds);
// The same with the bounds computed here.
std::vector<LayerStatistics> placement_statistics(const SlotTable& table,
                                                  const PlanProblem& problem);

// Number of (layer, GPU, expert) triples where the GPU holds more than one copy of the expert.
int duplicate_copies_on_gpus(const SlotTable& table, int num_gpus);

// Number of slots whose expert differs between two placements of the same shape: the replicas a
// switch from `before` to `after` has to move (load onto a GPU). Throws std::invalid_argument when
// the shapes differ.
int replicas_moved(const SlotTable& before, const SlotTable& after);

}  // namespace dualpipe::eplb
