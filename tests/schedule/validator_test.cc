#include "dualpipe/schedule/validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::schedule {
namespace {

Action F(int stage, int microbatch, int direction = 0) {
  return Action::compute(Op::kF, {stage, microbatch, direction});
}
Action B(int stage, int microbatch) { return Action::compute(Op::kB, {stage, microbatch, 0}); }
Action I(int stage, int microbatch) { return Action::compute(Op::kI, {stage, microbatch, 0}); }
Action W(int stage, int microbatch) { return Action::compute(Op::kW, {stage, microbatch, 0}); }
Action comm(Op op, int stage, int microbatch, int peer) {
  return Action::communication(op, {stage, microbatch, 0}, peer);
}

// Stage s on rank s, one direction, the given programs.
Schedule straight(int microbatches, std::vector<std::vector<Action>> programs) {
  Schedule schedule;
  schedule.name = "test";
  schedule.num_ranks = static_cast<int>(programs.size());
  schedule.num_stages = schedule.num_ranks;
  schedule.num_microbatches = microbatches;
  schedule.stage_rank.emplace_back();
  for (int s = 0; s < schedule.num_stages; ++s) schedule.stage_rank[0].push_back(s);
  schedule.programs = std::move(programs);
  return schedule;
}

// 1F1B on two ranks with each message received right before its use and sent right after it is
// produced: fine when sends never block, a deadlock when they wait for their receiver.
Schedule naive_two_rank_1f1b() {
  return straight(2, {
                         {F(0, 0), comm(Op::kSendF, 0, 0, 1), F(0, 1), comm(Op::kSendF, 0, 1, 1),
                          comm(Op::kRecvB, 0, 0, 1), B(0, 0), comm(Op::kRecvB, 0, 1, 1), B(0, 1)},
                         {comm(Op::kRecvF, 1, 0, 0), F(1, 0), B(1, 0), comm(Op::kSendB, 1, 0, 0),
                          comm(Op::kRecvF, 1, 1, 0), F(1, 1), B(1, 1), comm(Op::kSendB, 1, 1, 0)},
                     });
}

bool has(const std::vector<Violation>& violations, ViolationKind kind, int rank, int position) {
  return std::any_of(violations.begin(), violations.end(), [&](const Violation& v) {
    return v.kind == kind && v.rank == rank && v.position == position;
  });
}

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& v : violations) text += "\n  " + to_string(v);
  return text;
}

// The one violation validate() finds, as text; any other count fails the test and lists them all.
std::string only_violation(const Schedule& schedule, P2PMode mode = P2PMode::kBlocking) {
  const std::vector<Violation> violations = validate(schedule, mode);
  if (violations.size() == 1) return to_string(violations[0]);
  ADD_FAILURE() << "expected one violation, found " << violations.size() << describe(violations);
  return describe(violations);
}

// `schedule` without the action at `position` of `rank`'s program.
Schedule without_action(Schedule schedule, int rank, int position) {
  schedule.programs[rank].erase(schedule.programs[rank].begin() + position);
  return schedule;
}

TEST(Validate, AcceptsAGeneratedScheduleWithAndWithoutCommunication) {
  const Schedule schedule = generate_dualpipe(4, 12);
  EXPECT_TRUE(validate(schedule).empty());
  EXPECT_TRUE(validate(with_communication(schedule), P2PMode::kBlocking).empty());
}

TEST(Validate, ReportsABadHeaderAsAWholeScheduleProblem) {
  Schedule schedule = generate_1f1b(2, 2);
  schedule.stage_rank[0][1] = 5;
  schedule.programs.pop_back();
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_EQ(violations[0].kind, ViolationKind::kMalformed);
  EXPECT_EQ(violations[0].rank, -1);
  EXPECT_EQ(to_string(violations[0]), "schedule: malformed: has 1 programs for 2 ranks");
  EXPECT_EQ(violations[1].message, "stage 1 of direction 0 is placed on rank 5, outside 0..1");
}

TEST(Validate, ReportsOutOfRangeChunksAsMalformed) {
  Schedule schedule = generate_1f1b(2, 2);
  schedule.programs[0].push_back(F(0, 7));
  EXPECT_EQ(only_violation(schedule),
            "rank 0, position 4 (F s0 m7 d0): malformed: s0 m7 d0 is out of range (stages 0..1, "
            "micro-batches 0..1, directions 0..0)");
}

