// Per-rank file names: every rank of a job writes its own copy of an output (e.g. a trace).
#pragma once

#include <string>

namespace dualpipe::apps {

// Rank 0 writes `path`; rank r > 0 writes it with ".rank<r>" before the extension
// (trace.json -> trace.rank1.json; no extension: trace -> trace.rank1).
std::string rank_file_path(const std::string& path, int rank);

}  // namespace dualpipe::apps
