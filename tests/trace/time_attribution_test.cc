#include "dualpipe/trace/time_attribution.h"

#include <gtest/gtest.h>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;
using testing::us;

TimeNs other(const RankAttribution& a, OtherCause cause) {
  return a.other_by_cause[static_cast<std::size_t>(cause)];
}

void expect_sums_to_span(const RankAttribution& a) {
  TimeNs total = 0;
  for (TimeNs part : a.by_category) total += part;
  EXPECT_EQ(total, a.span.length());
  TimeNs others = 0;
  for (TimeNs part : a.other_by_cause) others += part;
  EXPECT_EQ(others, a.of(TimeCategory::kOther));
  TimeNs covered = a.span.start;
  for (const TimeSegment& s : a.segments) {
    EXPECT_EQ(s.start, covered);
    EXPECT_LT(s.start, s.end);
    covered = s.end;
  }
  EXPECT_EQ(covered, a.span.end);
}

// Rank 1's host is late: its GPU finishes its forward at 100 us, but the send is launched only at
// 990 us and starts at 1000 us. Rank 0 posted its receive at 100 us: it waits 900 us for rank 1,
// then both transfer for 200 us.
std::vector<SyntheticTrace> late_peer() {
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5).receive(1, 100, 1100, 90);
  SyntheticTrace rank1(1);
  rank1.compute(0, 100, -5).send(0, 1000, 200, 990);
  return {rank0, rank1};
}

TEST(AttributeTime, ALatePeerIsWaitingForItThenTransfer) {
  const auto run = testing::analyse(late_peer());
  const RankAttribution& waiter = run.analysis.ranks[0];
  EXPECT_EQ(waiter.span.length(), us(1200));
  EXPECT_EQ(waiter.of(TimeCategory::kCompute), us(100));
  EXPECT_EQ(waiter.of(TimeCategory::kWait), us(900));
  EXPECT_EQ(waiter.of(TimeCategory::kTransfer), us(200));
  EXPECT_EQ(waiter.of(TimeCategory::kHostGap), 0);
  EXPECT_EQ(waiter.wait_kernels, us(900));
  EXPECT_EQ(waiter.transfer_kernels, us(200));
  ASSERT_EQ(waiter.waits.size(), 1u);
  EXPECT_EQ(waiter.waits[0].peer, 1);
  EXPECT_EQ(waiter.waits[0].time, us(900));
  expect_sums_to_span(waiter);
}

TEST(AttributeTime, TheLateHostIsAHostGapUntilItsLaunchThenQueued) {
  const auto run = testing::analyse(late_peer());
  const RankAttribution& late = run.analysis.ranks[1];
  EXPECT_EQ(late.of(TimeCategory::kCompute), us(100));
  EXPECT_EQ(late.of(TimeCategory::kHostGap), us(890));  // 100 .. 990: nothing launched
  EXPECT_EQ(other(late, OtherCause::kQueued), us(10));  // 990 .. 1000: launched, not started
  EXPECT_EQ(late.of(TimeCategory::kTransfer), us(200));
  EXPECT_EQ(late.of(TimeCategory::kWait), 0);  // it came last: nobody kept it waiting
  expect_sums_to_span(late);
}

TEST(AttributeTime, NamesWhatTheWaitedForPeerDidMeanwhile) {
  const auto run = testing::analyse(late_peer());
  const PeerWait& wait = run.analysis.ranks[0].waits.at(0);
  ASSERT_GE(wait.peer_activity.size(), 2u);
  EXPECT_EQ(wait.peer_activity[0].time, us(890));
  EXPECT_EQ(wait.peer_activity[0].what.rfind("host gap", 0), 0u) << wait.peer_activity[0].what;
  EXPECT_EQ(wait.peer_activity[1].what, "other (queued)");
  EXPECT_EQ(wait.peer_activity[1].time, us(10));
}

TEST(AttributeTime, PeersThatStartTogetherOnlyTransfer) {
  SyntheticTrace rank0(0);
  rank0.send(1, 0, 250, -3);
  SyntheticTrace rank1(1);
  rank1.receive(0, 0, 250, -3);
  const auto run = testing::analyse({rank0, rank1});
  for (const RankAttribution& a : run.analysis.ranks) {
    EXPECT_EQ(a.of(TimeCategory::kTransfer), us(250));
    EXPECT_EQ(a.of(TimeCategory::kWait), 0);
    expect_sums_to_span(a);
  }
}

TEST(AttributeTime, HostGapsAreIdleTimeWithNothingLaunched) {
  SyntheticTrace rank(0, 1);
  rank.compute(0, 100, -5).compute(250, 50, 240).compute(300, 100, 200);
  const auto run = testing::analyse({rank});
  const RankAttribution& a = run.analysis.ranks[0];
  EXPECT_EQ(a.of(TimeCategory::kCompute), us(250));
  EXPECT_EQ(a.of(TimeCategory::kHostGap), us(100));  // 100 .. 200: next launch at 200
  EXPECT_EQ(other(a, OtherCause::kQueued), us(50));  // 200 .. 250
  expect_sums_to_span(a);
}

