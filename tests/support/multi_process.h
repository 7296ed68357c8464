// A test helper that runs one GoogleTest body in several processes joined by c10d Gloo groups:
// the test re-launches its own binary for itself, one process per rank, over a TCPStore that the
// launching process hosts on a free port, and fails on any worker failure or a timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#include "dualpipe/runtime/parallel_mesh.h"

namespace dualpipe::testing {

// What a worker knows: its rank, the world size and the store all workers share.
struct Worker {
  int rank = 0;
  int world_size = 1;
  c10::intrusive_ptr<c10d::Store> store;

  // A Gloo group of the global ranks `members` (this rank must be one of them); `name` keeps the
  // groups of one test apart. Collective over the members.
  runtime::GroupHandle group(const std::string& name, const std::vector<int>& members) const;
  // A Gloo group of every rank.
  runtime::GroupHandle world() const;
};

// In the launching test: starts `world_size` workers running this test, waits for them (at most
// `timeout`) and records a failure for each worker that fails, crashes or times out. In a worker:
// runs `body` (GoogleTest assertions in it decide the worker's exit code). A test may launch
// several jobs one after another; each worker runs the body of its own job only.
void run_in_processes(int world_size, const std::function<void(const Worker&)>& body,
                      std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace dualpipe::testing
