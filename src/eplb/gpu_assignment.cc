#include "gpu_assignment.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace dualpipe::eplb::detail {
namespace {

// work_budget: a fixed part that covers every search of today's layer sizes, and a part per
// element and doubling of the elements.
constexpr double kFixedWork = 1e7;
constexpr double kWorkPerElement = 20.0;

}  // namespace

long long work_budget(std::size_t elements) {
  const double n = static_cast<double>(elements);
  return static_cast<long long>(kFixedWork + kWorkPerElement * n * std::log2(n + 2.0));
}

GpuAssignment::GpuAssignment(std::vector<double> loads, int num_gpus, std::vector<int> slots,
                             long long work_budget)
    : loads_(std::move(loads)),
      work_left_(work_budget),
      num_gpus_(num_gpus),
      slots_per_gpu_(static_cast<int>(slots.size()) / num_gpus),
      slots_(std::move(slots)),
      copies_(loads_.size(), 0),
      slots_of_(loads_.size()),
      gpu_load_(static_cast<std::size_t>(num_gpus), 0.0),
      slot_load_(slots_.size(), 0.0),
      scratch_delta_(static_cast<std::size_t>(num_gpus), 0.0),
      scratch_touched_(static_cast<std::size_t>(num_gpus), 0),
      gpu_has_x_(static_cast<std::size_t>(num_gpus), 0),
      on_gpu_(loads_.size(), 0),
      on_other_gpu_(loads_.size(), 0),
      per_copy_with_one_more_(loads_.size(), 0.0) {
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
  work_left_ -= static_cast<long long>(slots_.size());
  std::fill(gpu_load_.begin(), gpu_load_.end(), 0.0);
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    slot_load_[s] = per_copy(slots_[s]);
    gpu_load_[gpu_of(static_cast<int>(s))] += slot_load_[s];
  }
}

double GpuAssignment::max_load() const { return gpu_load_[heaviest_gpu()]; }

int GpuAssignment::heaviest_gpu() const {
  return static_cast<int>(std::max_element(gpu_load_.begin(), gpu_load_.end()) - gpu_load_.begin());
}

namespace {

// Whether `bound`, a lower bound on a candidate's value computed in a different order than the
// candidate is, is certainly at least `best` despite rounding: only then may a candidate be skipped
// without changing the result.
bool clearly_not_below(double bound, double best) { return bound - 1e-9 * std::abs(bound) >= best; }

}  // namespace

void GpuAssignment::consider_swaps(int gpu, double limit, Change& best) {
  for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
    const int x = slots_[a];
    const double px = slot_load_[a];
    // Swapping x out lowers this GPU by less than px.
    if (clearly_not_below(gpu_load_[gpu] - px, best.value)) continue;
    for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 1;
    work_left_ -= num_gpus_;
    for (int h = 0; h < num_gpus_; ++h) {
      // A useful swap moves load (delta > 0) onto h, so h must be lighter than the best value so
      // far.
      if (h == gpu || gpu_load_[h] >= best.value || gpu_has_x_[h]) continue;
      work_left_ -= slots_per_gpu_;
      for (int b = h * slots_per_gpu_; b < (h + 1) * slots_per_gpu_; ++b) {
        const double delta = px - slot_load_[b];
        if (delta <= 0.0) continue;
        const double value = std::max(gpu_load_[gpu] - delta, gpu_load_[h] + delta);
        if (value < limit && value < best.value && !on_gpu_[slots_[b]])
          best = {Change::kSwap, a, b, -1, value};
      }
    }
    for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 0;
  }
}

double GpuAssignment::value_of_replace(int slot, int expert) {
  const int old_expert = slots_[slot];
  const double old_gain = loads_[old_expert] / (copies_[old_expert] - 1) - per_copy(old_expert);
  const double new_gain = loads_[expert] / (copies_[expert] + 1) - per_copy(expert);
  touched_.clear();
  work_left_ -= static_cast<long long>(slots_of_[old_expert].size() + slots_of_[expert].size());
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
  work_left_ -= 2LL * num_experts;
  // Per expert: its load per copy with one copy more.
  for (int e = 0; e < num_experts; ++e) per_copy_with_one_more_[e] = loads_[e] / (copies_[e] + 1);
  // Experts that can spare a copy without reaching the limit.
  donors_.clear();
  for (int d = 0; d < num_experts; ++d) {
    if (copies_[d] < 2 || loads_[d] / (copies_[d] - 1) >= limit) continue;
    Donor donor{d, loads_[d] / (copies_[d] - 1) - per_copy(d), 0.0, 0.0};
    for (int b : slots_of_[d]) {
      const double load = gpu_load_[gpu_of(b)];
      donor.second_heaviest = std::max(donor.second_heaviest, std::min(donor.heaviest, load));
      donor.heaviest = std::max(donor.heaviest, load);
    }
    donors_.push_back(donor);
  }
  for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
    const int x = slots_[a];
    for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 1;
    consider_extra_copy(a, limit, best);
    for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 0;
    consider_dropping_copy(a, limit, best);
  }
}

