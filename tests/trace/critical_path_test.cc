#include "dualpipe/trace/critical_path.h"

#include <gtest/gtest.h>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;
using testing::us;

TEST(CriticalPath, RunsThroughThePeerARankWaitedFor) {
  // Rank 0 waits 100 .. 1000 us for rank 1, whose host launched its send late (at 990 us).
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5).receive(1, 100, 1100, 90);
  SyntheticTrace rank1(1);
  rank1.annotation("dualpipe:F s0 m0 d1", -10, 20)
      .compute(0, 100, -5)
      .annotation("dualpipe:SEND_F s0 m0 d1 p0", 985, 10)
      .send(0, 1000, 200, 990);
  const auto run = testing::analyse({rank0, rank1});
  const CriticalPath& path = run.analysis.path;
  EXPECT_EQ(path.length(), us(1200));
  std::vector<std::pair<int, TimeNs>> steps;
  for (const PathStep& step : path.steps) steps.emplace_back(step.timeline, step.length());
  // Rank 1 computes, idles for its host, queues its send, then the transfer ends the step (on
  // rank 0, where the walk starts).
  EXPECT_EQ(steps, (std::vector<std::pair<int, TimeNs>>{
                       {1, us(100)}, {1, us(890)}, {1, us(10)}, {0, us(200)}}));
  EXPECT_EQ(path.steps[0].what, "compute F s0 m0 d1");
  EXPECT_EQ(path.steps[1].what, "host gap before SEND_F s0 m0 d1 p0");
  EXPECT_EQ(path.steps[1].category, TimeCategory::kHostGap);
}

TEST(CriticalPath, CoversTheSpanFromItsStartToTheLastBusyEnd) {
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5).send(1, 100, 50, 95);
  SyntheticTrace rank1(1);
  rank1.receive(0, 20, 130, 10).compute(150, 300, 140);
  const auto run = testing::analyse({rank0, rank1});
  const CriticalPath& path = run.analysis.path;
  ASSERT_FALSE(path.steps.empty());
  EXPECT_EQ(path.steps.front().start, run.analysis.span.start);
  EXPECT_EQ(path.steps.back().end, run.analysis.span.end);
  for (std::size_t i = 1; i < path.steps.size(); ++i) {
    EXPECT_EQ(path.steps[i].start, path.steps[i - 1].end);
  }
  // Rank 1 waited for rank 0's forward: the path goes through it.
  EXPECT_EQ(path.steps.front().timeline, 0);
  EXPECT_EQ(path.steps.front().category, TimeCategory::kCompute);
}

TEST(CriticalPath, WaitsInACircleDoNotLoop) {
  // Two receives posted together with no send anywhere cannot both be waits; matched as
  // collectives of an unknown group they are, and the walk must still end.
  SyntheticTrace rank0(0);
  rank0.bare_communication(0, 100, -1, "ncclKernel_AllReduce");
  SyntheticTrace rank1(1);
  rank1.bare_communication(0, 100, -1, "ncclKernel_AllReduce");
  const auto run = testing::analyse({rank0, rank1});
  EXPECT_EQ(run.analysis.path.length(), us(100));
}

}  // namespace
}  // namespace dualpipe::trace
