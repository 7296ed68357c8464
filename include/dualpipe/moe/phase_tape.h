// PhaseTape: the activations of one micro-batch through a phase-structured stage, cut at phase
// boundaries, so that its backward can run one phase at a time (and interleave with another
// micro-batch's forward). Each compute phase records its own small autograd graph from detached
// copies of its inputs; each communication phase records how to send gradients back.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::moe {

// Names a tensor of the micro-batch's activations on its tape.
using ValueId = int;

// Sends the gradient of a communication phase's output back to where its input came from:
// called with the output's gradient, returns a function that waits and gives the input's gradient.
using ReverseExchange =
    std::function<std::function<torch::Tensor()>(const torch::Tensor& grad_output)>;

// One value a communication phase carries: value `input` arrived as `received` (stored as value
// `output`, a new leaf); `reverse` carries its gradient back.
struct ExchangedValue {
  ValueId input = -1;
  ValueId output = -1;
  torch::Tensor received;
  ReverseExchange reverse;
};

class PhaseTape {
 public:
  // Reserves a value to be written later.
  ValueId new_value();

  // Adds one of the stage's inputs (kept as given, so its .grad can be filled in at the end).
  ValueId add_input(const torch::Tensor& input);

  // The stored tensor of a value (undefined until written).
  const torch::Tensor& value(ValueId id) const;

  // --- Recording the forward ---------------------------------------------------------------
  // Opens a compute segment named `phase` ("attn", "mlp", ...). Only one is open at a time.
  void begin_compute(const std::string& phase);
  // Inside a compute segment: a detached copy of value `id` that requires grad when the value does
  // (the same tensor on every read within the segment); a value written in this segment is
  // returned as written, inside the segment's graph.
  torch::Tensor read(ValueId id);
  // Inside a compute segment: stores `tensor` as value `id`, an output of the segment.
  void write(ValueId id, const torch::Tensor& tensor);
  void end_compute();

  // Records a communication phase named `phase` that carried `values` (at least one).
  void record_exchange(const std::string& phase, std::vector<ExchangedValue> values);
  // The same for one value: `input` turned into `received`, stored as value `output`.
  void record_exchange(const std::string& phase, ValueId input, ValueId output,
                       const torch::Tensor& received, ReverseExchange reverse) {
    record_exchange(phase, {ExchangedValue{input, output, received, std::move(reverse)}});
  }

  // --- Backward ------------------------------------------------------------------------------
  // Adds `grad` to the gradient of value `id` (e.g. the stage output's gradient).
  void add_grad(ValueId id, const torch::Tensor& grad);
  // The accumulated gradient of value `id` (undefined when none arrived).
  const torch::Tensor& grad(ValueId id) const;

  // Segments recorded so far, in forward order.
  int num_segments() const { return static_cast<int>(segments_.size()); }
  bool is_exchange(int segment) const {
    return segments_.at(static_cast<std::size_t>(segment)).exchange;
  }
  const std::string& phase_name(int segment) const {
    return segments_.at(static_cast<std::size_t>(segment)).phase;
  }

  // Backward of compute segment `segment`: backpropagates its outputs' gradients through its graph
  // (accumulating parameter gradients as autograd does) into its inputs' gradients, then frees it.
  void backward_compute(int segment);
  // Backward of exchange segment `segment`: starts sending its outputs' gradients back, in the
  // order they were recorded (zeros when none arrived: every rank must take part); the returned
  // function waits and stores the inputs' gradients.
  std::function<void()> start_backward_exchange(int segment);

  // Frees every stored tensor and graph (after the backward, or when it will never run).
  void release();

 private:
  struct Segment {
    std::string phase;
    bool exchange = false;
    std::vector<ValueId> inputs;
    std::vector<torch::Tensor> input_leaves;  // compute: the detached copies read
    std::vector<ValueId> outputs;
    std::vector<torch::Tensor> output_tensors;  // compute: graph outputs
    std::vector<ReverseExchange> reverses;      // exchange only: one per output
  };

  Segment& open_segment();

  std::vector<torch::Tensor> values_;
  std::vector<torch::Tensor> grads_;
  std::vector<Segment> segments_;
  bool open_ = false;
};

}  // namespace dualpipe::moe
