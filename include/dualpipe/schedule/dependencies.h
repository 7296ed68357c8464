// Data dependencies between compute work: which forward, backward or weight step of which chunk
// must finish before another may start, and where each piece of work sits in a schedule.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// The three kinds of work done on a chunk. An F does `forward`; a B or an I does `backward`
// (a B also does `weight`); a W does `weight`; an FB does the forward of its `chunk` and the
// backward of its `backward`.
enum class Work { kForward, kBackward, kWeight };

// One piece of work on one chunk.
struct WorkItem {
  Work work = Work::kForward;
  Chunk chunk;

  friend bool operator==(const WorkItem& a, const WorkItem& b) {
    return a.work == b.work && a.chunk == b.chunk;
  }
};

// A position in a schedule: programs[rank][position].
struct ActionRef {
  int rank = -1;
  int position = -1;

  friend bool operator==(const ActionRef& a, const ActionRef& b) {
    return a.rank == b.rank && a.position == b.position;
  }
};

// The work whose result `item` consumes from another stage or an earlier step: forward of stage
// s > 0 needs forward of s-1; backward of stage s < last needs backward of s+1; backward of the
// last stage needs its own forward; weight needs the backward of the same chunk. Nullopt for the
// forward of stage 0.
std::optional<WorkItem> input_of(const Schedule& schedule, const WorkItem& item);

// The work items of one action: at most two, iterable like a vector (no allocation).
class WorkItems {
 public:
  void push_back(const WorkItem& item) { items_[size_++] = item; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const WorkItem& operator[](std::size_t i) const { return items_[i]; }
  const WorkItem* begin() const { return items_.data(); }
  const WorkItem* end() const { return items_.data() + size_; }

 private:
  std::array<WorkItem, 2> items_{};
  std::size_t size_ = 0;
};

// The work items one compute action performs (one for F/B/I/W, two for FB; a B yields only
// `backward` — its weight part is done with it). Empty for communication actions.
WorkItems work_of(const Action& action);

// Where each piece of work of a schedule sits. Built once in O(actions); lookups are O(1).
// Work on chunks outside the schedule's stage/micro-batch/direction ranges, or on a rank that does
// not hold the chunk's stage, is ignored; when the same work appears more than once, the first
// occurrence (lowest position) is kept.
class WorkIndex {
 public:
  explicit WorkIndex(const Schedule& schedule);

  // The action that does `item`, if any.
  std::optional<ActionRef> find(const WorkItem& item) const;

  // True when `chunk` lies inside the schedule's ranges.
  bool in_range(const Chunk& chunk) const;

 private:
  std::size_t slot(const WorkItem& item) const;

  int num_directions_ = 0;
  int num_stages_ = 0;
  int microbatches_per_direction_ = 0;
  std::vector<ActionRef> refs_;  // [work][direction][stage][microbatch]
};

}  // namespace dualpipe::schedule
