#include "dualpipe/schedule/validator.h"

#include <algorithm>
#include <array>
#include <optional>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/dependencies.h"
#include "messages.h"
#include "program_execution.h"

namespace dualpipe::schedule {
namespace {

constexpr std::array<const char*, 8> kKindNames = {"malformed",     "wrong_rank", "duplicate",
                                                   "missing",       "order",      "unmatched",
                                                   "channel_order", "deadlock"};

std::string chunk_text(const Chunk& chunk) {
  return "s" + std::to_string(chunk.stage) + " m" + std::to_string(chunk.microbatch) + " d" +
         std::to_string(chunk.direction);
}

std::string work_text(const WorkItem& item) {
  static constexpr std::array<const char*, 3> kWorkNames = {"forward", "backward", "weight step"};
  return std::string(kWorkNames.at(static_cast<std::size_t>(item.work))) + " of " +
         chunk_text(item.chunk);
}

std::string position_text(int position) { return "position " + std::to_string(position); }

// One validation run: the checks share the schedule, the work index, the message tables and a
// per-action "usable" flag (actions with a structural fault are skipped by later checks).
class Validator {
 public:
  Validator(const Schedule& schedule, P2PMode mode, std::size_t max_violations)
      : schedule_(schedule),
        mode_(mode),
        max_violations_(std::max<std::size_t>(1, max_violations)) {}

  std::vector<Violation> run() {
    if (check_header()) {
      communicating_ = has_communication(schedule_);
      check_actions();
      index_.emplace(schedule_);
      check_work();
      check_missing_work();
      if (communicating_) {
        index_messages();
        check_message_placement();
        check_channel_order();
      }
      check_execution();
    }
    std::stable_sort(
        violations_.begin(), violations_.end(), [](const Violation& a, const Violation& b) {
          return std::make_pair(a.rank, a.position) < std::make_pair(b.rank, b.position);
        });
    return std::move(violations_);
  }

 private:
  bool full() const { return violations_.size() >= max_violations_; }

  void add(ViolationKind kind, int rank, int position, const Action& action, std::string message) {
    if (full()) return;
    violations_.push_back(Violation{kind, rank, position, action, std::move(message)});
  }

  void add_at(ViolationKind kind, const ActionRef& ref, std::string message) {
    add(kind, ref.rank, ref.position, action_at(ref), std::move(message));
  }

  void add_global(std::string message) {
    add(ViolationKind::kMalformed, -1, -1, Action{}, std::move(message));
  }

  const Action& action_at(const ActionRef& ref) const {
    return schedule_.programs[ref.rank][ref.position];
  }

  bool in_range(const Chunk& chunk) const {
    return chunk.direction >= 0 && chunk.direction < schedule_.num_directions() &&
           chunk.stage >= 0 && chunk.stage < schedule_.num_stages && chunk.microbatch >= 0 &&
           chunk.microbatch < schedule_.microbatches_per_direction();
  }

  std::string range_text() const {
    return "(stages 0.." + std::to_string(schedule_.num_stages - 1) + ", micro-batches 0.." +
           std::to_string(schedule_.microbatches_per_direction() - 1) + ", directions 0.." +
           std::to_string(schedule_.num_directions() - 1) + ")";
  }

  // --- header ---------------------------------------------------------------------------------

  bool check_header() {
    const Schedule& s = schedule_;
    if (s.num_ranks < 1) add_global("needs at least 1 rank, has " + std::to_string(s.num_ranks));
    if (static_cast<int>(s.programs.size()) != s.num_ranks) {
      add_global("has " + std::to_string(s.programs.size()) + " programs for " +
                 std::to_string(s.num_ranks) + " ranks");
    }
    if (s.num_stages < 1) add_global("needs at least 1 stage, has " + std::to_string(s.num_stages));
    if (s.stage_rank.empty()) add_global("has no stage placement (no direction)");
    if (s.num_microbatches < 0 ||
        (!s.stage_rank.empty() && s.num_microbatches % s.num_directions() != 0)) {
      add_global(std::to_string(s.num_microbatches) + " micro-batches do not split evenly over " +
                 std::to_string(s.num_directions()) + " directions");
    }
    for (int d = 0; d < s.num_directions(); ++d) {
      const std::vector<int>& placement = s.stage_rank[d];
      if (static_cast<int>(placement.size()) != s.num_stages) {
        add_global("placement of direction " + std::to_string(d) + " lists " +
                   std::to_string(placement.size()) + " stages, expected " +
                   std::to_string(s.num_stages));
        continue;
      }
      for (int stage = 0; stage < s.num_stages; ++stage) {
        if (placement[stage] < 0 || placement[stage] >= s.num_ranks) {
          add_global("stage " + std::to_string(stage) + " of direction " + std::to_string(d) +
                     " is placed on rank " + std::to_string(placement[stage]) + ", outside 0.." +
                     std::to_string(s.num_ranks - 1));
        }
      }
    }
    return violations_.empty();
  }

