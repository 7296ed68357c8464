#include "dualpipe/eplb/statistics.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

namespace dualpipe::eplb {

namespace {

// gpu_loads of one layer's rows: phy2log [replicas], loads [experts]; copies [experts] is scratch.
// Writes per_gpu [num_gpus].
void layer_gpu_loads(const int* phy2log, std::size_t replicas, const float* loads,
                     std::size_t experts, int num_gpus, int* copies, double* per_gpu) {
  std::fill(copies, copies + experts, 0);
  for (std::size_t slot = 0; slot < replicas; ++slot) ++copies[phy2log[slot]];
  const std::size_t per_gpu_slots = replicas / static_cast<std::size_t>(num_gpus);
  std::fill(per_gpu, per_gpu + num_gpus, 0.0);
  for (std::size_t slot = 0; slot < replicas; ++slot) {
    const int expert = phy2log[slot];
    per_gpu[slot / per_gpu_slots] += static_cast<double>(loads[expert]) / copies[expert];
  }
}

// Largest and mean of per_gpu [num_gpus], with `bound`.
LayerStatistics summarize(const std::vector<double>& per_gpu, const LayerLowerBound& bound) {
  LayerStatistics stats;
  stats.max_gpu_load = *std::max_element(per_gpu.begin(), per_gpu.end());
  stats.mean_gpu_load =
      std::accumulate(per_gpu.begin(), per_gpu.end(), 0.0) / static_cast<double>(per_gpu.size());
  stats.lower_bound = bound;
  return stats;
}

}  // namespace

std::vector<double> gpu_loads(const std::vector<int>& phy2log, const std::vector<float>& loads,
                              int num_gpus) {
  std::vector<int> copies(loads.size());
  std::vector<double> result(static_cast<std::size_t>(num_gpus));
  layer_gpu_loads(phy2log.data(), phy2log.size(), loads.data(), loads.size(), num_gpus,
                  copies.data(), result.data());
  return result;
}

LayerStatistics layer_statistics(const std::vector<int>& phy2log, const std::vector<float>& loads,
                                 const PlanParameters& parameters) {
  return summarize(gpu_loads(phy2log, loads, parameters.gpus),
                   layer_lower_bound(loads, parameters));
}

std::vector<LayerStatistics> placement_statistics(const Placement& placement, const LoadMatrix& loads,
                                                  const PlanParameters& parameters) {
  if (placement.num_layers() != loads.rows() || placement.num_experts() != loads.cols()) {
    throw std::invalid_argument("the placement's shape does not match the loads");
  }
  std::vector<LayerStatistics> result;
  for (int layer = 0; layer < placement.num_layers(); ++layer) {
    result.push_back(layer_statistics(placement.phy2log[layer], layer_loads(loads, layer), parameters));
  }
  return result;
}

std::vector<LayerStatistics> placement_statistics(const SlotTable& table, const LoadMatrix& loads,
                                                  const PlanParameters& parameters,
                                                  const std::vector<LayerLowerBound>& bounds) {
  if (table.num_layers != loads.rows() || table.num_experts != loads.cols() ||
      bounds.size() != static_cast<std::size_t>(table.num_layers)) {
    throw std::invalid_argument("the placement's shape does not match the loads or the bounds");
  }
  const auto experts = static_cast<std::size_t>(table.num_experts);
  std::vector<int> copies(experts);
  std::vector<double> per_gpu(static_cast<std::size_t>(parameters.gpus));
  std::vector<LayerStatistics> result;
  result.reserve(bounds.size());
  for (int layer = 0; layer < table.num_layers; ++layer) {
    layer_gpu_loads(table.layer_phy2log(layer), static_cast<std::size_t>(table.num_replicas),
                    loads.data() + layer * loads.cols(), experts, parameters.gpus, copies.data(),
                    per_gpu.data());
    result.push_back(summarize(per_gpu, bounds[layer]));
  }
  return result;
}

int duplicate_copies_on_gpus(const Placement& placement, int num_gpus) {
  int duplicates = 0;
  for (const auto& row : placement.phy2log) {
    const std::size_t per_gpu = row.size() / static_cast<std::size_t>(num_gpus);
    for (std::size_t gpu = 0; gpu < static_cast<std::size_t>(num_gpus); ++gpu) {
      std::unordered_set<int> seen;
      for (std::size_t slot = gpu * per_gpu; slot < (gpu + 1) * per_gpu; ++slot) {
        if (!seen.insert(row[slot]).second) ++duplicates;
      }
    }
  }
  return duplicates;
}

int replicas_moved(const Placement& before, const Placement& after) {
  if (before.num_layers() != after.num_layers() || before.num_replicas() != after.num_replicas()) {
    throw std::invalid_argument("cannot compare placements of different shapes");
  }
  int moved = 0;
  for (int layer = 0; layer < before.num_layers(); ++layer) {
    for (int slot = 0; slot < before.num_replicas(); ++slot) {
      moved += before.phy2log[layer][slot] != after.phy2log[layer][slot];
    }
  }
  return moved;
}

}  // namespace dualpipe::eplb
