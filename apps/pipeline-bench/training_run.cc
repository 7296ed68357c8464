#include "training_run.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "dualpipe/runtime/memory_probe.h"
#include "dualpipe/runtime/mlp_stage.h"
#include "dualpipe/runtime/profile_capture.h"
#include "dualpipe/runtime/sequential_training.h"
#include "dualpipe/runtime/trainer.h"
#include "dualpipe/schedule/generators.h"
#include "held_stderr.h"
#include "median.h"
#include "rank_file.h"

namespace dualpipe::apps {
namespace {

using namespace dualpipe::runtime;

constexpr int kCheckSteps = 3;

torch::Tensor mse(const TensorList& outputs, const TensorList& labels) {
  return torch::mse_loss(outputs.at(0), labels.at(0));
}

std::unique_ptr<torch::optim::Optimizer> adamw(std::vector<torch::Tensor> params) {
  return std::make_unique<torch::optim::AdamW>(std::move(params),
                                               torch::optim::AdamWOptions(1e-3).weight_decay(0.01));
}

// Replica `replica`'s batch of step `step`: inputs and targets [N * M, L, H].
StepInput replica_input(const PipelineBenchFlags& o, int step, int replica, torch::Device device) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
      o.bench.seed + 7919ULL * static_cast<uint64_t>(replica) +
      104729ULL * static_cast<uint64_t>(step));
  const std::vector<int64_t> shape{o.microbatches * o.microbatch_size, o.seq, o.hidden};
  const torch::Dtype dtype = dtype_named(o.bench.dtype);
  StepInput input;
  input.inputs = {torch::randn(shape, generator, torch::kFloat).to(device, dtype)};
  input.labels = {torch::randn(shape, generator, torch::kFloat).to(device, dtype)};
  input.num_microbatches = o.microbatches;
  input.criterion = mse;
  return input;
}

int num_stages(const PipelineBenchFlags& o, int pp) {
  return schedule::generate_schedule(o.schedule, pp, o.microbatches, o.virtual_stages).num_stages;
}

std::vector<LocalStage> local_stages(const PipelineBenchFlags& o, const ParallelMesh& mesh) {
  const int stages = num_stages(o, mesh.shape().pp);
  std::vector<LocalStage> local;
  for (const auto& [direction, stage] : local_stage_slots(
           o.schedule, mesh.shape().pp, mesh.coordinates().pipeline, o.virtual_stages)) {
    auto module =
        make_mlp_stage(o.hidden, o.blocks, stages, stage, o.bench.seed, dtype_named(o.bench.dtype));
    module->to(mesh.device());
    local.push_back({direction, stage, module, o.recompute == "on"});
  }
  return local;
}

std::unique_ptr<Trainer> make_trainer(const PipelineBenchFlags& o, const ParallelMesh& mesh,
                                      const std::vector<LocalStage>& stages) {
  PipelineOptions pipeline;
  pipeline.schedule = o.schedule;
  pipeline.virtual_stages = o.virtual_stages;
  TrainerOptions options;
  options.num_microbatches = o.microbatches;
  options.zero = o.zero == "on";
  options.clip_norm = o.clip_norm;
  options.measure_memory = mesh.device().is_cuda();
  return std::make_unique<Trainer>(mesh, stages, pipeline, adamw, options);
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// The largest of `x` over all ranks (through the store; also a barrier).
double max_over_ranks(const ParallelMesh& mesh, const std::string& key, double x) {
  std::ostringstream text;
  text << std::setprecision(17) << x;
  double largest = x;
  for (const std::string& value : mesh.all_gather_text("bench/" + key, text.str()))
    largest = std::max(largest, std::stod(value));
  return largest;
}

// "check": kCheckSteps steps of a fresh trainer against one process training the whole model on
// every replica's batches.
std::string check_against_one_process(const PipelineBenchFlags& o, const ParallelMesh& mesh) {
  const std::vector<LocalStage> stages = local_stages(o, mesh);
  const std::unique_ptr<Trainer> trainer = make_trainer(o, mesh, stages);
  const int total = num_stages(o, mesh.shape().pp);
  std::vector<std::shared_ptr<PipelineStage>> model;
  for (int s = 0; s < total; ++s) {
    auto stage =
        make_mlp_stage(o.hidden, o.blocks, total, s, o.bench.seed, dtype_named(o.bench.dtype));
    stage->to(mesh.device());
    model.push_back(stage);
  }
  SequentialTraining reference(model, adamw, o.clip_norm);
  const int replica = mesh.coordinates().data;
  bool equal = true;       // bit for bit (dp > 1 sums the replicas' gradients in another order)
  double worst_loss = 0;
  for (int step = 0; step < kCheckSteps; ++step) {
    const TrainStepResult got = trainer->step(replica_input(o, step, replica, mesh.device()));
    std::vector<StepInput> batches;
    for (int d = 0; d < mesh.shape().dp; ++d)
      batches.push_back(replica_input(o, step, d, mesh.device()));
    const std::vector<double> expected = reference.step(batches);
    for (std::size_t i = 0; i < got.step.microbatches.size(); ++i) {
      const double want =
          expected[static_cast<std::size_t>(replica * o.microbatches + got.step.microbatches[i])];
      const double loss = got.step.losses[static_cast<int64_t>(i)].item<double>();
      equal = equal && loss == want;
      worst_loss = std::max(worst_loss, std::abs(loss - want) / std::abs(want));
    }
  }
  double worst = 0;
  for (const LocalStage& l : stages) {
    const auto mine = l.module->parameters();
    const auto theirs = reference.stage(l.stage).parameters();
    for (std::size_t p = 0; p < mine.size(); ++p) {
      const torch::Tensor a = mine[p].detach().to(torch::kDouble);
      const torch::Tensor b = theirs[p].detach().to(torch::kDouble);
      worst = std::max(worst, (a - b).abs().max().item<double>() / b.abs().max().item<double>());
    }
  }
  const bool all_equal = max_over_ranks(mesh, "check/losses_equal", equal ? 0 : 1) == 0;
  worst_loss = max_over_ranks(mesh, "check/losses", worst_loss);
  worst = max_over_ranks(mesh, "check/parameters", worst);
  std::ostringstream json;
  json << "{\"losses_equal\": " << (all_equal ? "true" : "false")
       << ", \"max_rel_loss_diff\": " << worst_loss << ", \"max_rel_param_diff\": " << worst << "}";
  return json.str();
}

}  // namespace

