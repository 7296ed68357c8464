#include "dualpipe/moe/experts.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::relative_difference;

TEST(SwiGluMlp, ComputesDownOfSiluGateTimesUp) {
  SwiGluMlp mlp(4, 6);
  mlp->to(torch::kFloat64);
  const torch::Tensor x = torch::randn({3, 4}, torch::kFloat64);
  const torch::Tensor gate = mlp->gate_up->weight.narrow(0, 0, 6);
  const torch::Tensor up = mlp->gate_up->weight.narrow(0, 6, 6);
  const torch::Tensor expected =
      torch::matmul(torch::silu(x.matmul(gate.t())) * x.matmul(up.t()), mlp->down->weight.t());
  EXPECT_LE(relative_difference(mlp->forward(x), expected), 1e-14);
}

TEST(SwiGluMlp, DrawsTheSameWeightsFromTheSameSeed) {
  SwiGluMlp a(4, 6);
  SwiGluMlp b(4, 6);
  at::Generator first = at::detail::createCPUGenerator(11);
  at::Generator second = at::detail::createCPUGenerator(11);
  a->reset_parameters(first);
  b->reset_parameters(second);
  EXPECT_TRUE(torch::equal(a->down->weight, b->down->weight));
  EXPECT_TRUE(torch::equal(a->gate_up->weight, b->gate_up->weight));
  EXPECT_LE(a->gate_up->weight.abs().max().item<double>(), 0.5);  // 1/sqrt(4)
}

TEST(LocalExperts, SendsEachBlockOfRowsThroughItsSlot) {
  LocalExperts experts(3, 4, 5);
  experts->to(torch::kFloat64);
  const torch::Tensor rows = torch::randn({6, 4}, torch::kFloat64);
  const torch::Tensor out = experts->forward(rows, {2, 0, 4});
  EXPECT_LE(
      relative_difference(out.narrow(0, 0, 2), experts->slot(0)->forward(rows.narrow(0, 0, 2))),
      1e-14);
  EXPECT_LE(
      relative_difference(out.narrow(0, 2, 4), experts->slot(2)->forward(rows.narrow(0, 2, 4))),
      1e-14);
  EXPECT_EQ(experts->slot_parameters(1).size(), 2u);
}

TEST(LocalExperts, SendsLaterRoundsOfBlocksThroughTheSlotsAgain) {
  LocalExperts experts(2, 4, 5);
  experts->to(torch::kFloat64);
  const torch::Tensor rows = torch::randn({7, 4}, torch::kFloat64);
  const torch::Tensor out = experts->forward(rows, {1, 2, 3, 1});  // slots 0, 1, 0, 1
  const std::vector<std::pair<int64_t, int64_t>> blocks{{0, 1}, {1, 2}, {3, 3}, {6, 1}};
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const auto [start, length] = blocks[b];
    const torch::Tensor expected =
        experts->slot(static_cast<int64_t>(b % 2))->forward(rows.narrow(0, start, length));
    EXPECT_LE(relative_difference(out.narrow(0, start, length), expected), 1e-14) << "block " << b;
  }
}

TEST(LocalExperts, ScalesEachRowsOutputByItsWeight) {
  LocalExperts experts(2, 4, 5);
  experts->to(torch::kFloat64);
  const torch::Tensor rows = torch::randn({5, 4}, torch::kFloat64);
  const torch::Tensor weights = torch::rand({5, 1}, torch::kFloat64).requires_grad_();
  const torch::Tensor unweighted = experts->forward(rows, {2, 3});
  const torch::Tensor out = experts->forward(rows, {2, 3}, weights);
  EXPECT_LE(relative_difference(out, unweighted * weights), 1e-14);
  const torch::Tensor g = torch::randn_like(out);
  out.backward(g);
  EXPECT_LE(relative_difference(weights.grad(), (unweighted.detach() * g).sum(1, true)), 1e-13);
}

TEST(LocalExperts, AcceptsNoRowsAtAll) {
  LocalExperts experts(2, 4, 5);
  const torch::Tensor out = experts->forward(torch::zeros({0, 4}), {0, 0});
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 4}));
}

TEST(LocalExperts, RejectsRowCountsThatDoNotAddUp) {
  LocalExperts experts(2, 4, 5);
  EXPECT_THROW(experts->forward(torch::zeros({3, 4}), {1, 1}), std::invalid_argument);
  EXPECT_THROW(experts->forward(torch::zeros({3, 4}), {3}), std::invalid_argument);
  EXPECT_THROW(experts->forward(torch::zeros({3, 4}), {1, 1, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
