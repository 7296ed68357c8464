#include "dualpipe/moe/row_gather.h"

#include <torch/csrc/autograd/custom_function.h>

#include <vector>

namespace dualpipe::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// rows = source[order]; backward: grad_source = grad_rows[inverse].
struct PermuteRows : torch::autograd::Function<PermuteRows> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& source,
                               const torch::Tensor& order, const torch::Tensor& inverse) {
    ctx->save_for_backward({inverse});
    return source.index_select(0, order);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor inverse = ctx->get_saved_variables()[0];
    return {grads[0].index_select(0, inverse), torch::Tensor(), torch::Tensor()};
  }
};

// rows[i] = tokens[order[i] / copies]: every token's copies, in `order`.
torch::Tensor copies_in_order(const torch::Tensor& tokens, const torch::Tensor& order,
                              int64_t copies) {
  return tokens.index_select(0, torch::div(order, copies, "floor"));
}

// sums[t] = sum over k of rows[inverse[t * copies + k]]: the rows of each token's copies added up.
torch::Tensor sum_of_copies(const torch::Tensor& rows, const torch::Tensor& inverse,
                            int64_t copies) {
  const torch::Tensor by_assignment = rows.index_select(0, inverse);
  std::vector<int64_t> shape = by_assignment.sizes().vec();
  shape[0] /= copies;
  shape.insert(shape.begin() + 1, copies);
  return by_assignment.view(shape).sum(1);
}

// rows = copies_in_order(tokens); backward: grad_tokens = sum_of_copies(grad_rows).
struct GatherTokenCopies : torch::autograd::Function<GatherTokenCopies> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& tokens,
                               const torch::Tensor& order, const torch::Tensor& inverse,
                               int64_t copies) {
    ctx->save_for_backward({inverse});
    ctx->saved_data["copies"] = copies;
    return copies_in_order(tokens, order, copies);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {
        sum_of_copies(grads[0], ctx->get_saved_variables()[0], ctx->saved_data["copies"].toInt()),
        torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// sums = sum_of_copies(rows); backward: grad_rows = copies_in_order(grad_sums).
struct SumTokenCopies : torch::autograd::Function<SumTokenCopies> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& order, const torch::Tensor& inverse,
                               int64_t copies) {
    ctx->save_for_backward({order});
    ctx->saved_data["copies"] = copies;
    return sum_of_copies(rows, inverse, copies);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {
        copies_in_order(grads[0], ctx->get_saved_variables()[0], ctx->saved_data["copies"].toInt()),
        torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor inverse_permutation(const torch::Tensor& order) {
  return torch::empty_like(order).scatter_(0, order, torch::arange(order.size(0), order.options()));
}

torch::Tensor permute_rows(const torch::Tensor& source, const torch::Tensor& order,
                           const torch::Tensor& inverse) {
  return PermuteRows::apply(source, order, inverse);
}

torch::Tensor gather_token_copies(const torch::Tensor& tokens, const torch::Tensor& order,
                                  const torch::Tensor& inverse, int64_t copies) {
  return GatherTokenCopies::apply(tokens, order, inverse, copies);
}

torch::Tensor sum_token_copies(const torch::Tensor& rows, const torch::Tensor& order,
                               const torch::Tensor& inverse, int64_t copies) {
  return SumTokenCopies::apply(rows, order, inverse, copies);
}

}  // namespace dualpipe::moe