void GpuAssignment::consider_extra_copy(int a, double limit, Change& best) {
  const int gpu = gpu_of(a);
  const int x = slots_[a];
  // This GPU keeps x, so it ends at least at its load plus x's gain: skip x when that cannot beat
  // the best.
  if (clearly_not_below(gpu_load_[gpu] + per_copy_with_one_more_[x] - per_copy(x), best.value))
    return;
  for (const Donor& donor : donors_) {
    if (donor.expert == x) continue;
    work_left_ -= static_cast<long long>(slots_of_[donor.expert].size());
    for (int b : slots_of_[donor.expert]) {
      // The GPU of slot b trades the donor's copy for x's; the donor's other GPUs gain donor.gain.
      const double here = gpu_load_[gpu_of(b)];
      const double others =
          (here == donor.heaviest ? donor.second_heaviest : donor.heaviest) + donor.gain;
      if (gpu_has_x_[gpu_of(b)] ||
          clearly_not_below(
              std::max(here - per_copy(donor.expert) + per_copy_with_one_more_[x], others),
              best.value)) {
        continue;
      }
      const double value = value_of_replace(b, x);
      if (value < limit && value < best.value) best = {Change::kReplace, b, -1, x, value};
    }
  }
}

void GpuAssignment::consider_dropping_copy(int a, double limit, Change& best) {
  const int gpu = gpu_of(a);
  const int x = slots_[a];
  if (copies_[x] < 2) return;
  // The other GPUs holding x gain x_loss; the heaviest of them bounds the result unless it holds y.
  const double x_loss = loads_[x] / (copies_[x] - 1) - per_copy(x);
  int heaviest_other = -1;
  for (int s : slots_of_[x]) {
    const int h = gpu_of(s);
    if (h != gpu && (heaviest_other < 0 || gpu_load_[h] > gpu_load_[heaviest_other]))
      heaviest_other = h;
  }
  auto mark_other = [&](char mark) {
    if (heaviest_other < 0) return;
    for (int s = heaviest_other * slots_per_gpu_; s < (heaviest_other + 1) * slots_per_gpu_; ++s) {
      on_other_gpu_[slots_[s]] = mark;
    }
  };
  mark_other(1);
  work_left_ -= static_cast<long long>(loads_.size());
  for (int y = 0; y < static_cast<int>(loads_.size()); ++y) {
    // This GPU ends at its load minus x's copy plus y's new one.
    if (y == x || on_gpu_[y] ||
        clearly_not_below(gpu_load_[gpu] - per_copy(x) + per_copy_with_one_more_[y], best.value)) {
      continue;
    }
    if (heaviest_other >= 0 && !on_other_gpu_[y] &&
        clearly_not_below(gpu_load_[heaviest_other] + x_loss, best.value)) {
      continue;
    }
    const double value = value_of_replace(a, y);
    if (value < limit && value < best.value) best = {Change::kReplace, a, -1, y, value};
  }
  mark_other(0);
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
  if (out_of_work()) return false;
  const int gpu = heaviest_gpu();
  const double current = gpu_load_[gpu];
  const double limit = current - 1e-12 * std::max(1.0, current);
  Change best;
  best.value = limit;
  std::fill(on_gpu_.begin(), on_gpu_.end(), 0);
  for (int s = gpu * slots_per_gpu_; s < (gpu + 1) * slots_per_gpu_; ++s) on_gpu_[slots_[s]] = 1;
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
  std::fill(on_gpu_.begin(), on_gpu_.end(), 0);
  for (int gpu = 0; gpu < num_gpus_; ++gpu) {
    for (int a = gpu * slots_per_gpu_; a < (gpu + 1) * slots_per_gpu_; ++a) {
      const int x = slots_[a];
      bool duplicate = false;
      for (int s = gpu * slots_per_gpu_; s < a; ++s) duplicate = duplicate || slots_[s] == x;
      if (!duplicate) continue;
      if (out_of_work()) return false;
      work_left_ -= static_cast<long long>(slots_.size() + loads_.size());
      // gpu_has_x_: the GPUs holding x; on_gpu_: the experts on this GPU.
      for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 1;
      for (int s = gpu * slots_per_gpu_; s < (gpu + 1) * slots_per_gpu_; ++s)
        on_gpu_[slots_[s]] = 1;
      Change best;
      best.value = std::numeric_limits<double>::infinity();
      for (int b = 0; b < static_cast<int>(slots_.size()); ++b) {
        const int h = gpu_of(b);
        const int y = slots_[b];
        if (h == gpu || gpu_has_x_[h] || on_gpu_[y]) continue;
        const double delta = per_copy(x) - per_copy(y);
        const double value = std::max(gpu_load_[gpu] - delta, gpu_load_[h] + delta);
        if (value < best.value) best = {Change::kSwap, a, b, -1, value};
      }
      for (int y = 0; y < static_cast<int>(loads_.size()); ++y) {
        if (on_gpu_[y]) continue;
        const double value = value_of_replace(a, y);
        if (value < best.value) best = {Change::kReplace, a, -1, y, value};
      }
      for (int s : slots_of_[x]) gpu_has_x_[gpu_of(s)] = 0;
      for (int s = gpu * slots_per_gpu_; s < (gpu + 1) * slots_per_gpu_; ++s)
        on_gpu_[slots_[s]] = 0;
      if (best.kind == Change::kNone) return false;
      apply(best);
    }
  }
  return true;
}

