#include "dualpipe/trace/timeline_loading.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/trace_text.h"

namespace dualpipe::trace {

std::vector<RankTimeline> load_timelines(const std::vector<std::string>& paths,
                                         const KernelClassifier& classifier, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  // Files side by side first; threads left over read parts of each file.
  const unsigned per_file = std::max<unsigned>(1, threads / std::max<std::size_t>(paths.size(), 1));
  std::vector<RankTimeline> timelines(paths.size());
  std::vector<std::exception_ptr> errors(paths.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      try {
        ProfileTrace trace =
            parse_chrome_trace(TraceText::load_file(paths[i]), paths[i], per_file);
        const int rank = trace.rank.value_or(static_cast<int>(i));
        timelines[i] = build_timeline(std::move(trace), rank, classifier);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, paths.size()));
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return sorted_by_rank(std::move(timelines));
}

}  // namespace dualpipe::trace
