#include "dualpipe/schedule/communication.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::schedule {
namespace {

std::vector<std::string> texts(const std::vector<Action>& program) {
  std::vector<std::string> result;
  for (const Action& action : program) result.push_back(to_string(action));
  return result;
}

int count(const Schedule& schedule, Op op) {
  int n = 0;
  for (const std::vector<Action>& program : schedule.programs) {
    for (const Action& action : program) n += action.op == op;
  }
  return n;
}

TEST(WithCommunication, SendsAfterTheProducerAndReceivesInOneGlobalOrder) {
  const Schedule schedule = with_communication(generate_1f1b(2, 2));
  EXPECT_EQ(texts(schedule.programs[0]),
            (std::vector<std::string>{"F s0 m0 d0", "SEND_F s0 m0 d0 peer 1", "F s0 m1 d0",
                                      "SEND_F s0 m1 d0 peer 1", "RECV_B s0 m0 d0 peer 1",
                                      "B s0 m0 d0", "RECV_B s0 m1 d0 peer 1", "B s0 m1 d0"}));
  EXPECT_EQ(texts(schedule.programs[1]),
            (std::vector<std::string>{
                "RECV_F s1 m0 d0 peer 0", "F s1 m0 d0", "RECV_F s1 m1 d0 peer 0", "B s1 m0 d0",
                "SEND_B s1 m0 d0 peer 0", "F s1 m1 d0", "B s1 m1 d0", "SEND_B s1 m1 d0 peer 0"}));
}

TEST(WithCommunication, AddsOneMessagePairPerCrossRankDependency) {
  const Schedule schedule = with_communication(generate_zb1p(4, 8));
  for (Op op : {Op::kSendF, Op::kRecvF, Op::kSendB, Op::kRecvB}) {
    EXPECT_EQ(count(schedule, op), 3 * 8) << op_name(op);
  }
  EXPECT_EQ(without_communication(schedule).programs, generate_zb1p(4, 8).programs);
}

TEST(WithCommunication, ExchangesNothingBetweenStagesOfOneRank) {
  EXPECT_FALSE(has_communication(with_communication(generate_dualpipev(1, 4))));
  // DualPipeV on 2 ranks: 4 stages, the turn (stages 1 -> 2) stays on rank 1.
  const Schedule v = with_communication(generate_dualpipev(2, 4));
  EXPECT_EQ(count(v, Op::kSendF), 2 * 4);
  EXPECT_EQ(count(v, Op::kSendB), 2 * 4);
}

TEST(WithCommunication, SendsBothHalvesOfAnOverlappedPair) {
  const Schedule schedule = with_communication(generate_dualpipe(4, 8));
  EXPECT_EQ(count(schedule, Op::kSendF), 2 * 3 * 4);
  EXPECT_EQ(count(schedule, Op::kRecvB), 2 * 3 * 4);
}

TEST(WithCommunication, ReplacesExistingCommunication) {
  const Schedule once = with_communication(generate_dualpipe(4, 8));
  EXPECT_EQ(with_communication(once).programs, once.programs);
}

TEST(WithCommunication, IsDeadlockFreeUnderBlockingP2PForLargeSchedules) {
  for (const std::string& name : schedule_names()) {
    const Schedule schedule = with_communication(generate_schedule(name, 8, 64, 3));
    const std::vector<Violation> violations = validate(schedule, P2PMode::kBlocking);
    EXPECT_TRUE(violations.empty()) << name << ": " << to_string(violations.front());
  }
}

TEST(WithCommunication, RefusesAnInvalidComputeSchedule) {
  Schedule schedule = generate_1f1b(2, 2);
  schedule.programs[1].pop_back();
  try {
    with_communication(schedule);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot derive communication: rank 1 (B s1 m1 d0): missing: backward (B, I or FB) "
              "of s1 m1 d0 never runs");
  }
}

TEST(HasCommunication, IsFalseForGeneratedSchedules) {
  EXPECT_FALSE(has_communication(generate_gpipe(3, 3)));
  EXPECT_TRUE(has_communication(with_communication(generate_gpipe(3, 3))));
}

}  // namespace
}  // namespace dualpipe::schedule
