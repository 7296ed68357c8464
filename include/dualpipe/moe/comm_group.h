// CommGroup: the c10d process group the MoE layer exchanges tokens over (its expert-parallel
// ranks).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#include "dualpipe/runtime/process_group.h"

namespace dualpipe::moe {

// A shared handle to the expert-parallel group (Gloo or NCCL, see process_group.h); a null
// handle means one process holds every expert.
using CommGroup = c10::intrusive_ptr<runtime::Communicator>;

// This process's rank in `group` (0 for a null group).
inline int group_rank(const CommGroup& group) { return group ? group->getRank() : 0; }

// Ranks in `group` (1 for a null group).
inline int group_size(const CommGroup& group) { return group ? group->getSize() : 1; }

// Creates the expert-parallel group of the global ranks `ranks` (its rank i is ranks[i]) on
// `store`: by default NCCL for a CUDA device (which becomes the current device) and Gloo for the
// CPU; `backend` picks another (runtime::MessageBackend: Gloo carries CUDA tensors through host
// memory, so ranks may share a GPU). Every member calls it with the same ranks; groups over
// disjoint rank sets may share the store. Waits at most `timeout` for the members. Throws
// std::invalid_argument when `global_rank` is not a member, ranks repeat, or this build lacks the
// backend.
CommGroup make_expert_group(const c10::intrusive_ptr<c10d::Store>& store,
                            const std::vector<int>& ranks, int global_rank, torch::Device device,
                            std::chrono::milliseconds timeout,
                            runtime::MessageBackend backend = runtime::MessageBackend::kAutomatic);

}  // namespace dualpipe::moe
