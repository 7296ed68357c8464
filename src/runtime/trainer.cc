#include "dualpipe/runtime/trainer.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

#include "communication_error.h"
#include "dualpipe/runtime/memory_probe.h"

namespace dualpipe::runtime {

Trainer::Trainer(const ParallelMesh& mesh, std::vector<LocalStage> stages, PipelineOptions pipeline,
                 OptimizerFactory make_optimizer, TrainerOptions options)
    : mesh_(mesh),
      stages_(stages),
      options_(options),
      schedule_name_(pipeline.schedule),
      make_optimizer_(std::move(make_optimizer)) {
  if (options_.clip_norm < 0 || !std::isfinite(options_.clip_norm))
    throw std::invalid_argument("clip norm must be finite and non-negative, got " +
                                std::to_string(options_.clip_norm));
  pipeline_ = std::make_unique<Pipeline>(std::move(stages), mesh.pipeline(), std::move(pipeline));
  GradientSyncOptions sync;
  sync.sharded = options_.zero;
  sync.bucket_bytes = options_.bucket_bytes;
  const ParallelMesh* m = &mesh_;
  gradients_ = std::make_shared<DataParallelGradients>(
      stages_, mesh.layout(), mesh.rank(),
      [m](const std::string& name, const std::vector<int>& ranks) {
        return m->make_group(name, ranks);
      },
      sync);
  pipeline_->set_gradient_sync(gradients_);
  if (options_.loss_scaling) scaler_.emplace(*options_.loss_scaling);
  std::vector<int> everyone(static_cast<std::size_t>(mesh.layout().world_size()));
  std::iota(everyone.begin(), everyone.end(), 0);
  world_ = mesh.make_group("world", everyone);
  ensure_ready();
}

Trainer::~Trainer() = default;

void Trainer::ensure_ready() {
  if (optimizer_) return;
  gradients_->prepare(pipeline_->schedule_for(options_.num_microbatches));
  optimizer_ = std::make_unique<DistributedOptimizer>(*gradients_, make_optimizer_);
}

DistributedOptimizer& Trainer::optimizer() { return *optimizer_; }

std::optional<double> Trainer::loss_scale() const {
  if (!scaler_) return std::nullopt;
  return scaler_->scale();
}

double Trainer::global_squared_norm() const {
  const double local = gradients_->local_squared_norm();
  if (!world_) return local;
  torch::Tensor sum =
      torch::full({1}, local, torch::TensorOptions().dtype(torch::kDouble).device(mesh_.device()));
  std::vector<torch::Tensor> buffer{sum};
  communicate("summing the gradient norm over all ranks",
              [&] { return world_->allreduce(buffer)->wait(); });
  return sum.item<double>();
}

TrainStepResult Trainer::step(const StepInput& input) {
  if (input.num_microbatches != options_.num_microbatches) {
    throw std::invalid_argument("this trainer runs " + std::to_string(options_.num_microbatches) +
                                " micro-batches per step, got " +
                                std::to_string(input.num_microbatches));
  }
  TrainStepResult result;
  std::optional<DeviceMemory> at_start;
  if (options_.measure_memory) {
    reset_peak_memory(mesh_.device());
    at_start = device_memory(mesh_.device());
  }
  result.loss_scale = scaler_ ? scaler_->scale() : 1.0;
  gradients_->set_scale(1.0 / mesh_.shape().dp / result.loss_scale);
  StepInput scaled = input;
  if (scaler_ && input.criterion) {
    const double scale = result.loss_scale;
    const Criterion criterion = input.criterion;
    scaled.criterion = [criterion, scale](const TensorList& outputs, const TensorList& labels) {
      return criterion(outputs, labels) * scale;
    };
  }
  result.step = pipeline_->step(scaled);
  if (at_start) {
    result.memory = StepMemory{at_start->allocated, device_memory(mesh_.device())->peak, 0};
  }
  if (scaler_ && result.step.losses.defined())
    result.step.losses = result.step.losses / result.loss_scale;

  const double squared = global_squared_norm();
  result.grad_norm = std::sqrt(squared);
  if (scaler_ && !scaler_->update(!std::isfinite(squared))) {
    result.skipped = true;
    optimizer_->zero_grad();
    finish_step(result);
    return result;
  }
  double factor = 1.0;
  if (options_.clip_norm > 0) {
    const double clip = options_.clip_norm / (result.grad_norm + 1e-6);
    if (clip < 1.0) factor = clip;
  }
  optimizer_->step(factor);
  finish_step(result);
  return result;
}

void Trainer::finish_step(TrainStepResult& result) {
  ++steps_;
  if (result.memory) result.memory->step_peak = device_memory(mesh_.device())->peak;
}

MemoryUsage Trainer::memory() const {
  MemoryUsage usage;
  for (const LocalStage& stage : stages_) {
    for (const torch::Tensor& p : stage.module->parameters()) {
      usage.parameters += p.numel() * static_cast<int64_t>(p.element_size());
      if (p.grad().defined())
        usage.gradients += p.grad().numel() * static_cast<int64_t>(p.grad().element_size());
    }
  }
  if (optimizer_) usage.optimizer_state = optimizer_->state_bytes();
  return usage;
}

}  // namespace dualpipe::runtime
