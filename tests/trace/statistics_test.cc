#include "dualpipe/trace/statistics.h"

#include <gtest/gtest.h>

#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

RankStatistics stats_of(ProfileTrace trace, const TimeWindow& window = std::nullopt,
                        const KernelClassifier& classifier = KernelClassifier()) {
  return compute_statistics(build_timeline(std::move(trace), 0, classifier), window);
}

TEST(ComputeStatistics, HandMadeTraceGivesTheWorkedOutFigures) {
  // compute [1000,1100) [1150,1250); NCCL [1050,1200); memcpy [1300,1310) (us)
  const RankStatistics s = stats_of(testing::parse_file("two_streams.json"));
  EXPECT_DOUBLE_EQ(s.gpu_span_ms, 0.310);
  EXPECT_DOUBLE_EQ(s.gpu_busy_ms, 0.260);
  EXPECT_NEAR(s.gpu_idle_ms, 0.050, 1e-12);
  EXPECT_DOUBLE_EQ(s.compute_ms, 0.200);
  EXPECT_DOUBLE_EQ(s.comm_ms, 0.150);
  EXPECT_DOUBLE_EQ(s.memcpy_memset_ms, 0.010);
  EXPECT_DOUBLE_EQ(s.overlap_ms, 0.100);
  EXPECT_NEAR(s.overlap_pct, 200.0 / 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.exposed_comm_ms, 0.050);
  ASSERT_EQ(s.streams.size(), 2u);
  EXPECT_EQ(s.streams[0].kernels, 3);
  EXPECT_DOUBLE_EQ(s.streams[0].busy_ms, 0.210);
  EXPECT_DOUBLE_EQ(s.streams[1].communication_ms, 0.150);
}

TEST(ComputeStatistics, FloatTimestampsKeepNanoseconds) {
  // compute [1000.125, 1002.625); DeepEP combine [1001.626, 1003.626); empty kernel at 1004.5
  const RankStatistics s = stats_of(testing::parse_file("float_timestamps.json"));
  EXPECT_NEAR(s.gpu_span_ms, 0.004375, 1e-12);
  EXPECT_NEAR(s.gpu_busy_ms, 0.003501, 1e-12);
  EXPECT_NEAR(s.compute_ms, 0.0025, 1e-12);
  EXPECT_NEAR(s.comm_ms, 0.002, 1e-12);
  EXPECT_NEAR(s.overlap_pct, 49.95, 1e-9);
  EXPECT_NEAR(s.exposed_comm_ms, 0.001001, 1e-12);
}

TEST(ComputeStatistics, WindowClipsEveryFigure) {
  const TimeWindow window = Interval{1'100'000, 1'200'000};  // 1100..1200 us
  const RankStatistics s = stats_of(testing::parse_file("two_streams.json"), window);
  EXPECT_DOUBLE_EQ(s.compute_ms, 0.050);
  EXPECT_DOUBLE_EQ(s.comm_ms, 0.100);
  EXPECT_DOUBLE_EQ(s.exposed_comm_ms, 0.050);
  EXPECT_DOUBLE_EQ(s.overlap_pct, 50.0);
  EXPECT_EQ(s.streams[0].kernels, 1);
}

TEST(ComputeStatistics, NoCommunicationMeansZeroOverlap) {
  const RankStatistics s =
      stats_of(testing::parse_file("two_streams.json"), std::nullopt, KernelClassifier("^$"));
  EXPECT_EQ(s.comm_ms, 0.0);
  EXPECT_EQ(s.overlap_pct, 0.0);
}

TEST(OverlapIntervals, SplitCommunicationIntoHiddenAndExposed) {
  const OverlapIntervals o = overlap_intervals(
      build_timeline(testing::parse_file("two_streams.json"), 0, KernelClassifier()), std::nullopt);
  EXPECT_EQ(o.hidden, (IntervalSet{{1'050'000, 1'100'000}, {1'150'000, 1'200'000}}));
  EXPECT_EQ(o.exposed, (IntervalSet{{1'100'000, 1'150'000}}));
}

TEST(ComputeStatistics, DeepSeekTrainingTraceHidesAlmostAllCommunication) {
  const std::string path = testing::deepseek_train_trace();
  if (path.empty()) GTEST_SKIP() << "../shared/data/profile-data/train.json is absent";
  const RankStatistics s =
      stats_of(parse_chrome_trace(TraceText::load_file(path), path));
  EXPECT_NEAR(s.comm_ms, 113.4, 0.1);      // the DeepEP kernels on their own stream
  EXPECT_NEAR(s.overlap_pct, 96.3, 0.1);
  EXPECT_NEAR(s.gpu_span_ms, 129.0, 0.1);
  EXPECT_NEAR(s.exposed_comm_ms, s.comm_ms - s.overlap_ms, 1e-9);
}

TEST(ComputeStatistics, RecordedTracesHaveCommunicationAndCompute) {
  const std::vector<std::string> paths = testing::recorded_traces();
  if (paths.empty()) GTEST_SKIP() << "no recorded trace in profiles/";
  for (const std::string& path : paths) {
    const RankStatistics s = stats_of(parse_chrome_trace(TraceText::load_file(path), path));
    EXPECT_GT(s.comm_ms, 0.0) << path;
    EXPECT_GT(s.compute_ms, 0.0) << path;
    EXPECT_GE(s.overlap_pct, 0.0) << path;
    EXPECT_LE(s.overlap_pct, 100.0) << path;
    EXPECT_LE(s.gpu_busy_ms, s.gpu_span_ms + 1e-9) << path;
  }
}

}  // namespace
}  // namespace dualpipe::trace
