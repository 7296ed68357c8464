#include "dualpipe/moe/experts.h"

#include <torch/nn/functional/activation.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "dualpipe/moe/block_linear.h"

namespace dualpipe::moe {
namespace {

void fill_uniform(torch::Tensor& weight, at::Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
  torch::NoGradGuard no_grad;
  const torch::Tensor values =
      torch::empty(weight.sizes(), torch::TensorOptions().dtype(torch::kFloat64))
          .uniform_(-bound, bound, generator);
  weight.copy_(values);
}

// silu(gate) * up for gate_and_up = [gate, up] [N, 2F] -> [N, F]. One split (its backward is
// one concatenation), not two narrows (each backward a zero fill).
torch::Tensor swiglu(const torch::Tensor& gate_and_up) {
  const std::vector<torch::Tensor> halves = gate_and_up.chunk(2, -1);
  return torch::silu(halves[0]) * halves[1];
}

}  // namespace

SwiGluMlpImpl::SwiGluMlpImpl(int64_t hidden, int64_t ffn_hidden) {
  if (hidden < 1 || ffn_hidden < 1)
    throw std::invalid_argument("expert MLP: sizes must be positive");
  const auto linear = [](int64_t in, int64_t out) {
    return runtime::DeferrableLinear(torch::nn::LinearOptions(in, out).bias(false));
  };
  gate_up = register_module("gate_up", linear(hidden, 2 * ffn_hidden));
  down = register_module("down", linear(ffn_hidden, hidden));
}

torch::Tensor SwiGluMlpImpl::forward(const torch::Tensor& x) {
  return down->forward(swiglu(gate_up->forward(x)));
}

void SwiGluMlpImpl::reset_parameters(at::Generator& generator) {
  fill_uniform(gate_up->weight, generator);
  fill_uniform(down->weight, generator);
}

LocalExpertsImpl::LocalExpertsImpl(int64_t num_slots, int64_t hidden, int64_t ffn_hidden,
                                   BlockProducts products)
    : products_(products) {
  if (num_slots < 1) throw std::invalid_argument("local experts: need at least one slot");
  slots = register_module("slots", torch::nn::ModuleList());
  for (int64_t j = 0; j < num_slots; ++j) slots->push_back(SwiGluMlp(hidden, ffn_hidden));
}

torch::Tensor LocalExpertsImpl::forward(const torch::Tensor& rows,
                                        const std::vector<int64_t>& rows_per_block,
                                        const torch::Tensor& row_weights) {
  std::vector<torch::Tensor> gate_up;
  std::vector<torch::Tensor> down;
  for (int64_t j = 0; j < num_slots(); ++j) {
    gate_up.push_back(slot(j)->gate_up->weight);
    down.push_back(slot(j)->down->weight);
  }
  torch::Tensor activations =
      swiglu(block_linear(rows, gate_up, rows_per_block, store_, products_));
  // Scaling the [N, F] activations scales the output alike (down is linear), at F/H of the cost.
  if (row_weights.defined()) activations = activations * row_weights;
  return block_linear(activations, down, rows_per_block, store_, products_);
}

std::vector<torch::Tensor> LocalExpertsImpl::slot_parameters(int64_t j) const {
  const SwiGluMlp expert = slot(j);
  return {expert->gate_up->weight, expert->down->weight};
}

}  // namespace dualpipe::moe
