#include "dualpipe/trace/schedule_extraction.h"

#include <algorithm>

#include "dualpipe/trace/statistics.h"

namespace dualpipe::trace {
namespace {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

// Records that `rank` runs `chunk`'s stage in its direction (first sighting wins).
void place(schedule::Schedule& s, const Chunk& chunk, int rank) {
  if (static_cast<int>(s.stage_rank.size()) <= chunk.direction) {
    s.stage_rank.resize(static_cast<std::size_t>(chunk.direction) + 1);
  }
  std::vector<int>& ranks = s.stage_rank[static_cast<std::size_t>(chunk.direction)];
  if (static_cast<int>(ranks.size()) <= chunk.stage) {
    ranks.resize(static_cast<std::size_t>(chunk.stage) + 1, -1);
  }
  if (ranks[static_cast<std::size_t>(chunk.stage)] < 0) {
    ranks[static_cast<std::size_t>(chunk.stage)] = rank;
  }
}

// Grows the counts so that they cover `chunk`.
void cover(schedule::Schedule& s, const Chunk& chunk, int& max_microbatch) {
  s.num_stages = std::max(s.num_stages, chunk.stage + 1);
  max_microbatch = std::max(max_microbatch, chunk.microbatch);
  if (static_cast<int>(s.stage_rank.size()) <= chunk.direction) {
    s.stage_rank.resize(static_cast<std::size_t>(chunk.direction) + 1);
  }
}

}  // namespace

std::optional<schedule::TimedSchedule> extract_schedule(const std::vector<RankTimeline>& timelines,
                                                        TimeNs origin) {
  schedule::TimedSchedule timed;
  schedule::Schedule& s = timed.schedule;
  s.name = "measured";
  timed.time_unit = "ms";
  int max_microbatch = -1;
  bool found = false;
  for (const RankTimeline& timeline : timelines) {
    const int rank = timeline.rank;
    for (const AnnotationWindow& window : timeline.annotations) {
      if (!window.action) continue;
      found = true;
      if (static_cast<int>(s.programs.size()) <= rank) {
        s.programs.resize(static_cast<std::size_t>(rank) + 1);
        timed.timing.resize(static_cast<std::size_t>(rank) + 1);
      }
      const Action& action = *window.action;
      s.programs[static_cast<std::size_t>(rank)].push_back(action);
      const TimeNs start = window.on_gpu() ? window.gpu_start : window.cpu_start;
      const TimeNs end = window.on_gpu() ? window.gpu_end : window.cpu_end;
      timed.timing[static_cast<std::size_t>(rank)].push_back(
          {to_ms(start - origin), to_ms(end - start)});
      cover(s, action.chunk, max_microbatch);
      if (schedule::is_compute(action.op)) place(s, action.chunk, rank);
      if (action.op == Op::kFB) {
        cover(s, action.backward, max_microbatch);
        place(s, action.backward, rank);
      }
    }
  }
  if (!found) return std::nullopt;
  s.num_ranks = static_cast<int>(s.programs.size());
  for (std::vector<int>& ranks : s.stage_rank) {
    ranks.resize(static_cast<std::size_t>(s.num_stages), -1);
  }
  s.num_microbatches = (max_microbatch + 1) * s.num_directions();
  return timed;
}

}  // namespace dualpipe::trace