  // --- each action on its own -----------------------------------------------------------------

  void check_actions() {
    usable_.resize(schedule_.programs.size());
    for (int rank = 0; rank < schedule_.num_ranks; ++rank) {
      const std::vector<Action>& program = schedule_.programs[rank];
      usable_[rank].assign(program.size(), true);
      for (int position = 0; position < static_cast<int>(program.size()); ++position) {
        const ActionRef ref{rank, position};
        const std::size_t before = violations_.size();
        if (is_compute(program[position].op)) {
          check_compute_action(ref);
        } else {
          check_communication_action(ref);
        }
        if (violations_.size() != before || full()) usable_[rank][position] = false;
      }
    }
  }

  void check_compute_action(const ActionRef& ref) {
    for (const WorkItem& item : work_of(action_at(ref))) {
      if (!in_range(item.chunk)) {
        add_at(ViolationKind::kMalformed, ref,
               chunk_text(item.chunk) + " is out of range " + range_text());
      } else if (schedule_.rank_of(item.chunk) != ref.rank) {
        add_at(ViolationKind::kWrongRank, ref,
               "stage " + std::to_string(item.chunk.stage) + " of direction " +
                   std::to_string(item.chunk.direction) + " runs on rank " +
                   std::to_string(schedule_.rank_of(item.chunk)));
      }
    }
  }

  void check_communication_action(const ActionRef& ref) {
    const Action& action = action_at(ref);
    const bool sends = action.op == Op::kSendF || action.op == Op::kSendB;
    if (!in_range(action.chunk)) {
      add_at(ViolationKind::kMalformed, ref,
             chunk_text(action.chunk) + " is out of range " + range_text());
      return;
    }
    const detail::Message message = detail::message_of(action);
    const Chunk own = sends ? message.producer : detail::consumer_of(message);
    const Chunk other = sends ? detail::consumer_of(message) : message.producer;
    if (!in_range(other)) {
      add_at(ViolationKind::kMalformed, ref,
             std::string(sends ? "nothing receives from" : "nothing sends to") + " stage " +
                 std::to_string(own.stage) + " in this direction");
    } else if (schedule_.rank_of(own) != ref.rank) {
      add_at(ViolationKind::kWrongRank, ref,
             "stage " + std::to_string(own.stage) + " of direction " +
                 std::to_string(own.direction) + " runs on rank " +
                 std::to_string(schedule_.rank_of(own)));
    } else if (schedule_.rank_of(other) == ref.rank) {
      add_at(ViolationKind::kMalformed, ref,
             "stages " + std::to_string(own.stage) + " and " + std::to_string(other.stage) +
                 " are both on this rank; no message is needed");
    } else if (action.peer != schedule_.rank_of(other)) {
      add_at(ViolationKind::kMalformed, ref,
             "peer is rank " + std::to_string(action.peer) + ", expected rank " +
                 std::to_string(schedule_.rank_of(other)));
    }
  }

  // --- compute work: duplicates and same-rank order -------------------------------------------

  void check_work() {
    for (int rank = 0; rank < schedule_.num_ranks && !full(); ++rank) {
      const std::vector<Action>& program = schedule_.programs[rank];
      for (int position = 0; position < static_cast<int>(program.size()); ++position) {
        if (!usable_[rank][position] || !is_compute(program[position].op)) continue;
        const ActionRef ref{rank, position};
        check_duplicates(ref);
        for (const WorkItem& item : work_of(program[position])) check_local_order(ref, item);
      }
    }
  }

