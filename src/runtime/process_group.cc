#include "dualpipe/runtime/process_group.h"

#include <torch/cuda.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#ifdef DUALPIPE_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DUALPIPE_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace dualpipe::runtime {
namespace {

c10::intrusive_ptr<Communicator> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                           int size, std::chrono::milliseconds timeout) {
#ifdef DUALPIPE_WITH_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // The interface GLOO_SOCKET_IFNAME names, else the one this host's name resolves to (as
  // torch.distributed does).
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(
      interface != nullptr && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(
                                               interface)
                                         : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
#else
  (void)store, (void)rank, (void)size, (void)timeout;
  throw std::invalid_argument(
      "this build has no Gloo (LibTorch's headers lack it, like the PyTorch wheel's): use NCCL on "
      "CUDA devices, or build with Debian's libgloo-dev headers");
#endif
}

// Makes a CUDA `device` the calling thread's current device (NCCL's communicators and the
// tensors a pipeline allocates go there).
void make_current(torch::Device device) {
#ifdef DUALPIPE_WITH_CUDA
  if (device.is_cuda()) c10::cuda::set_device(device.index() < 0 ? 0 : device.index());
#else
  (void)device;
#endif
}

c10::intrusive_ptr<Communicator> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                           int size, torch::Device device,
                                           std::chrono::milliseconds timeout) {
  if (!device.is_cuda())
    throw std::invalid_argument("NCCL carries CUDA tensors only, not " + device.str() + " ones");
#ifdef DUALPIPE_WITH_CUDA
  make_current(device);
  auto options = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/true);
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
#else
  (void)store, (void)rank, (void)size, (void)timeout;
  throw std::invalid_argument("device " + device.str() +
                              " needs NCCL, but this build of dualpipe has no CUDA support");
#endif
}

c10::intrusive_ptr<c10d::Store> prefixed(const std::string& prefix,
                                         const c10::intrusive_ptr<c10d::Store>& store) {
  return c10::make_intrusive<c10d::PrefixStore>(prefix, store);
}

}  // namespace

namespace {

void check_peer(const PipelineGroup& group, int peer) {
  if (peer < 0 || peer >= group.size || peer == group.rank) {
    throw std::invalid_argument("rank " + std::to_string(group.rank) + " has no peer " +
                                std::to_string(peer) + " in a pipeline of " +
                                std::to_string(group.size));
  }
}

}  // namespace

Communicator& PipelineGroup::sending_to(int peer) const {
  check_peer(*this, peer);
  return peer > rank ? *upward : *downward;
}

Communicator& PipelineGroup::receiving_from(int peer) const {
  check_peer(*this, peer);
  return peer < rank ? *upward : *downward;
}

c10::intrusive_ptr<c10d::Store> connect_store(const LaunchEnvironment& env,
                                              std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.timeout = timeout;
  if (env.use_agent_store) {
    // torchrun's agent hosts the store; its workers' keys live under this prefix.
    options.isServer = false;
    options.waitWorkers = false;
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    return prefixed("/worker/attempt_" + std::to_string(env.restart_count), store);
  }
  options.isServer = env.rank == 0;
  options.numWorkers = static_cast<std::size_t>(env.world_size);
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
}

MessageBackend message_backend_named(const std::string& name) {
  if (name == "auto") return MessageBackend::kAutomatic;
  if (name == "nccl") return MessageBackend::kNccl;
  if (name == "gloo") return MessageBackend::kGloo;
  throw std::invalid_argument("unknown message backend '" + name + "' (auto, nccl or gloo)");
}

MessageBackend resolve_backend(MessageBackend backend, torch::Device device) {
  if (backend != MessageBackend::kAutomatic) return backend;
  return device.is_cuda() ? MessageBackend::kNccl : MessageBackend::kGloo;
}

c10::intrusive_ptr<Communicator> make_communicator(const c10::intrusive_ptr<c10d::Store>& store,
                                                   int rank, int size, torch::Device device,
                                                   std::chrono::milliseconds timeout,
                                                   MessageBackend backend) {
  if (resolve_backend(backend, device) == MessageBackend::kNccl)
    return make_nccl(store, rank, size, device, timeout);
  make_current(device);
  return make_gloo(store, rank, size, timeout);
}

PipelineGroup make_pipeline_group(const c10::intrusive_ptr<c10d::Store>& store,
                                  const std::vector<int>& ranks, int global_rank,
                                  torch::Device device, std::chrono::milliseconds timeout,
                                  MessageBackend backend) {
  const auto me = std::find(ranks.begin(), ranks.end(), global_rank);
  if (me == ranks.end()) {
    throw std::invalid_argument("rank " + std::to_string(global_rank) +
                                " is not a member of the pipeline it creates");
  }
  std::string name = "dualpipe/pipeline";
  for (int r : ranks) name += "/" + std::to_string(r);
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (ranks[i] < 0 || std::count(ranks.begin(), ranks.end(), ranks[i]) != 1) {
      throw std::invalid_argument("pipeline ranks must be distinct and non-negative: " + name);
    }
  }
  PipelineGroup group;
  group.rank = static_cast<int>(me - ranks.begin());
  group.size = static_cast<int>(ranks.size());
  group.device = device;
  group.backend = resolve_backend(backend, device);
  group.timeout = timeout;
  group.store = prefixed(name + "/keys", store);
  group.upward = make_communicator(prefixed(name + "/up", store), group.rank, group.size, device,
                                   timeout, group.backend);
  group.downward = make_communicator(prefixed(name + "/down", store), group.rank, group.size,
                                     device, timeout, group.backend);
  return group;
}

torch::Device default_device(const LaunchEnvironment& env) {
  if (torch::cuda::is_available()) return cuda_device_of(env, MessageBackend::kAutomatic);
  return torch::Device(torch::kCPU);
}

torch::Device cuda_device_of(const LaunchEnvironment& env, MessageBackend backend) {
  if (!torch::cuda::is_available()) throw std::invalid_argument("no CUDA device is available");
  const int gpus = static_cast<int>(torch::cuda::device_count());
  if (backend == MessageBackend::kGloo)
    return torch::Device(torch::kCUDA, static_cast<int8_t>(env.local_rank % gpus));
  if (env.local_rank >= gpus) {
    throw std::invalid_argument(
        "LOCAL_RANK " + std::to_string(env.local_rank) + " but " + std::to_string(gpus) +
        " GPU(s): NCCL needs a GPU per rank (over Gloo, ranks may share one)");
  }
  return torch::Device(torch::kCUDA, static_cast<int8_t>(env.local_rank));
}

PipelineGroup pipeline_group_from_environment(const LaunchEnvironment& env,
                                              std::chrono::milliseconds timeout) {
  return make_pipeline_group(connect_store(env, timeout), env.all_ranks(), env.rank,
                             default_device(env), timeout);
}

}  // namespace dualpipe::runtime
