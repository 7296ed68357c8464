#include "dualpipe/moe/multi_head_attention.h"

#include <torch/version.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace dualpipe::moe {
namespace {

// softmax(q k^T / sqrt(width) + causal mask) v for q, k, v [batch, heads, sequence, width].
// LibTorch 2 has a fused kernel (flash attention on CUDA) that never stores the [sequence,
// sequence] scores.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, {}, /*dropout_p=*/0.0, /*is_causal=*/true);
#else
  const int64_t sequence = q.size(2);
  const torch::Tensor scores =
      torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(3)));
  const torch::Tensor future =
      torch::ones({sequence, sequence}, q.options().dtype(torch::kBool)).triu(1);
  return torch::matmul(
      torch::softmax(scores.masked_fill(future, -std::numeric_limits<double>::infinity()), -1), v);
#endif
}

// Rotary position embedding of x [batch, heads, sequence, width] (width even): each pair
// (x[i], x[i + width/2]) turns by position * 10000^(-2i / width).
torch::Tensor rotate(const torch::Tensor& x) {
  const int64_t sequence = x.size(2);
  const int64_t half = x.size(3) / 2;
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(x.device());
  const torch::Tensor frequencies =
      torch::pow(10000.0, -torch::arange(half, options) / static_cast<double>(half));
  const torch::Tensor angles = torch::outer(torch::arange(sequence, options), frequencies);
  const torch::Tensor cos = angles.cos().to(x.scalar_type());
  const torch::Tensor sin = angles.sin().to(x.scalar_type());
  const torch::Tensor a = x.narrow(3, 0, half);
  const torch::Tensor b = x.narrow(3, half, half);
  return torch::cat({a * cos - b * sin, a * sin + b * cos}, 3);
}

}  // namespace

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t hidden, int64_t heads, bool rotary)
    : heads_(heads), rotary_(rotary) {
  if (rotary && (hidden / std::max<int64_t>(heads, 1)) % 2 != 0)
    throw std::invalid_argument("attention: rotary position embedding needs an even head width");
  if (hidden < 1 || heads < 1 || hidden % heads != 0) {
    throw std::invalid_argument("attention: " + std::to_string(heads) +
                                " heads do not divide hidden size " + std::to_string(hidden));
  }
  qkv = register_module(
      "qkv", runtime::DeferrableLinear(torch::nn::LinearOptions(hidden, 3 * hidden).bias(false)));
  out = register_module(
      "out", runtime::DeferrableLinear(torch::nn::LinearOptions(hidden, hidden).bias(false)));
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t batch = x.size(0);
  const int64_t sequence = x.size(1);
  const int64_t hidden = x.size(2);
  const int64_t width = hidden / heads_;
  // [batch, sequence, 3, heads, width] -> three [batch, heads, sequence, width] views. Unbound
  // along qkv's own dimension, so the backward stacks the three gradients straight into qkv's
  // layout (unbinding a permuted view needs one more copy to undo the permutation).
  const std::vector<torch::Tensor> qkv_heads =
      qkv->forward(x).view({batch, sequence, 3, heads_, width}).unbind(2);
  torch::Tensor q = qkv_heads[0].transpose(1, 2);
  torch::Tensor k = qkv_heads[1].transpose(1, 2);
  if (rotary_) {
    q = rotate(q);
    k = rotate(k);
  }
  const torch::Tensor mixed =
      causal_attention(q, k, qkv_heads[2].transpose(1, 2))  // [batch, heads, seq, width]
          .transpose(1, 2)
          .reshape({batch, sequence, hidden});
  return out->forward(mixed);
}

void MultiHeadAttentionImpl::reset_parameters(at::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (runtime::DeferrableLinear* linear : {&qkv, &out}) {
    torch::Tensor& weight = (*linear)->weight;
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
    weight.copy_(torch::empty(weight.sizes(), torch::kFloat64).uniform_(-bound, bound, generator));
  }
}

}  // namespace dualpipe::moe