  void check_duplicates(const ActionRef& ref) {
    const Action& action = action_at(ref);
    for (const WorkItem& item : work_of(action)) {
      const ActionRef first = *index_->find(item);
      if (!(first == ref)) {
        add_at(ViolationKind::kDuplicate, ref,
               work_text(item) + " already runs at " + position_text(first.position));
        usable_[ref.rank][ref.position] = false;
      }
    }
    if (action.op != Op::kW) return;
    const std::optional<ActionRef> backward = index_->find({Work::kBackward, action.chunk});
    if (backward && action_at(*backward).op != Op::kI) {
      add_at(ViolationKind::kDuplicate, ref,
             "weight gradient of " + chunk_text(action.chunk) + " is already computed by the " +
                 op_name(action_at(*backward).op) + " at " + position_text(backward->position));
      usable_[ref.rank][ref.position] = false;
    }
  }

  // Work this item needs from its own rank: the data input when it is local, and for a backward
  // also the chunk's own forward (its saved activations).
  void check_local_order(const ActionRef& ref, const WorkItem& item) {
    if (item.work == Work::kBackward) {
      require_before(ref, item, {Work::kForward, item.chunk}, "its forward");
    }
    const std::optional<WorkItem> input = input_of(schedule_, item);
    if (!input || (item.work == Work::kBackward && input->work == Work::kForward)) return;
    const char* what = item.work == Work::kWeight    ? "its input backward (I)"
                       : item.work == Work::kForward ? "the forward of the previous stage"
                                                     : "the backward of the next stage";
    require_before(ref, item, *input, what);
  }

  void require_before(const ActionRef& ref, const WorkItem& item, const WorkItem& needed,
                      const char* what) {
    const std::optional<ActionRef> found = index_->find(needed);
    if (!found || found->rank != ref.rank || found->position < ref.position) return;
    if (found->position == ref.position) {
      add_at(ViolationKind::kOrder, ref,
             "overlapped pair runs the " + work_text(item) + " together with " + what);
    } else {
      add_at(ViolationKind::kOrder, ref,
             work_text(item) + " comes before " + what + " at " + position_text(found->position));
    }
  }

  void check_missing_work() {
    const Schedule& s = schedule_;
    for (int d = 0; d < s.num_directions(); ++d) {
      for (int stage = 0; stage < s.num_stages; ++stage) {
        for (int m = 0; m < s.microbatches_per_direction() && !full(); ++m) {
          check_chunk_complete(Chunk{stage, m, d});
        }
      }
    }
  }

  void check_chunk_complete(const Chunk& chunk) {
    const int rank = schedule_.rank_of(chunk);
    if (!index_->find({Work::kForward, chunk})) {
      add(ViolationKind::kMissing, rank, -1, Action::compute(Op::kF, chunk),
          "forward of " + chunk_text(chunk) + " never runs");
    }
    const std::optional<ActionRef> backward = index_->find({Work::kBackward, chunk});
    if (!backward) {
      add(ViolationKind::kMissing, rank, -1, Action::compute(Op::kB, chunk),
          "backward (B, I or FB) of " + chunk_text(chunk) + " never runs");
    } else if (action_at(*backward).op == Op::kI && !index_->find({Work::kWeight, chunk})) {
      add(ViolationKind::kMissing, rank, -1, Action::compute(Op::kW, chunk),
          "the I at " + position_text(backward->position) + " has no W for " + chunk_text(chunk));
    }
  }

  // --- messages -------------------------------------------------------------------------------

  void index_messages() {
    slots_.emplace(schedule_);
    send_ref_.assign(slots_->size(), ActionRef{});
    recv_ref_.assign(slots_->size(), ActionRef{});
    for (int rank = 0; rank < schedule_.num_ranks; ++rank) {
      const std::vector<Action>& program = schedule_.programs[rank];
      for (int position = 0; position < static_cast<int>(program.size()); ++position) {
        const Action& action = program[position];
        if (!usable_[rank][position] || is_compute(action.op)) continue;
        const bool sends = action.op == Op::kSendF || action.op == Op::kSendB;
        ActionRef& slot = (sends ? send_ref_ : recv_ref_)[message_slot(action)];
        if (slot.rank >= 0) {
          add(ViolationKind::kDuplicate, rank, position, action,
              std::string("the same message is already ") + (sends ? "sent" : "received") +
                  " at rank " + std::to_string(slot.rank) + " " + position_text(slot.position));
          usable_[rank][position] = false;
        } else {
          slot = ActionRef{rank, position};
        }
      }
    }
    for (std::size_t slot = 0; slot < slots_->size(); ++slot) {
      const bool has_send = send_ref_[slot].rank >= 0;
      const bool has_recv = recv_ref_[slot].rank >= 0;
      if (has_send == has_recv) continue;
      const ActionRef ref = has_send ? send_ref_[slot] : recv_ref_[slot];
      const Action& action = action_at(ref);
      const detail::Message message = detail::message_of(action);
      const Action partner = has_send ? detail::recv_action(schedule_, message)
                                      : detail::send_action(schedule_, message);
      add_at(ViolationKind::kUnmatched, ref,
             "no matching " + to_string(partner) + " on rank " + std::to_string(action.peer));
      usable_[ref.rank][ref.position] = false;
    }
  }

