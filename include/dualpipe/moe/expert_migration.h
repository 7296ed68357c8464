// Expert migration: which slot copies an MoE layer needs when it switches placement, and moving
// expert weights and optimizer state between ranks with point-to-point sends.
#pragma once

#include <torch/types.h>

#include <vector>

#include "dualpipe/moe/comm_group.h"
#include "dualpipe/moe/expert_placement.h"

namespace torch::optim {
class Optimizer;
}

namespace dualpipe::moe {

// One copy: new slot `to_slot` receives logical expert `expert` from old slot `from_slot`.
struct SlotCopy {
  int expert = 0;
  int from_slot = 0;
  int to_slot = 0;

  friend bool operator==(const SlotCopy& a, const SlotCopy& b) {
    return a.expert == b.expert && a.from_slot == b.from_slot && a.to_slot == b.to_slot;
  }
};

// The copies that turn placement `from` into `to` (same experts, slots and ranks): one for every
// new slot whose expert changes. The source is a copy of the expert on the destination's own rank
// when there is one (no network), otherwise the expert's old copies taken round robin. Sorted by
// (source rank, destination rank, destination slot): the order every rank executes them in.
std::vector<SlotCopy> plan_expert_moves(const ExpertPlacement& from, const ExpertPlacement& to);

// Carries out plan_expert_moves(from, to) on this rank: `slot_parameters[j]` are the parameters
// of local slot j (the same list shape on every slot and rank); their values, and their state in
// `optimizer` (Adam, AdamW or SGD; null: none) move to the slots that take the expert over.
// Gradients of changed slots are dropped. Collective over `group`. Throws std::invalid_argument
// for an unsupported optimizer.
void migrate_experts(const CommGroup& group, const ExpertPlacement& from, const ExpertPlacement& to,
                     const std::vector<std::vector<torch::Tensor>>& slot_parameters,
                     torch::optim::Optimizer* optimizer);

}  // namespace dualpipe::moe
