#include "dualpipe/runtime/moe/row_gather.h"

#include <ATen/ops/_embedding_bag_per_sample_weights_backward.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

namespace dualpipe::runtime::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// bags[b] = sum over i in [b * bag_size, (b + 1) * bag_size) of scale[i] * source[indices[i]]
// (scale undefined: 1) for source [n, H] and indices [bags * bag_size]: one gather-and-sum
// kernel (embedding_bag, mode sum), summing in index order.
torch::Tensor sum_bags(const torch::Tensor& source, const torch::Tensor& indices, int64_t bag_size,
                       const torch::Tensor& scale = {}) {
  const torch::Tensor offsets = torch::arange(0, indices.size(0), bag_size, indices.options());
  c10::optional<torch::Tensor> per_sample_weights;
  if (scale.defined()) per_sample_weights = scale.contiguous();
  return std::get<0>(torch::embedding_bag(source.contiguous(), indices, offsets,
                                          /*scale_grad_by_freq=*/false, /*mode=sum*/ 0,
                                          /*sparse=*/false, per_sample_weights));
}

// rows = tokens[order / copies]; backward: grad_tokens[t] = sum_j grad_rows[inverse[t*copies+j]].
struct GatherTokenCopies : torch::autograd::Function<GatherTokenCopies> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& tokens,
                               const torch::Tensor& order, const torch::Tensor& inverse,
                               int64_t copies) {
    ctx->save_for_backward({inverse});
    ctx->saved_data["copies"] = copies;
    return tokens.index_select(0, torch::div(order, copies, "floor"));
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor inverse = ctx->get_saved_variables()[0];
    const int64_t copies = ctx->saved_data["copies"].toInt();
    const torch::Tensor& grad_rows = grads[0];
    std::vector<int64_t> shape = grad_rows.sizes().vec();
    shape[0] /= copies;
    const torch::Tensor summed = sum_bags(grad_rows.reshape({grad_rows.size(0), -1}), inverse, copies);
    return {summed.view(shape), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// out[t] = sum_j weights[t, j] * rows[inverse[t * k + j]]. Backward: grad_rows[i] =
// weights[order[i]] * grad_out[order[i] / k] (bags of one row), grad_weights[a] =
// grad_out[a / k] . rows[inverse[a]] (embedding_bag's per-sample-weight gradient kernel).
struct CombineTokenCopies : torch::autograd::Function<CombineTokenCopies> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& weights, const torch::Tensor& order,
                               const torch::Tensor& inverse) {
    ctx->save_for_backward({rows, weights, order, inverse});
    return sum_bags(rows, inverse, weights.size(1), weights.flatten());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& rows = saved[0];
    const torch::Tensor& weights = saved[1];
    const torch::Tensor& order = saved[2];
    const torch::Tensor& inverse = saved[3];
    const int64_t copies = weights.size(1);
    const torch::Tensor grad_out = grads[0].contiguous();
    torch::Tensor grad_rows;
    torch::Tensor grad_weights;
    if (ctx->needs_input_grad(0)) {
      grad_rows = sum_bags(grad_out, torch::div(order, copies, "floor"), 1,
                           weights.flatten().index_select(0, order));
    }
    if (ctx->needs_input_grad(1)) {
      const int64_t n = order.size(0);
      const torch::Tensor token_of_assignment =
          torch::div(torch::arange(n, order.options()), copies, "floor");
      // The CUDA kernel exists for float and double only (not bfloat16 / half): other element
      // types are summed in float32 and the result cast back.
      const bool native = rows.scalar_type() == torch::kFloat || rows.scalar_type() == torch::kDouble;
      const torch::Tensor grad_in = native ? grad_out : grad_out.to(torch::kFloat);
      const torch::Tensor rows_in = native ? rows.contiguous() : rows.to(torch::kFloat).contiguous();
      grad_weights = at::_embedding_bag_per_sample_weights_backward(
                         grad_in, rows_in, inverse, torch::arange(0, n, copies, order.options()),
                         token_of_assignment, /*mode=sum*/ 0)
                         .to(weights.scalar_type())
                         .view(weights.sizes());
    }
    return {grad_rows, grad_weights, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor inverse_permutation(const torch::Tensor& order) {
  return torch::empty_like(order).scatter_(0, order, torch::arange(order.size(0), order.options()));
}

torch::Tensor gather_token_copies(const torch::Tensor& tokens, const torch::Tensor& order,
                                  const torch::Tensor& inverse, int64_t copies) {
  return GatherTokenCopies::apply(tokens, order, inverse, copies);
}

torch::Tensor combine_token_copies(const torch::Tensor& rows, const torch::Tensor& weights,
                                   const torch::Tensor& order, const torch::Tensor& inverse) {
  return CombineTokenCopies::apply(rows, weights, order, inverse);
}

}  // namespace dualpipe::runtime::moe