  std::size_t message_slot(const Action& communication) const {
    return slots_->slot(detail::message_of(communication));
  }

  bool matched(std::size_t slot) const {
    return send_ref_[slot].rank >= 0 && recv_ref_[slot].rank >= 0;
  }

  // Every cross-rank input must be sent after it is produced and received before it is used.
  void check_message_placement() {
    for (int rank = 0; rank < schedule_.num_ranks && !full(); ++rank) {
      const std::vector<Action>& program = schedule_.programs[rank];
      for (int position = 0; position < static_cast<int>(program.size()); ++position) {
        if (!usable_[rank][position] || !is_compute(program[position].op)) continue;
        for (const WorkItem& item : work_of(program[position])) {
          check_message_into(ActionRef{rank, position}, item);
        }
      }
    }
  }

  void check_message_into(const ActionRef& consumer, const WorkItem& item) {
    const std::optional<detail::Message> message = detail::message_into(schedule_, item);
    if (!message || schedule_.rank_of(message->producer) == consumer.rank) return;
    const std::size_t slot = slots_->slot(*message);
    const ActionRef send = send_ref_[slot];
    const ActionRef recv = recv_ref_[slot];
    if (send.rank < 0 && recv.rank < 0) {
      add_at(ViolationKind::kMissing, consumer,
             "needs " + to_string(detail::recv_action(schedule_, *message)) +
                 " before it, and rank " + std::to_string(schedule_.rank_of(message->producer)) +
                 " never sends it");
      return;
    }
    if (recv.rank >= 0 && recv.position > consumer.position) {
      add_at(ViolationKind::kOrder, recv,
             "received after its consumer at " + position_text(consumer.position));
    }
    const std::optional<ActionRef> producer = index_->find(*input_of(schedule_, item));
    if (send.rank >= 0 && producer && send.position < producer->position) {
      add_at(ViolationKind::kOrder, send,
             "sent before its producer at " + position_text(producer->position));
    }
  }

  // Messages between two ranks must be received in the order they are sent (NCCL and Gloo match
  // point-to-point messages between a pair of ranks in issue order).
  void check_channel_order() {
    std::vector<int> send_ordinal(slots_->size(), -1);
    for (int rank = 0; rank < schedule_.num_ranks; ++rank) {
      std::vector<int> sent_to(schedule_.num_ranks, 0);
      for_each_matched(rank, true, [&](int, std::size_t slot, const Action& action) {
        send_ordinal[slot] = sent_to[action.peer]++;
      });
    }
    for (int rank = 0; rank < schedule_.num_ranks && !full(); ++rank) {
      std::vector<int> latest_ordinal(schedule_.num_ranks, -1);
      std::vector<int> latest_position(schedule_.num_ranks, -1);
      for_each_matched(rank, false, [&](int position, std::size_t slot, const Action& action) {
        const int ordinal = send_ordinal[slot];
        if (ordinal < latest_ordinal[action.peer]) {
          add(ViolationKind::kChannelOrder, rank, position, action,
              "rank " + std::to_string(action.peer) +
                  " sends this before the message received at " +
                  position_text(latest_position[action.peer]));
          return;
        }
        latest_ordinal[action.peer] = ordinal;
        latest_position[action.peer] = position;
      });
    }
  }

  template <typename Visit>
  void for_each_matched(int rank, bool sends, Visit visit) const {
    const std::vector<Action>& program = schedule_.programs[rank];
    for (int position = 0; position < static_cast<int>(program.size()); ++position) {
      const Action& action = program[position];
      if (!usable_[rank][position] || is_compute(action.op)) continue;
      if ((action.op == Op::kSendF || action.op == Op::kSendB) != sends) continue;
      const std::size_t slot = message_slot(action);
      if (matched(slot)) visit(position, slot, action);
    }
  }

