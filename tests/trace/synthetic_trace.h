// SyntheticTrace: a Kineto-style trace made by hand for tests, so that what the analysis must find
// is known by construction — kernels with the runtime calls that launched them and the
// annotations around those, at times given in microseconds.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/timeline.h"
#include "dualpipe/trace/trace_text.h"

namespace dualpipe::trace::testing {

class SyntheticTrace {
 public:
  // No launch call: the kernel's launch time is unknown.
  static constexpr double kNoLaunch = -1.0;

  explicit SyntheticTrace(int rank, int world_size = 2) : rank_(rank), world_size_(world_size) {}

  // A CPU annotation (record_function range) from `start` for `duration`.
  SyntheticTrace& annotation(const std::string& name, double start, double duration) {
    events_.push_back(R"({"ph": "X", "cat": "user_annotation", "name": )" + quoted(name) +
                      R"(, "pid": 100, "tid": 100, "ts": )" + number(start) +
                      ", \"dur\": " + number(duration) + "}");
    return *this;
  }

  // A compute kernel on stream 7 over [start, start + duration), launched at `launched`.
  SyntheticTrace& compute(double start, double duration, double launched,
                          const std::string& name = "sm90_gemm") {
    return kernel(name, 7, start, duration, launched, "");
  }

  // An NCCL send to global rank `peer` (default group of `world_size` ranks) on stream 13.
  SyntheticTrace& send(int peer, double start, double duration, double launched,
                       std::int64_t elements = 1024) {
    return kernel("ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)", 13, start, duration,
                  launched, p2p_args("send", "Dst Rank", peer, elements));
  }

  // An NCCL receive from global rank `peer` on stream 14.
  SyntheticTrace& receive(int peer, double start, double duration, double launched,
                          std::int64_t elements = 1024) {
    return kernel("ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)", 14, start, duration,
                  launched, p2p_args("recv", "Src Rank", peer, elements));
  }

  // A collective (e.g. "all_reduce") of the group `ranks` ("[0, 1, 2]") on stream 15.
  SyntheticTrace& collective(const std::string& name, const std::string& ranks, double start,
                             double duration, double launched) {
    return kernel(
        "ncclDevKernel_AllReduce_Sum_f32_RING_LL(args)", 15, start, duration, launched,
        R"(, "Collective name": )" + quoted(name) + R"(, "Process Group Ranks": )" + quoted(ranks));
  }

  // A communication kernel without PyTorch's args (as older versions write them), on stream 13.
  SyntheticTrace& bare_communication(double start, double duration, double launched,
                                     const std::string& name = "ncclKernel_SendRecv") {
    return kernel(name, 13, start, duration, launched, "");
  }

  // Any GPU kernel with extra args (a JSON fragment starting with ", ").
  SyntheticTrace& kernel(const std::string& name, int stream, double start, double duration,
                         double launched, const std::string& args) {
    const int correlation = next_correlation_++;
    if (launched != kNoLaunch) {
      events_.push_back(R"({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", )"
                        R"("pid": 100, "tid": 100, "ts": )" +
                        number(launched) + R"(, "dur": 1, "args": {"correlation": )" +
                        std::to_string(correlation) + "}}");
    }
    events_.push_back(R"({"ph": "X", "cat": "kernel", "name": )" + quoted(name) +
                      R"(, "pid": 0, "tid": )" + std::to_string(stream) +
                      ", \"ts\": " + number(start) + ", \"dur\": " + number(duration) +
                      R"(, "args": {"correlation": )" + std::to_string(correlation) + args + "}}");
    return *this;
  }

  std::string json() const {
    std::string text = R"({"distributedInfo": {"rank": )" + std::to_string(rank_) +
                       R"(, "world_size": )" + std::to_string(world_size_) +
                       "},\n\"traceEvents\": [\n";
    for (std::size_t i = 0; i < events_.size(); ++i) text += (i ? ",\n" : "") + events_[i];
    return text + "\n]}\n";
  }

  ProfileTrace parse() const {
    return parse_chrome_trace(TraceText::copy_of(json()), "rank" + std::to_string(rank_) + ".json");
  }

 private:
  std::string p2p_args(const char* collective, const char* key, int peer,
                       std::int64_t elements) const {
    std::string ranks = "[";
    for (int r = 0; r < world_size_; ++r) ranks += (r ? ", " : "") + std::to_string(r);
    return std::string(R"(, "Collective name": ")") + collective + R"(", "In msg nelems": )" +
           std::to_string(elements) + R"(, "Process Group Ranks": ")" + ranks + R"(]", ")" + key +
           "\": " + std::to_string(peer);
  }
  static std::string quoted(const std::string& text) { return "\"" + text + "\""; }
  static std::string number(double value) {
    std::ostringstream out;
    out.precision(17);
    out << value;
    return out.str();
  }

  int rank_;
  int world_size_;
  int next_correlation_ = 1;
  std::vector<std::string> events_;
};

// The timelines of `traces`, as read (not aligned, not analysed).
inline std::vector<RankTimeline> timelines_of(const std::vector<SyntheticTrace>& traces) {
  std::vector<ProfileTrace> parsed;
  for (const SyntheticTrace& trace : traces) parsed.push_back(trace.parse());
  return build_timelines(std::move(parsed), KernelClassifier());
}

// The timelines of `traces`, on one clock, analysed over their whole span.
struct AnalysedRun {
  std::vector<RankTimeline> timelines;
  StepAnalysis analysis;
};

inline AnalysedRun analyse(const std::vector<SyntheticTrace>& traces) {
  AnalysedRun run;
  run.timelines = timelines_of(traces);
  run.analysis = align_timelines(run.timelines);
  analyse_step(run.timelines, std::nullopt, run.analysis);
  return run;
}

// Microseconds to nanoseconds, for exact comparisons.
constexpr TimeNs us(double microseconds) { return static_cast<TimeNs>(microseconds * 1000.0); }

}  // namespace dualpipe::trace::testing
