// StepCompute: the compute actions of a pipeline step (F, B, I, W and overlapped FB pairs) on this
// rank's stage modules.
#pragma once

#include "dualpipe/schedule/action.h"
#include "step_state.h"

namespace dualpipe::runtime {

// Runs compute actions against a step's state. Inputs come from the batch (first stages), from
// another local stage, or from a received message; results stay in the state for the sends and
// backwards that follow. Without gradient mode only forwards run.
class StepCompute {
 public:
  explicit StepCompute(StepState& state) : step_(state) {}

  // Runs the compute action `action` (not a communication action).
  void run(const schedule::Action& action);

 private:
  TensorList forward_inputs(const schedule::Chunk& c);
  TensorList output_grads(const schedule::Chunk& c);
  ForwardPass forward_pass(const schedule::Chunk& c);
  void finish_forward(const schedule::Chunk& c, ForwardPass& pass, ForwardResult& result);
  // Runs the forward of a chunk that kept only its inputs again, recording its graph.
  void recompute_forward(const schedule::Chunk& c);
  BackwardPass backward_pass(const schedule::Chunk& c);
  void finish_backward(const schedule::Chunk& c);

  void forward(const schedule::Chunk& c);
  void backward(const schedule::Chunk& c, bool defer_weights);
  void weight_backward(const schedule::Chunk& c);
  void forward_backward(const schedule::Chunk& f, const schedule::Chunk& b);

  StepState& step_;
};

}  // namespace dualpipe::runtime
