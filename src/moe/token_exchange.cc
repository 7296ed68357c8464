#include "dualpipe/moe/token_exchange.h"

#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace dualpipe::moe {
namespace {

int64_t total(const std::vector<int64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

}  // namespace

int64_t ExchangeSplits::rows_sent() const { return total(send); }
int64_t ExchangeSplits::rows_received() const { return total(recv); }

torch::Tensor PendingExchange::wait() {
  if (work_) {
    work_->wait();
    work_.reset();
    input_ = torch::Tensor();
  }
  return output_;
}

PendingExchange start_exchange(const CommGroup& group, const torch::Tensor& rows,
                               const ExchangeSplits& splits, CommStreams& streams,
                               CommStreams::Order order) {
  const auto ranks = static_cast<std::size_t>(group_size(group));
  if (splits.send.size() != ranks || splits.recv.size() != ranks || rows.dim() < 1 ||
      rows.size(0) != splits.rows_sent()) {
    throw std::invalid_argument(
        "token exchange: " + std::to_string(rows.dim() < 1 ? 0 : rows.size(0)) +
        " rows do not match the split sizes over " + std::to_string(ranks) + " ranks");
  }
  if (!group) return PendingExchange({}, {}, rows);
  const auto make_buffers = [&rows, &splits] {
    torch::Tensor input = rows.contiguous();
    std::vector<int64_t> output_shape = input.sizes().vec();
    output_shape[0] = splits.rows_received();
    return std::make_pair(input, torch::empty(output_shape, input.options()));
  };
  const bool after_compute = order == CommStreams::Order::kAfterCompute;
  torch::Tensor input;
  torch::Tensor output;
  if (after_compute) std::tie(input, output) = make_buffers();
  std::vector<int64_t> send = splits.send;
  std::vector<int64_t> recv = splits.recv;
  c10::intrusive_ptr<c10d::Work> work;
  {
    CommStreams::Scope on_comm_stream(streams, order);
    if (!after_compute) std::tie(input, output) = make_buffers();
    work = group->alltoall_base(output, input, recv, send);
  }
  if (!after_compute) streams.mark_used_on_current_stream(output);
  return PendingExchange(std::move(work), std::move(input), std::move(output));
}

CountsExchange PendingCounts::wait() const {
  on_host_.wait();
  return CountsExchange{sent_, received_};
}

PendingCounts start_counts_exchange(const CommGroup& group, const torch::Tensor& counts,
                                    CommStreams& streams) {
  torch::Tensor input = counts.to(torch::kInt64).contiguous();
  if (input.dim() != 2 || input.size(0) != group_size(group)) {
    throw std::invalid_argument("token exchange: counts need one row per rank");
  }
  torch::Tensor received = group ? torch::empty_like(input) : input;
  CommStreams::Scope on_comm_stream(streams);
  if (group) {
    std::vector<int64_t> equal_splits;  // empty: the same share to and from every rank
    // wait(): the communication stream waits (over Gloo on the CPU: the host).
    group->alltoall_base(received, input, equal_splits, equal_splits)->wait();
  }
  // From CUDA, non-blocking copies land in pinned memory; the fence tells when they have. The
  // device buffers stay reserved until the copies have read them.
  streams.mark_used_on_current_stream(input);
  streams.mark_used_on_current_stream(received);
  const bool non_blocking = true;
  torch::Tensor sent_on_host = input.to(torch::kCPU, non_blocking);
  torch::Tensor received_on_host = received.to(torch::kCPU, non_blocking);
  return PendingCounts(std::move(sent_on_host), std::move(received_on_host), streams.fence());
}

}  // namespace dualpipe::moe
