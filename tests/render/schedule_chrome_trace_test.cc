#include "dualpipe/render/schedule_chrome_trace.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <string_view>

#include "dualpipe/schedule/annotation.h"
#include "schedule_test_data.h"

namespace dualpipe::render {
namespace {

using testing::small_timed_schedule;

// The events of a Chrome trace, parsed with simdjson's DOM API (the document must outlive them).
class ParsedTrace {
 public:
  explicit ParsedTrace(const std::string& json) : text_(json) {
    events_ = parser_.parse(text_)["traceEvents"].get_array().value();
  }
  simdjson::dom::array events() const { return events_; }

 private:
  simdjson::padded_string text_;
  simdjson::dom::parser parser_;
  simdjson::dom::array events_;
};

std::string text(simdjson::dom::element element, const char* key) {
  return std::string(std::string_view(element[key]));
}

TEST(ScheduleChromeTrace, NamesOneTrackPerRank) {
  const ParsedTrace trace(schedule_chrome_trace(small_timed_schedule()));
  std::map<std::int64_t, std::string> thread_names;
  std::string process_name;
  for (simdjson::dom::element event : trace.events()) {
    if (text(event, "ph") != "M") continue;
    if (text(event, "name") == "thread_name") {
      thread_names[std::int64_t(event["tid"])] = text(event["args"], "name");
    } else if (text(event, "name") == "process_name") {
      process_name = text(event["args"], "name");
    }
  }
  EXPECT_EQ(process_name, "pipeline schedule demo");
  EXPECT_EQ(thread_names, (std::map<std::int64_t, std::string>{{0, "rank 0"}, {1, "rank 1"}}));
}

TEST(ScheduleChromeTrace, WritesEveryActionOnItsRanksTrackInMicroseconds) {
  const auto timed = small_timed_schedule();
  const ParsedTrace trace(schedule_chrome_trace(timed));
  std::map<std::int64_t, int> seen_per_rank;
  for (simdjson::dom::element event : trace.events()) {
    const std::string phase = text(event, "ph");
    if (phase == "M") continue;
    const std::int64_t rank = event["tid"];
    const int position = seen_per_rank[rank]++;
    const auto& action = timed.schedule.programs[rank][position];
    const auto& timing = timed.timing[rank][position];
    EXPECT_EQ(std::int64_t(event["pid"]), 0);
    // Named by the profiler annotation label, which reads back to the same action.
    EXPECT_EQ(schedule::parse_annotation_label(text(event, "name")), action);
    EXPECT_DOUBLE_EQ(double(event["ts"]), timing.start * 1000.0);  // 1 unit shows as 1 ms
    if (action.op == schedule::Op::kSendB) {
      EXPECT_EQ(phase, "i");
    } else {
      EXPECT_EQ(phase, "X");
      EXPECT_DOUBLE_EQ(double(event["dur"]), timing.duration * 1000.0);
    }
    EXPECT_EQ(text(event["args"], "op"), schedule::op_name(action.op));
    EXPECT_EQ(std::int64_t(event["args"]["stage"]), action.chunk.stage);
    EXPECT_EQ(std::int64_t(event["args"]["microbatch"]), action.chunk.microbatch);
    EXPECT_EQ(std::int64_t(event["args"]["direction"]), action.chunk.direction);
    EXPECT_DOUBLE_EQ(double(event["args"]["duration"]), timing.duration);
    EXPECT_EQ(text(event["args"], "unit"), "units");
  }
  EXPECT_EQ(seen_per_rank[0], 3);
  EXPECT_EQ(seen_per_rank[1], 5);
}

TEST(ScheduleChromeTrace, KeepsBothHalvesOfAnOverlappedPairInItsArgs) {
  const ParsedTrace trace(schedule_chrome_trace(small_timed_schedule()));
  int pairs = 0;
  for (simdjson::dom::element event : trace.events()) {
    if (text(event, "ph") != "X" || text(event["args"], "op") != "FB") continue;
    ++pairs;
    EXPECT_EQ(std::int64_t(event["args"]["stage"]), 1);
    EXPECT_EQ(std::int64_t(event["args"]["direction"]), 1);
    EXPECT_EQ(std::int64_t(event["args"]["backward"]["stage"]), 0);
    EXPECT_EQ(std::int64_t(event["args"]["backward"]["direction"]), 0);
  }
  EXPECT_EQ(pairs, 1);
}

TEST(ScheduleChromeTrace, StartsAtZeroAndConvertsMeasuredMilliseconds) {
  auto timed = small_timed_schedule();
  timed.time_unit = "ms";
  for (auto& rank : timed.timing) {
    for (auto& timing : rank) timing.start += 250.5;
  }
  const ParsedTrace trace(schedule_chrome_trace(timed));
  double first = 1e300;
  for (simdjson::dom::element event : trace.events()) {
    if (text(event, "ph") == "M") continue;
    first = std::min(first, double(event["ts"]));
    EXPECT_EQ(text(event["args"], "unit"), "ms");
  }
  EXPECT_DOUBLE_EQ(first, 0.0);
}

TEST(MicrosecondsPer, KnowsCommonUnitsAndShowsSimulatedUnitsAsMilliseconds) {
  EXPECT_DOUBLE_EQ(microseconds_per("s"), 1e6);
  EXPECT_DOUBLE_EQ(microseconds_per("ms"), 1e3);
  EXPECT_DOUBLE_EQ(microseconds_per("us"), 1.0);
  EXPECT_DOUBLE_EQ(microseconds_per("ns"), 1e-3);
  EXPECT_DOUBLE_EQ(microseconds_per("units"), 1e3);
}

}  // namespace
}  // namespace dualpipe::render
