#include "dualpipe/schedule/action.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::schedule {
namespace {

TEST(Action, OpNamesRoundTrip) {
  for (Op op :
       {Op::kF, Op::kB, Op::kI, Op::kW, Op::kFB, Op::kSendF, Op::kRecvF, Op::kSendB, Op::kRecvB}) {
    EXPECT_EQ(parse_op(op_name(op)), op);
  }
}

TEST(Action, UnknownOpNameIsRejected) { EXPECT_THROW(parse_op("X"), std::invalid_argument); }

TEST(Action, ComputeAndCommunicationArePartitioned) {
  EXPECT_TRUE(is_compute(Op::kFB));
  EXPECT_FALSE(is_compute(Op::kSendF));
  EXPECT_TRUE(is_communication(Op::kRecvB));
  EXPECT_FALSE(is_communication(Op::kW));
}

TEST(Action, EqualityIgnoresFieldsTheOpDoesNotUse) {
  Action a = Action::compute(Op::kF, {1, 2, 0});
  Action b = a;
  b.backward = {5, 5, 1};
  b.peer = 3;
  EXPECT_EQ(a, b);
  EXPECT_NE(Action::overlapped({1, 2, 0}, {0, 0, 1}), Action::overlapped({1, 2, 0}, {0, 1, 1}));
  EXPECT_NE(Action::communication(Op::kSendF, {1, 2, 0}, 2),
            Action::communication(Op::kSendF, {1, 2, 0}, 0));
}

TEST(Action, ToStringNamesBothHalvesOfAnOverlappedPair) {
  EXPECT_EQ(to_string(Action::overlapped({1, 3, 0}, {2, 0, 1})), "FB[F s1 m3 d0 | B s2 m0 d1]");
  EXPECT_EQ(to_string(Action::communication(Op::kRecvB, {0, 1, 0}, 1)), "RECV_B s0 m1 d0 peer 1");
}

}  // namespace
}  // namespace dualpipe::schedule
