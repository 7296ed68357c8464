#include "moe_bench_flags.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "command_line.h"
#include "memory_estimate.h"
#include "number_flags.h"

namespace dualpipe::apps {
namespace {

void add_model_size(CLI::App& app, MoeBenchFlags& flags) {
  const std::string group = "Model size";
  const auto add = [&](const char* name, int64_t& value, const char* description) {
    return app.add_option(name, value, description)->check(integer_in(1, kIntMax))->group(group);
  };
  add("--hidden", flags.hidden, "token width H");
  add("--ffn-hidden", flags.ffn_hidden, "hidden width of each expert");
  add("--experts", flags.experts, "logical experts");
  add("--topk", flags.top_k, "experts per token");
  add("--groups", flags.groups, "expert groups for group-limited routing");
  add("--top-groups", flags.top_groups, "groups a token may use");
  app.add_option("--shared-ffn-hidden", flags.shared_ffn_hidden,
                 "hidden width of a shared expert (0: none)")
      ->check(integer_in(0, kIntMax))
      ->group(group);
  add("--tokens", flags.tokens, "tokens per micro-batch and rank");
  add("--seq", flags.seq, "sequence length (attention span); divides --tokens");
  add("--heads", flags.heads, "attention heads");
  app.add_option("--layers", flags.layers, "MoE transformer layers in the stage")
      ->check(integer_in(1, kIntMax))
      ->group(group);
}

void add_overlap(CLI::App& app, MoeBenchFlags& flags) {
  const std::string group = "Overlap";
  app.add_option("--overlap", flags.overlap,
                 "on: time overlapped and sequential pairs; off: sequential only")
      ->check(CLI::IsMember({"on", "off"}))
      ->group(group);
  app.add_option("--weight-phases", flags.weight_phases,
                 "which backward phases of overlapped pairs run their weight gradients as "
                 "separate W phases: attn, mlp, on (both) or off (none)")
      ->check(CLI::IsMember({"on", "attn", "mlp", "off"}))
      ->group(group);
  app.add_option("--pair-order", flags.pair_order,
                 "which pass of an overlapped pair runs its first phase alone: forward (attn(F)) "
                 "or backward (combine(B)'s sum, DeepSeek-V3's pairing)")
      ->check(CLI::IsMember({"forward", "backward"}))
      ->group(group);
  app.add_option("--expert-gemm", flags.expert_gemm,
                 "how the experts multiply their blocks of rows: grouped (one grouped GEMM, "
                 "LibTorch >= 2.9, bfloat16 on CUDA; elsewhere per block) or per-block")
      ->check(CLI::IsMember({"grouped", "per-block"}))
      ->group(group);
}

// At least: two micro-batches and an output gradient [tokens, hidden]; per layer the dispatched
// rows (top-k copies of each token through an expert's input, hidden and output widths), the
// attention scores, this rank's experts (three matrices of hidden x ffn-hidden) and the attention
// weights (four of hidden x hidden).
double memory_estimate(const MoeBenchFlags& f, int ranks) {
  const double tokens = double(f.tokens);
  const double hidden = double(f.hidden);
  const double ffn = double(f.ffn_hidden);
  const double local_experts = std::ceil(double(f.experts) / double(std::max(ranks, 1)));
  const double per_layer = tokens * double(f.top_k) * (2.0 * hidden + 2.0 * ffn) +
                           tokens * double(f.heads) * double(f.seq) +
                           3.0 * hidden * ffn * local_experts + 4.0 * hidden * hidden;
  return f.bench.bytes_per_element() * (3.0 * tokens * hidden + double(f.layers) * per_layer);
}

}  // namespace

void check_moe_bench_flags(const MoeBenchFlags& flags, int ranks) {
  if (flags.tokens % flags.seq != 0)
    throw std::invalid_argument("--tokens must be a multiple of --seq");
  refuse_beyond_memory(
      memory_estimate(flags, ranks),
      "the stage's size (--tokens " + std::to_string(flags.tokens) + ", --hidden " +
          std::to_string(flags.hidden) + ", --ffn-hidden " + std::to_string(flags.ffn_hidden) +
          ", --experts " + std::to_string(flags.experts) + ", --topk " +
          std::to_string(flags.top_k) + ", --layers " + std::to_string(flags.layers) + ")");
}

void add_moe_bench_flags(CLI::App& app, MoeBenchFlags& flags) {
  show_defaults_in_help(app);
  add_model_size(app, flags);
  add_overlap(app, flags);
  add_bench_flags(app, flags.bench, "pair");
  app.add_flag("--check", flags.check, "compare overlapped with sequential outputs and gradients")
      ->group("Run");
  app.add_option("--placement", flags.placement,
                 "eplb-plan output whose rows 0.. place each layer's experts; default: one slot "
                 "per expert")
      ->group("Input");
  app.add_option("--profile-sequential", flags.profile_sequential,
                 "write a Chrome trace of one forward-then-backward pair (rank r > 0: "
                 "OUT.rank<r>.json); default: none")
      ->group("Output");
  app.add_option("--record-loads", flags.record_loads,
                 "write tokens per expert per layer per pair (eplb-plan input); default: none")
      ->group("Output");
}

}  // namespace dualpipe::apps
