#include "dualpipe/runtime/weight_grad_store.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

#include "dualpipe/runtime/deferrable_linear.h"

namespace dualpipe::runtime {
namespace {

using schedule::Chunk;

TEST(WeightGradStore, RunsTasksAtOnceWhenNotDeferring) {
  WeightGradStore store;
  int runs = 0;
  store.run_or_defer([&] { ++runs; });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(store.pending_groups(), 0u);
}

TEST(WeightGradStore, KeepsDeferredTasksUntilTheirGroupIsReplayed) {
  WeightGradStore store;
  std::vector<int> order;
  store.set_deferring(true);
  store.run_or_defer([&] { order.push_back(1); });
  store.run_or_defer([&] { order.push_back(2); });
  store.set_deferring(false);
  store.flush(Chunk{0, 0, 0});
  store.set_deferring(true);
  store.run_or_defer([&] { order.push_back(3); });
  EXPECT_EQ(store.pending_tasks(), 3u);  // two in a group, one not flushed yet
  store.set_deferring(false);
  store.flush(Chunk{0, 1, 0});
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(store.pending_groups(), 2u);
  store.replay(Chunk{0, 0, 0});
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(store.pending_tasks(), 1u);
  store.replay(Chunk{0, 1, 0});
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(store.pending_groups(), 0u);
}

TEST(WeightGradStore, ReplaysTheGroupOfTheNamedChunkEvenOutOfOrder) {
  WeightGradStore store;
  int which = 0;
  store.set_deferring(true);
  store.run_or_defer([&] { which = 1; });
  store.flush(Chunk{1, 0, 0});
  store.run_or_defer([&] { which = 2; });
  store.flush(Chunk{1, 1, 0});
  store.replay(Chunk{1, 1, 0});
  EXPECT_EQ(which, 2);
  EXPECT_EQ(store.pending_groups(), 1u);
}

TEST(WeightGradStore, RunDeferringKeepsABackwardsTasksUnderItsChunk) {
  WeightGradStore store;
  int runs = 0;
  store.run_deferring(Chunk{0, 2, 0}, [&] {
    EXPECT_TRUE(store.deferring());
    store.run_or_defer([&] { ++runs; });
  });
  EXPECT_FALSE(store.deferring());
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(store.pending_groups(), 1u);
  store.replay(Chunk{0, 2, 0});
  EXPECT_EQ(runs, 1);
}

TEST(WeightGradStore, RunDeferringDropsWhatAFailedBackwardKept) {
  WeightGradStore store;
  int runs = 0;
  EXPECT_THROW(store.run_deferring(Chunk{0, 1, 0},
                                   [&] {
                                     store.run_or_defer([&] { ++runs; });
                                     throw std::runtime_error("backward failed");
                                   }),
               std::runtime_error);
  EXPECT_FALSE(store.deferring());
  EXPECT_EQ(store.pending_groups(), 0u);
  store.run_deferring(Chunk{0, 2, 0}, [] {});
  store.replay(Chunk{0, 2, 0});  // the next group holds none of the failed backward's tasks
  EXPECT_EQ(runs, 0);
}

TEST(WeightGradStore, RefusesToReplayAChunkThatDeferredNothing) {
  WeightGradStore store;
  EXPECT_THROW(store.replay(Chunk{0, 3, 1}), std::logic_error);
}

TEST(WeightGradStore, ClearDropsEverythingAndStopsDeferring) {
  WeightGradStore store;
  store.set_deferring(true);
  store.run_or_defer([] {});
  store.flush(Chunk{});
  store.clear();
  EXPECT_FALSE(store.deferring());
  EXPECT_EQ(store.pending_groups(), 0u);
}

TEST(WeightGradStore, ReplaysWithoutRecordingAGraph) {
  // The second layer's input (the first's output) requires grad: a weight gradient computed from
  // it with grad mode on would carry its history, and keep its activations, from step to step.
  torch::nn::Sequential model(DeferrableLinear(4, 4), torch::nn::ReLU(), DeferrableLinear(4, 2));
  auto store = std::make_shared<WeightGradStore>();
  attach_weight_grad_store(*model, store);
  for (int step = 0; step < 2; ++step) {
    const torch::Tensor loss = model->forward(torch::randn({3, 4})).pow(2).sum();
    store->run_deferring(Chunk{0, step, 0}, [&] { loss.backward(); });
    store->replay(Chunk{0, step, 0});
  }
  for (const torch::Tensor& p : model->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_FALSE(p.grad().requires_grad());
    EXPECT_EQ(p.grad().grad_fn(), nullptr);
  }
}

TEST(AttachWeightGradStore, ReachesEveryDeferrableModuleOfATree) {
  torch::nn::Sequential model(DeferrableLinear(4, 4), torch::nn::ReLU(), DeferrableLinear(4, 2),
                              torch::nn::Linear(2, 2));
  EXPECT_EQ(attach_weight_grad_store(*model, std::make_shared<WeightGradStore>()), 2);
}

}  // namespace
}  // namespace dualpipe::runtime
