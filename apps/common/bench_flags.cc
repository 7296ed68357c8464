#include "bench_flags.h"

#include "number_flags.h"

namespace dualpipe::apps {

void add_bench_flags(CLI::App& app, BenchFlags& flags, const std::string& repetition) {
  app.add_option("--dtype", flags.dtype, "precision of weights and activations")
      ->check(CLI::IsMember({"float32", "float64", "bfloat16"}))
      ->group("Device");
  app.add_option("--device", flags.device, "cpu, or cuda (rank r uses cuda:LOCAL_RANK)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->group("Device");
  app.add_option("--comm-backend", flags.comm_backend,
                 "what carries messages between ranks: auto (NCCL on CUDA, Gloo on the CPU), "
                 "nccl, or gloo (on CUDA through host memory, so ranks may share a GPU; slow)")
      ->check(CLI::IsMember({"auto", "nccl", "gloo"}))
      ->group("Device");
  app.add_option("--steps", flags.steps, "timed " + repetition + "s")
      ->check(integer_in(1, 1'000'000))
      ->group("Run");
  app.add_option("--warmup", flags.warmup, "untimed " + repetition + "s before them")
      ->check(integer_in(0, 1'000'000))
      ->group("Run");
  app.add_option("--timeout", flags.timeout_s,
                 "seconds that any wait for the other ranks may take before it fails (at most a "
                 "week)")
      ->check(integer_in(1, 7 * 24 * 3600))
      ->group("Run");
  app.add_option("--seed", flags.seed, "seed of the random weights and data")
      ->check(integer_in(0, UINT64_MAX))
      ->group("Run");
  app.add_option("--profile", flags.profile,
                 "write a Chrome trace of one " + repetition +
                     " (rank r > 0: OUT.rank<r>.json); default: none")
      ->group("Output");
}

}  // namespace dualpipe::apps
