// ParallelMesh over 4 processes (Gloo): groups of each dimension, and one error on every rank
// when the ranks disagree on the shape.
#include "dualpipe/runtime/parallel_mesh.h"

#include <gtest/gtest.h>

#include "multi_process.h"

namespace dualpipe::runtime {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

TEST(ParallelMesh, MakesAGroupPerDimensionWithTheRanksOfTheLayout) {
  run_in_processes(4, [](const Worker& worker) {
    const ParallelMesh mesh(worker.store, worker.rank, worker.world_size, MeshShape{2, 2, 2},
                            torch::kCPU, std::chrono::seconds(30), MessageBackend::kGloo);
    EXPECT_EQ(mesh.pipeline().size, 2);
    EXPECT_EQ(mesh.pipeline().rank, mesh.coordinates().pipeline);
    ASSERT_TRUE(mesh.data_parallel());
    EXPECT_EQ(mesh.data_parallel()->getSize(), 2);
    ASSERT_TRUE(mesh.expert_parallel());
    EXPECT_EQ(mesh.expert_parallel()->getRank(), mesh.coordinates().expert);
    EXPECT_FALSE(mesh.expert_data_parallel());  // dp / ep = 1 rank holds each set of experts
    // The data-parallel group sums over the replicas of this pipeline rank.
    std::vector<torch::Tensor> value{torch::full({1}, worker.rank, torch::kFloat64)};
    mesh.data_parallel()->allreduce(value)->wait();
    const std::vector<int> replicas =
        mesh.layout().data_parallel_ranks(mesh.coordinates().pipeline);
    EXPECT_EQ(value[0].item<double>(), replicas[0] + replicas[1]);
  });
}

TEST(ParallelMesh, RanksThatDisagreeOnTheShapeFailAllWithOneMessage) {
  run_in_processes(4, [](const Worker& worker) {
    const MeshShape shape = worker.rank == 2 ? MeshShape{4, 1, 1} : MeshShape{2, 2, 1};
    try {
      ParallelMesh(worker.store, worker.rank, worker.world_size, shape, torch::kCPU,
                   std::chrono::seconds(30), MessageBackend::kGloo);
      ADD_FAILURE() << "made a mesh although rank 2 asked for another shape";
    } catch (const std::invalid_argument& error) {
      EXPECT_EQ(std::string(error.what()),
                "parallel mesh: ranks disagree: ranks 0,1,3 run world size 4, pp 2 x "
                "dp 2 x ep 1, data innermost; rank 2 runs world size 4, pp 4 x dp 1 x ep 1, data "
                "innermost");
    }
  });
}

TEST(ParallelMesh, AWorldThatDoesNotFactorFailsEveryRank) {
  run_in_processes(2, [](const Worker& worker) {
    EXPECT_THROW(ParallelMesh(worker.store, worker.rank, worker.world_size, MeshShape{2, 2, 1},
                              torch::kCPU, std::chrono::seconds(30), MessageBackend::kGloo),
                 std::invalid_argument);
  });
}

}  // namespace
}  // namespace dualpipe::runtime
