// ParallelMesh: the c10d groups a training step of pipeline x data x expert parallelism needs,
// made once per process from a torchrun launch (or a store) and the mesh's degrees.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/mesh_layout.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/rank_agreement.h"

namespace dualpipe::runtime {

// A c10d communicator shared by the objects that use it; null for a group of one process.
using GroupHandle = c10::intrusive_ptr<Communicator>;

// This process's place in the mesh and its groups. Every rank of the launch constructs one with
// the same shape. Groups of one process are null (nothing to exchange).
class ParallelMesh {
 public:
  // Checks, through `store`, that every rank passes the same world size and shape and that the
  // shape factors the world (MeshLayout); when not, throws std::invalid_argument with the same
  // message on every rank, before any group is made. Then makes this rank's pipeline group, its
  // data-parallel, expert-parallel and expert-data-parallel groups, on `device` over `backend`.
  ParallelMesh(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size, MeshShape shape,
               torch::Device device, std::chrono::milliseconds timeout,
               MessageBackend backend = MessageBackend::kAutomatic);

  // The mesh over every process of a torchrun launch (single node or `--nnodes N`), connecting to
  // its rendezvous store.
  static ParallelMesh from_environment(const LaunchEnvironment& env, MeshShape shape,
                                       torch::Device device, std::chrono::milliseconds timeout,
                                       MessageBackend backend = MessageBackend::kAutomatic);

  const MeshLayout& layout() const { return layout_; }
  const MeshShape& shape() const { return layout_.shape(); }
  int rank() const { return rank_; }
  const MeshCoordinates& coordinates() const { return coordinates_; }
  torch::Device device() const { return device_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  const c10::intrusive_ptr<c10d::Store>& store() const { return store_; }

  // This replica's pipeline (pipeline rank = coordinates().pipeline).
  const PipelineGroup& pipeline() const { return pipeline_; }
  // The replicas of this pipeline rank (dp ranks; null when dp is 1).
  const GroupHandle& data_parallel() const { return data_parallel_; }
  // The ranks this one exchanges MoE tokens with (ep ranks; null when ep is 1).
  const GroupHandle& expert_parallel() const { return expert_parallel_; }
  // The ranks holding the same experts as this one (dp / ep ranks; null when that is 1).
  const GroupHandle& expert_data_parallel() const { return expert_data_parallel_; }

  // Every rank brings `report` under the same `key` (unique per exchange); returns the common
  // outcome (see agree() in rank_agreement.h). Goes through the store only; a barrier.
  Agreement agree_all(const std::string& key, const RankReport& report) const;
  // Every rank's `text` under `key` (unique per exchange), by rank; through the store only.
  std::vector<std::string> all_gather_text(const std::string& key, const std::string& text) const;
  // This rank's last use of the store (see leave_store in rank_agreement.h). Never throws.
  void leave_store() const noexcept;

  // A communicator over the global ranks `ranks` (this rank must be one of them), named `name`
  // (unique per group). Collective over the members: they create their groups in one order.
  GroupHandle make_group(const std::string& name, const std::vector<int>& ranks) const;

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  int rank_;
  PipelineGroup everyone_;  // every rank, for store exchanges only (no communicators)
  MeshLayout layout_;
  MeshCoordinates coordinates_;
  torch::Device device_;
  std::chrono::milliseconds timeout_;
  MessageBackend backend_;
  PipelineGroup pipeline_;
  GroupHandle data_parallel_;
  GroupHandle expert_parallel_;
  GroupHandle expert_data_parallel_;
  // How many groups of each name this rank made (make_group).
  std::shared_ptr<std::map<std::string, int>> groups_made_ =
      std::make_shared<std::map<std::string, int>>();
};

}  // namespace dualpipe::runtime
