#include "dualpipe/schedule/action.h"

#include <array>
#include <stdexcept>

namespace dualpipe::schedule {
namespace {

constexpr std::array<const char*, 9> kOpNames = {"F",      "B",      "I",      "W",     "FB",
                                                 "SEND_F", "RECV_F", "SEND_B", "RECV_B"};

std::string chunk_text(const char* op, const Chunk& chunk) {
  return std::string(op) + " s" + std::to_string(chunk.stage) + " m" +
         std::to_string(chunk.microbatch) + " d" + std::to_string(chunk.direction);
}

}  // namespace

bool operator==(const Action& a, const Action& b) {
  if (a.op != b.op || a.chunk != b.chunk) return false;
  if (a.op == Op::kFB) return a.backward == b.backward;
  if (is_communication(a.op)) return a.peer == b.peer;
  return true;
}

bool is_compute(Op op) {
  return op == Op::kF || op == Op::kB || op == Op::kI || op == Op::kW || op == Op::kFB;
}

bool is_communication(Op op) { return !is_compute(op); }

const char* op_name(Op op) { return kOpNames.at(static_cast<std::size_t>(op)); }

Op parse_op(const std::string& name) {
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    if (name == kOpNames[i]) return static_cast<Op>(i);
  }
  throw std::invalid_argument("unknown action op '" + name +
                              "' (expected F, B, I, W, FB, SEND_F, RECV_F, SEND_B or RECV_B)");
}

std::string to_string(const Action& action) {
  if (action.op == Op::kFB) {
    return "FB[" + chunk_text("F", action.chunk) + " | " + chunk_text("B", action.backward) + "]";
  }
  std::string text = chunk_text(op_name(action.op), action.chunk);
  if (is_communication(action.op)) text += " peer " + std::to_string(action.peer);
  return text;
}

}  // namespace dualpipe::schedule
