#include "dualpipe/runtime/moe/experts.h"

#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace dualpipe::runtime::moe {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void fill_uniform(torch::Tensor& weight, at::Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
  torch::NoGradGuard no_grad;
  const torch::Tensor values =
      torch::empty(weight.sizes(), torch::TensorOptions().dtype(torch::kFloat64))
          .uniform_(-bound, bound, generator);
  weight.copy_(values);
}

// The weights of a set of SwiGLU experts, outside autograd's inputs: their gradients are
// accumulated by hand (possibly deferred), as DeferrableLinear does.
struct ExpertWeights {
  std::vector<torch::Tensor> gate_up;  // per expert [2F, H]: gate's rows, then up's (a copy)
  std::vector<torch::Tensor> gate;     // per expert [F, H], the parameters
  std::vector<torch::Tensor> up;       // per expert [F, H]
  std::vector<torch::Tensor> down;     // per expert [H, F]
};

ExpertWeights weights_of(const std::vector<const SwiGluMlpImpl*>& experts) {
  torch::NoGradGuard no_grad;
  ExpertWeights w;
  for (const SwiGluMlpImpl* e : experts) {
    w.gate_up.push_back(torch::cat({e->gate->weight, e->up->weight}, 0));
    w.gate.push_back(e->gate->weight);
    w.up.push_back(e->up->weight);
    w.down.push_back(e->down->weight);
  }
  return w;
}

// What the backward needs besides tensors: the weights, the block sizes and the store.
struct BlocksCapsule : torch::CustomClassHolder {
  BlocksCapsule(ExpertWeights w, std::vector<int64_t> blocks, std::shared_ptr<WeightGradStore> s)
      : weights(std::move(w)), rows_per_block(std::move(blocks)), store(std::move(s)) {}
  ExpertWeights weights;
  std::vector<int64_t> rows_per_block;
  std::shared_ptr<WeightGradStore> store;
};

// Adds a @ b to the weight's .grad.
void accumulate_grad(torch::Tensor weight, const torch::Tensor& a, const torch::Tensor& b) {
  if (!weight.requires_grad()) return;
  torch::Tensor& grad = weight.mutable_grad();
  if (grad.defined()) {
    grad.addmm_(a, b);
  } else {
    grad = a.mm(b);
  }
}

// SwiGLU experts over consecutive blocks of rows, block b through expert b mod experts:
// h = x W_gate_up^T [n, 2F], a = silu(h_gate) * h_up, y = a W_down^T written into its rows of one
// output. Backward: input gradients into one tensor, weight gradients handed to the store.
// `weight_edges` are the parameters when the rows do not require grad (so the output does and
// the backward runs), else empty; their gradients are accumulated by hand either way.
struct SwiGluBlocks : torch::autograd::Function<SwiGluBlocks> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows,
                               at::TensorList weight_edges, const ExpertWeights& weights,
                               const std::vector<int64_t>& rows_per_block,
                               const std::shared_ptr<WeightGradStore>& store) {
    const torch::Tensor x = rows.contiguous();
    torch::Tensor out = torch::empty_like(x);
    std::vector<torch::Tensor> saved{x};
    int64_t offset = 0;
    for (std::size_t b = 0; b < rows_per_block.size(); ++b) {
      const int64_t n = rows_per_block[b];
      const std::size_t e = b % weights.down.size();
      torch::Tensor h;
      torch::Tensor a;
      if (n > 0) {
        const int64_t f = weights.gate[e].size(0);
        h = x.narrow(0, offset, n).mm(weights.gate_up[e].t());
        a = torch::silu(h.narrow(1, 0, f)) * h.narrow(1, f, f);
        torch::Tensor y = out.narrow(0, offset, n);
        torch::mm_out(y, a, weights.down[e].t());
      }
      saved.push_back(h);
      saved.push_back(a);
      offset += n;
    }
    ctx->save_for_backward(saved);
    ctx->saved_data["blocks"] = c10::IValue::make_capsule(
        c10::make_intrusive<BlocksCapsule>(weights, rows_per_block, store));
    ctx->saved_data["edges"] = static_cast<int64_t>(weight_edges.size());
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto capsule = c10::static_intrusive_pointer_cast<BlocksCapsule>(
        ctx->saved_data["blocks"].toCapsule());
    const ExpertWeights& w = capsule->weights;
    const torch::Tensor& x = saved[0];
    const torch::Tensor grad_out = grads[0].contiguous();
    torch::Tensor grad_rows;
    if (ctx->needs_input_grad(0)) grad_rows = torch::empty_like(x);
    int64_t offset = 0;
    for (std::size_t b = 0; b < capsule->rows_per_block.size(); ++b) {
      const int64_t n = capsule->rows_per_block[b];
      const std::size_t e = b % w.down.size();
      if (n > 0) {
        const torch::Tensor& h = saved[1 + 2 * b];
        const torch::Tensor& a = saved[2 + 2 * b];
        const int64_t f = w.gate[e].size(0);
        const torch::Tensor gy = grad_out.narrow(0, offset, n);
        const torch::Tensor grad_a = gy.mm(w.down[e]);  // [n, F]
        const torch::Tensor h_gate = h.narrow(1, 0, f);
        torch::Tensor grad_h = torch::empty_like(h);  // [n, 2F]: gate's half, up's half
        torch::Tensor grad_gate = grad_h.narrow(1, 0, f);
        torch::Tensor grad_up = grad_h.narrow(1, f, f);
        torch::silu_backward_out(grad_gate, grad_a * h.narrow(1, f, f), h_gate);
        torch::mul_out(grad_up, grad_a, torch::silu(h_gate));
        if (grad_rows.defined()) {
          torch::Tensor grad_x = grad_rows.narrow(0, offset, n);
          torch::mm_out(grad_x, grad_h, w.gate_up[e]);
        }
        const torch::Tensor xb = x.narrow(0, offset, n);
        auto weight_gradients = [w_gate = w.gate[e], w_up = w.up[e], w_down = w.down[e], gy, a,
                                 grad_gate, grad_up, xb] {
          accumulate_grad(w_down, gy.t(), a);
          accumulate_grad(w_gate, grad_gate.t(), xb);
          accumulate_grad(w_up, grad_up.t(), xb);
        };
        if (capsule->store) {
          capsule->store->run_or_defer(std::move(weight_gradients));
        } else {
          weight_gradients();
        }
      }
      offset += n;
    }
    variable_list result{grad_rows};
    result.resize(result.size() + static_cast<std::size_t>(ctx->saved_data["edges"].toInt()) + 3);
    return result;
  }
};

