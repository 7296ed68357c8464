// Benchmark: reading a Chrome trace and computing its statistics in process (parse, timeline,
// overlap). Input: ../shared/data/profile-data/train.json when present, else a synthetic trace of
// alternating compute and NCCL kernels with annotations. Reports bytes per second.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/timeline.h"

namespace {

using namespace dualpipe::trace;

// `events` kernels on two streams, every launch inside an annotation, as Kineto writes them.
std::string synthetic_trace(int events) {
  std::string json = "{\"traceEvents\": [\n";
  for (int i = 0; i < events; ++i) {
    const long ts = 1000L * i;
    json += "{\"ph\": \"X\", \"cat\": \"user_annotation\", \"name\": \"attn(F)\", \"pid\": 1, "
            "\"tid\": 1, \"ts\": " + std::to_string(ts) + ", \"dur\": 10},\n"
            "{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"pid\": 1, "
            "\"tid\": 1, \"ts\": " + std::to_string(ts + 1) + ", \"dur\": 2, \"args\": "
            "{\"correlation\": " + std::to_string(i) + "}},\n"
            "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"" +
            (i % 2 ? "ncclDevKernel_SendRecv" : "sm90_xmma_gemm") + "\", \"pid\": 0, \"tid\": " +
            (i % 2 ? "13" : "7") + ", \"ts\": " + std::to_string(ts + 50) +
            ", \"dur\": 1500, \"args\": {\"correlation\": " + std::to_string(i) +
            ", \"grid\": [132, 1, 1]}}" + (i + 1 < events ? ",\n" : "\n");
  }
  return json + "]}\n";
}

TraceText benchmark_input() {
  const std::string train =
      std::string(DUALPIPE_SOURCE_DIR) + "/../shared/data/profile-data/train.json";
  if (std::filesystem::exists(train)) return TraceText::load_file(train);
  return TraceText::copy_of(synthetic_trace(20000));
}

void BM_SummariseTrace(benchmark::State& state) {
  const TraceText text = benchmark_input();
  const KernelClassifier classifier;
  for (auto _ : state) {
    const RankTimeline timeline =
        build_timeline(parse_chrome_trace(text, "benchmark"), 0, classifier);
    benchmark::DoNotOptimize(compute_statistics(timeline, std::nullopt));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_SummariseTrace)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
