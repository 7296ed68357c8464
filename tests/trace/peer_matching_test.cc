#include "dualpipe/trace/peer_matching.h"

#include <gtest/gtest.h>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;
using testing::us;

using testing::timelines_of;

TEST(MatchCalls, PairsSendsAndReceivesInIssueOrderPerDirection) {
  SyntheticTrace rank0(0);
  rank0.send(1, 0, 10, -1).receive(1, 20, 10, -1).send(1, 40, 10, -1);
  SyntheticTrace rank1(1);
  rank1.receive(0, 5, 10, -1).send(0, 20, 10, -1).receive(0, 45, 10, -1);
  const auto timelines = timelines_of({rank0, rank1});
  const PeerMatching matching = match_calls(timelines);
  ASSERT_EQ(matching.groups.size(), 3u);
  EXPECT_EQ(matching.unmatched_calls, 0);
  // Rank 0's first send (its calls[0]) goes with rank 1's first receive (calls[0]); its second
  // send (calls[2]) with rank 1's second receive (calls[2]).
  EXPECT_EQ(matching.group_of[0][0], matching.group_of[1][0]);
  EXPECT_EQ(matching.group_of[0][2], matching.group_of[1][2]);
  EXPECT_EQ(matching.group_of[0][1], matching.group_of[1][1]);  // the reverse direction
  const CallGroup& first = matching.groups[static_cast<std::size_t>(matching.group_of[0][0])];
  EXPECT_EQ(first.kind, CallKind::kSend);
  EXPECT_EQ(first.calls[0].timeline, 0);  // the send comes first
}

TEST(MatchCalls, CountsSizeMismatchesAndMissingCounterparts) {
  SyntheticTrace rank0(0);
  rank0.send(1, 0, 10, -1, 100).send(1, 20, 10, -1, 100);
  SyntheticTrace rank1(1);
  rank1.receive(0, 0, 10, -1, 200);
  const PeerMatching matching = match_calls(timelines_of({rank0, rank1}));
  EXPECT_EQ(matching.groups.size(), 1u);
  EXPECT_EQ(matching.size_mismatches, 1);
  EXPECT_EQ(matching.unmatched_calls, 1);
  EXPECT_EQ(matching.notes.size(), 2u);
}

TEST(MatchCalls, LeavesExchangesWithUntracedRanksUnmatched) {
  SyntheticTrace rank0(0, 4);
  rank0.send(3, 0, 10, -1).collective("all_reduce", "[0, 1, 2, 3]", 20, 10, -1);
  SyntheticTrace rank1(1, 4);
  rank1.collective("all_reduce", "[0, 1, 2, 3]", 20, 10, -1);
  const PeerMatching matching = match_calls(timelines_of({rank0, rank1}));
  EXPECT_TRUE(matching.groups.empty());
  EXPECT_EQ(matching.unmatched_calls, 3);
}

TEST(MatchCalls, GathersTheKthCollectiveOfAGroupOnEveryMember) {
  std::vector<SyntheticTrace> ranks;
  for (int r = 0; r < 3; ++r) {
    SyntheticTrace trace(r, 3);
    trace.collective("all_reduce", "[0, 1, 2]", 0, 10, -1)
        .collective("all_reduce", "[0, 1, 2]", 20 + r, 10, -1);
    ranks.push_back(trace);
  }
  const auto timelines = timelines_of(ranks);
  const PeerMatching matching = match_calls(timelines);
  ASSERT_EQ(matching.groups.size(), 2u);
  EXPECT_EQ(matching.groups[1].calls.size(), 3u);
  const auto splits = split_calls(timelines, matching);
  EXPECT_EQ(splits[0][1].ready - splits[0][0].ready, us(22) - us(0));
  EXPECT_EQ(splits[0][1].waited_for, 2);  // rank 2 came last to the second one
}

TEST(SplitCalls, ReadyIsTheLatestStartOfTheExchange) {
  SyntheticTrace rank0(0);
  rank0.receive(1, 100, 1100, -1);
  SyntheticTrace rank1(1);
  rank1.send(0, 1000, 200, -1);
  const auto timelines = timelines_of({rank0, rank1});
  const auto splits = split_calls(timelines, match_calls(timelines));
  ASSERT_TRUE(splits[0][0].matched);
  EXPECT_EQ(splits[0][0].ready - timelines[0].gpu_start(), us(900));
  EXPECT_EQ(splits[0][0].waited_for, 1);
  EXPECT_EQ(splits[1][0].waited_for, 1);
}

}  // namespace
}  // namespace dualpipe::trace
