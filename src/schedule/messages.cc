#include "messages.h"

namespace dualpipe::schedule::detail {

Message message_of(const Action& communication) {
  Message message{communication.op == Op::kSendB || communication.op == Op::kRecvB,
                  communication.chunk};
  if (communication.op == Op::kRecvF) --message.producer.stage;
  if (communication.op == Op::kRecvB) ++message.producer.stage;
  return message;
}

Chunk consumer_of(const Message& message) {
  Chunk consumer = message.producer;
  consumer.stage += message.gradient ? -1 : 1;
  return consumer;
}

std::optional<Message> message_into(const Schedule& schedule, const WorkItem& item) {
  if (item.work == Work::kForward && !schedule.is_first_stage(item.chunk)) {
    Chunk producer = item.chunk;
    --producer.stage;
    return Message{false, producer};
  }
  if (item.work == Work::kBackward && !schedule.is_last_stage(item.chunk)) {
    Chunk producer = item.chunk;
    ++producer.stage;
    return Message{true, producer};
  }
  return std::nullopt;
}

Action send_action(const Schedule& schedule, const Message& message) {
  return Action::communication(message.gradient ? Op::kSendB : Op::kSendF, message.producer,
                               schedule.rank_of(consumer_of(message)));
}

Action recv_action(const Schedule& schedule, const Message& message) {
  return Action::communication(message.gradient ? Op::kRecvB : Op::kRecvF, consumer_of(message),
                               schedule.rank_of(message.producer));
}

MessageSlots::MessageSlots(const Schedule& schedule)
    : num_directions_(schedule.num_directions()),
      num_stages_(schedule.num_stages),
      microbatches_(schedule.microbatches_per_direction()) {
  if (num_directions_ > 0 && num_stages_ > 0 && microbatches_ > 0) {
    chunks_ = static_cast<std::size_t>(num_directions_) * num_stages_ * microbatches_;
  }
}

std::size_t MessageSlots::slot(const Message& message) const {
  const Chunk& c = message.producer;
  if (c.direction < 0 || c.direction >= num_directions_ || c.stage < 0 || c.stage >= num_stages_ ||
      c.microbatch < 0 || c.microbatch >= microbatches_) {
    return size();
  }
  const std::size_t chunk =
      (static_cast<std::size_t>(c.direction) * num_stages_ + c.stage) * microbatches_ +
      c.microbatch;
  return (message.gradient ? chunks_ : 0) + chunk;
}

}  // namespace dualpipe::schedule::detail
