#include "dualpipe/schedule/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/dependencies.h"

namespace dualpipe::schedule {
namespace {

// Things that happen once per chunk and that actions wait for: a piece of work finishing on its
// rank, or its result being sent to another rank.
enum class EventKind { kForwardDone, kBackwardDone, kWeightDone, kForwardSent, kBackwardSent };
constexpr int kEventKinds = 5;
constexpr double kNotYet = -1.0;  // event times are >= 0 once they happened

// Dense numbering of (event kind, direction, stage, micro-batch).
class EventTable {
 public:
  explicit EventTable(const Schedule& schedule)
      : directions_(schedule.num_directions()),
        stages_(schedule.num_stages),
        microbatches_(schedule.microbatches_per_direction()) {}

  std::size_t size() const { return static_cast<std::size_t>(kEventKinds) * chunks(); }

  bool in_range(const Chunk& chunk) const {
    return chunk.direction >= 0 && chunk.direction < directions_ && chunk.stage >= 0 &&
           chunk.stage < stages_ && chunk.microbatch >= 0 && chunk.microbatch < microbatches_;
  }

  std::size_t event(EventKind kind, const Chunk& chunk) const {
    const std::size_t chunk_slot =
        (static_cast<std::size_t>(chunk.direction) * static_cast<std::size_t>(stages_) +
         static_cast<std::size_t>(chunk.stage)) *
            static_cast<std::size_t>(microbatches_) +
        static_cast<std::size_t>(chunk.microbatch);
    return static_cast<std::size_t>(kind) * chunks() + chunk_slot;
  }

  EventKind kind_of(std::size_t event) const { return static_cast<EventKind>(event / chunks()); }

  Chunk chunk_of(std::size_t event) const {
    std::size_t slot = event % chunks();
    Chunk chunk;
    chunk.microbatch = static_cast<int>(slot % static_cast<std::size_t>(microbatches_));
    slot /= static_cast<std::size_t>(microbatches_);
    chunk.stage = static_cast<int>(slot % static_cast<std::size_t>(stages_));
    chunk.direction = static_cast<int>(slot / static_cast<std::size_t>(stages_));
    return chunk;
  }

 private:
  std::size_t chunks() const {
    return static_cast<std::size_t>(directions_) * static_cast<std::size_t>(stages_) *
           static_cast<std::size_t>(microbatches_);
  }

  int directions_;
  int stages_;
  int microbatches_;
};

EventKind done_event(Work work) {
  switch (work) {
    case Work::kForward: return EventKind::kForwardDone;
    case Work::kBackward: return EventKind::kBackwardDone;
    default: return EventKind::kWeightDone;
  }
}

EventKind sent_event(Work work) {
  return work == Work::kForward ? EventKind::kForwardSent : EventKind::kBackwardSent;
}

// "forward of s1 m3 d0" / "SEND of the backward of s2 m0 d1".
std::string describe(EventKind kind, const Chunk& chunk) {
  static constexpr std::array<const char*, kEventKinds> kNames = {
      "forward of ", "backward of ", "weight step of ", "SEND of the forward of ",
      "SEND of the backward of "};
  return kNames[static_cast<std::size_t>(kind)] +
         ("s" + std::to_string(chunk.stage) + " m" + std::to_string(chunk.microbatch) + " d" +
          std::to_string(chunk.direction));
}

// Checks the header fields the simulation relies on.
void check_header(const Schedule& schedule) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("cannot simulate the schedule: " + what);
  };
  if (schedule.num_ranks < 1) fail("it has no ranks");
  if (static_cast<int>(schedule.programs.size()) != schedule.num_ranks) {
    fail("it has " + std::to_string(schedule.programs.size()) + " programs for " +
         std::to_string(schedule.num_ranks) + " ranks");
  }
  if (schedule.num_stages < 1 || schedule.num_directions() < 1) fail("it has no stages");
  if (schedule.microbatches_per_direction() < 1) fail("it has no micro-batches");
  // Every chunk gets event slots; a header far larger than its programs would only waste memory.
  std::uint64_t actions = 0;
  for (const auto& program : schedule.programs) actions += program.size();
  const std::uint64_t chunks = static_cast<std::uint64_t>(schedule.num_directions()) *
                               static_cast<std::uint64_t>(schedule.num_stages) *
                               static_cast<std::uint64_t>(schedule.microbatches_per_direction());
  if (chunks > 64 * actions + 4096) {
    fail("its header declares " + std::to_string(chunks) +
         " chunks (directions x stages x micro-batches) for only " + std::to_string(actions) +
         " actions");
  }
  for (int d = 0; d < schedule.num_directions(); ++d) {
    const auto& placement = schedule.stage_rank[static_cast<std::size_t>(d)];
    if (static_cast<int>(placement.size()) != schedule.num_stages) {
      fail("direction " + std::to_string(d) + " places " + std::to_string(placement.size()) +
           " stages, expected " + std::to_string(schedule.num_stages));
    }
    for (int rank : placement) {
      if (rank < 0 || rank >= schedule.num_ranks) {
        fail("direction " + std::to_string(d) + " places a stage on rank " + std::to_string(rank) +
             ", outside 0.." + std::to_string(schedule.num_ranks - 1));
      }
    }
  }
}

