#include "dualpipe/trace/timeline.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "dualpipe/trace/peer_matching.h"
#include "synthetic_trace.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

using testing::parse_file;

const AnnotationWindow& find(const RankTimeline& timeline, const std::string& name) {
  for (const AnnotationWindow& a : timeline.annotations) {
    if (a.name == name) return a;
  }
  throw std::runtime_error("no annotation " + name);
}

// One rank's timeline of a CPU annotation `name` at 1..3 us and an unrelated kernel at 10..12 us.
RankTimeline annotation_then_kernel(const std::string& name) {
  const std::string annotation = R"({"ph": "X", "cat": "user_annotation", "name": ")" + name +
                                 R"(", "pid": 1, "tid": 1, "ts": 1, "dur": 2})";
  const std::string kernel =
      R"({"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 10, "dur": 2})";
  const std::string json = R"({"traceEvents": [)" + annotation + ", " + kernel + "]}";
  return build_timeline(testing::parse(json), 0, KernelClassifier());
}

TEST(BuildTimeline, PutsKernelsOnTheirStreamsWithTheirKinds) {
  const RankTimeline timeline =
      build_timeline(parse_file("two_streams.json"), 0, KernelClassifier());
  ASSERT_EQ(timeline.streams.size(), 2u);
  EXPECT_EQ(timeline.streams[0].label, "stream 7");
  EXPECT_EQ(timeline.streams[1].label, "stream 13");
  ASSERT_EQ(timeline.streams[0].kernels.size(), 3u);
  EXPECT_EQ(timeline.streams[0].kernels[0].kind, KernelKind::kCompute);
  EXPECT_EQ(timeline.streams[0].kernels[2].kind, KernelKind::kMemcpy);
  EXPECT_EQ(timeline.streams[1].kernels[0].kind, KernelKind::kCommunication);
  EXPECT_EQ(timeline.gpu_start(), 1'000'000);
  EXPECT_EQ(timeline.gpu_end(), 1'310'000);
}

TEST(BuildTimeline, TextualStreamIdsNameTheirLanes) {
  const RankTimeline timeline =
      build_timeline(parse_file("float_timestamps.json"), 0, KernelClassifier());
  std::vector<std::string> labels;
  for (const StreamTimeline& stream : timeline.streams) labels.push_back(stream.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"stream 9", "stream 7", "stream 7"}));
}

TEST(BuildTimeline, MapsAnAnnotationToTheKernelsLaunchedInsideIt) {
  const RankTimeline timeline =
      build_timeline(parse_file("two_streams.json"), 0, KernelClassifier());
  const AnnotationWindow attn = find(timeline, "attn(F)");
  EXPECT_EQ(attn.kind, AnnotationKind::kPhase);
  EXPECT_EQ(attn.kernels, 1);
  EXPECT_EQ(attn.gpu_start, 1'000'000);
  EXPECT_EQ(attn.gpu_end, 1'100'000);
  EXPECT_EQ(attn.depth, 1);
}

