#include "dualpipe/schedule/message_bundles.h"

#include "messages.h"

namespace dualpipe::schedule {
namespace {

bool is_send(Op op) { return op == Op::kSendF || op == Op::kSendB; }

// Position of every message's SEND_ (sends) or RECV_ (receives) action in its rank's program,
// indexed by MessageSlots; -1 where the schedule has none.
std::vector<int> message_positions(const Schedule& schedule, const detail::MessageSlots& slots,
                                   bool sends) {
  std::vector<int> positions(slots.size(), -1);
  for (const std::vector<Action>& program : schedule.programs) {
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& action = program[i];
      if (!is_communication(action.op) || is_send(action.op) != sends) continue;
      const std::size_t slot = slots.slot(detail::message_of(action));
      if (slot < positions.size()) positions[slot] = static_cast<int>(i);
    }
  }
  return positions;
}

}  // namespace

std::vector<int> message_bundles(const Schedule& schedule, int rank) {
  const std::vector<Action>& program = schedule.programs.at(static_cast<std::size_t>(rank));
  const detail::MessageSlots slots(schedule);
  const std::vector<int> send_positions = message_positions(schedule, slots, true);
  const std::vector<int> recv_positions = message_positions(schedule, slots, false);
  // Where the peer handles the message of program[i] (its RECV_ for a SEND_, and the reverse).
  const auto peer_position = [&](std::size_t i) {
    const std::size_t slot = slots.slot(detail::message_of(program[i]));
    const std::vector<int>& positions = is_send(program[i].op) ? recv_positions : send_positions;
    return slot < positions.size() ? positions[slot] : -1;
  };
  std::vector<int> lengths(program.size(), 1);
  std::size_t i = 0;
  while (i < program.size()) {
    std::size_t end = i + 1;
    if (is_communication(program[i].op)) {
      while (end < program.size() && is_communication(program[end].op) &&
             is_send(program[end].op) == is_send(program[i].op) &&
             program[end].peer == program[i].peer && peer_position(end - 1) >= 0 &&
             peer_position(end) == peer_position(end - 1) + 1) {
        lengths[end++] = 0;
      }
    }
    lengths[i] = static_cast<int>(end - i);
    i = end;
  }
  return lengths;
}

}  // namespace dualpipe::schedule
