#include "dualpipe/runtime/moe/comm_group.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#ifdef DUALPIPE_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DUALPIPE_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace dualpipe::runtime::moe {

CommGroup make_expert_group(const c10::intrusive_ptr<c10d::Store>& store,
                            const std::vector<int>& ranks, int global_rank, torch::Device device,
                            std::chrono::milliseconds timeout) {
  const auto me = std::find(ranks.begin(), ranks.end(), global_rank);
  if (me == ranks.end() || std::set<int>(ranks.begin(), ranks.end()).size() != ranks.size()) {
    throw std::invalid_argument("expert group: rank " + std::to_string(global_rank) +
                                " must be one of its distinct ranks");
  }
  std::string name = "dualpipe/experts";
  for (int r : ranks) name += "/" + std::to_string(r);
  const auto prefixed = c10::make_intrusive<c10d::PrefixStore>(name, store);
  const int rank = static_cast<int>(me - ranks.begin());
  const int size = static_cast<int>(ranks.size());
  if (device.is_cuda()) {
#ifdef DUALPIPE_WITH_CUDA
    c10::cuda::set_device(device.index() < 0 ? 0 : device.index());
    auto options = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/true);
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, size, options);
#else
    throw std::invalid_argument("expert group: " + device.str() +
                                " needs NCCL, which this build lacks");
#endif
  }
#ifdef DUALPIPE_WITH_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank, size, options);
#else
  throw std::invalid_argument(
      "expert group: the CPU needs Gloo, which this LibTorch lacks; use CUDA");
#endif
}

}  // namespace dualpipe::runtime::moe
