#include "dualpipe/runtime/memory_probe.h"

#include <sys/resource.h>

#ifdef DUALPIPE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace dualpipe::runtime {

std::optional<DeviceMemory> device_memory(torch::Device device) {
#ifdef DUALPIPE_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    const auto& bytes = stats.allocated_bytes[0];  // aggregate over pool types
    return DeviceMemory{bytes.current, bytes.peak};
  }
#else
  (void)device;
#endif
  return std::nullopt;
}

void reset_peak_memory(torch::Device device) {
#ifdef DUALPIPE_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
  (void)device;
#endif
}

int64_t peak_resident_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace dualpipe::runtime
