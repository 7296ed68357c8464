// LossScaler: dynamic loss scaling for mixed-precision training (the loss is multiplied by a scale
// before the backward, gradients divided by it after; a step whose gradients overflow is skipped
// and the scale lowered).
#pragma once

namespace dualpipe::runtime {

// How the scale moves.
struct LossScalerOptions {
  double initial_scale = 65536.0;
  double growth_factor = 2.0;   // after growth_interval steps without overflow
  double backoff_factor = 0.5;  // after a step with non-finite gradients
  int growth_interval = 2000;
  double min_scale = 1.0;
};

// The scale and its updates; the same on every rank when every rank sees the same overflows.
class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options = {});

  double scale() const { return scale_; }

  // Records a step: `overflow` when its gradients held a non-finite value. Returns true when the
  // optimizer may step (no overflow).
  bool update(bool overflow);

  // For checkpoints: the scale and the steps since the last overflow or growth.
  int good_steps() const { return good_steps_; }
  void restore(double scale, int good_steps);

 private:
  LossScalerOptions options_;
  double scale_;
  int good_steps_ = 0;
};

}  // namespace dualpipe::runtime
