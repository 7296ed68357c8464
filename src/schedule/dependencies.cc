#include "dualpipe/schedule/dependencies.h"

namespace dualpipe::schedule {

std::optional<WorkItem> input_of(const Schedule& schedule, const WorkItem& item) {
  Chunk source = item.chunk;
  switch (item.work) {
    case Work::kForward:
      if (schedule.is_first_stage(item.chunk)) return std::nullopt;
      --source.stage;
      return WorkItem{Work::kForward, source};
    case Work::kBackward:
      if (schedule.is_last_stage(item.chunk)) return WorkItem{Work::kForward, source};
      ++source.stage;
      return WorkItem{Work::kBackward, source};
    case Work::kWeight: return WorkItem{Work::kBackward, source};
  }
  return std::nullopt;
}

WorkItems work_of(const Action& action) {
  WorkItems items;
  switch (action.op) {
    case Op::kF: items.push_back({Work::kForward, action.chunk}); break;
    case Op::kB:
    case Op::kI: items.push_back({Work::kBackward, action.chunk}); break;
    case Op::kW: items.push_back({Work::kWeight, action.chunk}); break;
    case Op::kFB:
      items.push_back({Work::kForward, action.chunk});
      items.push_back({Work::kBackward, action.backward});
      break;
    default: break;
  }
  return items;
}

WorkIndex::WorkIndex(const Schedule& schedule)
    : num_directions_(schedule.num_directions()),
      num_stages_(schedule.num_stages),
      microbatches_per_direction_(schedule.microbatches_per_direction()) {
  if (num_directions_ <= 0 || num_stages_ <= 0 || microbatches_per_direction_ <= 0) return;
  for (const std::vector<int>& placement : schedule.stage_rank) {
    if (static_cast<int>(placement.size()) != num_stages_) return;
  }
  refs_.resize(std::size_t{3} * num_directions_ * num_stages_ * microbatches_per_direction_);
  for (int rank = 0; rank < static_cast<int>(schedule.programs.size()); ++rank) {
    const std::vector<Action>& program = schedule.programs[rank];
    for (int position = 0; position < static_cast<int>(program.size()); ++position) {
      for (const WorkItem& item : work_of(program[position])) {
        if (!in_range(item.chunk) || schedule.rank_of(item.chunk) != rank) continue;
        ActionRef& ref = refs_[slot(item)];
        if (ref.rank < 0) ref = ActionRef{rank, position};
      }
    }
  }
}

std::optional<ActionRef> WorkIndex::find(const WorkItem& item) const {
  if (!in_range(item.chunk)) return std::nullopt;
  const ActionRef& ref = refs_[slot(item)];
  if (ref.rank < 0) return std::nullopt;
  return ref;
}

bool WorkIndex::in_range(const Chunk& chunk) const {
  return !refs_.empty() && chunk.direction >= 0 && chunk.direction < num_directions_ &&
         chunk.stage >= 0 && chunk.stage < num_stages_ && chunk.microbatch >= 0 &&
         chunk.microbatch < microbatches_per_direction_;
}

std::size_t WorkIndex::slot(const WorkItem& item) const {
  const std::size_t chunk =
      (static_cast<std::size_t>(item.chunk.direction) * num_stages_ + item.chunk.stage) *
          microbatches_per_direction_ +
      item.chunk.microbatch;
  return static_cast<std::size_t>(item.work) * num_directions_ * num_stages_ *
             microbatches_per_direction_ +
         chunk;
}

}  // namespace dualpipe::schedule
