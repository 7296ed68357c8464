#include "gpu_assignment.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace dualpipe::eplb::detail {

GpuAssignment::GpuAssignment(std::vector<double> loads, int num_gpus, std::vector<int> slots)
    : loads_(std::move(loads)),
      num_gpus_(num_gpus),
      slots_per_gpu_(static_cast<int>(slots.size()) / num_gpus),
      slots_(std::move(slots)),
      copies_(loads_.size(), 0),
      slots_of_(loads_.size()),
      gpu_load_(static_cast<std::size_t>(num_gpus), 0.0),
      scratch_delta_(static_cast<std::size_t>(num_gpus), 0.0),
      scratch_touched_(static_cast<std::size_t>(num_gpus), 0) {
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    ++copies_[slots_[s]];
    slots_of_[slots_[s]].push_back(static_cast<int>(s));
  }
  for (int c : copies_) {
    if (c == 0) throw std::logic_error("GpuAssignment: an expert has no slot");
  }
  recompute_loads();
}

void GpuAssignment::recompute_loads() {
  std::fill(gpu_load_.begin(), gpu_load_.end(), 0.0);
  for (std::size_t s = 0; s < slots_.size(); ++s) gpu_load_[gpu_of(static_cast<int>(s))] += per_copy(slots_[s]);
}

double GpuAssignment::max_load() const { return gpu_load_[heaviest_gpu()]; }

int GpuAssignment::heaviest_gpu() const {
  return static_cast<int>(std::max_element(gpu_load_.begin(), gpu_load_.end()) - gpu_load_.begin());
}

bool GpuAssignment::gpu_holds(int gpu, int expert) const {
  for (int s = gpu * slots_per_gpu_; s < (gpu + 1) * slots_per_gpu_; ++s) {
    if (slots_[s] == expert) return true;
  }
  return false;
}

void GpuAssignment::consider_swaps(int gpu, double limit, Change& best) const {
  for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
    const int x = slots_[a];
    const double px = per_copy(x);
    for (int h = 0; h < num_gpus_; ++h) {
      if (h == gpu || gpu_holds(h, x)) continue;
      for (int b = h * slots_per_gpu_; b < (h + 1) * slots_per_gpu_; ++b) {
        const int y = slots_[b];
        const double delta = px - per_copy(y);
        if (delta <= 0.0) continue;
        const double value = std::max(gpu_load_[gpu] - delta, gpu_load_[h] + delta);
        if (value < limit && value < best.value && !gpu_holds(gpu, y)) {
          best = {Change::kSwap, a, b, -1, value};
        }
      }
    }
  }
}

double GpuAssignment::value_of_replace(int slot, int expert) {
  const int old_expert = slots_[slot];
  const double old_gain = loads_[old_expert] / (copies_[old_expert] - 1) - per_copy(old_expert);
  const double new_gain = loads_[expert] / (copies_[expert] + 1) - per_copy(expert);
  touched_.clear();
  auto add = [&](int gpu, double delta) {
    if (!scratch_touched_[gpu]) touched_.push_back(gpu);
    scratch_touched_[gpu] = 1;
    scratch_delta_[gpu] += delta;
  };
  for (int s : slots_of_[old_expert]) add(gpu_of(s), s == slot ? -per_copy(old_expert) : old_gain);
  for (int s : slots_of_[expert]) add(gpu_of(s), new_gain);
  add(gpu_of(slot), loads_[expert] / (copies_[expert] + 1));
  double value = 0.0;
  for (int gpu : touched_) {
    value = std::max(value, gpu_load_[gpu] + scratch_delta_[gpu]);
    scratch_delta_[gpu] = 0.0;
    scratch_touched_[gpu] = 0;
  }
  return value;
}

void GpuAssignment::consider_replacements(int gpu, double limit, Change& best) {
  const int num_experts = static_cast<int>(loads_.size());
  for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
    const int x = slots_[a];
    // One more copy of x, in a slot of an expert that has copies to spare, on a GPU without x.
    for (int d = 0; d < num_experts; ++d) {
      if (d == x || copies_[d] < 2 || loads_[d] / (copies_[d] - 1) >= limit) continue;
      for (int b : slots_of_[d]) {
        if (gpu_holds(gpu_of(b), x)) continue;
        const double value = value_of_replace(b, x);
        if (value < limit && value < best.value) best = {Change::kReplace, b, -1, x, value};
      }
    }
    // One copy fewer of x: its slot here goes to an expert not on this GPU.
    if (copies_[x] < 2) continue;
    for (int y = 0; y < num_experts; ++y) {
      if (y == x || gpu_holds(gpu, y)) continue;
      const double value = value_of_replace(a, y);
      if (value < limit && value < best.value) best = {Change::kReplace, a, -1, y, value};
    }
  }
}

