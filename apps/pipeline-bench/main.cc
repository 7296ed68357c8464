// pipeline-bench: times training steps of a pipeline schedule on the reference example's model
// (blocks of Linear(H -> 4H), GELU, Linear(4H -> H), no biases, MSE loss), run under torchrun.
// Rank 0 prints one JSON line; --check compares with the same step run sequentially, --profile
// records a Chrome trace of one step per rank, --host-timeline the host side of one step only.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "bench_ranks.h"
#include "command_line.h"
#include "device_flags.h"
#include "dualpipe/runtime/cuda_graph_stage.h"
#include "dualpipe/runtime/host_timeline.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/mlp_stage.h"
#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/profile_capture.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "dualpipe/runtime/sequential_step.h"
#include "dualpipe/schedule/generators.h"
#include "median.h"
#include "pipeline_bench_flags.h"
#include "rank_file.h"
#include "training_run.h"

namespace {

using namespace dualpipe::runtime;
using dualpipe::apps::dtype_named;
using dualpipe::apps::median;

using Options = dualpipe::apps::PipelineBenchFlags;

torch::Tensor mse(const TensorList& outputs, const TensorList& labels) {
  return torch::mse_loss(outputs.at(0), labels.at(0));
}

// The step's data, identical on every rank: inputs and targets [N * M, L, H].
StepInput make_input(const Options& o, torch::Device device) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(o.bench.seed);
  const std::vector<int64_t> shape{o.microbatches * o.microbatch_size, o.seq, o.hidden};
  StepInput input;
  input.inputs = {
      torch::randn(shape, generator, torch::kFloat).to(device, dtype_named(o.bench.dtype))};
  input.labels = {
      torch::randn(shape, generator, torch::kFloat).to(device, dtype_named(o.bench.dtype))};
  input.num_microbatches = o.microbatches;
  input.criterion = mse;
  return input;
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Largest value of `x` over all ranks (an exchange through the store; also a barrier). `key`
// must be new for every call.
double max_over_ranks(const PipelineGroup& group, const std::string& key, double x) {
  double largest = x;
  std::ostringstream text;
  text << std::setprecision(17) << x;
  for (const std::string& value : all_gather_text(group, "bench/" + key, text.str())) {
    largest = std::max(largest, std::stod(value));
  }
  return largest;
}

void zero_grads(Pipeline& pipeline) {
  for (torch::Tensor& p : pipeline.parameters()) p.mutable_grad() = torch::Tensor();
}

// CPU time this thread has used, in milliseconds.
double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) * 1e-6;
}

// One timed step: wall milliseconds from a common start to the end of the device work, and the
// CPU milliseconds the calling thread spent inside step() (host overhead; on CUDA the backward's
// host work runs on autograd's device thread and is not counted). Both the slowest rank's.
struct StepTime {
  double wall_ms = 0;
  double host_ms = 0;
};

StepTime timed_step(Pipeline& pipeline, const StepInput& input, int index) {
  const PipelineGroup& group = pipeline.group();
  const std::string name = "step" + std::to_string(index);
  zero_grads(pipeline);
  synchronize(group.device);
  max_over_ranks(group, name + "/start", 0);  // barrier
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_ms();
  pipeline.step(input);
  const double host_ms = thread_cpu_ms() - cpu_start;
  synchronize(group.device);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {max_over_ranks(group, name + "/time", ms),
          max_over_ranks(group, name + "/host", host_ms)};
}

// "check": the pipelined step against the same step on the whole model, one micro-batch at a time.
std::string check_against_sequential(Pipeline& pipeline, const Options& o, const StepInput& input,
                                     int num_stages) {
  const PipelineGroup& group = pipeline.group();
  std::vector<std::shared_ptr<PipelineStage>> model;
  for (int s = 0; s < num_stages; ++s) {
    auto stage =
        make_mlp_stage(o.hidden, o.blocks, num_stages, s, o.bench.seed, dtype_named(o.bench.dtype));
    stage->to(group.device);
    model.push_back(stage);
  }
  const StepResult expected = sequential_step(model, input, 0);
  zero_grads(pipeline);
  const StepResult got = pipeline.step(input);
  bool equal = true;
  for (std::size_t i = 0; i < got.microbatches.size(); ++i) {
    equal = equal &&
            torch::equal(got.losses[static_cast<int64_t>(i)], expected.losses[got.microbatches[i]]);
  }
  double worst = 0;
  for (const LocalStage& l : pipeline.stages()) {
    const auto mine = l.module->parameters();
    const auto theirs = model[static_cast<std::size_t>(l.stage)]->parameters();
    for (std::size_t p = 0; p < mine.size(); ++p) {
      const torch::Tensor a = mine[p].grad().to(torch::kDouble);
      const torch::Tensor b = theirs[p].grad().to(torch::kDouble);
      worst = std::max(worst, (a - b).abs().max().item<double>() / b.abs().max().item<double>());
    }
  }
  const bool all_equal = max_over_ranks(group, "check/losses", equal ? 0 : 1) == 0;
  worst = max_over_ranks(group, "check/gradients", worst);
  std::ostringstream json;
  json << "{\"losses_equal\": " << (all_equal ? "true" : "false")
       << ", \"max_rel_grad_diff\": " << worst << "}";
  return json.str();
}

