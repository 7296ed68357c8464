// Interval algebra on a timeline: unions, intersections and differences of busy periods.
#pragma once

#include <vector>

#include "dualpipe/trace/chrome_trace.h"

namespace dualpipe::trace {

// A half-open time range [start, end) in nanoseconds.
struct Interval {
  TimeNs start = 0;
  TimeNs end = 0;
  TimeNs length() const { return end - start; }
  friend bool operator==(const Interval& a, const Interval& b) {
    return a.start == b.start && a.end == b.end;
  }
};

// Sorted, disjoint, non-empty intervals; what the functions below return.
using IntervalSet = std::vector<Interval>;

// Union of any intervals (unsorted, overlapping or empty ones allowed).
IntervalSet union_of(std::vector<Interval> intervals);

// Sum of the lengths of a set.
TimeNs total_length(const IntervalSet& set);

// Time covered by both sets.
IntervalSet intersection(const IntervalSet& a, const IntervalSet& b);

// Time covered by `a` but not by `b`.
IntervalSet difference(const IntervalSet& a, const IntervalSet& b);

// The part of `set` inside `window`.
IntervalSet clip(const IntervalSet& set, Interval window);

}  // namespace dualpipe::trace
