#include "dualpipe/eplb/statistics.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <unordered_set>

namespace dualpipe::eplb {

namespace {

// The one computation of GPU loads: phy2log [replicas], loads [experts]; copies [experts] is
// scratch. Writes per_gpu [num_gpus].
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

double max_gpu_load(const std::vector<int>& phy2log, const std::vector<float>& loads,
                    int num_gpus) {
  const std::vector<double> per_gpu = gpu_loads(phy2log, loads, num_gpus);
  return *std::max_element(per_gpu.begin(), per_gpu.end());
}

std::vector<double> total_gpu_loads(const SlotTable& table, const PlanProblem& problem) {
  const int num_gpus = problem.parameters().gpus;
  const auto experts = static_cast<std::size_t>(table.num_experts);
  std::vector<int> copies(experts);
  std::vector<double> per_gpu(static_cast<std::size_t>(num_gpus));
  std::vector<double> total(static_cast<std::size_t>(num_gpus), 0.0);
  for (int layer = 0; layer < table.num_layers; ++layer) {
    layer_gpu_loads(table.layer_phy2log(layer), static_cast<std::size_t>(table.num_replicas),
                    problem.layer_data(layer), experts, num_gpus, copies.data(), per_gpu.data());
    for (int g = 0; g < num_gpus; ++g) total[g] += per_gpu[g];
  }
  return total;
}

LayerStatistics layer_statistics(const std::vector<int>& phy2log, const std::vector<float>& loads,
                                 const PlanParameters& parameters) {
  return summarize(gpu_loads(phy2log, loads, parameters.gpus),
                   layer_lower_bound(loads, parameters));
}

std::vector<LayerStatistics> placement_statistics(const SlotTable& table,
                                                  const PlanProblem& problem,
                                                  const std::vector<LayerLowerBound>& bounds) {
  if (table.num_layers != problem.num_layers() || table.num_experts != problem.num_experts() ||
      bounds.size() != static_cast<std::size_t>(table.num_layers)) {
    throw std::invalid_argument("the placement's shape does not match the loads or the bounds");
  }
  const int gpus = problem.parameters().gpus;
  const auto experts = static_cast<std::size_t>(table.num_experts);
  std::vector<int> copies(experts);
  std::vector<double> per_gpu(static_cast<std::size_t>(gpus));
  std::vector<LayerStatistics> result;
  result.reserve(bounds.size());
  for (int layer = 0; layer < table.num_layers; ++layer) {
    layer_gpu_loads(table.layer_phy2log(layer), static_cast<std::size_t>(table.num_replicas),
                    problem.layer_data(layer), experts, gpus, copies.data(), per_gpu.data());
    result.push_back(summarize(per_gpu, bounds[layer]));
  }
  return result;
}

std::vector<LayerStatistics> placement_statistics(const SlotTable& table,
                                                  const PlanProblem& problem) {
  return placement_statistics(table, problem, lower_bounds(problem));
}

int duplicate_copies_on_gpus(const SlotTable& table, int num_gpus) {
  int duplicates = 0;
  const int per_gpu = table.num_replicas / num_gpus;
  for (int layer = 0; layer < table.num_layers; ++layer) {
    const int* row = table.layer_phy2log(layer);
    for (int gpu = 0; gpu < num_gpus; ++gpu) {
      std::unordered_set<int> seen;
      for (int slot = gpu * per_gpu; slot < (gpu + 1) * per_gpu; ++slot) {
        if (!seen.insert(row[slot]).second) ++duplicates;
      }
    }
  }
  return duplicates;
}

int replicas_moved(const SlotTable& before, const SlotTable& after) {
  if (before.num_layers != after.num_layers || before.num_replicas != after.num_replicas) {
    throw std::invalid_argument("cannot compare placements of different shapes");
  }
  int moved = 0;
  for (std::size_t slot = 0; slot < before.phy2log.size(); ++slot) {
    moved += before.phy2log[slot] != after.phy2log[slot];
  }
  return moved;
}

}  // namespace dualpipe::eplb
