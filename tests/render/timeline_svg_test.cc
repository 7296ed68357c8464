#include "dualpipe/render/timeline_svg.h"

#include <gtest/gtest.h>

#include "timeline_test_data.h"
#include "xml_tree.h"

namespace dualpipe::render {
namespace {

TEST(TimelineSvg, IsWellFormedWithOneTitledLanePerLayoutLane) {
  const TimelineLayout layout = testing::two_streams_layout();
  const testing::XmlElement svg = testing::parse_xml(timeline_svg(layout));
  EXPECT_EQ(svg.name, "svg");
  const std::string text = svg.all_text();
  for (const TimelineLane& lane : layout.lanes) {
    EXPECT_NE(text.find(lane.title), std::string::npos) << lane.title;
  }
  EXPECT_NE(text.find("communication 0.15 ms, 66.7% of it under compute"), std::string::npos);
  EXPECT_NE(text.find("dispatch(F)"), std::string::npos);            // wide enough to be labelled
  EXPECT_NE(text.find("exposed communication"), std::string::npos);  // legend
}

TEST(TimelineSvg, BarsCarryTooltipsWithNameKindAndTimes) {
  const testing::XmlElement svg = testing::parse_xml(timeline_svg(testing::two_streams_layout()));
  bool found = false;
  for (const testing::XmlElement* title : svg.find_all("title")) {
    if (title->text.rfind("ncclDevKernel_SendRecv", 0) == 0) {
      found = true;
      EXPECT_NE(title->text.find("(communication), 0.050 – 0.200 ms"), std::string::npos)
          << title->text;
    }
  }
  EXPECT_TRUE(found);
}

TEST(TimelineSvg, ShadesTheRanksLanesUnderTheCriticalPath) {
  const std::string svg = timeline_svg(testing::two_streams_analysed_layout());
  EXPECT_NE(svg.find("fill=\"#d62728\" fill-opacity=\"0.13\""), std::string::npos);
  EXPECT_NE(svg.find(">critical path</text>"), std::string::npos);
}

TEST(PixelBars, MergesThinNeighboursOfOneKindOnly) {
  TimelineLane lane;
  lane.bars = {{0.0, 0.001, BarKind::kCompute, 0},
               {0.001, 0.002, BarKind::kCompute, 0},
               {0.002, 0.003, BarKind::kCommunication, 1},
               {0.5, 0.9, BarKind::kCompute, 0}};
  const std::vector<PixelBar> bars = pixel_bars(lane, 0.0, 100.0);  // 0.1 px per bar
  ASSERT_EQ(bars.size(), 3u);
  EXPECT_EQ(bars[0].count, 2);
  EXPECT_EQ(bars[1].kind, BarKind::kCommunication);
  EXPECT_DOUBLE_EQ(bars[2].x0_px, 50.0);
  EXPECT_DOUBLE_EQ(bars[2].x1_px, 90.0);
  EXPECT_GE(bars[1].x1_px - bars[1].x0_px, 0.6);  // thin bars stay visible
}

}  // namespace
}  // namespace dualpipe::render
