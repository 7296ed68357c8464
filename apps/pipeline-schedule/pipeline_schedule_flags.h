// pipeline-schedule's command line: which schedules, on which costs, written where; and the rules
// that tie its flags together.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::apps {

// Every flag of pipeline-schedule; unset optionals take the defaults their help names.
struct PipelineScheduleFlags {
  // Schedule.
  std::string schedule;
  std::vector<std::string> compare;
  int ranks = 0;
  int microbatches = 0;
  std::optional<int> virtual_stages;
  bool with_comm = false;
  // Costs.
  std::string costs_path;
  std::optional<double> cost_f, cost_b, cost_w, cost_fb, cost_p2p;
  // Output.
  std::string json, csv, svg, html, chrome_trace;
  std::string summary;  // "", "text" or "json"

  // The output flags and their paths, for rules that treat them alike.
  std::vector<std::pair<const char*, const std::string*>> outputs() const;
  // True when an output goes to standard output ('-').
  bool writes_to_stdout() const;
};

// Adds every flag to `app`, in the groups Schedule, Costs and Output.
void add_pipeline_schedule_flags(CLI::App& app, PipelineScheduleFlags& flags);

// The rules CLI11 cannot express (one of --schedule and --compare, at most one output on
// standard output, ...). Throws std::invalid_argument with a one-line message.
void check_flag_combinations(const PipelineScheduleFlags& flags);

}  // namespace dualpipe::apps
