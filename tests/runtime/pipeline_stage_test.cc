#include "dualpipe/runtime/pipeline_stage.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace dualpipe::runtime {
namespace {

// y = w * x, recording the order in which forward and backward ran.
class ScaleStage : public PipelineStage {
 public:
  explicit ScaleStage(std::vector<std::string>* log) : log_(log) {
    weight = register_parameter("weight", torch::full({1}, 3.0, torch::kDouble));
  }
  TensorList forward(const TensorList& inputs) override {
    log_->push_back("forward");
    return {inputs.at(0) * weight};
  }
  torch::Tensor weight;

 private:
  std::vector<std::string>* log_;
};

torch::Tensor sum_loss(const TensorList& outputs, const TensorList& labels) {
  return (outputs.at(0) - labels.at(0)).sum();
}

TEST(RunForward, AppliesTheCriterionOnlyWhenGiven) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  const torch::Tensor x = torch::ones({2}, torch::kDouble);
  EXPECT_FALSE(run_forward(stage, ForwardPass{{x}, nullptr, {}}).loss.defined());
  const Criterion criterion = sum_loss;
  const ForwardResult result =
      run_forward(stage, ForwardPass{{x}, &criterion, {torch::ones({2}, torch::kDouble)}});
  EXPECT_DOUBLE_EQ(result.loss.item<double>(), 4.0);
}

TEST(RunBackward, PropagatesFromOutputGradientsIntoInputsAndParameters) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  const torch::Tensor x = torch::ones({2}, torch::kDouble).requires_grad_(true);
  const ForwardResult result = run_forward(stage, ForwardPass{{x}, nullptr, {}});
  run_backward(BackwardPass{&stage, {}, result.outputs, {torch::full({2}, 2.0, torch::kDouble)}});
  EXPECT_TRUE(torch::equal(x.grad(), torch::full({2}, 6.0, torch::kDouble)));
  EXPECT_DOUBLE_EQ(stage.weight.grad().item<double>(), 4.0);
}

TEST(RunBackward, StartsFromAScalarLossWithAGradientOfOne) {
  for (const torch::ScalarType dtype : {torch::kDouble, torch::kFloat, torch::kDouble}) {
    std::vector<std::string> log;
    ScaleStage stage(&log);
    stage.to(dtype);
    const torch::Tensor x = torch::ones({2}, dtype).requires_grad_(true);
    const Criterion criterion = sum_loss;
    const ForwardResult result =
        run_forward(stage, ForwardPass{{x}, &criterion, {torch::zeros({2}, dtype)}});
    run_backward(BackwardPass{&stage, result.loss, {}, {}});
    EXPECT_TRUE(torch::equal(x.grad(), torch::full({2}, 3.0, dtype)));
    EXPECT_DOUBLE_EQ(stage.weight.grad().item<double>(), 2.0);
  }
}

TEST(RunBackward, NeverLetsALossGradientAliasTheNextOne) {
  // A loss that is itself a leaf receives the seed gradient as its .grad: changing that .grad must
  // not change what the next backward starts from.
  for (int round = 0; round < 2; ++round) {
    const torch::Tensor loss = torch::tensor(5.0, torch::kDouble).requires_grad_(true);
    run_backward(BackwardPass{nullptr, loss, {}, {}});
    EXPECT_DOUBLE_EQ(loss.grad().item<double>(), 1.0);
    loss.mutable_grad().add_(41.0);
  }
}

TEST(RunBackward, SkipsOutputsWithoutGradient) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  const torch::Tensor x = torch::ones({2}, torch::kDouble).requires_grad_(true);
  const ForwardResult result = run_forward(stage, ForwardPass{{x}, nullptr, {}});
  run_backward(BackwardPass{&stage, {}, result.outputs, {torch::Tensor()}});
  EXPECT_FALSE(x.grad().defined());
}

TEST(PipelineStage, OverlapsByDefaultAsForwardThenBackward) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  const torch::Tensor earlier_input = torch::ones({1}, torch::kDouble).requires_grad_(true);
  const ForwardResult earlier = run_forward(stage, ForwardPass{{earlier_input}, nullptr, {}});
  const Criterion criterion = sum_loss;
  const ForwardResult result = stage.overlapped_forward_backward(
      ForwardPass{
          {torch::ones({1}, torch::kDouble)}, &criterion, {torch::zeros({1}, torch::kDouble)}},
      BackwardPass{&stage, earlier.outputs.at(0).sum(), {}, {}});
  EXPECT_EQ(log, (std::vector<std::string>{"forward", "forward"}));
  EXPECT_DOUBLE_EQ(result.loss.item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(earlier_input.grad().item<double>(), 3.0);
}

TEST(PipelineStage, RunsTheBackwardOnTheWorkerWhenGivenOne) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  ScaleStage other(&log);
  const torch::Tensor earlier_input = torch::ones({1}, torch::kDouble).requires_grad_(true);
  const ForwardResult earlier = run_forward(other, ForwardPass{{earlier_input}, nullptr, {}});
  HostWorker worker;
  const Criterion criterion = sum_loss;
  BackwardPass backward{&other, earlier.outputs.at(0).sum(), {}, {}};
  backward.worker = &worker;
  const ForwardResult result = stage.overlapped_forward_backward(
      ForwardPass{
          {torch::ones({1}, torch::kDouble)}, &criterion, {torch::zeros({1}, torch::kDouble)}},
      backward);
  EXPECT_DOUBLE_EQ(result.loss.item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(earlier_input.grad().item<double>(), 3.0);
  EXPECT_DOUBLE_EQ(other.weight.grad().item<double>(), 1.0);
  EXPECT_FALSE(stage.weight.grad().defined());
}

TEST(PipelineStage, ReportsABackwardThatFailsOnTheWorker) {
  std::vector<std::string> log;
  ScaleStage stage(&log);
  HostWorker worker;
  const torch::Tensor no_graph = torch::ones({1}, torch::kDouble);  // nothing to backpropagate
  BackwardPass backward{&stage, no_graph.sum(), {}, {}};
  backward.worker = &worker;
  EXPECT_THROW(stage.overlapped_forward_backward(
                   ForwardPass{{torch::ones({1}, torch::kDouble)}, nullptr, {}}, backward),
               std::exception);
  worker.start([] {});  // the worker was waited for and takes the next task
  worker.wait();
}

}  // namespace
}  // namespace dualpipe::runtime
