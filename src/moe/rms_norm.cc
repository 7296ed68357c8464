#include "dualpipe/moe/rms_norm.h"

namespace dualpipe::moe {

RmsNormImpl::RmsNormImpl(int64_t hidden, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({hidden}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps_) * weight;
}

}  // namespace dualpipe::moe
