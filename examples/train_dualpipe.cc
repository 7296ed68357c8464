// Trains a small model with DualPipe (or any other schedule) in a plain C++ training loop.
//
//   torchrun --nproc-per-node 2 --no-python ./train_dualpipe [schedule] [steps]
//
// Each process builds its stages, the pipeline runs one step per batch, and the optimizer updates
// the local parameters. The model learns to imitate a fixed random "teacher" network; the ranks
// that hold last stages print their mean loss, which falls as training goes on.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/runtime/deferrable_linear.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/schedule/generators.h"

namespace {

using namespace dualpipe::runtime;

constexpr int64_t kHidden = 32;
constexpr int64_t kBatch = 64;
constexpr int kMicrobatches = 8;

// A user-defined stage: residual MLP blocks. DeferrableLinear lets zero-bubble schedules postpone
// its weight gradients; any torch module works inside a stage.
class ResidualMlp : public PipelineStage {
 public:
  explicit ResidualMlp(uint64_t seed) {
    torch::manual_seed(seed);  // both copies of a DualPipe stage start from the same weights
    up_ = register_module("up", DeferrableLinear(kHidden, 4 * kHidden));
    down_ = register_module("down", DeferrableLinear(4 * kHidden, kHidden));
  }
  TensorList forward(const TensorList& inputs) override {
    const torch::Tensor& x = inputs.at(0);
    return {x + down_(torch::gelu(up_(x)))};
  }

 private:
  DeferrableLinear up_{nullptr};
  DeferrableLinear down_{nullptr};
};

// Batch `step` of the task, identical on every rank: x ~ N(0, 1), y = tanh(x A) with a fixed A.
std::pair<torch::Tensor, torch::Tensor> batch(int step) {
  at::Generator teacher = at::make_generator<at::CPUGeneratorImpl>(7);
  const torch::Tensor a =
      torch::randn({kHidden, kHidden}, teacher) / std::sqrt(static_cast<double>(kHidden));
  at::Generator data = at::make_generator<at::CPUGeneratorImpl>(1000 + step);
  const torch::Tensor x = torch::randn({kBatch, kHidden}, data);
  return {x, torch::tanh(x.matmul(a))};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string schedule = argc > 1 ? argv[1] : "dualpipe";
    const int steps = argc > 2 ? std::stoi(argv[2]) : 200;
    const LaunchEnvironment env = read_launch_environment();
    const PipelineGroup group = pipeline_group_from_environment(env, std::chrono::minutes(2));

    // This rank's stages: DualPipe places stage s of direction 0 on rank s and of direction 1 on
    // rank P-1-s, so every rank holds two stages; other schedules hold one or more.
    std::vector<LocalStage> stages;
    for (const auto& [direction, stage] : local_stage_slots(schedule, group.size, group.rank)) {
      stages.push_back({direction, stage, std::make_shared<ResidualMlp>(100 + stage)});
    }
    PipelineOptions options;
    options.schedule = schedule;
    Pipeline pipeline(std::move(stages), group, options);
    torch::optim::Adam optimizer(pipeline.parameters(), torch::optim::AdamOptions(1e-3));

    for (int step = 0; step < steps; ++step) {
      const auto [x, y] = batch(step);
      StepInput input;
      input.inputs = {x.to(group.device)};
      input.labels = {y.to(group.device)};
      input.num_microbatches = kMicrobatches;
      input.criterion = [](const TensorList& out, const TensorList& labels) {
        return torch::mse_loss(out[0], labels[0]);
      };

      optimizer.zero_grad();
      const StepResult result = pipeline.step(input);  // DualPipe: both copies of a stage get
                                                       // the full gradient
      optimizer.step();

      if (result.losses.defined() && (step % 20 == 0 || step == steps - 1)) {
        std::cout << "rank " << group.rank << " step " << step << " loss "
                  << result.losses.mean().item<double>() << std::endl;
      }
    }
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "train_dualpipe: " << error.what() << std::endl;
    return 2;
  }
}
