#include "dualpipe/runtime/p2p_transport.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

TEST(MetaOf, DescribesDtypeAndShapeOfEveryTensor) {
  const MessageMeta meta =
      meta_of({torch::zeros({2, 3}, torch::kFloat), torch::zeros({4}, torch::kLong)});
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[1], (TensorMeta{torch::kLong, {4}}));
  EXPECT_EQ(to_string(meta), "[Float 2x3, Long 4]");
}

TEST(P2PTransport, CarriesHeadersAndMultiTensorMessagesBetweenTwoProcesses) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const testing::JobOutcome job = testing::run_workers(2, {"p2p"}, std::chrono::seconds(60));
  EXPECT_TRUE(job.all_succeeded()) << job.report();
}

// CUDA tensors over Gloo, through host memory: two ranks may share one GPU.
TEST(P2PTransport, CarriesCudaMessagesThroughTheHostOverGloo) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const testing::JobOutcome job =
      testing::run_workers(2, {"p2p", "device=cuda"}, std::chrono::seconds(120));
  EXPECT_TRUE(job.all_succeeded()) << job.report();
}

}  // namespace
}  // namespace dualpipe::runtime
