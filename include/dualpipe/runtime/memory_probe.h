// Memory probe: bytes a device holds now and at its peak (the CUDA caching allocator's counters),
// and the process's peak resident memory, for the tools' memory reports.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <optional>

namespace dualpipe::runtime {

// What the allocator of a device holds in tensors, in bytes.
struct DeviceMemory {
  int64_t allocated = 0;  // now
  int64_t peak = 0;       // the most since the last reset_peak_memory
};

// The CUDA allocator's counters of `device`; nullopt on the CPU or in a LibTorch without CUDA.
std::optional<DeviceMemory> device_memory(torch::Device device);

// Starts a new peak at what `device` holds now (no-op where device_memory is nullopt).
void reset_peak_memory(torch::Device device);

// This process's peak resident memory so far, in bytes (getrusage).
int64_t peak_resident_bytes();

}  // namespace dualpipe::runtime
