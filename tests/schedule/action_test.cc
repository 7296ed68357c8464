#include "dualpipe/schedule/action.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::schedule {
namespace {

TEST(Action, OpNamesRoundTrip) {
  for (Op op : {Op::F, Op::B, Op::I, Op::W, Op::FB, Op::SEND_F, Op::RECV_F, Op::SEND_B,
                Op::RECV_B}) {
    EXPECT_EQ(parse_op(op_name(op)), op);
  }
}

TEST(Action, UnknownOpNameIsRejected) { EXPECT_THROW(parse_op("X"), std::invalid_argument); }

TEST(Action, ComputeAndCommunicationArePartitioned) {
  EXPECT_TRUE(is_compute(Op::FB));
  EXPECT_FALSE(is_compute(Op::SEND_F));
  EXPECT_TRUE(is_communication(Op::RECV_B));
  EXPECT_FALSE(is_communication(Op::W));
}

TEST(Action, EqualityIgnoresFieldsTheOpDoesNotUse) {
  Action a = Action::compute(Op::F, {1, 2, 0});
  Action b = a;
  b.backward = {5, 5, 1};
  b.peer = 3;
  EXPECT_EQ(a, b);
  EXPECT_NE(Action::overlapped({1, 2, 0}, {0, 0, 1}), Action::overlapped({1, 2, 0}, {0, 1, 1}));
  EXPECT_NE(Action::communication(Op::SEND_F, {1, 2, 0}, 2),
            Action::communication(Op::SEND_F, {1, 2, 0}, 0));
}

TEST(Action, ToStringNamesBothHalvesOfAnOverlappedPair) {
  EXPECT_EQ(to_string(Action::overlapped({1, 3, 0}, {2, 0, 1})), "FB[F s1 m3 d0 | B s2 m0 d1]");
  EXPECT_EQ(to_string(Action::communication(Op::RECV_B, {0, 1, 0}, 1)), "RECV_B s0 m1 d0 peer 1");
}

}  // namespace
}  // namespace dualpipe::schedule
