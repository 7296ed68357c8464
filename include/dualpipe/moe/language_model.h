// LanguageModelStage: one pipeline stage of a decoder-only language model in the shape of
// DeepSeek-V3 at toy scale: byte embedding, decoder layers (the first few dense, the others MoE
// with group-limited routing, a shared expert and auxiliary-loss-free balancing), final RMSNorm
// and output head.
#pragma once

#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dualpipe/moe/decoder_layer.h"
#include "dualpipe/moe/expert_layers.h"
#include "dualpipe/runtime/deferrable_linear.h"

namespace dualpipe::moe {

// Sizes of the whole model.
struct LanguageModelOptions {
  int64_t vocab = 256;  // bytes
  int64_t hidden = 64;
  int64_t heads = 4;
  int layers = 4;                  // decoder layers
  int dense_layers = 1;            // the first ones have a dense feed-forward
  int64_t dense_ffn_hidden = 128;  // its width
  // The MoE layers' experts and routing (hidden is set from `hidden`, seed and layer per layer).
  MoeLayerOptions moe;
  uint64_t seed = 1;

  int num_moe_layers() const { return layers - dense_layers; }
};

// Throws std::invalid_argument naming the first inconsistent option.
void check_options(const LanguageModelOptions& options);

// The model's units: unit 0 is the embedding, unit 1 + i decoder layer i, unit layers + 1 the
// final norm and head. A stage holds units [first, end).
struct StageUnits {
  int first = 0;
  int end = 0;
};

// Splits the layers + 2 units over `num_stages` stages: `units_per_stage` when given (each >= 1,
// summing to layers + 2), else as evenly as possible (earlier stages one more). Counting the
// embedding and the head as units keeps the first and last stage from holding more than the rest.
// Throws std::invalid_argument when impossible.
std::vector<StageUnits> partition_units(int layers, int num_stages,
                                        const std::vector<int>& units_per_stage = {});

// Inputs: the first stage takes byte ids [batch, sequence] (int64), the others hidden states
// [batch, sequence, hidden]; outputs: hidden states, or logits [batch, sequence, vocab] from the
// last stage. Parameters come from generators seeded by the options and the unit, so every copy
// of a stage (DualPipe's two, the data-parallel replicas) starts equal.
class LanguageModelStage : public ExpertLayerStage {
 public:
  // The stage of `units`; its MoE layers exchange tokens over `experts` and hold `placements`
  // (one per MoE layer among the units, in order; each num_ranks = the group's size).
  LanguageModelStage(const LanguageModelOptions& options, StageUnits units, CommGroup experts,
                     std::vector<ExpertPlacement> placements);

  std::vector<ValueId> append_phases(PhaseProgram& program,
                                     const std::vector<ValueId>& inputs) override;

  // The MoE layers this stage holds, in model order, and their model layer indices.
  std::vector<MoeLayer> moe_layers() const override;
  std::vector<int> moe_layer_indices() const;

  const StageUnits& units() const { return units_; }

  torch::nn::Embedding embedding{nullptr};  // first stage only
  std::vector<DecoderLayer> layers;
  RmsNorm final_norm{nullptr};              // last stage only
  runtime::DeferrableLinear head{nullptr};  // last stage only: [vocab, hidden]

 private:
  LanguageModelOptions options_;
  StageUnits units_;
};

// Mean cross-entropy of logits [batch, sequence, vocab] against byte ids [batch, sequence]: the
// Criterion of the last stage.
torch::Tensor next_byte_loss(const runtime::TensorList& outputs, const runtime::TensorList& labels);

// Floating-point operations one training step spends per token (forward and backward), the usual
// count: 6 x the parameters a token uses (embedding excluded; an MoE layer's router, shared expert
// and top_k routed experts) plus 6 x layers x sequence x hidden for causal attention (scores and
// values over half the sequence on average).
double training_flops_per_token(const LanguageModelOptions& options, int64_t sequence);

// Auxiliary-loss-free balancing (DeepSeek-V3): moves each expert's routing bias by `rate` towards
// equal load, +rate for an expert that got fewer tokens than the mean over experts, -rate for one
// that got more. `tokens[i]` holds the step's tokens per expert of layer i, summed over every rank
// that runs it (e.g. LoadRecorder::end_step over all ranks); layers pairs stage layers with rows.
void update_routing_bias(const std::vector<MoeLayer>& layers,
                         const std::vector<std::vector<int64_t>>& tokens, double rate);

}  // namespace dualpipe::moe
