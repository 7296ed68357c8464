#include "dualpipe/moe/token_exchange.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "multi_process.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

// Rows sent by `from` to `to`: [count, 2] holding (from * 100 + to, row index).
torch::Tensor rows_between(int from, int to, int64_t count) {
  const torch::Tensor index = torch::arange(count, torch::kFloat64);
  return torch::stack({torch::full({count}, from * 100.0 + to, torch::kFloat64), index}, 1);
}

// Row counts between every pair of ranks, equal on every rank: counts[from][to].
std::vector<std::vector<int64_t>> count_matrix(int ranks) {
  std::vector<std::vector<int64_t>> counts(static_cast<std::size_t>(ranks));
  for (int from = 0; from < ranks; ++from) {
    for (int to = 0; to < ranks; ++to)
      counts[static_cast<std::size_t>(from)].push_back((from * 3 + to * 5) % 4);
  }
  return counts;
}

// Uneven exchanges of rows on `device` there and back, the way back following the first on the
// communication stream only.
void check_exchange(const Worker& worker, torch::Device device = torch::kCPU) {
  const CommGroup group = worker.world();
  const int ranks = worker.world_size;
  const auto counts = count_matrix(ranks);
  ExchangeSplits splits;
  std::vector<torch::Tensor> outgoing;
  for (int to = 0; to < ranks; ++to) {
    splits.send.push_back(
        counts[static_cast<std::size_t>(worker.rank)][static_cast<std::size_t>(to)]);
    splits.recv.push_back(
        counts[static_cast<std::size_t>(to)][static_cast<std::size_t>(worker.rank)]);
    outgoing.push_back(rows_between(worker.rank, to, splits.send.back()).to(device));
  }
  CommStreams streams(device);
  const torch::Tensor received =
      start_exchange(group, torch::cat(outgoing), splits, streams).wait();
  std::vector<torch::Tensor> expected;
  for (int from = 0; from < ranks; ++from)
    expected.push_back(
        rows_between(from, worker.rank, splits.recv[static_cast<std::size_t>(from)]));
  EXPECT_TRUE(torch::equal(received.cpu(), torch::cat(expected)));

  const torch::Tensor returned = start_exchange(group, received, splits.reversed(), streams,
                                                CommStreams::Order::kAfterCommunication)
                                     .wait();
  EXPECT_TRUE(torch::equal(returned, torch::cat(outgoing)));
}

// Counts on `device` between three ranks: every rank learns what each other rank sends it.
void check_counts(const Worker& worker, torch::Device device = torch::kCPU) {
  const torch::Tensor counts =
      (torch::arange(6, torch::kInt64).view({3, 2}) + 10 * worker.rank).to(device);
  CommStreams streams(device);
  const CountsExchange exchanged = start_counts_exchange(worker.world(), counts, streams).wait();
  EXPECT_TRUE(exchanged.sent.device().is_cpu() && exchanged.received.device().is_cpu());
  EXPECT_TRUE(torch::equal(exchanged.sent, counts.cpu()));
  for (int from = 0; from < 3; ++from) {
    const torch::Tensor expected = torch::arange(2, torch::kInt64) + 2 * worker.rank + 10 * from;
    EXPECT_TRUE(torch::equal(exchanged.received[from], expected)) << "from " << from;
  }
}

TEST(TokenExchange, MovesUnevenRowCountsBetweenTwoRanks) {
  run_in_processes(2, [](const Worker& w) { check_exchange(w); });
}

TEST(TokenExchange, MovesUnevenRowCountsBetweenFourRanks) {
  run_in_processes(4, [](const Worker& w) { check_exchange(w); });
}

TEST(TokenExchange, TellsEachRankWhatItWillReceive) {
  run_in_processes(3, [](const Worker& w) { check_counts(w); });
}

// On CUDA the exchanges run on the communication stream (here over Gloo, through host memory).
TEST(TokenExchange, MovesUnevenRowCountsBetweenTwoRanksSharingAGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  run_in_processes(2, [](const Worker& w) { check_exchange(w, torch::Device(torch::kCUDA, 0)); });
}

TEST(TokenExchange, TellsEachRankWhatItWillReceiveOnAGpuItShares) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  run_in_processes(3, [](const Worker& w) { check_counts(w, torch::Device(torch::kCUDA, 0)); });
}

TEST(TokenExchange, WithoutAGroupKeepsTheRows) {
  CommStreams streams(torch::kCPU);
  const torch::Tensor rows = torch::randn({3, 2});
  EXPECT_TRUE(
      torch::equal(start_exchange({}, rows, ExchangeSplits{{3}, {3}}, streams).wait(), rows));
  EXPECT_THROW(start_exchange({}, rows, ExchangeSplits{{2}, {2}}, streams), std::invalid_argument);
  EXPECT_TRUE(torch::equal(start_counts_exchange({}, torch::ones({1, 4}), streams).wait().received,
                           torch::ones({1, 4}, torch::kInt64)));
}

}  // namespace
}  // namespace dualpipe::moe