TEST(Validate, ReportsWorkOnARankThatDoesNotHoldItsStage) {
  Schedule schedule = straight(1, {{F(0, 0), F(1, 0), B(0, 0)}, {B(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  EXPECT_TRUE(has(violations, ViolationKind::kWrongRank, 0, 1)) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kMissing, 1, -1)) << describe(violations);
}

TEST(Validate, ReportsWorkDoneTwice) {
  Schedule schedule = straight(1, {{F(0, 0), F(0, 0), B(0, 0), W(0, 0)}, {F(1, 0), B(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kDuplicate, 0, 1));
  EXPECT_EQ(violations[1].message,
            "weight gradient of s0 m0 d0 is already computed by the B at position 2");
}

TEST(Validate, ReportsMissingForwardBackwardAndWeightSteps) {
  Schedule schedule = straight(2, {{F(0, 0), F(0, 1), I(0, 0), B(0, 1)}, {F(1, 0), B(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  EXPECT_TRUE(has(violations, ViolationKind::kMissing, 0, -1)) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kMissing, 1, -1)) << describe(violations);
  const std::vector<std::string> expected = {
      "rank 0 (W s0 m0 d0): missing: the I at position 2 has no W for s0 m0 d0",
      "rank 1 (F s1 m1 d0): missing: forward of s1 m1 d0 never runs",
      "rank 1 (B s1 m1 d0): missing: backward (B, I or FB) of s1 m1 d0 never runs",
  };
  std::vector<std::string> actual;
  for (const Violation& v : violations) {
    if (v.kind == ViolationKind::kMissing) actual.push_back(to_string(v));
  }
  EXPECT_EQ(actual, expected);
}

TEST(Validate, ReportsABackwardBeforeItsForwardOnTheSameRank) {
  Schedule schedule = straight(1, {{F(0, 0), B(0, 0)}, {B(1, 0), F(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(to_string(violations[0]),
            "rank 1, position 0 (B s1 m0 d0): order: backward of s1 m0 d0 comes before its "
            "forward at position 1");
}

TEST(Validate, ReportsAWeightStepBeforeItsInputBackward) {
  Schedule schedule = straight(1, {{F(0, 0), W(0, 0), I(0, 0)}, {F(1, 0), B(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kOrder, 0, 1));
}

TEST(Validate, ReportsAnOverlappedPairThatNeedsItsOwnForward) {
  Schedule schedule = straight(1, {{F(0, 0), B(0, 0)}, {Action::overlapped({1, 0, 0}, {1, 0, 0})}});
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations[0].message,
            "overlapped pair runs the backward of s1 m0 d0 together with its forward");
}

TEST(Validate, ReportsStagesOnOneRankVisitedOutOfOrder) {
  // DualPipeV's turn: rank P-1 holds stages P-1 and P; their forwards must run in stage order.
  Schedule schedule = generate_dualpipev(2, 4);
  std::vector<Action>& last = schedule.programs[1];
  const auto first_upper = std::find(last.begin(), last.end(), F(2, 0));
  const auto first_lower = std::find(last.begin(), last.end(), F(1, 0));
  std::iter_swap(first_upper, first_lower);
  const std::vector<Violation> violations = validate(schedule);
  EXPECT_TRUE(
      has(violations, ViolationKind::kOrder, 1, static_cast<int>(first_lower - last.begin())))
      << describe(violations);
}

TEST(Validate, ReportsACrossRankCycleAsADeadlockOnEveryStuckRank) {
  // Rank 0 wants micro-batch 0 back before it forwards micro-batch 1; rank 1 insists on 1 first.
  Schedule schedule =
      straight(2, {{F(0, 0), B(0, 0), F(0, 1), B(0, 1)}, {F(1, 1), B(1, 1), F(1, 0), B(1, 0)}});
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_EQ(to_string(violations[0]),
            "rank 0, position 1 (B s0 m0 d0): deadlock: waits for B s1 m0 d0 (rank 1 position 3), "
            "but rank 1 is stuck at position 0 (F s1 m1 d0)");
  EXPECT_TRUE(has(violations, ViolationKind::kDeadlock, 1, 0));
}

TEST(Validate, TellsBlockingFromAsynchronousPointToPoint) {
  const Schedule schedule = naive_two_rank_1f1b();
  EXPECT_TRUE(validate(schedule, P2PMode::kAsynchronous).empty());
  const std::vector<Violation> violations = validate(schedule, P2PMode::kBlocking);
  ASSERT_EQ(violations.size(), 2u) << describe(violations);
  EXPECT_EQ(to_string(violations[0]),
            "rank 0, position 3 (SEND_F s0 m1 d0 peer 1): deadlock: waits for its partner RECV_F "
            "s1 m1 d0 peer 0 (rank 1 position 4), but rank 1 is stuck at position 3 (SEND_B s1 m0 "
            "d0 peer 0)");
  EXPECT_TRUE(has(violations, ViolationKind::kDeadlock, 1, 3));
  EXPECT_TRUE(
      validate(with_communication(without_communication(schedule)), P2PMode::kBlocking).empty());
}

TEST(Validate, ReportsASendWithoutItsReceive) {
  const Schedule no_receive = without_action(naive_two_rank_1f1b(), 1, 4);  // RECV_F s1 m1
  EXPECT_EQ(only_violation(no_receive, P2PMode::kAsynchronous),
            "rank 0, position 3 (SEND_F s0 m1 d0 peer 1): unmatched: no matching RECV_F s1 m1 d0 "
            "peer 0 on rank 1");
}

TEST(Validate, ReportsACrossRankInputWithNoMessage) {
  // Neither RECV_F s1 m1 (rank 1, position 4) nor SEND_F s0 m1 (rank 0, position 3).
  const Schedule no_message = without_action(without_action(naive_two_rank_1f1b(), 1, 4), 0, 3);
  EXPECT_EQ(only_violation(no_message, P2PMode::kAsynchronous),
            "rank 1, position 4 (F s1 m1 d0): missing: needs RECV_F s1 m1 d0 peer 0 before it, "
            "and rank 0 never sends it");
}

TEST(Validate, ReportsAReceiveAfterItsConsumerAndASendBeforeItsProducer) {
  Schedule schedule = naive_two_rank_1f1b();
  std::swap(schedule.programs[1][0], schedule.programs[1][1]);  // F s1 m0 before its RECV
  std::swap(schedule.programs[0][0], schedule.programs[0][1]);  // SEND_F s0 m0 before F
  const std::vector<Violation> violations = validate(schedule, P2PMode::kAsynchronous);
  EXPECT_TRUE(has(violations, ViolationKind::kOrder, 1, 1)) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kOrder, 0, 0)) << describe(violations);
}

TEST(Validate, ReportsMessagesReceivedInAnotherOrderThanSent) {
  Schedule schedule =
      straight(2, {
                      {F(0, 0), F(0, 1), comm(Op::kSendF, 0, 0, 1), comm(Op::kSendF, 0, 1, 1),
                       comm(Op::kRecvB, 0, 0, 1), comm(Op::kRecvB, 0, 1, 1), B(0, 0), B(0, 1)},
                      {comm(Op::kRecvF, 1, 1, 0), comm(Op::kRecvF, 1, 0, 0), F(1, 0), F(1, 1),
                       B(1, 0), B(1, 1), comm(Op::kSendB, 1, 0, 0), comm(Op::kSendB, 1, 1, 0)},
                  });
  EXPECT_EQ(only_violation(schedule, P2PMode::kAsynchronous),
            "rank 1, position 1 (RECV_F s1 m0 d0 peer 0): channel_order: rank 0 sends this "
            "before the message received at position 0");
  // Rendezvous cannot reorder: the same schedule also hangs.
  EXPECT_TRUE(has(validate(schedule, P2PMode::kBlocking), ViolationKind::kDeadlock, 0, 2));
}

TEST(Validate, ReportsMessagesSentTwiceAndWrongPeers) {
  Schedule schedule = naive_two_rank_1f1b();
  schedule.programs[0].insert(schedule.programs[0].begin() + 2, comm(Op::kSendF, 0, 0, 1));
  schedule.programs[1][3].peer = 1;  // SEND_B to itself
  const std::vector<Violation> violations = validate(schedule, P2PMode::kAsynchronous);
  EXPECT_TRUE(has(violations, ViolationKind::kDuplicate, 0, 2)) << describe(violations);
  EXPECT_TRUE(has(violations, ViolationKind::kMalformed, 1, 3)) << describe(violations);
}

TEST(Validate, ReportsAMessageBetweenStagesOfOneRank) {
  Schedule schedule = generate_dualpipev(1, 2);
  schedule.programs[0].insert(schedule.programs[0].begin() + 1, comm(Op::kSendF, 0, 0, 0));
  const std::vector<Violation> violations = validate(schedule);
  ASSERT_EQ(violations.size(), 1u) << describe(violations);
  EXPECT_EQ(violations[0].message, "stages 0 and 1 are both on this rank; no message is needed");
}

TEST(Validate, StopsAtTheRequestedNumberOfViolations) {
  Schedule schedule = generate_1f1b(4, 16);
  for (std::vector<Action>& program : schedule.programs) program.clear();
  EXPECT_EQ(validate(schedule, P2PMode::kBlocking, 5).size(), 5u);
  EXPECT_EQ(validate(schedule, P2PMode::kBlocking).size(), 100u);
}

TEST(ViolationKindName, NamesEveryKind) {
  EXPECT_STREQ(violation_kind_name(ViolationKind::kMalformed), "malformed");
  EXPECT_STREQ(violation_kind_name(ViolationKind::kChannelOrder), "channel_order");
  EXPECT_STREQ(violation_kind_name(ViolationKind::kDeadlock), "deadlock");
}

}  // namespace
}  // namespace dualpipe::schedule
