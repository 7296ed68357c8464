// Row gathers whose backward is a gather too: the MoE layer reorders token rows by permutations
// and copies each token to its k experts. index_select would do that, but its backward scatters
// with atomic adds (slow for bfloat16 on CUDA); these ops' backward reads through the inverse
// permutation instead, and sums a token's k copies with one reduction (and the other way round).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace dualpipe::moe {

// The inverse of a permutation `order` (int64 [n]): inverse[order[i]] = i.
torch::Tensor inverse_permutation(const torch::Tensor& order);

// rows[i] = source[order[i]] for a permutation `order` (int64 [n]) with `inverse` its inverse;
// source [n, ...]. Differentiable in `source`.
torch::Tensor permute_rows(const torch::Tensor& source, const torch::Tensor& order,
                           const torch::Tensor& inverse);

// rows[i] = tokens[order[i] / copies] for a permutation `order` of [tokens * copies] (assignment
// a = token * copies + choice), `inverse` its inverse; tokens [T, ...], rows [T * copies, ...].
// Differentiable in `tokens`: a token's gradient is the sum of its copies' gradients.
torch::Tensor gather_token_copies(const torch::Tensor& tokens, const torch::Tensor& order,
                                  const torch::Tensor& inverse, int64_t copies);

// The adjoint of gather_token_copies: sums[t] = sum over k of rows[inverse[t * copies + k]], the
// rows of token t's copies added up; rows [T * copies, ...] -> sums [T, ...]. Differentiable in
// `rows`: each row's gradient is its token's.
torch::Tensor sum_token_copies(const torch::Tensor& rows, const torch::Tensor& order,
                               const torch::Tensor& inverse, int64_t copies);

}  // namespace dualpipe::moe
