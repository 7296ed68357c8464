// trace-view: summarises and draws PyTorch-profiler traces — where each rank's step time went
// (compute, transfer, waiting for a peer, host gaps), the critical path across ranks, how much
// communication ran under compute, and the pipeline schedule that really ran.
#include <CLI/CLI.hpp>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "command_line.h"
#include "dualpipe/render/timeline_html.h"
#include "dualpipe/render/timeline_layout.h"
#include "dualpipe/render/timeline_perfetto.h"
#include "dualpipe/render/timeline_svg.h"
#include "dualpipe/trace/kernel_classifier.h"
#include "dualpipe/trace/schedule_extraction.h"
#include "dualpipe/trace/schedule_json.h"
#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/summary_report.h"
#include "dualpipe/trace/timeline_loading.h"
#include "input_file.h"
#include "schedule_comparison.h"
#include "staged_outputs.h"
#include "trace_view_flags.h"
#include "window_flag.h"

namespace {

using namespace dualpipe;

// Traces larger than this are refused before reading (a day of a busy rank's kernels is less).
constexpr std::size_t kLargestTrace = std::size_t{8} << 30;

using Options = apps::TraceViewFlags;

// "out.svg" -> "out.compare.svg"
std::string comparison_svg_path(const std::string& svg_path) {
  const std::size_t dot = svg_path.rfind('.');
  const std::size_t slash = svg_path.rfind('/');
  const bool has_extension =
      dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (has_extension ? svg_path.substr(0, dot) : svg_path) + ".compare.svg";
}

void compare_schedule(const std::vector<trace::RankTimeline>& timelines, trace::TimeNs origin,
                      const Options& options, apps::StagedOutputs& outputs) {
  const auto measured = trace::extract_schedule(timelines, origin);
  if (!measured) {
    throw std::invalid_argument(
        "--compare-schedule: the traces have no pipeline annotations of the toolkit "
        "(\"dualpipe:F s0 m0 d0\", ...) to compare with");
  }
  const apps::InputFile planned_file(options.compare_schedule);
  schedule::Schedule planned;
  try {
    planned = trace::read_schedule_json(std::string(planned_file.text()));
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(options.compare_schedule + ": " + error.what());
  }
  const int measured_ranks = measured->schedule.num_ranks;
  if (planned.num_ranks != measured_ranks) {
    throw std::invalid_argument(
        "--compare-schedule: " + options.compare_schedule + " plans " +
        std::to_string(planned.num_ranks) + " ranks, but the " + std::to_string(timelines.size()) +
        " traces measured " + std::to_string(measured_ranks) +
        " (give one trace per planned rank)");
  }
  const apps::ScheduleComparison comparison =
      apps::compare_schedules(*measured, planned, options.compare_schedule);
  outputs.add("-", comparison.report);
  if (!options.svg.empty()) outputs.add(comparison_svg_path(options.svg), comparison.svg);
}

int run(const Options& options) {
  const trace::KernelClassifier classifier(options.comm_regex);
  for (const std::string& path : options.traces) apps::check_input_file(path, kLargestTrace);
  std::vector<trace::RankTimeline> timelines = trace::load_timelines(options.traces, classifier);
  trace::StepAnalysis analysis = trace::align_timelines(timelines);
  const trace::TimeNs origin = trace::earliest_gpu_start(timelines);
  const trace::TimeWindow window = apps::parse_window_flag(options.window, origin);
  trace::analyse_step(timelines, window, analysis);

  const bool draws = !options.svg.empty() || !options.html.empty() || !options.perfetto.empty() ||
                     !options.compare_schedule.empty();
  apps::StagedOutputs outputs;  // every output is written, or none
  if (options.summary == "json") {
    outputs.add(options.output, trace::summary_json(timelines, analysis, origin, window));
  } else if (options.summary == "text" || !draws) {
    outputs.add(options.output, trace::summary_text(timelines, analysis, origin, window));
  }
  if (!options.svg.empty() || !options.html.empty() || !options.perfetto.empty()) {
    const render::TimelineLayout layout =
        render::layout_timelines(timelines, origin, window, &analysis);
    if (!options.svg.empty()) outputs.add(options.svg, render::timeline_svg(layout));
    if (!options.html.empty()) outputs.add(options.html, render::timeline_html(layout));
    if (!options.perfetto.empty()) {
      outputs.add(options.perfetto, render::timeline_perfetto_json(layout));
    }
  }
  if (!options.compare_schedule.empty()) compare_schedule(timelines, origin, options, outputs);
  outputs.commit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"where a step's time went across ranks, and drawings, of PyTorch-profiler traces",
               "trace-view"};
  apps::add_trace_view_flags(app, options);
  return apps::parse_and_run(app, argc, argv, [&] { return run(options); });
}
