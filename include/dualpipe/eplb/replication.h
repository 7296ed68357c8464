// Replication: how many physical copies each logical expert of one MoE layer gets.
#pragma once

#include <vector>

namespace dualpipe::eplb {

// Hands out `num_replicas - loads.size()` extra copies one at a time, each to the expert with the
// largest load per copy (ties: the lower expert index). Returns copies per expert (each >= 1,
// summing to num_replicas). Throws std::invalid_argument when num_replicas < loads.size().
std::vector<int> replicate(const std::vector<float>& loads, int num_replicas);

}  // namespace dualpipe::eplb