// One event an action waits for, and how long after it the action may start.
struct Need {
  std::size_t event = 0;
  double delay = 0.0;
};

// At most three needs per action (an FB: its forward's input, its backward's input, the backward
// chunk's own forward).
struct Needs {
  std::array<Need, 3> items;
  int count = 0;
  void add(std::size_t event, double delay) {
    items[static_cast<std::size_t>(count++)] = {event, delay};
  }
};

// The event-driven run of one schedule.
class Simulator {
 public:
  Simulator(const Schedule& schedule, const CostModel& costs, const ActionDurations* durations)
      : schedule_(schedule),
        costs_(costs),
        durations_(durations),
        events_(schedule),
        with_communication_(has_communication(schedule)),
        transfer_time_(costs.p2p.transfer_time()),
        event_time_(events_.size(), kNotYet),
        first_waiter_(events_.size(), -1),
        next_waiter_(static_cast<std::size_t>(schedule.num_ranks), -1),
        awaited_(static_cast<std::size_t>(schedule.num_ranks), 0),
        position_(static_cast<std::size_t>(schedule.num_ranks), 0),
        clock_(static_cast<std::size_t>(schedule.num_ranks), 0.0) {
    timing_.resize(schedule.programs.size());
    for (std::size_t r = 0; r < schedule.programs.size(); ++r) {
      timing_[r].resize(schedule.programs[r].size());
    }
  }

  ScheduleTiming run() {
    for (int rank = schedule_.num_ranks - 1; rank >= 0; --rank) ready_.push_back(rank);
    int finished = 0;
    while (!ready_.empty()) {
      const int rank = ready_.back();
      ready_.pop_back();
      if (advance(rank)) ++finished;
    }
    if (finished < schedule_.num_ranks) report_deadlock();
    return std::move(timing_);
  }

 private:
  // Runs `rank`'s actions until one must wait (then registers as a waiter) or the program ends.
  // Returns true when the program ended.
  bool advance(int rank) {
    const auto r = static_cast<std::size_t>(rank);
    const std::vector<Action>& program = schedule_.programs[r];
    while (position_[r] < program.size()) {
      const Action& action = program[position_[r]];
      const Needs needs = needs_of(rank, action);
      double inputs_ready = clock_[r];
      for (int i = 0; i < needs.count; ++i) {
        const Need& need = needs.items[static_cast<std::size_t>(i)];
        if (event_time_[need.event] == kNotYet) {
          wait_for(rank, need.event);
          return false;
        }
        inputs_ready = std::max(inputs_ready, event_time_[need.event] + need.delay);
      }
      execute(rank, action, inputs_ready);
      ++position_[r];
    }
    return true;
  }