TEST(AttributeTime, ComputeHidesCommunicationRunningUnderIt) {
  SyntheticTrace rank0(0);
  rank0.compute(0, 300, -5).receive(1, 0, 200, -3);
  SyntheticTrace rank1(1);
  rank1.compute(0, 100, -5).send(0, 100, 100, 90);
  const auto run = testing::analyse({rank0, rank1});
  const RankAttribution& a = run.analysis.ranks[0];
  EXPECT_EQ(a.of(TimeCategory::kCompute), us(300));
  EXPECT_EQ(a.of(TimeCategory::kWait), 0);
  EXPECT_EQ(a.wait_kernels, us(100));      // the receive kernel itself waited 0 .. 100
  EXPECT_EQ(a.transfer_kernels, us(100));  // and moved data 100 .. 200
}

TEST(AttributeTime, ACollectiveWaitsForItsLastMember) {
  std::vector<SyntheticTrace> ranks;
  const double arrivals[] = {0, 50, 200};
  for (int r = 0; r < 3; ++r) {
    SyntheticTrace trace(r, 3);
    if (arrivals[r] > 0) trace.compute(0, arrivals[r], -5);
    trace.collective("all_reduce", "[0, 1, 2]", arrivals[r], 300 - arrivals[r], -3);
    ranks.push_back(trace);
  }
  const auto run = testing::analyse(ranks);
  EXPECT_EQ(run.analysis.ranks[0].of(TimeCategory::kWait), us(200));
  EXPECT_EQ(run.analysis.ranks[1].of(TimeCategory::kWait), us(150));
  EXPECT_EQ(run.analysis.ranks[2].of(TimeCategory::kWait), 0);
  for (const RankAttribution& a : run.analysis.ranks) {
    EXPECT_EQ(a.of(TimeCategory::kTransfer), us(100));
    ASSERT_TRUE(a.waits.empty() || a.waits[0].peer == 2);
    expect_sums_to_span(a);
  }
}

TEST(AttributeTime, CommunicationWithUntracedRanksCountsAsOther) {
  SyntheticTrace rank(0, 8);  // one rank of eight: its peers are not here
  rank.compute(0, 100, -5).send(5, 100, 50, 95);
  const auto run = testing::analyse({rank});
  const RankAttribution& a = run.analysis.ranks[0];
  EXPECT_EQ(other(a, OtherCause::kUnmatchedCommunication), us(50));
  EXPECT_EQ(a.of(TimeCategory::kTransfer), 0);
  expect_sums_to_span(a);
}

TEST(AttributeTime, ARankThatFinishesEarlyIsDoneUntilTheStepEnds) {
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5);
  SyntheticTrace rank1(1);
  rank1.compute(0, 400, -5);
  const auto run = testing::analyse({rank0, rank1});
  EXPECT_EQ(other(run.analysis.ranks[0], OtherCause::kAfterLastKernel), us(300));
  expect_sums_to_span(run.analysis.ranks[0]);
}

TEST(AttributeTime, IdleTimeWithoutLaunchTimesIsUnknown) {
  SyntheticTrace rank(0, 1);
  rank.compute(0, 100, SyntheticTrace::kNoLaunch).compute(150, 50, SyntheticTrace::kNoLaunch);
  const auto run = testing::analyse({rank});
  EXPECT_EQ(other(run.analysis.ranks[0], OtherCause::kUnknownIdle), us(50));
  EXPECT_EQ(run.analysis.ranks[0].of(TimeCategory::kHostGap), 0);
}

TEST(AttributeTime, PeerHintsFromAnnotationsPairKernelsWithoutArgs) {
  // PyTorch's "nccl:send 0->1" / "nccl:recv 1<-0" ranges name the peer of plain NCCL kernels.
  SyntheticTrace rank0(0);
  rank0.annotation("nccl:send 0->1", 0, 20).bare_communication(10, 300, 5);
  SyntheticTrace rank1(1);
  rank1.compute(0, 200, -5).annotation("nccl:recv 1<-0", 205, 10).bare_communication(210, 100, 207);
  const auto run = testing::analyse({rank0, rank1});
  EXPECT_EQ(run.analysis.matching.groups.size(), 1u);
  EXPECT_EQ(run.analysis.ranks[0].of(TimeCategory::kWait), us(200));  // 10 .. 210
  EXPECT_EQ(run.analysis.ranks[0].of(TimeCategory::kTransfer), us(100));
}

TEST(DescribeSegment, NamesTheActionOfTheKernel) {
  SyntheticTrace rank(0, 1);
  rank.annotation("dualpipe:F s1 m3 d0", 0, 20).compute(10, 100, 5);
  const auto run = testing::analyse({rank});
  const TimeSegment& segment = run.analysis.ranks[0].segments.at(0);
  EXPECT_EQ(describe_segment(run.timelines, 0, segment), "compute F s1 m3 d0");
  EXPECT_EQ(segment_work(run.timelines[0], segment), "F s1 m3 d0");
}

}  // namespace
}  // namespace dualpipe::trace
