#include "dualpipe/moe/block_linear.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/version.h>

#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "dualpipe/runtime/deferrable_linear.h"

// LibTorch 2.9 and later multiply all blocks in one grouped GEMM (CUTLASS on Hopper).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
#define DUALPIPE_HAVE_GROUPED_MM 1
#else
#define DUALPIPE_HAVE_GROUPED_MM 0
#endif

namespace dualpipe::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What the backward needs besides the input: the weights, the blocks and the store.
struct Blocks : torch::CustomClassHolder {
  Blocks(std::vector<torch::Tensor> w, std::vector<int64_t> rows,
         std::shared_ptr<runtime::WeightGradStore> s, bool g)
      : weights(std::move(w)), rows_per_block(std::move(rows)), store(std::move(s)), grouped(g) {}

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
  std::shared_ptr<runtime::WeightGradStore> store;
  bool grouped;  // one grouped GEMM (block_weights, row_ends) instead of a product per block

  // [blocks, out, in]: each block's weight (the weights repeat once per round of blocks).
  torch::Tensor block_weights;
  // [blocks] int32 on the rows' device: where each block's rows end.
  torch::Tensor row_ends;
};

#if DUALPIPE_HAVE_GROUPED_MM
// Prepares the grouped GEMM's operands for `input`'s device.
void prepare_grouped(Blocks& blocks, const torch::Tensor& input) {
  const int64_t rounds = static_cast<int64_t>(blocks.rows_per_block.size() / blocks.weights.size());
  blocks.block_weights = torch::stack(blocks.weights).repeat({rounds, 1, 1});
  std::vector<int32_t> ends;
  int64_t end = 0;
  for (int64_t rows : blocks.rows_per_block) ends.push_back(static_cast<int32_t>(end += rows));
  blocks.row_ends = torch::tensor(ends, torch::kInt32).to(input.device(), /*non_blocking=*/true);
}

// Adds the per-block weight gradients [blocks, out, in] to the weights' .grad, summing the
// rounds of blocks that share a weight.
void add_block_weight_grads(const Blocks& blocks, const torch::Tensor& per_block) {
  const int64_t slots = static_cast<int64_t>(blocks.weights.size());
  const torch::Tensor per_slot =
      per_block.view({-1, slots, per_block.size(1), per_block.size(2)}).sum(0);
  for (int64_t s = 0; s < slots; ++s) {
    torch::Tensor weight = blocks.weights[static_cast<std::size_t>(s)];
    if (!weight.requires_grad()) continue;
    torch::Tensor& grad = weight.mutable_grad();
    grad = grad.defined() ? grad.add_(per_slot[s]) : per_slot[s].clone();
  }
}
#endif

// `weight_edges` are the weights when the input does not require grad (so that the output does
// and the backward runs), else empty; their gradients are added by hand either way.
struct BlockLinearFunction : torch::autograd::Function<BlockLinearFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               at::TensorList weight_edges,
                               const c10::intrusive_ptr<Blocks>& blocks) {
    ctx->save_for_backward({input});
    ctx->saved_data["blocks"] = c10::IValue::make_capsule(blocks);
    ctx->saved_data["edges"] = static_cast<int64_t>(weight_edges.size());
#if DUALPIPE_HAVE_GROUPED_MM
    if (blocks->grouped) {
      prepare_grouped(*blocks, input);
      return at::_grouped_mm(input.contiguous(), blocks->block_weights.transpose(1, 2),
                             blocks->row_ends);
    }
#endif
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
#if DUALPIPE_HAVE_GROUPED_MM
    variable_list result =
        blocks->grouped
            ? grouped_backward(ctx->needs_input_grad(0), input, blocks, grads[0].contiguous())
            : per_block_backward(ctx->needs_input_grad(0), input, blocks, grads[0]);
#else
    variable_list result = per_block_backward(ctx->needs_input_grad(0), input, blocks, grads[0]);
#endif
    result.resize(2 + static_cast<std::size_t>(ctx->saved_data["edges"].toInt()));
    return result;
  }

#if DUALPIPE_HAVE_GROUPED_MM
  static variable_list grouped_backward(bool input_grad, const torch::Tensor& input,
                                        const c10::intrusive_ptr<Blocks>& blocks,
                                        const torch::Tensor& grad_output) {
    torch::Tensor grad_input;
    if (input_grad)
      grad_input = at::_grouped_mm(grad_output, blocks->block_weights, blocks->row_ends);
    runtime::run_or_defer(blocks->store, [blocks, input, grad_output] {
      add_block_weight_grads(*blocks, at::_grouped_mm(grad_output.t(), input, blocks->row_ends));
    });
    return {grad_input};
  }
#endif

  static variable_list per_block_backward(bool input_grad, const torch::Tensor& input,
                                          const c10::intrusive_ptr<Blocks>& blocks,
                                          const torch::Tensor& grad_output) {
    torch::Tensor grad_input;
    if (input_grad) {
      grad_input = torch::empty_like(input);
      blocks->for_each([&](int64_t first, int64_t rows, const torch::Tensor& weight) {
        torch::Tensor out = grad_input.narrow(0, first, rows);
        torch::mm_out(out, grad_output.narrow(0, first, rows), weight);
      });
    }
    auto weight_gradients = [blocks, input, grad_output] {
      blocks->for_each([&](int64_t first, int64_t rows, const torch::Tensor& weight) {
        if (weight.requires_grad())
          runtime::add_to_weight_grad(weight, grad_output.narrow(0, first, rows).t(),
                                      input.narrow(0, first, rows));
      });
    };
    runtime::run_or_defer(blocks->store, std::move(weight_gradients));
    return {grad_input};
  }
};

}  // namespace

bool uses_grouped_gemm(const torch::Tensor& input, const std::vector<torch::Tensor>& weights) {
  // The grouped GEMM wants 16-byte aligned rows: widths that are multiples of 8 bfloat16 values.
  return DUALPIPE_HAVE_GROUPED_MM && input.is_cuda() && input.scalar_type() == torch::kBFloat16 &&
         input.dim() == 2 && input.size(0) > 0 && input.size(1) % 8 == 0 && !weights.empty() &&
         weights.front().size(0) % 8 == 0;
}

torch::Tensor block_linear(const torch::Tensor& input, const std::vector<torch::Tensor>& weights,
                           const std::vector<int64_t>& rows_per_block,
                           const std::shared_ptr<runtime::WeightGradStore>& store,
                           BlockProducts products) {
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
  const bool grouped = products == BlockProducts::kFastest && uses_grouped_gemm(input, weights);
  return BlockLinearFunction::apply(
      input, at::TensorList(weight_edges),
      c10::make_intrusive<Blocks>(weights, rows_per_block, store, grouped));
}

}  // namespace dualpipe::moe
