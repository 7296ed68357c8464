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
#include "eplb_plan_flags.h"
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

using dualpipe::apps::CommonOptions;
using dualpipe::apps::PlanOptions;
using dualpipe::apps::ReplayOptions;

// Load logs may be binary (.npy, .pt); any larger than this are refused before reading.
constexpr dualpipe::apps::InputLimits kLoadLimits{std::size_t{1} << 30, /*text=*/false};

eplb::LoadSeries read_loads(const std::string& path) {
  const dualpipe::apps::InputFile file(path, kLoadLimits);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plan expert replicas on GPUs from expert load logs", "eplb-plan"};
  dualpipe::apps::EplbPlanFlags flags;
  dualpipe::apps::add_eplb_plan_flags(app, flags);
  return dualpipe::apps::parse_and_run(app, argc, argv, [&] {
    dualpipe::apps::check_required_flags(app, flags);
    return flags.replay_command->parsed() ? run_replay(flags.replay_common, flags.replay)
                                          : run_plan(flags.plan_common, flags.plan);
  });
}
