#include "dualpipe/runtime/optimizer_state.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace dualpipe::runtime {

namespace {

// The optimizer's key for `param` (a string in LibTorch 1.x, a pointer later). A template, so that
// only the branch of this LibTorch's key type is compiled.
template <typename Optimizer>
auto state_key(Optimizer& optimizer, const torch::Tensor& param) {
  using Key = typename std::decay_t<decltype(optimizer.state())>::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // the address as LibTorch 1.x prints it for its keys
    text << static_cast<const void*>(param.unsafeGetTensorImpl());
    return text.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

torch::optim::OptimizerParamState* find_state(torch::optim::Optimizer& optimizer,
                                              const torch::Tensor& param) {
  auto found = optimizer.state().find(state_key(optimizer, param));
  return found == optimizer.state().end() ? nullptr : found->second.get();
}

template <typename State>
ElementwiseState adam_state(const State& s) {
  ElementwiseState state;
  state.step = s.step();
  state.tensors = {{"exp_avg", s.exp_avg()}, {"exp_avg_sq", s.exp_avg_sq()}};
  if (s.max_exp_avg_sq().defined())
    state.tensors.emplace_back("max_exp_avg_sq", s.max_exp_avg_sq());
  return state;
}

const torch::Tensor& named(const ElementwiseState& state, const std::string& name) {
  for (const auto& [key, tensor] : state.tensors) {
    if (key == name) return tensor;
  }
  throw std::invalid_argument("optimizer state has no " + name);
}

template <typename State>
std::unique_ptr<State> make_adam_state(const ElementwiseState& state) {
  auto s = std::make_unique<State>();
  s->step(state.step);
  s->exp_avg(named(state, "exp_avg"));
  s->exp_avg_sq(named(state, "exp_avg_sq"));
  for (const auto& [key, tensor] : state.tensors) {
    if (key == "max_exp_avg_sq") s->max_exp_avg_sq(tensor);
  }
  return s;
}

}  // namespace

std::string optimizer_kind(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<torch::optim::AdamW*>(&optimizer) != nullptr) return "AdamW";
  if (dynamic_cast<torch::optim::Adam*>(&optimizer) != nullptr) return "Adam";
  if (dynamic_cast<torch::optim::SGD*>(&optimizer) != nullptr) return "SGD";
  return "";
}

std::optional<ElementwiseState> elementwise_state(torch::optim::Optimizer& optimizer,
                                                  const torch::Tensor& param) {
  torch::optim::OptimizerParamState* s = find_state(optimizer, param);
  if (s == nullptr) return std::nullopt;
  if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(s)) return adam_state(*adamw);
  if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(s)) return adam_state(*adam);
  if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(s)) {
    ElementwiseState state;
    if (sgd->momentum_buffer().defined())
      state.tensors = {{"momentum_buffer", sgd->momentum_buffer()}};
    return state;
  }
  throw std::invalid_argument("the state of this optimizer cannot be read (Adam, AdamW or SGD)");
}

void set_elementwise_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param,
                           const ElementwiseState& state) {
  const std::string kind = optimizer_kind(optimizer);
  std::unique_ptr<torch::optim::OptimizerParamState> s;
  if (kind == "AdamW") {
    s = make_adam_state<torch::optim::AdamWParamState>(state);
  } else if (kind == "Adam") {
    s = make_adam_state<torch::optim::AdamParamState>(state);
  } else if (kind == "SGD") {
    auto sgd = std::make_unique<torch::optim::SGDParamState>();
    if (!state.tensors.empty()) sgd->momentum_buffer(named(state, "momentum_buffer"));
    s = std::move(sgd);
  } else {
    throw std::invalid_argument(
        "the state of this optimizer cannot be written (Adam, AdamW or SGD)");
  }
  optimizer.state()[state_key(optimizer, param)] = std::move(s);
}

void clear_elementwise_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param) {
  optimizer.state().erase(state_key(optimizer, param));
}

}  // namespace dualpipe::runtime
