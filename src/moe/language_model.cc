#include "dualpipe/moe/language_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>

#include <cmath>
#include <stdexcept>

namespace dualpipe::moe {
namespace {

// Seed of model unit `unit`'s parameters.
uint64_t unit_seed(uint64_t seed, int unit) {
  return seed + 7919ULL * static_cast<uint64_t>(unit + 1);
}

void fill(torch::Tensor& weight, const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  weight.copy_(values);
}

}  // namespace

void check_options(const LanguageModelOptions& o) {
  const auto fail = [](const std::string& what) {
    throw std::invalid_argument("language model: " + what);
  };
  if (o.vocab < 1 || o.hidden < 1 || o.heads < 1) fail("vocab, hidden and heads must be positive");
  if (o.hidden % o.heads != 0 || (o.hidden / o.heads) % 2 != 0)
    fail("hidden " + std::to_string(o.hidden) + " must split into " + std::to_string(o.heads) +
         " heads of even width");
  if (o.layers < 1 || o.dense_layers < 0 || o.dense_layers > o.layers)
    fail("needs at least one layer and at most as many dense layers as layers");
  if (o.dense_layers > 0 && o.dense_ffn_hidden < 1) fail("dense ffn width must be positive");
  if (o.num_moe_layers() > 0 &&
      (o.moe.experts < 1 || o.moe.ffn_hidden < 1 || o.moe.top_k < 1 || o.moe.top_k > o.moe.experts))
    fail("MoE layers need experts, an expert width and 1 <= top-k <= experts");
}

std::vector<StageUnits> partition_units(int layers, int num_stages,
                                        const std::vector<int>& units_per_stage) {
  const int units = layers + 2;
  if (num_stages < 1 || num_stages > units) {
    throw std::invalid_argument("cannot split " + std::to_string(units) + " units (embedding, " +
                                std::to_string(layers) + " layers, head) over " +
                                std::to_string(num_stages) + " stages");
  }
  std::vector<int> counts = units_per_stage;
  if (counts.empty()) {
    for (int s = 0; s < num_stages; ++s)
      counts.push_back(units / num_stages + (s < units % num_stages ? 1 : 0));
  }
  int total = 0;
  for (int c : counts) {
    if (c < 1) throw std::invalid_argument("every stage needs at least one unit");
    total += c;
  }
  if (static_cast<int>(counts.size()) != num_stages || total != units) {
    throw std::invalid_argument("the partition gives " + std::to_string(counts.size()) +
                                " stages " + std::to_string(total) + " units; the model has " +
                                std::to_string(num_stages) + " stages and " +
                                std::to_string(units) + " units (embedding, layers, head)");
  }
  std::vector<StageUnits> result;
  int first = 0;
  for (int c : counts) {
    result.push_back({first, first + c});
    first += c;
  }
  return result;
}

LanguageModelStage::LanguageModelStage(const LanguageModelOptions& options, StageUnits units,
                                       CommGroup experts, std::vector<ExpertPlacement> placements)
    : options_(options), units_(units) {
  check_options(options_);
  const int head_unit = options_.layers + 1;
  if (units.first < 0 || units.end > head_unit + 1 || units.first >= units.end)
    throw std::invalid_argument("language model: no such units");
  std::size_t next_placement = 0;
  for (int unit = units.first; unit < units.end; ++unit) {
    at::Generator generator = at::detail::createCPUGenerator(unit_seed(options_.seed, unit));
    if (unit == 0) {
      embedding = register_module("embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                                   options_.vocab, options_.hidden)));
      fill(embedding->weight,
           torch::empty(embedding->weight.sizes(), torch::kFloat64).normal_(0.0, 1.0, generator));
    } else if (unit == head_unit) {
      final_norm = register_module("final_norm", RmsNorm(options_.hidden));
      head = register_module(
          "head", runtime::DeferrableLinear(
                      torch::nn::LinearOptions(options_.hidden, options_.vocab).bias(false)));
      const double bound = 1.0 / std::sqrt(static_cast<double>(options_.hidden));
      fill(head->weight,
           torch::empty(head->weight.sizes(), torch::kFloat64).uniform_(-bound, bound, generator));
    } else {
      const int layer = unit - 1;
      MoeLayerOptions moe = options_.moe;
      moe.hidden = options_.hidden;
      moe.seed = unit_seed(options_.seed, unit) + 1;
      moe.layer = layer - options_.dense_layers;  // its row among the MoE layers
      std::optional<ExpertPlacement> placement;
      if (layer >= options_.dense_layers) {
        if (next_placement >= placements.size())
          throw std::invalid_argument("language model stage: too few expert placements");
        placement = std::move(placements[next_placement++]);
      }
      layers.push_back(register_module(
          "layer" + std::to_string(layer),
          DecoderLayer(options_.heads, options_.dense_ffn_hidden, moe,
                       unit_seed(options_.seed, unit), experts, std::move(placement))));
    }
  }
  if (next_placement != placements.size())
    throw std::invalid_argument("language model stage: " + std::to_string(placements.size()) +
                                " expert placements for " + std::to_string(next_placement) +
                                " MoE layers");
}

std::vector<ValueId> LanguageModelStage::append_phases(PhaseProgram& program,
                                                       const std::vector<ValueId>& inputs) {
  if (inputs.size() != 1)
    throw std::invalid_argument("language model stage: expects one input tensor");
  ValueId x = inputs[0];
  if (embedding) {
    const ValueId embedded = program.tape().new_value();
    program.add_compute("attn", [this, x, embedded](PhaseTape& t) {
      t.write(embedded, embedding->forward(t.read(x)));
    });
    x = embedded;
  }
  for (DecoderLayer& layer : layers) x = layer->append_phases(program, x);
  if (head) {
    const ValueId logits = program.tape().new_value();
    program.add_compute("mlp", [this, x, logits](PhaseTape& t) {
      t.write(logits, head->forward(final_norm->forward(t.read(x))));
    });
    x = logits;
  }
  return {x};
}

std::vector<MoeLayer> LanguageModelStage::moe_layers() const {
  std::vector<MoeLayer> result;
  for (const DecoderLayer& layer : layers) {
    if (layer->moe) result.push_back(layer->moe);
  }
  return result;
}

std::vector<int> LanguageModelStage::moe_layer_indices() const {
  std::vector<int> result;
  for (const MoeLayer& layer : moe_layers()) result.push_back(layer->options().layer);
  return result;
}

torch::Tensor next_byte_loss(const runtime::TensorList& outputs,
                             const runtime::TensorList& labels) {
  const torch::Tensor& logits = outputs.at(0);
  return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                              labels.at(0).reshape({-1}));
}

double training_flops_per_token(const LanguageModelOptions& o, int64_t sequence) {
  const double h = static_cast<double>(o.hidden);
  const double attention = 4.0 * h * h;  // qkv and the output projection
  const double dense = 3.0 * h * static_cast<double>(o.dense_ffn_hidden);
  const double moe = h * static_cast<double>(o.moe.experts) +
                     3.0 * h * static_cast<double>(o.moe.ffn_hidden * o.moe.top_k) +
                     3.0 * h * static_cast<double>(o.moe.shared_ffn_hidden);
  const double used = o.layers * attention + o.dense_layers * dense + o.num_moe_layers() * moe +
                      h * static_cast<double>(o.vocab);  // the head
  return 6.0 * used + 6.0 * o.layers * static_cast<double>(sequence) * h;
}

void update_routing_bias(const std::vector<MoeLayer>& layers,
                         const std::vector<std::vector<int64_t>>& tokens, double rate) {
  if (tokens.size() != layers.size())
    throw std::invalid_argument("routing bias: token counts of " + std::to_string(tokens.size()) +
                                " layers for " + std::to_string(layers.size()));
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    MoeLayer layer = layers[i];
    torch::Tensor& bias = layer->router->selection_bias;
    const torch::Tensor load = torch::tensor(tokens[i], torch::kFloat64);
    const torch::Tensor step = torch::sign(load.mean() - load) * rate;
    bias.add_(step.to(bias.options()));
  }
}

}  // namespace dualpipe::moe
