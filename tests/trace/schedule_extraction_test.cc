#include "dualpipe/trace/schedule_extraction.h"

#include <gtest/gtest.h>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/trace/schedule_trace_writer.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

using schedule::Action;
using schedule::Op;

// The schedule as the simulator times it (F 1, B 2, W 1, FB 2.5 ms; messages 0.1 ms).
schedule::TimedSchedule simulated(const schedule::Schedule& s) {
  schedule::TimedSchedule timed =
      schedule::simulate(s, schedule::uniform_cost_model(1.0, 2.0, 1.0, 2.5, 0.1)).timed;
  timed.time_unit = "ms";
  return timed;
}

// Writes every rank as a trace, reads them back and extracts the schedule.
std::optional<schedule::TimedSchedule> round_trip(const schedule::TimedSchedule& timed) {
  std::vector<ProfileTrace> traces;
  for (int rank = timed.schedule.num_ranks - 1; rank >= 0; --rank) {  // reversed file order
    traces.push_back(testing::parse(schedule_rank_trace_json(timed, rank)));
  }
  const std::vector<RankTimeline> timelines =
      build_timelines(std::move(traces), KernelClassifier());
  return extract_schedule(timelines, earliest_gpu_start(timelines));
}

TEST(ExtractSchedule, SimulatedDualPipeWrittenAsTracesReadsBackAsTheSameProgramsAndTimings) {
  const schedule::Schedule dualpipe =
      schedule::with_communication(schedule::generate_dualpipe(4, 8));
  const schedule::TimedSchedule timed = simulated(dualpipe);
  const auto measured = round_trip(timed);
  ASSERT_TRUE(measured.has_value());
  EXPECT_EQ(measured->time_unit, "ms");
  EXPECT_EQ(measured->schedule.num_ranks, dualpipe.num_ranks);
  EXPECT_EQ(measured->schedule.num_stages, dualpipe.num_stages);
  EXPECT_EQ(measured->schedule.num_microbatches, dualpipe.num_microbatches);
  EXPECT_EQ(measured->schedule.stage_rank, dualpipe.stage_rank);
  ASSERT_EQ(measured->schedule.programs, dualpipe.programs);
  for (std::size_t r = 0; r < timed.timing.size(); ++r) {
    for (std::size_t i = 0; i < timed.timing[r].size(); ++i) {
      EXPECT_NEAR(measured->timing[r][i].start, timed.timing[r][i].start, 1e-6);
      EXPECT_NEAR(measured->timing[r][i].duration, timed.timing[r][i].duration, 1e-6);
    }
  }
}

TEST(ExtractSchedule, RoundTripOfDualPipeVKeepsItsPlacement) {
  const schedule::Schedule v = schedule::generate_dualpipev(2, 4);
  const auto measured = round_trip(simulated(v));
  ASSERT_TRUE(measured.has_value());
  EXPECT_EQ(measured->schedule.programs, v.programs);
  EXPECT_EQ(measured->schedule.stage_rank, v.stage_rank);
}

TEST(ExtractSchedule, NoToolkitAnnotationsMeansNoSchedule) {
  std::vector<ProfileTrace> traces;
  traces.push_back(testing::parse_file("two_streams.json"));
  const auto timelines = build_timelines(std::move(traces), KernelClassifier());
  EXPECT_FALSE(extract_schedule(timelines, 0).has_value());
}

TEST(ExtractSchedule, ActionWithoutGpuWorkKeepsItsCpuWindow) {
  const ProfileTrace trace = testing::parse(R"({"traceEvents": [
      {"ph": "X", "cat": "user_annotation", "name": "dualpipe:W s0 m1 d0", "pid": 1, "tid": 1, "ts": 2000, "dur": 500},
      {"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 1000, "dur": 2}]})");
  std::vector<RankTimeline> timelines;
  timelines.push_back(build_timeline(trace, 0, KernelClassifier()));
  const auto measured = extract_schedule(timelines, 1'000'000);
  ASSERT_TRUE(measured.has_value());
  EXPECT_DOUBLE_EQ(measured->timing[0][0].start, 1.0);
  EXPECT_DOUBLE_EQ(measured->timing[0][0].duration, 0.5);
}

TEST(ExtractSchedule, RecordedTwoGpuRunGivesItsPipelinePrograms) {
  std::vector<ProfileTrace> traces;
  for (const std::string& path : testing::recorded_traces()) {
    if (path.find("nccl_overlap_trace_rank") == std::string::npos) continue;
    traces.push_back(parse_chrome_trace(TraceText::load_file(path), path));
  }
  if (traces.size() != 2) GTEST_SKIP() << "profiles/nccl_overlap_trace_rank{0,1}.json.gz absent";
  const auto timelines = build_timelines(std::move(traces), KernelClassifier());
  const auto measured = extract_schedule(timelines, earliest_gpu_start(timelines));
  ASSERT_TRUE(measured.has_value());
  ASSERT_EQ(measured->schedule.num_ranks, 2);
  // scripts/gpu/record_trace.py: rank 0 runs F then SEND_F per micro-batch, rank 1 RECV_F then F.
  const auto& rank0 = measured->schedule.programs[0];
  const auto& rank1 = measured->schedule.programs[1];
  EXPECT_EQ(rank0.front(), Action::compute(Op::kF, schedule::Chunk{0, 0, 0}));
  EXPECT_EQ(rank1.front(), Action::communication(Op::kRecvF, schedule::Chunk{1, 0, 0}, 0));
  EXPECT_EQ(measured->schedule.stage_rank, (std::vector<std::vector<int>>{{0, 1}}));
  for (const auto& timing : measured->timing) {
    for (const auto& t : timing) EXPECT_GE(t.duration, 0.0);
  }
}

}  // namespace
}  // namespace dualpipe::trace
