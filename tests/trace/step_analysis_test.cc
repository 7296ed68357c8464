#include "dualpipe/trace/step_analysis.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dualpipe/trace/timeline_loading.h"
#include "synthetic_trace.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

struct Loaded {
  std::vector<RankTimeline> timelines;
  StepAnalysis analysis;
};

Loaded load_and_analyse(const std::vector<std::string>& paths) {
  Loaded loaded;
  loaded.timelines = load_timelines(paths, KernelClassifier());
  loaded.analysis = align_timelines(loaded.timelines);
  analyse_step(loaded.timelines, std::nullopt, loaded.analysis);
  return loaded;
}

// Per rank, the categories add up to the span exactly, and compute (which takes precedence)
// is exactly the union of the compute kernels that the overlap statistics report.
void expect_consistent(const Loaded& loaded) {
  for (std::size_t t = 0; t < loaded.timelines.size(); ++t) {
    const RankAttribution& a = loaded.analysis.ranks[t];
    TimeNs total = 0;
    for (TimeNs part : a.by_category) total += part;
    EXPECT_EQ(total, a.span.length()) << loaded.timelines[t].source;
    const OverlapIntervals overlap = overlap_intervals(loaded.timelines[t], a.span);
    EXPECT_EQ(a.of(TimeCategory::kCompute), total_length(overlap.compute));
  }
  EXPECT_EQ(loaded.analysis.path.length(),
            loaded.analysis.path.steps.empty()
                ? 0
                : loaded.analysis.path.steps.back().end - loaded.analysis.span.start);
}

TEST(AnalyseStep, CategoriesAddUpToTheSpanOnEveryRecordedRun) {
  int runs = 0;
  for (const char* name :
       {"dualpipe_step_h200x2", "moe_pair_h200x2", "nccl_overlap_trace", "dualpipe_gloo_1gpu_eager",
        "dualpipe_gloo_1gpu_graphs", "dualpipev_1gpu_eager", "dualpipev_1gpu_graphs"}) {
    const std::vector<std::string> paths = testing::recorded_run(name);
    if (paths.empty()) continue;
    ++runs;
    const Loaded loaded = load_and_analyse(paths);
    SCOPED_TRACE(name);
    expect_consistent(loaded);
    EXPECT_FALSE(loaded.analysis.clocks.estimated);  // two GPUs of one machine: one clock
    EXPECT_EQ(loaded.analysis.matching.unmatched_calls, 0);
  }
  if (runs == 0) GTEST_SKIP() << "no recorded runs in profiles/";
}

TEST(AnalyseStep, RankZeroOfTheRecordedDualPipeStepWaitsForRankOnesHost) {
  const std::vector<std::string> paths = testing::recorded_run("dualpipe_step_h200x2");
  if (paths.empty()) GTEST_SKIP() << "profiles/dualpipe_step_h200x2_* not present";
  const Loaded loaded = load_and_analyse(paths);
  const RankAttribution& rank0 = loaded.analysis.ranks[0];
  const RankAttribution& rank1 = loaded.analysis.ranks[1];
  // What the overlap statistics called 21 ms of communication is rank 0 waiting for rank 1,
  // whose GPU idled for its host.
  EXPECT_GT(rank0.of(TimeCategory::kWait), rank0.span.length() / 2);
  ASSERT_FALSE(rank0.waits.empty());
  EXPECT_EQ(rank0.waits[0].peer, 1);
  EXPECT_EQ(rank0.waits[0].peer_activity[0].what.rfind("host gap", 0), 0u);
  EXPECT_GT(rank1.of(TimeCategory::kHostGap), rank1.span.length() / 2);
  ASSERT_TRUE(loaded.analysis.prediction.prediction);
  const StepPrediction& p = *loaded.analysis.prediction.prediction;
  EXPECT_LT(p.simulated_ms, p.measured_ms * 0.8);  // the GPU work alone leaves out the host
  EXPECT_NEAR(p.simulated_with_host_ms, p.measured_ms, p.measured_ms * 0.05);
}

TEST(AnalyseStep, CudaGraphsShortenTheRecordedDualPipeVStepByItsHostGaps) {
  const std::vector<std::string> eager_paths = testing::recorded_run("dualpipev_1gpu_eager");
  const std::vector<std::string> graph_paths = testing::recorded_run("dualpipev_1gpu_graphs");
  if (eager_paths.empty() || graph_paths.empty())
    GTEST_SKIP() << "profiles/dualpipev_1gpu_{eager,graphs}_rank0.json.gz not present";
  const RankAttribution eager = load_and_analyse(eager_paths).analysis.ranks[0];
  const RankAttribution graphs = load_and_analyse(graph_paths).analysis.ranks[0];
  // The same kernels run (compute within 2%); the step is shorter by what the host gaps lost.
  const double compute_ratio = static_cast<double>(graphs.of(TimeCategory::kCompute)) /
                               static_cast<double>(eager.of(TimeCategory::kCompute));
  EXPECT_NEAR(compute_ratio, 1.0, 0.02);
  const TimeNs shorter = eager.span.length() - graphs.span.length();
  const TimeNs fewer_gaps = eager.of(TimeCategory::kHostGap) - graphs.of(TimeCategory::kHostGap);
  EXPECT_GT(fewer_gaps, shorter * 3 / 4);
  EXPECT_GT(shorter, eager.span.length() / 5);
}

TEST(AnalyseStep, AttributesDeepSeeksSingleRankTrainingTrace) {
  const std::string path = testing::deepseek_train_trace();
  if (path.empty()) GTEST_SKIP() << "train.json not present";
  const Loaded loaded = load_and_analyse({path});
  expect_consistent(loaded);
  const RankAttribution& a = loaded.analysis.ranks[0];
  // Its DeepEP all-to-alls exchange with 63 ranks that are not here: their exposed time is
  // communication whose waits cannot be told (other), not transfer.
  EXPECT_EQ(a.of(TimeCategory::kTransfer), 0);
  EXPECT_EQ(a.of(TimeCategory::kWait), 0);
  EXPECT_GT(a.other_by_cause[static_cast<std::size_t>(OtherCause::kUnmatchedCommunication)], 0);
  EXPECT_FALSE(loaded.analysis.prediction.prediction);  // no toolkit annotations
}

TEST(AnalyseStep, AWindowNarrowsTheSpan) {
  testing::SyntheticTrace rank(0, 1);
  rank.compute(0, 100, -5).compute(200, 100, 150);
  std::vector<ProfileTrace> parsed{rank.parse()};
  std::vector<RankTimeline> timelines = build_timelines(std::move(parsed), KernelClassifier());
  StepAnalysis analysis = align_timelines(timelines);
  const TimeNs origin = earliest_gpu_start(timelines);
  analyse_step(timelines, Interval{origin + testing::us(50), origin + testing::us(250)}, analysis);
  const RankAttribution& a = analysis.ranks[0];
  EXPECT_EQ(a.span.length(), testing::us(200));
  EXPECT_EQ(a.of(TimeCategory::kCompute), testing::us(100));
  EXPECT_EQ(a.of(TimeCategory::kHostGap), testing::us(50));
}

}  // namespace
}  // namespace dualpipe::trace
