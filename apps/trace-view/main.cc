// trace-view: summarises and draws PyTorch-profiler traces — how much communication ran under
// compute, what each stream and annotation did, and the pipeline schedule that really ran.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "dualpipe/render/timeline_html.h"
#include "dualpipe/render/timeline_layout.h"
#include "dualpipe/render/timeline_perfetto.h"
#include "dualpipe/render/timeline_svg.h"
#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/kernel_classifier.h"
#include "dualpipe/trace/summary_report.h"
#include "dualpipe/trace/timeline.h"
#include "output_file.h"

namespace {

using namespace dualpipe;

struct Options {
  std::vector<std::string> traces;
  std::string comm_regex = trace::kDefaultCommunicationRegex;
  std::string summary;  // "", "text" or "json"
  std::string output = "-";
  std::string svg;
  std::string html;
  std::string perfetto;
  std::string compare_schedule;
  std::string window;  // "START_MS:END_MS"
};

// "START_MS:END_MS" (either side may be empty) to an absolute window after `origin`.
trace::TimeWindow parse_window(const std::string& text, trace::TimeNs origin) {
  if (text.empty()) return std::nullopt;
  const std::size_t colon = text.find(':');
  const auto bound = [&](const std::string& part, double fallback) {
    if (part.empty()) return fallback;
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size()) {
      throw std::invalid_argument("--window: '" + text +
                                  "' is not START_MS:END_MS (milliseconds, e.g. 10:25.5)");
    }
    return value;
  };
  if (colon == std::string::npos) bound("x", 0);  // reports the expected form
  const double start_ms = bound(text.substr(0, colon), -1e12);
  const double end_ms = bound(text.substr(colon + 1), 1e12);
  if (end_ms <= start_ms) {
    throw std::invalid_argument("--window: end must be after start in '" + text + "'");
  }
  return trace::Interval{origin + static_cast<trace::TimeNs>(start_ms * 1e6),
                         origin + static_cast<trace::TimeNs>(end_ms * 1e6)};
}

int run(const Options& options) {
  const trace::KernelClassifier classifier(options.comm_regex);
  std::vector<trace::ProfileTrace> traces;
  for (const std::string& path : options.traces) {
    traces.push_back(trace::parse_chrome_trace(trace::TraceText::load_file(path), path));
  }
  const std::vector<trace::RankTimeline> timelines =
      trace::build_timelines(std::move(traces), classifier);
  const trace::TimeNs origin = trace::earliest_gpu_start(timelines);
  const trace::TimeWindow window = parse_window(options.window, origin);

  const bool draws = !options.svg.empty() || !options.html.empty() || !options.perfetto.empty();
  if (options.summary == "json") {
    apps::write_output_file(options.output, trace::summary_json(timelines, origin, window));
  } else if (options.summary == "text" || !draws) {
    apps::write_output_file(options.output, trace::summary_text(timelines, origin, window));
  }
  if (!options.svg.empty() || !options.html.empty() || !options.perfetto.empty()) {
    const render::TimelineLayout layout = render::layout_timelines(timelines, origin, window);
    if (!options.svg.empty()) apps::write_output_file(options.svg, render::timeline_svg(layout));
    if (!options.html.empty()) {
      apps::write_output_file(options.html, render::timeline_html(layout));
    }
    if (!options.perfetto.empty()) {
      apps::write_output_file(options.perfetto, render::timeline_perfetto_json(layout));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"trace-view: overlap statistics and drawings of PyTorch-profiler Chrome traces"};
  app.add_option("traces", options.traces, "TRACE.json or TRACE.json.gz, one per rank")
      ->required();
  app.add_option("--comm-regex", options.comm_regex,
                 "regular expression (ECMAScript, case-insensitive) naming communication kernels")
      ->capture_default_str();
  app.add_option("--summary", options.summary, "print the statistics as text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("-o,--output", options.output, "file for the summary (default: standard output)");
  app.add_option("--svg", options.svg, "draw the timelines as SVG");
  app.add_option("--html", options.html, "draw the timelines as a zoomable, self-contained HTML page");
  app.add_option("--perfetto", options.perfetto,
                 "write a cleaned Chrome/Perfetto trace: one track per lane, overlap counter");
  app.add_option("--compare-schedule", options.compare_schedule,
                 "schedule JSON to simulate and line up against the measured schedule");
  app.add_option("--window", options.window,
                 "only START_MS:END_MS (ms since the first GPU activity)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "trace-view: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trace-view: %s\n", e.what());
    return 2;
  }
}
