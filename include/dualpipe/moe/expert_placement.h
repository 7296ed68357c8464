// ExpertPlacement: which logical expert each physical expert slot of one MoE layer holds, which
// expert-parallel rank holds each slot, and how a logical expert's tokens spread over its copies.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace dualpipe::eplb {
struct Placement;
}

namespace dualpipe::moe {

// One layer's map from physical slots to logical experts, laid out like EPLB's output: slot p lives
// on expert-parallel rank p / slots_per_rank().
class ExpertPlacement {
 public:
  // Builds the inverse maps. Throws std::invalid_argument unless every entry of `phy2log` is in
  // [0, num_experts), every expert has at least one slot, num_ranks >= 1 and the slot count is a
  // multiple of num_ranks.
  ExpertPlacement(std::vector<int> phy2log, int num_experts, int num_ranks);

  // One slot per expert, slot p holding expert p.
  static ExpertPlacement identity(int num_experts, int num_ranks);

  // Row `layer` of an eplb-plan placement (its phy2log; log2phy and logcnt are rebuilt from it and
  // checked against the plan's). Throws std::invalid_argument naming the layer when they disagree.
  static ExpertPlacement from_plan(const eplb::Placement& plan, int layer, int num_ranks);

  int num_experts() const { return static_cast<int>(log2phy_.size()); }
  int num_slots() const { return static_cast<int>(phy2log_.size()); }
  int num_ranks() const { return num_ranks_; }
  int slots_per_rank() const { return num_slots() / num_ranks_; }
  int rank_of_slot(int slot) const { return slot / slots_per_rank(); }
  int first_slot_of_rank(int rank) const { return rank * slots_per_rank(); }

  // Logical expert of each slot, [slots].
  const std::vector<int>& phy2log() const { return phy2log_; }
  // Slots of each expert in ascending order, [experts][copies].
  const std::vector<std::vector<int>>& log2phy() const { return log2phy_; }
  int copies(int expert) const { return static_cast<int>(log2phy_.at(expert).size()); }

  // The slot serving the `occurrence`-th (0-based, in token order) token-to-expert assignment that
  // rank `source_rank` makes to `expert`: copies are taken round robin from offset source_rank, so
  // every rank spreads its tokens over all copies and the ranks start on different copies.
  int slot_for(int expert, int64_t occurrence, int source_rank) const;

  // The same maps as int64 tensors for vectorised routing: log2phy [experts, max copies] padded
  // with -1, and copies per expert [experts].
  torch::Tensor log2phy_tensor() const;
  torch::Tensor copies_tensor() const;

  friend bool operator==(const ExpertPlacement& a, const ExpertPlacement& b) {
    return a.num_ranks_ == b.num_ranks_ && a.num_experts() == b.num_experts() &&
           a.phy2log_ == b.phy2log_;
  }
  friend bool operator!=(const ExpertPlacement& a, const ExpertPlacement& b) { return !(a == b); }

 private:
  std::vector<int> phy2log_;
  std::vector<std::vector<int>> log2phy_;
  int num_ranks_ = 1;
};

}  // namespace dualpipe::moe
