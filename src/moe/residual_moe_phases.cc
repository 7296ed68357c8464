#include "residual_moe_phases.h"

#include <utility>

namespace dualpipe::moe {

ValueId append_residual_moe_phases(PhaseProgram& program, ValueId x, TensorFunction attend,
                                   TensorFunction norm, MoeLayerImpl& moe) {
  PhaseTape& tape = program.tape();
  const ValueId residual = tape.new_value();
  const ValueId normed = tape.new_value();
  const ValueId output = tape.new_value();
  program.add_compute("attn", [attend = std::move(attend), norm = std::move(norm), x, residual,
                               normed](PhaseTape& t) {
    const torch::Tensor input = t.read(x);
    const torch::Tensor h = input + attend(input);
    t.write(residual, h);
    t.write(normed, norm(h).reshape({-1, h.size(-1)}));
  });
  const ValueId moe_output = moe.append_phases(program, normed);
  program.add_compute("combine", [residual, moe_output, output](PhaseTape& t) {
    const torch::Tensor h = t.read(residual);
    t.write(output, h + t.read(moe_output).view(h.sizes()));
  });
  return output;
}

}  // namespace dualpipe::moe
