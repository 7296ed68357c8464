// Timelines: one rank's GPU work per stream, and its CPU annotations projected into GPU time.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dualpipe/schedule/action.h"
#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/intervals.h"
#include "dualpipe/trace/kernel_classifier.h"

namespace dualpipe::trace {

// Launch time of a GPU activity whose launching runtime call the trace does not have.
inline constexpr TimeNs kUnknownLaunch = INT64_MAX;

// One GPU activity placed on its stream.
struct TimelineKernel {
  TimeNs start = 0;
  TimeNs end = 0;
  TimeNs launched = kUnknownLaunch;  // start of the CPU runtime call that launched it
  std::uint32_t name = 0;            // index into RankTimeline::kernel_names
  std::int32_t owner = -1;  // index into RankTimeline::annotations of the action that launched it
  std::int32_t call = -1;   // index into RankTimeline::calls for communication kernels
  KernelKind kind = KernelKind::kCompute;
};

// What a communication kernel does with other ranks.
enum class CallKind { kSend, kReceive, kCollective };

// One communication kernel and what the trace tells about it: from its kernel args when PyTorch
// recorded them, else from the annotations that launched it ("nccl:send 0->1" from PyTorch,
// "dualpipe:SEND_F s0 m0 d0 p1" from the toolkit's runtime). Kernels that tell nothing are
// collectives of unknown group.
struct CommunicationCall {
  std::uint32_t stream = 0;  // index into RankTimeline::streams
  std::uint32_t kernel = 0;  // index into that stream's kernels
  CallKind kind = CallKind::kCollective;
  int peer = -1;               // global rank of the other side of a send or receive; -1 unknown
  std::string collective;      // "send", "recv", "all_reduce", ...; the kernel name when unknown
  std::string group;           // the communicator as the trace names it; "" when unknown
  std::vector<int> members;    // global ranks of the communicator; empty when unknown
  std::int64_t elements = -1;  // message elements; -1 when unknown
};

// The activities of one CUDA stream of one GPU, sorted by start.
struct StreamTimeline {
  TrackId device = 0;
  TrackId stream = 0;
  std::string label;  // "stream 7", or "GPU 1 stream 7" when the trace has several GPUs
  std::vector<TimelineKernel> kernels;
};

// What an annotation names: a toolkit pipeline action ("dualpipe:F s1 m3 d0"), a DeepSeek-style
// phase ("attn(F)"), or anything else (ProfilerStep#1, user ranges).
enum class AnnotationKind { kPipelineAction, kPhase, kOther };

// A CPU annotation and the GPU work launched inside it: the runtime launches on any thread of its
// process that start within its CPU window, joined to GPU activities through their correlation.
struct AnnotationWindow {
  std::string name;
  AnnotationKind kind = AnnotationKind::kOther;
  std::optional<schedule::Action> action;  // set for PipelineAction
  TimeNs cpu_start = 0;
  TimeNs cpu_end = 0;
  TrackId process = 0;
  TrackId thread = 0;
  int depth = 0;              // nesting level among the annotations of its thread (0 = outermost)
  int kernels = 0;            // GPU activities launched inside the window
  TimeNs gpu_start = 0;       // first start of those activities (valid when kernels > 0)
  TimeNs gpu_end = 0;         // last end of those activities (valid when kernels > 0)
  TimeNs gpu_busy = 0;        // union of those activities' durations
  IntervalSet communication;  // union of those activities that are communication kernels
  bool on_gpu() const { return kernels > 0; }
};

// Everything the viewer knows about one rank.
struct RankTimeline {
  std::string source;  // trace file name
  int rank = 0;
  std::optional<int> world_size;  // from the trace's distributedInfo
  std::vector<std::string> kernel_names;
  std::vector<StreamTimeline> streams;        // sorted by device, then stream
  std::vector<AnnotationWindow> annotations;  // sorted by CPU start
  std::vector<CommunicationCall> calls;       // sorted by kernel start
  TimeNs gpu_start() const;                   // earliest GPU activity start
  TimeNs gpu_end() const;                     // latest GPU activity end
};

// Moves every time of `timeline` (kernels, launches, annotations) by `offset`.
void shift_timeline(RankTimeline& timeline, TimeNs offset);

// Builds the timeline of one trace, classifying kernels with `classifier`.
RankTimeline build_timeline(ProfileTrace trace, int rank, const KernelClassifier& classifier);

// Builds the timelines of several traces (one per rank). A trace's rank is its
// distributedInfo.rank, else its position in `traces`. Throws std::invalid_argument when two
// traces claim the same rank. The result is sorted by rank.
std::vector<RankTimeline> build_timelines(std::vector<ProfileTrace> traces,
                                          const KernelClassifier& classifier);

// Sorts timelines by rank; throws std::invalid_argument naming both files when two have one rank.
std::vector<RankTimeline> sorted_by_rank(std::vector<RankTimeline> timelines);

// The earliest GPU activity start over all timelines: time zero of reports and drawings.
TimeNs earliest_gpu_start(const std::vector<RankTimeline>& timelines);

}  // namespace dualpipe::trace
