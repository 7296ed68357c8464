#include "dualpipe/runtime/weight_grad_store.h"

#include <torch/nn/module.h>
#include <torch/utils.h>

#include <algorithm>
#include <stdexcept>

namespace dualpipe::runtime {

bool WeightGradStore::deferring() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return deferring_;
}

void WeightGradStore::set_deferring(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  deferring_ = on;
}

void WeightGradStore::run_or_defer(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (deferring_) {
      open_tasks_.push_back(std::move(task));
      return;
    }
  }
  task();
}

void WeightGradStore::flush(const schedule::Chunk& chunk) {
  std::lock_guard<std::mutex> lock(mutex_);
  groups_.push_back(Group{chunk, std::move(open_tasks_)});
  open_tasks_.clear();
}

void WeightGradStore::run_deferring(const schedule::Chunk& chunk,
                                    const std::function<void()>& backward) {
  set_deferring(true);
  try {
    backward();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    deferring_ = false;
    open_tasks_.clear();
    throw;
  }
  set_deferring(false);
  flush(chunk);
}

void WeightGradStore::replay(const schedule::Chunk& chunk) {
  std::vector<Task> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto group = std::find_if(groups_.begin(), groups_.end(),
                              [&](const Group& g) { return g.chunk == chunk; });
    if (group == groups_.end()) {
      throw std::logic_error(
          schedule::to_string(schedule::Action::compute(schedule::Op::kW, chunk)) +
          " has no deferred weight gradients: no I of that chunk ran before it");
    }
    tasks = std::move(group->tasks);
    groups_.erase(group);
  }
  // As inside the autograd engine's backward, where they were recorded: without a graph, or each
  // gradient would carry the history of its activations (and hold them) from step to step.
  torch::NoGradGuard no_grad;
  for (Task& task : tasks) task();
}

std::size_t WeightGradStore::pending_groups() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return groups_.size();
}

std::size_t WeightGradStore::pending_tasks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t tasks = open_tasks_.size();
  for (const Group& group : groups_) tasks += group.tasks.size();
  return tasks;
}

void WeightGradStore::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  deferring_ = false;
  open_tasks_.clear();
  groups_.clear();
}

void run_or_defer(const std::shared_ptr<WeightGradStore>& store, WeightGradStore::Task task) {
  if (store) {
    store->run_or_defer(std::move(task));
  } else {
    task();
  }
}

int attach_weight_grad_store(torch::nn::Module& module,
                             const std::shared_ptr<WeightGradStore>& store) {
  int attached = 0;
  module.apply([&](torch::nn::Module& m) {
    if (auto* deferrable = dynamic_cast<DefersWeightGradients*>(&m)) {
      deferrable->set_weight_grad_store(store);
      ++attached;
    }
  });
  return attached;
}

}  // namespace dualpipe::runtime