std::vector<int> pack_copies_without_duplicates(const std::vector<double>& loads,
                                                const std::vector<int>& copies, int num_gpus) {
  std::vector<int> items;
  for (std::size_t e = 0; e < copies.size(); ++e)
    items.insert(items.end(), copies[e], static_cast<int>(e));
  std::stable_sort(items.begin(), items.end(),
                   [&](int a, int b) { return loads[a] / copies[a] > loads[b] / copies[b]; });
  const int per_gpu = static_cast<int>(items.size()) / num_gpus;
  std::vector<std::vector<int>> gpu_items(static_cast<std::size_t>(num_gpus));
  auto holds = [&](int gpu, int expert) {
    return std::find(gpu_items[gpu].begin(), gpu_items[gpu].end(), expert) != gpu_items[gpu].end();
  };
  // GPUs with a free slot as (load, index), lightest on top; on equal loads the lower index.
  using OpenGpu = std::pair<double, int>;
  std::vector<OpenGpu> open;
  for (int g = 0; g < num_gpus; ++g) open.emplace_back(0.0, g);  // ascending: already a heap
  const auto heavier = std::greater<OpenGpu>();
  std::vector<OpenGpu> passed;  // open GPUs that already hold the current expert
  for (int expert : items) {
    passed.clear();
    int chosen = -1;
    double load = 0.0;
    while (chosen < 0 && !open.empty()) {
      std::pop_heap(open.begin(), open.end(), heavier);
      const OpenGpu top = open.back();
      open.pop_back();
      if (holds(top.second, expert)) {
        passed.push_back(top);
      } else {
        std::tie(load, chosen) = top;
      }
    }
    if (chosen < 0) {  // every GPU with room holds this expert: take the first; repaired later
      const auto first =
          std::min_element(passed.begin(), passed.end(),
                           [](const OpenGpu& a, const OpenGpu& b) { return a.second < b.second; });
      std::tie(load, chosen) = *first;
      passed.erase(first);
    }
    for (const OpenGpu& gpu : passed) {
      open.push_back(gpu);
      std::push_heap(open.begin(), open.end(), heavier);
    }
    gpu_items[chosen].push_back(expert);
    if (static_cast<int>(gpu_items[chosen].size()) < per_gpu) {
      open.emplace_back(load + loads[expert] / copies[expert], chosen);
      std::push_heap(open.begin(), open.end(), heavier);
    }
  }
  std::vector<int> slots;
  for (const auto& g : gpu_items) slots.insert(slots.end(), g.begin(), g.end());
  return slots;
}

PartitionAssignment assign_partition(const int* first, int num_slots,
                                     const std::vector<float>& loads, int num_gpus) {
  std::vector<int> experts(first, first + num_slots);
  std::sort(experts.begin(), experts.end());
  experts.erase(std::unique(experts.begin(), experts.end()), experts.end());
  std::vector<int> local_slots;
  for (const int* it = first; it != first + num_slots; ++it) {
    local_slots.push_back(
        static_cast<int>(std::lower_bound(experts.begin(), experts.end(), *it) - experts.begin()));
  }
  std::vector<double> local;
  for (int e : experts) local.push_back(loads[e]);
  const std::size_t elements = local_slots.size() + local.size();
  GpuAssignment assignment(std::move(local), num_gpus, std::move(local_slots),
                           work_budget(elements));
  return PartitionAssignment{std::move(experts), std::move(assignment)};
}

}  // namespace dualpipe::eplb::detail
