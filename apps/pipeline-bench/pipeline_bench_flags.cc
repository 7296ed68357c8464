#include "pipeline_bench_flags.h"

#include "command_line.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::apps {
namespace {

void add_model_size(CLI::App& app, PipelineBenchFlags& flags) {
  const std::string group = "Model size";
  app.add_option("--hidden", flags.hidden, "hidden size H")->check(positive_number())->group(group);
  app.add_option("--seq", flags.seq, "sequence length L")->check(positive_number())->group(group);
  app.add_option("--microbatch-size", flags.microbatch_size, "samples per micro-batch M")
      ->check(positive_number())
      ->group(group);
  app.add_option("--microbatches", flags.microbatches, "micro-batches per step N")
      ->check(positive_number())
      ->group(group);
  app.add_option("--blocks", flags.blocks,
                 "MLP blocks of the whole model, split evenly over the stages")
      ->check(positive_number())
      ->group(group);
}

void add_schedule(CLI::App& app, PipelineBenchFlags& flags) {
  const std::string group = "Schedule";
  app.add_option("--schedule", flags.schedule, "schedule to run")
      ->check(CLI::IsMember(schedule::schedule_names()))
      ->group(group);
  app.add_option("--virtual-stages", flags.virtual_stages, "stages per rank of interleaved-1f1b")
      ->check(positive_number())
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

}  // namespace

void add_pipeline_bench_flags(CLI::App& app, PipelineBenchFlags& flags) {
  show_defaults_in_help(app);
  add_model_size(app, flags);
  add_schedule(app, flags);
  add_bench_flags(app, flags.bench, "step");
  app.add_flag("--check", flags.check, "also compare one step with the sequential step")
      ->group("Run");
  app.add_option("--host-timeline", flags.host_timeline,
                 "write the host threads' scopes during one step, without CUPTI (rank r > 0: "
                 "OUT.rank<r>.json); default: none")
      ->group("Output");
}

}  // namespace dualpipe::apps
