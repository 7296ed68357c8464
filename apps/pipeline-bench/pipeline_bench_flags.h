// pipeline-bench's command line: the model's size, the schedule, the device and what to record.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "bench_flags.h"

namespace dualpipe::apps {

// Every flag of pipeline-bench, with its default.
struct PipelineBenchFlags {
  // Model size: blocks of Linear(H -> 4H), GELU, Linear(4H -> H); inputs [N * M, L, H].
  int64_t hidden = 512;         // H
  int64_t seq = 256;            // L
  int64_t microbatch_size = 3;  // M
  int microbatches = 20;        // N
  int blocks = 4;               // MLP blocks of the whole model
  // Schedule.
  std::string schedule = "dualpipe";
  int virtual_stages = 2;  // stages per rank of interleaved-1f1b
  std::string concurrent_pairs = "auto";
  std::string stage_streams = "auto";
  std::string cuda_graphs = "off";
  // Device, run and output flags shared with moe-bench (seed 233).
  BenchFlags bench = [] {
    BenchFlags defaults;
    defaults.seed = 233;
    return defaults;
  }();
  bool check = false;
  std::string host_timeline;
  // Data parallelism: with --dp > 1, --zero, --recompute or --clip-norm each timed step is a
  // Trainer's training step (pipeline, gradient reduction, AdamW) on pp = ranks / dp x dp.
  int dp = 1;
  std::string zero = "off";
  std::string recompute = "off";
  double clip_norm = 0.0;

  // True when the run trains on a mesh rather than timing the pipeline alone.
  bool trains() const { return dp > 1 || zero == "on" || recompute == "on" || clip_norm > 0; }
};

// Adds every flag of pipeline-bench to `app`, in the groups Model size, Schedule, Device, Run and
// Output, each numeric flag with its domain.
void add_pipeline_bench_flags(CLI::App& app, PipelineBenchFlags& flags);

// The rules between flags that CLI11 cannot express (--virtual-stages only with a schedule that
// has virtual stages, CUDA-only features on CUDA), and a memory estimate for `ranks` ranks of the
// model and data the flags ask for. Throws std::invalid_argument with one line naming the flags.
void check_pipeline_bench_flags(const CLI::App& app, const PipelineBenchFlags& flags, int ranks);

}  // namespace dualpipe::apps
