#include "dualpipe/render/schedule_svg.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "schedule_test_data.h"
#include "xml_tree.h"

namespace dualpipe::render {
namespace {

using testing::parse_xml;
using testing::small_timed_schedule;
using testing::XmlElement;

bool has_prefix(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The <g> of every drawn action, in drawing order (rank 0's program first).
std::vector<const XmlElement*> cells(const XmlElement& svg) {
  std::vector<const XmlElement*> found;
  for (const XmlElement* group : svg.find_all("g")) {
    if (has_prefix(group->attribute("class").value_or(""), "cell op-")) found.push_back(group);
  }
  return found;
}

// The filled boxes of a cell (the pair border of an FB has fill "none").
std::vector<const XmlElement*> boxes(const XmlElement& cell) {
  std::vector<const XmlElement*> found;
  for (const XmlElement& child : cell.children) {
    if (child.name == "rect" && child.attribute("fill") != "none") found.push_back(&child);
  }
  return found;
}

double number(const XmlElement& element, const std::string& attribute) {
  return std::stod(element.attribute(attribute).value());
}

std::vector<std::string> texts(const XmlElement& svg) {
  std::vector<std::string> found;
  for (const XmlElement* text : svg.find_all("text")) found.push_back(text->text);
  return found;
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

TEST(ScheduleSvg, IsWellFormedSvgWithOneLabelPerRank) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  EXPECT_EQ(svg.name, "svg");
  EXPECT_EQ(svg.attribute("xmlns"), "http://www.w3.org/2000/svg");
  const auto labels = texts(svg);
  EXPECT_TRUE(contains(labels, "rank 0"));
  EXPECT_TRUE(contains(labels, "rank 1"));
  EXPECT_FALSE(contains(labels, "rank 2"));
}

TEST(ScheduleSvg, DrawsOneCellPerComputeActionAndNoneForMessages) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  const auto drawn = cells(svg);
  ASSERT_EQ(drawn.size(), 7u);
  EXPECT_EQ(drawn[1]->attribute("class"), "cell op-FB");
  EXPECT_EQ(drawn[5]->attribute("class"), "cell op-I");
  EXPECT_EQ(drawn[6]->attribute("class"), "cell op-B");
}

TEST(ScheduleSvg, MakesWidthsAndPositionsProportionalToTime) {
  ScheduleDrawingOptions options;
  options.timeline_width_px = 800.0;  // 8 time units: 100 px per unit
  const auto timed = small_timed_schedule();
  const XmlElement svg = parse_xml(schedule_svg(timed, options));
  const auto drawn = cells(svg);
  const std::vector<std::pair<double, double>> rank_order_times = {{0, 1}, {2, 3}, {5, 1}, {0, 1},
                                                                   {1, 1}, {2, 2}, {6, 2}};
  const double left = number(*boxes(*drawn[0])[0], "x");
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const auto filled = boxes(*drawn[i]);
    double width = 0.0;
    for (const XmlElement* box : filled) width += number(*box, "width");
    EXPECT_NEAR(number(*filled[0], "x") - left, rank_order_times[i].first * 100.0, 1e-6) << i;
    EXPECT_NEAR(width, rank_order_times[i].second * 100.0, 1e-6) << i;
  }
}

TEST(ScheduleSvg, PutsBothHalvesOfAnOverlappedPairInOneBorderedCell) {
  ScheduleDrawingOptions options;
  options.timeline_width_px = 800.0;
  options.overlapped_forward_share = 0.25;
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule(), options));
  const XmlElement& pair = *cells(svg)[1];
  const auto halves = boxes(pair);
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_NEAR(number(*halves[0], "width"), 75.0, 1e-6);  // a quarter of 3 units
  EXPECT_NEAR(number(*halves[1], "width"), 225.0, 1e-6);
  EXPECT_NEAR(number(*halves[1], "x"), number(*halves[0], "x") + 75.0, 1e-6);
  const auto borders = pair.find_all("rect");
  const XmlElement& border = *borders.back();
  EXPECT_EQ(border.attribute("fill"), "none");
  EXPECT_EQ(border.attribute("stroke"), "#000000");
  EXPECT_NEAR(number(border, "width"), 300.0, 1e-6);
  // The forward half is orange like an F of its direction, the backward half green like a B.
  const auto drawn = cells(svg);
  EXPECT_EQ(halves[0]->attribute("fill"), boxes(*drawn[3])[0]->attribute("fill"));  // F d1
  EXPECT_NE(halves[0]->attribute("fill"), halves[1]->attribute("fill"));
}

TEST(ScheduleSvg, TellsTheTwoDirectionsApartByShade) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  const auto drawn = cells(svg);
  const auto forward_d0 = boxes(*drawn[0])[0];  // F s0 m0 d0
  const auto forward_d1 = boxes(*drawn[3])[0];  // F s0 m0 d1
  EXPECT_NE(forward_d0->attribute("fill"), forward_d1->attribute("fill"));
  EXPECT_NE(drawn[0]->find_all("text")[0]->attribute("fill"),
            drawn[3]->find_all("text")[0]->attribute("fill"));
}

