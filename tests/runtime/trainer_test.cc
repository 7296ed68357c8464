// A Trainer on pp 2 x dp 2 (4 processes over Gloo, float64) against one process training the whole
// model on the whole batch: every schedule, with and without ZeRO-1 and recomputation, clipping.
#include "dualpipe/runtime/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "multi_process.h"
#include "training_fixture.h"

namespace dualpipe::runtime {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;
using namespace dualpipe::runtime::testing;

// How one test trains.
struct TrainingSetup {
  std::string schedule;
  bool zero = false;
  bool recompute = false;
  double clip_norm = 0.0;
};

void train_and_compare(const Worker& worker, const TrainingSetup& setup) {
  const MeshShape shape{2, 2, 1};
  const ParallelMesh mesh(worker.store, worker.rank, worker.world_size, shape, torch::kCPU,
                          std::chrono::seconds(60), MessageBackend::kGloo);
  const std::vector<LocalStage> local = mlp_stages(setup.schedule, mesh, setup.recompute);
  PipelineOptions pipeline;
  pipeline.schedule = setup.schedule;
  TrainerOptions options;
  options.num_microbatches = kMicrobatches;
  options.zero = setup.zero;
  options.clip_norm = setup.clip_norm;
  options.bucket_bytes = 1024;  // several buckets per stage
  Trainer trainer(mesh, local, pipeline, adamw, options);
  Reference reference(num_stages(setup.schedule, shape.pp), setup.clip_norm);

  const int replica = mesh.coordinates().data;
  for (int step = 0; step < kSteps; ++step) {
    const TrainStepResult result = trainer.step(batch(step, replica));
    const torch::Tensor expected = reference.step(step, shape.dp);
    for (std::size_t i = 0; i < result.step.microbatches.size(); ++i) {
      const int g = replica * kMicrobatches + result.step.microbatches[i];
      EXPECT_LE(relative_difference(result.step.losses[static_cast<int64_t>(i)], expected[g]),
                1e-12)
          << "step " << step << ", micro-batch " << g;
    }
  }
  EXPECT_LE(parameter_difference(local, reference), 1e-12);
  EXPECT_GT(trainer.memory().optimizer_state, 0);
}

class TrainerMatchesOneProcess : public ::testing::TestWithParam<TrainingSetup> {};

TEST_P(TrainerMatchesOneProcess, AfterThreeAdamWSteps) {
  const TrainingSetup setup = GetParam();
  run_in_processes(4, [&setup](const Worker& worker) { train_and_compare(worker, setup); });
}

std::string name_of(const ::testing::TestParamInfo<TrainingSetup>& info) {
  std::string name = info.param.schedule + (info.param.zero ? "_zero" : "") +
                     (info.param.recompute ? "_recompute" : "");
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EverySchedule, TrainerMatchesOneProcess,
                         ::testing::Values(TrainingSetup{"dualpipe", false, false, 0.5},
                                           TrainingSetup{"dualpipe", true, true, 0.5},
                                           TrainingSetup{"dualpipev", false, true, 0.5},
                                           TrainingSetup{"dualpipev", true, false, 0.5},
                                           TrainingSetup{"1f1b", true, false, 0.5},
                                           TrainingSetup{"1f1b", false, true, 0.5},
                                           TrainingSetup{"zb1p", true, true, 0.5},
                                           TrainingSetup{"zb1p", false, false, 0.5},
                                           TrainingSetup{"interleaved-1f1b", true, true, 0.5},
                                           TrainingSetup{"gpipe", false, true, 0.5}),
                         name_of);

// A stage that ends its process, as a crash would, in its forward number `dies_at`.
class DyingStage : public PipelineStage {
 public:
  DyingStage(std::shared_ptr<PipelineStage> inner, int dies_at)
      : inner_(register_module("inner", std::move(inner))), dies_at_(dies_at) {}
  TensorList forward(const TensorList& inputs) override {
    if (++calls_ == dies_at_) std::_Exit(0);
    return inner_->forward(inputs);
  }

 private:
  std::shared_ptr<PipelineStage> inner_;
  int dies_at_;
  int calls_ = 0;
};

TEST(Trainer, ARankThatDiesMidStepFailsTheOthersWithinTheTimeout) {
  run_in_processes(4, [](const Worker& worker) {
    const ParallelMesh mesh(worker.store, worker.rank, worker.world_size, MeshShape{2, 2, 1},
                            torch::kCPU, std::chrono::seconds(10), MessageBackend::kGloo);
    std::vector<LocalStage> local = mlp_stages("dualpipe", mesh, false);
    if (worker.rank == 3) {
      for (LocalStage& l : local)
        l.module = std::make_shared<DyingStage>(l.module, kMicrobatches + 2);
    }
    TrainerOptions options;
    options.num_microbatches = kMicrobatches;
    Trainer trainer(mesh, local, PipelineOptions{}, adamw, options);
    try {
      for (int step = 0; step < 3; ++step) trainer.step(batch(step, mesh.coordinates().data));
      ADD_FAILURE() << "three steps passed although rank 3 died";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_FALSE(message.empty());
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  });
}

}  // namespace
}  // namespace dualpipe::runtime
