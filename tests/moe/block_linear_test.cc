#include "dualpipe/moe/block_linear.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <stdexcept>
#include <vector>

#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::relative_difference;

torch::Tensor float64(std::vector<int64_t> shape, bool requires_grad) {
  return torch::randn(shape, torch::kFloat64).requires_grad_(requires_grad);
}

// Two weights [3, 4] over blocks of 2, 0, 3, 1 rows (slots 0, 1, 0, 1) of x [6, 4], and the
// same map written with autograd's own operations on copies of the weights.
struct TwoSlots {
  std::vector<torch::Tensor> weights{float64({3, 4}, true), float64({3, 4}, true)};
  std::vector<torch::Tensor> copies{weights[0].detach().clone().requires_grad_(true),
                                    weights[1].detach().clone().requires_grad_(true)};
  std::vector<int64_t> rows_per_block{2, 0, 3, 1};

  torch::Tensor reference(const torch::Tensor& x) const {
    return torch::cat({x.narrow(0, 0, 2).matmul(copies[0].t()),
                       x.narrow(0, 2, 3).matmul(copies[0].t()),
                       x.narrow(0, 5, 1).matmul(copies[1].t())});
  }
};

TEST(BlockLinear, MultipliesEachBlockByItsSlotsWeightAndDifferentiatesLikeAutograd) {
  TwoSlots slots;
  const torch::Tensor x = float64({6, 4}, true);
  const torch::Tensor x_copy = x.detach().clone().requires_grad_(true);
  const torch::Tensor y = block_linear(x, slots.weights, slots.rows_per_block, nullptr);
  const torch::Tensor expected = slots.reference(x_copy);
  EXPECT_LE(relative_difference(y, expected), 1e-14);
  const torch::Tensor g = torch::randn_like(y);
  y.backward(g);
  expected.backward(g);
  EXPECT_LE(relative_difference(x.grad(), x_copy.grad()), 1e-14);
  for (int s = 0; s < 2; ++s)
    EXPECT_LE(relative_difference(slots.weights[s].grad(), slots.copies[s].grad()), 1e-14) << s;
}

TEST(BlockLinear, GivesWeightGradientsWhenTheInputNeedsNone) {
  TwoSlots slots;
  const torch::Tensor x = float64({6, 4}, false);
  block_linear(x, slots.weights, slots.rows_per_block, nullptr).pow(2).sum().backward();
  slots.reference(x).pow(2).sum().backward();
  for (int s = 0; s < 2; ++s)
    EXPECT_LE(relative_difference(slots.weights[s].grad(), slots.copies[s].grad()), 1e-14) << s;
}

TEST(BlockLinear, DefersWeightGradientsWhileTheStoreDefers) {
  TwoSlots slots;
  auto store = std::make_shared<runtime::WeightGradStore>();
  const torch::Tensor x = float64({6, 4}, true);
  store->run_deferring(schedule::Chunk{}, [&] {
    block_linear(x, slots.weights, slots.rows_per_block, store).sum().backward();
  });
  EXPECT_TRUE(x.grad().defined());  // the input gradient is never deferred
  EXPECT_FALSE(slots.weights[0].grad().defined());
  store->replay(schedule::Chunk{});
  slots.reference(x.detach()).sum().backward();
  EXPECT_LE(relative_difference(slots.weights[0].grad(), slots.copies[0].grad()), 1e-14);
}

TEST(BlockLinear, AcceptsNoRowsAtAll) {
  TwoSlots slots;
  const torch::Tensor x = float64({0, 4}, true);
  const torch::Tensor y = block_linear(x, slots.weights, {0, 0}, nullptr);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{0, 3}));
  y.sum().backward();
  EXPECT_EQ(x.grad().sizes(), x.sizes());
}

TEST(BlockLinear, RejectsBlocksThatAreNotWholeRoundsOverTheSlots) {
  TwoSlots slots;
  EXPECT_THROW(block_linear(float64({6, 4}, false), slots.weights, {6}, nullptr),
               std::invalid_argument);
  EXPECT_THROW(block_linear(float64({6, 4}, false), slots.weights, {3, 2}, nullptr),
               std::invalid_argument);
  EXPECT_THROW(block_linear(float64({6}, false), slots.weights, {3, 3}, nullptr),
               std::invalid_argument);
}

torch::Tensor grad_or_zeros(const torch::Tensor& t) {
  return t.grad().defined() ? t.grad().to(torch::kFloat64) : torch::zeros_like(t, torch::kFloat64);
}

// On CUDA in bfloat16 (LibTorch >= 2.9) the blocks go through one grouped GEMM: the same output
// and gradients as one product per block, to bfloat16 rounding. Three slots over two rounds of
// blocks, one block empty and one slot without any rows.
TEST(BlockLinear, GroupedGemmMatchesOneProductPerBlockOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const auto options = torch::TensorOptions(torch::kCUDA).dtype(torch::kBFloat16);
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({40, 64}, options);
  const torch::Tensor g = torch::randn({40, 32}, options);
  if (!uses_grouped_gemm(x, {torch::empty({32, 64}, options)}))
    GTEST_SKIP() << "no grouped GEMM in this LibTorch";
  const std::vector<int64_t> rows_per_block{5, 0, 17, 9, 0, 9};
  std::vector<torch::Tensor> results[2];
  for (const BlockProducts products : {BlockProducts::kFastest, BlockProducts::kOnePerBlock}) {
    torch::manual_seed(6);
    std::vector<torch::Tensor> weights;
    for (int s = 0; s < 3; ++s) weights.push_back(torch::randn({32, 64}, options).requires_grad_());
    const torch::Tensor input = x.clone().requires_grad_(true);
    const torch::Tensor y = block_linear(input, weights, rows_per_block, nullptr, products);
    y.backward(g);
    std::vector<torch::Tensor>& r = results[products == BlockProducts::kFastest ? 0 : 1];
    r = {y.detach().to(torch::kFloat64), input.grad().to(torch::kFloat64)};
    for (const torch::Tensor& w : weights) r.push_back(grad_or_zeros(w));
  }
  for (std::size_t i = 0; i < results[0].size(); ++i)
    EXPECT_LE(relative_difference(results[0][i], results[1][i]), 1e-2) << "tensor " << i;
  EXPECT_EQ(results[0][3].abs().sum().item<double>(), 0.0);  // slot 1 has no rows
}

}  // namespace
}  // namespace dualpipe::moe
