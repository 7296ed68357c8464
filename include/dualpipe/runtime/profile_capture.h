// ProfileCapture: records a PyTorch-profiler trace of part of a run (CPU ops, the pipeline's
// action annotations and, on GPUs, CUDA kernels) and returns it as Chrome-trace JSON.
#pragma once

#include <string>

namespace dualpipe::runtime {

// Profiles from construction until finish(). One capture per process at a time.
class ProfileCapture {
 public:
  // Starts recording CPU activity, and CUDA activity when `cuda` is true.
  explicit ProfileCapture(bool cuda);
  ~ProfileCapture();
  ProfileCapture(const ProfileCapture&) = delete;
  ProfileCapture& operator=(const ProfileCapture&) = delete;

  // Stops recording and returns the Chrome trace, stamped with "distributedInfo" {rank,
  // world_size} so trace-view can tell ranks apart. LibTorch builds with Kineto write the trace
  // themselves (kernels included); builds without it (Debian's CPU LibTorch) get a trace made
  // from the recorded CPU events: user annotations as "user_annotation", operators as "cpu_op".
  std::string finish(int rank, int world_size);

 private:
  bool running_ = false;
};

}  // namespace dualpipe::runtime
