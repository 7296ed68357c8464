#include "dualpipe/schedule/dependencies.h"

#include <gtest/gtest.h>

#include "dualpipe/schedule/generators.h"

namespace dualpipe::schedule {
namespace {

TEST(InputOf, ForwardNeedsThePreviousStageAndTheFirstStageNothing) {
  const Schedule schedule = generate_1f1b(4, 4);
  EXPECT_FALSE(input_of(schedule, {Work::kForward, {0, 1, 0}}));
  EXPECT_EQ(input_of(schedule, {Work::kForward, {2, 1, 0}}), (WorkItem{Work::kForward, {1, 1, 0}}));
}

TEST(InputOf, BackwardNeedsTheNextStageAndTheLastStageItsOwnForward) {
  const Schedule schedule = generate_dualpipe(4, 8);
  EXPECT_EQ(input_of(schedule, {Work::kBackward, {1, 2, 1}}),
            (WorkItem{Work::kBackward, {2, 2, 1}}));
  EXPECT_EQ(input_of(schedule, {Work::kBackward, {3, 2, 1}}),
            (WorkItem{Work::kForward, {3, 2, 1}}));
}

TEST(InputOf, WeightNeedsTheBackwardOfItsChunk) {
  const Schedule schedule = generate_zb1p(2, 2);
  EXPECT_EQ(input_of(schedule, {Work::kWeight, {0, 1, 0}}), (WorkItem{Work::kBackward, {0, 1, 0}}));
}

TEST(WorkOf, SplitsAnOverlappedPairIntoItsTwoHalves) {
  const WorkItems pair = work_of(Action::overlapped({1, 3, 0}, {2, 0, 1}));
  ASSERT_EQ(pair.size(), 2u);
  EXPECT_EQ(pair[0], (WorkItem{Work::kForward, {1, 3, 0}}));
  EXPECT_EQ(pair[1], (WorkItem{Work::kBackward, {2, 0, 1}}));
  EXPECT_EQ(work_of(Action::compute(Op::kI, {0, 0, 0}))[0].work, Work::kBackward);
  EXPECT_EQ(work_of(Action::compute(Op::kW, {0, 0, 0}))[0].work, Work::kWeight);
  EXPECT_TRUE(work_of(Action::communication(Op::kSendF, {0, 0, 0}, 1)).empty());
}

TEST(WorkIndex, FindsEveryPieceOfWorkWhereItRuns) {
  const Schedule schedule = generate_1f1b(3, 4);
  const WorkIndex index(schedule);
  // Rank 1: F0 F1 B0 F2 B1 F3 B2 B3.
  EXPECT_EQ(index.find({Work::kBackward, {1, 1, 0}}), (ActionRef{1, 4}));
  EXPECT_EQ(index.find({Work::kForward, {1, 3, 0}}), (ActionRef{1, 5}));
  EXPECT_FALSE(index.find({Work::kWeight, {1, 1, 0}}));
  EXPECT_FALSE(index.find({Work::kForward, {1, 4, 0}}));  // out of range
}

TEST(WorkIndex, IgnoresWorkOnTheWrongRankAndKeepsTheFirstOfDuplicates) {
  Schedule schedule = generate_1f1b(2, 1);
  schedule.programs[0].insert(schedule.programs[0].begin(),
                              Action::compute(Op::kF, {1, 0, 0}));  // stage 1 lives on rank 1
  schedule.programs[1].push_back(Action::compute(Op::kF, {1, 0, 0}));
  const WorkIndex index(schedule);
  EXPECT_EQ(index.find({Work::kForward, {1, 0, 0}}), (ActionRef{1, 0}));
  EXPECT_TRUE(index.in_range({1, 0, 0}));
  EXPECT_FALSE(index.in_range({2, 0, 0}));
}

}  // namespace
}  // namespace dualpipe::schedule
