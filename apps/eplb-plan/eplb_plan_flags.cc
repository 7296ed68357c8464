#include "eplb_plan_flags.h"

#include <limits>

#include "command_line.h"
#include "number_flags.h"

namespace dualpipe::apps {
namespace {

void add_common_options(CLI::App& app, CommonOptions& common) {
  show_defaults_in_help(app);
  // Written as integers (no octal, no overflow); the planner checks their domain itself, with the
  // same messages its Python module gives.
  const CLI::Validator kAnyInt = integer_in(std::numeric_limits<int>::min(), kIntMax);
  app.add_option(
      "LOADS", common.loads_path,
      "expert loads: .csv, .json, .yaml, .npy or SGLang .pt dump (needs the LibTorch plugin)");
  app.add_option("--replicas", common.parameters.replicas,
                 "physical expert slots per layer (required)")
      ->required()
      ->default_str("")
      ->group("Problem");
  app.add_option("--groups", common.parameters.groups, "expert groups (required)")
      ->check(kAnyInt)
      ->required()
      ->default_str("")
      ->group("Problem");
  app.add_option("--nodes", common.parameters.nodes, "nodes (required)")
      ->check(kAnyInt)
      ->required()
      ->default_str("")
      ->group("Problem");
  app.add_option("--gpus", common.parameters.gpus, "GPUs (required)")
      ->check(kAnyInt)
      ->required()
      ->default_str("")
      ->group("Problem");
  app.add_option("--policy", common.policy, "balanced or deepseek")->group("Policy");
  app.add_option("--aggregate", common.aggregate, "sum, mean, window:K or ema:ALPHA")
      ->group("Policy");
  app.add_option("--max-moves", common.max_moves,
                 "most replicas moved from the previous plan, >= 0")
      ->check(kAnyInt)
      ->default_str("unlimited")
      ->group("Policy");
  app.add_option("--min-gain", common.min_gain,
                 "least relative drop of a layer's max GPU load worth moving replicas for, in "
                 "[0, 1) (e.g. 0.02)")
      ->default_str("0")
      ->group("Policy");
}

}  // namespace

void add_eplb_plan_flags(CLI::App& app, EplbPlanFlags& flags) {
  add_common_options(app, flags.plan_common);
  app.add_option("--previous", flags.plan.previous_path,
                 "plan to re-plan from (any output format); default: none")
      ->group("Policy");
  app.add_option("--format", flags.plan.format, "json, yaml, csv, sglang or trtllm")
      ->group("Output");
  app.add_option("-o,--output", flags.plan.output, "plan file ('-': standard output)")
      ->group("Output");
  app.add_option("--report", flags.plan.report, "print a report: text or json; default: none")
      ->group("Output");
  app.add_option("--svg", flags.plan.svg_path,
                 "draw per-GPU load before/after as SVG; default: none")
      ->group("Output");
  app.add_option("--first-layer", flags.plan.first_layer,
                 "layer number of the first row (trtllm keys)")
      ->group("Output");
  flags.replay_command = app.add_subcommand("replay", "replay a policy over a load time series");
  add_common_options(*flags.replay_command, flags.replay_common);
  flags.replay_command->add_option("--interval", flags.replay.interval, "re-plan every K steps")
      ->check(integer_in(1, kIntMax))
      ->required()
      ->default_str("")
      ->group("Policy");
  flags.replay_command->add_option("--report", flags.replay.report, "text or json")
      ->group("Output");
  flags.replay_command
      ->add_option("-o,--output", flags.replay.output, "report file ('-': standard output)")
      ->group("Output");
  app.require_subcommand(0, 1);
  // Options of the plan command are required only when it runs: parse leniently, then check.
  for (CLI::App* command : {&app, flags.replay_command}) {
    for (const char* name : {"--replicas", "--groups", "--nodes", "--gpus"}) {
      command->get_option(name)->required(false);
    }
  }
}

void check_required_flags(CLI::App& app, const EplbPlanFlags& flags) {
  const bool replaying = flags.replay_command->parsed();
  CLI::App& command = replaying ? *flags.replay_command : app;
  const CommonOptions& common = replaying ? flags.replay_common : flags.plan_common;
  if (common.loads_path.empty()) throw CLI::RequiredError("LOADS");
  for (const char* name : {"--replicas", "--groups", "--nodes", "--gpus"}) {
    if (command.get_option(name)->count() == 0) throw CLI::RequiredError(name);
  }
}

}  // namespace dualpipe::apps
