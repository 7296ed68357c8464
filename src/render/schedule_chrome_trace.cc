#include "dualpipe/render/schedule_chrome_trace.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "dualpipe/schedule/annotation.h"
#include "dualpipe/trace/json_text.h"

namespace dualpipe::render {
namespace {

using schedule::Action;
using schedule::ActionTiming;
using schedule::Chunk;
using schedule::Op;
using trace::json_number;
using trace::json_quote;

std::string chunk_fields(const Chunk& chunk) {
  return "\"stage\":" + std::to_string(chunk.stage) +
         ",\"microbatch\":" + std::to_string(chunk.microbatch) +
         ",\"direction\":" + std::to_string(chunk.direction);
}

std::string action_args(const Action& action, const ActionTiming& timing, const std::string& unit) {
  std::string args =
      "{\"op\":" + json_quote(schedule::op_name(action.op)) + "," + chunk_fields(action.chunk);
  if (action.op == Op::kFB) args += ",\"backward\":{" + chunk_fields(action.backward) + "}";
  if (schedule::is_communication(action.op)) args += ",\"peer\":" + std::to_string(action.peer);
  return args + ",\"start\":" + json_number(timing.start, 6) +
         ",\"duration\":" + json_number(timing.duration, 6) + ",\"unit\":" + json_quote(unit) + "}";
}

std::string metadata(const char* name, int tid, const std::string& args) {
  return "{\"name\":\"" + std::string(name) +
         "\",\"ph\":\"M\",\"pid\":0,\"tid\":" + std::to_string(tid) + ",\"args\":" + args + "}";
}

double earliest_start(const schedule::TimedSchedule& timed) {
  double first = std::numeric_limits<double>::infinity();
  for (const auto& rank_timing : timed.timing) {
    for (const ActionTiming& timing : rank_timing) first = std::min(first, timing.start);
  }
  return first == std::numeric_limits<double>::infinity() ? 0.0 : first;
}

}  // namespace

double microseconds_per(const std::string& time_unit) {
  if (time_unit == "s") return 1e6;
  if (time_unit == "ms") return 1e3;
  if (time_unit == "us") return 1.0;
  if (time_unit == "ns") return 1e-3;
  return 1e3;
}

std::string schedule_chrome_trace(const schedule::TimedSchedule& timed) {
  const auto& programs = timed.schedule.programs;
  if (timed.timing.size() != programs.size()) {
    throw std::invalid_argument("chrome trace: timing and programs cover different ranks");
  }
  const double scale = microseconds_per(timed.time_unit);
  const double origin = earliest_start(timed);
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  out += metadata("process_name", 0,
                  "{\"name\":" + json_quote("pipeline schedule " + timed.schedule.name) + "}");
  for (std::size_t r = 0; r < programs.size(); ++r) {
    if (timed.timing[r].size() != programs[r].size()) {
      throw std::invalid_argument("chrome trace: rank " + std::to_string(r) +
                                  " has a timing count unlike its action count");
    }
    const int rank = static_cast<int>(r);
    out += ",\n" + metadata("thread_name", rank, "{\"name\":\"rank " + std::to_string(r) + "\"}");
    out +=
        ",\n" + metadata("thread_sort_index", rank, "{\"sort_index\":" + std::to_string(r) + "}");
    for (std::size_t i = 0; i < programs[r].size(); ++i) {
      const Action& action = programs[r][i];
      const ActionTiming& timing = timed.timing[r][i];
      const bool instant = action.op == Op::kSendF || action.op == Op::kSendB;
      out += ",\n{\"name\":" + json_quote(schedule::annotation_label(action)) +
             ",\"cat\":" + json_quote(schedule::is_compute(action.op) ? "compute" : "p2p") +
             ",\"ph\":\"" + (instant ? "i\",\"s\":\"t" : "X") +
             "\",\"pid\":0,\"tid\":" + std::to_string(r) +
             ",\"ts\":" + json_number((timing.start - origin) * scale, 3);
      if (!instant) out += ",\"dur\":" + json_number(timing.duration * scale, 3);
      out += ",\"args\":" + action_args(action, timing, timed.time_unit) + "}";
    }
  }
  return out + "\n]}\n";
}

}  // namespace dualpipe::render
