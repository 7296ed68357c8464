// Rank agreement: one cheap all-ranks check that the ranks run the same step and that none failed.
#pragma once

#include <cstdint>
#include <string>

#include "dualpipe/runtime/process_group.h"

namespace dualpipe::runtime {

// What one rank brings to a check.
struct RankReport {
  uint64_t fingerprint = 0;  // hash of what must be equal on every rank (schedule, options, ...)
  std::string description;   // human-readable form of what the fingerprint covers
  std::string failure;       // empty, or why this rank cannot go on (one line)
  bool changed = false;      // e.g. this rank's input shapes differ from the previous step's
};

// The common outcome, identical on every rank.
struct Agreement {
  std::string error;         // empty when all fingerprints are equal and no rank failed
  bool any_changed = false;  // some rank reported changed
};

// Every rank of `group` calls this with its report under the same `key` (unique per check, e.g.
// "step7/start"). Costs one small all-reduce on the Gloo control group; only when something is
// wrong do ranks exchange their descriptions and failures through the store, so that `error`
// names each rank that failed or disagrees, e.g. "rank 1: micro-batches: 8 (rank 0: 10)".
Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report);

// 64-bit FNV-1a hash of `text`, reduced to 62 bits (a fingerprint helper).
uint64_t fingerprint_of(const std::string& text);

}  // namespace dualpipe::runtime
