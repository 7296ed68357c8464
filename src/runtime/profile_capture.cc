#include "dualpipe/runtime/profile_capture.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "dualpipe/schedule/json_quote.h"

namespace dualpipe::runtime {
namespace {

namespace profiler = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

// KinetoEvent reports microseconds in LibTorch 1.x and nanoseconds in 2.x.
template <typename Event>
auto start_us(const Event& e, int) -> decltype(e.startNs(), uint64_t()) {
  return e.startNs() / 1000;
}
template <typename Event>
uint64_t start_us(const Event& e, long) {
  return e.startUs();
}
template <typename Event>
auto duration_us(const Event& e, int) -> decltype(e.durationNs(), uint64_t()) {
  return e.durationNs() / 1000;
}
template <typename Event>
uint64_t duration_us(const Event& e, long) {
  return e.durationUs();
}

// A Chrome trace of the CPU events, for LibTorch builds that cannot save Kineto traces.
std::string trace_from_events(const profiler::ProfilerResult& result) {
  std::ostringstream out;
  out << "{\"traceEvents\": [";
  bool first = true;
  const long pid = static_cast<long>(getpid());
  for (const profiler::KinetoEvent& e : result.events()) {
    const bool user = e.scope() == static_cast<uint8_t>(at::RecordScope::USER_SCOPE);
    out << (first ? "\n" : ",\n") << "{\"ph\": \"X\", \"cat\": \""
        << (user ? "user_annotation" : "cpu_op")
        << "\", \"name\": " << schedule::json_quote(e.name()) << ", \"pid\": " << pid
        << ", \"tid\": " << e.startThreadId() << ", \"ts\": " << start_us(e, 0)
        << ", \"dur\": " << duration_us(e, 0) << "}";
    first = false;
  }
  out << "\n]}";
  return out.str();
}

// Kineto's own trace, through a temporary file (it only writes to paths); empty when this
// LibTorch cannot save one.
std::string kineto_trace(profiler::ProfilerResult& result) {
  char path[] = "/tmp/dualpipe-trace-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error("cannot create a temporary file for the profiler trace");
  close(fd);
  std::string text;
  try {
    result.save(path);
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  } catch (const c10::Error&) {
    text.clear();  // no Kineto in this build
  }
  std::remove(path);
  return text;
}

}  // namespace

ProfileCapture::ProfileCapture(bool cuda) {
  std::set<ActivityType> activities{ActivityType::CPU};
  if (cuda) activities.insert(ActivityType::CUDA);
  const ProfilerConfig config(ProfilerState::KINETO);
  profiler::prepareProfiler(config, activities);
  profiler::enableProfiler(config, activities);
  running_ = true;
}

ProfileCapture::~ProfileCapture() {
  if (running_) profiler::disableProfiler();
}

std::string ProfileCapture::finish(int rank, int world_size) {
  if (!running_) throw std::logic_error("the profile was already finished");
  running_ = false;
  std::unique_ptr<profiler::ProfilerResult> result = profiler::disableProfiler();
  std::string trace = kineto_trace(*result);
  if (trace.empty()) trace = trace_from_events(*result);
  const std::size_t open = trace.find('{');
  if (open == std::string::npos) throw std::runtime_error("the profiler produced no trace");
  trace.insert(open + 1, "\"distributedInfo\": {\"rank\": " + std::to_string(rank) +
                             ", \"world_size\": " + std::to_string(world_size) + "},\n");
  return trace;
}

}  // namespace dualpipe::runtime
