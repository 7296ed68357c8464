// Matching across ranks: pairs every send with the receive it feeds and gathers the members of
// every collective, then tells, for each communication kernel, when all of its peers were there —
// before that the kernel waits, after it the data moves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// One communication call: a timeline (index into the timelines given) and a call of it.
struct CallRef {
  int timeline = 0;
  std::uint32_t call = 0;
};

// The calls that make up one exchange: a send and the receive it feeds (`calls[0]` is the send),
// or every member of one collective.
struct CallGroup {
  CallKind kind = CallKind::kSend;  // kSend for a send/receive pair, kCollective otherwise
  std::vector<CallRef> calls;
};

// Every exchange found across the timelines.
struct PeerMatching {
  std::vector<CallGroup> groups;
  // [timeline][call]: index into `groups`, or -1 when its counterparts are not in the traces.
  std::vector<std::vector<std::int32_t>> group_of;
  int unmatched_calls = 0;         // calls left without counterparts
  int size_mismatches = 0;         // matched pairs whose message sizes differ
  std::vector<std::string> notes;  // one line per kind of call left unmatched, for the report
};

// Matches the calls of `timelines` (one per rank, ranks distinct). A send from rank a to rank b
// is paired with the receive on rank b from rank a of the same communicator (when the trace
// names it) and the same position in issue order, as NCCL orders point-to-point operations
// between two ranks. A collective's members are its communicator's ranks (all traced ranks when
// the trace does not say); the k-th collective of one name on one communicator is the same
// exchange on every member. Exchanges with a member whose trace is missing stay unmatched.
PeerMatching match_calls(const std::vector<RankTimeline>& timelines);

// When a call's exchange could proceed: the latest kernel start among its members.
struct CallSplit {
  bool matched = false;
  TimeNs ready = 0;     // the last member's kernel start (valid when matched)
  int waited_for = -1;  // timeline index of that last member (itself when it came last)
};

// For each call of each timeline, when its exchange could proceed; times on the timelines' clocks
// (align them first). A kernel waits from its start until `ready` (when that is before its end)
// and transfers from then on; a kernel that ended before its peer came needed no peer (a send into
// the receiver's buffer) and transfers throughout.
std::vector<std::vector<CallSplit>> split_calls(const std::vector<RankTimeline>& timelines,
                                                const PeerMatching& matching);

// The kernel of a call.
const TimelineKernel& kernel_of(const RankTimeline& timeline, const CommunicationCall& call);

}  // namespace dualpipe::trace