TEST(BuildTimeline, JoinsLaunchesFromAnyThreadOfTheProcess) {
  // dispatch(F) is on thread 100; its NCCL kernel was launched by thread 101.
  const RankTimeline timeline =
      build_timeline(parse_file("two_streams.json"), 0, KernelClassifier());
  const AnnotationWindow dispatch = find(timeline, "dispatch(F)");
  EXPECT_EQ(dispatch.kernels, 1);
  EXPECT_EQ(dispatch.gpu_start, 1'050'000);
  EXPECT_EQ(dispatch.gpu_end, 1'200'000);
  EXPECT_EQ(dispatch.gpu_busy, 150'000);
}

TEST(BuildTimeline, OuterAnnotationCoversEveryKernelItLaunched) {
  const RankTimeline timeline =
      build_timeline(parse_file("two_streams.json"), 0, KernelClassifier());
  const AnnotationWindow step = find(timeline, "ProfilerStep#1");
  EXPECT_EQ(step.kind, AnnotationKind::kOther);
  EXPECT_EQ(step.depth, 0);
  EXPECT_EQ(step.kernels, 4);  // the cudaEventQuery's correlation matches no kernel
  EXPECT_EQ(step.gpu_start, 1'000'000);
  EXPECT_EQ(step.gpu_end, 1'310'000);
  EXPECT_EQ(step.gpu_busy, 260'000);
}

TEST(BuildTimeline, AnnotationWithoutGpuWorkStaysOnTheCpu) {
  EXPECT_FALSE(annotation_then_kernel("idle").annotations[0].on_gpu());
}

TEST(BuildTimeline, RecognisesToolkitPipelineAnnotations) {
  const RankTimeline timeline = annotation_then_kernel("dualpipe:F s1 m3 d0");
  ASSERT_TRUE(timeline.annotations[0].action.has_value());
  EXPECT_EQ(timeline.annotations[0].kind, AnnotationKind::kPipelineAction);
  EXPECT_EQ(timeline.annotations[0].action->chunk.microbatch, 3);
}

TEST(BuildTimeline, CommunicationRegexDecidesTheKinds) {
  const RankTimeline timeline =
      build_timeline(parse_file("two_streams.json"), 0, KernelClassifier("gemm"));
  EXPECT_EQ(timeline.streams[0].kernels[0].kind, KernelKind::kCommunication);
  EXPECT_EQ(timeline.streams[1].kernels[0].kind, KernelKind::kCompute);
}

TEST(BuildTimelines, OrdersRanksByDistributedInfo) {
  std::vector<ProfileTrace> traces;
  traces.push_back(parse_file("rank1.json"));
  traces.push_back(parse_file("rank0.json"));
  const std::vector<RankTimeline> timelines =
      build_timelines(std::move(traces), KernelClassifier());
  ASSERT_EQ(timelines.size(), 2u);
  EXPECT_EQ(timelines[0].rank, 0);
  EXPECT_NE(timelines[0].source.find("rank0.json"), std::string::npos);
  EXPECT_EQ(timelines[1].rank, 1);
}

TEST(BuildTimelines, FallsBackToFileOrderWithoutDistributedInfo) {
  std::vector<ProfileTrace> traces;
  traces.push_back(parse_file("float_timestamps.json"));
  traces.push_back(parse_file("float_timestamps.json"));
  const std::vector<RankTimeline> timelines =
      build_timelines(std::move(traces), KernelClassifier());
  EXPECT_EQ(timelines[0].rank, 0);
  EXPECT_EQ(timelines[1].rank, 1);
}

TEST(BuildTimelines, TwoTracesOfOneRankAreAnError) {
  std::vector<ProfileTrace> traces;
  traces.push_back(parse_file("rank0.json"));
  traces.push_back(parse_file("rank0.json"));
  EXPECT_THROW(build_timelines(std::move(traces), KernelClassifier()), std::invalid_argument);
}

TEST(EarliestGpuStart, IsTheFirstKernelOverAllRanks) {
  std::vector<ProfileTrace> traces;
  traces.push_back(parse_file("two_streams.json"));
  traces.push_back(parse_file("float_timestamps.json"));
  traces[1].rank = 1;
  EXPECT_EQ(earliest_gpu_start(build_timelines(std::move(traces), KernelClassifier())), 1'000'000);
}

TEST(BuildTimeline, KeepsEachKernelsLaunchTimeAndOwningAction) {
  testing::SyntheticTrace trace(0, 1);
  trace.annotation("ProfilerStep#1", 0, 100)
      .annotation("dualpipe:B s0 m1 d0", 5, 10)
      .compute(20, 5, 7)
      .compute(30, 5, testing::SyntheticTrace::kNoLaunch);
  const RankTimeline timeline = build_timeline(trace.parse(), 0, KernelClassifier());
  const std::vector<TimelineKernel>& kernels = timeline.streams.at(0).kernels;
  EXPECT_EQ(kernels[0].launched, testing::us(7));
  EXPECT_EQ(timeline.annotations.at(static_cast<std::size_t>(kernels[0].owner)).name,
            "dualpipe:B s0 m1 d0");  // the action, not the outer step
  EXPECT_EQ(kernels[1].launched, kUnknownLaunch);
  EXPECT_EQ(kernels[1].owner, -1);
}

TEST(BuildTimeline, DescribesCommunicationKernelsFromTheirArgs) {
  testing::SyntheticTrace trace(1, 4);
  trace.send(3, 0, 10, -1, 4096).collective("all_to_allv", "[0, 1, 2, 3]", 20, 5, -1);
  const RankTimeline timeline = build_timeline(trace.parse(), 1, KernelClassifier());
  ASSERT_EQ(timeline.calls.size(), 2u);
  EXPECT_EQ(timeline.calls[0].kind, CallKind::kSend);
  EXPECT_EQ(timeline.calls[0].peer, 3);
  EXPECT_EQ(timeline.calls[0].elements, 4096);
  EXPECT_EQ(timeline.calls[1].kind, CallKind::kCollective);
  EXPECT_EQ(timeline.calls[1].collective, "all_to_allv");
  EXPECT_EQ(timeline.calls[1].members, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(kernel_of(timeline, timeline.calls[1]).start, testing::us(20));
}

TEST(BuildTimeline, TakesThePeerOfPlainKernelsFromTheToolkitsActions) {
  testing::SyntheticTrace trace(0, 2);
  trace.annotation("dualpipe:RECV_B s0 m0 d0 p1", 0, 10).bare_communication(20, 5, 2);
  const RankTimeline timeline = build_timeline(trace.parse(), 0, KernelClassifier());
  ASSERT_EQ(timeline.calls.size(), 1u);
  EXPECT_EQ(timeline.calls[0].kind, CallKind::kReceive);
  EXPECT_EQ(timeline.calls[0].peer, 1);
}

TEST(ShiftTimeline, MovesKernelsLaunchesAndAnnotations) {
  testing::SyntheticTrace trace(0, 1);
  trace.annotation("attn(F)", 0, 10).compute(20, 5, 2);
  RankTimeline timeline = build_timeline(trace.parse(), 0, KernelClassifier());
  shift_timeline(timeline, testing::us(100));
  EXPECT_EQ(timeline.streams[0].kernels[0].start, testing::us(120));
  EXPECT_EQ(timeline.streams[0].kernels[0].launched, testing::us(102));
  EXPECT_EQ(timeline.annotations[0].cpu_start, testing::us(100));
  EXPECT_EQ(timeline.annotations[0].gpu_start, testing::us(120));
}

}  // namespace
}  // namespace dualpipe::trace
