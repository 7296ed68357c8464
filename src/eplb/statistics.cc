#include "dualpipe/eplb/statistics.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

namespace dualpipe::eplb {

std::vector<double> gpu_loads(const std::vector<int>& phy2log, const std::vector<float>& loads,
                              int num_gpus) {
  std::vector<int> copies(loads.size(), 0);
  for (int expert : phy2log) ++copies[expert];
  const std::size_t per_gpu = phy2log.size() / static_cast<std::size_t>(num_gpus);
  std::vector<double> result(static_cast<std::size_t>(num_gpus), 0.0);
  for (std::size_t slot = 0; slot < phy2log.size(); ++slot) {
    const int expert = phy2log[slot];
    result[slot / per_gpu] += static_cast<double>(loads[expert]) / copies[expert];
  }
  return result;
}

LayerStatistics layer_statistics(const std::vector<int>& phy2log, const std::vector<float>& loads,
                                 const PlanParameters& parameters) {
  const std::vector<double> per_gpu = gpu_loads(phy2log, loads, parameters.gpus);
  LayerStatistics stats;
  stats.max_gpu_load = *std::max_element(per_gpu.begin(), per_gpu.end());
  stats.mean_gpu_load = std::accumulate(per_gpu.begin(), per_gpu.end(), 0.0) / parameters.gpus;
  stats.lower_bound = layer_lower_bound(loads, parameters);
  return stats;
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
