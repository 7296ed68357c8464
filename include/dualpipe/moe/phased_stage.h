// PhasedStage: a pipeline stage whose layers are written as phases (attention, dispatch, experts,
// combine) and which therefore gets an overlapped forward/backward pair from the overlap engine.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "dualpipe/moe/overlap_engine.h"
#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::moe {

// Subclass it and implement append_phases(); forward() then runs the phases in order, and the
// pipeline executor's FB actions run overlapped pairs (unless overlap is switched off, in which
// case they run forward, then backward, like any stage). Given a runtime::WeightGradStore (the
// pipeline attaches its own), overlapped pairs run weight gradients as separate W phases
// (run_interleaved).
class PhasedStage : public runtime::PipelineStage, public runtime::DefersWeightGradients {
 public:
  // Appends the stage's forward phases for the stage inputs stored as `inputs` and returns the
  // values holding its outputs. Called once per micro-batch.
  virtual std::vector<ValueId> append_phases(PhaseProgram& program,
                                             const std::vector<ValueId>& inputs) = 0;

  runtime::TensorList forward(const runtime::TensorList& inputs) override;
  runtime::ForwardResult overlapped_forward_backward(
      const runtime::ForwardPass& forward_pass,
      const runtime::BackwardPass& backward_pass) override;
  // Activation recomputation that sends no token twice: the second forward takes what the
  // first one's exchanges received (OverlapEngine::forward_once / forward_again).
  std::unique_ptr<runtime::ForwardReplay> forward_once(const runtime::TensorList& inputs,
                                                       runtime::TensorList& outputs) override;
  runtime::TensorList forward_again(const runtime::TensorList& inputs,
                                    runtime::ForwardReplay& replay) override;

  // The overlap engine puts communication and compute on streams of its own.
  bool orders_own_streams() const override { return true; }

  void set_weight_grad_store(std::shared_ptr<runtime::WeightGradStore> store) override {
    weight_grads_ = std::move(store);
  }

  // Overlapped pairs on (default) or off.
  void set_overlap(bool on) { overlap_ = on; }
  bool overlap() const { return overlap_; }

  // Which backward compute phases of an overlapped pair defer their weight gradients to W phases
  // when a runtime::WeightGradStore is attached (run_interleaved); default_weight_phases() by
  // default.
  void set_weight_phases(WeightPhaseNames names) { pair_.deferred_weights = std::move(names); }

  // Which pass of an overlapped pair runs its first phase alone (interleaving).
  void set_pair_order(PairOrder order) { pair_.order = order; }

 private:
  OverlapEngine& engine_for(const runtime::TensorList& inputs);

  bool overlap_ = true;
  PairOptions pair_;
  std::shared_ptr<runtime::WeightGradStore> weight_grads_;
  std::unique_ptr<OverlapEngine> engine_;
};

}  // namespace dualpipe::moe
