// Action: one step of a rank's pipeline program (compute or point-to-point communication).
#pragma once

#include <string>

namespace dualpipe::schedule {

// What an action does. F/B/I/W/FB are compute; the SEND_/RECV_ ops move an activation (F) or a
// gradient (B) between neighbouring stages and are derived from the compute order by a pass.
enum class Op {
  kF,      // forward of one micro-batch through one stage
  kB,      // full backward (input and weight gradients)
  kI,      // backward for inputs only; the weight part is deferred to a later kW
  kW,      // a deferred weight-gradient part
  kFB,     // forward of `chunk` and backward of `backward` executed as one overlapped unit
  kSendF,  // send the forward output of `chunk` to `peer`
  kRecvF,  // receive the forward input of `chunk` from `peer`
  kSendB,  // send the input gradient of `chunk` to `peer`
  kRecvB,  // receive the output gradient of `chunk` from `peer`
};

// Which piece of work an action touches: a stage, a micro-batch and (DualPipe only) a direction.
// Micro-batches are numbered within a direction (0..N/2-1 for DualPipe, 0..N-1 otherwise).
struct Chunk {
  int stage = 0;
  int microbatch = 0;
  int direction = 0;  // DualPipe: 0 enters at rank 0, 1 enters at rank P-1; others: always 0

  friend bool operator==(const Chunk& a, const Chunk& b) {
    return a.stage == b.stage && a.microbatch == b.microbatch && a.direction == b.direction;
  }
  friend bool operator!=(const Chunk& a, const Chunk& b) { return !(a == b); }
};

// One step of a rank's program. For FB, `chunk` is the forward half and `backward` the backward
// half; for communication, `peer` is the other rank.
struct Action {
  Op op = Op::kF;
  Chunk chunk;
  Chunk backward;  // FB only
  int peer = -1;   // SEND_*/RECV_* only

  static Action compute(Op op, Chunk chunk) { return Action{op, chunk, Chunk{}, -1}; }
  static Action overlapped(Chunk forward, Chunk backward) {
    return Action{Op::kFB, forward, backward, -1};
  }
  static Action communication(Op op, Chunk chunk, int peer) {
    return Action{op, chunk, Chunk{}, peer};
  }

  friend bool operator==(const Action& a, const Action& b);
  friend bool operator!=(const Action& a, const Action& b) { return !(a == b); }
};

// True for F, B, I, W and FB.
bool is_compute(Op op);

// True for SEND_F, RECV_F, SEND_B and RECV_B.
bool is_communication(Op op);

// The op's name as written in the IR: "F", "B", "I", "W", "FB", "SEND_F", ...
const char* op_name(Op op);

// Parses an op name written by op_name. Throws std::invalid_argument on anything else.
Op parse_op(const std::string& name);

// A short human-readable form, e.g. "F s1 m3 d0" or "FB[F s1 m3 d0 | B s2 m0 d1]".
std::string to_string(const Action& action);

}  // namespace dualpipe::schedule
