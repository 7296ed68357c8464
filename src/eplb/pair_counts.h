// Copy counts for GPUs of two slots, where the pairing of copies decides the largest GPU load.
// Internal header.
#pragma once

#include <vector>

namespace dualpipe::eplb::detail {

// The largest GPU load when copies of `copies[e]` >= 1 per expert (load loads[e] / copies[e] each)
// fill GPUs of two slots by pairing the largest copy with the smallest, the second largest with
// the second smallest and so on (the pairing that minimises the largest pair for these copies).
double paired_max_load(const std::vector<double>& loads, const std::vector<int>& copies);

// Moves single copies from one expert to another (each expert keeps 1..max_copies) while a move
// lowers paired_max_load, or keeps it and lowers the number of pairs that reach it; takes the best
// move each time, trying as receivers the experts of the pairs at the maximum, those with heavier
// copies, and the experts whose next copy would be lightest; stops when work_budget of the copies
// and experts is spent (each pairing looked at costs one unit per expert). Returns the counts it
// ends with.
std::vector<int> improve_paired_copies(const std::vector<double>& loads, std::vector<int> copies,
                                       int max_copies);

}  // namespace dualpipe::eplb::detail
