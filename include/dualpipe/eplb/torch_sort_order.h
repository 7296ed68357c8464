// The order in which the reference's CPU `torch.sort(descending=True)` (PyTorch 1.13) returns
// indices.
#pragma once

#include <cstddef>
#include <vector>

namespace dualpipe::eplb {

// A value and its index in the input: what torch_descending_order sorts.
struct IndexedValue {
  float value;
  int index;
};

// Indices of `values` from largest to smallest value, tie for tie as PyTorch 1.13's unstable CPU
// sort orders them: an introsort over (value, index) pairs that compares values only
// (median-of-three quicksort above 16 elements, insertion sort below, heapsort past the depth
// limit). Equal values of a vector of at most 16 elements therefore keep the lower index first; in
// longer vectors the order of equal values is the one that introsort leaves, which this function
// reproduces exactly.
std::vector<int> torch_descending_order(const std::vector<float>& values);

// Sorts items[0, count) into torch_descending_order's order of their values, in place (for callers
// that reuse one buffer).
void sort_like_torch_descending(IndexedValue* items, std::size_t count);

}  // namespace dualpipe::eplb
