// Time attribution: where each rank's share of a step went. The step's span is cut, instant by
// instant, into compute, transfer, waiting for a peer, host gaps and other time, so that the parts
// add up to the span exactly.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dualpipe/trace/intervals.h"
#include "dualpipe/trace/peer_matching.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// What a rank's GPU was doing at an instant, in order of precedence: a compute kernel runs; else a
// communication kernel moves data; else one waits for a peer; else host gap (GPU idle and nothing
// launched: the launching thread was late); else other (see OtherCause).
enum class TimeCategory { kCompute, kTransfer, kWait, kHostGap, kOther };
inline constexpr int kTimeCategories = 5;

// Why an instant counts as other.
enum class OtherCause {
  kNone,
  kMemory,                  // only memcpy / memset run
  kUnmatchedCommunication,  // only communication with peers whose traces are missing runs
  kQueued,                  // GPU idle with work launched but not started (launch latency,
                            // waits on events)
  kAfterLastKernel,         // the rank's work for the step is done; others still run
  kUnknownIdle,             // GPU idle, and the trace has no launch times to tell why
};
inline constexpr int kOtherCauses = 6;

// One piece of a rank's span with one explanation.
struct TimeSegment {
  TimeNs start = 0;
  TimeNs end = 0;
  TimeCategory category = TimeCategory::kCompute;
  OtherCause cause = OtherCause::kNone;
  int peer = -1;                  // kWait: timeline index of the peer waited for
  std::int32_t stream = -1;       // the kernel running (busy time) or launched next (idle time);
  std::int32_t kernel = -1;       // -1 when there is none
  std::int32_t host_action = -1;  // kHostGap: the pipeline action or phase annotation the host
                                  // was in (index into RankTimeline::annotations), -1 if none
  TimeNs length() const { return end - start; }
};

// Time a peer spent on one kind of work while a rank waited for it.
struct PeerActivity {
  std::string what;  // "compute F s1 m0 d0", "host gap before B s1 m0 d0", ...
  TimeNs time = 0;
};

// How long a rank waited for one peer, and what that peer did meanwhile (longest first).
struct PeerWait {
  int peer = -1;  // timeline index
  TimeNs time = 0;
  std::vector<PeerActivity> peer_activity;
};

// The attribution of one rank's span.
struct RankAttribution {
  Interval span;
  std::vector<TimeSegment> segments;  // in time order, covering the span without gaps
  std::array<TimeNs, kTimeCategories> by_category{};  // sums to span.length()
  std::array<TimeNs, kOtherCauses> other_by_cause{};  // sums to by_category[kOther]
  TimeNs wait_kernels = 0;      // union of the communication kernels' waiting parts
  TimeNs transfer_kernels = 0;  // union of their transfer parts
  std::vector<PeerWait> waits;  // by peer, longest first
  TimeNs of(TimeCategory category) const { return by_category[static_cast<std::size_t>(category)]; }
};

// Attributes `span` (absolute ns) on every timeline; `splits` from split_calls on the same,
// aligned, timelines. A communication kernel waits from its start until its exchange's last
// member came (when that peer is not itself) and transfers from then on; one whose peers are not
// in the traces counts as other. GPU idle time counts as host gap until the first launch of the
// work that runs next, as queued after it (kernels without a known launch count as never
// launched), and as done after the rank's last kernel.
std::vector<RankAttribution> attribute_time(const std::vector<RankTimeline>& timelines,
                                            const std::vector<std::vector<CallSplit>>& splits,
                                            Interval span);

// "compute", "transfer", "waiting", "host gap", "other".
const char* category_name(TimeCategory category);

// "memcpy/memset", "unmatched communication", "queued", "after its last kernel", "idle (no
// launch times)"; "" for kNone.
const char* other_cause_name(OtherCause cause);

// What a segment's kernel belongs to: its pipeline action ("F s1 m0 d0"), phase or annotation,
// else the kernel's name (shortened); "" when the segment has no kernel.
std::string segment_work(const RankTimeline& timeline, const TimeSegment& segment);

// One phrase for a segment: "compute F s1 m0 d0", "host gap in RECV_F s1 m0 d0" (what the host
// was doing) or "host gap before B s1 m0 d0" (what it launched next), "waiting for rank 1",
// "other (queued)".
std::string describe_segment(const std::vector<RankTimeline>& timelines, int timeline,
                             const TimeSegment& segment);

}  // namespace dualpipe::trace
