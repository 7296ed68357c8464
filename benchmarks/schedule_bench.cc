// Schedule generation, validation and the communication pass at a large size (DualPipe with
// 64 ranks and 1024 micro-batches) and a few smaller ones. docs/performance.md lists the figures
// and the matching timing of the reference's step logic.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/schedule/validator.h"

namespace {

using namespace dualpipe::schedule;

std::int64_t compute_actions(const Schedule& schedule) {
  std::int64_t count = 0;
  for (const auto& program : schedule.programs) count += static_cast<std::int64_t>(program.size());
  return count;
}

void generate_dualpipe_only(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const int microbatches = static_cast<int>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(generate_dualpipe(ranks, microbatches));
  state.counters["actions"] =
      static_cast<double>(compute_actions(generate_dualpipe(ranks, microbatches)));
}

void generate_and_validate_dualpipe(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const int microbatches = static_cast<int>(state.range(1));
  for (auto _ : state) {
    const Schedule schedule = generate_dualpipe(ranks, microbatches);
    const std::vector<Violation> violations = validate(schedule);
    if (!violations.empty()) state.SkipWithError("invalid schedule");
    benchmark::DoNotOptimize(violations);
  }
}

void generate_with_communication_and_validate_dualpipe(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const int microbatches = static_cast<int>(state.range(1));
  std::int64_t actions = 0;
  for (auto _ : state) {
    const Schedule schedule = with_communication(generate_dualpipe(ranks, microbatches));
    const std::vector<Violation> violations = validate(schedule, P2PMode::kBlocking);
    if (!violations.empty()) state.SkipWithError("invalid schedule");
    actions = compute_actions(schedule);
  }
  state.counters["actions"] = static_cast<double>(actions);
}

void validate_named_schedule(benchmark::State& state, const char* name) {
  const Schedule schedule =
      generate_schedule(name, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(validate(schedule));
}

// The simulator alone on a generated schedule (costs of the DualPipe README's example ratios).
void simulate_dualpipe(benchmark::State& state) {
  const Schedule schedule =
      generate_dualpipe(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 2.5, 0.1);
  for (auto _ : state) benchmark::DoNotOptimize(simulate(schedule, costs));
  state.counters["actions"] = static_cast<double>(compute_actions(schedule));
}

// What `pipeline-schedule --schedule dualpipe` does before drawing: generate, validate, simulate.
void generate_validate_and_simulate_dualpipe(benchmark::State& state) {
  const int ranks = static_cast<int>(state.range(0));
  const int microbatches = static_cast<int>(state.range(1));
  const CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 2.5, 0.1);
  for (auto _ : state) {
    const Schedule schedule = generate_dualpipe(ranks, microbatches);
    if (!validate(schedule, P2PMode::kBlocking, 1).empty()) state.SkipWithError("invalid schedule");
    benchmark::DoNotOptimize(simulate(schedule, costs));
  }
}

}  // namespace

BENCHMARK(generate_dualpipe_only)->Args({8, 64})->Args({64, 1024})->Unit(benchmark::kMillisecond);
BENCHMARK(generate_and_validate_dualpipe)
    ->Args({8, 64})
    ->Args({64, 1024})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(generate_with_communication_and_validate_dualpipe)
    ->Args({8, 64})
    ->Args({64, 1024})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(validate_named_schedule, dualpipev, "dualpipev")
    ->Args({32, 1024})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(validate_named_schedule, zb1p, "zb1p")
    ->Args({64, 1024})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(simulate_dualpipe)->Args({8, 64})->Args({64, 1024})->Unit(benchmark::kMillisecond);
BENCHMARK(generate_validate_and_simulate_dualpipe)
    ->Args({8, 64})
    ->Args({64, 1024})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
