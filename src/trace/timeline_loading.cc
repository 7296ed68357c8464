#include "dualpipe/trace/timeline_loading.h"

#include <algorithm>
#include <thread>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/trace_text.h"
#include "parallel_tasks.h"

namespace dualpipe::trace {

std::vector<RankTimeline> load_timelines(const std::vector<std::string>& paths,
                                         const KernelClassifier& classifier, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  // Files side by side first; threads left over read parts of each file.
  const unsigned per_file = std::max<unsigned>(1, threads / std::max<std::size_t>(paths.size(), 1));
  std::vector<RankTimeline> timelines(paths.size());
  run_tasks(paths.size(), threads, [&] {
    return [&](std::size_t i) {
      ProfileTrace trace = parse_chrome_trace(TraceText::load_file(paths[i]), paths[i], per_file);
      const int rank = trace.rank.value_or(static_cast<int>(i));
      timelines[i] = build_timeline(std::move(trace), rank, classifier);
    };
  });
  return sorted_by_rank(std::move(timelines));
}

}  // namespace dualpipe::trace
