// HostTimeline: records when each profiler scope (operators, the pipeline's action annotations,
// c10d calls) ran on which host thread, through RecordFunction callbacks only: no CUPTI and no
// Kineto, so the host timing stays close to an unprofiled run.
#pragma once

#include <ATen/record_function.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dualpipe::runtime {

// Records from construction until finish(). One timeline per process at a time.
class HostTimeline {
 public:
  HostTimeline();
  ~HostTimeline();
  HostTimeline(const HostTimeline&) = delete;
  HostTimeline& operator=(const HostTimeline&) = delete;

  // Stops recording and returns a Chrome trace: one complete ("X") event per scope, pid `rank`,
  // one tid per host thread, times in microseconds since construction.
  std::string finish(int rank);

  // One finished scope.
  struct Span {
    std::string name;
    uint64_t thread = 0;
    double start_us = 0;
    double duration_us = 0;
  };

 private:
  void record(Span span);

  std::chrono::steady_clock::time_point origin_;
  std::mutex mutex_;
  std::vector<Span> spans_;
  at::CallbackHandle handle_ = 0;
  bool running_ = false;
};

}  // namespace dualpipe::runtime
