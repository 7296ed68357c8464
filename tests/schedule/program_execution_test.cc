#include "program_execution.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace dualpipe::schedule::detail {
namespace {

// Two ranks with `sizes` actions each; the test decides the waits.
Schedule two_ranks(int first_size, int second_size) {
  Schedule schedule;
  schedule.num_ranks = 2;
  schedule.programs = {std::vector<Action>(first_size), std::vector<Action>(second_size)};
  return schedule;
}

TEST(ExecutePrograms, CompletesActionsAfterWhatTheyWaitFor) {
  const Schedule schedule = two_ranks(2, 2);
  // Rank 0's second action needs rank 1's first; rank 1's second needs rank 0's first.
  std::vector<std::pair<int, int>> order;
  const std::vector<int> pc = execute_programs(
      schedule,
      [](int rank, int position, std::vector<Wait>& waits) {
        if (position == 1) waits.push_back({Wait::Kind::kPassed, {1 - rank, 0}});
      },
      [&](int rank, int position) { order.emplace_back(rank, position); });
  EXPECT_EQ(pc, (std::vector<int>{2, 2}));
  EXPECT_EQ(order, (std::vector<std::pair<int, int>>{{0, 0}, {1, 0}, {1, 1}, {0, 1}}));
}

TEST(ExecutePrograms, CompletesARendezvousOnBothRanksAtOnce) {
  const Schedule schedule = two_ranks(1, 2);
  std::vector<std::pair<int, int>> order;
  const std::vector<int> pc = execute_programs(
      schedule,
      [](int rank, int position, std::vector<Wait>& waits) {
        if (rank == 0) waits.push_back({Wait::Kind::kRendezvous, {1, 1}});
        if (rank == 1 && position == 1) waits.push_back({Wait::Kind::kRendezvous, {0, 0}});
      },
      [&](int rank, int position) { order.emplace_back(rank, position); });
  EXPECT_EQ(pc, (std::vector<int>{1, 2}));
  EXPECT_EQ(order, (std::vector<std::pair<int, int>>{{1, 0}, {0, 0}, {1, 1}}));
}

TEST(ExecutePrograms, StopsWhereACycleOfWaitsLeavesEachRank) {
  const Schedule schedule = two_ranks(3, 3);
  const std::vector<int> pc = execute_programs(
      schedule,
      [](int rank, int position, std::vector<Wait>& waits) {
        if (position == 1) waits.push_back({Wait::Kind::kPassed, {1 - rank, 1}});
      },
      [](int, int) {});
  EXPECT_EQ(pc, (std::vector<int>{1, 1}));
}

TEST(ExecutePrograms, NeverWaitsForItsOwnLaterActions) {
  const Schedule schedule = two_ranks(3, 0);
  const std::vector<int> pc = execute_programs(
      schedule,
      [](int, int position, std::vector<Wait>& waits) {
        if (position == 1) waits.push_back({Wait::Kind::kPassed, {0, 0}});  // behind: fine
        if (position == 2) waits.push_back({Wait::Kind::kPassed, {0, 2}});  // itself: never
      },
      [](int, int) {});
  EXPECT_EQ(pc, (std::vector<int>{2, 0}));
}

}  // namespace
}  // namespace dualpipe::schedule::detail
