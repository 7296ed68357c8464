#include "dualpipe/eplb/replication.h"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(Replicate, GivesHeaviestExpertTheExtraCopy) {
  EXPECT_EQ(replicate({1.0f, 10.0f, 2.0f}, 4), (std::vector<int>{1, 2, 1}));
}

TEST(Replicate, SpreadsCopiesByLoadPerCopy) {
  // 10/2 = 5 > 4 after the first extra copy, so the second goes to expert 1 again; 10/3 < 4.
  EXPECT_EQ(replicate({4.0f, 10.0f}, 5), (std::vector<int>{2, 3}));
}

TEST(Replicate, BreaksTiesTowardsTheLowerIndex) {
  EXPECT_EQ(replicate({3.0f, 3.0f, 3.0f}, 4), (std::vector<int>{2, 1, 1}));
}

TEST(Replicate, CopiesSumToReplicasAndEachExpertHasOne) {
  const std::vector<float> loads = {0.0f, 5.0f, 1.0f, 7.0f, 2.0f};
  const auto copies = replicate(loads, 13);
  EXPECT_EQ(std::accumulate(copies.begin(), copies.end(), 0), 13);
  for (int c : copies) EXPECT_GE(c, 1);
}

TEST(Replicate, NeverGivesAnExpertMoreCopiesThanTheCap) {
  EXPECT_EQ(replicate({10.0f, 1.0f}, 5, 3), (std::vector<int>{3, 2}));
  EXPECT_THROW(replicate({10.0f, 1.0f}, 5, 2), std::invalid_argument);
}

TEST(ReplicateInOrder, NumbersExtraCopiesInTheOrderTheyWereMade) {
  const Replication r = replicate_in_order({4.0f, 10.0f}, 5);
  EXPECT_EQ(r.phy2log, (std::vector<int>{0, 1, 1, 1, 0}));
  EXPECT_EQ(r.rank, (std::vector<int>{0, 0, 1, 2, 1}));
  EXPECT_EQ(r.count, (std::vector<int>{2, 3}));
}

TEST(Replicate, RejectsFewerReplicasThanExperts) {
  EXPECT_THROW(replicate({1.0f, 2.0f, 3.0f}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
