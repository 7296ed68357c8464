#include "pair_counts.h"

#include <gtest/gtest.h>

#include <numeric>

#include "dualpipe/eplb/replication.h"

namespace dualpipe::eplb::detail {
namespace {

TEST(PairedMaxLoad, PairsTheLargestCopyWithTheSmallest) {
  EXPECT_DOUBLE_EQ(paired_max_load({8, 3, 2, 1}, {1, 1, 1, 1}), 9.0);  // 8 + 1, 3 + 2
  // Copies 4, 4, 3, 2, 1, 1 (expert 3 twice): 4 + 1, 4 + 1, 3 + 2.
  EXPECT_DOUBLE_EQ(paired_max_load({8, 3, 2, 2}, {2, 1, 1, 2}), 5.0);
}

TEST(ImprovePairedCopies, FindsCountsThatPairBetterThanTheFewestLargestCopies) {
  // 4 GPUs of two slots. Greedy replication gives copies 17/2, 6, 3, 11/2 ... whose best pairing
  // reaches 11; moving copies reaches 28/3 (the best of all counts).
  const std::vector<double> loads = {17, 6, 3, 11};
  const std::vector<int> greedy = replicate({17, 6, 3, 11}, 8, 4);
  EXPECT_DOUBLE_EQ(paired_max_load(loads, greedy), 11.0);
  const std::vector<int> improved = improve_paired_copies(loads, greedy, 4);
  EXPECT_DOUBLE_EQ(paired_max_load(loads, improved), 28.0 / 3.0);
  EXPECT_EQ(std::accumulate(improved.begin(), improved.end(), 0), 8);
  for (int c : improved) {
    EXPECT_GE(c, 1);
    EXPECT_LE(c, 4);
  }
}

TEST(ImprovePairedCopies, KeepsCountsNoMoveImproves) {
  EXPECT_EQ(improve_paired_copies({1, 1, 1, 1}, {1, 1, 1, 1}, 2), (std::vector<int>{1, 1, 1, 1}));
}

}  // namespace
}  // namespace dualpipe::eplb::detail
