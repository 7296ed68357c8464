#include "dualpipe/trace/schedule_trace_writer.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/schedule/annotation.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

schedule::TimedSchedule one_rank() {
  schedule::TimedSchedule timed;
  timed.schedule.num_ranks = 1;
  timed.schedule.programs = {{Action::compute(Op::kF, Chunk{0, 0, 0}),
                              Action::communication(Op::kSendF, Chunk{0, 0, 0}, 1)}};
  timed.timing = {{{0.5, 1.25}, {1.75, 0.0005}}};
  return timed;
}

TEST(ScheduleRankTraceJson, WritesAKinetoStyleTraceOfTheRank) {
  const ProfileTrace trace = testing::parse(schedule_rank_trace_json(one_rank(), 0));
  EXPECT_EQ(trace.rank, 0);
  ASSERT_EQ(trace.annotations.size(), 2u);
  EXPECT_EQ(trace.names[trace.annotations[0].name],
            schedule::annotation_label(one_rank().schedule.programs[0][0]));
  ASSERT_EQ(trace.gpu_activities.size(), 2u);
  EXPECT_EQ(trace.gpu_activities[0].start, 500'000);
  EXPECT_EQ(trace.gpu_activities[0].duration, 1'250'000);
  EXPECT_EQ(trace.gpu_activities[1].duration, 500);  // 0.0005 ms = 500 ns survive
  EXPECT_NE(trace.names[trace.gpu_activities[1].name].find("nccl"), std::string::npos);
  EXPECT_EQ(trace.launches.size(), 2u);
}

TEST(ScheduleRankTraceJson, RankWithoutTimingsIsAnError) {
  schedule::TimedSchedule timed = one_rank();
  EXPECT_THROW(schedule_rank_trace_json(timed, 1), std::invalid_argument);
  timed.timing[0].pop_back();
  EXPECT_THROW(schedule_rank_trace_json(timed, 0), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::trace
