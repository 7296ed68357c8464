// The balanced policy's plan of one node partition (or of the whole layer): copy counts packed and
// refined by local search, with more choices of copy counts tried on demand. Internal header.
#pragma once

#include <optional>
#include <vector>

#include "gpu_assignment.h"

namespace dualpipe::eplb::detail {

// Plans `experts` (logical ids, load loads[e]) onto `num_gpus` GPUs of num_slots / num_gpus slots.
// All its searches share one work budget (work_budget of its slots and experts).
class PartitionPlan {
 public:
  // The first plan: copy counts that minimise the largest load per copy with at most one copy per
  // GPU, packed heaviest first onto the lightest GPU lacking the expert, refined.
  PartitionPlan(const std::vector<float>& loads, std::vector<int> experts, int num_slots,
                int num_gpus);

  // Tries more copy counts and keeps the best: the most copies of any expert capped 1 to 3 lower
  // (so that heavy copies need not share GPUs), packed the same way; and the uncapped counts packed
  // as the reference packs with stacked copies folded (fold_stacked_copies). Each is refined; the
  // best is duplicate-free first, then has the lowest largest GPU load (the earlier on ties).
  // With two slots per GPU also the counts improve_paired_copies reaches from the first plan's and
  // from the best plan's.
  void try_more_copy_counts();

  // The largest GPU load of the best plan so far.
  double max_load() const { return best_->max_load(); }
  // The logical expert of each slot of the best plan so far.
  std::vector<int> slots() const;

 private:
  // Packs `copies` heaviest first onto the lightest GPU lacking the expert and offers that.
  void offer_counts(const std::vector<int>& copies);
  void offer(GpuAssignment assignment);

  std::vector<int> experts_;
  std::vector<float> loads_;  // [local expert]
  std::vector<double> loads_double_;
  int num_slots_, num_gpus_;
  long long work_left_;
  std::vector<int> copies_;  // the first plan's copy counts
  std::optional<GpuAssignment> best_;
  bool clean_ = false;
};

// Refines slots[0, num_slots) (logical ids, load loads[e]) on `num_gpus` GPUs in place: removes
// duplicates by swaps and replacements, then runs the local search. Returns false when a duplicate
// could not be removed.
bool refine_partition(int* slots, int num_slots, const std::vector<float>& loads, int num_gpus);

}  // namespace dualpipe::eplb::detail
