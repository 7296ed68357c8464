#include "dualpipe/runtime/loss_scaler.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::runtime {
namespace {

TEST(LossScaler, HalvesTheScaleAndSkipsTheStepOnOverflow) {
  LossScaler scaler(LossScalerOptions{1024.0, 2.0, 0.5, 3, 1.0});
  EXPECT_FALSE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 512.0);
}

TEST(LossScaler, GrowsAfterTheIntervalWithoutOverflow) {
  LossScaler scaler(LossScalerOptions{1024.0, 2.0, 0.5, 3, 1.0});
  EXPECT_TRUE(scaler.update(false));
  EXPECT_TRUE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 1024.0);
  EXPECT_TRUE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 2048.0);
  EXPECT_EQ(scaler.good_steps(), 0);
}

TEST(LossScaler, NeverFallsBelowItsMinimum) {
  LossScaler scaler(LossScalerOptions{2.0, 2.0, 0.5, 10, 1.0});
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1.0);
}

TEST(LossScaler, RefusesABackoffThatDoesNotShrink) {
  EXPECT_THROW(LossScaler(LossScalerOptions{1.0, 2.0, 1.0, 10, 1.0}), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::runtime
