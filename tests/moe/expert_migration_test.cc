#include "dualpipe/moe/expert_migration.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>

#include "dualpipe/moe/moe_layer.h"
#include "multi_process.h"
#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::relative_difference;
using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

TEST(PlanExpertMoves, CopiesOnlySlotsWhoseExpertChanges) {
  const ExpertPlacement from({0, 1, 2, 3}, 4, 2);
  const ExpertPlacement to({0, 3, 2, 1}, 4, 2);
  const std::vector<SlotCopy> copies = plan_expert_moves(from, to);
  // Sorted by (source rank, destination rank, destination slot).
  EXPECT_EQ(copies, (std::vector<SlotCopy>{{1, 1, 3}, {3, 3, 1}}));
}

TEST(PlanExpertMoves, PrefersACopyOnTheDestinationRank) {
  const ExpertPlacement from({0, 1, 2, 0, 3, 2}, 4,
                             2);  // expert 0 in slots 0 (rank 0) and 3 (rank 1)
  const ExpertPlacement to({0, 1, 2, 3, 0, 2}, 4, 2);  // slot 4 (rank 1) becomes expert 0
  const std::vector<SlotCopy> copies = plan_expert_moves(from, to);
  EXPECT_EQ(copies, (std::vector<SlotCopy>{{3, 4, 3}, {0, 3, 4}}));  // a swap within rank 1
}

TEST(PlanExpertMoves, TakesRemoteCopiesRoundRobin) {
  const ExpertPlacement from({0, 0, 1, 2}, 3, 2);  // expert 0 twice on rank 0
  const ExpertPlacement to({1, 2, 0, 0}, 3, 2);
  const std::vector<SlotCopy> copies = plan_expert_moves(from, to);
  EXPECT_EQ(copies, (std::vector<SlotCopy>{{0, 0, 2}, {0, 1, 3}, {1, 2, 0}, {2, 3, 1}}));
}

TEST(PlanExpertMoves, RejectsPlacementsOfDifferentShapes) {
  EXPECT_THROW(plan_expert_moves(ExpertPlacement::identity(4, 2), ExpertPlacement::identity(4, 1)),
               std::invalid_argument);
}

MoeLayerOptions options() {
  MoeLayerOptions o;
  o.hidden = 8;
  o.ffn_hidden = 6;
  o.experts = 4;
  o.top_k = 2;
  o.seed = 5;
  return o;
}

// One Adam step on `tokens`; returns the layer output before the step.
torch::Tensor train_step(MoeLayer& layer, torch::optim::Adam& adam, const torch::Tensor& tokens) {
  adam.zero_grad();
  const torch::Tensor y = layer->forward(tokens);
  y.pow(2).sum().backward();
  layer->reduce_replica_gradients();
  adam.step();
  return y.detach();
}

// Two copies of the same layer train on the same tokens; one switches placement after the first
// step, moving weights and Adam state. Outputs must stay equal, before and after later steps.
// On a CUDA `device` the Gloo group carries the moves through host copies.
void check_migration(const Worker& worker, const ExpertPlacement& before,
                     const ExpertPlacement& after, torch::Device device = torch::kCPU) {
  const CommGroup world = worker.world();
  MoeLayer moving(options(), world, before);
  MoeLayer staying(options(), world, before);
  moving->to(device, torch::kFloat64);
  staying->to(device, torch::kFloat64);
  torch::optim::Adam moving_adam(moving->parameters(), torch::optim::AdamOptions(1e-2));
  torch::optim::Adam staying_adam(staying->parameters(), torch::optim::AdamOptions(1e-2));
  torch::manual_seed(50 + worker.rank);
  const torch::Tensor tokens = torch::randn({10, 8}, torch::kFloat64).to(device);

  train_step(moving, moving_adam, tokens);
  train_step(staying, staying_adam, tokens);
  torch::Tensor before_move;
  {
    torch::NoGradGuard no_grad;
    before_move = moving->forward(tokens);
  }
  moving->apply_placement(after, &moving_adam);
  EXPECT_EQ(moving->placement(), after);
  {
    torch::NoGradGuard no_grad;
    EXPECT_LE(relative_difference(moving->forward(tokens), before_move), 1e-12);
  }
  for (int step = 0; step < 3; ++step) {
    const torch::Tensor a = train_step(moving, moving_adam, tokens);
    const torch::Tensor b = train_step(staying, staying_adam, tokens);
    EXPECT_LE(relative_difference(a, b), 1e-12) << "step " << step;
  }
}

TEST(ExpertMigration, KeepsTheLayerFunctionAndAdamStateOnTwoRanks) {
  run_in_processes(2, [](const Worker& w) {
    check_migration(w, ExpertPlacement({0, 1, 2, 0, 3, 2}, 4, 2),
                    ExpertPlacement({3, 1, 3, 0, 2, 1}, 4, 2));
  });
}

TEST(ExpertMigration, KeepsTheLayerFunctionAndAdamStateOnFourRanks) {
  run_in_processes(4, [](const Worker& w) {
    check_migration(w, ExpertPlacement({0, 1, 2, 3, 0, 1, 2, 3}, 4, 4),
                    ExpertPlacement({3, 3, 2, 0, 1, 0, 2, 1}, 4, 4));
  });
}

TEST(ExpertMigration, KeepsTheLayerFunctionAndAdamStateOnTwoRanksSharingAGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  run_in_processes(2, [](const Worker& w) {
    check_migration(w, ExpertPlacement({0, 1, 2, 0, 3, 2}, 4, 2),
                    ExpertPlacement({3, 1, 3, 0, 2, 1}, 4, 2), torch::Device(torch::kCUDA, 0));
  });
}

}  // namespace
}  // namespace dualpipe::moe
