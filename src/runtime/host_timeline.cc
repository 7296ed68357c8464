#include "dualpipe/runtime/host_timeline.h"

#include <map>
#include <sstream>
#include <stdexcept>

#include "dualpipe/schedule/json_quote.h"

namespace dualpipe::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// The timeline callbacks write to; RecordFunction callbacks are plain function pointers.
HostTimeline* active_timeline = nullptr;

// When a scope started, kept by RecordFunction between its start and end callbacks.
struct ScopeStart : at::ObserverContext {
  Clock::time_point at = Clock::now();
};

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction&) {
  return std::make_unique<ScopeStart>();
}

}  // namespace

HostTimeline::HostTimeline() : origin_(Clock::now()) {
  if (active_timeline != nullptr)
    throw std::logic_error("HostTimeline: another timeline is recording");
  active_timeline = this;
  handle_ = at::addGlobalCallback(at::RecordFunctionCallback(
      on_start, [](const at::RecordFunction& scope, at::ObserverContext* context) {
        const auto* start = static_cast<const ScopeStart*>(context);
        HostTimeline* timeline = active_timeline;
        if (timeline == nullptr || start == nullptr) return;
        const Clock::time_point end = Clock::now();
        timeline->record(
            {scope.name(), scope.threadId(),
             std::chrono::duration<double, std::micro>(start->at - timeline->origin_).count(),
             std::chrono::duration<double, std::micro>(end - start->at).count()});
      }));
  running_ = true;
}

HostTimeline::~HostTimeline() {
  if (running_) at::removeCallback(handle_);
  if (active_timeline == this) active_timeline = nullptr;
}

void HostTimeline::record(Span span) {
  std::lock_guard<std::mutex> lock(mutex_);
  spans_.push_back(std::move(span));
}

std::string HostTimeline::finish(int rank) {
  if (running_) at::removeCallback(handle_);
  running_ = false;
  active_timeline = nullptr;
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<uint64_t, int> thread_numbers;  // RecordFunction thread ids -> 0, 1, ...
  std::ostringstream out;
  out.precision(3);
  out << std::fixed << "{\"traceEvents\": [";
  for (std::size_t i = 0; i < spans_.size(); ++i) {
    const Span& s = spans_[i];
    const int tid =
        thread_numbers.emplace(s.thread, static_cast<int>(thread_numbers.size())).first->second;
    out << (i == 0 ? "\n" : ",\n")
        << "{\"ph\": \"X\", \"cat\": \"host\", \"name\": " << schedule::json_quote(s.name)
        << ", \"pid\": " << rank << ", \"tid\": " << tid << ", \"ts\": " << s.start_us
        << ", \"dur\": " << s.duration_us << "}";
  }
  out << "\n]}\n";
  return out.str();
}

}  // namespace dualpipe::runtime
