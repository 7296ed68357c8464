// Parallel tasks: runs independent tasks on a few threads, the calling thread among them. Internal
// to the trace library (reading files side by side, and one file's pieces).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace dualpipe::trace {

// Runs tasks 0 .. count-1 on up to `threads` threads (at least one, at most one per task), each
// thread taking the next task in turn. `make_worker()` is called once per thread and returns the
// callable that thread runs its tasks with (`worker(task)`), so that a thread may keep its own
// state. After every task ran, rethrows the exception of the first failed task in task order.
template <typename MakeWorker>
void run_tasks(std::size_t count, unsigned threads, const MakeWorker& make_worker) {
  std::vector<std::exception_ptr> errors(count);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    auto worker = make_worker();
    for (std::size_t task = next++; task < count; task = next++) {
      try {
        worker(task);
      } catch (...) {
        errors[task] = std::current_exception();
      }
    }
  };
  const auto used =
      static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(count, 1)));
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < used; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace dualpipe::trace
