#include "dualpipe/moe/moe_stage.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "multi_process.h"
#include "tensor_compare.h"
#include "test_stages.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::max_relative_difference;
using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

MoeStageOptions stage_options() { return testing::small_stage_options(3, 17); }

std::vector<ExpertPlacement> placements(int ranks) {
  // Layer 3: identity; layer 4: two copies of experts 0 and 2 (slots padded to the rank count).
  std::vector<int> replicated{0, 1, 2, 3, 0, 2};
  while (replicated.size() % static_cast<std::size_t>(ranks) != 0) replicated.push_back(1);
  return {ExpertPlacement(std::vector<int>{0, 1, 2, 3}, 4, ranks),
          ExpertPlacement(replicated, 4, ranks)};
}

// Everything one pair produces on this rank: forward outputs and loss, then every gradient.
std::vector<torch::Tensor> run_pair(MoeStage& stage, int rank, bool overlap, bool use_loss) {
  torch::manual_seed(1000 + rank);
  const torch::Tensor x0 =
      torch::randn({2, 3, 8}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor x1 =
      torch::randn({2, 3, 8}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor target = torch::randn({2, 3, 8}, torch::kFloat64);
  const runtime::Criterion criterion = [](const runtime::TensorList& outputs,
                                          const runtime::TensorList& labels) {
    return (outputs[0] - labels[0]).pow(2).mean();
  };
  stage.zero_grad();
  stage.set_overlap(overlap);
  runtime::ForwardPass first{{x0}, use_loss ? &criterion : nullptr, {target}};
  const runtime::ForwardResult result0 = runtime::run_forward(stage, first);
  const runtime::ForwardResult result1 =
      stage.overlapped_forward_backward(runtime::ForwardPass{{x1}, &criterion, {target}},
                                        testing::backward_of(stage, result0, target));
  std::vector<torch::Tensor> outcome{result1.outputs.at(0).detach(), result1.loss.detach(),
                                     x0.grad()};
  for (const torch::Tensor& p : stage.parameters()) {
    outcome.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  // Finish the pair's forward micro-batch too, so no graph is left behind.
  runtime::run_backward(runtime::BackwardPass{&stage, result1.loss, {}, {}});
  return outcome;
}

// With a weight-gradient store the overlapped pair also splits weight gradients into W phases;
// both pair orders.
void check_pairs(const Worker& worker) {
  MoeStage stage(stage_options(), worker.world(), placements(worker.world_size));
  stage.to(torch::kFloat64);
  for (bool split_weights : {false, true}) {
    if (split_weights) {
      EXPECT_GT(
          runtime::attach_weight_grad_store(stage, std::make_shared<runtime::WeightGradStore>()),
          0);
    }
    for (const PairOrder order : {PairOrder::kForwardFirst, PairOrder::kBackwardFirst}) {
      stage.set_pair_order(order);
      for (bool use_loss : {false, true}) {
        const std::vector<torch::Tensor> sequential = run_pair(stage, worker.rank, false, use_loss);
        const std::vector<torch::Tensor> overlapped = run_pair(stage, worker.rank, true, use_loss);
        EXPECT_LE(max_relative_difference(overlapped, sequential), 1e-12)
            << "backward from loss: " << use_loss << ", W phases: " << split_weights
            << ", backward first: " << (order == PairOrder::kBackwardFirst);
        EXPECT_GT(sequential[2].abs().sum().item<double>(), 0.0);  // gradients reached the input
      }
    }
  }
}

TEST(MoeStage, OverlappedPairsMatchSequentialPairsOnTwoRanks) { run_in_processes(2, check_pairs); }

TEST(MoeStage, OverlappedPairsMatchSequentialPairsOnFourRanks) { run_in_processes(4, check_pairs); }

std::vector<torch::Tensor> parameter_grads(torch::nn::Module& module) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : module.parameters()) {
    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return grads;
}

TEST(MoeStage, OnOneProcessMatchesItsLayersAppliedOneByOne) {
  MoeStage stage(stage_options(), CommGroup(), placements(1));
  stage.to(torch::kFloat64);
  const torch::Tensor input = torch::randn({2, 3, 8}, torch::kFloat64);
  const torch::Tensor grad = torch::randn({2, 3, 8}, torch::kFloat64);

  const torch::Tensor x = input.clone().requires_grad_(true);
  const torch::Tensor y = stage.forward({x}).at(0);
  y.backward(grad);
  std::vector<torch::Tensor> phased = parameter_grads(stage);
  phased.push_back(x.grad());
  stage.zero_grad();

  const torch::Tensor x2 = input.clone().requires_grad_(true);
  torch::Tensor expected = x2;
  for (MoeTransformerLayer& layer : stage.layers) {
    const torch::Tensor h = expected + layer->attention->forward(layer->norm1->forward(expected));
    expected = h + layer->moe->forward(layer->norm2->forward(h).reshape({-1, 8})).view(h.sizes());
  }
  expected.backward(grad);
  std::vector<torch::Tensor> reference = parameter_grads(stage);
  reference.push_back(x2.grad());
  EXPECT_LE(max_relative_difference({y}, {expected}), 1e-13);
  EXPECT_LE(max_relative_difference(phased, reference), 1e-12);
}

// Recomputation: the second forward takes what the first one's exchanges received. Only rank 0
// runs it, so an exchange would wait for a peer that never comes.
TEST(MoeStage, ARecomputedForwardSendsNoTokens) {
  run_in_processes(2, [](const Worker& worker) {
    const CommGroup group = worker.group("experts", {0, 1});
    MoeStage stage(stage_options(), group, placements(2));
    stage.to(torch::kFloat64);
    torch::manual_seed(40 + worker.rank);
    const torch::Tensor x = torch::randn({2, 3, 8}, torch::dtype(torch::kFloat64));
    runtime::TensorList first;
    std::unique_ptr<runtime::ForwardReplay> replay = stage.forward_once({x}, first);
    EXPECT_FALSE(first.at(0).requires_grad());
    if (worker.rank != 0) return;
    const runtime::TensorList again =
        stage.forward_again({x.clone().requires_grad_(true)}, *replay);
    EXPECT_TRUE(again.at(0).requires_grad());
    EXPECT_LE(max_relative_difference({again.at(0).detach()}, {first.at(0)}), 1e-15);
  });
}

TEST(MoeStage, RejectsAPlacementCountThatDiffersFromTheLayers) {
  EXPECT_THROW(MoeStage(stage_options(), CommGroup(), {ExpertPlacement::identity(4, 1)}),
               std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
