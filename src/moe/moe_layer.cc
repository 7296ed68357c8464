#include "dualpipe/moe/moe_layer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "dualpipe/moe/expert_migration.h"
#include "dualpipe/moe/load_recorder.h"
#include "dualpipe/moe/row_gather.h"
#include "dualpipe/moe/token_exchange.h"

namespace dualpipe::moe {
namespace {

// What one micro-batch's phases of one layer share: its values on the tape and the routing
// layout (plain data, not differentiated).
struct LayerBatch {
  ValueId tokens = -1;            // [T, H] layer input
  ValueId send_rows = -1;         // [T*k, H] token copies sorted by destination slot
  ValueId send_weights = -1;      // [T*k, 1] their gate weights
  ValueId received = -1;          // [R_in, H] rows received, grouped by source rank, then slot
  ValueId received_weights = -1;  // [R_in, 1] their gate weights
  ValueId expert_out = -1;        // [R_in, H] expert outputs in received order, gate-weighted
  ValueId returned = -1;          // [T*k, H] expert outputs back at the token's rank, in send order
  ValueId shared_out = -1;        // [T, H] shared expert output
  ValueId output = -1;            // [T, H]
  torch::Tensor send_order;       // [T*k] the assignment (token * k + choice) behind each sent row
  torch::Tensor send_position;    // [T*k] its inverse: the sent row of each assignment
  torch::Tensor slot_counts;      // [ranks, slots per rank] rows sent to each slot
  ExchangeSplits splits;          // of the dispatch; the combine uses splits.reversed()
  CountsExchange counts;          // rows per (rank, slot) each way
};

// For `sorted` (int64, ascending, values in [0, n)): where the run of each value starts, [n + 1]
// (the last entry is the length), found by binary search, without a device synchronisation.
torch::Tensor run_starts(const torch::Tensor& sorted, int64_t n) {
  return torch::searchsorted(sorted, torch::arange(n + 1, sorted.options()));
}

// The lengths of those runs: how often each value occurs, [n].
torch::Tensor run_lengths(const torch::Tensor& starts) {
  const int64_t n = starts.size(0) - 1;
  return starts.narrow(0, 1, n) - starts.narrow(0, 0, n);
}

// The values of an int64 CPU tensor, in order.
std::vector<int64_t> int64_values(const torch::Tensor& cpu) {
  const torch::Tensor values = cpu.contiguous();
  return std::vector<int64_t>(values.data_ptr<int64_t>(),
                              values.data_ptr<int64_t>() + values.numel());
}

// Sends gradients of an exchange's output back over the reversed splits.
ReverseExchange reverse_of(const CommGroup& group, ExchangeSplits splits,
                           std::shared_ptr<CommStreams> streams) {
  return [group, splits = std::move(splits), streams](const torch::Tensor& grad_output) {
    auto pending =
        std::make_shared<PendingExchange>(start_exchange(group, grad_output, splits, *streams));
    return std::function<torch::Tensor()>([pending] { return pending->wait(); });
  };
}

void fill_uniform(const torch::Tensor& weight, double bound, at::Generator& generator) {
  torch::NoGradGuard no_grad;
  weight.copy_(torch::empty(weight.sizes(), torch::kFloat64).uniform_(-bound, bound, generator));
}

}  // namespace

MoeLayerImpl::MoeLayerImpl(const MoeLayerOptions& options, CommGroup group,
                           ExpertPlacement placement)
    : options_(options), group_(std::move(group)), placement_(std::move(placement)) {
  if (placement_.num_ranks() != group_size(group_) ||
      placement_.num_experts() != options_.experts) {
    throw std::invalid_argument("MoE layer " + std::to_string(options_.layer) +
                                ": the placement is for " +
                                std::to_string(placement_.num_experts()) + " experts on " +
                                std::to_string(placement_.num_ranks()) + " ranks, the layer has " +
                                std::to_string(options_.experts) + " experts on " +
                                std::to_string(group_size(group_)) + " ranks");
  }
  RouterOptions router_options;
  router_options.hidden = options_.hidden;
  router_options.experts = options_.experts;
  router_options.top_k = options_.top_k;
  router_options.groups = options_.groups;
  router_options.top_groups = options_.top_groups;
  router = register_module("router", Router(router_options));
  experts = register_module("experts", LocalExperts(placement_.slots_per_rank(), options_.hidden,
                                                    options_.ffn_hidden, options_.expert_products));
  if (options_.shared_ffn_hidden > 0) {
    shared = register_module("shared", SwiGluMlp(options_.hidden, options_.shared_ffn_hidden));
  }
  reset_parameters();
}

void MoeLayerImpl::reset_parameters() {
  const uint64_t seed = options_.seed;
  at::Generator router_generator = at::detail::createCPUGenerator(seed);
  fill_uniform(router->weight, 1.0 / std::sqrt(static_cast<double>(options_.hidden)),
               router_generator);
  const int first_slot = placement_.first_slot_of_rank(group_rank(group_));
  for (int64_t j = 0; j < experts->num_slots(); ++j) {
    const int expert = placement_.phy2log()[static_cast<std::size_t>(first_slot + j)];
    at::Generator generator =
        at::detail::createCPUGenerator(seed + 1 + static_cast<uint64_t>(expert));
    experts->slot(j)->reset_parameters(generator);
  }
  if (shared) {
    at::Generator generator =
        at::detail::createCPUGenerator(seed + 1 + static_cast<uint64_t>(options_.experts));
    shared->reset_parameters(generator);
  }
}

const torch::Tensor& MoeLayerImpl::log2phy_on(torch::Device device) {
  if (!log2phy_.defined() || log2phy_.device() != device)
    log2phy_ = placement_.log2phy_tensor().to(device);
  return log2phy_;
}

const torch::Tensor& MoeLayerImpl::copies_on(torch::Device device) {
  if (!copies_.defined() || copies_.device() != device)
    copies_ = placement_.copies_tensor().to(device);
  return copies_;
}

torch::Tensor MoeLayerImpl::forward(const torch::Tensor& tokens) {
  if (!engine_ || engine_->streams().device() != tokens.device()) {
    engine_ = std::make_unique<OverlapEngine>(tokens.device());
  }
  const ProgramBuilder build = [this](PhaseProgram& program, const std::vector<ValueId>& inputs) {
    return std::vector<ValueId>{append_phases(program, inputs.at(0))};
  };
  return engine_->forward({tokens}, build).at(0);
}

ValueId MoeLayerImpl::append_phases(PhaseProgram& program, ValueId tokens) {
  auto b = std::make_shared<LayerBatch>();
  PhaseTape& tape = program.tape();
  b->tokens = tokens;
  for (ValueId* id : {&b->send_rows, &b->send_weights, &b->received, &b->received_weights,
                      &b->expert_out, &b->returned, &b->shared_out, &b->output}) {
    *id = tape.new_value();
  }
  const std::shared_ptr<CommStreams> streams = program.streams();
  const std::shared_ptr<ExchangeLog> log = program.exchange_log();
  const bool replaying = log && log->replaying();  // a recomputed forward: tokens already counted

  program.add_compute("attn", [this, b, replaying](PhaseTape& t) {  // route: joins attention
    const torch::Tensor x = t.read(b->tokens);
    const Routing routing = router->forward(x);
    const torch::Tensor flat = routing.experts.flatten();  // logical expert of each assignment
    const int64_t n = flat.size(0);
    const auto [sorted_experts, by_expert] = flat.sort(/*stable=*/true, 0, false);
    const torch::Tensor expert_starts = run_starts(sorted_experts, options_.experts);
    if (recorder_ && !replaying) recorder_->add(options_.layer, run_lengths(expert_starts));
    // Occurrence of each assignment among this rank's assignments to the same expert, in order.
    const torch::Tensor first = expert_starts.narrow(0, 0, options_.experts);
    const torch::Tensor occurrence = torch::empty_like(flat).scatter_(
        0, by_expert, torch::arange(n, flat.options()) - first.index_select(0, sorted_experts));
    const torch::Tensor& log2phy = log2phy_on(flat.device());
    const torch::Tensor copy =
        (occurrence + group_rank(group_)).remainder(copies_on(flat.device()).index_select(0, flat));
    const torch::Tensor slot = log2phy.flatten().index_select(0, flat * log2phy.size(1) + copy);
    const auto [sorted_slots, send_order] = slot.sort(/*stable=*/true, 0, false);
    b->send_order = send_order;
    b->send_position = inverse_permutation(b->send_order);
    b->slot_counts = run_lengths(run_starts(sorted_slots, placement_.num_slots()))
                         .view({placement_.num_ranks(), -1});
    t.write(b->send_rows, gather_token_copies(x, b->send_order, b->send_position, options_.top_k));
    // Each copy's gate weight travels with it and scales its expert's output there, where the
    // expert's activations are narrower than the rows (the weighted sum at home was a batched
    // [1, k] x [k, H] product per token, slow in cuBLAS forward and backward).
    t.write(b->send_weights, permute_rows(routing.weights.to(x.scalar_type()).reshape({-1, 1}),
                                          b->send_order, b->send_position));
  });

  program.add_exchange("dispatch", [this, b, streams, log](PhaseTape& t) {
    if (log && log->replaying()) {
      return std::function<void()>([this, b, streams, log, &t] {
        const std::vector<torch::Tensor> r = log->next();  // counts sent, received; rows; weights
        b->counts = CountsExchange{r.at(0), r.at(1)};
        b->splits = ExchangeSplits{int64_values(b->counts.sent.sum(1)),
                                   int64_values(b->counts.received.sum(1))};
        const ReverseExchange back = reverse_of(group_, b->splits.reversed(), streams);
        t.record_exchange("dispatch", {{b->send_rows, b->received, r.at(2), back},
                                       {b->send_weights, b->received_weights, r.at(3), back}});
      });
    }
    // The split sizes reach the host only in the wait, after the engine has issued the compute
    // that runs alongside; the rows follow on the communication stream from there.
    auto counts =
        std::make_shared<PendingCounts>(start_counts_exchange(group_, b->slot_counts, *streams));
    return std::function<void()>([this, b, streams, counts, log, &t] {
      b->counts = counts->wait();
      b->splits = ExchangeSplits{int64_values(b->counts.sent.sum(1)),
                                 int64_values(b->counts.received.sum(1))};
      constexpr auto follow = CommStreams::Order::kAfterCommunication;
      PendingExchange rows =
          start_exchange(group_, t.value(b->send_rows).detach(), b->splits, *streams, follow);
      PendingExchange weights =
          start_exchange(group_, t.value(b->send_weights).detach(), b->splits, *streams, follow);
      const ReverseExchange back = reverse_of(group_, b->splits.reversed(), streams);
      const torch::Tensor received_rows = rows.wait();
      const torch::Tensor received_weights = weights.wait();
      if (log) log->record({b->counts.sent, b->counts.received, received_rows, received_weights});
      t.record_exchange("dispatch",
                        {{b->send_rows, b->received, received_rows, back},
                         {b->send_weights, b->received_weights, received_weights, back}});
    });
  });

  program.add_compute("mlp", [this, b](PhaseTape& t) {
    // The received rows are blocks by (source rank, slot): each block goes through its slot's
    // expert where it lies, so the outputs are already in received order (regrouping the rows by
    // slot and back would cost two permutations of all of them).
    t.write(b->expert_out, experts->forward(t.read(b->received), int64_values(b->counts.received),
                                            t.read(b->received_weights)));
    if (shared) t.write(b->shared_out, shared->forward(t.read(b->tokens)));
  });

  program.add_exchange("combine", [this, b, streams, log](PhaseTape& t) {
    if (log && log->replaying()) {
      return std::function<void()>([this, b, streams, log, &t] {
        t.record_exchange("combine", b->expert_out, b->returned, log->next().at(0),
                          reverse_of(group_, b->splits, streams));
      });
    }
    const ExchangeSplits back = b->splits.reversed();
    auto pending = std::make_shared<PendingExchange>(
        start_exchange(group_, t.value(b->expert_out).detach(), back, *streams));
    return std::function<void()>([this, b, streams, pending, log, &t] {
      const torch::Tensor returned = pending->wait();
      if (log) log->record({returned});
      t.record_exchange("combine", b->expert_out, b->returned, returned,
                        reverse_of(group_, b->splits, streams));
    });
  });

  program.add_compute("combine", [this, b](PhaseTape& t) {  // joins the next phase
    // The gate-weighted expert outputs of each token's k copies, added up: [T, H].
    torch::Tensor out =
        sum_token_copies(t.read(b->returned), b->send_order, b->send_position, options_.top_k);
    if (shared) out = out + t.read(b->shared_out);
    t.write(b->output, out);
  });
  return b->output;
}

void MoeLayerImpl::reduce_replica_gradients() {
  std::vector<int> row_of_expert(static_cast<std::size_t>(placement_.num_experts()), -1);
  int rows = 0;
  for (int e = 0; e < placement_.num_experts(); ++e) {
    if (placement_.copies(e) > 1) row_of_expert[static_cast<std::size_t>(e)] = rows++;
  }
  if (rows == 0) return;
  const int first_slot = placement_.first_slot_of_rank(group_rank(group_));
  const auto expert_of = [&](int64_t j) {
    return placement_.phy2log()[static_cast<std::size_t>(first_slot + j)];
  };
  const torch::Tensor like = experts->slot_parameters(0).front();
  int64_t width = 0;
  for (const torch::Tensor& p : experts->slot_parameters(0)) width += p.numel();
  torch::Tensor sums = torch::zeros({rows, width}, like.options());
  for (int64_t j = 0; j < experts->num_slots(); ++j) {
    const int row = row_of_expert[static_cast<std::size_t>(expert_of(j))];
    if (row < 0) continue;
    int64_t offset = 0;
    for (const torch::Tensor& p : experts->slot_parameters(j)) {
      if (p.grad().defined()) sums[row].narrow(0, offset, p.numel()).add_(p.grad().flatten());
      offset += p.numel();
    }
  }
  if (group_) {
    std::vector<torch::Tensor> buffer{sums};
    group_->allreduce(buffer)->wait();
  }
  for (int64_t j = 0; j < experts->num_slots(); ++j) {
    const int row = row_of_expert[static_cast<std::size_t>(expert_of(j))];
    if (row < 0) continue;
    int64_t offset = 0;
    for (torch::Tensor p : experts->slot_parameters(j)) {
      p.mutable_grad() = sums[row].narrow(0, offset, p.numel()).view_as(p).clone();
      offset += p.numel();
    }
  }
}

void MoeLayerImpl::check_same_shape(const ExpertPlacement& next) const {
  if (next.num_experts() != placement_.num_experts() ||
      next.num_slots() != placement_.num_slots() || next.num_ranks() != placement_.num_ranks()) {
    throw std::invalid_argument("MoE layer " + std::to_string(options_.layer) +
                                ": the new placement must keep the expert, slot and rank counts");
  }
}

void MoeLayerImpl::reset_placement(const ExpertPlacement& next) {
  check_same_shape(next);
  placement_ = next;
  log2phy_ = torch::Tensor();
  copies_ = torch::Tensor();
}

void MoeLayerImpl::apply_placement(const ExpertPlacement& next,
                                   torch::optim::Optimizer* optimizer) {
  check_same_shape(next);
  std::vector<std::vector<torch::Tensor>> slot_parameters;
  for (int64_t j = 0; j < experts->num_slots(); ++j)
    slot_parameters.push_back(experts->slot_parameters(j));
  migrate_experts(group_, placement_, next, slot_parameters, optimizer);
  placement_ = next;
  log2phy_ = torch::Tensor();
  copies_ = torch::Tensor();
}

}  // namespace dualpipe::moe
