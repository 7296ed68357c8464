#include "dualpipe/moe/row_gather.h"

#include <gtest/gtest.h>

#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::relative_difference;

TEST(InversePermutation, UndoesThePermutation) {
  const torch::Tensor order = torch::randperm(9, torch::kInt64);
  const torch::Tensor inverse = inverse_permutation(order);
  EXPECT_TRUE(torch::equal(order.index_select(0, inverse), torch::arange(9, torch::kInt64)));
}

TEST(PermuteRows, GivesIndexSelectsValuesAndGradients) {
  const torch::Tensor order = torch::randperm(7, torch::kInt64);
  const torch::Tensor source = torch::randn({7, 3}, torch::kFloat64).requires_grad_();
  const torch::Tensor grad = torch::randn({7, 3}, torch::kFloat64);
  const torch::Tensor rows = permute_rows(source, order, inverse_permutation(order));
  EXPECT_TRUE(torch::equal(rows, source.index_select(0, order)));
  rows.backward(grad);
  const torch::Tensor ours = source.grad().clone();
  source.mutable_grad() = torch::Tensor();
  source.index_select(0, order).backward(grad);
  EXPECT_TRUE(torch::equal(ours, source.grad()));
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

TEST(SumTokenCopies, IsTheAdjointOfGatherTokenCopies) {
  constexpr int64_t kTokens = 5;
  constexpr int64_t kCopies = 3;
  const torch::Tensor order = torch::randperm(kTokens * kCopies, torch::kInt64);
  const torch::Tensor inverse = inverse_permutation(order);
  const torch::Tensor rows = torch::randn({kTokens * kCopies, 4}, torch::kFloat64).requires_grad_();
  const torch::Tensor sums = sum_token_copies(rows, order, inverse, kCopies);
  const torch::Tensor by_token = torch::div(order, kCopies, "floor");
  const torch::Tensor expected =
      torch::zeros({kTokens, 4}, torch::kFloat64).index_add_(0, by_token, rows.detach());
  EXPECT_LE(relative_difference(sums, expected), 1e-15);
  // <gather(x), r> == <x, sum(r)>, and the gradient of sum(r) . g is gather(g).
  const torch::Tensor tokens = torch::randn({kTokens, 4}, torch::kFloat64);
  const double lhs =
      (gather_token_copies(tokens, order, inverse, kCopies) * rows).sum().item<double>();
  const double rhs = (tokens * sums).sum().item<double>();
  EXPECT_NEAR(lhs, rhs, 1e-12);
  sums.backward(tokens);
  EXPECT_TRUE(torch::equal(rows.grad(), tokens.index_select(0, by_token)));
}

}  // namespace
}  // namespace dualpipe::moe
