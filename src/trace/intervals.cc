#include "dualpipe/trace/intervals.h"

#include <algorithm>

namespace dualpipe::trace {

IntervalSet union_of(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  IntervalSet merged;
  for (const Interval& interval : intervals) {
    if (interval.end <= interval.start) continue;
    if (!merged.empty() && interval.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, interval.end);
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

TimeNs total_length(const IntervalSet& set) {
  TimeNs total = 0;
  for (const Interval& interval : set) total += interval.length();
  return total;
}

IntervalSet intersection(const IntervalSet& a, const IntervalSet& b) {
  IntervalSet result;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const TimeNs start = std::max(a[i].start, b[j].start);
    const TimeNs end = std::min(a[i].end, b[j].end);
    if (start < end) result.push_back({start, end});
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return result;
}

IntervalSet difference(const IntervalSet& a, const IntervalSet& b) {
  IntervalSet result;
  std::size_t j = 0;
  for (const Interval& interval : a) {
    TimeNs cursor = interval.start;
    while (j < b.size() && b[j].end <= cursor) ++j;
    std::size_t k = j;
    while (k < b.size() && b[k].start < interval.end) {
      if (b[k].start > cursor) result.push_back({cursor, b[k].start});
      cursor = std::max(cursor, b[k].end);
      ++k;
    }
    if (cursor < interval.end) result.push_back({cursor, interval.end});
  }
  return result;
}

IntervalSet clip(const IntervalSet& set, Interval window) {
  IntervalSet result;
  for (const Interval& interval : set) {
    const TimeNs start = std::max(interval.start, window.start);
    const TimeNs end = std::min(interval.end, window.end);
    if (start < end) result.push_back({start, end});
  }
  return result;
}

}  // namespace dualpipe::trace
