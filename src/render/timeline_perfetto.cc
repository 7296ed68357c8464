#include "dualpipe/render/timeline_perfetto.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "dualpipe/trace/json_text.h"

namespace dualpipe::render {
namespace {

using trace::json_number;
using trace::json_quote;

std::string us(double ms) { return json_number(ms * 1000.0, 3); }

// One change of a rank's overlap counter.
struct CounterChange {
  double time_ms = 0.0;
  bool starts = false;  // ends sort first at equal times, so back-to-back bars read correctly
  int under_compute = 0;
  int exposed = 0;
  bool operator<(const CounterChange& other) const {
    return std::tie(time_ms, starts) < std::tie(other.time_ms, other.starts);
  }
};

void write_counter(std::ostringstream& out, const TimelineLane& lane) {
  std::vector<CounterChange> changes;
  for (const TimelineBar& bar : lane.bars) {
    const bool hidden = bar.kind == BarKind::kHiddenComm;
    changes.push_back({bar.start_ms, true, hidden ? 1 : 0, hidden ? 0 : 1});
    changes.push_back({bar.end_ms, false, 0, 0});
  }
  std::sort(changes.begin(), changes.end());
  for (const CounterChange& change : changes) {
    out << ",\n{\"ph\": \"C\", \"name\": \"communication overlap\", \"pid\": " << lane.rank
        << ", \"ts\": " << us(change.time_ms)
        << ", \"args\": {\"under_compute\": " << change.under_compute
        << ", \"exposed\": " << change.exposed << "}}";
  }
}

}  // namespace

std::string timeline_perfetto_json(const TimelineLayout& layout) {
  std::ostringstream out;
  out << "{\"displayTimeUnit\": \"ms\", \"otherData\": {\"origin_us\": "
      << json_number(layout.origin_us, 3) << "},\n\"traceEvents\": [\n";
  out << "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": -1, \"args\": {\"name\": "
         "\"trace-view\"}}";
  std::set<int> ranks;
  for (const TimelineLane& lane : layout.lanes) {
    if (ranks.insert(lane.rank).second) {
      out << ",\n{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": " << lane.rank
          << ", \"args\": {\"name\": \"rank " << lane.rank << "\"}}"
          << ",\n{\"ph\": \"M\", \"name\": \"process_sort_index\", \"pid\": " << lane.rank
          << ", \"args\": {\"sort_index\": " << lane.rank << "}}";
    }
  }
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    const TimelineLane& lane = layout.lanes[i];
    const std::size_t tid = i + 1;
    out << ",\n{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << lane.rank
        << ", \"tid\": " << tid << ", \"args\": {\"name\": " << json_quote(lane.title) << "}}"
        << ",\n{\"ph\": \"M\", \"name\": \"thread_sort_index\", \"pid\": " << lane.rank
        << ", \"tid\": " << tid << ", \"args\": {\"sort_index\": " << tid << "}}";
    for (const TimelineBar& bar : lane.bars) {
      out << ",\n{\"ph\": \"X\", \"name\": " << json_quote(layout.labels[bar.label])
          << ", \"cat\": " << json_quote(bar_kind_name(bar.kind)) << ", \"pid\": " << lane.rank
          << ", \"tid\": " << tid << ", \"ts\": " << us(bar.start_ms)
          << ", \"dur\": " << us(bar.end_ms - bar.start_ms)
          << ", \"args\": {\"kind\": " << json_quote(bar_kind_name(bar.kind)) << "}}";
    }
    if (lane.kind == LaneKind::kOverlap) write_counter(out, lane);
  }
  out << "\n]}\n";
  return out.str();
}

}  // namespace dualpipe::render
