#include "dualpipe/trace/clock_alignment.h"

#include <gtest/gtest.h>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;
using testing::us;

using testing::timelines_of;

// Two ranks exchanging in both directions; rank 1's clock reads `skew` us more than rank 0's.
// Each transfer ends on both sides at the same true time.
std::vector<SyntheticTrace> exchanges(double skew) {
  SyntheticTrace rank0(0);
  SyntheticTrace rank1(1);
  rank0.send(1, 0, 300, -1).receive(1, 1000, 500, -1).send(1, 2000, 50, -1);
  rank1.receive(0, 200 + skew, 100, -1)
      .send(0, 1300 + skew, 200, -1)
      .receive(0, 1900 + skew, 150, -1);
  return {rank0, rank1};
}

TEST(AlignClocks, TracesThatAgreeWithEveryExchangeShareOneClock) {
  const auto timelines = timelines_of(exchanges(0));
  const ClockAlignment alignment = align_clocks(timelines, match_calls(timelines));
  EXPECT_FALSE(alignment.estimated);
  EXPECT_EQ(alignment.exchanges, 3);
  EXPECT_EQ(alignment.offsets, (std::vector<TimeNs>{0, 0}));
}

TEST(AlignClocks, EstimatesTheOffsetOfARankOnAnotherMachine) {
  // Rank 1's receive would end 4.7 ms before rank 0's send began: not one clock.
  auto timelines = timelines_of(exchanges(-5000));
  const ClockAlignment alignment = align_clocks(timelines, match_calls(timelines));
  EXPECT_TRUE(alignment.estimated);
  EXPECT_EQ(alignment.offsets[1], us(5000));
  apply_clock_offsets(timelines, alignment);
  EXPECT_EQ(timelines[1].gpu_start(), us(200));
}

TEST(CheckOneRun, RefusesTracesOfDifferentWorldSizes) {
  SyntheticTrace rank0(0, 2);
  rank0.compute(0, 10, -1);
  SyntheticTrace rank1(1, 4);
  rank1.compute(0, 10, -1);
  const auto timelines = timelines_of({rank0, rank1});
  try {
    check_one_run(timelines, ClockAlignment{{0, 0}, false, 0, {}});
    FAIL() << "accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("run of 4 ranks"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("different runs"), std::string::npos);
  }
}

TEST(CheckOneRun, RefusesTracesThatDoNotOverlapInTime) {
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -1);
  SyntheticTrace rank1(1);
  rank1.compute(3.6e9, 100, -1);  // an hour later
  const auto timelines = timelines_of({rank0, rank1});
  try {
    check_one_run(timelines, ClockAlignment{{0, 0}, false, 0, {}});
    FAIL() << "accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("no overlap in time"), std::string::npos)
        << error.what();
  }
}

TEST(CheckOneRun, RefusesClockOffsetsNoClusterHas) {
  auto timelines = timelines_of(exchanges(-3.6e9));  // the same program an hour apart
  const ClockAlignment alignment = align_clocks(timelines, match_calls(timelines));
  apply_clock_offsets(timelines, alignment);
  EXPECT_THROW(check_one_run(timelines, alignment), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::trace
