// A block-diagonal linear map over rows: the experts of one rank applied to their blocks of rows.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dualpipe/runtime/weight_grad_store.h"

namespace dualpipe::moe {

// How block_linear multiplies its blocks.
enum class BlockProducts {
  // One grouped GEMM for all blocks (LibTorch >= 2.9's at::_grouped_mm) where it applies:
  // bfloat16 on CUDA, widths multiples of 8; elsewhere one product per block.
  kFastest,
  // One matrix product per block, always (the reference the grouped GEMM is tested against).
  kOnePerBlock,
};

// Whether block_linear(input, weights, ..., BlockProducts::kFastest) runs one grouped GEMM.
bool uses_grouped_gemm(const torch::Tensor& input, const std::vector<torch::Tensor>& weights);

// y = block_linear(x, weights, rows_per_block, store) for x [N, in] in consecutive blocks of
// rows_per_block[b] rows (summing to N) and weights[s] [out, in] (no bias): block b's rows times
// weights[b mod weights.size()]^T -> y [N, out]. Each block's product writes straight into y, and
// in the backward into x's gradient, so nothing is concatenated. Weight gradients bypass autograd
// as runtime::DeferrableLinear's do: added to .grad by hand, through `store` (may be null) which
// defers them while it is deferring.
torch::Tensor block_linear(const torch::Tensor& input, const std::vector<torch::Tensor>& weights,
                           const std::vector<int64_t>& rows_per_block,
                           const std::shared_ptr<runtime::WeightGradStore>& store,
                           BlockProducts products = BlockProducts::kFastest);

}  // namespace dualpipe::moe