TEST(ScheduleSvg, GivesEachOpItsOwnFill) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  const auto drawn = cells(svg);
  const auto fill = [&](std::size_t i) { return boxes(*drawn[i])[0]->attribute("fill").value(); };
  const std::string forward = fill(0);
  const std::string weight = fill(2);
  const std::string backward_input = fill(5);
  const std::string backward = boxes(*drawn[1])[1]->attribute("fill").value();  // FB's B d0
  EXPECT_NE(forward, weight);
  EXPECT_NE(forward, backward);
  EXPECT_NE(backward, backward_input);
  EXPECT_NE(weight, backward);
  EXPECT_TRUE(has_prefix(backward_input, "url(#"));  // hatched: refers to a pattern
  EXPECT_EQ(svg.find_all("pattern").size(), 2u);
}

TEST(ScheduleSvg, LabelsCellsWithTheirMicrobatchNumber) {
  auto timed = small_timed_schedule();
  timed.schedule.programs[0][0].chunk.microbatch = 7;
  const XmlElement svg = parse_xml(schedule_svg(timed));
  EXPECT_EQ(cells(svg)[0]->find_all("text")[0]->text, "7");
}

TEST(ScheduleSvg, LeavesOutNumbersThatDoNotFit) {
  ScheduleDrawingOptions options;
  options.timeline_width_px = 16.0;  // 2 px per unit: too narrow for digits
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule(), options));
  for (const XmlElement* cell : cells(svg)) EXPECT_TRUE(cell->find_all("text").empty());
}

TEST(ScheduleSvg, HasATimeAxisAndALegend) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  const auto labels = texts(svg);
  EXPECT_TRUE(contains(labels, "time (units)"));
  EXPECT_TRUE(contains(labels, "0"));
  EXPECT_TRUE(contains(labels, "8"));  // the axis reaches the end of the step
  for (const char* entry : {"Forward", "Backward", "Backward for input", "Backward for weights",
                            "Overlapped forward & backward", "direction 0 (enters at rank 0)",
                            "direction 1 (enters at the last rank)"}) {
    EXPECT_TRUE(contains(labels, entry)) << entry;
  }
}

TEST(ScheduleSvg, ShadesTheSecondModelChunkOfARankWithOneDirection) {
  auto timed = small_timed_schedule();
  timed.schedule.stage_rank = {{0, 1, 1, 0}};  // a V: rank 0 holds stages 0 and 3
  timed.schedule.num_stages = 4;
  timed.schedule.programs[0][0].chunk = {3, 0, 0};
  timed.schedule.programs[1][1].chunk = {1, 0, 0};
  const XmlElement svg = parse_xml(schedule_svg(timed));
  const auto drawn = cells(svg);
  EXPECT_NE(boxes(*drawn[0])[0]->attribute("fill"), boxes(*drawn[4])[0]->attribute("fill"));
  EXPECT_TRUE(contains(texts(svg), "second model chunk of a rank"));
}

TEST(ScheduleSvg, DescribesEachCellForHovering) {
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule()));
  const XmlElement& pair = *cells(svg)[1];
  const std::string tip = pair.attribute("data-tip").value();
  EXPECT_EQ(tip,
            "FB (overlapped pair) · forward: stage 1, micro-batch 0, direction 1 · backward: "
            "stage 0, micro-batch 0, direction 0 · rank 0 · start 2 units · duration 3 units");
  ASSERT_FALSE(pair.find_all("title").empty());
  EXPECT_EQ(pair.find_all("title")[0]->text, tip);
}

TEST(ScheduleSvg, LeavesOutNativeTooltipsOnRequest) {
  ScheduleDrawingOptions options;
  options.native_tooltips = false;
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule(), options));
  EXPECT_TRUE(svg.find_all("title").empty());
}

TEST(ScheduleSvg, MeasuresTimeFromTheEarliestStartInTheScheduleUnit) {
  auto timed = small_timed_schedule();
  timed.time_unit = "ms";
  for (auto& rank : timed.timing) {
    for (auto& timing : rank) timing.start += 1000.0;
  }
  const XmlElement svg = parse_xml(schedule_svg(timed));
  EXPECT_TRUE(contains(texts(svg), "time (ms)"));
  EXPECT_NE(cells(svg)[1]->attribute("data-tip")->find("start 2 ms"), std::string::npos);
}

TEST(ScheduleSvg, EscapesTheTitle) {
  ScheduleDrawingOptions options;
  options.title = "a<b & \"c\"";
  const XmlElement svg = parse_xml(schedule_svg(small_timed_schedule(), options));
  EXPECT_TRUE(contains(texts(svg), "a<b & \"c\""));
}

TEST(ScheduleSvg, RejectsTimingThatDoesNotMatchThePrograms) {
  auto timed = small_timed_schedule();
  timed.timing[1].pop_back();
  EXPECT_THROW(schedule_svg(timed), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::render
