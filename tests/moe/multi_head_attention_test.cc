#include "dualpipe/moe/multi_head_attention.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace dualpipe::moe {
namespace {

TEST(MultiHeadAttention, OneHeadIsCausalSoftmaxAttention) {
  MultiHeadAttention attention(4, 1);
  attention->to(torch::kFloat64);
  const torch::Tensor x = torch::randn({2, 5, 4}, torch::kFloat64);
  const std::vector<torch::Tensor> qkv = x.matmul(attention->qkv->weight.t()).chunk(3, -1);
  const torch::Tensor mask = torch::ones({5, 5}, torch::kBool).triu(1);
  const torch::Tensor scores = qkv[0].matmul(qkv[1].transpose(1, 2)) / 2.0;  // sqrt(4)
  const torch::Tensor expected = torch::softmax(scores.masked_fill(mask, -INFINITY), -1)
                                     .matmul(qkv[2])
                                     .matmul(attention->out->weight.t());
  EXPECT_TRUE(torch::allclose(attention->forward(x), expected, 1e-13, 0));
}

TEST(MultiHeadAttention, NeverLooksAtLaterPositions) {
  MultiHeadAttention attention(8, 2);
  const torch::Tensor x = torch::randn({1, 6, 8});
  torch::Tensor changed = x.clone();
  changed.narrow(1, 4, 2).add_(1.0);  // positions 4 and 5
  const torch::Tensor a = attention->forward(x);
  const torch::Tensor b = attention->forward(changed);
  EXPECT_TRUE(torch::equal(a.narrow(1, 0, 4), b.narrow(1, 0, 4)));
  EXPECT_FALSE(torch::equal(a.narrow(1, 4, 2), b.narrow(1, 4, 2)));
}

TEST(MultiHeadAttention, DrawsItsWeightsFromTheGenerator) {
  MultiHeadAttention a(8, 2);
  MultiHeadAttention b(8, 2);
  at::Generator first = at::detail::createCPUGenerator(3);
  at::Generator second = at::detail::createCPUGenerator(3);
  a->reset_parameters(first);
  b->reset_parameters(second);
  EXPECT_TRUE(torch::equal(a->qkv->weight, b->qkv->weight));
  EXPECT_TRUE(torch::equal(a->out->weight, b->out->weight));
  EXPECT_LE(a->qkv->weight.abs().max().item<double>(), 1.0 / std::sqrt(8.0));
}

TEST(MultiHeadAttention, RejectsHeadsThatDoNotDivideTheWidth) {
  EXPECT_THROW(MultiHeadAttention(8, 3), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::moe
