#include "dualpipe/eplb/placement.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(PlacementFromPhy2log, ListsEachExpertsSlotsInOrderPaddedWithMinusOne) {
  const Placement p = placement_from_phy2log({{2, 0, 2, 1}, {0, 1, 2, 0}}, 3);
  EXPECT_EQ(p.logcnt, (std::vector<std::vector<int>>{{1, 1, 2}, {2, 1, 1}}));
  EXPECT_EQ(p.log2phy[0], (std::vector<std::vector<int>>{{1, -1}, {3, -1}, {0, 2}}));
  EXPECT_EQ(p.log2phy[1][0], (std::vector<int>{0, 3}));
}

TEST(PlacementFromPhy2log, RejectsUnknownOrMissingExpertsAndRaggedRows) {
  EXPECT_THROW(placement_from_phy2log({{0, 3}}, 3), std::invalid_argument);
  EXPECT_THROW(placement_from_phy2log({{0, 0, 1}}, 3), std::invalid_argument);
  EXPECT_THROW(placement_from_phy2log({{0, 1, 2}, {0, 1}}, 3), std::invalid_argument);
}

TEST(TrivialPlacement, WrapsSlotsAroundTheExperts) {
  EXPECT_EQ(trivial_placement(1, 3, 5).phy2log[0], (std::vector<int>{0, 1, 2, 0, 1}));
}

}  // namespace
}  // namespace dualpipe::eplb
