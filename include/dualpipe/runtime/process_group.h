// PipelineGroup: the rendezvous store and c10d communicators one pipeline uses (NCCL on CUDA,
// Gloo on CPU where LibTorch has Gloo, or Gloo on CUDA through host memory), made from a torchrun
// environment or for a sub-group.
#pragma once

#include <torch/types.h>
#include <torch/version.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#include "dualpipe/runtime/launch_environment.h"

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace dualpipe::runtime {

// The c10d class that ProcessGroupGloo and ProcessGroupNCCL derive from (it changed in PyTorch 2).
#if TORCH_VERSION_MAJOR >= 2
using Communicator = c10d::Backend;
#else
using Communicator = c10d::ProcessGroup;
#endif

// The c10d library that carries a pipeline's messages. `automatic` is NCCL for a CUDA device and
// Gloo for the CPU. Gloo on a CUDA device copies every message through host memory: slow, but
// it lets several ranks share one GPU (NCCL refuses that), e.g. to test a multi-rank schedule's
// streams and CUDA graphs on a machine with one GPU.
enum class MessageBackend { kAutomatic, kNccl, kGloo };

// The backend named `name` as the tools' --comm-backend flags spell it: "auto", "nccl" or "gloo".
// Throws std::invalid_argument for any other name.
MessageBackend message_backend_named(const std::string& name);

// The communicators of one pipeline. Ranks are pipeline ranks (0..size-1, the schedule's ranks).
// Point-to-point traffic uses one communicator per direction, so a receive posted early on the
// way down never queues a send on the way up behind it (NCCL runs each communicator's operations
// between two ranks in order on one stream).
struct PipelineGroup {
  int rank = 0;                               // this process in the pipeline
  int size = 1;                               // pipeline ranks
  torch::Device device{torch::kCPU};          // where stages, activations and gradients live
  MessageBackend backend{};                   // what `upward` and `downward` are (nccl or gloo)
  std::chrono::milliseconds timeout{0};       // the longest any wait may take before it fails
  c10::intrusive_ptr<c10d::Store> store;      // this group's keys only: per-step agreement
  c10::intrusive_ptr<Communicator> upward;    // messages from lower to higher ranks
  c10::intrusive_ptr<Communicator> downward;  // messages from higher to lower ranks
  // Pipelines made on this group so far (shared by copies); names each one's keys in `store`.
  std::shared_ptr<int> pipelines_made = std::make_shared<int>(0);
  // Keys this rank wrote in its latest store exchanges (rank_agreement.h), deleted once every
  // rank is known to have read them.
  std::shared_ptr<std::deque<std::string>> exchange_keys =
      std::make_shared<std::deque<std::string>>();

  // The communicator that carries messages from this rank to `peer`.
  Communicator& sending_to(int peer) const;
  // The communicator that carries messages from `peer` to this rank.
  Communicator& receiving_from(int peer) const;
  bool uses_nccl() const { return backend == MessageBackend::kNccl; }
  // True when messages travel between host copies of `device`'s tensors (Gloo on a CUDA device).
  bool stages_through_host() const { return device.is_cuda() && backend == MessageBackend::kGloo; }
};

// Connects to the rendezvous store `env` describes (torchrun's agent store when it runs one,
// otherwise a TCPStore that rank 0 hosts at MASTER_ADDR:MASTER_PORT) and waits until all
// WORLD_SIZE ranks have joined it: at most `timeout` in all, even when the store never answers.
// Throws std::runtime_error with one line saying what was awaited: "rank 0: 1 of 2 ranks joined
// the store at 127.0.0.1:29500 within 10 s", "rank 1: no answer from the store at ... within
// 10 s", "rank 0: cannot host the store at ...: <reason>".
c10::intrusive_ptr<c10d::Store> connect_store(const LaunchEnvironment& env,
                                              std::chrono::milliseconds timeout);

// What `backend` means for tensors on `device`: NCCL or Gloo, never automatic.
MessageBackend resolve_backend(MessageBackend backend, torch::Device device);

// A communicator of `size` processes over `store`: by default NCCL on a CUDA device and Gloo on
// the CPU; a CUDA device becomes the current device. Throws std::invalid_argument when this build
// or LibTorch lacks the backend, and for NCCL on the CPU. Waits at most `timeout` for the peers,
// then throws std::runtime_error "rank R: the Gloo communicator of N ranks did not connect within
// T s: <reason>".
c10::intrusive_ptr<Communicator> make_communicator(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, torch::Device device,
    std::chrono::milliseconds timeout, MessageBackend backend = MessageBackend::kAutomatic);

// Creates the communicators of the pipeline made of the global ranks `ranks` (pipeline rank i is
// ranks[i]); `global_rank` must be one of them, and every member must pass the same `ranks`.
// Pipelines over disjoint rank sets (e.g. one per data-parallel replica) can share `store`.
// By default CUDA devices get NCCL (and become the current device) and the CPU gets Gloo; `backend`
// picks another (see MessageBackend). Throws std::invalid_argument for bad ranks, for NCCL on the
// CPU and when this build lacks the backend (the PyTorch wheel ships no Gloo headers; build with
// Debian's libgloo-dev, see docs/performance.md), and std::runtime_error when peers do not join
// within `timeout` (see make_communicator).
PipelineGroup make_pipeline_group(const c10::intrusive_ptr<c10d::Store>& store,
                                  const std::vector<int>& ranks, int global_rank,
                                  torch::Device device, std::chrono::milliseconds timeout,
                                  MessageBackend backend = MessageBackend::kAutomatic);

// The device a process of `env` should use: cuda:LOCAL_RANK when CUDA is available, else CPU.
// Throws std::invalid_argument when there are fewer GPUs than local ranks (see cuda_device_of).
torch::Device default_device(const LaunchEnvironment& env);

// The GPU a process of `env` uses with `backend`: cuda:LOCAL_RANK; over Gloo, ranks may share GPUs
// (LOCAL_RANK modulo the GPUs there are). Throws std::invalid_argument when there is no GPU, or
// when NCCL would need more GPUs than there are (it needs one per rank).
torch::Device cuda_device_of(const LaunchEnvironment& env, MessageBackend backend);

// One pipeline over every process of the launch (`torchrun --nproc-per-node K --no-python app`
// or a multi-node launch), on default_device(env).
PipelineGroup pipeline_group_from_environment(const LaunchEnvironment& env,
                                              std::chrono::milliseconds timeout);

}  // namespace dualpipe::runtime