  // Times `action` (its inputs are there at `inputs_ready`) and records what it produces.
  void execute(int rank, const Action& action, double inputs_ready) {
    const auto r = static_cast<std::size_t>(rank);
    ActionTiming& timing = timing_[r][position_[r]];
    if (action.op == Op::kRecvF || action.op == Op::kRecvB) {
      timing = {clock_[r], inputs_ready - clock_[r]};  // waiting for the message is the RECV
    } else if (durations_ != nullptr && is_compute(action.op)) {
      timing = {inputs_ready, (*durations_)[r][position_[r]]};
    } else {
      timing = {inputs_ready, costs_.duration(action, rank)};
    }
    clock_[r] = timing.end();
    switch (action.op) {
      case Op::kRecvF:
      case Op::kRecvB: break;
      case Op::kSendF: happen(rank, EventKind::kForwardSent, action.chunk); break;
      case Op::kSendB: happen(rank, EventKind::kBackwardSent, action.chunk); break;
      case Op::kB:
        happen(rank, EventKind::kBackwardDone, action.chunk);
        happen(rank, EventKind::kWeightDone, action.chunk);
        break;
      default:
        for (const WorkItem& item : work_of(action))
          happen(rank, done_event(item.work), item.chunk);
    }
  }

  // Marks an event as happened at the rank's clock and wakes the ranks waiting for it.
  void happen(int rank, EventKind kind, const Chunk& chunk) {
    const std::size_t event = events_.event(kind, chunk);
    if (event_time_[event] != kNotYet) {
      throw std::invalid_argument("cannot simulate the schedule: " + where(rank) + " repeats the " +
                                  describe(kind, chunk) + ", done earlier");
    }
    event_time_[event] = clock_[static_cast<std::size_t>(rank)];
    for (int waiter = first_waiter_[event]; waiter != -1;) {
      const int next = next_waiter_[static_cast<std::size_t>(waiter)];
      ready_.push_back(waiter);
      waiter = next;
    }
    first_waiter_[event] = -1;
  }

  void wait_for(int rank, std::size_t event) {
    const auto r = static_cast<std::size_t>(rank);
    awaited_[r] = event;
    next_waiter_[r] = first_waiter_[event];
    first_waiter_[event] = rank;
  }

  // The events `action` on `rank` waits for. Throws for an action outside the schedule's ranges
  // or on a rank that does not hold its stage.
  Needs needs_of(int rank, const Action& action) {
    check_chunk(rank, action.chunk);
    if (action.op == Op::kFB) check_chunk(rank, action.backward);
    Needs needs;
    switch (action.op) {
      case Op::kSendF: needs.add(events_.event(EventKind::kForwardDone, action.chunk), 0.0); break;
      case Op::kSendB: needs.add(events_.event(EventKind::kBackwardDone, action.chunk), 0.0); break;
      case Op::kRecvF: add_message(rank, WorkItem{Work::kForward, action.chunk}, needs); break;
      case Op::kRecvB: add_message(rank, WorkItem{Work::kBackward, action.chunk}, needs); break;
      default:
        for (const WorkItem& item : work_of(action)) add_inputs(rank, item, needs);
    }
    return needs;
  }

  // Needs of compute work `item`: its input (same rank: when produced; other rank: when sent, plus
  // the transfer) and, for a backward, its own forward.
  void add_inputs(int rank, const WorkItem& item, Needs& needs) {
    const std::optional<WorkItem> input = input_of(schedule_, item);
    if (input) {
      if (schedule_.rank_of(input->chunk) == rank) {
        needs.add(events_.event(done_event(input->work), input->chunk), 0.0);
      } else {
        const EventKind kind =
            with_communication_ ? sent_event(input->work) : done_event(input->work);
        needs.add(events_.event(kind, input->chunk), transfer_time_);
      }
    }
    if (item.work == Work::kBackward && !schedule_.is_last_stage(item.chunk)) {
      needs.add(events_.event(EventKind::kForwardDone, item.chunk), 0.0);
    }
  }

  // A RECV of the input of `consumer` waits for that input's SEND plus the transfer.
  void add_message(int rank, const WorkItem& consumer, Needs& needs) {
    const std::optional<WorkItem> input = input_of(schedule_, consumer);
    if (!input || schedule_.rank_of(input->chunk) == rank) {
      throw std::invalid_argument("cannot simulate the schedule: " + where(rank) +
                                  " receives an input that comes from no other rank");
    }
    needs.add(events_.event(sent_event(input->work), input->chunk), transfer_time_);
  }

