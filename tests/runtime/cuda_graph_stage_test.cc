#include "dualpipe/runtime/cuda_graph_stage.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/runtime/mlp_stage.h"
#include "tensor_compare.h"

namespace dualpipe::runtime {
namespace {

constexpr int64_t kHidden = 32;

using dualpipe::testing::relative_difference;

// A stage of two MLP blocks on the first GPU (float64), and the same stage graphed.
struct EagerAndGraphed {
  std::shared_ptr<MlpStage> eager = make_mlp_stage(kHidden, 2, 1, 0, 7, torch::kDouble);
  std::shared_ptr<CudaGraphStage> graphed =
      std::make_shared<CudaGraphStage>(make_mlp_stage(kHidden, 2, 1, 0, 7, torch::kDouble));

  EagerAndGraphed() {
    eager->to(torch::kCUDA);
    graphed->to(torch::kCUDA);
  }

  void expect_same_weight_grads() const {
    const auto mine = graphed->parameters();
    const auto theirs = eager->parameters();
    ASSERT_EQ(mine.size(), theirs.size());
    for (std::size_t p = 0; p < mine.size(); ++p) {
      ASSERT_TRUE(mine[p].grad().defined()) << "parameter " << p;
      EXPECT_LE(relative_difference(mine[p].grad(), theirs[p].grad()), 1e-12) << "parameter " << p;
    }
  }
};

torch::Tensor cuda_input(int64_t seq, bool requires_grad, int seed) {
  torch::manual_seed(seed);
  return torch::randn({2, seq, kHidden}, torch::kDouble)
      .to(torch::kCUDA)
      .requires_grad_(requires_grad);
}

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device"

TEST(CudaGraphStage, RejectsCpuInputsNamingTheInputAndItsDevice) {
  CudaGraphStage stage(make_mlp_stage(kHidden, 2, 1, 0, 7, torch::kDouble));
  try {
    stage.forward({torch::zeros({2, 3, kHidden}, torch::kDouble)});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("input 0 is on cpu"), std::string::npos) << e.what();
  }
  EXPECT_THROW(stage.forward({}), std::invalid_argument);
}

TEST(CudaGraphStage, ExposesTheWrappedStagesParameters) {
  auto inner = make_mlp_stage(kHidden, 2, 1, 0, 7, torch::kDouble);
  CudaGraphStage stage(inner);
  const auto mine = stage.parameters();
  const auto theirs = inner->parameters();
  ASSERT_EQ(mine.size(), 4u);
  for (std::size_t p = 0; p < mine.size(); ++p) EXPECT_TRUE(mine[p].is_same(theirs[p]));
  EXPECT_EQ(&stage.stage(), inner.get());
}

TEST(CudaGraphStage, MatchesTheEagerStageWithMicroBatchesInFlightAndBackwardsOutOfOrder) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  std::vector<torch::Tensor> eager_in, graphed_in, eager_out, graphed_out;
  for (int m = 0; m < 3; ++m) {
    eager_in.push_back(cuda_input(5, true, m));
    graphed_in.push_back(eager_in.back().detach().clone().requires_grad_(true));
    eager_out.push_back(pair.eager->forward({eager_in.back()}).at(0));
    graphed_out.push_back(pair.graphed->forward({graphed_in.back()}).at(0));
    EXPECT_LE(relative_difference(graphed_out.back(), eager_out.back()), 1e-12);
  }
  EXPECT_EQ(pair.graphed->captured_sets(), 3);
  for (int m : {1, 2, 0}) {
    const torch::Tensor grad = cuda_input(5, false, 10 + m);
    torch::autograd::backward({eager_out[m]}, {grad});
    torch::autograd::backward({graphed_out[m]}, {grad});
    EXPECT_LE(relative_difference(graphed_in[m].grad(), eager_in[m].grad()), 1e-12);
  }
  pair.expect_same_weight_grads();
  // Every set is free again: another micro-batch replays one instead of capturing.
  pair.graphed->forward({cuda_input(5, true, 3)});
  EXPECT_EQ(pair.graphed->captured_sets(), 3);
}

TEST(CudaGraphStage, GivesWeightGradientsWhenNoInputRequiresGrad) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  const torch::Tensor x = cuda_input(4, false, 1);
  const torch::Tensor grad = cuda_input(4, false, 2);
  const torch::Tensor out = pair.graphed->forward({x}).at(0);
  ASSERT_TRUE(out.requires_grad());
  torch::autograd::backward({out}, {grad});
  torch::autograd::backward({pair.eager->forward({x}).at(0)}, {grad});
  pair.expect_same_weight_grads();
}

TEST(CudaGraphStage, DefersItsWeightGradientsToTheStoreItIsGiven) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  auto store = std::make_shared<WeightGradStore>();
  EXPECT_GT(attach_weight_grad_store(*pair.graphed, store), 0);
  const torch::Tensor x = cuda_input(4, true, 1);
  const torch::Tensor grad = cuda_input(4, false, 2);
  const torch::Tensor out = pair.graphed->forward({x}).at(0);
  const schedule::Chunk chunk{0, 0, 0};
  store->run_deferring(chunk, [&] { torch::autograd::backward({out}, {grad}); });
  ASSERT_TRUE(x.grad().defined());
  for (const torch::Tensor& p : pair.graphed->parameters())
    EXPECT_EQ(p.grad().abs().max().item<double>(), 0.0);  // W not replayed yet
  const torch::Tensor x_eager = x.detach().clone().requires_grad_(true);
  torch::autograd::backward({pair.eager->forward({x_eager}).at(0)}, {grad});
  EXPECT_LE(relative_difference(x.grad(), x_eager.grad()), 1e-12);
  store->replay(chunk);
  pair.expect_same_weight_grads();
}

