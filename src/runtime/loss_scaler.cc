#include "dualpipe/runtime/loss_scaler.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dualpipe::runtime {

LossScaler::LossScaler(LossScalerOptions options)
    : options_(options), scale_(options.initial_scale) {
  if (!(options.initial_scale > 0) || !(options.growth_factor >= 1) ||
      !(options.backoff_factor > 0 && options.backoff_factor < 1) || options.growth_interval < 1)
    throw std::invalid_argument(
        "loss scaling needs a positive scale, growth >= 1, backoff in (0, 1) and an interval >= 1");
}

bool LossScaler::update(bool overflow) {
  if (overflow) {
    scale_ = std::max(scale_ * options_.backoff_factor, options_.min_scale);
    good_steps_ = 0;
    return false;
  }
  if (++good_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    good_steps_ = 0;
  }
  return true;
}

void LossScaler::restore(double scale, int good_steps) {
  if (!(scale > 0))
    throw std::invalid_argument("loss scale must be positive, got " + std::to_string(scale));
  scale_ = scale;
  good_steps_ = good_steps;
}

}  // namespace dualpipe::runtime
