#include "dualpipe/runtime/microbatch.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace dualpipe::runtime {
namespace {

TEST(SplitMicrobatches, SlicesEveryTensorAlongTheBatchDimension) {
  const torch::Tensor a = torch::arange(12).reshape({6, 2});
  const torch::Tensor b = torch::arange(6);
  const std::vector<TensorList> parts = split_microbatches({a, b}, 3, 0);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(torch::equal(parts[1][0], a.slice(0, 2, 4)));
  EXPECT_TRUE(torch::equal(parts[2][1], b.slice(0, 4, 6)));
}

TEST(SplitMicrobatches, SplitsAlongAnotherDimensionWhenAsked) {
  const std::vector<TensorList> parts = split_microbatches({torch::zeros({3, 4})}, 2, 1);
  EXPECT_EQ(parts[0][0].sizes(), (std::vector<int64_t>{3, 2}));
}

TEST(SplitMicrobatches, RejectsBatchesThatDoNotSplitEvenly) {
  EXPECT_THROW(split_microbatches({torch::zeros({5, 2})}, 2, 0), std::invalid_argument);
  EXPECT_THROW(split_microbatches({torch::zeros({4}), torch::zeros({6})}, 2, 0),
               std::invalid_argument);
  EXPECT_THROW(split_microbatches({torch::zeros({4})}, 2, 1), std::invalid_argument);
  EXPECT_THROW(split_microbatches({torch::zeros({4})}, 0, 0), std::invalid_argument);
}

TEST(JoinMicrobatches, UndoesSplit) {
  const torch::Tensor a = torch::randn({8, 3});
  EXPECT_TRUE(torch::equal(join_microbatches(split_microbatches({a}, 4, 0), 0).at(0), a));
}

}  // namespace
}  // namespace dualpipe::runtime
