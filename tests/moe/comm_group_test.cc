#include "dualpipe/moe/comm_group.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "multi_process.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

TEST(MakeExpertGroup, JoinsTheListedRanksInTheirOrder) {
  run_in_processes(3, [](const Worker& worker) {
    if (worker.rank == 1) return;  // not a member of the group made below
    const CommGroup group =
        make_expert_group(worker.store, {2, 0}, worker.rank, torch::kCPU, std::chrono::seconds(30));
    EXPECT_EQ(group_size(group), 2);
    EXPECT_EQ(group_rank(group), worker.rank == 2 ? 0 : 1);
    std::vector<torch::Tensor> buffer{torch::full({1}, worker.rank + 1.0)};
    group->allreduce(buffer)->wait();
    EXPECT_EQ(buffer[0].item<double>(), 4.0);  // ranks 0 and 2 contributed 1 and 3
  });
}

TEST(MakeExpertGroup, RejectsANonMemberAndRepeatedRanks) {
  EXPECT_THROW(make_expert_group({}, {0, 1}, 2, torch::kCPU, std::chrono::seconds(1)),
               std::invalid_argument);
  EXPECT_THROW(make_expert_group({}, {0, 0}, 0, torch::kCPU, std::chrono::seconds(1)),
               std::invalid_argument);
}

TEST(CommGroup, ANullGroupIsOneProcess) {
  EXPECT_EQ(group_rank(CommGroup()), 0);
  EXPECT_EQ(group_size(CommGroup()), 1);
}

}  // namespace
}  // namespace dualpipe::moe
