#include "program_execution.h"

#include <deque>

namespace dualpipe::schedule::detail {
namespace {

// Worklist state of one execution: program counters, queued ranks and who waits on whom.
class Execution {
 public:
  Execution(const Schedule& schedule, const WaitsOf& waits_of,
            const std::function<void(int, int)>& on_complete)
      : schedule_(schedule),
        waits_of_(waits_of),
        on_complete_(on_complete),
        pc_(schedule.programs.size(), 0),
        announced_pc_(schedule.programs.size(), 0),
        queued_(schedule.programs.size(), false),
        waiters_(schedule.programs.size()) {}

  std::vector<int> run() {
    for (int rank = 0; rank < static_cast<int>(pc_.size()); ++rank) enqueue(rank);
    while (!queue_.empty()) {
      const int rank = queue_.front();
      queue_.pop_front();
      queued_[rank] = false;
      advance(rank);
      wake_waiters_of(rank);
    }
    return pc_;
  }

 private:
  // Runs `rank` until it finishes or must wait.
  void advance(int rank) {
    const int size = static_cast<int>(schedule_.programs[rank].size());
    while (pc_[rank] < size) {
      waits_.clear();
      waits_of_(rank, pc_[rank], waits_);
      const Wait* rendezvous = nullptr;
      for (const Wait& wait : waits_) {
        if (wait.kind == Wait::Kind::kRendezvous) rendezvous = &wait;
        if (wait.kind == Wait::Kind::kPassed && !has_passed(wait.target)) {
          block_on(rank, wait.target.rank);
          return;
        }
      }
      if (rendezvous != nullptr) {
        const ActionRef partner = rendezvous->target;
        if (partner.rank == rank || pc_[partner.rank] != partner.position) {
          block_on(rank, partner.rank);
          return;
        }
        complete(partner.rank);
        enqueue(partner.rank);
      }
      complete(rank);
    }
  }

  bool has_passed(const ActionRef& target) const { return pc_[target.rank] > target.position; }

  // Registers `rank` to be re-run when `target_rank` moves on (never when it waits for itself:
  // what it waits for is then behind it, or will never come).
  void block_on(int rank, int target_rank) {
    if (target_rank != rank) waiters_[target_rank].push_back(rank);
  }

  void complete(int rank) {
    on_complete_(rank, pc_[rank]);
    ++pc_[rank];
  }

  // Re-queues the ranks waiting on `rank` if it moved on since they were last woken.
  void wake_waiters_of(int rank) {
    if (pc_[rank] == announced_pc_[rank]) return;
    announced_pc_[rank] = pc_[rank];
    std::vector<int> waiters;
    waiters.swap(waiters_[rank]);
    for (int waiter : waiters) enqueue(waiter);
  }

  void enqueue(int rank) {
    if (queued_[rank]) return;
    queued_[rank] = true;
    queue_.push_back(rank);
  }

  const Schedule& schedule_;
  const WaitsOf& waits_of_;
  const std::function<void(int, int)>& on_complete_;
  std::vector<int> pc_;
  std::vector<int> announced_pc_;  // [rank] -> pc when its waiters were last woken
  std::vector<bool> queued_;
  std::vector<std::vector<int>> waiters_;  // [rank] -> ranks waiting for it to move on
  std::deque<int> queue_;
  std::vector<Wait> waits_;  // scratch
};

}  // namespace

std::vector<int> execute_programs(const Schedule& schedule, const WaitsOf& waits_of,
                                  const std::function<void(int rank, int position)>& on_complete) {
  return Execution(schedule, waits_of, on_complete).run();
}

}  // namespace dualpipe::schedule::detail
