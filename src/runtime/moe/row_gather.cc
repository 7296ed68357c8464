#include "dualpipe/runtime/moe/row_gather.h"

#include <torch/csrc/autograd/custom_function.h>

namespace dualpipe::runtime::moe {
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

// rows = tokens[order / copies]; backward: grad_tokens = grad_rows[inverse].view(T, copies, ...).sum(1).
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
    const torch::Tensor by_assignment = grads[0].index_select(0, inverse);
    std::vector<int64_t> shape = by_assignment.sizes().vec();
    shape[0] /= copies;
    shape.insert(shape.begin() + 1, copies);
    return {by_assignment.view(shape).sum(1), torch::Tensor(), torch::Tensor(), torch::Tensor()};
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

}  // namespace dualpipe::runtime::moe
