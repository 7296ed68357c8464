#include "dualpipe/moe/expert_migration.h"

#include <torch/optim/optimizer.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

#include "dualpipe/runtime/optimizer_state.h"

namespace dualpipe::moe {
namespace {

// The names of the state tensors an optimizer of `kind` keeps, in the order they travel.
std::vector<std::string> state_names(const std::string& kind) {
  if (kind == "SGD") return {"momentum_buffer"};
  return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
}

// One parameter's value and optimizer state as plain tensors: what travels between slots.
struct ParameterCargo {
  torch::Tensor value;
  torch::Tensor meta;                // int64 [3]: has state, step, number of state tensors
  std::vector<torch::Tensor> state;  // shaped like the value, in state_names order
};

ParameterCargo snapshot(const torch::Tensor& parameter, torch::optim::Optimizer* optimizer) {
  ParameterCargo cargo;
  cargo.value = parameter.detach().clone();
  std::optional<runtime::ElementwiseState> state;
  if (optimizer != nullptr) state = runtime::elementwise_state(*optimizer, parameter);
  if (state) {
    for (const auto& [name, tensor] : state->tensors) cargo.state.push_back(tensor.detach().clone());
  }
  cargo.meta = torch::tensor({int64_t{state ? 1 : 0}, state ? state->step : int64_t{0},
                              static_cast<int64_t>(cargo.state.size())});
  return cargo;
}

void install(const torch::Tensor& parameter, const ParameterCargo& cargo,
             torch::optim::Optimizer* optimizer, const std::string& kind) {
  {
    torch::NoGradGuard no_grad;
    parameter.copy_(cargo.value);
  }
  parameter.mutable_grad() = torch::Tensor();
  if (optimizer == nullptr) return;
  if (cargo.meta[0].item<int64_t>() == 0) {
    runtime::clear_elementwise_state(*optimizer, parameter);
    return;
  }
  runtime::ElementwiseState state;
  state.step = cargo.meta[1].item<int64_t>();
  const std::vector<std::string> names = state_names(kind);
  for (std::size_t i = 0; i < cargo.state.size(); ++i)
    state.tensors.emplace_back(names.at(i), cargo.state[i].clone());
  runtime::set_elementwise_state(*optimizer, parameter, state);
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
  const std::string kind = optimizer == nullptr ? "" : runtime::optimizer_kind(*optimizer);
  if (optimizer != nullptr && kind.empty())
    throw std::invalid_argument("expert migration: only Adam, AdamW and SGD state can be moved");
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
      cargo.push_back(snapshot(p, optimizer));
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