  // --- execution ------------------------------------------------------------------------------

  void waits_of(int rank, int position, std::vector<detail::Wait>& waits) const {
    if (!usable_[rank][position]) return;
    const Action& action = schedule_.programs[rank][position];
    if (!communicating_) {
      // Compute only: each step waits for its cross-rank inputs.
      for (const WorkItem& item : work_of(action)) {
        const std::optional<WorkItem> input = input_of(schedule_, item);
        const std::optional<ActionRef> producer = input ? index_->find(*input) : std::nullopt;
        if (producer && producer->rank != rank) {
          waits.push_back({detail::Wait::Kind::kPassed, *producer});
        }
      }
      return;
    }
    if (is_compute(action.op)) return;
    const std::size_t slot = message_slot(action);
    if (!matched(slot)) return;
    const bool sends = action.op == Op::kSendF || action.op == Op::kSendB;
    const ActionRef partner = sends ? recv_ref_[slot] : send_ref_[slot];
    if (!usable_[partner.rank][partner.position]) return;
    if (mode_ == P2PMode::kBlocking) {
      waits.push_back({detail::Wait::Kind::kRendezvous, partner});
    } else if (!sends) {
      waits.push_back({detail::Wait::Kind::kPassed, partner});
    }
  }

  void check_execution() {
    if (full()) return;
    const std::vector<int> pc = detail::execute_programs(
        schedule_,
        [this](int rank, int position, std::vector<detail::Wait>& waits) {
          waits_of(rank, position, waits);
        },
        [](int, int) {});
    for (int rank = 0; rank < schedule_.num_ranks; ++rank) {
      if (pc[rank] < static_cast<int>(schedule_.programs[rank].size())) {
        add_at(ViolationKind::kDeadlock, ActionRef{rank, pc[rank]}, stall_text(rank, pc));
      }
    }
  }

  // Why a rank cannot move on: what it waits for and where that rank stands.
  std::string stall_text(int rank, const std::vector<int>& pc) const {
    std::vector<detail::Wait> waits;
    waits_of(rank, pc[rank], waits);
    for (const detail::Wait& wait : waits) {
      const ActionRef& target = wait.target;
      const bool rendezvous = wait.kind == detail::Wait::Kind::kRendezvous;
      if (!rendezvous && pc[target.rank] > target.position) continue;
      std::string text = std::string("waits for ") + (rendezvous ? "its partner " : "") +
                         to_string(action_at(target)) + " (rank " + std::to_string(target.rank) +
                         " " + position_text(target.position) + "), but rank " +
                         std::to_string(target.rank);
      if (pc[target.rank] >= static_cast<int>(schedule_.programs[target.rank].size())) {
        return text + " has finished";
      }
      return text + " is stuck at " + position_text(pc[target.rank]) + " (" +
             to_string(schedule_.programs[target.rank][pc[target.rank]]) + ")";
    }
    return "cannot proceed";
  }

  const Schedule& schedule_;
  P2PMode mode_;
  std::size_t max_violations_;
  bool communicating_ = false;
  std::vector<Violation> violations_;
  std::vector<std::vector<bool>> usable_;  // [rank][position]: passed the structural checks
  std::optional<WorkIndex> index_;
  std::optional<detail::MessageSlots> slots_;
  std::vector<ActionRef> send_ref_;  // [message slot] -> its SEND (rank -1: none)
  std::vector<ActionRef> recv_ref_;  // [message slot] -> its RECV (rank -1: none)
};

}  // namespace

std::vector<Violation> validate(const Schedule& schedule, P2PMode mode,
                                std::size_t max_violations) {
  return Validator(schedule, mode, max_violations).run();
}

const char* violation_kind_name(ViolationKind kind) {
  return kKindNames.at(static_cast<std::size_t>(kind));
}

std::string to_string(const Violation& violation) {
  std::string where = "schedule";
  if (violation.rank >= 0) {
    where = "rank " + std::to_string(violation.rank);
    if (violation.position >= 0) where += ", position " + std::to_string(violation.position);
    where += " (" + to_string(violation.action) + ")";
  }
  return where + ": " + violation_kind_name(violation.kind) + ": " + violation.message;
}

}  // namespace dualpipe::schedule
