#include "dualpipe/eplb/packing.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(PackLikeReference, PutsHeaviestItemsIntoTheLightestPackWithRoom) {
  // Sorted 9, 7, 4, 1: 9 -> pack 0, 7 -> pack 1, 4 -> pack 1 (lighter), 1 -> pack 0 (the one with room).
  const PackAssignment result = pack_like_reference({4, 9, 1, 7}, 2);
  EXPECT_EQ(result.pack, (std::vector<int>{1, 0, 0, 1}));
  EXPECT_EQ(result.rank_in_pack, (std::vector<int>{1, 0, 1, 0}));
}

TEST(PackLikeReference, BreaksPackTiesTowardsTheLowerPack) {
  const PackAssignment result = pack_like_reference({1, 1, 1, 1}, 2);
  EXPECT_EQ(result.pack, (std::vector<int>{0, 1, 0, 1}));
}

TEST(PackLikeReference, KeepsItemOrderWithOneItemPerPack) {
  EXPECT_EQ(pack_like_reference({1, 5, 3}, 3).pack, (std::vector<int>{0, 1, 2}));
}

TEST(PackLikeReference, RejectsItemsThatDoNotDivideIntoPacks) {
  EXPECT_THROW(pack_like_reference({1, 2, 3}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
