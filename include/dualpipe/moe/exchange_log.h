// ExchangeLog: what a micro-batch's exchanges received during a forward that runs without a graph,
// so that the forward can run again for the backward (activation recomputation) without sending
// its tokens a second time.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <vector>

namespace dualpipe::moe {

// Records the exchanges of one forward in order, then plays them back in the same order.
class ExchangeLog {
 public:
  // True once playback started: exchanges then take their results from the log.
  bool replaying() const { return replaying_; }

  // Keeps what the next exchange of the forward received.
  void record(std::vector<torch::Tensor> received) { records_.push_back(std::move(received)); }

  // Switches to playback, from the first record.
  void start_replay() {
    replaying_ = true;
    next_ = 0;
  }

  // What the next exchange received. Throws std::logic_error when the second forward makes more
  // exchanges than the first.
  std::vector<torch::Tensor> next();

 private:
  std::vector<std::vector<torch::Tensor>> records_;
  std::size_t next_ = 0;
  bool replaying_ = false;
};

}  // namespace dualpipe::moe
