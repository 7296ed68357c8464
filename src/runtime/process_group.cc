#include "dualpipe/runtime/process_group.h"

#include <torch/cuda.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
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

// A timeout as messages show it: "10 s", "2.5 s".
std::string timeout_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                        : std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// The key every rank adds one to when it has reached the store.
constexpr const char* kJoinedKey = "dualpipe/rendezvous/joined";

// The first line of an exception's message (c10::Error without its backtrace).
std::string first_line(const std::exception& error) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
  const std::string text = c10_error ? c10_error->what_without_backtrace() : error.what();
  return text.substr(0, text.find('\n'));
}

// How far a rendezvous got, shared between the thread that runs it and the one that waits.
class RendezvousProgress {
 public:
  void opened(const c10::intrusive_ptr<c10d::Store>& store) {
    const std::lock_guard<std::mutex> lock(mutex_);
    store_ = store;
  }
  void joined(int64_t ranks) {
    const std::lock_guard<std::mutex> lock(mutex_);
    joined_ = ranks;
  }
  void fail(std::exception_ptr error) {
    const std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::move(error);
  }
  void finish() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    finished_signal_.notify_all();
  }

  // Waits until the rendezvous finished or the deadline passed (and a second more for a store
  // call that the deadline interrupts); returns the store once every rank joined.
  c10::intrusive_ptr<c10d::Store> wait(const LaunchEnvironment& env,
                                       std::chrono::steady_clock::time_point deadline,
                                       std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_signal_.wait_until(lock, deadline + std::chrono::seconds(1),
                                [&] { return finished_; });
    const std::string me = "rank " + std::to_string(env.rank) + ": ";
    const std::string where = "the store at " + env.store_address();
    if (error_) {
      try {
        std::rethrow_exception(error_);
      } catch (const std::exception& error) {
        const bool hosts = !env.use_agent_store && env.rank == 0;
        throw std::runtime_error(me + (hosts ? "cannot host " : "cannot reach ") + where + ": " +
                                 first_line(error));
      }
    }
    if (!store_ || joined_ == 0) {  // not even this rank's own join was answered
      throw std::runtime_error(me + "no answer from " + where + " within " + timeout_text(timeout));
    }
    if (joined_ < env.world_size) {
      throw std::runtime_error(me + std::to_string(joined_) + " of " +
                               std::to_string(env.world_size) + " ranks joined " + where +
                               " within " + timeout_text(timeout));
    }
    return store_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable finished_signal_;
  bool finished_ = false;
  c10::intrusive_ptr<c10d::Store> store_;
  int64_t joined_ = 0;
  std::exception_ptr error_;
};

// The store `env` describes: torchrun's agent store when it runs one, otherwise a TCPStore that
// rank 0 hosts. Does not wait for the other ranks.
c10::intrusive_ptr<c10d::Store> open_store(const LaunchEnvironment& env,
                                           std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.timeout = timeout;
  options.waitWorkers = false;
  if (env.use_agent_store) {
    // torchrun's agent hosts the store; its workers' keys live under this prefix.
    options.isServer = false;
    auto store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    return c10::make_intrusive<c10d::PrefixStore>(
        "/worker/attempt_" + std::to_string(env.restart_count), store);
  }
  options.isServer = env.rank == 0;
  options.numWorkers = static_cast<std::size_t>(env.world_size);
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
}

// Counts this rank in and polls until every rank of `env` has, or the deadline passed.
void join_store(c10d::Store& store, const LaunchEnvironment& env,
                std::chrono::steady_clock::time_point deadline, RendezvousProgress& progress) {
  int64_t joined = store.add(kJoinedKey, 1);
  while (true) {
    progress.joined(joined);
    if (joined >= env.world_size || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    joined = store.add(kJoinedKey, 0);
  }
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
  const auto progress = std::make_shared<RendezvousProgress>();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The store's own calls may block past any timeout (a listener that never answers), so they run
  // on a thread of their own that this one stops waiting for at the deadline.
  std::thread([env, timeout, deadline, progress] {
    try {
      const c10::intrusive_ptr<c10d::Store> store = open_store(env, timeout);
      progress->opened(store);
      join_store(*store, env, deadline, *progress);
    } catch (...) {
      progress->fail(std::current_exception());
    }
    progress->finish();
  }).detach();
  return progress->wait(env, deadline, timeout);
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
  const bool nccl = resolve_backend(backend, device) == MessageBackend::kNccl;
  if (!nccl) make_current(device);
  try {
    return nccl ? make_nccl(store, rank, size, device, timeout)
                : make_gloo(store, rank, size, timeout);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& error) {
    // Gloo connects to every peer here and NCCL exchanges its id through the store: both wait.
    throw std::runtime_error("rank " + std::to_string(rank) + ": the " + (nccl ? "NCCL" : "Gloo") +
                             " communicator of " + std::to_string(size) +
                             " ranks did not connect within " + timeout_text(timeout) + ": " +
                             first_line(error));
  }
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
