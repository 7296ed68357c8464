#include "dualpipe/runtime/moe/row_gather.h"

#include <gtest/gtest.h>

#include "tensor_compare.h"

namespace dualpipe::runtime::moe {
namespace {

using testing::relative_difference;

TEST(InversePermutation, UndoesThePermutation) {
  const torch::Tensor order = torch::randperm(9, torch::kInt64);
  const torch::Tensor inverse = inverse_permutation(order);
  EXPECT_TRUE(torch::equal(order.index_select(0, inverse), torch::arange(9, torch::kInt64)));
}

TEST(GatherTokenCopies, SumsTheGradientsOfATokensCopies) {
  constexpr int64_t kTokens = 5;
  constexpr int64_t kCopies = 3;
  const torch::Tensor order = torch::randperm(kTokens * kCopies, torch::kInt64);
  const torch::Tensor tokens = torch::randn({kTokens, 4}, torch::kFloat64).requires_grad_();
  const torch::Tensor grad = torch::randn({kTokens * kCopies, 4}, torch::kFloat64);
  const torch::Tensor rows =
      gather_token_copies(tokens, order, inverse_permutation(order), kCopies);
  const torch::Tensor by_index = torch::div(order, kCopies, "floor");
  EXPECT_TRUE(torch::equal(rows, tokens.index_select(0, by_index)));
  rows.backward(grad);
  const torch::Tensor ours = tokens.grad().clone();
  tokens.mutable_grad() = torch::Tensor();
  tokens.index_select(0, by_index).backward(grad);
  EXPECT_LE(relative_difference(ours, tokens.grad()), 1e-15);
}

TEST(GatherTokenCopies, KeepsTrailingDimensions) {
  const torch::Tensor order = torch::arange(4, torch::kInt64);
  const torch::Tensor tokens = torch::randn({2, 2, 3}, torch::kFloat64).requires_grad_();
  const torch::Tensor rows = gather_token_copies(tokens, order, order, 2);
  ASSERT_EQ(rows.sizes(), torch::IntArrayRef({4, 2, 3}));
  rows.sum().backward();
  EXPECT_TRUE(torch::equal(tokens.grad(), torch::full({2, 2, 3}, 2.0, torch::kFloat64)));
}

TEST(CombineTokenCopies, WeightsAndSumsEachTokensRowsWithTheirGradients) {
  constexpr int64_t kTokens = 5;
  constexpr int64_t kCopies = 3;
  const torch::Tensor order = torch::randperm(kTokens * kCopies, torch::kInt64);
  const torch::Tensor inverse = inverse_permutation(order);
  const torch::Tensor rows = torch::randn({kTokens * kCopies, 4}, torch::kFloat64).requires_grad_();
  const torch::Tensor weights = torch::randn({kTokens, kCopies}, torch::kFloat64).requires_grad_();
  const torch::Tensor grad = torch::randn({kTokens, 4}, torch::kFloat64);

  const torch::Tensor ours = combine_token_copies(rows, weights, order, inverse);
  ours.backward(grad);
  const torch::Tensor grad_rows = rows.grad().clone();
  const torch::Tensor grad_weights = weights.grad().clone();
  rows.mutable_grad() = torch::Tensor();
  weights.mutable_grad() = torch::Tensor();
  const torch::Tensor expected =
      (rows.index_select(0, inverse).view({kTokens, kCopies, 4}) * weights.unsqueeze(-1)).sum(1);
  expected.backward(grad);

  EXPECT_LE(relative_difference(ours, expected), 1e-15);
  EXPECT_LE(relative_difference(grad_rows, rows.grad()), 1e-15);
  EXPECT_LE(relative_difference(grad_weights, weights.grad()), 1e-15);
}

TEST(CombineTokenCopies, AcceptsNoTokens) {
  const torch::Tensor none = torch::zeros({0}, torch::kInt64);
  const torch::Tensor rows = torch::zeros({0, 4}, torch::kFloat64).requires_grad_();
  const torch::Tensor weights = torch::zeros({0, 2}, torch::kFloat64).requires_grad_();
  const torch::Tensor out = combine_token_copies(rows, weights, none, none);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({0, 4}));
  out.sum().backward();
  EXPECT_EQ(rows.grad().sizes(), rows.sizes());
  EXPECT_EQ(weights.grad().sizes(), weights.sizes());
}

}  // namespace
}  // namespace dualpipe::runtime::moe
