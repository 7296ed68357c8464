// eplb-plan: plans expert replicas on GPUs from expert load logs (docs/eplb.md).
//   eplb-plan LOADS --replicas R --groups G --nodes N --gpus P [--policy balanced|deepseek] ...
//   eplb-plan replay LOADS ... --interval K
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "command_line.h"
#include "dualpipe/eplb/aggregation.h"
#include "dualpipe/eplb/load_reader.h"
#include "dualpipe/eplb/lower_bound.h"
#include "dualpipe/eplb/migration.h"
#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/plan_formats.h"
#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/policy.h"
#include "dualpipe/eplb/replay.h"
#include "dualpipe/eplb/slot_table.h"
#include "dualpipe/eplb/statistics.h"
#include "input_file.h"
#include "load_chart.h"
#include "plan_report.h"
#include "sglang_dump.h"
#include "staged_outputs.h"

namespace eplb = dualpipe::eplb;
using dualpipe::apps::StagedOutputs;

namespace {

// A user error tied to a file: printed as "FILE: message".
struct FileError : std::runtime_error {
  FileError(const std::string& path, const std::string& message)
      : std::runtime_error(path + ": " + message) {}
};

// Flags shared by planning and replay.
struct CommonOptions {
  std::string loads_path;
  eplb::PlanParameters parameters;
  std::string policy = "balanced";
  std::string aggregate = "sum";
  std::optional<int> max_moves;  // unlimited when absent
  std::optional<double> min_gain;
};

struct PlanOptions {
  std::string previous_path;
  std::string format = "json";
  std::string output = "-";
  std::string report;
  std::string svg_path;
  int first_layer = 0;
};

struct ReplayOptions {
  int interval = 0;
  std::string report = "text";
  std::string output = "-";
};

eplb::LoadSeries read_loads(const std::string& path) {
  const dualpipe::apps::InputFile file(path);
  if (eplb::is_torch_save_file(file.text(), path))
    return dualpipe::apps::read_sglang_dump(path, file.text());
  try {
    return eplb::parse_loads(file.text(), path);
  } catch (const eplb::ParseError& error) {
    throw FileError(path, error.what());
  }
}

eplb::SlotTable read_previous(const std::string& path, int num_experts) {
  const dualpipe::apps::InputFile file(path);
  try {
    return eplb::slot_table_from_phy2log(eplb::parse_plan_phy2log(file.text()), num_experts);
  } catch (const eplb::ParseError& error) {
    throw FileError(path, error.what());
  } catch (const std::invalid_argument& error) {
    throw FileError(path, error.what());
  }
}

// Re-planning limits when --max-moves or --min-gain is given (checked as the library checks them).
std::optional<eplb::MigrationOptions> migration_options(const CommonOptions& common) {
  if (!common.max_moves && !common.min_gain) return std::nullopt;
  eplb::MigrationOptions options;
  if (common.max_moves) options.max_moves = *common.max_moves;
  options.min_gain = common.min_gain.value_or(0.0);
  eplb::check_migration_options(options);
  return options;
}

int run_plan(const CommonOptions& common, const PlanOptions& options) {
  const eplb::Policy policy = eplb::parse_policy(common.policy);
  const eplb::PlanFormat format = eplb::parse_plan_format(options.format);
  const eplb::Aggregation aggregation = eplb::parse_aggregation(common.aggregate);
  if (!options.report.empty() && options.report != "text" && options.report != "json") {
    throw std::invalid_argument("--report '" + options.report + "': expected text or json");
  }
  const auto migration = migration_options(common);
  if (migration && options.previous_path.empty()) {
    throw std::invalid_argument("--max-moves and --min-gain need --previous PLAN");
  }
  const eplb::PlanProblem problem = eplb::make_plan_problem(
      eplb::aggregate(read_loads(common.loads_path), aggregation), common.parameters);
  const eplb::PlanParameters& p = common.parameters;

  eplb::PlanDocument document;
  document.parameters = p;
  document.policy = eplb::to_string(policy);
  document.first_layer = options.first_layer;
  std::optional<eplb::SlotTable> previous;
  if (!options.previous_path.empty()) {
    previous = read_previous(options.previous_path, problem.num_experts());
    eplb::Replan replan =
        eplb::replan(problem, policy, *previous, migration.value_or(eplb::MigrationOptions{}));
    document.slots = std::move(replan.placement);
    document.replicas_moved = replan.replicas_moved;
  } else {
    document.slots = eplb::plan(problem, policy);
  }
  const std::vector<eplb::LayerLowerBound> bounds = eplb::lower_bounds(problem);
  document.statistics = eplb::placement_statistics(document.slots, problem, bounds);

  StagedOutputs outputs;
  outputs.add(options.output,
              [&](const StagedOutputs::Sink& sink) { eplb::write_plan(document, format, sink); });
  if (!options.report.empty() || !options.svg_path.empty()) {
    // "Before" is the previous plan, else SGLang's trivial placement.
    const std::string before_name = previous ? "previous plan" : "trivial placement";
    const eplb::SlotTable before =
        previous ? *previous
                 : eplb::trivial_placement(problem.num_layers(), problem.num_experts(), p.replicas);
    if (!options.report.empty()) {
      dualpipe::apps::PlanReportInput report{
          document.policy,     p,
          document.statistics, eplb::placement_statistics(before, problem, bounds),
          before_name,         document.replicas_moved};
      const std::string text = options.report == "json" ? dualpipe::apps::plan_report_json(report)
                                                        : dualpipe::apps::plan_report_text(report);
      if (options.output == "-") {
        std::cerr << text;
      } else {
        outputs.add("-", text);
      }
    }
    if (!options.svg_path.empty()) {
      outputs.add(options.svg_path,
                  dualpipe::apps::gpu_load_chart(eplb::total_gpu_loads(before, problem),
                                                 eplb::total_gpu_loads(document.slots, problem),
                                                 before_name));
    }
  }
  outputs.commit();
  return 0;
}

int run_replay(const CommonOptions& common, const ReplayOptions& options) {
  if (options.report != "text" && options.report != "json") {
    throw std::invalid_argument("--report '" + options.report + "': expected text or json");
  }
  eplb::ReplayOptions replay;
  replay.interval = options.interval;
  replay.aggregation = eplb::parse_aggregation(common.aggregate);
  replay.policy = eplb::parse_policy(common.policy);
  replay.migration = migration_options(common);
  const eplb::LoadSeries series = read_loads(common.loads_path);
  eplb::validate_parameters(common.parameters, static_cast<int>(series[0].cols()));
  if (options.interval < 1) throw std::invalid_argument("--interval must be at least 1");
  if (static_cast<int>(series.size()) <= options.interval) {
    throw FileError(common.loads_path, std::to_string(series.size()) +
                                           " steps; replay with --interval " +
                                           std::to_string(options.interval) + " needs more than " +
                                           std::to_string(options.interval));
  }
  const auto windows = eplb::replay(series, common.parameters, replay);
  StagedOutputs outputs;
  outputs.add(options.output, options.report == "json"
                                  ? dualpipe::apps::replay_report_json(windows)
                                  : dualpipe::apps::replay_report_text(windows));
  outputs.commit();
  return 0;
}

void add_common_options(CLI::App& app, CommonOptions& common) {
  app.add_option(
      "LOADS", common.loads_path,
      "expert loads: .csv, .json, .yaml, .npy or SGLang .pt dump (needs the LibTorch plugin)");
  app.add_option("--replicas", common.parameters.replicas, "physical expert slots per layer")
      ->required();
  app.add_option("--groups", common.parameters.groups, "expert groups")->required();
  app.add_option("--nodes", common.parameters.nodes, "nodes")->required();
  app.add_option("--gpus", common.parameters.gpus, "GPUs")->required();
  app.add_option("--policy", common.policy, "balanced (default) or deepseek");
  app.add_option("--aggregate", common.aggregate, "sum (default), mean, window:K or ema:ALPHA");
  app.add_option("--max-moves", common.max_moves,
                 "most replicas moved from the previous plan, >= 0 (default: unlimited)");
  app.add_option(
      "--min-gain", common.min_gain,
      "least relative drop of a layer's max GPU load worth moving replicas for, in [0, 1) "
      "(e.g. 0.02; default 0)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plan expert replicas on GPUs from expert load logs", "eplb-plan"};
  CommonOptions plan_common, replay_common;
  PlanOptions plan_options;
  ReplayOptions replay_options;
  add_common_options(app, plan_common);
  app.add_option("--previous", plan_options.previous_path,
                 "plan to re-plan from (any output format)");
  app.add_option("--format", plan_options.format, "json (default), yaml, csv, sglang or trtllm");
  app.add_option("-o,--output", plan_options.output, "plan file (default: standard output)");
  app.add_option("--report", plan_options.report, "print a report: text or json");
  app.add_option("--svg", plan_options.svg_path, "draw per-GPU load before/after as SVG");
  app.add_option("--first-layer", plan_options.first_layer,
                 "layer number of the first row (trtllm keys)");
  CLI::App* replay = app.add_subcommand("replay", "replay a policy over a load time series");
  add_common_options(*replay, replay_common);
  replay->add_option("--interval", replay_options.interval, "re-plan every K steps")->required();
  replay->add_option("--report", replay_options.report, "text (default) or json");
  replay->add_option("-o,--output", replay_options.output,
                     "report file (default: standard output)");
  app.require_subcommand(0, 1);
  // Options of the plan command are required only when it runs: parse leniently, then check.
  for (CLI::App* command : {&app, replay}) {
    for (const char* name : {"--replicas", "--groups", "--nodes", "--gpus"}) {
      command->get_option(name)->required(false);
    }
  }
  return dualpipe::apps::parse_and_run(app, argc, argv, [&] {
    const bool replaying = replay->parsed();
    CLI::App& command = replaying ? *replay : app;
    const CommonOptions& common = replaying ? replay_common : plan_common;
    if (common.loads_path.empty()) throw CLI::RequiredError("LOADS");
    for (const char* name : {"--replicas", "--groups", "--nodes", "--gpus"}) {
      if (command.get_option(name)->count() == 0) throw CLI::RequiredError(name);
    }
    return replaying ? run_replay(common, replay_options) : run_plan(common, plan_options);
  });
}
