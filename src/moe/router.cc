#include "dualpipe/moe/router.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace dualpipe::moe {
namespace {

void check_options(const RouterOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("router: " + what); };
  if (o.hidden < 1 || o.experts < 1) fail("hidden size and expert count must be positive");
  if (o.top_k < 1 || o.top_k > o.experts) {
    fail("top_k = " + std::to_string(o.top_k) + " must be in [1, " + std::to_string(o.experts) +
         "]");
  }
  if (o.groups < 1 || o.experts % o.groups != 0) {
    fail(std::to_string(o.groups) + " groups do not divide " + std::to_string(o.experts) +
         " experts");
  }
  if (o.top_groups < 1 || o.top_groups > o.groups) {
    fail("top_groups = " + std::to_string(o.top_groups) + " must be in [1, groups]");
  }
  if (o.top_groups * (o.experts / o.groups) < o.top_k) {
    fail("top_groups = " + std::to_string(o.top_groups) + " groups hold fewer than top_k experts");
  }
}

// Keeps, per token, only the experts of its `top_groups` best groups (group score = best expert
// score); the others get -inf. scores [T, E].
torch::Tensor limit_to_top_groups(const torch::Tensor& scores, int64_t groups, int64_t top_groups) {
  const int64_t tokens = scores.size(0);
  const torch::Tensor grouped = scores.view({tokens, groups, -1});
  const torch::Tensor group_scores = std::get<0>(grouped.max(-1));                   // [T, G]
  const torch::Tensor best_groups = std::get<1>(group_scores.topk(top_groups, -1));  // [T, g]
  const torch::Tensor keep = torch::zeros({tokens, groups}, scores.options().dtype(torch::kBool))
                                 .scatter_(1, best_groups, true);
  return grouped
      .masked_fill(keep.logical_not().unsqueeze(-1), -std::numeric_limits<double>::infinity())
      .view({tokens, -1});
}

}  // namespace

RouterImpl::RouterImpl(const RouterOptions& options) : options_(options) {
  check_options(options_);
  const double bound = 1.0 / std::sqrt(static_cast<double>(options_.hidden));
  weight = register_parameter(
      "weight", torch::empty({options_.experts, options_.hidden}).uniform_(-bound, bound));
  selection_bias = register_buffer("selection_bias", torch::zeros({options_.experts}));
}

Routing RouterImpl::forward(const torch::Tensor& tokens) {
  const torch::Tensor scores = torch::softmax(torch::matmul(tokens, weight.t()), -1);  // [T, E]
  torch::Tensor selection = (scores + selection_bias.to(scores.dtype())).detach();
  if (options_.top_groups < options_.groups) {
    selection = limit_to_top_groups(selection, options_.groups, options_.top_groups);
  }
  Routing routing;
  routing.experts = std::get<1>(selection.topk(options_.top_k, -1));
  routing.weights = scores.gather(1, routing.experts);
  if (options_.normalize) routing.weights = routing.weights / routing.weights.sum(-1, true);
  return routing;
}

torch::Tensor tokens_per_expert(const Routing& routing, int64_t num_experts) {
  return torch::bincount(routing.experts.flatten(), {}, num_experts);
}

}  // namespace dualpipe::moe
