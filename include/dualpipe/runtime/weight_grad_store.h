// WeightGradStore: weight-gradient work that zero-bubble backward passes (I) defer and W replays.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "dualpipe/schedule/action.h"

namespace torch::nn {
class Module;
}

namespace dualpipe::runtime {

// A queue of deferred weight-gradient tasks, grouped by the backward (I) that produced them. The
// pipeline executor owns one per pipeline and shares it with the deferrable modules of its stages:
// around an I action it switches deferring on, runs the backward (modules hand their weight part
// to run_or_defer), switches it off and flush()es the tasks into a group labelled with the I's
// chunk; the matching W action replay()s that group. Schedules replay in FIFO order. Thread-safe:
// autograd may call run_or_defer from its worker threads.
class WeightGradStore {
 public:
  // One deferred computation, e.g. "weight.grad += grad_output^T @ input".
  using Task = std::function<void()>;

  // True while the executor runs an input-only backward; then run_or_defer() keeps tasks.
  bool deferring() const;
  void set_deferring(bool on);

  // Runs `task` now, or keeps it for the next flush() while deferring.
  void run_or_defer(Task task);

  // Closes the tasks kept since the last flush into one group labelled `chunk` (possibly empty).
  void flush(const schedule::Chunk& chunk);

  // An input-only backward: runs `backward` with deferring on and flush()es what it kept into a
  // group labelled `chunk`. If `backward` throws, deferring goes off, what it kept is dropped (a
  // failed backward's weight gradients must never be replayed) and the exception propagates.
  void run_deferring(const schedule::Chunk& chunk, const std::function<void()>& backward);

  // Runs and removes the group labelled `chunk` (the oldest one in FIFO schedules). Throws
  // std::logic_error when no such group is pending.
  void replay(const schedule::Chunk& chunk);

  // Groups flushed and not yet replayed.
  std::size_t pending_groups() const;

  // Tasks kept and not yet replayed, in every group and since the last flush.
  std::size_t pending_tasks() const;

  // Drops every pending task and group and switches deferring off (after a failed step).
  void clear();

 private:
  struct Group {
    schedule::Chunk chunk;
    std::vector<Task> tasks;
  };

  mutable std::mutex mutex_;
  bool deferring_ = false;
  std::vector<Task> open_tasks_;
  std::deque<Group> groups_;
};

// Runs `task` through `store` (kept while it is deferring), or at once when `store` is null: what
// a module's backward does with its weight-gradient work.
void run_or_defer(const std::shared_ptr<WeightGradStore>& store, WeightGradStore::Task task);

// Implemented by modules whose backward can defer their weight-gradient work to a store (e.g.
// DeferrableLinear, or an MoE layer's expert weights).
class DefersWeightGradients {
 public:
  virtual ~DefersWeightGradients() = default;
  // Uses `store` from now on (nullptr: compute weight gradients immediately, always).
  virtual void set_weight_grad_store(std::shared_ptr<WeightGradStore> store) = 0;
};

// Hands `store` to `module` and every module below it that implements DefersWeightGradients.
// Returns how many modules took it.
int attach_weight_grad_store(torch::nn::Module& module,
                             const std::shared_ptr<WeightGradStore>& store);

}  // namespace dualpipe::runtime
