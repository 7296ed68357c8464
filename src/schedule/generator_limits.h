// Argument checks shared by the schedule generators (private to the library).
#pragma once

#include <string>

namespace dualpipe::schedule::detail {

// Throws std::invalid_argument("<schedule>: <what>") unless `condition` holds.
void require(bool condition, const char* schedule, const std::string& what);

// Checks ranks >= 1, micro-batches >= 1 and that the schedule stays below a size limit
// (ranks x micro-batches x stages per rank <= 4194304) so user input cannot exhaust memory.
void require_sane_size(const char* schedule, int num_ranks, int num_microbatches,
                       int stages_per_rank);

}  // namespace dualpipe::schedule::detail
