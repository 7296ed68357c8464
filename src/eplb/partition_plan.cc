#include "partition_plan.h"

#include <algorithm>

#include "dualpipe/eplb/replication.h"
#include "pair_counts.h"
#include "stacked_copies.h"

namespace dualpipe::eplb::detail {
namespace {

// Refinement steps allowed per slot: ample for convergence, a bound against pathological inputs.
constexpr int kStepsPerSlot = 8;
// How far below its first count the most copies of any expert are capped in more candidates.
constexpr int kFewerCopiesTried = 3;

// Removes duplicates and refines; returns whether no duplicate remains.
bool clean_and_refine(GpuAssignment& assignment, int num_slots) {
  const bool clean = assignment.remove_duplicates();
  assignment.refine(kStepsPerSlot * num_slots);
  return clean;
}

std::vector<int> copy_counts(const std::vector<int>& slots, std::size_t num_experts) {
  std::vector<int> copies(num_experts, 0);
  for (int e : slots) ++copies[e];
  return copies;
}

}  // namespace

PartitionPlan::PartitionPlan(const std::vector<float>& loads, std::vector<int> experts,
                             int num_slots, int num_gpus)
    : experts_(std::move(experts)),
      num_slots_(num_slots),
      num_gpus_(num_gpus),
      work_left_(work_budget(static_cast<std::size_t>(num_slots) + experts_.size())) {
  for (int e : experts_) loads_.push_back(loads[e]);
  loads_double_.assign(loads_.begin(), loads_.end());
  copies_ = replicate(loads_, num_slots_, num_gpus_);
  offer_counts(copies_);
}

void PartitionPlan::try_more_copy_counts() {
  if (work_left_ <= 0) return;
  if (num_slots_ == 2 * num_gpus_) {
    offer_counts(improve_paired_copies(loads_double_, copies_, num_gpus_));
    const std::vector<int> refined = copy_counts(best_->slots(), loads_.size());
    if (refined != copies_) offer_counts(improve_paired_copies(loads_double_, refined, num_gpus_));
    return;
  }
  const int most = *std::max_element(copies_.begin(), copies_.end());
  for (int cap = most - 1; cap >= std::max(1, most - kFewerCopiesTried); --cap) {
    if (static_cast<long long>(cap) * static_cast<long long>(experts_.size()) < num_slots_) break;
    offer_counts(replicate(loads_, num_slots_, cap));
  }
  std::vector<int> stacked =
      pack_copies_like_reference(loads_, replicate(loads_, num_slots_), num_gpus_);
  if (fold_stacked_copies(stacked.data(), num_slots_, num_gpus_, loads_)) {
    offer(GpuAssignment(loads_double_, num_gpus_, std::move(stacked), work_left_));
  }
}

void PartitionPlan::offer_counts(const std::vector<int>& copies) {
  offer(GpuAssignment(loads_double_, num_gpus_,
                      pack_copies_without_duplicates(loads_double_, copies, num_gpus_),
                      work_left_));
}

std::vector<int> PartitionPlan::slots() const {
  std::vector<int> slots = best_->slots();
  for (int& s : slots) s = experts_[s];
  return slots;
}

void PartitionPlan::offer(GpuAssignment assignment) {
  const bool clean = clean_and_refine(assignment, num_slots_);
  work_left_ = assignment.work_left();
  if (!best_ || (clean && !clean_) ||
      (clean == clean_ && assignment.max_load() < best_->max_load())) {
    best_ = std::move(assignment);
    clean_ = clean;
  }
}

bool refine_partition(int* slots, int num_slots, const std::vector<float>& loads, int num_gpus) {
  auto [experts, assignment] = assign_partition(slots, num_slots, loads, num_gpus);
  const bool clean = clean_and_refine(assignment, num_slots);
  for (int s = 0; s < num_slots; ++s) slots[s] = experts[assignment.slots()[s]];
  return clean;
}

}  // namespace dualpipe::eplb::detail
