// Test support for the timeline renderers: the hand-made trace of tests/data/trace/ as a layout,
// and the JSON documents the renderers write, parsed.
#pragma once

#include <simdjson.h>

#include <string>
#include <vector>

#include "dualpipe/render/timeline_layout.h"
#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/step_analysis.h"

namespace dualpipe::render::testing {

// Timelines of tests/data/trace/two_streams.json (one rank: stream 7 compute + memcpy, stream 13
// NCCL, phases attn(F) and dispatch(F), ProfilerStep#1).
inline std::vector<trace::RankTimeline> two_streams_timelines() {
  const std::string path = std::string(DUALPIPE_SOURCE_DIR) + "/tests/data/trace/two_streams.json";
  std::vector<trace::ProfileTrace> traces;
  traces.push_back(
      trace::parse_chrome_trace(trace::TraceText::load_file(path), "two_streams.json"));
  return trace::build_timelines(std::move(traces), trace::KernelClassifier());
}

// Their layout over the whole trace.
inline TimelineLayout two_streams_layout() {
  const auto timelines = two_streams_timelines();
  return layout_timelines(timelines, trace::earliest_gpu_start(timelines), std::nullopt);
}

// The timelines of two_streams.json with their step analysis.
struct AnalysedTimelines {
  std::vector<trace::RankTimeline> timelines;
  trace::StepAnalysis analysis;
};

inline AnalysedTimelines two_streams_analysed() {
  AnalysedTimelines result;
  result.timelines = two_streams_timelines();
  result.analysis = trace::align_timelines(result.timelines);
  trace::analyse_step(result.timelines, std::nullopt, result.analysis);
  return result;
}

// Their layout with the analysis lanes (where the time went, critical path).
inline TimelineLayout two_streams_analysed_layout() {
  const AnalysedTimelines analysed = two_streams_analysed();
  return layout_timelines(analysed.timelines, trace::earliest_gpu_start(analysed.timelines),
                          std::nullopt, &analysed.analysis);
}

// A JSON text parsed with simdjson, held together with the parser that owns its memory.
struct ParsedJson {
  explicit ParsedJson(const std::string& text) : root(parser.parse(text)) {}

  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

}  // namespace dualpipe::render::testing
