#include "messages.h"

#include <gtest/gtest.h>

#include <set>

#include "dualpipe/schedule/generators.h"

namespace dualpipe::schedule::detail {
namespace {

TEST(MessageOf, NamesTheProducerForBothEnds) {
  const Message sent = message_of(Action::communication(Op::kSendF, {1, 2, 0}, 2));
  const Message received = message_of(Action::communication(Op::kRecvF, {2, 2, 0}, 1));
  EXPECT_FALSE(sent.gradient);
  EXPECT_EQ(sent.producer, received.producer);
  const Message gradient = message_of(Action::communication(Op::kRecvB, {1, 0, 1}, 2));
  EXPECT_TRUE(gradient.gradient);
  EXPECT_EQ(gradient.producer, (Chunk{2, 0, 1}));
  EXPECT_EQ(consumer_of(gradient), (Chunk{1, 0, 1}));
}

TEST(MessageInto, OnlyCrossStageInputsTravel) {
  const Schedule schedule = generate_1f1b(3, 2);
  EXPECT_FALSE(message_into(schedule, {Work::kForward, {0, 0, 0}}));
  EXPECT_FALSE(message_into(schedule, {Work::kBackward, {2, 0, 0}}));
  EXPECT_FALSE(message_into(schedule, {Work::kWeight, {1, 0, 0}}));
  EXPECT_EQ(message_into(schedule, {Work::kBackward, {1, 1, 0}})->producer, (Chunk{2, 1, 0}));
}

TEST(SendAndRecvAction, TakePeersFromThePlacement) {
  const Schedule schedule = generate_dualpipe(4, 8);
  const Message message{true, {2, 1, 1}};  // direction 1, stage 2 runs on rank 1
  EXPECT_EQ(send_action(schedule, message), Action::communication(Op::kSendB, {2, 1, 1}, 2));
  EXPECT_EQ(recv_action(schedule, message), Action::communication(Op::kRecvB, {1, 1, 1}, 1));
}

TEST(MessageSlots, NumbersEveryMessageOnceAndRejectsOutOfRange) {
  const Schedule schedule = generate_dualpipe(2, 4);
  const MessageSlots slots(schedule);
  std::set<std::size_t> seen;
  for (bool gradient : {false, true}) {
    for (int d = 0; d < 2; ++d) {
      for (int s = 0; s < 2; ++s) {
        for (int m = 0; m < 2; ++m) seen.insert(slots.slot({gradient, {s, m, d}}));
      }
    }
  }
  EXPECT_EQ(seen.size(), slots.size());
  EXPECT_EQ(*seen.rbegin(), slots.size() - 1);
  EXPECT_EQ(slots.slot({false, {2, 0, 0}}), slots.size());
  EXPECT_EQ(slots.slot({false, {0, -1, 0}}), slots.size());
}

}  // namespace
}  // namespace dualpipe::schedule::detail