// Runs `experts` over the blocks of `rows` (block b through expert b mod experts.size()).
torch::Tensor run_blocks(const std::vector<const SwiGluMlpImpl*>& experts, const torch::Tensor& rows,
                         const std::vector<int64_t>& rows_per_block,
                         const std::shared_ptr<WeightGradStore>& store) {
  std::vector<torch::Tensor> weight_edges;
  if (!rows.requires_grad()) {
    for (const SwiGluMlpImpl* e : experts) {
      for (const torch::Tensor& p : {e->gate->weight, e->up->weight, e->down->weight})
        if (p.requires_grad()) weight_edges.push_back(p);
    }
  }
  return SwiGluBlocks::apply(rows, at::TensorList(weight_edges), weights_of(experts),
                             rows_per_block, store);
}

}  // namespace

SwiGluMlpImpl::SwiGluMlpImpl(int64_t hidden, int64_t ffn_hidden) {
  if (hidden < 1 || ffn_hidden < 1)
    throw std::invalid_argument("expert MLP: sizes must be positive");
  const auto linear = [](int64_t in, int64_t out) {
    return DeferrableLinear(torch::nn::LinearOptions(in, out).bias(false));
  };
  gate = register_module("gate", linear(hidden, ffn_hidden));
  up = register_module("up", linear(hidden, ffn_hidden));
  down = register_module("down", linear(ffn_hidden, hidden));
}

torch::Tensor SwiGluMlpImpl::forward(const torch::Tensor& x) {
  return run_blocks({this}, x, {x.size(0)}, store_);
}

void SwiGluMlpImpl::reset_parameters(at::Generator& generator) {
  fill_uniform(gate->weight, generator);
  fill_uniform(up->weight, generator);
  fill_uniform(down->weight, generator);
}

LocalExpertsImpl::LocalExpertsImpl(int64_t num_slots, int64_t hidden, int64_t ffn_hidden) {
  if (num_slots < 1) throw std::invalid_argument("local experts: need at least one slot");
  slots = register_module("slots", torch::nn::ModuleList());
  for (int64_t j = 0; j < num_slots; ++j) slots->push_back(SwiGluMlp(hidden, ffn_hidden));
}

torch::Tensor LocalExpertsImpl::forward(const torch::Tensor& rows,
                                        const std::vector<int64_t>& rows_per_block) {
  const auto blocks = static_cast<int64_t>(rows_per_block.size());
  if (blocks == 0 || blocks % num_slots() != 0 ||
      std::accumulate(rows_per_block.begin(), rows_per_block.end(), int64_t{0}) != rows.size(0)) {
    throw std::invalid_argument("local experts: " + std::to_string(blocks) +
                                " row counts do not cycle over " + std::to_string(num_slots()) +
                                " slots or do not add up to the " + std::to_string(rows.size(0)) +
                                " rows");
  }
  std::vector<const SwiGluMlpImpl*> experts;
  for (int64_t j = 0; j < num_slots(); ++j) experts.push_back(slot(j).get());
  return run_blocks(experts, rows, rows_per_block, store_);
}

std::vector<torch::Tensor> LocalExpertsImpl::slot_parameters(int64_t j) const {
  const SwiGluMlp expert = slot(j);
  return {expert->gate->weight, expert->up->weight, expert->down->weight};
}

}  // namespace dualpipe::runtime::moe
