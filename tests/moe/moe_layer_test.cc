#include "dualpipe/moe/moe_layer.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "multi_process.h"
#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::relative_difference;
using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

MoeLayerOptions small_options(int64_t experts, bool shared_and_groups) {
  MoeLayerOptions o;
  o.hidden = 8;
  o.ffn_hidden = 6;
  o.experts = experts;
  o.top_k = 2;
  if (shared_and_groups) {
    o.groups = 2;
    o.top_groups = 1;
    o.shared_ffn_hidden = 5;
  }
  o.seed = 42;
  return o;
}

// Gradients of every logical expert summed over its slots and all ranks: [experts, weights].
torch::Tensor logical_expert_grads(MoeLayerImpl& layer) {
  const ExpertPlacement& placement = layer.placement();
  const int first = placement.first_slot_of_rank(group_rank(layer.group()));
  std::vector<torch::Tensor> rows(static_cast<std::size_t>(placement.num_experts()));
  torch::Tensor sums;
  for (int64_t j = 0; j < layer.experts->num_slots(); ++j) {
    std::vector<torch::Tensor> flat;
    for (const torch::Tensor& p : layer.experts->slot_parameters(j))
      flat.push_back(p.grad().defined() ? p.grad().flatten()
                                        : torch::zeros({p.numel()}, p.options()));
    const torch::Tensor row = torch::cat(flat);
    if (!sums.defined()) sums = torch::zeros({placement.num_experts(), row.numel()}, row.options());
    sums[placement.phy2log()[static_cast<std::size_t>(first + j)]] += row;
  }
  if (layer.group()) {
    std::vector<torch::Tensor> buffer{sums};
    layer.group()->allreduce(buffer)->wait();
  }
  return sums;
}

// Every rank routes its own tokens through the expert-parallel layer and through a one-process
// layer with every expert (same seed): outputs, input and router gradients, and each logical
// expert's gradient summed over ranks must agree.
void check_against_dense(const Worker& worker, const ExpertPlacement& placement,
                         bool shared_and_groups) {
  const MoeLayerOptions options = small_options(placement.num_experts(), shared_and_groups);
  const CommGroup world = worker.world();
  MoeLayer distributed(options, world, placement);
  MoeLayer dense(options, CommGroup(), ExpertPlacement::identity(placement.num_experts(), 1));
  distributed->to(torch::kFloat64);
  dense->to(torch::kFloat64);
  torch::manual_seed(100 + worker.rank);
  const torch::Tensor tokens = torch::randn({6 + 2 * worker.rank, 8}, torch::kFloat64);
  const torch::Tensor grad = torch::randn({6 + 2 * worker.rank, 8}, torch::kFloat64);

  const torch::Tensor x1 = tokens.clone().requires_grad_(true);
  const torch::Tensor y1 = distributed->forward(x1);
  y1.backward(grad);
  const torch::Tensor x2 = tokens.clone().requires_grad_(true);
  const torch::Tensor y2 = dense->forward(x2);
  y2.backward(grad);

  EXPECT_LE(relative_difference(y1, y2), 1e-12);
  EXPECT_LE(relative_difference(x1.grad(), x2.grad()), 1e-12);
  EXPECT_LE(relative_difference(distributed->router->weight.grad(), dense->router->weight.grad()),
            1e-12);
  if (shared_and_groups) {
    EXPECT_LE(relative_difference(distributed->shared->down->weight.grad(),
                                  dense->shared->down->weight.grad()),
              1e-12);
  }
  const torch::Tensor distributed_experts = logical_expert_grads(*distributed);
  const torch::Tensor dense_experts = logical_expert_grads(*dense);
  std::vector<torch::Tensor> buffer{dense_experts};
  world->allreduce(buffer)->wait();
  EXPECT_LE(relative_difference(distributed_experts, dense_experts), 1e-12);

  // After the replica reduction every copy holds its logical expert's whole gradient.
  distributed->reduce_replica_gradients();
  const int first = placement.first_slot_of_rank(worker.rank);
  for (int64_t j = 0; j < distributed->experts->num_slots(); ++j) {
    const int expert = placement.phy2log()[static_cast<std::size_t>(first + j)];
    if (placement.copies(expert) < 2) continue;
    const torch::Tensor gate_up_grad = distributed->experts->slot(j)->gate_up->weight.grad();
    EXPECT_LE(relative_difference(gate_up_grad.flatten(),
                                  dense_experts[expert].narrow(0, 0, gate_up_grad.numel())),
              1e-12);
  }
}

TEST(MoeLayer, TwoRanksMatchOneProcessHoldingEveryExpert) {
  run_in_processes(
      2, [](const Worker& w) { check_against_dense(w, ExpertPlacement::identity(4, 2), false); });
}

TEST(MoeLayer, TwoRanksWithReplicatedExpertsMatchOneProcess) {
  run_in_processes(2, [](const Worker& w) {
    check_against_dense(w, ExpertPlacement({0, 1, 2, 0, 3, 2}, 4, 2), false);
  });
}

TEST(MoeLayer, FourRanksWithReplicasSharedExpertAndGroupLimitedRoutingMatchOneProcess) {
  run_in_processes(4, [](const Worker& w) {
    check_against_dense(w, ExpertPlacement({0, 1, 2, 3, 4, 5, 0, 3}, 6, 4), true);
  });
}

TEST(MoeLayer, RejectsAPlacementForAnotherShape) {
  EXPECT_THROW(MoeLayer(small_options(4, false), CommGroup(), ExpertPlacement::identity(4, 2)),
               std::invalid_argument);
  EXPECT_THROW(MoeLayer(small_options(6, false), CommGroup(), ExpertPlacement::identity(4, 1)),
               std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
