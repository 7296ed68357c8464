#include "dualpipe/runtime/stage_streams.h"

#ifdef DUALPIPE_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace dualpipe::runtime {

#ifdef DUALPIPE_WITH_CUDA

struct StageStreams::CudaState {
  std::vector<c10::cuda::CUDAStream> streams;  // one per local stage
  at::cuda::CUDAEvent forked;                  // recorded on the main stream at each Fork
  std::vector<at::cuda::CUDAEvent> joined;     // per stage, recorded when a Fork closes
  c10::DeviceIndex device_index = 0;
};

StageStreams::StageStreams(torch::Device device, int num_stages, bool enabled) {
  if (!enabled || !device.is_cuda()) return;
  cuda_ = std::make_unique<CudaState>();
  cuda_->device_index = device.index() < 0 ? 0 : device.index();
  for (int i = 0; i < num_stages; ++i) {
    cuda_->streams.push_back(
        c10::cuda::getStreamFromPool(/*isHighPriority=*/false, cuda_->device_index));
  }
  cuda_->joined.resize(static_cast<std::size_t>(num_stages));
}

std::optional<c10::Stream> StageStreams::stream(int stage) const {
  if (!cuda_) return std::nullopt;
  return cuda_->streams.at(static_cast<std::size_t>(stage)).unwrap();
}

StageStreams::Fork::Fork(StageStreams& streams, std::vector<int> stages)
    : streams_(streams), stages_(std::move(stages)) {
  CudaState* cuda = streams_.cuda_.get();
  if (cuda == nullptr) return;
  const c10::cuda::CUDAStream main = c10::cuda::getCurrentCUDAStream(cuda->device_index);
  main_ = main.unwrap();
  // cudaStreamWaitEvent takes the event as recorded now, so re-recording it later is harmless.
  cuda->forked.record(main);
  for (int stage : stages_) cuda->forked.block(cuda->streams.at(static_cast<std::size_t>(stage)));
}

StageStreams::Fork::~Fork() {
  CudaState* cuda = streams_.cuda_.get();
  if (cuda == nullptr) return;
  const c10::cuda::CUDAStream main(c10::cuda::CUDAStream::UNCHECKED, *main_);
  try {
    for (int stage : stages_) {
      at::cuda::CUDAEvent& joined = cuda->joined.at(static_cast<std::size_t>(stage));
      joined.record(cuda->streams.at(static_cast<std::size_t>(stage)));
      joined.block(main);
    }
  } catch (...) {
    // A CUDA error here (the device is failing) resurfaces at the next synchronizing call.
  }
}

void StageStreams::Fork::reads(int stage, const std::vector<torch::Tensor>& tensors) const {
  CudaState* cuda = streams_.cuda_.get();
  if (cuda == nullptr) return;
  const c10::Stream stream = cuda->streams.at(static_cast<std::size_t>(stage)).unwrap();
  for (const torch::Tensor& t : tensors) {
    if (t.defined() && t.is_cuda()) t.record_stream(stream);
  }
}

#else  // CPU-only LibTorch: no streams.

struct StageStreams::CudaState {};

StageStreams::StageStreams(torch::Device /*device*/, int /*num_stages*/, bool /*enabled*/) {}

std::optional<c10::Stream> StageStreams::stream(int /*stage*/) const { return std::nullopt; }

StageStreams::Fork::Fork(StageStreams& streams, std::vector<int> stages)
    : streams_(streams), stages_(std::move(stages)) {}

StageStreams::Fork::~Fork() = default;

void StageStreams::Fork::reads(int /*stage*/, const std::vector<torch::Tensor>& /*tensors*/) const {}

#endif

StageStreams::~StageStreams() = default;

}  // namespace dualpipe::runtime
