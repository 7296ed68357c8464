#include "dualpipe/moe/comm_streams.h"

#include <gtest/gtest.h>

namespace dualpipe::moe {
namespace {

TEST(CommStreams, OnTheCpuScopesLeaveTheWorkWhereItIs) {
  CommStreams streams(torch::kCPU);
  EXPECT_EQ(streams.device(), torch::Device(torch::kCPU));
  torch::Tensor x = torch::ones({3});
  {
    CommStreams::Scope on_comm_stream(streams);
    x = x * 2;  // runs right here, on the calling thread
  }
  EXPECT_EQ(x.sum().item<double>(), 6.0);
}

}  // namespace
}  // namespace dualpipe::moe
