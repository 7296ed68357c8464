// Communication pass: derives the point-to-point SEND_/RECV_ actions of a compute-only schedule.
#pragma once

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// Returns `schedule` with a SEND_F/RECV_F pair for every forward activation and a SEND_B/RECV_B
// pair for every input gradient that crosses ranks (stages on the same rank exchange nothing).
// A SEND follows the action that produces its data; the RECV comes before the action that consumes
// it. All ranks order their messages consistently (by when the message can first be sent in an
// as-soon-as-possible run with nominal durations F = I = W = 1, B = 2, FB = 3), so the result is
// deadlock-free under blocking and asynchronous P2P and every channel delivers in send order.
// Existing SEND_/RECV_ actions are replaced. Throws std::invalid_argument when the compute schedule
// itself is invalid (see validate()); the message names the first violation.
Schedule with_communication(const Schedule& schedule);

// Returns `schedule` with every SEND_/RECV_ action removed.
Schedule without_communication(const Schedule& schedule);

// True when any program contains a SEND_/RECV_ action.
bool has_communication(const Schedule& schedule);

}  // namespace dualpipe::schedule
