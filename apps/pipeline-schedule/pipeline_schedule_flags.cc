#include "pipeline_schedule_flags.h"

#include <stdexcept>

#include "command_line.h"
#include "cost_profile.h"
#include "dualpipe/schedule/generators.h"
#include "number_flags.h"

namespace dualpipe::apps {
namespace {

void add_schedule(CLI::App& app, PipelineScheduleFlags& flags) {
  const std::string group = "Schedule";
  std::string names;
  for (const std::string& name : schedule::schedule_names())
    names += (names.empty() ? "" : "|") + name;
  app.add_option("--schedule", flags.schedule, "schedule to generate: " + names)->group(group);
  app.add_option("--compare", flags.compare,
                 "compare these schedules on the same costs (comma-separated)")
      ->delimiter(',')
      ->default_str("")
      ->group(group);
  app.add_option("--ranks", flags.ranks, "pipeline ranks P")
      ->check(integer_in(1, kIntMax))
      ->required()
      ->default_str("")
      ->group(group);
  app.add_option("--microbatches", flags.microbatches, "micro-batches N in total")
      ->check(integer_in(1, kIntMax))
      ->required()
      ->default_str("")
      ->group(group);
  app.add_option("--virtual-stages", flags.virtual_stages, "stages per rank of interleaved-1f1b")
      ->check(integer_in(1, kIntMax))
      ->default_str("2")
      ->group(group);
  app.add_flag("--with-comm", flags.with_comm,
               "add SEND/RECV actions (exports, simulation and drawings)")
      ->group(group);
}

void add_costs(CLI::App& app, PipelineScheduleFlags& flags) {
  const std::string group = "Costs";
  app.add_option("--costs", flags.costs_path, "cost profile (YAML, see profiles/); default: none")
      ->group(group);
  const auto add = [&](const char* name, std::optional<double>& value, const char* description,
                       const char* fallback) {
    app.add_option(name, value, description)
        ->check(real_in(0.0, kLargestDuration))
        ->default_str(fallback)
        ->group(group);
  };
  add("--cost-f", flags.cost_f, "forward time of one stage", "1");
  add("--cost-b", flags.cost_b, "full backward time of one stage", "2");
  add("--cost-w", flags.cost_w, "weight-gradient part of the backward", "B/2");
  add("--cost-fb", flags.cost_fb, "overlapped forward+backward pair", "F+B");
  add("--cost-p2p", flags.cost_p2p, "time of one point-to-point message", "0");
}

void add_outputs(CLI::App& app, PipelineScheduleFlags& flags) {
  const std::string group = "Output";
  app.add_option("--json", flags.json, "write the schedule as JSON ('-': standard output)")
      ->group(group);
  app.add_option("--csv", flags.csv, "write the schedule as torch.distributed.pipelining CSV")
      ->group(group);
  app.add_option("--svg", flags.svg, "draw the simulated schedule as SVG")->group(group);
  app.add_option("--html", flags.html, "draw it as a self-contained HTML page")->group(group);
  app.add_option("--chrome-trace", flags.chrome_trace, "write it as Chrome-trace JSON (Perfetto)")
      ->group(group);
  app.add_option("--summary", flags.summary, "print the summary as text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_str("text")
      ->group(group);
}

}  // namespace

std::vector<std::pair<const char*, const std::string*>> PipelineScheduleFlags::outputs() const {
  return {{"--json", &json},
          {"--csv", &csv},
          {"--svg", &svg},
          {"--html", &html},
          {"--chrome-trace", &chrome_trace}};
}

bool PipelineScheduleFlags::writes_to_stdout() const {
  for (const auto& [flag, path] : outputs()) {
    if (*path == "-") return true;
  }
  return false;
}

void add_pipeline_schedule_flags(CLI::App& app, PipelineScheduleFlags& flags) {
  show_defaults_in_help(app);
  add_schedule(app, flags);
  add_costs(app, flags);
  add_outputs(app, flags);
}

void check_flag_combinations(const PipelineScheduleFlags& flags) {
  if (flags.schedule.empty() == flags.compare.empty()) {
    throw std::invalid_argument("give exactly one of --schedule NAME and --compare NAME,NAME,...");
  }
  int to_stdout = 0;
  for (const auto& [flag, path] : flags.outputs()) {
    if (!flags.compare.empty() && !path->empty()) {
      throw std::invalid_argument(std::string(flag) +
                                  " writes one schedule: use it with --schedule, not --compare");
    }
    to_stdout += *path == "-" ? 1 : 0;
  }
  if (to_stdout > 1)
    throw std::invalid_argument("at most one output may go to standard output ('-')");
  if (to_stdout == 1 && !flags.summary.empty()) {
    throw std::invalid_argument(
        "--summary prints to standard output, which an output ('-') already uses");
  }
  const bool cost_flags =
      flags.cost_f || flags.cost_b || flags.cost_w || flags.cost_fb || flags.cost_p2p;
  if (!flags.costs_path.empty() && cost_flags) {
    throw std::invalid_argument("--costs PROFILE and --cost-* flags exclude each other");
  }
  if (flags.virtual_stages) {
    bool interleaved = flags.schedule == "interleaved-1f1b";
    for (const std::string& name : flags.compare)
      interleaved = interleaved || name == "interleaved-1f1b";
    if (!interleaved)
      throw std::invalid_argument("--virtual-stages applies to interleaved-1f1b only");
  }
}

}  // namespace dualpipe::apps
