// DualPipe with MoE stages: 2 pipeline ranks x 2 expert-parallel ranks, the MoE stages running
// their overlapped pairs through the overlap engine, against the same model run step by step.
#include <gtest/gtest.h>

#include "dualpipe/moe/moe_stage.h"
#include "dualpipe/runtime/pipeline.h"
#include "multi_process.h"
#include "tensor_compare.h"
#include "test_stages.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::max_relative_difference;
using dualpipe::testing::relative_difference;
using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

constexpr int kMicrobatches = 8;  // enough for overlapped pairs that start from a loss

// runtime::Pipeline stage s holds model layers 2s and 2s+1; layer 1 has a replicated expert.
std::shared_ptr<MoeStage> make_stage(int stage, const CommGroup& experts) {
  const MoeStageOptions o = testing::small_stage_options(2 * stage, 23);
  std::vector<ExpertPlacement> placements{ExpertPlacement::identity(4, 2),
                                          ExpertPlacement({0, 1, 2, 3}, 4, 2)};
  if (stage == 0) placements[1] = ExpertPlacement({0, 1, 3, 2, 0, 3}, 4, 2);
  auto module = std::make_shared<MoeStage>(o, experts, placements);
  module->to(torch::kFloat64);
  return module;
}

std::vector<torch::Tensor> gradients(torch::nn::Module& module) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : module.parameters())
    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return grads;
}

// One DualPipe step of 2 stages over 2 pipeline ranks x 2 expert ranks, its pairs in `order`,
// against the same model run micro-batch after micro-batch.
void check_dualpipe_step(const Worker& worker, PairOrder order) {
  const int pipeline_rank = worker.rank / 2;
  const int expert_rank = worker.rank % 2;
  const CommGroup experts = worker.group("experts" + std::to_string(pipeline_rank),
                                         {2 * pipeline_rank, 2 * pipeline_rank + 1});
  runtime::PipelineGroup pipeline =
      runtime::make_pipeline_group(worker.store, {expert_rank, 2 + expert_rank}, worker.rank,
                                   torch::kCPU, std::chrono::seconds(60));
  std::vector<runtime::LocalStage> local;
  for (const auto& [direction, stage] : runtime::local_stage_slots("dualpipe", 2, pipeline_rank)) {
    const std::shared_ptr<MoeStage> module = make_stage(stage, experts);
    module->set_pair_order(order);
    local.push_back(runtime::LocalStage{direction, stage, module});
  }
  runtime::Pipeline pipe(local, pipeline, runtime::PipelineOptions{});

  torch::manual_seed(300 + expert_rank);  // each pipeline its own data, the same on its two ranks
  const torch::Tensor inputs = torch::randn({kMicrobatches, 3, 8}, torch::kFloat64);
  const torch::Tensor labels = torch::randn({kMicrobatches, 3, 8}, torch::kFloat64);
  const runtime::Criterion mse = [](const runtime::TensorList& out, const runtime::TensorList& l) {
    return (out[0] - l[0]).pow(2).mean();
  };
  const runtime::StepResult result =
      pipe.step(runtime::StepInput{{inputs}, {labels}, kMicrobatches, mse, false});

  // The same model, micro-batch after micro-batch, on the same expert-parallel group.
  const std::shared_ptr<MoeStage> first = make_stage(0, experts);
  const std::shared_ptr<MoeStage> second = make_stage(1, experts);
  std::vector<double> losses;
  for (int g = 0; g < kMicrobatches; ++g) {
    const torch::Tensor out = second->forward(first->forward({inputs[g].unsqueeze(0)})).at(0);
    const torch::Tensor loss = mse({out}, {labels[g].unsqueeze(0)});
    loss.backward();
    losses.push_back(loss.item<double>());
  }
  first->sum_replicated_gradients();
  second->sum_replicated_gradients();

  for (std::size_t i = 0; i < result.microbatches.size(); ++i) {
    const int g = result.microbatches[i];
    EXPECT_LE(std::abs(result.losses[static_cast<int64_t>(i)].item<double>() -
                       losses[static_cast<std::size_t>(g)]),
              1e-12 * std::abs(losses[static_cast<std::size_t>(g)]))
        << "micro-batch " << g;
  }
  for (const runtime::LocalStage& s : local) {
    const std::vector<torch::Tensor> expected = gradients(s.stage == 0 ? *first : *second);
    EXPECT_LE(max_relative_difference(gradients(*s.module), expected), 1e-12)
        << "stage " << s.stage;
  }
}

TEST(DualPipeMoe, TwoPipelineRanksTimesTwoExpertRanksMatchTheSequentialStep) {
  run_in_processes(4, [](const Worker& w) { check_dualpipe_step(w, PairOrder::kForwardFirst); });
}

TEST(DualPipeMoe, BackwardFirstPairsMatchTheSequentialStepToo) {
  run_in_processes(4, [](const Worker& w) { check_dualpipe_step(w, PairOrder::kBackwardFirst); });
}

}  // namespace
}  // namespace dualpipe::moe
