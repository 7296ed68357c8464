// Timelines: one rank's GPU work per stream, and its CPU annotations projected into GPU time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dualpipe/schedule/action.h"
#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/intervals.h"
#include "dualpipe/trace/kernel_classifier.h"

namespace dualpipe::trace {

// One GPU activity placed on its stream.
struct TimelineKernel {
  TimeNs start = 0;
  TimeNs end = 0;
  std::uint32_t name = 0;  // index into RankTimeline::kernel_names
  KernelKind kind = KernelKind::kCompute;
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
  std::vector<std::string> kernel_names;
  std::vector<StreamTimeline> streams;        // sorted by device, then stream
  std::vector<AnnotationWindow> annotations;  // sorted by CPU start
  TimeNs gpu_start() const;                   // earliest GPU activity start
  TimeNs gpu_end() const;                     // latest GPU activity end
};

// Builds the timeline of one trace, classifying kernels with `classifier`.
RankTimeline build_timeline(ProfileTrace trace, int rank, const KernelClassifier& classifier);

// Builds the timelines of several traces (one per rank). A trace's rank is its
// distributedInfo.rank, else its position in `traces`. Throws std::invalid_argument when two
// traces claim the same rank. The result is sorted by rank.
std::vector<RankTimeline> build_timelines(std::vector<ProfileTrace> traces,
                                          const KernelClassifier& classifier);

// The earliest GPU activity start over all timelines: time zero of reports and drawings.
TimeNs earliest_gpu_start(const std::vector<RankTimeline>& timelines);

}  // namespace dualpipe::trace
