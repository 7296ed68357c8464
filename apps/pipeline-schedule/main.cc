// pipeline-schedule: generates a pipeline schedule, checks it, simulates it on a cost model, and
// writes it (JSON, CSV), draws it (SVG, HTML, Chrome trace) or compares several schedules.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
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
#include "pipeline_schedule_flags.h"
#include "schedule_report.h"
#include "staged_outputs.h"

namespace {

using namespace dualpipe;

using Options = apps::PipelineScheduleFlags;

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Drawings of more actions than this would take hundreds of megabytes and more time to draw
// than to read: larger schedules are refused for --svg and --html, which browsers could not
// show either; --chrome-trace (Perfetto) takes four times as many.
constexpr std::size_t kMostDrawnActions = 262144;

// Cost profiles are a few lines of YAML.
constexpr apps::InputLimits kProfileLimits{std::size_t{16} << 20, true};

// From --costs, or from the --cost-* flags: F 1, B 2, W B/2, F&B F+B and no P2P cost by default.
schedule::CostModel cost_model(const Options& options) {
  if (!options.costs_path.empty()) {
    const apps::InputFile profile(options.costs_path, kProfileLimits);
    return apps::parse_cost_profile(std::string(profile.text()), options.costs_path);
  }
  // The flags' domains (0 to kLargestDuration) were checked when they were parsed.
  const double forward = options.cost_f.value_or(1.0);
  const double backward = options.cost_b.value_or(2.0);
  const double weight = options.cost_w.value_or(backward / 2.0);
  const double overlapped = options.cost_fb.value_or(forward + backward);
  const double p2p = options.cost_p2p.value_or(0.0);
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

// Refuses a drawing of more actions than `most`, naming its flag.
void check_drawing_size(const schedule::Schedule& s, const char* flag, std::size_t most) {
  std::size_t actions = 0;
  for (const auto& program : s.programs) actions += program.size();
  if (actions <= most) return;
  throw std::invalid_argument(std::string(flag) + ": the schedule has " + std::to_string(actions) +
                              " actions; drawings hold at most " + std::to_string(most) +
                              " (use fewer --ranks or --microbatches, or --json)");
}

// Queues every output the options ask for; the drawings are made only while they are written.
void add_outputs(apps::StagedOutputs& outputs, const Options& options,
                 const apps::SimulatedSchedule& run, const schedule::CostModel& costs) {
  const schedule::TimedSchedule& timed = run.simulation.timed;
  if (!options.svg.empty()) check_drawing_size(timed.schedule, "--svg", kMostDrawnActions);
  if (!options.html.empty()) check_drawing_size(timed.schedule, "--html", kMostDrawnActions);
  if (!options.chrome_trace.empty())
    check_drawing_size(timed.schedule, "--chrome-trace", 4 * kMostDrawnActions);
  const auto add = [&](const std::string& path, std::function<std::string()> make) {
    if (path.empty()) return;
    outputs.add(path, [make](const apps::StagedOutputs::Sink& sink) { sink(make()); });
  };
  add(options.json, [&] { return schedule::write_schedule_json(timed.schedule); });
  add(options.csv, [&] { return schedule::write_schedule_csv(timed.schedule); });
  add(options.svg, [&] { return render::schedule_svg(timed, drawing_options(run, costs)); });
  add(options.html, [&] { return render::schedule_html(timed, drawing_options(run, costs)); });
  add(options.chrome_trace, [&] { return render::schedule_chrome_trace(timed); });
}

int run(const Options& options) {
  apps::check_flag_combinations(options);
  const schedule::CostModel costs = cost_model(options);
  const std::string summary = options.summary.empty() ? "text" : options.summary;
  apps::StagedOutputs outputs;
  if (!options.compare.empty()) {
    std::vector<apps::SimulatedSchedule> runs;
    for (const std::string& name : options.compare)
      runs.push_back(run_schedule(name, options, costs));
    outputs.add("-", summary == "json" ? apps::comparison_json(runs, costs)
                                       : apps::comparison_table(runs, costs));
    outputs.commit();
    return 0;
  }
  const apps::SimulatedSchedule simulated = run_schedule(options.schedule, options, costs);
  add_outputs(outputs, options, simulated, costs);
  if (!options.writes_to_stdout()) {
    outputs.add("-",
                summary == "json" ? apps::summary_json(simulated) : apps::summary_text(simulated));
  }
  outputs.commit();
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
