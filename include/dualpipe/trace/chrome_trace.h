// Chrome-trace reading: the events of one PyTorch-profiler (Kineto) trace that timelines need —
// GPU activities, the CPU runtime calls that launched them, user annotations and track names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dualpipe/trace/trace_text.h"

namespace dualpipe::trace {

// Nanoseconds on the trace's clock (Chrome traces count microseconds; fractions are kept).
using TimeNs = std::int64_t;

// A process or thread id. Integer ids (and strings holding integers) are themselves; other
// strings ("Spans", "stream 7 ") are numbered -1, -2, ... in ProfileTrace::text_ids.
using TrackId = std::int64_t;

// What a GPU activity is, from its Chrome-trace category.
enum class ActivityCategory { kKernel, kMemcpy, kMemset };

// What the PyTorch profiler records about the communication a kernel performs (kernel args
// "Collective name", "In msg nelems", "Process Group Name", "Process Group Ranks", "Src Rank" and
// "Dst Rank"; recent PyTorch versions write them for NCCL kernels).
struct CommunicationArgs {
  std::string collective;        // "send", "recv", "all_reduce", "all_to_allv", ...
  std::string group;             // "Process Group Name", else "Process Group Ranks", else ""
  std::vector<int> group_ranks;  // the group's global ranks ("Process Group Ranks"), may be empty
  int peer = -1;                 // "Dst Rank" of a send, "Src Rank" of a receive (group rank)
  std::int64_t elements = -1;    // "In msg nelems"; -1 when absent
};

// One GPU activity ("X" event of category kernel, gpu_memcpy or gpu_memset).
struct GpuActivity {
  TimeNs start = 0;
  TimeNs duration = 0;
  TrackId device = 0;               // the event's pid: the GPU
  TrackId stream = 0;               // the event's tid: the CUDA stream
  std::int64_t correlation = -1;    // args.correlation; -1 when absent
  std::uint32_t name = 0;           // index into ProfileTrace::names
  std::int32_t communication = -1;  // index into ProfileTrace::communication_args, -1 for none
  ActivityCategory category = ActivityCategory::kKernel;
  TimeNs end() const { return start + duration; }
};

// One CUDA runtime or driver call on a CPU thread (category cuda_runtime or cuda_driver) that
// carries a correlation id, i.e. may have launched GPU work.
struct RuntimeLaunch {
  TimeNs start = 0;
  TrackId process = 0;
  TrackId thread = 0;
  std::int64_t correlation = -1;
};

// One user annotation (record_function range, category user_annotation) on a CPU thread.
struct CpuAnnotation {
  TimeNs start = 0;
  TimeNs duration = 0;
  TrackId process = 0;
  TrackId thread = 0;
  std::uint32_t name = 0;  // index into ProfileTrace::names
  TimeNs end() const { return start + duration; }
};

// What one trace file holds, in file order. Event vectors are sorted by start time.
struct ProfileTrace {
  std::string source;                 // file name, for messages
  std::optional<int> rank;            // distributedInfo.rank when present
  std::optional<int> world_size;      // distributedInfo.world_size when present
  // Recorded without a GPU (a CPU-only LibTorch): gpu_activities then hold each CPU thread's
  // outermost operators (device = pid, stream = tid) and its c10d ranges ("gloo:...").
  bool cpu_only = false;
  std::vector<std::string> names;     // distinct event names
  std::vector<std::string> text_ids;  // text of string pids/tids: id -1 is text_ids[0]
  std::vector<GpuActivity> gpu_activities;
  std::vector<CommunicationArgs> communication_args;
  std::vector<RuntimeLaunch> launches;
  std::vector<CpuAnnotation> annotations;
  std::map<TrackId, std::string> process_labels;                    // "M" process_labels/_name
  std::map<std::pair<TrackId, TrackId>, std::string> thread_names;  // "M" thread_name

  // The id as written in the trace: "7" or "stream 7".
  std::string id_text(TrackId id) const;
};

// Parses Chrome-trace JSON: an object with "traceEvents" (and optionally "distributedInfo"), or a
// bare array of events. Timestamps may be integers or floats, pids/tids integers or strings;
// optional fields (args, correlation, pid, tid) may be missing; GPU activities and annotations
// need "ts" and "dur". `source` names the input in errors. Throws TraceFormatError with the byte
// offset for text that is not JSON, is truncated, has a wrong type where a field is read, is not a
// trace, lacks a GPU activity's or annotation's "ts" or "dur", or has no GPU activity (a trace with
// CPU operators but no GPU activity is read as a CPU trace: ProfileTrace::cpu_only).
// A large trace is read in pieces on up to `threads` threads (its events array cut at whole
// events); the result is the same as reading it whole.
ProfileTrace parse_chrome_trace(const TraceText& text, const std::string& source,
                                unsigned threads = 1);

}  // namespace dualpipe::trace
