#include "dualpipe/eplb/packing.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "reference_steps.h"

namespace dualpipe::eplb {
namespace {

using detail::PackWeight;

// Heap order: the lightest pack on top; on equal weights the lower pack index (Python's min).
constexpr auto heavier = [](const PackWeight& a, const PackWeight& b) {
  return a.weight > b.weight || (a.weight == b.weight && a.pack > b.pack);
};

}  // namespace

namespace detail {

void pack_like_reference(const float* weights, int num_items, int num_packs, int* pack,
                         int* rank_in_pack, StepScratch& scratch) {
  const int items_per_pack = num_items / num_packs;
  if (items_per_pack == 1) {
    for (int i = 0; i < num_items; ++i) {
      pack[i] = i;
      rank_in_pack[i] = 0;
    }
    return;
  }
  auto& items = scratch.sorted_items;
  items.resize(static_cast<std::size_t>(num_items));
  for (int i = 0; i < num_items; ++i) items[i] = {weights[i], i};
  sort_like_torch_descending(items.data(), items.size());
  // Packs with room, lightest on top (ascending index order is already a heap of empty packs).
  auto& packs = scratch.pack_heap;
  packs.resize(static_cast<std::size_t>(num_packs));
  for (int p = 0; p < num_packs; ++p) packs[p] = {0.0f, p};
  scratch.pack_items.assign(static_cast<std::size_t>(num_packs), 0);
  for (const IndexedValue& item : items) {
    std::pop_heap(packs.begin(), packs.end(), heavier);
    PackWeight& lightest = packs.back();
    pack[item.index] = lightest.pack;
    rank_in_pack[item.index] = scratch.pack_items[lightest.pack]++;
    lightest.weight += item.value;  // float32, as the reference sums
    if (scratch.pack_items[lightest.pack] < items_per_pack) {
      std::push_heap(packs.begin(), packs.end(), heavier);
    } else {
      packs.pop_back();
    }
  }
}

}  // namespace detail

PackAssignment pack_like_reference(const std::vector<float>& weights, int num_packs) {
  const int num_items = static_cast<int>(weights.size());
  if (num_packs <= 0 || num_items % num_packs != 0) {
    throw std::invalid_argument("cannot pack " + std::to_string(num_items) + " items into " +
                                std::to_string(num_packs) + " equal packs");
  }
  PackAssignment result{std::vector<int>(weights.size()), std::vector<int>(weights.size())};
  detail::StepScratch scratch;
  detail::pack_like_reference(weights.data(), num_items, num_packs, result.pack.data(),
                              result.rank_in_pack.data(), scratch);
  return result;
}

}  // namespace dualpipe::eplb
