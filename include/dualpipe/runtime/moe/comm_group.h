// CommGroup: the c10d process group the MoE layer exchanges tokens over (its expert-parallel
// ranks).
#pragma once

#include <torch/types.h>
#include <torch/version.h>

#include <chrono>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

namespace dualpipe::runtime::moe {

// The c10d type ProcessGroupGloo and ProcessGroupNCCL derive from: ProcessGroup in LibTorch 1.x,
// Backend in 2.x. Both offer alltoall_base, send, recv, allreduce, getRank and getSize.
#if TORCH_VERSION_MAJOR >= 2
using CommBackend = c10d::Backend;
#else
using CommBackend = c10d::ProcessGroup;
#endif

// A shared handle to the expert-parallel group; a null handle means one process holds every expert.
using CommGroup = c10::intrusive_ptr<CommBackend>;

// This process's rank in `group` (0 for a null group).
inline int group_rank(const CommGroup& group) { return group ? group->getRank() : 0; }

// Ranks in `group` (1 for a null group).
inline int group_size(const CommGroup& group) { return group ? group->getSize() : 1; }

// Creates the expert-parallel group of the global ranks `ranks` (its rank i is ranks[i]) on
// `store`: NCCL for a CUDA device (which becomes the current device), Gloo for the CPU. Every
// member calls it with the same ranks; groups over disjoint rank sets may share the store. Waits
// at most `timeout` for the members. Throws std::invalid_argument when `global_rank` is not a
// member or ranks repeat.
CommGroup make_expert_group(const c10::intrusive_ptr<c10d::Store>& store,
                            const std::vector<int>& ranks, int global_rank, torch::Device device,
                            std::chrono::milliseconds timeout);

}  // namespace dualpipe::runtime::moe
