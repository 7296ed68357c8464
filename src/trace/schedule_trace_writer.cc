#include "dualpipe/trace/schedule_trace_writer.h"

#include <sstream>
#include <stdexcept>

#include "dualpipe/schedule/annotation.h"
#include "dualpipe/trace/json_text.h"

namespace dualpipe::trace {
namespace {

constexpr int kCpuProcess = 1000;    // pid of the writing process
constexpr int kComputeStream = 7;    // tid of the compute stream
constexpr int kCommStream = 13;      // tid of the communication stream
constexpr std::size_t kCpuSlotUs = 10;  // CPU time given to each action's annotation

// Milliseconds to the trace's microseconds, printed with nanosecond precision.
std::string microseconds(double ms) { return json_number(ms * 1000.0, 3); }

}  // namespace

std::string schedule_rank_trace_json(const schedule::TimedSchedule& timed, int rank) {
  const auto& programs = timed.schedule.programs;
  if (rank < 0 || rank >= static_cast<int>(programs.size()) ||
      rank >= static_cast<int>(timed.timing.size()) ||
      timed.timing[static_cast<std::size_t>(rank)].size() !=
          programs[static_cast<std::size_t>(rank)].size()) {
    throw std::invalid_argument("schedule_rank_trace_json: rank " + std::to_string(rank) +
                                " has no program with matching timings");
  }
  const int device = rank;
  std::ostringstream out;
  out << "{\"schemaVersion\": 1, \"distributedInfo\": {\"backend\": \"nccl\", \"rank\": " << rank
      << ", \"world_size\": " << programs.size() << "},\n\"traceEvents\": [\n";
  out << "{\"name\": \"process_labels\", \"ph\": \"M\", \"pid\": " << device
      << ", \"tid\": 0, \"args\": {\"labels\": \"GPU " << device << "\"}}";
  for (int stream : {kComputeStream, kCommStream}) {
    out << ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " << device
        << ", \"tid\": " << stream << ", \"args\": {\"name\": \"stream " << stream << " \"}}";
  }
  const auto& program = programs[static_cast<std::size_t>(rank)];
  const auto& timing = timed.timing[static_cast<std::size_t>(rank)];
  for (std::size_t i = 0; i < program.size(); ++i) {
    const schedule::Action& action = program[i];
    const bool communication = schedule::is_communication(action.op);
    const std::string start = microseconds(timing[i].start);
    const std::string duration = microseconds(timing[i].duration);
    const std::size_t correlation = i + 1;
    // CPU side: one disjoint 10 us slot per action in program order, so that each annotation
    // holds exactly its own launch whatever the GPU timings.
    const std::size_t cpu_start = kCpuSlotUs * i;
    out << ",\n{\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": "
        << json_quote(schedule::annotation_label(action)) << ", \"pid\": " << kCpuProcess
        << ", \"tid\": " << kCpuProcess << ", \"ts\": " << cpu_start
        << ", \"dur\": " << kCpuSlotUs / 2 << "}";
    out << ",\n{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", "
        << "\"pid\": " << kCpuProcess << ", \"tid\": " << kCpuProcess
        << ", \"ts\": " << cpu_start + 1 << ", \"dur\": 1, \"args\": {\"correlation\": "
        << correlation << "}}";
    out << ",\n{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": "
        << json_quote(communication ? "ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)"
                                    : std::string("dualpipe_") + schedule::op_name(action.op) +
                                          "_kernel")
        << ", \"pid\": " << device << ", \"tid\": " << (communication ? kCommStream : kComputeStream)
        << ", \"ts\": " << start << ", \"dur\": " << duration
        << ", \"args\": {\"correlation\": " << correlation << "}}";
  }
  out << "\n]}\n";
  return out.str();
}

}  // namespace dualpipe::trace
