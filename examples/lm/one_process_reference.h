// OneProcessReference: the whole language model in one process (every stage, every expert),
// trained step by step on every replica's batch: what the pipelined, data- and expert-parallel
// run must equal (--check).
#pragma once

#include <memory>
#include <vector>

#include "byte_corpus.h"
#include "dualpipe/moe/language_model.h"
#include "dualpipe/runtime/sequential_training.h"

namespace lm {

class OneProcessReference {
 public:
  // The stages of `partition` holding `placements` ([MoE layers][slots]), on the CPU in `dtype`.
  OneProcessReference(const dualpipe::moe::LanguageModelOptions& options,
                      const std::vector<dualpipe::moe::StageUnits>& partition,
                      const std::vector<std::vector<int>>& placements, torch::Dtype dtype,
                      double lr, double weight_decay, double clip_norm);

  // One step on `batches` (one per replica, each `microbatches` micro-batches), as
  // runtime::SequentialTraining takes it with AdamW. Returns each micro-batch's loss, replica
  // after replica.
  std::vector<double> step(const std::vector<TokenBatch>& batches, int microbatches);

  // Applies the routing-bias update the run applied (update_routing_bias over every MoE layer).
  void update_routing_bias(const std::vector<std::vector<int64_t>>& tokens, double rate);

  dualpipe::moe::LanguageModelStage& stage(int s) {
    return *stages_.at(static_cast<std::size_t>(s));
  }

 private:
  std::vector<std::shared_ptr<dualpipe::moe::LanguageModelStage>> stages_;
  std::unique_ptr<dualpipe::runtime::SequentialTraining> training_;
};

// The largest relative difference between `mine` (a stage on expert-parallel rank `expert_rank`)
// and the reference's stage of the same units: dense parameters in order, expert slots by slot.
double max_relative_difference(dualpipe::moe::LanguageModelStage& mine,
                               dualpipe::moe::LanguageModelStage& reference, int expert_rank);

}  // namespace lm
