#include "dualpipe/moe/expert_migration.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <type_traits>

namespace dualpipe::moe {
namespace {

// The key torch::optim uses for a parameter's state: its TensorImpl address, as a string in
// LibTorch 1.x and as a pointer in 2.x.
template <typename StateMap>
typename StateMap::key_type state_key(const torch::Tensor& parameter) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << static_cast<const void*>(parameter.unsafeGetTensorImpl());
    return text.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

enum class OptimizerKind { kNone, kAdam, kAdamW, kSgd };

OptimizerKind kind_of(torch::optim::Optimizer* optimizer) {
  if (optimizer == nullptr) return OptimizerKind::kNone;
  if (dynamic_cast<torch::optim::Adam*>(optimizer) != nullptr) return OptimizerKind::kAdam;
  if (dynamic_cast<torch::optim::AdamW*>(optimizer) != nullptr) return OptimizerKind::kAdamW;
  if (dynamic_cast<torch::optim::SGD*>(optimizer) != nullptr) return OptimizerKind::kSgd;
  throw std::invalid_argument("expert migration: only Adam, AdamW and SGD state can be moved");
}

// One parameter's value and optimizer state as plain tensors: what travels between slots.
struct ParameterCargo {
  torch::Tensor value;
  torch::Tensor meta;                // int64 [3]: has state, step, number of state tensors
  std::vector<torch::Tensor> state;  // shaped like the value
};

template <typename State>
void read_moments(const State& s, std::vector<torch::Tensor>& out, int64_t& step) {
  out = {s.exp_avg(), s.exp_avg_sq()};
  if (s.max_exp_avg_sq().defined()) out.push_back(s.max_exp_avg_sq());
  step = s.step();
}

template <typename State>
std::unique_ptr<torch::optim::OptimizerParamState> make_moments(const ParameterCargo& cargo) {
  auto s = std::make_unique<State>();
  s->step(cargo.meta[1].item<int64_t>());
  s->exp_avg(cargo.state.at(0).clone());
  s->exp_avg_sq(cargo.state.at(1).clone());
  if (cargo.state.size() > 2) s->max_exp_avg_sq(cargo.state[2].clone());
  return s;
}

ParameterCargo snapshot(const torch::Tensor& parameter, torch::optim::Optimizer* optimizer,
                        OptimizerKind kind) {
  ParameterCargo cargo;
  cargo.value = parameter.detach().clone();
  int64_t step = 0;
  std::vector<torch::Tensor> state;
  if (optimizer != nullptr) {
    auto& states = optimizer->state();
    auto found = states.find(state_key<std::decay_t<decltype(states)>>(parameter));
    if (found != states.end()) {
      torch::optim::OptimizerParamState& s = *found->second;
      if (kind == OptimizerKind::kAdam)
        read_moments(static_cast<torch::optim::AdamParamState&>(s), state, step);
      if (kind == OptimizerKind::kAdamW)
        read_moments(static_cast<torch::optim::AdamWParamState&>(s), state, step);
      if (kind == OptimizerKind::kSgd) {
        const torch::Tensor& momentum =
            static_cast<torch::optim::SGDParamState&>(s).momentum_buffer();
        if (momentum.defined()) state = {momentum};
      }
      for (torch::Tensor& t : state) t = t.detach().clone();
      cargo.meta = torch::tensor({int64_t{1}, step, static_cast<int64_t>(state.size())});
    }
  }
  if (!cargo.meta.defined()) cargo.meta = torch::tensor({int64_t{0}, int64_t{0}, int64_t{0}});
  cargo.state = std::move(state);
  return cargo;
}

void install(const torch::Tensor& parameter, const ParameterCargo& cargo,
             torch::optim::Optimizer* optimizer, OptimizerKind kind) {
  {
    torch::NoGradGuard no_grad;
    parameter.copy_(cargo.value);
  }
  parameter.mutable_grad() = torch::Tensor();
  if (optimizer == nullptr) return;
  auto& states = optimizer->state();
  const auto key = state_key<std::decay_t<decltype(states)>>(parameter);
  if (cargo.meta[0].item<int64_t>() == 0) {
    states.erase(key);
    return;
  }
  if (kind == OptimizerKind::kAdam) states[key] = make_moments<torch::optim::AdamParamState>(cargo);
  if (kind == OptimizerKind::kAdamW)
    states[key] = make_moments<torch::optim::AdamWParamState>(cargo);
  if (kind == OptimizerKind::kSgd) {
    auto s = std::make_unique<torch::optim::SGDParamState>();
    if (!cargo.state.empty()) s->momentum_buffer(cargo.state[0].clone());
    states[key] = std::move(s);
  }
}

// Gloo sends and receives host memory only: a CUDA tensor travels through a host copy.
bool stages_through_host(const CommGroup& group, const torch::Tensor& tensor) {
  return tensor.is_cuda() && group->getBackendName() == "gloo";
}

void send_tensor(const CommGroup& group, const torch::Tensor& tensor, int to) {
  std::vector<torch::Tensor> buffer{stages_through_host(group, tensor) ? tensor.contiguous().cpu()
                                                                       : tensor.contiguous()};
  group->send(buffer, to, /*tag=*/0)->wait();
}

torch::Tensor receive_tensor(const CommGroup& group, torch::Tensor buffer, int from) {
  std::vector<torch::Tensor> wire{
      stages_through_host(group, buffer)
          ? torch::empty(buffer.sizes(), buffer.options().device(torch::kCPU))
          : buffer};
  group->recv(wire, from, /*tag=*/0)->wait();
  if (!wire[0].is_same(buffer)) buffer.copy_(wire[0]);
  return buffer;
}

void send_cargo(const CommGroup& group, const std::vector<ParameterCargo>& slot, int to) {
  for (const ParameterCargo& cargo : slot) {
    send_tensor(group, cargo.meta.to(cargo.value.device()), to);
    send_tensor(group, cargo.value, to);
    for (const torch::Tensor& t : cargo.state) send_tensor(group, t, to);
  }
}

std::vector<ParameterCargo> receive_cargo(const CommGroup& group,
                                          const std::vector<torch::Tensor>& parameters, int from) {
  std::vector<ParameterCargo> slot;
  for (const torch::Tensor& parameter : parameters) {
    ParameterCargo cargo;
    const auto like = [&] { return torch::empty_like(parameter, torch::MemoryFormat::Contiguous); };
    cargo.meta =
        receive_tensor(group, torch::empty({3}, parameter.options().dtype(torch::kInt64)), from)
            .cpu();
    cargo.value = receive_tensor(group, like(), from);
    for (int64_t i = 0; i < cargo.meta[2].item<int64_t>(); ++i)
      cargo.state.push_back(receive_tensor(group, like(), from));
    slot.push_back(std::move(cargo));
  }
  return slot;
}

}  // namespace

std::vector<SlotCopy> plan_expert_moves(const ExpertPlacement& from, const ExpertPlacement& to) {
  if (from.num_experts() != to.num_experts() || from.num_slots() != to.num_slots() ||
      from.num_ranks() != to.num_ranks()) {
    throw std::invalid_argument("expert migration: placements differ in experts, slots or ranks");
  }
  std::vector<SlotCopy> copies;
  std::vector<int> next_copy(static_cast<std::size_t>(from.num_experts()), 0);
  for (int slot = 0; slot < to.num_slots(); ++slot) {
    const int expert = to.phy2log()[static_cast<std::size_t>(slot)];
    if (from.phy2log()[static_cast<std::size_t>(slot)] == expert) continue;
    const std::vector<int>& sources = from.log2phy()[static_cast<std::size_t>(expert)];
    const int rank = to.rank_of_slot(slot);
    auto local = std::find_if(sources.begin(), sources.end(),
                              [&](int s) { return from.rank_of_slot(s) == rank; });
    int& turn = next_copy[static_cast<std::size_t>(expert)];
    const int source = local != sources.end()
                           ? *local
                           : sources[static_cast<std::size_t>(turn++) % sources.size()];
    copies.push_back(SlotCopy{expert, source, slot});
  }
  std::stable_sort(copies.begin(), copies.end(), [&](const SlotCopy& a, const SlotCopy& b) {
    return std::make_tuple(from.rank_of_slot(a.from_slot), to.rank_of_slot(a.to_slot), a.to_slot) <
           std::make_tuple(from.rank_of_slot(b.from_slot), to.rank_of_slot(b.to_slot), b.to_slot);
  });
  return copies;
}

void migrate_experts(const CommGroup& group, const ExpertPlacement& from, const ExpertPlacement& to,
                     const std::vector<std::vector<torch::Tensor>>& slot_parameters,
                     torch::optim::Optimizer* optimizer) {
  const OptimizerKind kind = kind_of(optimizer);
  const int rank = group_rank(group);
  const int first = from.first_slot_of_rank(rank);
  if (static_cast<int>(slot_parameters.size()) != from.slots_per_rank()) {
    throw std::invalid_argument("expert migration: expected the parameters of " +
                                std::to_string(from.slots_per_rank()) + " local slots");
  }
  const std::vector<SlotCopy> copies = plan_expert_moves(from, to);
  // Snapshot every local source first: a slot may be overwritten before it is read.
  std::map<int, std::vector<ParameterCargo>> sources;
  for (const SlotCopy& copy : copies) {
    if (from.rank_of_slot(copy.from_slot) != rank || sources.count(copy.from_slot) != 0) continue;
    std::vector<ParameterCargo>& cargo = sources[copy.from_slot];
    for (const torch::Tensor& p :
         slot_parameters[static_cast<std::size_t>(copy.from_slot - first)]) {
      cargo.push_back(snapshot(p, optimizer, kind));
    }
  }
  for (const SlotCopy& copy : copies) {
    const int sender = from.rank_of_slot(copy.from_slot);
    const int receiver = to.rank_of_slot(copy.to_slot);
    if (sender == rank && receiver != rank) send_cargo(group, sources.at(copy.from_slot), receiver);
    if (receiver != rank) continue;
    const std::vector<torch::Tensor>& targets =
        slot_parameters[static_cast<std::size_t>(copy.to_slot - first)];
    const std::vector<ParameterCargo> cargo =
        sender == rank ? sources.at(copy.from_slot) : receive_cargo(group, targets, sender);
    for (std::size_t i = 0; i < targets.size(); ++i)
      install(targets[i], cargo.at(i), optimizer, kind);
  }
}

}  // namespace dualpipe::moe
