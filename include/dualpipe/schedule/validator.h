// Validator: checks that a schedule is complete, respects data dependencies, matches its
// messages and cannot deadlock.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// How point-to-point messages behave when the validator executes a schedule. Compute actions
// never wait. In both modes a RECV matches the SEND of the same message (by op, chunk and ranks).
enum class P2PMode {
  kBlocking,      // a SEND and its RECV each wait until the other side arrives (rendezvous)
  kAsynchronous,  // a SEND never waits; a RECV waits until its SEND has been issued
};

// What went wrong.
enum class ViolationKind {
  kMalformed,     // bad schedule header or action fields (ranks, stages, placement, ranges, peer)
  kWrongRank,     // an action on a rank that does not hold its stage
  kDuplicate,     // the same work (or message) appears twice
  kMissing,       // a forward, backward, weight step or message that must exist does not
  kOrder,         // work before the work it depends on (B/I before F, W before its I, a consumer
                  // before its RECV or a SEND before its producer, ...)
  kUnmatched,     // a SEND without its RECV or the other way round
  kChannelOrder,  // two messages between the same ranks received in another order than sent
  kDeadlock,      // execution under the chosen P2P mode stops with work left
};

// One problem found. `position` indexes programs[rank]; both are -1 for problems of the schedule
// as a whole (then `action` is meaningless).
struct Violation {
  ViolationKind kind = ViolationKind::kMalformed;
  int rank = -1;
  int position = -1;
  Action action;
  std::string message;  // one line, fit to print
};

// Checks `schedule`:
// - header: ranks >= 1, stages >= 1, a placement of every stage of every direction on a valid rank;
// - every chunk (direction, stage, micro-batch) has exactly one forward (F or the forward half of
//   an FB), exactly one backward (B, I, or the backward half of an FB) and, after an I, exactly
//   one W; each on the rank that holds the chunk's stage;
// - without SEND_/RECV_ actions: each micro-batch visits its stages in order (forward up, backward
//   down) and the schedule runs to completion when every step waits for its inputs;
// - with SEND_/RECV_ actions: every cross-rank dependency has exactly one SEND after its producer
//   and one RECV before its consumer, with the right peers; channels deliver in send order; and
//   the programs run to completion under `mode`.
// Returns every violation found (empty = valid), in rank then position order where possible.
// At most `max_violations` (at least 1) are reported.
std::vector<Violation> validate(const Schedule& schedule, P2PMode mode = P2PMode::kBlocking,
                                std::size_t max_violations = 100);

// The kind's name: "malformed", "wrong_rank", ...
const char* violation_kind_name(ViolationKind kind);

// "rank 2, position 17 (B s1 m3 d0): order: backward before its forward".
std::string to_string(const Violation& violation);

}  // namespace dualpipe::schedule