void GpuAssignment::apply(const Change& change) {
  auto move_slot = [&](int expert, int from, int to) {
    auto& list = slots_of_[expert];
    *std::find(list.begin(), list.end(), from) = to;
  };
  if (change.kind == Change::kSwap) {
    const int x = slots_[change.slot_a];
    const int y = slots_[change.slot_b];
    move_slot(x, change.slot_a, change.slot_b);
    move_slot(y, change.slot_b, change.slot_a);
    std::swap(slots_[change.slot_a], slots_[change.slot_b]);
  } else if (change.kind == Change::kReplace) {
    const int old_expert = slots_[change.slot_a];
    auto& list = slots_of_[old_expert];
    list.erase(std::find(list.begin(), list.end(), change.slot_a));
    --copies_[old_expert];
    slots_of_[change.expert].push_back(change.slot_a);
    ++copies_[change.expert];
    slots_[change.slot_a] = change.expert;
  }
  recompute_loads();
}

bool GpuAssignment::improve_once() {
  const int gpu = heaviest_gpu();
  const double current = gpu_load_[gpu];
  const double limit = current - 1e-12 * std::max(1.0, current);
  Change best;
  best.value = limit;
  consider_swaps(gpu, limit, best);
  consider_replacements(gpu, limit, best);
  if (best.kind == Change::kNone) return false;
  apply(best);
  return true;
}

int GpuAssignment::refine(int max_steps) {
  int steps = 0;
  while (steps < max_steps && improve_once()) ++steps;
  return steps;
}

bool GpuAssignment::remove_duplicates() {
  for (int gpu = 0; gpu < num_gpus_; ++gpu) {
    for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
      const int x = slots_[a];
      bool duplicate = false;
      for (int s = gpu * slots_per_gpu_; s < a; ++s) duplicate = duplicate || slots_[s] == x;
      if (!duplicate) continue;
      Change best;
      best.value = std::numeric_limits<double>::infinity();
      for (int b = 0; b < static_cast<int>(slots_.size()); ++b) {
        const int h = gpu_of(b);
        const int y = slots_[b];
        if (h == gpu || gpu_holds(h, x) || gpu_holds(gpu, y)) continue;
        const double delta = per_copy(x) - per_copy(y);
        const double value = std::max(gpu_load_[gpu] - delta, gpu_load_[h] + delta);
        if (value < best.value) best = {Change::kSwap, a, b, -1, value};
      }
      for (int y = 0; y < static_cast<int>(loads_.size()); ++y) {
        if (gpu_holds(gpu, y)) continue;
        const double value = value_of_replace(a, y);
        if (value < best.value) best = {Change::kReplace, a, -1, y, value};
      }
      if (best.kind == Change::kNone) return false;
      apply(best);
    }
  }
  return true;
}

std::vector<int> pack_copies_without_duplicates(const std::vector<double>& loads,
                                                const std::vector<int>& copies, int num_gpus) {
  std::vector<int> items;
  for (std::size_t e = 0; e < copies.size(); ++e) items.insert(items.end(), copies[e], static_cast<int>(e));
  std::stable_sort(items.begin(), items.end(), [&](int a, int b) {
    return loads[a] / copies[a] > loads[b] / copies[b];
  });
  const int per_gpu = static_cast<int>(items.size()) / num_gpus;
  std::vector<std::vector<int>> gpu_items(static_cast<std::size_t>(num_gpus));
  std::vector<double> gpu_load(static_cast<std::size_t>(num_gpus), 0.0);
  for (int expert : items) {
    int chosen = -1;
    for (int g = 0; g < num_gpus; ++g) {
      if (static_cast<int>(gpu_items[g].size()) == per_gpu) continue;
      if (std::find(gpu_items[g].begin(), gpu_items[g].end(), expert) != gpu_items[g].end()) continue;
      if (chosen < 0 || gpu_load[g] < gpu_load[chosen]) chosen = g;
    }
    if (chosen < 0) {  // every GPU with room holds this expert: take any with room; repaired later
      for (int g = 0; g < num_gpus && chosen < 0; ++g) {
        if (static_cast<int>(gpu_items[g].size()) < per_gpu) chosen = g;
      }
    }
    gpu_items[chosen].push_back(expert);
    gpu_load[chosen] += loads[expert] / copies[expert];
  }
  std::vector<int> slots;
  for (const auto& g : gpu_items) slots.insert(slots.end(), g.begin(), g.end());
  return slots;
}

}  // namespace dualpipe::eplb::detail
