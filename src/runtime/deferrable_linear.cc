#include "dualpipe/runtime/deferrable_linear.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/init.h>

#include <cmath>

namespace dualpipe::runtime {
namespace {

// Carries the module's store through the autograd context (ctx->saved_data holds IValues).
struct StoreCapsule : torch::CustomClassHolder {
  explicit StoreCapsule(std::shared_ptr<WeightGradStore> s) : store(std::move(s)) {}
  std::shared_ptr<WeightGradStore> store;
};

// Adds the sum over rows of `gradient_2d` to the bias's .grad.
void accumulate_bias_grad(torch::Tensor bias, const torch::Tensor& gradient_2d) {
  torch::Tensor& grad = bias.mutable_grad();
  if (grad.defined()) {
    grad.add_(gradient_2d.sum(0));
  } else {
    grad = gradient_2d.sum(0);
  }
}

// The bias travels wrapped so autograd does not treat it as an input: an undefined tensor cannot
// be one, and its gradient is accumulated by hand like the weight's anyway.
struct OptionalBias {
  torch::Tensor tensor;
};

// The weight wrapped the same way, for when the input already makes the output require grad.
struct PlainWeight {
  torch::Tensor tensor;
};

// Linear whose weight and bias gradients bypass autograd's accumulation so they can be deferred.
// The weight is an autograd input (first overload) only when the output needs it to require grad,
// i.e. when the input does not: an edge to the weight's accumulator would make every backward
// visit a node that has nothing to do. The backward is the same for both.
struct DeferrableLinearFunction : torch::autograd::Function<DeferrableLinearFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const OptionalBias& optional_bias,
                               const std::shared_ptr<WeightGradStore>& store) {
    return linear_saving_context(ctx, input, weight, optional_bias.tensor, store);
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const PlainWeight& weight, const OptionalBias& optional_bias,
                               const std::shared_ptr<WeightGradStore>& store) {
    return linear_saving_context(ctx, input, weight.tensor, optional_bias.tensor, store);
  }

  static torch::Tensor linear_saving_context(torch::autograd::AutogradContext* ctx,
                                             const torch::Tensor& input,
                                             const torch::Tensor& weight, const torch::Tensor& bias,
                                             const std::shared_ptr<WeightGradStore>& store) {
    ctx->save_for_backward({input, weight});
    if (bias.defined()) ctx->saved_data["bias"] = bias;
    if (store)
      ctx->saved_data["store"] =
          c10::IValue::make_capsule(c10::make_intrusive<StoreCapsule>(store));
    return torch::linear(input, weight, bias);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor input = saved[0];
    const torch::Tensor weight = saved[1];
    auto saved_bias = ctx->saved_data.find("bias");
    const torch::Tensor bias =
        saved_bias == ctx->saved_data.end() ? torch::Tensor() : saved_bias->second.toTensor();
    const torch::Tensor grad_output = grad_outputs[0];
    auto weight_gradients = [input, weight, bias, grad_output] {
      const torch::Tensor grad_2d = grad_output.reshape({-1, grad_output.size(-1)});
      add_to_weight_grad(weight, grad_2d.t(), input.reshape({-1, input.size(-1)}));
      if (bias.defined()) accumulate_bias_grad(bias, grad_2d);
    };
    auto entry = ctx->saved_data.find("store");
    run_or_defer(
        entry == ctx->saved_data.end()
            ? nullptr
            : c10::static_intrusive_pointer_cast<StoreCapsule>(entry->second.toCapsule())->store,
        std::move(weight_gradients));
    torch::Tensor grad_input;
    if (input.requires_grad()) grad_input = grad_output.matmul(weight);
    return {grad_input, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void add_to_weight_grad(torch::Tensor weight, const torch::Tensor& a, const torch::Tensor& b) {
  torch::Tensor& grad = weight.mutable_grad();
  if (grad.defined()) {
    grad.addmm_(a, b);
  } else {
    grad = a.mm(b);
  }
}

DeferrableLinearImpl::DeferrableLinearImpl(const torch::nn::LinearOptions& options_)
    : options(options_) {
  reset();
}

void DeferrableLinearImpl::reset() {
  weight =
      register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  if (options.bias()) {
    bias = register_parameter("bias", torch::empty(options.out_features()));
  } else {
    bias = register_parameter("bias", {}, /*requires_grad=*/false);
  }
  reset_parameters();
}

void DeferrableLinearImpl::reset_parameters() {
  // The same initialisation as torch::nn::Linear.
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor DeferrableLinearImpl::forward(const torch::Tensor& input) {
  if (input.requires_grad())
    return DeferrableLinearFunction::apply(input, PlainWeight{weight}, OptionalBias{bias}, store_);
  return DeferrableLinearFunction::apply(input, weight, OptionalBias{bias}, store_);
}

void DeferrableLinearImpl::set_weight_grad_store(std::shared_ptr<WeightGradStore> store) {
  store_ = std::move(store);
}

}  // namespace dualpipe::runtime
