// Clock alignment: one time axis for the traces of one run. Traces of one machine share a clock;
// for traces from several machines, each rank's clock offset is estimated from the exchanges
// matched between ranks. Traces that cannot be of one run are refused.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/trace/peer_matching.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// Offsets that put every timeline on the first one's clock.
struct ClockAlignment {
  std::vector<TimeNs> offsets;     // [timeline] added to its times; 0 for the first timeline
  bool estimated = false;          // false: the traces' own clocks agree with every exchange
  int exchanges = 0;               // matched exchanges checked (and, when estimated, used)
  std::vector<std::string> notes;  // ranks left on their own clock, for the report
};

// No exchange can finish on one rank before every member started on another (a receive before
// its send started, a collective before its last member came). When the traces' clocks respect
// that for every matched exchange they are taken as one clock (offsets 0). Otherwise each pair of
// ranks' offset is estimated from their exchanges' end times (a transfer ends at about the same
// moment on both sides; the median over the exchanges, kept inside the range the exchanges allow),
// and chained from the first timeline. Ranks with no exchange to the others keep offset 0 (noted).
ClockAlignment align_clocks(const std::vector<RankTimeline>& timelines,
                            const PeerMatching& matching);

// Adds each timeline's offset to all of its times.
void apply_clock_offsets(std::vector<RankTimeline>& timelines, const ClockAlignment& alignment);

// Throws std::invalid_argument naming the files when the traces cannot be of one run: they give
// different world sizes, the clocks would have to differ by more than kMaxClockOffset, or (after
// alignment) one trace's GPU activity does not overlap the others' in time.
void check_one_run(const std::vector<RankTimeline>& timelines, const ClockAlignment& alignment);

// Clock offsets larger than this (10 s) are not machines of one cluster but different runs.
inline constexpr TimeNs kMaxClockOffset = 10'000'000'000;

}  // namespace dualpipe::trace
