// eplb-plan's command line: the planning problem, the policy and the outputs, of the plan command
// and of its replay subcommand.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "dualpipe/eplb/plan_parameters.h"

namespace dualpipe::apps {

// Flags shared by planning and replay.
struct CommonOptions {
  std::string loads_path;
  eplb::PlanParameters parameters;
  std::string policy = "balanced";
  std::string aggregate = "sum";
  std::optional<int> max_moves;  // unlimited when absent
  std::optional<double> min_gain;
};

// Flags of the plan command only.
struct PlanOptions {
  std::string previous_path;
  std::string format = "json";
  std::string output = "-";
  std::string report;
  std::string svg_path;
  int first_layer = 0;
};

// Flags of the replay subcommand only.
struct ReplayOptions {
  int interval = 0;
  std::string report = "text";
  std::string output = "-";
};

// Every flag of eplb-plan: the plan command's and the replay subcommand's.
struct EplbPlanFlags {
  CommonOptions plan_common;
  PlanOptions plan;
  CommonOptions replay_common;
  ReplayOptions replay;
  CLI::App* replay_command = nullptr;  // set by add_eplb_plan_flags
};

// Adds the plan command's flags and the replay subcommand to `app`, in the groups Problem, Policy
// and Output.
void add_eplb_plan_flags(CLI::App& app, EplbPlanFlags& flags);

// The flags the command that ran requires (LOADS, --replicas, --groups, --nodes, --gpus): CLI11
// cannot require them of only the command that runs. Throws CLI::RequiredError naming the first
// missing one.
void check_required_flags(CLI::App& app, const EplbPlanFlags& flags);

}  // namespace dualpipe::apps
