#include "dualpipe/runtime/host_worker.h"

#include <ATen/ThreadLocalState.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <optional>

#include <stdexcept>
#include <utility>

namespace dualpipe::runtime {
namespace {

// Polls `done` until it returns true or `limit` has passed; returns its last value.
template <typename Done>
bool poll_for(std::chrono::microseconds limit, const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return true;
}

}  // namespace

HostWorker::HostWorker(c10::Device device) : device_(device), thread_([this] { loop(); }) {}

HostWorker::~HostWorker() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !task_; });
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void HostWorker::start(std::function<void()> task) {
  at::ThreadLocalState caller_state;
  std::optional<c10::Stream> caller_stream;
  if (device_.type() != c10::kCPU)
    caller_stream = c10::impl::getDeviceGuardImpl(device_.type())->getStream(device_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (started_) throw std::logic_error("HostWorker::start: the previous task was not waited for");
    started_ = true;
    error_ = nullptr;
    task_ = [caller_state = std::move(caller_state), caller_stream, task = std::move(task)] {
      at::ThreadLocalStateGuard state_guard(caller_state);
      if (!caller_stream) return task();
      c10::StreamGuard stream_guard(*caller_stream);
      task();
    };
    busy_.store(true, std::memory_order_release);
  }
  changed_.notify_all();
}

void HostWorker::wait() {
  poll_for(kPollTime, [this] { return !busy_.load(std::memory_order_acquire); });
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !task_; });
  if (!started_) return;
  started_ = false;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void HostWorker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (!task_ && !stopping_) {
      lock.unlock();
      poll_for(kPollTime, [this] { return busy_.load(std::memory_order_acquire); });
      lock.lock();
    }
    changed_.wait(lock, [this] { return task_ || stopping_; });
    if (!task_) return;  // stopping, nothing left to run
    lock.unlock();
    std::exception_ptr error;
    try {
      task_();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    task_ = nullptr;
    busy_.store(false, std::memory_order_release);
    changed_.notify_all();
  }
}

}  // namespace dualpipe::runtime
