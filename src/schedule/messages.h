// Point-to-point messages between stages (private to the library): which data a SEND_/RECV_
// action moves, which message feeds a piece of work, and a dense numbering of all messages.
#pragma once

#include <optional>

#include "dualpipe/schedule/dependencies.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule::detail {

// A forward activation (from stage s to s+1) or an input gradient (from stage s to s-1), named by
// the chunk that produces it.
struct Message {
  bool gradient = false;
  Chunk producer;
};

// The message a SEND_/RECV_ action moves (RECV_F of stage s carries the activation of s-1,
// RECV_B of stage s the gradient of s+1).
Message message_of(const Action& communication);

// The chunk that consumes `message` (the stage after, or before, its producer).
Chunk consumer_of(const Message& message);

// The message that brings `item`'s cross-stage input, if its input comes from another stage:
// the forward of stage s > 0 needs the activation of s-1, the backward of stage s < last the
// gradient of s+1.
std::optional<Message> message_into(const Schedule& schedule, const WorkItem& item);

// The SEND_ (on the producer's rank) and RECV_ (on the consumer's rank) actions of `message`.
Action send_action(const Schedule& schedule, const Message& message);
Action recv_action(const Schedule& schedule, const Message& message);

// Dense numbering of all messages of a schedule, for flat per-message tables.
class MessageSlots {
 public:
  explicit MessageSlots(const Schedule& schedule);
  std::size_t size() const { return 2 * chunks_; }
  // Slot of `message`, or size() when its producer is out of range.
  std::size_t slot(const Message& message) const;

 private:
  int num_directions_ = 0;
  int num_stages_ = 0;
  int microbatches_ = 0;
  std::size_t chunks_ = 0;
};

}  // namespace dualpipe::schedule::detail
