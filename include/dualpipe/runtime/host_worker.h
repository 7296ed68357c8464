// HostWorker: one extra host thread that runs a task while the calling thread does other work
// (the pipeline runs an overlapped pair's backward on it while the forward runs on the caller).
#pragma once

#include <c10/core/Device.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace dualpipe::runtime {

// Runs one task at a time on its own thread. A task sees the thread-local state of the thread that
// started it (grad mode, profiler, dispatch settings), as PyTorch's own worker threads do, and, on
// an accelerator `device`, that thread's current stream. Both sides poll for a short while
// (kPollTime) before they sleep: waking a sleeping thread costs tens of microseconds, as much as a
// small stage's kernel launches, and pairs come every few hundred microseconds.
class HostWorker {
 public:
  explicit HostWorker(c10::Device device = c10::Device(c10::kCPU));
  ~HostWorker();  // waits for a running task, then ends the thread
  HostWorker(const HostWorker&) = delete;
  HostWorker& operator=(const HostWorker&) = delete;

  // Starts `task` on the worker thread and returns at once. Throws std::logic_error while an
  // earlier task has not been waited for.
  void start(std::function<void()> task);

  // Waits for the task started last; rethrows what it threw. No-op when none was started.
  void wait();

 private:
  // How long either side polls before it sleeps on the condition variable.
  static constexpr std::chrono::microseconds kPollTime{1000};

  void loop();

  c10::Device device_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> task_;  // set while a task waits to run or runs
  std::atomic<bool> busy_{false};  // task_ is set (read without the mutex while polling)
  bool started_ = false;        // a task was started and not yet waited for
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace dualpipe::runtime
