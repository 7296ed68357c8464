// GpuAssignment: the copies of some experts laid out on the slots of some GPUs, and the local
// search (swaps, extra copies, dropped copies) that the balanced policy and re-planning use.
// Internal header.
#pragma once

#include <cstddef>
#include <vector>

namespace dualpipe::eplb::detail {

// Experts 0..n-1 with `loads` on `num_gpus` GPUs of `slots.size() / num_gpus` slots each; slot s
// holds expert slots[s] and lies on GPU s / slots_per_gpu. Every expert must hold at least one
// slot. Its searches spend a work budget, counted in candidate changes looked at: improve_once and
// remove_duplicates stop when it is spent.
class GpuAssignment {
 public:
  GpuAssignment(std::vector<double> loads, int num_gpus, std::vector<int> slots,
                long long work_budget);

  const std::vector<int>& slots() const { return slots_; }
  // The largest GPU load (each copy carries its expert's load / copies).
  double max_load() const;

  // Applies the single change (swap two copies, give an expert on the heaviest GPU one more copy in
  // another expert's slot, or replace one of its copies by another expert) that lowers the heaviest
  // GPU's load the most without lifting any other GPU to the old maximum, and without putting two
  // copies of an expert on one GPU. Returns false when no change does that.
  bool improve_once();

  // improve_once() until it returns false or `max_steps` changes were made. Returns the steps made.
  int refine(int max_steps);

  // The work budget left; spent when <= 0.
  long long work_left() const { return work_left_; }
  bool out_of_work() const { return work_left_ <= 0; }

  // Swaps or replaces copies until no GPU holds two copies of one expert, choosing each change to
  // keep the affected GPUs lightest. Returns false if some duplicate could not be removed.
  bool remove_duplicates();

 private:
  struct Change {
    enum Kind { kNone, kSwap, kReplace } kind = kNone;
    int slot_a = -1;  // kSwap: the two slots; kReplace: slot_a gets expert `expert`
    int slot_b = -1;
    int expert = -1;
    double value = 0.0;  // largest load among the GPUs the change touches, after it
  };

  double per_copy(int expert) const { return loads_[expert] / copies_[expert]; }
  int gpu_of(int slot) const { return slot / slots_per_gpu_; }
  int heaviest_gpu() const;
  // Largest load among touched GPUs if slot `slot` switched to `expert` (counts change).
  double value_of_replace(int slot, int expert);
  // Both expect on_gpu_ to mark the experts of `gpu`.
  void consider_swaps(int gpu, double limit, Change& best);
  void consider_replacements(int gpu, double limit, Change& best);
  // Parts of consider_replacements for slot `a` of the heaviest GPU, holding x: one more copy of x
  // in a donor's slot on a GPU without x (gpu_has_x_ marks x's GPUs), or x's slot handed to an
  // expert that this GPU lacks.
  void consider_extra_copy(int a, double limit, Change& best);
  void consider_dropping_copy(int a, double limit, Change& best);
  void apply(const Change& change);
  void recompute_loads();

  std::vector<double> loads_;
  long long work_left_;  // candidate changes that may still be looked at
  int num_gpus_;
  int slots_per_gpu_;
  std::vector<int> slots_;
  std::vector<int> copies_;
  std::vector<std::vector<int>> slots_of_;  // [expert]: the slots holding it
  std::vector<double> gpu_load_;
  std::vector<double> slot_load_;  // [slot]: its expert's load per copy
  // Scratch space of value_of_replace, cleared after each use.
  std::vector<double> scratch_delta_;  // [gpu]
  std::vector<char> scratch_touched_;  // [gpu]
  std::vector<int> touched_;
  // Scratch space of improve_once.
  struct Donor {
    int expert;
    double gain;  // rise of its other copies' load per copy when it gives one away
    double heaviest, second_heaviest;  // the two largest loads among the GPUs holding it
  };
  std::vector<char> gpu_has_x_;     // [gpu]: holds the expert being swapped out
  std::vector<char> on_gpu_;        // [expert]: held by the heaviest GPU
  std::vector<char> on_other_gpu_;  // [expert]: held by consider_dropping_copy's other GPU
  std::vector<double> per_copy_with_one_more_;  // [expert]
  std::vector<Donor> donors_;
};

// The work budget of the searches on `elements` slots and experts together: ample for the layers
// of today's models (a few hundred experts and slots per partition, where a search ends by itself
// long before), and O(elements log elements), which keeps layers of 10^5 experts within seconds.
long long work_budget(std::size_t elements);

// One node partition of a plan (a run of slots) as a GpuAssignment over its own experts.
struct PartitionAssignment {
  std::vector<int> experts;  // the logical experts in the partition, ascending
  GpuAssignment assignment;  // whose expert i is experts[i]
};

// The `num_slots` slots from `first` (logical expert per slot; `loads` per logical expert) on
// `num_gpus` GPUs, with the work budget of its slots and experts.
PartitionAssignment assign_partition(const int* first, int num_slots,
                                     const std::vector<float>& loads, int num_gpus);

// Puts copies on GPUs heaviest first, each into the lightest GPU with a free slot that does not
// hold that expert yet. `copies[e]` >= 1 copies of expert e; returns slots of `num_gpus` GPUs.
std::vector<int> pack_copies_without_duplicates(const std::vector<double>& loads,
                                                const std::vector<int>& copies, int num_gpus);

}  // namespace dualpipe::eplb::detail