std::string run_training(const PipelineBenchFlags& o, const LaunchEnvironment& env,
                         const StoreExchange& exchange, const DevicePlacement& placement,
                         StagedOutputs& outputs) {
  const MeshShape shape{env.world_size / o.dp, o.dp, 1};
  const ParallelMesh mesh = with_stderr_held([&] {
    return ParallelMesh(exchange.store, env.rank, env.world_size, shape, placement.device,
                        exchange.timeout, placement.backend);
  });
  const torch::Device device = mesh.device();
  const std::vector<LocalStage> stages = local_stages(o, mesh);
  const std::unique_ptr<Trainer> trainer = make_trainer(o, mesh, stages);
  const StepInput input = replica_input(o, 0, mesh.coordinates().data, device);

  for (int i = 0; i < o.bench.warmup; ++i) trainer->step(input);
  synchronize(device);
  std::optional<LargestStepMemory> memory;  // of the timed steps, on a CUDA device
  std::vector<double> times;
  for (int i = 0; i < o.bench.steps; ++i) {
    synchronize(device);
    max_over_ranks(mesh, "step" + std::to_string(i) + "/start", 0);
    const auto start = std::chrono::steady_clock::now();
    const TrainStepResult result = trainer->step(input);
    synchronize(device);
    if (result.memory) {
      if (!memory) memory.emplace();
      memory->add(*result.memory);
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    times.push_back(max_over_ranks(mesh, "step" + std::to_string(i) + "/time", ms));
  }
  const MemoryUsage usage = trainer->memory();
  const int64_t peak = memory ? memory->step_peak : peak_resident_bytes();
  const int64_t activations = memory ? memory->activations : -1;
  if (!o.bench.profile.empty()) {
    synchronize(device);
    ProfileCapture capture(device.is_cuda());
    trainer->step(input);
    synchronize(device);
    outputs.add(rank_file_path(o.bench.profile, env.rank),
                capture.finish(env.rank, env.world_size));
  }
  std::string check;
  if (o.check) check = check_against_one_process(o, mesh);

  std::ostringstream json;
  json << ", \"pp\": " << shape.pp << ", \"dp\": " << shape.dp
       << ", \"zero\": " << (o.zero == "on" ? "true" : "false")
       << ", \"recompute\": " << (o.recompute == "on" ? "true" : "false")
       << ", \"clip_norm\": " << o.clip_norm << ", \"step_ms_median\": " << median(times)
       << ", \"step_ms_min\": " << *std::min_element(times.begin(), times.end())
       << ", \"memory\": {\"peak_bytes\": " << max_over_ranks(mesh, "memory/peak", double(peak))
       << ", \"peak_kind\": \"" << (memory ? "device" : "resident") << "\", \"activation_bytes\": "
       << max_over_ranks(mesh, "memory/activations", double(activations))
       << ", \"parameter_bytes\": "
       << max_over_ranks(mesh, "memory/parameters", double(usage.parameters))
       << ", \"optimizer_state_bytes\": "
       << max_over_ranks(mesh, "memory/optimizer", double(usage.optimizer_state)) << "}";
  if (o.check) json << ", \"check\": " << check;
  return json.str();
}

}  // namespace dualpipe::apps
