#include "dualpipe/runtime/sequential_step.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dualpipe/runtime/mlp_stage.h"

namespace dualpipe::runtime {
namespace {

torch::Tensor mse(const TensorList& outputs, const TensorList& labels) {
  return torch::mse_loss(outputs[0], labels[0]);
}

TEST(SequentialStep, AccumulatesEveryMicrobatchsGradientAndReturnsItsLoss) {
  std::vector<std::shared_ptr<PipelineStage>> stages = {
      make_mlp_stage(4, 2, 2, 0, 3, torch::kDouble), make_mlp_stage(4, 2, 2, 1, 3, torch::kDouble)};
  const torch::Tensor x = torch::randn({6, 4}, torch::kDouble);
  const torch::Tensor y = torch::randn({6, 4}, torch::kDouble);
  StepInput input{{x}, {y}, 3, mse, true};
  const StepResult result = sequential_step(stages, input, 0);
  EXPECT_EQ(result.microbatches, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(result.outputs.size(), 3u);

  // The same computation by hand on copies of the stages.
  std::vector<std::shared_ptr<PipelineStage>> copies = {
      make_mlp_stage(4, 2, 2, 0, 3, torch::kDouble), make_mlp_stage(4, 2, 2, 1, 3, torch::kDouble)};
  for (int g = 0; g < 3; ++g) {
    const torch::Tensor out =
        copies[1]->forward(copies[0]->forward({x.slice(0, 2 * g, 2 * g + 2)}))[0];
    const torch::Tensor loss = torch::mse_loss(out, y.slice(0, 2 * g, 2 * g + 2));
    loss.backward();
    EXPECT_TRUE(torch::equal(result.losses[g], loss.detach()));
    EXPECT_TRUE(torch::equal(result.outputs[static_cast<std::size_t>(g)][0], out.detach()));
  }
  EXPECT_TRUE(torch::allclose(stages[0]->parameters()[0].grad(), copies[0]->parameters()[0].grad(),
                              0, 1e-14));
}

TEST(SequentialStep, LeavesGradientsAloneWithoutGradientMode) {
  auto stage = make_mlp_stage(4, 1, 1, 0, 3, torch::kDouble);
  torch::NoGradGuard no_grad;
  sequential_step({stage},
                  StepInput{{torch::randn({2, 4}, torch::kDouble)},
                            {torch::randn({2, 4}, torch::kDouble)},
                            2,
                            mse,
                            false},
                  0);
  EXPECT_FALSE(stage->parameters()[0].grad().defined());
}

}  // namespace
}  // namespace dualpipe::runtime
