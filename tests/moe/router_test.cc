#include "dualpipe/moe/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <vector>

namespace dualpipe::moe {
namespace {

RouterOptions options(int64_t experts, int64_t top_k, int64_t groups = 1, int64_t top_groups = 1) {
  RouterOptions o;
  o.hidden = 6;
  o.experts = experts;
  o.top_k = top_k;
  o.groups = groups;
  o.top_groups = top_groups;
  return o;
}

// The k best experts of one token by brute force over `allowed`.
std::vector<int64_t> best_experts(const torch::Tensor& scores, const std::vector<int64_t>& allowed,
                                  int64_t k) {
  std::vector<int64_t> order = allowed;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return scores[a].item<double>() > scores[b].item<double>();
  });
  order.resize(static_cast<std::size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<int64_t> sorted_row(const torch::Tensor& row) {
  const torch::Tensor sorted = std::get<0>(row.sort()).contiguous();
  return std::vector<int64_t>(sorted.data_ptr<int64_t>(),
                              sorted.data_ptr<int64_t>() + sorted.numel());
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(7);
    tokens = torch::randn({12, 6}, torch::kFloat64);
  }
  torch::Tensor tokens;
};

TEST_F(RouterTest, PicksTheTopKScoresAndNormalisesTheirWeights) {
  Router router(options(8, 3));
  router->to(torch::kFloat64);
  const Routing routing = router->forward(tokens);
  const torch::Tensor scores = torch::softmax(tokens.matmul(router->weight.t()), -1);
  for (int64_t t = 0; t < tokens.size(0); ++t) {
    EXPECT_EQ(sorted_row(routing.experts[t]), best_experts(scores[t], {0, 1, 2, 3, 4, 5, 6, 7}, 3));
    const torch::Tensor picked = scores[t].index_select(0, routing.experts[t]);
    EXPECT_TRUE(torch::allclose(routing.weights[t], picked / picked.sum(), 1e-14, 0));
  }
}

TEST_F(RouterTest, LimitsEachTokenToItsBestGroups) {
  Router router(options(8, 2, /*groups=*/4, /*top_groups=*/2));
  router->to(torch::kFloat64);
  const Routing routing = router->forward(tokens);
  const torch::Tensor scores = torch::softmax(tokens.matmul(router->weight.t()), -1);
  for (int64_t t = 0; t < tokens.size(0); ++t) {
    const torch::Tensor group_best = std::get<0>(scores[t].view({4, 2}).max(-1));
    std::vector<int64_t> allowed;
    for (int64_t g : sorted_row(std::get<1>(group_best.topk(2)))) {
      allowed.push_back(2 * g);
      allowed.push_back(2 * g + 1);
    }
    EXPECT_EQ(sorted_row(routing.experts[t]), best_experts(scores[t], allowed, 2));
  }
}

TEST_F(RouterTest, SelectionBiasSteersChoicesWithoutEnteringTheWeights) {
  Router router(options(8, 2));
  router->to(torch::kFloat64);
  router->selection_bias[5] = 10.0;
  const Routing routing = router->forward(tokens);
  const torch::Tensor scores = torch::softmax(tokens.matmul(router->weight.t()), -1);
  for (int64_t t = 0; t < tokens.size(0); ++t) {
    const std::vector<int64_t> chosen = sorted_row(routing.experts[t]);
    EXPECT_TRUE(std::find(chosen.begin(), chosen.end(), 5) != chosen.end());
    const torch::Tensor picked = scores[t].index_select(0, routing.experts[t]);
    EXPECT_TRUE(torch::allclose(routing.weights[t], picked / picked.sum(), 1e-14, 0));
  }
  EXPECT_EQ(tokens_per_expert(routing, 8)[5].item<int64_t>(), tokens.size(0));
}

TEST_F(RouterTest, CountsTokensPerExpert) {
  Routing routing;
  routing.experts = torch::tensor({0, 3, 3, 1, 0, 3}, torch::kInt64).view({3, 2});
  const torch::Tensor counts = tokens_per_expert(routing, 5);
  EXPECT_TRUE(torch::equal(counts, torch::tensor({2, 1, 0, 3, 0}, torch::kInt64)));
}

TEST_F(RouterTest, GradientsReachTheGateAndTheTokens) {
  Router router(options(8, 2));
  router->to(torch::kFloat64);
  const torch::Tensor x = tokens.clone().requires_grad_(true);
  router->forward(x).weights.pow(2).sum().backward();
  EXPECT_GT(router->weight.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(RouterOptions, RejectsInconsistentShapes) {
  EXPECT_THROW(Router(options(8, 9)), std::invalid_argument);
  EXPECT_THROW(Router(options(8, 2, 3, 1)), std::invalid_argument);  // 3 groups do not divide 8
  EXPECT_THROW(Router(options(8, 3, 4, 1)), std::invalid_argument);  // one group of 2 < top-3
  EXPECT_THROW(Router(options(8, 2, 4, 5)), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
