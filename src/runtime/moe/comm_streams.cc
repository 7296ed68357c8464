#include "dualpipe/runtime/moe/comm_streams.h"

#ifdef DUALPIPE_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#endif

namespace dualpipe::runtime::moe {

#ifdef DUALPIPE_WITH_CUDA

struct CommStreams::CudaState {
  explicit CudaState(c10::DeviceIndex index)
      : comm(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, index)) {}
  c10::cuda::CUDAStream comm;
  at::cuda::CUDAEvent issued;  // re-recorded at every Scope entry
};

struct CommStreams::Scope::Guard {
  explicit Guard(c10::cuda::CUDAStream stream) : guard(stream) {}
  c10::cuda::CUDAStreamGuard guard;
};

CommStreams::CommStreams(torch::Device device) : device_(device) {
  if (device_.is_cuda())
    cuda_ = std::make_unique<CudaState>(device_.index() < 0 ? 0 : device_.index());
}

CommStreams::Scope::Scope(CommStreams& streams) {
  CudaState* cuda = streams.cuda_.get();
  if (cuda == nullptr) return;
  // cudaStreamWaitEvent takes the event as recorded now, so re-recording it later is harmless.
  cuda->issued.record(c10::cuda::getCurrentCUDAStream(cuda->comm.device_index()));
  cuda->issued.block(cuda->comm);
  guard_ = std::make_unique<Guard>(cuda->comm);
}

#else  // CPU-only LibTorch: nothing to order.

struct CommStreams::CudaState {};
struct CommStreams::Scope::Guard {};

CommStreams::CommStreams(torch::Device device) : device_(device) {}

CommStreams::Scope::Scope(CommStreams& /*streams*/) {}

#endif

CommStreams::~CommStreams() = default;
CommStreams::Scope::~Scope() = default;

}  // namespace dualpipe::runtime::moe
