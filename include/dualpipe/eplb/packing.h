// Packing: spreading weighted items over packs of equal item count, the way the reference does.
#pragma once

#include <vector>

namespace dualpipe::eplb {

// Where packing put each item.
struct PackAssignment {
  std::vector<int> pack;          // [items]: pack index of each item
  std::vector<int> rank_in_pack;  // [items]: position of the item within its pack
};

// The reference's balanced packing of `weights` (one per item) into `num_packs` packs of
// weights.size()/num_packs items each: items in torch_descending_order go one by one to the lightest
// pack that still has room (ties: the lower pack index), pack weights summed in float32. With one item
// per pack, item i goes to pack i. Throws std::invalid_argument unless num_packs divides the items.
PackAssignment pack_like_reference(const std::vector<float>& weights, int num_packs);

}  // namespace dualpipe::eplb
