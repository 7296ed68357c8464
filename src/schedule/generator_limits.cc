#include "generator_limits.h"

#include <cstdint>
#include <stdexcept>

namespace dualpipe::schedule::detail {
namespace {

constexpr std::int64_t kMaxChunkStages = std::int64_t{1} << 22;

}  // namespace

void require(bool condition, const char* schedule, const std::string& what) {
  if (!condition) throw std::invalid_argument(std::string(schedule) + ": " + what);
}

void require_sane_size(const char* schedule, int num_ranks, int num_microbatches,
                       int stages_per_rank) {
  require(num_ranks >= 1, schedule, "needs at least 1 rank, got " + std::to_string(num_ranks));
  require(num_microbatches >= 1, schedule,
          "needs at least 1 micro-batch, got " + std::to_string(num_microbatches));
  require(stages_per_rank >= 1, schedule,
          "needs at least 1 stage per rank, got " + std::to_string(stages_per_rank));
  const std::int64_t size = std::int64_t{num_ranks} * num_microbatches * stages_per_rank;
  require(size <= kMaxChunkStages, schedule,
          "too large: ranks x micro-batches x stages per rank is " + std::to_string(size) +
              ", at most " + std::to_string(kMaxChunkStages) + " supported");
}

}  // namespace dualpipe::schedule::detail
