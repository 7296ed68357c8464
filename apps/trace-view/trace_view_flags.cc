#include "trace_view_flags.h"

#include "command_line.h"
#include "dualpipe/trace/kernel_classifier.h"

namespace dualpipe::apps {

void add_trace_view_flags(CLI::App& app, TraceViewFlags& flags) {
  flags.comm_regex = trace::kDefaultCommunicationRegex;
  show_defaults_in_help(app);
  app.add_option("traces", flags.traces, "TRACE.json or TRACE.json.gz, one per rank")
      ->required()
      ->default_str("");
  app.add_option("--comm-regex", flags.comm_regex,
                 "regular expression (RE2 syntax, case-insensitive) naming communication kernels")
      ->group("Analysis");
  app.add_option("--window", flags.window,
                 "only START_MS:END_MS (ms since the first GPU activity); default: all")
      ->group("Analysis");
  app.add_option("--compare-schedule", flags.compare_schedule,
                 "schedule JSON to simulate with the measured durations and line up against the "
                 "measured schedule (report on stdout; with --svg also OUT.compare.svg)")
      ->group("Analysis");
  app.add_option("--summary", flags.summary,
                 "print the statistics as text or json; default: text unless only drawings are "
                 "asked for")
      ->check(CLI::IsMember({"text", "json"}))
      ->group("Output");
  app.add_option("-o,--output", flags.output, "file for the summary ('-': standard output)")
      ->group("Output");
  app.add_option("--svg", flags.svg, "draw the timelines as SVG")->group("Output");
  app.add_option("--html", flags.html, "draw the timelines as a zoomable, self-contained HTML page")
      ->group("Output");
  app.add_option("--perfetto", flags.perfetto,
                 "write a cleaned Chrome/Perfetto trace: one track per lane, overlap counter")
      ->group("Output");
}

}  // namespace dualpipe::apps
