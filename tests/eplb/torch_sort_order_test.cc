#include "dualpipe/eplb/torch_sort_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

TEST(TorchDescendingOrder, KeepsTheLowerIndexFirstAmongTiesUpToSixteenValues) {
  EXPECT_EQ(torch_descending_order({1, 3, 3, 2, 3}), (std::vector<int>{1, 2, 4, 3, 0}));
}

TEST(TorchDescendingOrder, MatchesRecordedTorchOrdersOfTieHeavyVectors) {
  const auto cases = testing::load_sort_cases();
  ASSERT_GE(cases.size(), 30u);
  int cases_where_ties_leave_index_order = 0;
  for (const auto& c : cases) {
    EXPECT_EQ(torch_descending_order(c.values), c.order) << "length " << c.values.size();
    std::vector<int> stable(c.values.size());
    for (std::size_t i = 0; i < stable.size(); ++i) stable[i] = static_cast<int>(i);
    std::stable_sort(stable.begin(), stable.end(),
                     [&](int a, int b) { return c.values[a] > c.values[b]; });
    if (stable != c.order) ++cases_where_ties_leave_index_order;
  }
  // The recorded data must exercise the non-stable tie order, or this test would prove little.
  EXPECT_GT(cases_where_ties_leave_index_order, 5);
}

#ifdef __GLIBCXX__
// libstdc++'s std::sort is the introsort PyTorch 1.13 was built with; heavy ties and long vectors
// (which reach the heapsort fallback less rarely) must give the same permutation.
TEST(TorchDescendingOrder, AgreesWithLibstdcxxIntrosortOnRandomTies) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 3000);
    std::vector<float> values(static_cast<std::size_t>(n));
    const unsigned distinct = 1 + rng() % 8;
    for (float& v : values) v = static_cast<float>(rng() % distinct);
    std::vector<std::pair<float, int>> keyed;
    for (int i = 0; i < n; ++i) keyed.emplace_back(values[i], i);
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<int> expected;
    for (const auto& k : keyed) expected.push_back(k.second);
    ASSERT_EQ(torch_descending_order(values), expected) << "trial " << trial;
  }
}
#endif

}  // namespace
}  // namespace dualpipe::eplb
