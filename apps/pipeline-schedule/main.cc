// pipeline-schedule: generates a pipeline schedule, checks it, simulates it on a cost model, and
// writes it (JSON, CSV), draws it (SVG, HTML, Chrome trace) or compares several schedules.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "command_line.h"
#include "cost_profile.h"
#include "dualpipe/render/schedule_chrome_trace.h"
#include "dualpipe/render/schedule_html.h"
#include "dualpipe/render/schedule_svg.h"
#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/schedule_io.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/schedule/validator.h"
#include "input_file.h"
#include "output_file.h"
#include "pipeline_schedule_flags.h"
#include "schedule_report.h"

namespace {

using namespace dualpipe;

using Options = apps::PipelineScheduleFlags;

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

double cost_flag(const std::optional<double>& value, const char* flag, double fallback) {
  if (!value) return fallback;
  if (!std::isfinite(*value) || *value < 0.0) {
    throw std::invalid_argument(std::string(flag) + ": expected a finite number >= 0, got " +
                                number_text(*value));
  }
  return *value;
}

// From --costs, or from the --cost-* flags: F 1, B 2, W B/2, F&B F+B and no P2P cost by default.
schedule::CostModel cost_model(const Options& options) {
  if (!options.costs_path.empty()) {
    const apps::InputFile profile(options.costs_path);
    return apps::parse_cost_profile(std::string(profile.text()), options.costs_path);
  }
  const double forward = cost_flag(options.cost_f, "--cost-f", 1.0);
  const double backward = cost_flag(options.cost_b, "--cost-b", 2.0);
  const double weight = cost_flag(options.cost_w, "--cost-w", backward / 2.0);
  const double overlapped = cost_flag(options.cost_fb, "--cost-fb", forward + backward);
  const double p2p = cost_flag(options.cost_p2p, "--cost-p2p", 0.0);
  if (weight > backward) {
    throw std::invalid_argument("--cost-w: the weight part (" + number_text(weight) +
                                ") cannot exceed the full backward --cost-b (" +
                                number_text(backward) + ")");
  }
  return schedule::uniform_cost_model(forward, backward, weight, overlapped, p2p);
}

// Generates, validates and simulates one schedule.
apps::SimulatedSchedule run_schedule(const std::string& name, const Options& options,
                                     const schedule::CostModel& costs) {
  const int virtual_stages = name == "interleaved-1f1b" ? options.virtual_stages.value_or(2) : 1;
  schedule::Schedule generated =
      schedule::generate_schedule(name, options.ranks, options.microbatches, virtual_stages);
  if (options.with_comm) generated = schedule::with_communication(generated);
  const auto violations = schedule::validate(generated, schedule::P2PMode::kBlocking, 1);
  if (!violations.empty()) {
    throw apps::InternalError("the generated " + name + " schedule fails validation: " +
                              schedule::to_string(violations.front()));
  }
  return apps::SimulatedSchedule{schedule::simulate(generated, costs), virtual_stages};
}

render::ScheduleDrawingOptions drawing_options(const apps::SimulatedSchedule& run,
                                               const schedule::CostModel& costs) {
  const schedule::Schedule& s = run.simulation.timed.schedule;
  render::ScheduleDrawingOptions drawing;
  drawing.title = s.name + ": " + std::to_string(s.num_ranks) + " ranks, " +
                  std::to_string(s.num_microbatches) + " micro-batches";
  const double serial = costs.default_stage.forward + costs.default_stage.backward;
  if (serial > 0.0) drawing.overlapped_forward_share = costs.default_stage.forward / serial;
  return drawing;
}

// Every file the options ask for, as (path, content); built before anything is written.
std::vector<std::pair<std::string, std::string>> output_files(const Options& options,
                                                              const apps::SimulatedSchedule& run,
                                                              const schedule::CostModel& costs) {
  const schedule::TimedSchedule& timed = run.simulation.timed;
  std::vector<std::pair<std::string, std::string>> files;
  if (!options.json.empty())
    files.emplace_back(options.json, schedule::write_schedule_json(timed.schedule));
  if (!options.csv.empty())
    files.emplace_back(options.csv, schedule::write_schedule_csv(timed.schedule));
  if (!options.svg.empty()) {
    files.emplace_back(options.svg, render::schedule_svg(timed, drawing_options(run, costs)));
  }
  if (!options.html.empty()) {
    files.emplace_back(options.html, render::schedule_html(timed, drawing_options(run, costs)));
  }
  if (!options.chrome_trace.empty()) {
    files.emplace_back(options.chrome_trace, render::schedule_chrome_trace(timed));
  }
  return files;
}

int run(const Options& options) {
  apps::check_flag_combinations(options);
  const schedule::CostModel costs = cost_model(options);
  const std::string summary = options.summary.empty() ? "text" : options.summary;
  if (!options.compare.empty()) {
    std::vector<apps::SimulatedSchedule> runs;
    for (const std::string& name : options.compare)
      runs.push_back(run_schedule(name, options, costs));
    std::cout << (summary == "json" ? apps::comparison_json(runs, costs)
                                    : apps::comparison_table(runs, costs));
    return 0;
  }
  const apps::SimulatedSchedule simulated = run_schedule(options.schedule, options, costs);
  for (const auto& [path, content] : output_files(options, simulated, costs)) {
    apps::write_output_file(path, content);
  }
  if (!options.writes_to_stdout()) {
    std::cout << (summary == "json" ? apps::summary_json(simulated)
                                    : apps::summary_text(simulated));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Generates, validates, simulates, draws and compares pipeline schedules.",
               "pipeline-schedule"};
  Options options;
  apps::add_pipeline_schedule_flags(app, options);
  return apps::parse_and_run(app, argc, argv, [&] { return run(options); });
}
