// Rank agreement: cheap all-ranks exchanges through the group's store (no GPU, no Gloo): that the
// ranks run the same step and that none failed, or any small piece of text (timings, barriers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dualpipe/runtime/process_group.h"

namespace dualpipe::runtime {

// Every rank of `group` calls this with the same `key` (unique per exchange, e.g. "step7/start")
// and its own `text`; returns every rank's text, by rank. Acts as a barrier. Costs each rank one
// set (no reply), size - 1 gets (a wait and a read each) and one delete: 2 * size - 1 round trips
// to the store; waits at most the store's timeout. Keys are deleted two exchanges later, when
// every rank has read them.
std::vector<std::string> all_gather_text(const PipelineGroup& group, const std::string& key,
                                         const std::string& text);

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

// One all_gather_text of the reports. `error` names each rank that failed, or (when none failed)
// which ranks run which step, e.g. "ranks disagree on the step: ranks 0,1 run ...; rank 2 runs
// ...".
Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report);

// 64-bit FNV-1a hash of `text`, reduced to 62 bits (a fingerprint helper).
uint64_t fingerprint_of(const std::string& text);

}  // namespace dualpipe::runtime
