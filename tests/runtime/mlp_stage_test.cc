#include "dualpipe/runtime/mlp_stage.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace dualpipe::runtime {
namespace {

TEST(MlpStage, ComputesBlocksOfLinearGeluLinear) {
  MlpStage stage(4, 1);
  stage.to(torch::kDouble);
  stage.initialize(5);
  const auto params = stage.named_parameters();
  const torch::Tensor up = params["up0.weight"];
  const torch::Tensor down = params["down0.weight"];
  EXPECT_EQ(up.sizes(), (std::vector<int64_t>{16, 4}));
  const torch::Tensor x = torch::randn({2, 3, 4}, torch::kDouble);
  const torch::Tensor expected = torch::matmul(torch::gelu(torch::matmul(x, up.t())), down.t());
  EXPECT_TRUE(torch::allclose(stage.forward({x}).at(0), expected, 0, 1e-14));
}

TEST(MakeMlpStage, BuildsIdenticalStagesFromTheSameSeedAndDifferentOnesPerStage) {
  const auto a = make_mlp_stage(8, 4, 2, 1, 42, torch::kFloat);
  const auto b = make_mlp_stage(8, 4, 2, 1, 42, torch::kFloat);
  const auto c = make_mlp_stage(8, 4, 2, 0, 42, torch::kFloat);
  EXPECT_EQ(a->parameters().size(), 4u);  // two blocks of two linears
  EXPECT_TRUE(torch::equal(a->parameters()[0], b->parameters()[0]));
  EXPECT_FALSE(torch::equal(a->parameters()[0], c->parameters()[0]));
  EXPECT_EQ(a->parameters()[0].scalar_type(), torch::kFloat);
}

TEST(MakeMlpStage, RejectsBlocksThatDoNotSplitEvenly) {
  EXPECT_THROW(make_mlp_stage(8, 4, 3, 0, 1, torch::kFloat), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::runtime
