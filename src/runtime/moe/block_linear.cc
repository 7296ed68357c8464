#include "dualpipe/runtime/moe/block_linear.h"

#include <torch/csrc/autograd/custom_function.h>

#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "dualpipe/runtime/deferrable_linear.h"

namespace dualpipe::runtime::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the backward needs besides the input: the weights, the blocks and the store.
struct Blocks : torch::CustomClassHolder {
  Blocks(std::vector<torch::Tensor> w, std::vector<int64_t> rows,
         std::shared_ptr<WeightGradStore> s)
      : weights(std::move(w)), rows_per_block(std::move(rows)), store(std::move(s)) {}

  // Calls visit(first_row, rows, weight) for every non-empty block.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    int64_t first_row = 0;
    for (std::size_t b = 0; b < rows_per_block.size(); ++b) {
      const int64_t rows = rows_per_block[b];
      if (rows > 0) visit(first_row, rows, weights[b % weights.size()]);
      first_row += rows;
    }
  }

  std::vector<torch::Tensor> weights;
  std::vector<int64_t> rows_per_block;
  std::shared_ptr<WeightGradStore> store;
};

// `weight_edges` are the weights when the input does not require grad (so that the output does
// and the backward runs), else empty; their gradients are added by hand either way.
struct BlockLinearFunction : torch::autograd::Function<BlockLinearFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               at::TensorList weight_edges,
                               const c10::intrusive_ptr<Blocks>& blocks) {
    ctx->save_for_backward({input});
    ctx->saved_data["blocks"] = c10::IValue::make_capsule(blocks);
    ctx->saved_data["edges"] = static_cast<int64_t>(weight_edges.size());
    torch::Tensor output = input.new_empty({input.size(0), blocks->weights.front().size(0)});
    blocks->for_each([&](int64_t first, int64_t rows, const torch::Tensor& weight) {
      torch::Tensor out = output.narrow(0, first, rows);
      torch::mm_out(out, input.narrow(0, first, rows), weight.t());
    });
    return output;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor input = ctx->get_saved_variables()[0];
    const auto blocks =
        c10::static_intrusive_pointer_cast<Blocks>(ctx->saved_data["blocks"].toCapsule());
    const torch::Tensor grad_output = grads[0];
    torch::Tensor grad_input;
    if (ctx->needs_input_grad(0)) {
      grad_input = torch::empty_like(input);
      blocks->for_each([&](int64_t first, int64_t rows, const torch::Tensor& weight) {
        torch::Tensor out = grad_input.narrow(0, first, rows);
        torch::mm_out(out, grad_output.narrow(0, first, rows), weight);
      });
    }
    auto weight_gradients = [blocks, input, grad_output] {
      blocks->for_each([&](int64_t first, int64_t rows, const torch::Tensor& weight) {
        if (weight.requires_grad())
          add_to_weight_grad(weight, grad_output.narrow(0, first, rows).t(),
                             input.narrow(0, first, rows));
      });
    };
    run_or_defer(blocks->store, std::move(weight_gradients));
    variable_list result{grad_input};
    result.resize(2 + static_cast<std::size_t>(ctx->saved_data["edges"].toInt()));
    return result;
  }
};

}  // namespace

torch::Tensor block_linear(const torch::Tensor& input, const std::vector<torch::Tensor>& weights,
                           const std::vector<int64_t>& rows_per_block,
                           const std::shared_ptr<WeightGradStore>& store) {
  if (input.dim() != 2 || weights.empty() || rows_per_block.empty() ||
      rows_per_block.size() % weights.size() != 0 ||
      std::accumulate(rows_per_block.begin(), rows_per_block.end(), int64_t{0}) != input.size(0)) {
    throw std::invalid_argument(
        "block linear: " + std::to_string(rows_per_block.size()) + " row counts for " +
        std::to_string(weights.size()) + " weights do not describe the rows [" +
        (input.dim() > 0 ? std::to_string(input.size(0)) : std::string("-")) + ", ...] (rank " +
        std::to_string(input.dim()) + "; wanted whole rounds of blocks summing to the rows)");
  }
  std::vector<torch::Tensor> weight_edges;
  if (!input.requires_grad()) {
    for (const torch::Tensor& w : weights)
      if (w.requires_grad()) weight_edges.push_back(w);
  }
  return BlockLinearFunction::apply(input, at::TensorList(weight_edges),
                                    c10::make_intrusive<Blocks>(weights, rows_per_block, store));
}

}  // namespace dualpipe::runtime::moe
