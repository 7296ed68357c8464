#include "dualpipe/runtime/deferrable_linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dualpipe::runtime {
namespace {

// A DeferrableLinear and a torch::nn::Linear with the same weights.
struct Twins {
  DeferrableLinear ours{torch::nn::LinearOptions(5, 3).bias(true)};
  torch::nn::Linear theirs{torch::nn::LinearOptions(5, 3).bias(true)};
  Twins() {
    ours->to(torch::kDouble);
    theirs->to(torch::kDouble);
    torch::NoGradGuard no_grad;
    theirs->weight.copy_(ours->weight);
    theirs->bias.copy_(ours->bias);
  }
};

TEST(DeferrableLinear, ComputesWhatTorchLinearComputes) {
  Twins twins;
  const torch::Tensor x = torch::randn({2, 4, 5}, torch::kDouble);
  const torch::Tensor x1 = x.clone().requires_grad_(true);
  const torch::Tensor x2 = x.clone().requires_grad_(true);
  const torch::Tensor y1 = twins.ours(x1);
  const torch::Tensor y2 = twins.theirs(x2);
  EXPECT_TRUE(torch::allclose(y1, y2, 0, 1e-14));
  const torch::Tensor g = torch::randn_like(y1);
  y1.backward(g);
  y2.backward(g);
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 0, 1e-13));
  EXPECT_TRUE(torch::allclose(twins.ours->weight.grad(), twins.theirs->weight.grad(), 0, 1e-13));
  EXPECT_TRUE(torch::allclose(twins.ours->bias.grad(), twins.theirs->bias.grad(), 0, 1e-13));
}

TEST(DeferrableLinear, DefersItsWeightGradientWhileTheStoreDefers) {
  Twins twins;
  auto store = std::make_shared<WeightGradStore>();
  twins.ours->set_weight_grad_store(store);
  const torch::Tensor x = torch::randn({3, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  store->set_deferring(true);
  twins.ours(x).sum().backward();
  store->set_deferring(false);
  store->flush(schedule::Chunk{});
  EXPECT_TRUE(x.grad().defined());  // the input gradient is never deferred
  EXPECT_FALSE(twins.ours->weight.grad().defined());
  store->replay(schedule::Chunk{});
  twins.theirs(x.detach()).sum().backward();
  EXPECT_TRUE(torch::allclose(twins.ours->weight.grad(), twins.theirs->weight.grad(), 0, 1e-13));
  EXPECT_TRUE(torch::allclose(twins.ours->bias.grad(), twins.theirs->bias.grad(), 0, 1e-13));
}

TEST(DeferrableLinear, AccumulatesOverSeveralBackwards) {
  Twins twins;
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor x = torch::randn({3, 5}, torch::kDouble);
    twins.ours(x).pow(2).sum().backward();
    twins.theirs(x).pow(2).sum().backward();
  }
  EXPECT_TRUE(torch::allclose(twins.ours->weight.grad(), twins.theirs->weight.grad(), 0, 1e-12));
}

TEST(DeferrableLinear, OutputRequiresGradWhenOnlyTheWeightDoes) {
  Twins twins;
  const torch::Tensor x = torch::randn({3, 5}, torch::kDouble);
  const torch::Tensor y = twins.ours(x);
  ASSERT_TRUE(y.requires_grad());
  y.sum().backward();
  twins.theirs(x).sum().backward();
  EXPECT_TRUE(torch::allclose(twins.ours->weight.grad(), twins.theirs->weight.grad(), 0, 1e-13));
}

TEST(DeferrableLinear, LeavesTheWeightOutOfTheGraphWhenTheInputRequiresGrad) {
  Twins twins;
  const torch::Tensor x = torch::randn({3, 5}, torch::dtype(torch::kDouble).requires_grad(true));
  const torch::Tensor y = twins.ours(x);
  int valid_edges = 0;
  for (const auto& edge : y.grad_fn()->next_edges()) valid_edges += edge.is_valid();
  EXPECT_EQ(valid_edges, 1);  // only the input's: the weight gradient is accumulated by hand
  y.sum().backward();
  twins.theirs(x.detach()).sum().backward();
  EXPECT_TRUE(torch::allclose(twins.ours->weight.grad(), twins.theirs->weight.grad(), 0, 1e-13));
}

}  // namespace
}  // namespace dualpipe::runtime
