// Allocation-free cores of replicate_in_order and pack_like_reference, for callers that plan layer
// after layer with the same buffers (the deepseek policy). Internal header; inputs are assumed
// valid.
#pragma once

#include <vector>

#include "dualpipe/eplb/torch_sort_order.h"

namespace dualpipe::eplb::detail {

// An expert and its load per copy (float32), ordered for the replication heap.
struct LoadPerCopy {
  float load;
  int expert;
};

// A pack and its summed weight (float32), ordered for the packing heap.
struct PackWeight {
  float weight;
  int pack;
};

// Buffers reused from call to call.
struct StepScratch {
  std::vector<LoadPerCopy> replication_heap;
  std::vector<IndexedValue> sorted_items;
  std::vector<PackWeight> pack_heap;
  std::vector<int> pack_items;
};

// replicate_in_order for loads[0, num_experts): writes phy2log and rank [num_replicas] and count
// [num_experts]; num_replicas >= num_experts.
void replicate_in_order(const float* loads, int num_experts, int num_replicas, int* phy2log,
                        int* rank, int* count, StepScratch& scratch);

// pack_like_reference for weights[0, num_items): writes pack and rank_in_pack [num_items];
// num_packs divides num_items.
void pack_like_reference(const float* weights, int num_items, int num_packs, int* pack,
                         int* rank_in_pack, StepScratch& scratch);

}  // namespace dualpipe::eplb::detail
