#include "messages.h"

namespace dualpipe::schedule::detail {

Message message_of(const Action& communication) {
  Message message{communication.op == Op::SEND_B || communication.op == Op::RECV_B,
                  communication.chunk};
  if (communication.op == Op::RECV_F) --message.producer.stage;
  if (communication.op == Op::RECV_B) ++message.producer.stage;
  return message;
}

Chunk consumer_of(const Message& message) {
  Chunk consumer = message.producer;
  consumer.stage += message.gradient ? -1 : 1;
  return consumer;
}

std::optional<Message> message_into(const Schedule& schedule, const WorkItem& item) {
  if (item.work == Work::forward && !schedule.is_first_stage(item.chunk)) {
    Chunk producer = item.chunk;
    --producer.stage;
    return Message{false, producer};
  }
  if (item.work == Work::backward && !schedule.is_last_stage(item.chunk)) {
    Chunk producer = item.chunk;
    ++producer.stage;
    return Message{true, producer};
  }
  return std::nullopt;
}

Action send_action(const Schedule& schedule, const Message& message) {
  return Action::communication(message.gradient ? Op::SEND_B : Op::SEND_F, message.producer,
                               schedule.rank_of(consumer_of(message)));
}

Action recv_action(const Schedule& schedule, const Message& message) {
  return Action::communication(message.gradient ? Op::RECV_B : Op::RECV_F, consumer_of(message),
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
