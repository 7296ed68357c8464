#include "stacked_copies.h"

#include <algorithm>
#include <limits>
#include <map>

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
  std::map<int, int> copies;  // expert -> copies in the range, after folding
  std::vector<int> freed;
  for (int gpu = 0; gpu < num_gpus; ++gpu) {
    int* first = slots + gpu * per_gpu;
    for (int s = 0; s < per_gpu; ++s) {
      if (std::find(first, first + s, first[s]) != first + s) {
        freed.push_back(gpu * per_gpu + s);
      } else {
        ++copies[first[s]];
      }
    }
  }
  for (int slot : freed) slots[slot] = -1;
  for (int slot : freed) {
    const int* first = slots + slot / per_gpu * per_gpu;
    int chosen = -1;
    double least = std::numeric_limits<double>::infinity();
    for (const auto& [expert, count] : copies) {
      if (std::find(first, first + per_gpu, expert) != first + per_gpu) continue;
      const double added = static_cast<double>(loads[expert]) / (count + 1);
      if (added < least) {
        least = added;
        chosen = expert;
      }
    }
    if (chosen < 0) return false;
    slots[slot] = chosen;
    ++copies[chosen];
  }
  return true;
}

}  // namespace dualpipe::eplb::detail
