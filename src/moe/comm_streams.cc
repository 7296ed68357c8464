#include "dualpipe/moe/comm_streams.h"

#ifdef DUALPIPE_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#endif

namespace dualpipe::moe {

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

struct CommStreams::HostFence::Event {
  at::cuda::CUDAEvent event;
};

CommStreams::Scope::Scope(CommStreams& streams, Order order) {
  CudaState* cuda = streams.cuda_.get();
  if (cuda == nullptr) return;
  if (order == Order::kAfterCompute) {
    // cudaStreamWaitEvent takes the event as recorded now, so re-recording it later is harmless.
    cuda->issued.record(c10::cuda::getCurrentCUDAStream(cuda->comm.device_index()));
    cuda->issued.block(cuda->comm);
  }
  guard_ = std::make_unique<Guard>(cuda->comm);
}

CommStreams::HostFence CommStreams::fence() const {
  HostFence fence;
  if (cuda_) {
    fence.event_ = std::make_unique<HostFence::Event>();
    fence.event_->event.record(cuda_->comm);
  }
  return fence;
}

void CommStreams::HostFence::wait() const {
  if (event_) event_->event.synchronize();
}

void CommStreams::mark_used_on_current_stream(const torch::Tensor& tensor) const {
  if (!cuda_ || !tensor.defined() || !tensor.is_cuda()) return;
  c10::cuda::CUDACachingAllocator::recordStream(
      tensor.storage().data_ptr(), c10::cuda::getCurrentCUDAStream(cuda_->comm.device_index()));
}

#else  // CPU-only LibTorch: nothing to order.

struct CommStreams::CudaState {};
struct CommStreams::Scope::Guard {};
struct CommStreams::HostFence::Event {};

CommStreams::CommStreams(torch::Device device) : device_(device) {}

CommStreams::Scope::Scope(CommStreams& /*streams*/, Order /*order*/) {}

CommStreams::HostFence CommStreams::fence() const { return {}; }

void CommStreams::HostFence::wait() const {}

void CommStreams::mark_used_on_current_stream(const torch::Tensor& /*tensor*/) const {}

#endif

CommStreams::~CommStreams() = default;
CommStreams::Scope::~Scope() = default;
CommStreams::HostFence::HostFence() = default;
CommStreams::HostFence::~HostFence() = default;
CommStreams::HostFence::HostFence(HostFence&&) noexcept = default;
CommStreams::HostFence& CommStreams::HostFence::operator=(HostFence&&) noexcept = default;

}  // namespace dualpipe::moe