  void check_chunk(int rank, const Chunk& chunk) {
    if (!events_.in_range(chunk)) {
      throw std::invalid_argument("cannot simulate the schedule: " + where(rank) +
                                  " names a stage, micro-batch or direction outside the schedule");
    }
    if (schedule_.rank_of(chunk) != rank) {
      throw std::invalid_argument("cannot simulate the schedule: " + where(rank) + " runs stage " +
                                  std::to_string(chunk.stage) + " of direction " +
                                  std::to_string(chunk.direction) + ", which is placed on rank " +
                                  std::to_string(schedule_.rank_of(chunk)));
    }
  }

  // "rank 2, position 17 (B s1 m3 d0)" for the action `rank` is at.
  std::string where(int rank) const {
    const std::size_t position = position_[static_cast<std::size_t>(rank)];
    return "rank " + std::to_string(rank) + ", position " + std::to_string(position) + " (" +
           to_string(schedule_.programs[static_cast<std::size_t>(rank)][position]) + ")";
  }

  // Throws a one-line description of up to three blocked ranks.
  [[noreturn]] void report_deadlock() const {
    const WorkIndex index(schedule_);
    std::string message = "schedule deadlocks:";
    int listed = 0;
    int blocked = 0;
    for (int rank = 0; rank < schedule_.num_ranks; ++rank) {
      const auto r = static_cast<std::size_t>(rank);
      if (position_[r] == schedule_.programs[r].size()) continue;
      ++blocked;
      if (listed == 3) continue;
      const EventKind kind = events_.kind_of(awaited_[r]);
      const Chunk chunk = events_.chunk_of(awaited_[r]);
      message += std::string(listed++ ? ";" : "") + " " + where(rank) + " waits for the " +
                 describe(kind, chunk);
      if (!performed_anywhere(index, kind, chunk)) message += ", which no rank's program has";
    }
    if (blocked > listed) message += "; and " + std::to_string(blocked - listed) + " more ranks";
    throw std::invalid_argument(message);
  }

  bool performed_anywhere(const WorkIndex& index, EventKind kind, const Chunk& chunk) const {
    if (kind == EventKind::kForwardSent || kind == EventKind::kBackwardSent) {
      const Op send = kind == EventKind::kForwardSent ? Op::kSendF : Op::kSendB;
      for (const auto& program : schedule_.programs) {
        for (const Action& action : program) {
          if (action.op == send && action.chunk == chunk) return true;
        }
      }
      return false;
    }
    const Work work = kind == EventKind::kForwardDone    ? Work::kForward
                      : kind == EventKind::kBackwardDone ? Work::kBackward
                                                         : Work::kWeight;
    return index.find(WorkItem{work, chunk}).has_value();
  }

  const Schedule& schedule_;
  const CostModel& costs_;
  const ActionDurations* durations_;  // measured compute durations, or null: priced by costs_
  EventTable events_;
  bool with_communication_;
  double transfer_time_;
  std::vector<double> event_time_;     // [event] when it happened, kNotYet before
  std::vector<int> first_waiter_;      // [event] head of the list of ranks waiting for it
  std::vector<int> next_waiter_;       // [rank] next rank waiting for the same event
  std::vector<std::size_t> awaited_;   // [rank] the event a blocked rank waits for
  std::vector<std::size_t> position_;  // [rank] index of the next action to run
  std::vector<double> clock_;          // [rank] when the rank is free
  std::vector<int> ready_;             // ranks that may be able to advance
  ScheduleTiming timing_;
};

// Simulates after the checks; `durations` may be null.
Simulation run_simulation(const Schedule& schedule, const CostModel& costs,
                          const ActionDurations* durations) {
  Simulation simulation;
  simulation.timed.timing = Simulator(schedule, costs, durations).run();
  simulation.timed.schedule = schedule;
  simulation.timed.time_unit = costs.time_unit;
  simulation.summary = summarize(simulation.timed);
  return simulation;
}

}  // namespace

