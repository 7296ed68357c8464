// Timeline loading: reads the trace files of a run — one per rank, often dozens of 100 MB — side
// by side, a thread per core, and builds each rank's timeline.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/trace/kernel_classifier.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// Loads, parses and builds the timeline of every file in `paths` (plain or gzip JSON), using up to
// `threads` threads (0: one per core): files side by side, and threads left over reading pieces
// of each file (parse_chrome_trace). A file's rank is its
// distributedInfo.rank, else its position in `paths`. The result is sorted by rank. When files
// fail, the exception of the first failing one in `paths` order is rethrown (TraceFormatError for
// bad input); two files of one rank are std::invalid_argument.
std::vector<RankTimeline> load_timelines(const std::vector<std::string>& paths,
                                         const KernelClassifier& classifier, unsigned threads = 0);

}  // namespace dualpipe::trace
