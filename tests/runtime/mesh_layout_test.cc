#include "dualpipe/runtime/mesh_layout.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace dualpipe::runtime {
namespace {

TEST(MeshLayout, DataInnermostPutsReplicasOfAPipelineRankNextToEachOther) {
  const MeshLayout mesh(8, MeshShape{2, 4, 2});
  EXPECT_EQ(mesh.pipeline_ranks(1), (std::vector<int>{1, 5}));
  EXPECT_EQ(mesh.data_parallel_ranks(1), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(mesh.expert_parallel_ranks(0, 1), (std::vector<int>{2, 3}));
  EXPECT_EQ(mesh.expert_data_ranks(1, 1), (std::vector<int>{5, 7}));
  const MeshCoordinates c = mesh.coordinates(6);
  EXPECT_EQ(c.pipeline, 1);
  EXPECT_EQ(c.data, 2);
  EXPECT_EQ(c.expert, 0);
  EXPECT_EQ(c.expert_data, 1);
}

TEST(MeshLayout, PipelineInnermostPutsAPipelineOnConsecutiveRanks) {
  const MeshLayout mesh(8, MeshShape{4, 2, 1, MeshOrder::kPipelineInnermost});
  EXPECT_EQ(mesh.pipeline_ranks(1), (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(mesh.data_parallel_ranks(2), (std::vector<int>{2, 6}));
  EXPECT_EQ(mesh.rank_of(3, 1), 7);
}

TEST(MeshLayout, EveryRankHasExactlyOnePlace) {
  for (MeshOrder order : {MeshOrder::kDataInnermost, MeshOrder::kPipelineInnermost}) {
    const MeshLayout mesh(12, MeshShape{3, 4, 2, order});
    std::set<int> seen;
    for (int rank = 0; rank < 12; ++rank) {
      const MeshCoordinates c = mesh.coordinates(rank);
      EXPECT_EQ(mesh.rank_of(c.pipeline, c.data), rank);
      seen.insert(rank);
    }
    EXPECT_EQ(seen.size(), 12u);
  }
}

TEST(MeshLayout, RefusesAWorldThatDoesNotFactor) {
  try {
    MeshLayout(6, MeshShape{4, 2, 1});
    FAIL() << "accepted 6 ranks as pp 4 x dp 2";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "world size 6 is not pp 4 x dp 2");
  }
}

TEST(MeshLayout, RefusesAnExpertDegreeThatDoesNotDivideTheDataDegree) {
  try {
    MeshLayout(6, MeshShape{2, 3, 2});
    FAIL() << "accepted ep 2 with dp 3";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "ep 2 does not divide dp 3");
  }
  EXPECT_THROW(MeshLayout(4, MeshShape{0, 4, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::runtime
