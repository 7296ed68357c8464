// ExpertPlans: the expert placement of every MoE layer of the language-model example, how evenly
// a step's tokens land on the expert-parallel GPUs under it, and re-planning it with EPLB.
#pragma once

#include <cstdint>
#include <vector>

#include "dualpipe/eplb/slot_table.h"
#include "dualpipe/moe/expert_placement.h"

namespace lm {

// Tokens per logical expert of each MoE layer: [layers][experts].
using ExpertTokens = std::vector<std::vector<int64_t>>;

class ExpertPlans {
 public:
  // `slots` slots per layer over `gpus` expert-parallel GPUs, slot p holding expert p % experts.
  ExpertPlans(int layers, int experts, int slots, int gpus, int groups);

  // Layer `layer`'s placement for the MoE layer (num_ranks = gpus).
  dualpipe::moe::ExpertPlacement placement(int layer) const;

  // Max over mean tokens per GPU, averaged over the layers, if `tokens` were routed under the
  // current placement (each expert's tokens split evenly over its copies).
  double balance(const ExpertTokens& tokens) const;

  // Plans every layer for `tokens` (e.g. the sum of the last steps) with EPLB's balanced policy
  // and makes it the current placement; returns the slots whose expert changed.
  int replan(const ExpertTokens& tokens);

  // Sets the current placement from MoE layers' phy2log rows (after loading a checkpoint).
  void restore(const std::vector<std::vector<int>>& phy2log);

 private:
  int experts_;
  int slots_;
  int gpus_;
  int groups_;
  dualpipe::eplb::SlotTable table_;
};

}  // namespace lm
