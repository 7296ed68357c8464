// Token exchange: the all-to-all that moves rows of a [N, hidden] tensor between the ranks of the
// expert-parallel group with per-rank row counts (MoE dispatch and combine, and their backward).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dualpipe/moe/comm_group.h"
#include "dualpipe/moe/comm_streams.h"

namespace dualpipe::moe {

// Row counts of one exchange: send[r] rows go to rank r (the input is grouped by destination in
// rank order); recv[r] rows come from rank r (the output is grouped by source in rank order).
struct ExchangeSplits {
  std::vector<int64_t> send;
  std::vector<int64_t> recv;

  int64_t rows_sent() const;
  int64_t rows_received() const;
  // The exchange that carries gradients back: send and recv swapped.
  ExchangeSplits reversed() const { return {recv, send}; }
};

// An exchange in flight; wait() blocks (on CUDA: makes the current stream, the compute stream,
// wait) until the rows have arrived and returns them, [splits.rows_received(), hidden]. The input
// stays referenced until then, so its memory cannot be reused while the exchange reads it.
class PendingExchange {
 public:
  PendingExchange() = default;
  PendingExchange(c10::intrusive_ptr<c10d::Work> work, torch::Tensor input, torch::Tensor output)
      : work_(std::move(work)), input_(std::move(input)), output_(std::move(output)) {}
  torch::Tensor wait();

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  torch::Tensor input_;  // kept alive until the exchange is done
  torch::Tensor output_;
};

// Starts the all-to-all of `rows` [splits.rows_sent(), hidden] over `group` on the communication
// stream of `streams`. With the default order it follows all work issued so far (buffers on the
// compute stream; call it before issuing the compute that should run alongside); with
// Order::kAfterCommunication it follows only the communication issued so far (buffers on the
// communication stream), for rows that were ready when that communication was issued
// (CommStreams). With a null group, the rows are returned as they are.
PendingExchange start_exchange(const CommGroup& group, const torch::Tensor& rows,
                               const ExchangeSplits& splits, CommStreams& streams,
                               CommStreams::Order order = CommStreams::Order::kAfterCompute);

// Item counts between all pairs of ranks, as exchanged by start_counts_exchange.
struct CountsExchange {
  torch::Tensor sent;      // [ranks, m] on the CPU: row r is what this rank sends to rank r
  torch::Tensor received;  // [ranks, m] on the CPU: row r is what rank r sends to this rank
};

// A counts exchange in flight; wait() blocks the host until both counts are on the CPU.
class PendingCounts {
 public:
  PendingCounts(torch::Tensor sent, torch::Tensor received, CommStreams::HostFence on_host)
      : sent_(std::move(sent)), received_(std::move(received)), on_host_(std::move(on_host)) {}
  CountsExchange wait() const;

 private:
  torch::Tensor sent_;  // CPU copies, being filled until on_host_ is passed
  torch::Tensor received_;
  CommStreams::HostFence on_host_;
};

// Starts telling every rank how many items it will receive: `counts` [ranks, m] int64, row r
// being what this rank sends to rank r. The exchange and the copies to the CPU run on the
// communication stream after all work issued so far, so the host can issue more compute before
// it waits for the counts. Over Gloo on the CPU the exchange itself blocks.
PendingCounts start_counts_exchange(const CommGroup& group, const torch::Tensor& counts,
                                    CommStreams& streams);

}  // namespace dualpipe::moe
