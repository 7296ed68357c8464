#include "pipeline_bench_flags.h"

#include <algorithm>
#include <stdexcept>

#include "command_line.h"
#include "dualpipe/schedule/generators.h"
#include "memory_estimate.h"
#include "number_flags.h"

namespace dualpipe::apps {
namespace {

void add_model_size(CLI::App& app, PipelineBenchFlags& flags) {
  const std::string group = "Model size";
  const CLI::Validator size = integer_in(1, kIntMax);
  app.add_option("--hidden", flags.hidden, "hidden size H")->check(size)->group(group);
  app.add_option("--seq", flags.seq, "sequence length L")->check(size)->group(group);
  app.add_option("--microbatch-size", flags.microbatch_size, "samples per micro-batch M")
      ->check(size)
      ->group(group);
  app.add_option("--microbatches", flags.microbatches, "micro-batches per step N")
      ->check(size)
      ->group(group);
  app.add_option("--blocks", flags.blocks,
                 "MLP blocks of the whole model, split evenly over the stages")
      ->check(size)
      ->group(group);
}

void add_schedule(CLI::App& app, PipelineBenchFlags& flags) {
  const std::string group = "Schedule";
  app.add_option("--schedule", flags.schedule, "schedule to run")
      ->check(CLI::IsMember(schedule::schedule_names()))
      ->group(group);
  app.add_option("--virtual-stages", flags.virtual_stages, "stages per rank of interleaved-1f1b")
      ->check(integer_in(1, kIntMax))
      ->group(group);
  app.add_option("--concurrent-pairs", flags.concurrent_pairs,
                 "run an FB pair's backward on a helper thread: auto (on CUDA), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->group(group);
  app.add_option("--stage-streams", flags.stage_streams,
                 "run each local stage on its own CUDA stream, so an FB pair's halves share the "
                 "GPU: auto (on CUDA with FB pairs), on, off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->group(group);
  app.add_option("--cuda-graphs", flags.cuda_graphs,
                 "run each stage through captured CUDA graphs (CudaGraphStage): on or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->group(group);
}

void add_data_parallel(CLI::App& app, PipelineBenchFlags& flags) {
  const std::string group = "Data parallelism";
  app.add_option("--dp", flags.dp, "data-parallel replicas (the pipeline gets ranks / dp)")
      ->check(integer_in(1, kIntMax))
      ->group(group);
  app.add_option("--zero", flags.zero, "ZeRO-1: optimizer state sharded over a stage's copies")
      ->check(CLI::IsMember({"on", "off"}))
      ->group(group);
  app.add_option("--recompute", flags.recompute,
                 "activation recomputation: keep a stage's inputs, run its forward again in the "
                 "backward")
      ->check(CLI::IsMember({"on", "off"}))
      ->group(group);
  app.add_option("--clip-norm", flags.clip_norm,
                 "clip gradients to this global norm (0: no clipping)")
      ->check(real_in(0.0, 1e30))
      ->group(group);
}

// At least: inputs and targets [N * M, L, H] on every rank (made in float32, then converted), and
// this rank's share of the weights (blocks of 8 H^2) with their gradients.
double memory_estimate(const PipelineBenchFlags& flags, int ranks) {
  const double data = 2.0 * double(flags.microbatches) * double(flags.microbatch_size) *
                      double(flags.seq) * double(flags.hidden);
  const double weights = 8.0 * double(flags.hidden) * double(flags.hidden) * double(flags.blocks) /
                         double(std::max(ranks, 1));
  const double element = flags.bench.bytes_per_element();
  return data * (4.0 + element) + 2.0 * weights * element;
}

}  // namespace

void check_pipeline_bench_flags(const CLI::App& app, const PipelineBenchFlags& flags, int ranks) {
  if (app.count("--virtual-stages") > 0 && flags.schedule != "interleaved-1f1b") {
    throw std::invalid_argument("--virtual-stages applies to interleaved-1f1b only; --schedule " +
                                flags.schedule + " has no virtual stages");
  }
  if (ranks % flags.dp != 0) {
    throw std::invalid_argument("--dp " + std::to_string(flags.dp) + " does not divide the " +
                                std::to_string(ranks) + " ranks");
  }
  if (flags.trains() && flags.cuda_graphs == "on")
    throw std::invalid_argument(
        "--cuda-graphs on times the pipeline alone, without --dp, --zero, "
        "--recompute or --clip-norm");
  if (flags.cuda_graphs == "on" && flags.bench.device != "cuda")
    throw std::invalid_argument("--cuda-graphs on needs --device cuda");
  if (flags.stage_streams == "on" && flags.bench.device != "cuda")
    throw std::invalid_argument("--stage-streams on needs --device cuda");
  refuse_beyond_memory(memory_estimate(flags, ranks),
                       "the model size (--hidden " + std::to_string(flags.hidden) + ", --seq " +
                           std::to_string(flags.seq) + ", --microbatch-size " +
                           std::to_string(flags.microbatch_size) + ", --microbatches " +
                           std::to_string(flags.microbatches) + ", --blocks " +
                           std::to_string(flags.blocks) + ")");
}

void add_pipeline_bench_flags(CLI::App& app, PipelineBenchFlags& flags) {
  show_defaults_in_help(app);
  add_model_size(app, flags);
  add_schedule(app, flags);
  add_data_parallel(app, flags);
  add_bench_flags(app, flags.bench, "step");
  app.add_flag("--check", flags.check,
               "also compare one step with the sequential step (training: three optimizer steps "
               "with one process training the whole model)")
      ->group("Run");
  app.add_option("--host-timeline", flags.host_timeline,
                 "write the host threads' scopes during one step, without CUPTI (rank r > 0: "
                 "OUT.rank<r>.json); default: none")
      ->group("Output");
}

}  // namespace dualpipe::apps
