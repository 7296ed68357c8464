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

}  // namespace
}  // namespace dualpipe::runtime::moe
