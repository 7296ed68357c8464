// Statistics of a placement under given loads: GPU loads, balancedness, gap to the lower bound.
#pragma once

#include <vector>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/lower_bound.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// Load of each GPU for one layer: every slot carries its expert's load divided by the expert's copy
// count in `phy2log` (tokens split evenly over copies). Returns [num_gpus].
std::vector<double> gpu_loads(const std::vector<int>& phy2log, const std::vector<float>& loads,
                              int num_gpus);

// How one layer fares.
struct LayerStatistics {
  double max_gpu_load = 0.0;
  double mean_gpu_load = 0.0;
  LayerLowerBound lower_bound;
  // mean / max GPU load, in (0, 1]; 1 when every GPU carries the same load (or all loads are zero).
  double balancedness() const { return max_gpu_load > 0.0 ? mean_gpu_load / max_gpu_load : 1.0; }
  // max GPU load / lower bound, >= 1; 1 when the bound is zero.
  double gap() const { return lower_bound.value() > 0.0 ? max_gpu_load / lower_bound.value() : 1.0; }
};

// Statistics of one layer's `phy2log` under `loads`.
LayerStatistics layer_statistics(const std::vector<int>& phy2log, const std::vector<float>& loads,
                                 const PlanParameters& parameters);

// layer_statistics for every layer of `placement` (shapes must agree).
std::vector<LayerStatistics> placement_statistics(const Placement& placement, const LoadMatrix& loads,
                                                  const PlanParameters& parameters);

// The same for every layer of `table`, with each layer's bound taken from `bounds` ([layers], e.g.
// from lower_bounds(loads, parameters)) instead of computed again.
std::vector<LayerStatistics> placement_statistics(const SlotTable& table, const LoadMatrix& loads,
                                                  const PlanParameters& parameters,
                                                  const std::vector<LayerLowerBound>& bounds);

// Number of (layer, GPU, expert) triples where the GPU holds more than one copy of the expert.
int duplicate_copies_on_gpus(const Placement& placement, int num_gpus);

// Number of slots whose expert differs between two placements of the same shape: the replicas a
// switch from `before` to `after` has to move (load onto a GPU).
int replicas_moved(const Placement& before, const Placement& after);

}  // namespace dualpipe::eplb
