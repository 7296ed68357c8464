#include "dualpipe/moe/phase_tape.h"

#include <torch/csrc/autograd/autograd.h>

#include <stdexcept>

namespace dualpipe::moe {
namespace {

void accumulate(torch::Tensor& sum, const torch::Tensor& term) {
  if (!term.defined()) return;
  sum = sum.defined() ? sum + term : term;
}

}  // namespace

ValueId PhaseTape::new_value() {
  values_.emplace_back();
  grads_.emplace_back();
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId PhaseTape::add_input(const torch::Tensor& input) {
  const ValueId id = new_value();
  values_[static_cast<std::size_t>(id)] = input;
  return id;
}

const torch::Tensor& PhaseTape::value(ValueId id) const {
  return values_.at(static_cast<std::size_t>(id));
}

const torch::Tensor& PhaseTape::grad(ValueId id) const {
  return grads_.at(static_cast<std::size_t>(id));
}

void PhaseTape::add_grad(ValueId id, const torch::Tensor& grad) {
  accumulate(grads_.at(static_cast<std::size_t>(id)), grad);
}

PhaseTape::Segment& PhaseTape::open_segment() {
  if (!open_) throw std::logic_error("phase tape: no compute segment is open");
  return segments_.back();
}

void PhaseTape::begin_compute(const std::string& phase) {
  if (open_) throw std::logic_error("phase tape: a compute segment is already open");
  segments_.push_back(Segment{phase, false, {}, {}, {}, {}, {}});
  open_ = true;
}

torch::Tensor PhaseTape::read(ValueId id) {
  Segment& segment = open_segment();
  for (std::size_t i = 0; i < segment.outputs.size(); ++i) {
    if (segment.outputs[i] == id) return segment.output_tensors[i];  // written in this segment
  }
  for (std::size_t i = 0; i < segment.inputs.size(); ++i) {
    if (segment.inputs[i] == id) return segment.input_leaves[i];
  }
  const torch::Tensor& stored = value(id);
  if (!stored.defined()) throw std::logic_error("phase tape: value read before it was written");
  torch::Tensor leaf = stored.detach();
  if (stored.requires_grad()) leaf.requires_grad_(true);
  segment.inputs.push_back(id);
  segment.input_leaves.push_back(leaf);
  return leaf;
}

void PhaseTape::write(ValueId id, const torch::Tensor& tensor) {
  Segment& segment = open_segment();
  values_.at(static_cast<std::size_t>(id)) = tensor;
  segment.outputs.push_back(id);
  segment.output_tensors.push_back(tensor);
}

void PhaseTape::end_compute() {
  open_segment();
  open_ = false;
}

void PhaseTape::record_exchange(const std::string& phase, std::vector<ExchangedValue> values) {
  if (open_) throw std::logic_error("phase tape: an exchange cannot run inside a compute segment");
  if (values.empty()) throw std::logic_error("phase tape: an exchange carries at least one value");
  Segment segment{phase, true, {}, {}, {}, {}, {}};
  for (ExchangedValue& v : values) {
    torch::Tensor leaf = v.received.detach();
    if (value(v.input).requires_grad()) leaf.requires_grad_(true);
    values_.at(static_cast<std::size_t>(v.output)) = leaf;
    segment.inputs.push_back(v.input);
    segment.outputs.push_back(v.output);
    segment.output_tensors.push_back(leaf);
    segment.reverses.push_back(std::move(v.reverse));
  }
  segments_.push_back(std::move(segment));
}

void PhaseTape::backward_compute(int index) {
  Segment& segment = segments_.at(static_cast<std::size_t>(index));
  std::vector<torch::Tensor> roots;
  std::vector<torch::Tensor> root_grads;
  for (std::size_t i = 0; i < segment.outputs.size(); ++i) {
    const torch::Tensor& g = grad(segment.outputs[i]);
    if (g.defined() && segment.output_tensors[i].requires_grad()) {
      roots.push_back(segment.output_tensors[i]);
      root_grads.push_back(g);
    }
  }
  if (!roots.empty()) torch::autograd::backward(roots, root_grads);
  for (std::size_t i = 0; i < segment.inputs.size(); ++i) {
    add_grad(segment.inputs[i], segment.input_leaves[i].grad());
  }
  for (ValueId id : segment.outputs) {
    grads_[static_cast<std::size_t>(id)] = torch::Tensor();
    values_[static_cast<std::size_t>(id)] = torch::Tensor();
  }
  segment = Segment{segment.phase, false, {}, {}, {}, {}, {}};
}

std::function<void()> PhaseTape::start_backward_exchange(int index) {
  Segment& segment = segments_.at(static_cast<std::size_t>(index));
  std::vector<std::function<torch::Tensor()>> finishes;
  std::vector<ValueId> inputs_wanting_grad;  // -1: the input's gradient is not wanted
  for (std::size_t i = 0; i < segment.outputs.size(); ++i) {
    const ValueId output = segment.outputs[i];
    torch::Tensor g = grad(output);
    if (!g.defined()) g = torch::zeros_like(segment.output_tensors[i]);
    finishes.push_back(segment.reverses[i](g));
    grads_[static_cast<std::size_t>(output)] = torch::Tensor();
    values_[static_cast<std::size_t>(output)] = torch::Tensor();
    const ValueId input = segment.inputs[i];
    const bool wants_grad = value(input).defined() && value(input).requires_grad();
    inputs_wanting_grad.push_back(wants_grad ? input : -1);
  }
  segment = Segment{segment.phase, true, {}, {}, {}, {}, {}};
  return [this, inputs_wanting_grad, finishes = std::move(finishes)] {
    for (std::size_t i = 0; i < finishes.size(); ++i) {
      torch::Tensor g_input = finishes[i]();
      if (inputs_wanting_grad[i] >= 0) add_grad(inputs_wanting_grad[i], g_input);
    }
  };
}

void PhaseTape::release() {
  values_.clear();
  grads_.clear();
  segments_.clear();
  open_ = false;
}

}  // namespace dualpipe::moe