TEST(CudaGraphStage, StartsFromZeroWhenGradientsWereResetBetweenSteps) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  const torch::Tensor grad = cuda_input(4, false, 9);
  for (int step = 0; step < 2; ++step) {
    for (const torch::Tensor& p : pair.graphed->parameters()) p.mutable_grad() = torch::Tensor();
    for (const torch::Tensor& p : pair.eager->parameters()) p.mutable_grad() = torch::Tensor();
    const torch::Tensor x = cuda_input(4, true, step);
    torch::autograd::backward({pair.graphed->forward({x}).at(0)}, {grad});
    torch::autograd::backward({pair.eager->forward({x}).at(0)}, {grad});
    pair.expect_same_weight_grads();
  }
  // A replaced .grad keeps its value and receives the next micro-batch's gradient.
  for (const torch::Tensor& p : pair.graphed->parameters()) p.mutable_grad() = p.grad().clone();
  for (const torch::Tensor& p : pair.eager->parameters()) p.mutable_grad() = p.grad().clone();
  const torch::Tensor x = cuda_input(4, true, 5);
  torch::autograd::backward({pair.graphed->forward({x}).at(0)}, {grad});
  torch::autograd::backward({pair.eager->forward({x}).at(0)}, {grad});
  pair.expect_same_weight_grads();
}

// Two outputs that need gradients and one that does not (an argmax).
class ThreeOutputStage : public PipelineStage {
 public:
  ThreeOutputStage() {
    mlp_ = register_module("mlp", make_mlp_stage(kHidden, 1, 1, 0, 3, torch::kDouble));
  }
  TensorList forward(const TensorList& inputs) override {
    const torch::Tensor y = mlp_->forward(inputs).at(0);
    return {y, y * y, y.argmax(-1)};
  }

 private:
  std::shared_ptr<MlpStage> mlp_;
};

TEST(CudaGraphStage, HandlesSeveralOutputsSomeWithoutGradients) {
  SKIP_WITHOUT_CUDA();
  auto eager = std::make_shared<ThreeOutputStage>();
  auto graphed = std::make_shared<CudaGraphStage>(std::make_shared<ThreeOutputStage>());
  eager->to(torch::kCUDA);
  graphed->to(torch::kCUDA);
  const torch::Tensor x = cuda_input(4, true, 1);
  const torch::Tensor x_eager = x.detach().clone().requires_grad_(true);
  const TensorList mine = graphed->forward({x});
  const TensorList theirs = eager->forward({x_eager});
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_FALSE(mine[2].requires_grad());
  EXPECT_TRUE(torch::equal(mine[2], theirs[2]));
  // Only the first output receives a gradient (as when a pipeline sends only some back).
  const torch::Tensor grad = cuda_input(4, false, 2);
  torch::autograd::backward({mine[0]}, {grad});
  torch::autograd::backward({theirs[0]}, {grad});
  EXPECT_LE(relative_difference(x.grad(), x_eager.grad()), 1e-12);
  const auto p_mine = graphed->parameters();
  const auto p_theirs = eager->parameters();
  for (std::size_t p = 0; p < p_mine.size(); ++p)
    EXPECT_LE(relative_difference(p_mine[p].grad(), p_theirs[p].grad()), 1e-12) << p;
}

TEST(CudaGraphStage, RefusesASecondBackwardThroughOneForward) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  const torch::Tensor grad = cuda_input(4, false, 2);
  const torch::Tensor out = pair.graphed->forward({cuda_input(4, true, 1)}).at(0);
  torch::autograd::backward({out}, {grad}, /*retain_graph=*/true);
  try {
    torch::autograd::backward({out}, {grad});
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("backward ran twice"), std::string::npos) << e.what();
  }
  // The set was freed by the first backward, though the output still holds its graph.
  pair.graphed->forward({cuda_input(4, true, 3)});
  EXPECT_EQ(pair.graphed->captured_sets(), 1);
}

TEST(CudaGraphStage, CapturesAgainForNewShapesForwardOnlyAndAfterAMove) {
  SKIP_WITHOUT_CUDA();
  EagerAndGraphed pair;
  const torch::Tensor x4 = cuda_input(4, true, 1);
  const torch::Tensor x6 = cuda_input(6, true, 2);
  pair.graphed->forward({x4});
  EXPECT_EQ(pair.graphed->captured_sets(), 1);
  EXPECT_LE(relative_difference(pair.graphed->forward({x6}).at(0), pair.eager->forward({x6}).at(0)),
            1e-12);
  EXPECT_EQ(pair.graphed->captured_sets(), 2);
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor out = pair.graphed->forward({x4}).at(0);
    EXPECT_FALSE(out.requires_grad());
    EXPECT_LE(relative_difference(out, pair.eager->forward({x4}).at(0)), 1e-12);
  }
  EXPECT_EQ(pair.graphed->captured_sets(), 3);
  pair.graphed->to(torch::kFloat);
  pair.eager->to(torch::kFloat);
  const torch::Tensor x = x4.detach().to(torch::kFloat);
  EXPECT_LE(relative_difference(pair.graphed->forward({x}).at(0), pair.eager->forward({x}).at(0)),
            1e-6);
  EXPECT_EQ(pair.graphed->captured_sets(), 1);
}

}  // namespace
}  // namespace dualpipe::runtime
