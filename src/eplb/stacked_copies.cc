#include "stacked_copies.h"

#include <algorithm>
#include <set>
#include <utility>

#include "dualpipe/eplb/packing.h"

namespace dualpipe::eplb::detail {

std::vector<int> pack_copies_like_reference(const std::vector<float>& loads,
                                            const std::vector<int>& copies, int num_gpus) {
  std::vector<int> item_expert;
  std::vector<float> item_load;
  for (std::size_t e = 0; e < copies.size(); ++e) {
    for (int c = 0; c < copies[e]; ++c) {
      item_expert.push_back(static_cast<int>(e));
      item_load.push_back(loads[e] / static_cast<float>(copies[e]));
    }
  }
  const PackAssignment packed = pack_like_reference(item_load, num_gpus);
  const int per_gpu = static_cast<int>(item_expert.size()) / num_gpus;
  std::vector<int> slots(item_expert.size());
  for (std::size_t i = 0; i < item_expert.size(); ++i) {
    slots[packed.pack[i] * per_gpu + packed.rank_in_pack[i]] = item_expert[i];
  }
  return slots;
}

bool fold_stacked_copies(int* slots, int num_slots, int num_gpus, const std::vector<float>& loads) {
  const int per_gpu = num_slots / num_gpus;
  std::vector<int> copies(loads.size(), 0);  // copies in the range, after folding
  std::vector<int> freed;
  for (int gpu = 0; gpu < num_gpus; ++gpu) {
    const int* first = slots + gpu * per_gpu;
    for (int s = 0; s < per_gpu; ++s) {
      if (std::find(first, first + s, first[s]) != first + s) {
        freed.push_back(gpu * per_gpu + s);
      } else {
        ++copies[first[s]];
      }
    }
  }
  for (int slot : freed) slots[slot] = -1;
  // The range's experts by the load their next copy adds, lightest first (ties: the lower id).
  using Candidate = std::pair<double, int>;
  std::set<Candidate> lightest;
  for (std::size_t e = 0; e < copies.size(); ++e) {
    if (copies[e] > 0) lightest.emplace(static_cast<double>(loads[e]) / (copies[e] + 1), e);
  }
  for (int slot : freed) {
    const int* first = slots + slot / per_gpu * per_gpu;
    auto chosen = lightest.begin();
    while (chosen != lightest.end() &&
           std::find(first, first + per_gpu, chosen->second) != first + per_gpu) {
      ++chosen;
    }
    if (chosen == lightest.end()) return false;
    const int expert = chosen->second;
    lightest.erase(chosen);
    slots[slot] = expert;
    ++copies[expert];
    lightest.emplace(static_cast<double>(loads[expert]) / (copies[expert] + 1), expert);
  }
  return true;
}

}  // namespace dualpipe::eplb::detail
