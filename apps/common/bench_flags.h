// The flags pipeline-bench and moe-bench share (precision, device, message backend, repetitions,
// waits, seed, profile), defined once so both tools spell, check and document them alike.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace dualpipe::apps {

// Values of the shared flags. A tool may change a default before add_bench_flags().
struct BenchFlags {
  std::string dtype = "float32";      // float32, float64 or bfloat16
  std::string device = "cpu";         // cpu or cuda (cuda:LOCAL_RANK)
  std::string comm_backend = "auto";  // auto, nccl or gloo
  int steps = 10;                     // timed repetitions
  int warmup = 3;                     // untimed repetitions before them
  int timeout_s = 300;                // seconds any wait for other ranks may take
  uint64_t seed = 0;                  // seed of the random weights and data
  std::string profile;                // Chrome trace of one repetition; empty: none

  // Bytes of one element of `dtype`, for memory estimates.
  double bytes_per_element() const {
    return dtype == "float64" ? 8.0 : dtype == "bfloat16" ? 2.0 : 4.0;
  }
};

// Adds --dtype, --device, --comm-backend (group "Device"), --steps, --warmup, --timeout, --seed
// (group "Run") and --profile (group "Output") to `app`. `repetition` names what one timed
// repetition is ("step", "pair").
void add_bench_flags(CLI::App& app, BenchFlags& flags, const std::string& repetition);

}  // namespace dualpipe::apps
