// Stacked copies: several copies of one expert on one GPU, as the reference's packing leaves them,
// and folding them into one copy each so that a plan has no duplicate on a GPU. Internal header.
#pragma once

#include <vector>

namespace dualpipe::eplb::detail {

// Packs `copies[e]` copies of each expert e (load loads[e] / copies[e] each) onto `num_gpus` GPUs
// of equal slot counts the way the reference packs: heaviest copy first into the lightest GPU with
// a free slot, even when that GPU already holds the expert. Returns the expert of each slot.
std::vector<int> pack_copies_like_reference(const std::vector<float>& loads,
                                            const std::vector<int>& copies, int num_gpus);

// Folds every group of copies of one expert on one GPU of slots[0, num_slots) (num_gpus GPUs of
// equal slot counts) into one copy: each freed slot goes to the expert that adds the least load to
// that GPU (loads[e] over its copies plus one, ties: the lower id) among the experts of the range
// that the GPU lacks. A GPU carries the same share of an expert before and after when all its
// copies were stacked evenly. Needs at least as many distinct experts in the range as a GPU has
// slots; returns whether every duplicate was folded.
bool fold_stacked_copies(int* slots, int num_slots, int num_gpus, const std::vector<float>& loads);

}  // namespace dualpipe::eplb::detail
