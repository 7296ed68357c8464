#include "dualpipe/runtime/moe/experts.h"

#include <torch/nn/functional/activation.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace dualpipe::runtime::moe {
namespace {

void fill_uniform(torch::Tensor& weight, at::Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
  torch::NoGradGuard no_grad;
  const torch::Tensor values =
      torch::empty(weight.sizes(), torch::TensorOptions().dtype(torch::kFloat64))
          .uniform_(-bound, bound, generator);
  weight.copy_(values);
}

}  // namespace

SwiGluMlpImpl::SwiGluMlpImpl(int64_t hidden, int64_t ffn_hidden) {
  if (hidden < 1 || ffn_hidden < 1)
    throw std::invalid_argument("expert MLP: sizes must be positive");
  const auto linear = [](int64_t in, int64_t out) {
    return DeferrableLinear(torch::nn::LinearOptions(in, out).bias(false));
  };
  gate_up = register_module("gate_up", linear(hidden, 2 * ffn_hidden));
  down = register_module("down", linear(ffn_hidden, hidden));
}

torch::Tensor SwiGluMlpImpl::forward(const torch::Tensor& x) {
  // One split (its backward is one concatenation), not two narrows (each backward a zero fill).
  const std::vector<torch::Tensor> gate_and_up = gate_up->forward(x).chunk(2, -1);
  return down->forward(torch::silu(gate_and_up[0]) * gate_and_up[1]);
}

void SwiGluMlpImpl::reset_parameters(at::Generator& generator) {
  fill_uniform(gate_up->weight, generator);
  fill_uniform(down->weight, generator);
}

LocalExpertsImpl::LocalExpertsImpl(int64_t num_slots, int64_t hidden, int64_t ffn_hidden) {
  if (num_slots < 1) throw std::invalid_argument("local experts: need at least one slot");
  slots = register_module("slots", torch::nn::ModuleList());
  for (int64_t j = 0; j < num_slots; ++j) slots->push_back(SwiGluMlp(hidden, ffn_hidden));
}

torch::Tensor LocalExpertsImpl::forward(const torch::Tensor& rows,
                                        const std::vector<int64_t>& rows_per_block) {
  if (rows_per_block.empty() || static_cast<int64_t>(rows_per_block.size()) % num_slots() != 0 ||
      std::accumulate(rows_per_block.begin(), rows_per_block.end(), int64_t{0}) != rows.size(0)) {
    throw std::invalid_argument("local experts: " + std::to_string(rows_per_block.size()) +
                                " row counts for " + std::to_string(num_slots()) +
                                " slots do not describe the " + std::to_string(rows.size(0)) +
                                " rows");
  }
  // One split (its backward is one concatenation), not a narrow per block (whose backwards would
  // each fill a zero tensor of all the rows and add them up).
  const std::vector<torch::Tensor> inputs = rows.split_with_sizes(rows_per_block, 0);
  std::vector<torch::Tensor> outputs;
  for (std::size_t block = 0; block < inputs.size(); ++block) {
    const torch::Tensor& input = inputs[block];
    if (input.size(0) > 0)
      outputs.push_back(slot(static_cast<int64_t>(block) % num_slots())->forward(input));
  }
  if (outputs.empty()) return rows * 0;  // no rows: keep the result connected to the input
  return outputs.size() == 1 ? outputs.front() : torch::cat(outputs, 0);
}

std::vector<torch::Tensor> LocalExpertsImpl::slot_parameters(int64_t j) const {
  const SwiGluMlp expert = slot(j);
  return {expert->gate_up->weight, expert->down->weight};
}

}  // namespace dualpipe::runtime::moe
