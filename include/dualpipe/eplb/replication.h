// Replication: how many physical copies each logical expert of one MoE layer gets.
#pragma once

#include <limits>
#include <vector>

namespace dualpipe::eplb {

// Hands out `num_replicas - loads.size()` extra copies one at a time, each to the expert with the
// largest load per copy computed in float32 (ties: the lower expert index), never giving an expert more
// than `max_copies`. Returns copies per expert (each >= 1, summing to num_replicas). This minimises the
// largest load per copy. Throws std::invalid_argument when num_replicas < loads.size() or the cap makes
// num_replicas unreachable.
std::vector<int> replicate(const std::vector<float>& loads, int num_replicas,
                           int max_copies = std::numeric_limits<int>::max());

// The replication of one layer with the order in which copies were made.
struct Replication {
  std::vector<int> phy2log;  // [num_replicas]: experts 0..n-1 first, then each extra copy's expert
  std::vector<int> rank;     // [num_replicas]: the copy's number among its expert's copies (0 = first)
  std::vector<int> count;    // [experts]: copies per expert
};

// replicate() without a cap, keeping the order of the copies as the reference numbers them.
Replication replicate_in_order(const std::vector<float>& loads, int num_replicas);

}  // namespace dualpipe::eplb
