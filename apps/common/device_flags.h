// device_flags: the benches' --dtype, --device and --comm-backend flags, turned into LibTorch's
// dtype, this rank's device and the c10d backend that carries its messages (header-only: only the
// LibTorch tools use it).
#pragma once

#include <torch/types.h>

#include <stdexcept>
#include <string>

#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/process_group.h"

namespace dualpipe::apps {

// The dtype that --dtype names: float32, float64 or bfloat16. Throws std::invalid_argument for
// any other name.
inline torch::Dtype dtype_named(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  if (name == "bfloat16") return torch::kBFloat16;
  throw std::invalid_argument("--dtype: expected float32, float64 or bfloat16, got '" + name + "'");
}

// Where a bench rank runs and what carries its messages.
struct DevicePlacement {
  torch::Device device{torch::kCPU};
  runtime::MessageBackend backend = runtime::MessageBackend::kAutomatic;
};

// `device_flag` is cpu or cuda, `backend_flag` auto, nccl or gloo. CUDA ranks use cuda:LOCAL_RANK,
// or share GPUs over Gloo. Throws std::invalid_argument naming the flag for impossible choices.
inline DevicePlacement place_rank(const std::string& device_flag, const std::string& backend_flag,
                                  const runtime::LaunchEnvironment& env) {
  DevicePlacement placement;
  placement.backend = runtime::message_backend_named(backend_flag);
  if (device_flag != "cuda") {
    if (placement.backend == runtime::MessageBackend::kNccl)
      throw std::invalid_argument("--comm-backend nccl needs --device cuda");
    return placement;
  }
  try {
    placement.device = runtime::cuda_device_of(env, placement.backend);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("--device cuda: ") + error.what());
  }
  return placement;
}

}  // namespace dualpipe::apps
