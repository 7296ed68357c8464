#include "dualpipe/moe/phased_stage.h"

#include <stdexcept>

namespace dualpipe::moe {

OverlapEngine& PhasedStage::engine_for(const runtime::TensorList& inputs) {
  if (inputs.empty() || !inputs.front().defined())
    throw std::invalid_argument("phased stage: no input");
  const torch::Device device = inputs.front().device();
  if (!engine_ || engine_->streams().device() != device)
    engine_ = std::make_unique<OverlapEngine>(device);
  return *engine_;
}

runtime::TensorList PhasedStage::forward(const runtime::TensorList& inputs) {
  return engine_for(inputs).forward(inputs,
                                    [this](PhaseProgram& program, const std::vector<ValueId>& ids) {
                                      return append_phases(program, ids);
                                    });
}

std::unique_ptr<runtime::ForwardReplay> PhasedStage::forward_once(const runtime::TensorList& inputs,
                                                                  runtime::TensorList& outputs) {
  std::unique_ptr<runtime::ForwardReplay> replay;
  outputs = engine_for(inputs).forward_once(
      inputs,
      [this](PhaseProgram& program, const std::vector<ValueId>& ids) {
        return append_phases(program, ids);
      },
      replay);
  return replay;
}

runtime::TensorList PhasedStage::forward_again(const runtime::TensorList& inputs,
                                               runtime::ForwardReplay& replay) {
  auto* phased = dynamic_cast<PhasedReplay*>(&replay);
  if (phased == nullptr) throw std::logic_error("phased stage: not a replay of a phased forward");
  return engine_for(inputs).forward_again(
      inputs,
      [this](PhaseProgram& program, const std::vector<ValueId>& ids) {
        return append_phases(program, ids);
      },
      *phased);
}

runtime::ForwardResult PhasedStage::overlapped_forward_backward(
    const runtime::ForwardPass& forward_pass, const runtime::BackwardPass& backward_pass) {
  if (!overlap_)
    return runtime::PipelineStage::overlapped_forward_backward(forward_pass, backward_pass);
  const ProgramBuilder build = [this](PhaseProgram& program, const std::vector<ValueId>& ids) {
    return append_phases(program, ids);
  };
  return engine_for(forward_pass.inputs)
      .forward_backward(forward_pass, build, backward_pass, weight_grads_.get(), pair_);
}

}  // namespace dualpipe::moe
