// moe-bench's command line: the MoE stage's size, how its pairs overlap, the device and what to
// read and record.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "bench_flags.h"

namespace dualpipe::apps {

// Every flag of moe-bench, with its default.
struct MoeBenchFlags {
  // Model size.
  int64_t hidden = 1024;
  int64_t ffn_hidden = 1024;
  int64_t experts = 16;
  int64_t top_k = 4;
  int64_t groups = 1;
  int64_t top_groups = 1;
  int64_t shared_ffn_hidden = 0;
  int64_t tokens = 4096;  // per micro-batch and rank
  int64_t seq = 512;
  int64_t heads = 8;
  int layers = 1;
  // Overlap of the pair.
  std::string overlap = "on";
  std::string weight_phases = "attn";
  std::string pair_order = "forward";
  std::string expert_gemm = "grouped";
  // Device, run and output flags shared with pipeline-bench.
  BenchFlags bench;
  bool check = false;
  std::string placement;
  std::string profile_sequential;
  std::string record_loads;
};

// Adds every flag of moe-bench to `app`, in the groups Model size, Overlap, Device, Run, Input and
// Output, each numeric flag with its domain.
void add_moe_bench_flags(CLI::App& app, MoeBenchFlags& flags);

// The rules between flags that CLI11 cannot express (--seq divides --tokens) and a memory estimate
// for `ranks` ranks of the stage and data the flags ask for. Throws std::invalid_argument with one
// line naming the flags.
void check_moe_bench_flags(const MoeBenchFlags& flags, int ranks);

}  // namespace dualpipe::apps
