// Checkpoints of a Trainer on pp 2 x dp 2 (4 processes over Gloo, float64): exact resume, loading
// into another dp and another schedule, refusing what does not fit, surviving an interrupted save.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "dualpipe/runtime/trainer.h"
#include "multi_process.h"
#include "training_fixture.h"

namespace dualpipe::runtime {
namespace {

namespace fs = std::filesystem;
using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;
using namespace dualpipe::runtime::testing;

constexpr double kClip = 0.5;

// A folder of this test's, the same in every worker.
fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / ("dualpipe-checkpoint-test-" + name);
}

ParallelMesh make_mesh(const Worker& worker, int dp) {
  return ParallelMesh(worker.store, worker.rank, worker.world_size, MeshShape{2, dp, 1},
                      torch::kCPU, std::chrono::seconds(60), MessageBackend::kGloo);
}

TrainerOptions options(bool zero) {
  TrainerOptions o;
  o.num_microbatches = kMicrobatches;
  o.zero = zero;
  o.clip_norm = kClip;
  o.bucket_bytes = 1024;
  return o;
}

// Losses of the micro-batches whose last stage this rank holds, flattened over steps.
std::vector<double> train(Trainer& trainer, int first_step, int steps) {
  std::vector<double> losses;
  for (int step = first_step; step < first_step + steps; ++step) {
    const TrainStepResult result = trainer.step(batch(step, trainer.mesh().coordinates().data));
    for (int64_t i = 0; i < result.step.losses.numel(); ++i)
      losses.push_back(result.step.losses[i].item<double>());
  }
  return losses;
}

std::vector<torch::Tensor> parameters_of(const std::vector<LocalStage>& stages) {
  std::vector<torch::Tensor> params;
  for (const LocalStage& l : stages) {
    for (const torch::Tensor& p : l.module->parameters()) params.push_back(p.detach().clone());
  }
  return params;
}

TEST(TrainerCheckpoint, ResumesBitForBit) {
  const fs::path root = scratch("resume");
  run_in_processes(4, [&root](const Worker& worker) {
    const ParallelMesh mesh = make_mesh(worker, 2);
    // Four steps without interruption.
    const std::vector<LocalStage> straight = mlp_stages("dualpipe", mesh, false);
    Trainer uninterrupted(mesh, straight, PipelineOptions{}, adamw, options(true));
    const std::vector<double> expected = train(uninterrupted, 0, 4);
    // Two steps, a checkpoint, two more steps in a new trainer that loaded it.
    const std::vector<LocalStage> first = mlp_stages("dualpipe", mesh, false);
    Trainer before(mesh, first, PipelineOptions{}, adamw, options(true));
    std::vector<double> losses = train(before, 0, 2);
    before.save(root.string());
    const std::vector<LocalStage> second = mlp_stages("dualpipe", mesh, false);
    Trainer after(mesh, second, PipelineOptions{}, adamw, options(true));
    after.load(root.string());
    EXPECT_EQ(after.steps(), 2);
    const std::vector<double> rest = train(after, 2, 2);
    losses.insert(losses.end(), rest.begin(), rest.end());
    EXPECT_EQ(losses, expected);
    const std::vector<torch::Tensor> a = parameters_of(straight);
    const std::vector<torch::Tensor> b = parameters_of(second);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
  });
}

// Saves after two steps on pp 2 x dp 2 with ZeRO-1 under DualPipe.
void save_two_steps(const fs::path& root) {
  run_in_processes(4, [&root](const Worker& worker) {
    const ParallelMesh mesh = make_mesh(worker, 2);
    Trainer trainer(mesh, mlp_stages("dualpipe", mesh, false), PipelineOptions{}, adamw,
                    options(true));
    train(trainer, 0, 2);
    trainer.save(root.string());
  });
}

// Loads the checkpoint of save_two_steps into `schedule` on dp `dp` and trains a third step; the
// parameters must equal one process trained on two steps of 2 replicas and one of `dp`.
void load_and_compare(const fs::path& root, const std::string& schedule, int dp, bool zero) {
  run_in_processes(2 * dp, [&](const Worker& worker) {
    const ParallelMesh mesh = make_mesh(worker, dp);
    const std::vector<LocalStage> local = mlp_stages(schedule, mesh, false);
    PipelineOptions pipeline;
    pipeline.schedule = schedule;
    Trainer trainer(mesh, local, pipeline, adamw, options(zero));
    trainer.load(root.string());
    train(trainer, 2, 1);
    Reference reference(num_stages(schedule, 2), kClip);
    reference.step(0, 2);
    reference.step(1, 2);
    reference.step(2, dp);
    EXPECT_LE(parameter_difference(local, reference), 1e-12);
  });
}

TEST(TrainerCheckpoint, LoadsIntoAnotherDataParallelDegree) {
  const fs::path root = scratch("dp");
  save_two_steps(root);
  load_and_compare(root, "dualpipe", 1, true);
  load_and_compare(root, "dualpipe", 1, false);
}

TEST(TrainerCheckpoint, LoadsIntoAnotherScheduleOfTheSamePipelineDegree) {
  const fs::path root = scratch("schedule");
  save_two_steps(root);
  load_and_compare(root, "1f1b", 2, false);
  load_and_compare(root, "zb1p", 2, true);
}

TEST(TrainerCheckpoint, AnInterruptedSaveLeavesThePreviousCheckpoint) {
  const fs::path root = scratch("interrupted");
  save_two_steps(root);
  // What a save that died before its rename leaves behind.
  fs::create_directories(root / "step-00000004.tmp");
  std::ofstream(root / "step-00000004.tmp" / "stage-0-dense.params.pt") << "partial";
  load_and_compare(root, "dualpipe", 2, true);
}

// Runs `load` on pp 2 x dp 2 and expects the same one-line error containing `expected` on every
// rank.
void expect_load_error(const fs::path& root, int hidden_blocks, const std::string& expected) {
  run_in_processes(4, [&](const Worker& worker) {
    const ParallelMesh mesh = make_mesh(worker, 2);
    std::vector<LocalStage> local = mlp_stages("dualpipe", mesh, false);
    if (hidden_blocks > 1) {
      for (LocalStage& l : local)
        l.module = make_mlp_stage(kHidden, 2 * hidden_blocks, 2, l.stage, kSeed, torch::kFloat64);
    }
    Trainer trainer(mesh, local, PipelineOptions{}, adamw, options(true));
    try {
      trainer.load(root.string());
      ADD_FAILURE() << "loaded an unfit checkpoint";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  });
}

TEST(TrainerCheckpoint, RefusesAnotherModelOrAMissingShardOnEveryRank) {
  const fs::path root = scratch("refused");
  save_two_steps(root);
  expect_load_error(root, 2, "has shapes");
  fs::path latest;
  std::ifstream(root / "latest") >> latest;
  fs::remove(root / latest / "stage-1-dense.optim-3-of-4.pt");
  expect_load_error(root, 1, "stage-1-dense.optim-3-of-4.pt");
}

}  // namespace
}  // namespace dualpipe::runtime
