#include "dualpipe/eplb/replay.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

namespace dualpipe::eplb {
namespace {

// Skewed loads whose hot experts drift slowly over `steps` steps.
LoadSeries drifting_series(int steps, int layers, int experts) {
  std::mt19937 rng(11);
  std::lognormal_distribution<float> noise(0.0f, 0.3f);
  LoadSeries series;
  for (int t = 0; t < steps; ++t) {
    LoadMatrix loads(layers, experts);
    for (int l = 0; l < layers; ++l) {
      for (int e = 0; e < experts; ++e) {
        const int hot = (e + t / 4 + l) % experts;
        loads(l, e) = (hot < 4 ? 20.0f : 1.0f) * noise(rng);
      }
    }
    series.push_back(loads);
  }
  return series;
}

TEST(Replay, ScoresEachPlanOnTheFollowingWindow) {
  const LoadSeries series = drifting_series(20, 2, 16);
  ReplayOptions options;
  options.interval = 4;
  const auto windows = replay(series, {24, 4, 2, 4}, options);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[0].first_step, 4);
  EXPECT_EQ(windows[3].first_step, 16);
  for (const auto& w : windows) {
    EXPECT_EQ(w.steps, 4);
    EXPECT_GT(w.balancedness, 0.0);
    EXPECT_LE(w.balancedness, 1.0);
  }
  // The first plan replaces the trivial placement, which ignores the hot experts.
  EXPECT_GT(windows[0].balancedness, windows[0].balancedness_before);
  EXPECT_GT(windows[0].replicas_moved, 0);
}

TEST(Replay, MovesFewerReplicasWithAMoveCap) {
  const LoadSeries series = drifting_series(24, 2, 16);
  ReplayOptions free_options;
  free_options.interval = 4;
  ReplayOptions capped = free_options;
  capped.migration = MigrationOptions{};
  capped.migration->max_moves = 2;
  int moved_free = 0, moved_capped = 0;
  for (const auto& w : replay(series, {24, 4, 2, 4}, free_options)) moved_free += w.replicas_moved;
  const auto windows = replay(series, {24, 4, 2, 4}, capped);
  for (std::size_t i = 1; i < windows.size(); ++i) {
    EXPECT_LE(windows[i].replicas_moved, 2);
    moved_capped += windows[i].replicas_moved;
  }
  EXPECT_LT(moved_capped, moved_free);
}

TEST(Replay, RejectsAnIntervalBelowOne) {
  ReplayOptions options;
  options.interval = 0;
  EXPECT_THROW(replay(drifting_series(4, 1, 8), {8, 1, 1, 2}, options), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::eplb
