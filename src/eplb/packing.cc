#include "dualpipe/eplb/packing.h"

#include <stdexcept>
#include <string>

#include "dualpipe/eplb/torch_sort_order.h"

namespace dualpipe::eplb {

PackAssignment pack_like_reference(const std::vector<float>& weights, int num_packs) {
  const int num_items = static_cast<int>(weights.size());
  if (num_packs <= 0 || num_items % num_packs != 0) {
    throw std::invalid_argument("cannot pack " + std::to_string(num_items) + " items into " +
                                std::to_string(num_packs) + " equal packs");
  }
  const int items_per_pack = num_items / num_packs;
  PackAssignment result{std::vector<int>(weights.size()), std::vector<int>(weights.size(), 0)};
  if (items_per_pack == 1) {
    for (int i = 0; i < num_items; ++i) result.pack[i] = i;
    return result;
  }
  std::vector<float> pack_weight(static_cast<std::size_t>(num_packs), 0.0f);
  std::vector<int> pack_items(static_cast<std::size_t>(num_packs), 0);
  for (int item : torch_descending_order(weights)) {
    int lightest = -1;
    for (int p = 0; p < num_packs; ++p) {
      if (pack_items[p] < items_per_pack && (lightest < 0 || pack_weight[p] < pack_weight[lightest])) {
        lightest = p;
      }
    }
    result.pack[item] = lightest;
    result.rank_in_pack[item] = pack_items[lightest];
    pack_weight[lightest] += weights[item];
    ++pack_items[lightest];
  }
  return result;
}

}  // namespace dualpipe::eplb
