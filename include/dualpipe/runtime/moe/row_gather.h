// Row gathers whose backward is a gather too: the MoE layer copies each token to its k experts in
// the order the exchange needs, and sums the k expert outputs of each token back, weighted.
// index_select would do the first, but its backward scatters with atomic adds (slow for bfloat16
// on CUDA); these ops' backward reads through the inverse permutation instead, and both sum a
// token's k rows in one pass (embedding_bag's kernel: gather and sum per token in one read).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace dualpipe::runtime::moe {

// The inverse of a permutation `order` (int64 [n]): inverse[order[i]] = i.
torch::Tensor inverse_permutation(const torch::Tensor& order);

// rows[i] = tokens[order[i] / copies] for a permutation `order` of [tokens * copies] (assignment
// a = token * copies + choice), `inverse` its inverse; tokens [T, ...], rows [T * copies, ...].
// Differentiable in `tokens`: a token's gradient is the sum of its copies' gradients.
torch::Tensor gather_token_copies(const torch::Tensor& tokens, const torch::Tensor& order,
                                  const torch::Tensor& inverse, int64_t copies);

// out[t] = sum over j of weights[t, j] * rows[inverse[t * k + j]]: the weighted sum of each
// token's k rows, for rows [T * k, H] in the order of gather_token_copies (row i holds
// assignment order[i]) and weights [T, k] of the rows' dtype; out [T, H]. One pass over the rows
// each way. Differentiable in `rows` and `weights`.
torch::Tensor combine_token_copies(const torch::Tensor& rows, const torch::Tensor& weights,
                                   const torch::Tensor& order, const torch::Tensor& inverse);

}  // namespace dualpipe::runtime::moe
