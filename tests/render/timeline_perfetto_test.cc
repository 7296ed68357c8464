#include "dualpipe/render/timeline_perfetto.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>

#include "timeline_test_data.h"

namespace dualpipe::render {
namespace {

TEST(TimelinePerfettoJson, HasOneNamedTrackPerLaneAndEveryBar) {
  const TimelineLayout layout = testing::two_streams_layout();
  const testing::ParsedJson trace(timeline_perfetto_json(layout));
  std::map<std::string, int> threads;
  std::size_t complete = 0;
  for (const simdjson::dom::element event : simdjson::dom::array(trace.root["traceEvents"])) {
    const std::string_view ph = event["ph"];
    if (ph == "M" && std::string_view(event["name"]) == "thread_name") {
      threads[std::string(std::string_view(event["args"]["name"]))] = int(int64_t(event["tid"]));
    }
    if (ph == "X") ++complete;
  }
  std::size_t bars = 0;
  for (const TimelineLane& lane : layout.lanes) {
    EXPECT_EQ(threads.count(lane.title), 1u) << lane.title;
    bars += lane.bars.size();
  }
  EXPECT_EQ(complete, bars);
}

TEST(TimelinePerfettoJson, HasACriticalPathTrack) {
  const testing::ParsedJson trace(timeline_perfetto_json(testing::two_streams_analysed_layout()));
  int64_t path_tid = -1;
  std::size_t path_bars = 0;
  for (const simdjson::dom::element event : simdjson::dom::array(trace.root["traceEvents"])) {
    const std::string_view ph = event["ph"];
    if (ph == "M" && std::string_view(event["name"]) == "thread_name" &&
        std::string_view(event["args"]["name"]) == "critical path") {
      path_tid = int64_t(event["tid"]);
    }
    if (ph == "X" && std::string_view(event["cat"]) == "critical path") ++path_bars;
  }
  EXPECT_GE(path_tid, 0);
  EXPECT_GE(path_bars, 1u);
}

TEST(TimelinePerfettoJson, OverlapCounterFollowsHiddenAndExposedCommunication) {
  const testing::ParsedJson trace(timeline_perfetto_json(testing::two_streams_layout()));
  std::vector<std::pair<double, int64_t>> exposed;
  for (const simdjson::dom::element event : simdjson::dom::array(trace.root["traceEvents"])) {
    if (std::string_view(event["ph"]) != "C") continue;
    exposed.emplace_back(double(event["ts"]), int64_t(event["args"]["exposed"]));
  }
  // hidden 50..100 us, exposed 100..150, hidden 150..200: the end of one and the start of the
  // next share a timestamp, the end first.
  ASSERT_EQ(exposed.size(), 6u);
  EXPECT_EQ(exposed[1], std::make_pair(100.0, int64_t{0}));
  EXPECT_EQ(exposed[2], std::make_pair(100.0, int64_t{1}));
  EXPECT_EQ(exposed[3], std::make_pair(150.0, int64_t{0}));
}

}  // namespace
}  // namespace dualpipe::render
