#include "dualpipe/eplb/migration.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dualpipe/eplb/balanced_policy.h"
#include "dualpipe/eplb/statistics.h"
#include "gpu_assignment.h"

namespace dualpipe::eplb {
namespace {

// One way to plan a layer: its slots, the replicas it moves from the previous plan, its largest
// load.
struct LayerOption {
  std::vector<int> phy2log;
  int moves = 0;
  double max_load = 0.0;
};

int count_moves(const std::vector<int>& a, const std::vector<int>& b) {
  int moves = 0;
  for (std::size_t i = 0; i < a.size(); ++i) moves += a[i] != b[i];
  return moves;
}

// Pairs blocks of fresh slots with blocks of previous slots (block = `block_size` slots), most
// shared experts first. Returns the previous block each fresh block goes to.
std::vector<int> match_blocks(const std::vector<int>& fresh, const std::vector<int>& previous,
                              int first_block, int num_blocks, int block_size) {
  std::vector<std::tuple<int, int, int>> pairs;  // (-shared, fresh block, previous block)
  for (int f = 0; f < num_blocks; ++f) {
    std::map<int, int> fresh_counts;
    for (int s = 0; s < block_size; ++s) ++fresh_counts[fresh[(first_block + f) * block_size + s]];
    for (int q = 0; q < num_blocks; ++q) {
      std::map<int, int> counts = fresh_counts;
      int shared = 0;
      for (int s = 0; s < block_size; ++s) {
        auto it = counts.find(previous[(first_block + q) * block_size + s]);
        if (it != counts.end() && it->second > 0) {
          --it->second;
          ++shared;
        }
      }
      if (shared > 0) pairs.emplace_back(-shared, f, q);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::vector<int> target(static_cast<std::size_t>(num_blocks), -1);
  std::vector<char> taken(static_cast<std::size_t>(num_blocks), 0);
  for (const auto& [negative_shared, f, q] : pairs) {
    if (target[f] < 0 && !taken[q]) {
      target[f] = q;
      taken[q] = 1;
    }
  }
  int next_free = 0;
  for (int f = 0; f < num_blocks; ++f) {
    if (target[f] >= 0) continue;
    while (taken[next_free]) ++next_free;
    target[f] = next_free;
    taken[next_free] = 1;
  }
  return target;
}

// Moves whole blocks of `row` to the matched positions.
std::vector<int> permute_blocks(const std::vector<int>& row, const std::vector<int>& target,
                                int first_block, int block_size) {
  std::vector<int> result = row;
  for (std::size_t f = 0; f < target.size(); ++f) {
    std::copy_n(row.begin() + (first_block + static_cast<int>(f)) * block_size, block_size,
                result.begin() + (first_block + target[f]) * block_size);
  }
  return result;
}

// Within one GPU, puts each expert that the previous plan had in some slot of this GPU back there.
void align_slots(std::vector<int>& row, const std::vector<int>& previous, int gpu, int per_gpu) {
  const int first = gpu * per_gpu;
  std::vector<int> pending(row.begin() + first, row.begin() + first + per_gpu);
  std::vector<int> result(static_cast<std::size_t>(per_gpu), -1);
  for (int s = 0; s < per_gpu; ++s) {
    auto it = std::find(pending.begin(), pending.end(), previous[first + s]);
    if (it != pending.end()) {
      result[s] = *it;
      pending.erase(it);
    }
  }
  auto next = pending.begin();
  for (int s = 0; s < per_gpu; ++s) {
    if (result[s] < 0) result[s] = *next++;
  }
  std::copy(result.begin(), result.end(), row.begin() + first);
}

// Whether every expert's copies lie on one node in `row`.
bool experts_stay_on_nodes(const std::vector<int>& row, const PlanParameters& p) {
  const int per_node = p.replicas / p.nodes;
  std::map<int, int> node_of;
  for (int s = 0; s < p.replicas; ++s) {
    const auto [it, inserted] = node_of.emplace(row[s], s / per_node);
    if (!inserted && it->second != s / per_node) return false;
  }
  return true;
}

// Local search from the previous slots: the Pareto points (fewer moves, lower max) along the way.
std::vector<LayerOption> local_search_options(const std::vector<int>& previous,
                                              const std::vector<float>& loads,
                                              const PlanParameters& p) {
  const int partitions =
      keeps_groups_on_nodes(p) && experts_stay_on_nodes(previous, p) ? p.nodes : 1;
  const int slots_per_partition = p.replicas / partitions;
  std::vector<detail::GpuAssignment> parts;
  std::vector<std::vector<int>> experts_of(static_cast<std::size_t>(partitions));
  for (int part = 0; part < partitions; ++part) {
    auto partition = detail::assign_partition(&previous[part * slots_per_partition],
                                              slots_per_partition, loads, p.gpus / partitions);
    experts_of[part] = std::move(partition.experts);
    parts.push_back(std::move(partition.assignment));
  }
  auto current_row = [&] {
    std::vector<int> row;
    for (int part = 0; part < partitions; ++part) {
      for (int s : parts[part].slots()) row.push_back(experts_of[part][s]);
    }
    return row;
  };
  std::vector<LayerOption> options;
  double best = max_gpu_load(previous, loads, p.gpus);
  for (int step = 0; step < 8 * p.replicas; ++step) {
    int heaviest = 0;
    for (int part = 1; part < partitions; ++part) {
      if (parts[part].max_load() > parts[heaviest].max_load()) heaviest = part;
    }
    if (!parts[heaviest].improve_once()) break;
    std::vector<int> row = current_row();
    const double value = max_gpu_load(row, loads, p.gpus);
    if (value < best) {
      best = value;
      const int moves = count_moves(row, previous);
      while (!options.empty() && options.back().moves >= moves) options.pop_back();
      options.push_back({std::move(row), moves, value});
    }
  }
  return options;
}

void check_previous(const SlotTable& previous, const PlanProblem& problem) {
  const PlanParameters& p = problem.parameters();
  if (previous.num_layers != problem.num_layers() || previous.num_replicas != p.replicas ||
      previous.num_experts != problem.num_experts()) {
    throw std::invalid_argument("the previous plan has " + std::to_string(previous.num_layers) +
                                " layers, " + std::to_string(previous.num_replicas) +
                                " replicas and " + std::to_string(previous.num_experts) +
                                " experts; expected " + std::to_string(problem.num_layers()) +
                                ", " + std::to_string(p.replicas) + " and " +
                                std::to_string(problem.num_experts()));
  }
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

void check_migration_options(const MigrationOptions& options) {
  if (options.max_moves < 0) {
    throw std::invalid_argument("--max-moves must be at least 0 (got " +
                                std::to_string(options.max_moves) + ")");
  }
  if (!(options.min_gain >= 0.0 && options.min_gain < 1.0)) {
    throw std::invalid_argument("--min-gain must be in [0, 1) (got " +
                                number_text(options.min_gain) + ")");
  }
}

std::vector<int> align_to_previous(const std::vector<int>& fresh, const std::vector<int>& previous,
                                   const PlanParameters& p) {
  const int per_gpu = p.replicas_per_gpu();
  std::vector<int> row = fresh;
  int nodes = 1;
  if (keeps_groups_on_nodes(p)) {
    nodes = p.nodes;
    const int node_slots = p.replicas / p.nodes;
    row = permute_blocks(row, match_blocks(row, previous, 0, p.nodes, node_slots), 0, node_slots);
  }
  const int gpus_per_block = p.gpus / nodes;
  for (int node = 0; node < nodes; ++node) {
    const int first_gpu = node * gpus_per_block;
    row = permute_blocks(row, match_blocks(row, previous, first_gpu, gpus_per_block, per_gpu),
                         first_gpu, per_gpu);
  }
  for (int gpu = 0; gpu < p.gpus; ++gpu) align_slots(row, previous, gpu, per_gpu);
  return row;
}

Replan replan(const PlanProblem& problem, Policy policy, const SlotTable& previous,
              const MigrationOptions& options) {
  check_migration_options(options);
  check_previous(previous, problem);
  if (policy == Policy::kBalanced) check_balanced_feasible(problem);

  const PlanParameters& parameters = problem.parameters();
  const int num_layers = problem.num_layers();
  std::vector<std::vector<LayerOption>> layer_options(static_cast<std::size_t>(num_layers));
  for (int layer = 0; layer < num_layers; ++layer) {
    const std::vector<float> row_loads = layer_loads(problem.loads(), layer);
    const std::vector<int> before = previous.layer_row(layer);
    auto& layer_choices = layer_options[layer];
    layer_choices.push_back({before, 0, max_gpu_load(before, row_loads, parameters.gpus)});
    for (auto& option : local_search_options(before, row_loads, parameters)) {
      layer_choices.push_back(std::move(option));
    }
    std::vector<int> fresh =
        align_to_previous(plan_layer(problem, layer, policy), before, parameters);
    const double fresh_max = max_gpu_load(fresh, row_loads, parameters.gpus);
    layer_choices.push_back({std::move(fresh), 0, fresh_max});
    layer_choices.back().moves = count_moves(layer_choices.back().phy2log, before);
  }

  // Greedy: repeatedly take the upgrade with the largest drop in max load per extra moved replica.
  std::vector<int> chosen(static_cast<std::size_t>(num_layers), 0);
  long long moves_used = 0;
  while (true) {
    int best_layer = -1, best_option = -1;
    double best_ratio = -1.0;
    for (int layer = 0; layer < num_layers; ++layer) {
      const auto& choices = layer_options[layer];
      const LayerOption& now = choices[chosen[layer]];
      const double required = choices[0].max_load * (1.0 - options.min_gain);
      for (int o = 0; o < static_cast<int>(choices.size()); ++o) {
        const LayerOption& option = choices[o];
        const long long extra = option.moves - now.moves;
        if (option.max_load >= now.max_load || option.max_load > required ||
            moves_used + extra > options.max_moves) {
          continue;
        }
        const double ratio = (now.max_load - option.max_load) / std::max<double>(1.0, extra);
        if (ratio > best_ratio) {
          best_ratio = ratio;
          best_layer = layer;
          best_option = o;
        }
      }
    }
    if (best_layer < 0) break;
    moves_used += layer_options[best_layer][best_option].moves -
                  layer_options[best_layer][chosen[best_layer]].moves;
    chosen[best_layer] = best_option;
  }

  std::vector<std::vector<int>> phy2log;
  for (int layer = 0; layer < num_layers; ++layer) {
    phy2log.push_back(layer_options[layer][chosen[layer]].phy2log);
  }
  Replan result;
  result.placement = slot_table_from_phy2log(phy2log, problem.num_experts());
  result.replicas_moved = replicas_moved(previous, result.placement);
  return result;
}

}  // namespace dualpipe::eplb
