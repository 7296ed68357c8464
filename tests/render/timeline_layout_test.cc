#include "dualpipe/render/timeline_layout.h"

#include <gtest/gtest.h>

#include "timeline_test_data.h"

namespace dualpipe::render {
namespace {

const TimelineLane& lane(const TimelineLayout& layout, const std::string& title) {
  for (const TimelineLane& l : layout.lanes) {
    if (l.title == title) return l;
  }
  throw std::runtime_error("no lane " + title);
}

TEST(LayoutTimelines, HasPhaseAnnotationStreamAndOverlapLanesInThatOrder) {
  const TimelineLayout layout = testing::two_streams_layout();
  std::vector<std::string> titles;
  for (const TimelineLane& l : layout.lanes) titles.push_back(l.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"phases (F)", "annotations", "stream 7", "stream 13",
                                              "communication overlap"}));
  EXPECT_DOUBLE_EQ(layout.start_ms, 0.0);
  EXPECT_DOUBLE_EQ(layout.end_ms, 0.31);
}

TEST(LayoutTimelines, WithAnAnalysisAddsWhereTheTimeWentAndTheCriticalPath) {
  const TimelineLayout layout = testing::two_streams_analysed_layout();
  std::vector<std::string> titles;
  for (const TimelineLane& l : layout.lanes) titles.push_back(l.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"phases (F)", "annotations", "stream 7", "stream 13",
                                              "communication overlap", "where the time went",
                                              "critical path"}));
  const TimelineLane& time = lane(layout, "where the time went");
  EXPECT_EQ(time.bars.front().kind, BarKind::kCompute);
  EXPECT_EQ(layout.labels[time.bars[1].label], "transfer dispatch(F)");
  EXPECT_EQ(time.bars[1].kind, BarKind::kTransfer);
  const TimelineLane& path = lane(layout, "critical path");
  EXPECT_EQ(path.kind, LaneKind::kCriticalPath);
  EXPECT_DOUBLE_EQ(path.bars.front().start_ms, 0.0);
  EXPECT_DOUBLE_EQ(path.bars.back().end_ms, 0.31);
}

TEST(LayoutTimelines, DrawsAnnotationsInGpuTime) {
  const TimelineLayout layout = testing::two_streams_layout();
  const TimelineLane phases = lane(layout, "phases (F)");
  ASSERT_EQ(phases.bars.size(), 2u);
  EXPECT_EQ(layout.labels[phases.bars[1].label], "dispatch(F)");
  EXPECT_DOUBLE_EQ(phases.bars[1].start_ms, 0.05);
  EXPECT_DOUBLE_EQ(phases.bars[1].end_ms, 0.2);
}

TEST(LayoutTimelines, OverlapLaneSplitsHiddenAndExposedCommunication) {
  const TimelineLayout layout = testing::two_streams_layout();
  const TimelineLane overlap = lane(layout, "communication overlap");
  ASSERT_EQ(overlap.bars.size(), 3u);
  EXPECT_EQ(overlap.bars[0].kind, BarKind::kHiddenComm);
  EXPECT_EQ(overlap.bars[1].kind, BarKind::kExposedComm);
  EXPECT_DOUBLE_EQ(overlap.bars[1].start_ms, 0.1);
  EXPECT_DOUBLE_EQ(overlap.bars[1].end_ms, 0.15);
}

TEST(LayoutTimelines, WindowClipsBarsAndDropsThoseOutside) {
  const auto timelines = testing::two_streams_timelines();
  const trace::TimeNs origin = trace::earliest_gpu_start(timelines);
  const TimelineLayout layout =
      layout_timelines(timelines, origin, trace::Interval{origin + 120'000, origin + 180'000});
  EXPECT_DOUBLE_EQ(layout.start_ms, 0.12);
  for (const TimelineLane& l : layout.lanes) {
    for (const TimelineBar& bar : l.bars) {
      EXPECT_GE(bar.start_ms, 0.12);
      EXPECT_LE(bar.end_ms, 0.18);
    }
  }
  EXPECT_EQ(lane(layout, "stream 7").bars.size(), 1u);  // only the second GEMM
}

TEST(LayoutTimelines, CaptionCarriesTheOverlapFigures) {
  const TimelineLayout layout = testing::two_streams_layout();
  ASSERT_EQ(layout.captions.size(), 1u);
  EXPECT_DOUBLE_EQ(layout.captions[0].comm_ms, 0.15);
  EXPECT_NEAR(layout.captions[0].overlap_pct, 200.0 / 3.0, 1e-9);
}

TEST(BarColour, TellsCommunicationFromComputeAndPhasesByName) {
  EXPECT_NE(bar_colour(BarKind::kCompute, ""), bar_colour(BarKind::kCommunication, ""));
  EXPECT_NE(bar_colour(BarKind::kPhase, "attn(F)"), bar_colour(BarKind::kPhase, "dispatch(F)"));
  EXPECT_EQ(bar_colour(BarKind::kPhase, "attn(F)"), bar_colour(BarKind::kPhase, "attn(B)"));
  EXPECT_NE(bar_colour(BarKind::kPipelineAction, "dualpipe:F s0 m0 d0"),
            bar_colour(BarKind::kPipelineAction, "dualpipe:B s0 m0 d0"));
}

}  // namespace
}  // namespace dualpipe::render
