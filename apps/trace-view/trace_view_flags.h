// trace-view's command line: the traces to read, how to analyse them and what to write.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace dualpipe::apps {

// Every flag of trace-view, with its default.
struct TraceViewFlags {
  std::vector<std::string> traces;
  std::string comm_regex;  // set to the default by add_trace_view_flags
  std::string summary;     // "", "text" or "json"
  std::string output = "-";
  std::string svg;
  std::string html;
  std::string perfetto;
  std::string compare_schedule;
  std::string window;  // "START_MS:END_MS"
};

// Adds every flag of trace-view to `app`, in the groups Analysis and Output.
void add_trace_view_flags(CLI::App& app, TraceViewFlags& flags);

}  // namespace dualpipe::apps
