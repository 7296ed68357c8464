// MlpStage: the model chunk of deepseek-ai/DualPipe's example, used by pipeline-bench, the tests
// and the training example: blocks of Linear(H -> 4H, no bias), GELU, Linear(4H -> H, no bias).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dualpipe/runtime/deferrable_linear.h"
#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::runtime {

// `num_blocks` MLP blocks over hidden size H; input and output [..., H]. Its linears defer their
// weight gradients in zero-bubble schedules.
class MlpStage : public PipelineStage {
 public:
  MlpStage(int64_t hidden_size, int num_blocks);

  TensorList forward(const TensorList& inputs) override;

  // Draws every weight uniformly from +-1/sqrt(fan_in) (torch::nn::Linear's distribution) with a
  // generator seeded by `seed`, so two stages built with the same seed are identical on any
  // device and dtype.
  void initialize(uint64_t seed);

 private:
  std::vector<DeferrableLinear> up_;    // H -> 4H per block
  std::vector<DeferrableLinear> down_;  // 4H -> H per block
};

// Stage `stage` of a model of `total_blocks` blocks split evenly over `num_stages` stages,
// initialised from seed + stage and converted to `dtype`. Throws std::invalid_argument when the
// blocks do not split evenly.
std::shared_ptr<MlpStage> make_mlp_stage(int64_t hidden_size, int total_blocks, int num_stages,
                                         int stage, uint64_t seed, torch::Dtype dtype);

}  // namespace dualpipe::runtime
