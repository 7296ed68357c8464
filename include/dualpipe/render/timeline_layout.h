// Timeline layout: what the timeline drawings (SVG, HTML, Perfetto) show — lanes of bars in
// milliseconds — computed once from the measured timelines so that every format agrees.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::render {

// What a bar is; it decides the colour.
enum class BarKind {
  kCompute,         // compute kernel
  kCommunication,   // communication kernel
  kMemory,          // memcpy or memset
  kPhase,           // DeepSeek-style phase annotation ("attn(F)") in GPU time
  kPipelineAction,  // toolkit pipeline action annotation in GPU time
  kAnnotation,      // any other annotation in GPU time
  kHiddenComm,      // communication running under compute
  kExposedComm,     // communication with no compute beside it
  kTransfer,        // where the time went: a communication kernel moving data
  kWait,            // where the time went: waiting for a peer
  kHostGap,         // where the time went: GPU idle, nothing launched
  kOtherTime,       // where the time went: anything else
  kCriticalPath,    // a step of the critical path
};

// What a lane holds.
enum class LaneKind {
  kPhases,
  kPipelineActions,
  kAnnotations,
  kStream,
  kOverlap,
  kAttribution,   // where the rank's time went (compute, transfer, waiting, host gap, other)
  kCriticalPath,  // the critical path's steps on this rank
};

// One bar: [start_ms, end_ms) since the layout's origin, a kind and a label.
struct TimelineBar {
  double start_ms = 0.0;
  double end_ms = 0.0;
  BarKind kind = BarKind::kCompute;
  std::uint32_t label = 0;  // index into TimelineLayout::labels
};

// One horizontal lane of one rank.
struct TimelineLane {
  std::string title;  // e.g. "rank 0 · stream 7" or "rank 0 · phases (F)"
  int rank = 0;
  LaneKind kind = LaneKind::kStream;
  std::vector<TimelineBar> bars;  // sorted by start
};

// Per-rank figures printed beside the drawing.
struct RankCaption {
  int rank = 0;
  std::string source;
  double comm_ms = 0.0;
  double overlap_pct = 0.0;
  double exposed_comm_ms = 0.0;
};

// Everything to draw: the time range, the lanes (rank by rank: phases, pipeline actions, other
// annotations by nesting depth, streams, then the communication overlap lane) and their labels.
struct TimelineLayout {
  double start_ms = 0.0;
  double end_ms = 0.0;
  double origin_us = 0.0;  // absolute trace time of 0 ms, in microseconds
  std::vector<std::string> labels;
  std::vector<TimelineLane> lanes;
  std::vector<RankCaption> captions;
};

// Lays out `timelines` inside `window` (everything when unset), times in ms since `origin`.
// Annotations appear in GPU time (those that launched no GPU work are left out); bars are clipped
// to the window. With `analysis` (analyse_step's for the same timelines and window) every rank
// also gets a lane of where its time went and, where the critical path runs on it, a critical
// path lane.
TimelineLayout layout_timelines(const std::vector<trace::RankTimeline>& timelines,
                                trace::TimeNs origin, const trace::TimeWindow& window,
                                const trace::StepAnalysis* analysis = nullptr);

// Short name of a bar kind ("compute", "communication", ...), used in legends and exports.
const char* bar_kind_name(BarKind kind);

// One legend entry: what a colour means.
struct LegendEntry {
  std::string text;
  std::string colour;
};

// The legend every timeline drawing shows.
std::vector<LegendEntry> timeline_legend();

// Fill colour of a bar: by kind, and for phases by phase name (attn, dispatch, mlp, combine).
std::string bar_colour(BarKind kind, const std::string& label);

}  // namespace dualpipe::render
