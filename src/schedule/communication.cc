#include "dualpipe/schedule/communication.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <tuple>

#include "dualpipe/schedule/dependencies.h"
#include "dualpipe/schedule/validator.h"
#include "messages.h"
#include "program_execution.h"

namespace dualpipe::schedule {
namespace {

// Nominal durations used only to order messages: F, I and W take 1, B 2, FB 3.
std::int64_t nominal_duration(Op op) {
  switch (op) {
    case Op::kB: return 2;
    case Op::kFB: return 3;
    default: return 1;
  }
}

// One message and the moment it can first be sent; all ranks order their messages by `key`.
struct TimedMessage {
  std::tuple<std::int64_t, int, int, int> key;  // producer end, producer rank, position, half
  detail::Message message;
};

// Start and end of every compute action in an as-soon-as-possible run with nominal durations.
struct NominalTimes {
  std::vector<std::vector<std::int64_t>> start;
  std::vector<std::vector<std::int64_t>> end;
};

NominalTimes nominal_times(const Schedule& compute, const WorkIndex& index) {
  NominalTimes times;
  std::vector<std::int64_t> rank_free(compute.num_ranks, 0);
  for (const std::vector<Action>& program : compute.programs) {
    times.start.emplace_back(program.size(), 0);
    times.end.emplace_back(program.size(), 0);
  }
  const auto cross_rank_inputs = [&](int rank, int position, auto&& visit) {
    for (const WorkItem& item : work_of(compute.programs[rank][position])) {
      const std::optional<WorkItem> input = input_of(compute, item);
      const std::optional<ActionRef> producer = input ? index.find(*input) : std::nullopt;
      if (producer && producer->rank != rank) visit(*producer);
    }
  };
  detail::execute_programs(
      compute,
      [&](int rank, int position, std::vector<detail::Wait>& waits) {
        cross_rank_inputs(rank, position, [&](const ActionRef& producer) {
          waits.push_back({detail::Wait::Kind::kPassed, producer});
        });
      },
      [&](int rank, int position) {
        std::int64_t start = rank_free[rank];
        cross_rank_inputs(rank, position, [&](const ActionRef& producer) {
          start = std::max(start, times.end[producer.rank][producer.position]);
        });
        times.start[rank][position] = start;
        rank_free[rank] = times.end[rank][position] =
            start + nominal_duration(compute.programs[rank][position].op);
      });
  return times;
}

// Every message that crosses ranks, in the global order all ranks will follow.
std::vector<TimedMessage> ordered_messages(const Schedule& compute, const NominalTimes& times) {
  std::vector<TimedMessage> messages;
  for (int rank = 0; rank < compute.num_ranks; ++rank) {
    const std::vector<Action>& program = compute.programs[rank];
    for (int position = 0; position < static_cast<int>(program.size()); ++position) {
      const WorkItems items = work_of(program[position]);
      for (int half = 0; half < static_cast<int>(items.size()); ++half) {
        const WorkItem& item = items[half];
        if (item.work == Work::kWeight) continue;
        const detail::Message message{item.work == Work::kBackward, item.chunk};
        const Chunk consumer = detail::consumer_of(message);
        if (consumer.stage < 0 || consumer.stage >= compute.num_stages) continue;
        if (compute.rank_of(consumer) == rank) continue;
        messages.push_back({{times.end[rank][position], rank, position, half}, message});
      }
    }
  }
  std::sort(messages.begin(), messages.end(),
            [](const TimedMessage& a, const TimedMessage& b) { return a.key < b.key; });
  return messages;
}

}  // namespace

Schedule with_communication(const Schedule& schedule) {
  Schedule compute = without_communication(schedule);
  const std::vector<Violation> violations = validate(compute, P2PMode::kAsynchronous, 1);
  if (!violations.empty()) {
    throw std::invalid_argument("cannot derive communication: " + to_string(violations.front()));
  }
  const WorkIndex index(compute);
  const NominalTimes times = nominal_times(compute, index);

  // Each rank's messages, in the global order, with the time they are ready.
  const std::vector<TimedMessage> messages = ordered_messages(compute, times);
  std::vector<std::vector<std::pair<std::int64_t, Action>>> rank_messages(compute.num_ranks);
  for (auto& list : rank_messages) list.reserve(2 * messages.size() / compute.num_ranks + 16);
  for (const TimedMessage& timed : messages) {
    const std::int64_t ready = std::get<0>(timed.key);
    const int sender = compute.rank_of(timed.message.producer);
    const int receiver = compute.rank_of(detail::consumer_of(timed.message));
    rank_messages[sender].emplace_back(ready, detail::send_action(compute, timed.message));
    rank_messages[receiver].emplace_back(ready, detail::recv_action(compute, timed.message));
  }

  // Merge: a message goes before the first compute action that starts at or after it is ready.
  for (int rank = 0; rank < compute.num_ranks; ++rank) {
    const std::vector<Action>& program = compute.programs[rank];
    const auto& messages = rank_messages[rank];
    std::vector<Action> merged;
    merged.reserve(program.size() + messages.size());
    std::size_t next_message = 0;
    for (std::size_t position = 0; position < program.size(); ++position) {
      while (next_message < messages.size() &&
             messages[next_message].first <= times.start[rank][position]) {
        merged.push_back(messages[next_message++].second);
      }
      merged.push_back(program[position]);
    }
    for (; next_message < messages.size(); ++next_message) {
      merged.push_back(messages[next_message].second);
    }
    compute.programs[rank] = std::move(merged);
  }
  return compute;
}

Schedule without_communication(const Schedule& schedule) {
  Schedule result = schedule;
  for (std::vector<Action>& program : result.programs) {
    program.erase(std::remove_if(program.begin(), program.end(),
                                 [](const Action& action) { return is_communication(action.op); }),
                  program.end());
  }
  return result;
}

bool has_communication(const Schedule& schedule) {
  for (const std::vector<Action>& program : schedule.programs) {
    for (const Action& action : program) {
      if (is_communication(action.op)) return true;
    }
  }
  return false;
}

}  // namespace dualpipe::schedule
