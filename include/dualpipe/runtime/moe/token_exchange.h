// Token exchange: the all-to-all that moves rows of a [N, hidden] tensor between the ranks of the
// expert-parallel group with per-rank row counts (MoE dispatch and combine, and their backward).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dualpipe/runtime/moe/comm_group.h"
#include "dualpipe/runtime/moe/comm_streams.h"

namespace dualpipe::runtime::moe {

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

// Starts the all-to-all of `rows` [splits.rows_sent(), hidden] over `group`: buffers on the
// compute stream, the exchange on the communication stream of `streams` after all work issued so
// far (CommStreams). Call it before issuing the compute that should run alongside. With a null
// group, the rows are returned as they are.
PendingExchange start_exchange(const CommGroup& group, const torch::Tensor& rows,
                               const ExchangeSplits& splits, CommStreams& streams);

// Item counts between all pairs of ranks, as exchanged by exchange_counts.
struct CountsExchange {
  torch::Tensor sent;      // [ranks, m] on the CPU: row r is what this rank sends to rank r
  torch::Tensor received;  // [ranks, m] on the CPU: row r is what rank r sends to this rank
};

// Tells every rank how many items it will receive: `counts` [ranks, m] int64, row r being what
// this rank sends to rank r. Blocks the host until the counts are on the CPU, that is until the
// work issued so far and the exchange are done; it copies them on the communication stream.
CountsExchange exchange_counts(const CommGroup& group, const torch::Tensor& counts,
                               CommStreams& streams);

}  // namespace dualpipe::runtime::moe
