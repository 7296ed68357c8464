#include "plain_training.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>

namespace lm {

namespace moe = dualpipe::moe;

double plain_tokens_per_second(const moe::LanguageModelOptions& options, const ByteCorpus& corpus,
                               const PlainRun& run) {
  std::vector<moe::ExpertPlacement> placements;
  for (int layer = 0; layer < options.num_moe_layers(); ++layer)
    placements.push_back(moe::ExpertPlacement::identity(static_cast<int>(options.moe.experts), 1));
  moe::LanguageModelStage model(options, {0, options.layers + 2}, moe::CommGroup(), placements);
  model.to(run.device, run.dtype);
  torch::optim::AdamW optimizer(model.parameters(),
                                torch::optim::AdamWOptions(run.lr).weight_decay(run.weight_decay));
  double seconds = 0.0;
  for (int step = 0; step < run.warmup + run.steps; ++step) {
    const TokenBatch batch = corpus.training_batch(step, 0, run.microbatches * run.rows, run.seed);
    const torch::Tensor inputs = batch.inputs.to(run.device);
    const torch::Tensor labels = batch.labels.to(run.device);
    if (run.device.is_cuda()) torch::cuda::synchronize(run.device.index());
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    for (int m = 0; m < run.microbatches; ++m) {
      const torch::Tensor x = inputs.narrow(0, m * run.rows, run.rows);
      const torch::Tensor y = labels.narrow(0, m * run.rows, run.rows);
      moe::next_byte_loss(model.forward({x}), {y}).backward();
    }
    if (run.clip_norm > 0) torch::nn::utils::clip_grad_norm_(model.parameters(), run.clip_norm);
    optimizer.step();
    if (run.device.is_cuda()) torch::cuda::synchronize(run.device.index());
    if (step >= run.warmup)
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double tokens = static_cast<double>(run.steps) * run.microbatches *
                        static_cast<double>(run.rows * corpus.sequence());
  return tokens / seconds;
}

}  // namespace lm