int run(CLI::App& app, const Options& o) {
  const LaunchEnvironment env = read_launch_environment();
  // This rank's checks; a failure is agreed with the other ranks, so that none waits for it.
  std::string failure;
  dualpipe::apps::DevicePlacement placement;
  try {
    dualpipe::apps::check_pipeline_bench_flags(app, o, env.world_size);
    placement = dualpipe::apps::place_rank(o.bench.device, o.bench.comm_backend, env);
  } catch (const std::invalid_argument& error) {
    failure = error.what();
  }
  const auto timeout = std::chrono::seconds(o.bench.timeout_s);
  const StoreExchange exchange = dualpipe::apps::join_ranks(env, app, timeout, failure);
  const torch::Device device = placement.device;
  if (o.trains()) {
    dualpipe::apps::StagedOutputs outputs;
    const std::string fields = dualpipe::apps::run_training(o, env, exchange, placement, outputs);
    if (env.rank == 0) {
      outputs.add("-", "{\"schedule\": \"" + o.schedule +
                           "\", \"ranks\": " + std::to_string(env.world_size) + fields + "}\n");
    }
    dualpipe::apps::commit_on_every_rank(outputs, exchange, "pipeline-bench/outputs");
    dualpipe::runtime::leave_store(exchange);  // the last use of the store
    return 0;
  }
  PipelineGroup group = dualpipe::apps::with_stderr_held([&] {
    return make_pipeline_group(exchange.store, env.all_ranks(), env.rank, device, timeout,
                               placement.backend);
  });

  const int num_stages = dualpipe::schedule::generate_schedule(o.schedule, env.world_size,
                                                               o.microbatches, o.virtual_stages)
                             .num_stages;
  std::vector<LocalStage> stages;
  for (const auto& [direction, stage] :
       local_stage_slots(o.schedule, env.world_size, env.rank, o.virtual_stages)) {
    std::shared_ptr<PipelineStage> module = make_mlp_stage(
        o.hidden, o.blocks, num_stages, stage, o.bench.seed, dtype_named(o.bench.dtype));
    if (o.cuda_graphs == "on") module = std::make_shared<CudaGraphStage>(module);
    stages.push_back({direction, stage, module});
  }
  PipelineOptions options;
  options.schedule = o.schedule;
  options.virtual_stages = o.virtual_stages;
  if (o.concurrent_pairs != "auto") options.concurrent_pairs = o.concurrent_pairs == "on";
  if (o.stage_streams != "auto") options.stage_streams = o.stage_streams == "on";
  options.activation_layout = {
      TensorMeta{dtype_named(o.bench.dtype), {o.microbatch_size, o.seq, o.hidden}}};
  Pipeline pipeline(std::move(stages), group, options);
  const StepInput input = make_input(o, device);

  for (int i = 0; i < o.bench.warmup; ++i) timed_step(pipeline, input, i);
  std::vector<double> times;
  std::vector<double> host_times;
  for (int i = 0; i < o.bench.steps; ++i) {
    const StepTime t = timed_step(pipeline, input, o.bench.warmup + i);
    times.push_back(t.wall_ms);
    host_times.push_back(t.host_ms);
  }
  std::string check;
  if (o.check) check = check_against_sequential(pipeline, o, input, num_stages);
  dualpipe::apps::StagedOutputs outputs;  // written at the end, on every rank or on none
  if (!o.host_timeline.empty()) {
    zero_grads(pipeline);
    synchronize(device);
    HostTimeline timeline;
    pipeline.step(input);
    synchronize(device);
    outputs.add(dualpipe::apps::rank_file_path(o.host_timeline, env.rank),
                timeline.finish(env.rank));
  }
  if (!o.bench.profile.empty()) {
    zero_grads(pipeline);
    synchronize(device);
    ProfileCapture capture(device.is_cuda());
    pipeline.step(input);
    synchronize(device);
    outputs.add(dualpipe::apps::rank_file_path(o.bench.profile, env.rank),
                capture.finish(env.rank, env.world_size));
  }
  if (env.rank == 0) {
    std::ostringstream line;
    line << "{\"schedule\": \"" << o.schedule << "\", \"ranks\": " << env.world_size
         << ", \"step_ms_median\": " << median(times)
         << ", \"step_ms_min\": " << *std::min_element(times.begin(), times.end())
         << ", \"host_ms_median\": " << median(host_times);
    if (o.check) line << ", \"check\": " << check;
    line << "}\n";
    outputs.add("-", line.str());
  }
  dualpipe::apps::commit_on_every_rank(outputs, exchange, "pipeline-bench/outputs");
  dualpipe::runtime::leave_store(exchange);  // the last use of the store
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times training steps of a pipeline schedule on the reference example's MLP model.",
               "pipeline-bench"};
  Options o;
  dualpipe::apps::add_pipeline_bench_flags(app, o);
  return dualpipe::apps::parse_and_run(app, argc, argv, [&] { return run(app, o); });
}
