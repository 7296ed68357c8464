#include "dualpipe/runtime/stage_streams.h"

#include <c10/core/impl/VirtualGuardImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

namespace dualpipe::runtime {
namespace {

c10::Stream current_cuda_stream() {
  return c10::impl::VirtualGuardImpl(c10::kCUDA).getStream(c10::Device(c10::kCUDA, 0));
}

// Keeps the current stream busy for a few milliseconds (float64 matrix products).
void busy_work() {
  torch::Tensor a = torch::rand({2048, 2048}, torch::dtype(torch::kDouble).device(torch::kCUDA));
  for (int i = 0; i < 8; ++i) a = torch::mm(a, a) / 2048.0;
}

TEST(StageStreams, AreInactiveOnTheCpuAndWhenNotEnabled) {
  StageStreams cpu(torch::kCPU, 2, /*enabled=*/true);
  EXPECT_FALSE(cpu.active());
  EXPECT_FALSE(cpu.stream(1).has_value());
  const StageStreams::Fork fork(cpu, {0, 1});
  fork.reads(0, {torch::ones({2}), torch::Tensor()});
  const StageStreams::Use use(cpu, 1);
  if (!torch::cuda::is_available()) return;
  StageStreams off(torch::Device(torch::kCUDA, 0), 2, /*enabled=*/false);
  EXPECT_FALSE(off.active());
}

TEST(StageStreams, GiveEachStageItsOwnStreamWhileInUse) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  StageStreams streams(torch::Device(torch::kCUDA, 0), 2, /*enabled=*/true);
  ASSERT_TRUE(streams.active());
  const c10::Stream main = current_cuda_stream();
  EXPECT_NE(*streams.stream(0), main);
  EXPECT_NE(*streams.stream(1), main);
  EXPECT_NE(*streams.stream(0), *streams.stream(1));
  {
    const StageStreams::Use use(streams, 1);
    EXPECT_EQ(current_cuda_stream(), *streams.stream(1));
  }
  EXPECT_EQ(current_cuda_stream(), main);
}

// What the main stream issued before a fork is visible on the stage streams, and what they issued
// before the fork closed is visible on the main stream after it.
TEST(StageStreams, OrderStageWorkBetweenTheMainStreamsWorkBeforeAndAfter) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  StageStreams streams(torch::Device(torch::kCUDA, 0), 2, /*enabled=*/true);
  const auto options = torch::dtype(torch::kDouble).device(torch::kCUDA);
  torch::Tensor input = torch::zeros({1 << 20}, options);
  torch::Tensor outputs[2] = {torch::zeros({1 << 20}, options), torch::zeros({1 << 20}, options)};
  torch::cuda::synchronize();
  busy_work();
  input.fill_(1);  // on the main stream, after the busy work
  {
    const StageStreams::Fork fork(streams, {0, 1});
    fork.reads(0, {input});
    fork.reads(1, {input});
    for (int stage = 0; stage < 2; ++stage) {
      const StageStreams::Use use(streams, stage);
      outputs[stage].copy_(input + stage + 1);  // at once: the input must be there already
      busy_work();
      outputs[stage].add_(10);  // late: the main stream must wait for it
    }
  }
  const torch::Tensor seen = torch::stack({outputs[0].clone(), outputs[1].clone()});  // main stream
  torch::cuda::synchronize();
  EXPECT_TRUE(torch::all(seen[0] == 12).item<bool>());
  EXPECT_TRUE(torch::all(seen[1] == 13).item<bool>());
}

}  // namespace
}  // namespace dualpipe::runtime
