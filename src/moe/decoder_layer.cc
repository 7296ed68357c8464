#include "dualpipe/moe/decoder_layer.h"

#include <ATen/CPUGeneratorImpl.h>

#include "residual_moe_phases.h"

namespace dualpipe::moe {

DecoderLayerImpl::DecoderLayerImpl(int64_t heads, int64_t dense_ffn_hidden,
                                   const MoeLayerOptions& moe_options, uint64_t seed,
                                   CommGroup group, std::optional<ExpertPlacement> placement) {
  const int64_t hidden = moe_options.hidden;
  norm1 = register_module("norm1", RmsNorm(hidden));
  attention = register_module("attention", MultiHeadAttention(hidden, heads, /*rotary=*/true));
  norm2 = register_module("norm2", RmsNorm(hidden));
  at::Generator generator = at::detail::createCPUGenerator(seed);
  attention->reset_parameters(generator);
  if (placement) {
    moe = register_module("moe", MoeLayer(moe_options, std::move(group), std::move(*placement)));
  } else {
    dense = register_module("dense", SwiGluMlp(hidden, dense_ffn_hidden));
    dense->reset_parameters(generator);
  }
}

ValueId DecoderLayerImpl::append_phases(PhaseProgram& program, ValueId x) {
  if (!moe) {  // all compute: one phase with the attention before it
    const ValueId output = program.tape().new_value();
    program.add_compute("mlp", [this, x, output](PhaseTape& t) {
      const torch::Tensor input = t.read(x);
      const torch::Tensor h = input + attention->forward(norm1->forward(input));
      const torch::Tensor flat = norm2->forward(h).reshape({-1, h.size(-1)});
      t.write(output, h + dense->forward(flat).view(h.sizes()));
    });
    return output;
  }
  return append_residual_moe_phases(
      program, x, [this](const torch::Tensor& h) { return attention->forward(norm1->forward(h)); },
      [this](const torch::Tensor& h) { return norm2->forward(h); }, *moe);
}

}  // namespace dualpipe::moe