Simulation simulate(const Schedule& schedule, const CostModel& costs,
                    const ActionDurations& durations) {
  check_header(schedule);
  check_cost_model(costs);
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("cannot simulate the schedule with the given durations: " + what);
  };
  if (durations.size() != schedule.programs.size()) {
    fail(std::to_string(durations.size()) + " ranks of durations for " +
         std::to_string(schedule.programs.size()) + " programs");
  }
  for (std::size_t r = 0; r < durations.size(); ++r) {
    if (durations[r].size() != schedule.programs[r].size()) {
      fail("rank " + std::to_string(r) + " has " + std::to_string(durations[r].size()) +
           " durations for " + std::to_string(schedule.programs[r].size()) + " actions");
    }
    for (double duration : durations[r]) {
      if (!std::isfinite(duration) || duration < 0) {
        fail("rank " + std::to_string(r) + " has a negative or non-finite duration");
      }
    }
  }
  return run_simulation(schedule, costs, &durations);
}

Simulation simulate(const Schedule& schedule, const CostModel& costs) {
  check_header(schedule);
  check_cost_model(costs);
  if (!costs.stages.empty() && static_cast<int>(costs.stages.size()) != schedule.num_stages) {
    throw std::invalid_argument("cost model lists " + std::to_string(costs.stages.size()) +
                                " stages but the schedule has " +
                                std::to_string(schedule.num_stages));
  }
  if (!costs.rank_slowdown.empty() &&
      static_cast<int>(costs.rank_slowdown.size()) != schedule.num_ranks) {
    throw std::invalid_argument(
        "cost model lists a slowdown for " + std::to_string(costs.rank_slowdown.size()) +
        " ranks but the schedule has " + std::to_string(schedule.num_ranks));
  }
  return run_simulation(schedule, costs, nullptr);
}

ScheduleSummary summarize(const TimedSchedule& timed) {
  const Schedule& schedule = timed.schedule;
  ScheduleSummary summary;
  summary.busy_per_rank.assign(schedule.programs.size(), 0.0);
  bool any = false;
  double first_start = 0.0;
  double last_end = 0.0;
  for (std::size_t r = 0; r < schedule.programs.size() && r < timed.timing.size(); ++r) {
    const auto& program = schedule.programs[r];
    for (std::size_t i = 0; i < program.size() && i < timed.timing[r].size(); ++i) {
      const ActionTiming& timing = timed.timing[r][i];
      first_start = any ? std::min(first_start, timing.start) : timing.start;
      last_end = any ? std::max(last_end, timing.end()) : timing.end();
      any = true;
      if (is_compute(program[i].op)) summary.busy_per_rank[r] += timing.duration;
    }
  }
  summary.step_time = any ? last_end - first_start : 0.0;
  for (double busy : summary.busy_per_rank)
    summary.bubble_per_rank.push_back(summary.step_time - busy);
  summary.peak_activations_per_rank = peak_activations(schedule);
  summary.parameter_copies_per_rank = parameter_copies(schedule);
  return summary;
}

std::vector<int> peak_activations(const Schedule& schedule) {
  std::vector<int> peaks;
  peaks.reserve(schedule.programs.size());
  for (const auto& program : schedule.programs) {
    int held = 0;
    int peak = 0;
    for (const Action& action : program) {
      if (action.op == Op::kF || action.op == Op::kFB) peak = std::max(peak, ++held);
      if (action.op == Op::kB || action.op == Op::kI || action.op == Op::kFB) --held;
    }
    peaks.push_back(peak);
  }
  return peaks;
}

std::vector<int> parameter_copies(const Schedule& schedule) {
  std::vector<int> copies(static_cast<std::size_t>(std::max(schedule.num_ranks, 0)), 0);
  for (const auto& placement : schedule.stage_rank) {
    for (int rank : placement) {
      if (rank >= 0 && rank < schedule.num_ranks) ++copies[static_cast<std::size_t>(rank)];
    }
  }
  return copies;
}

}  // namespace dualpipe::schedule
