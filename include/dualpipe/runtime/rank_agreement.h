// Rank agreement: cheap all-ranks exchanges through a store (no GPU, no Gloo): that the ranks run
// the same step or share the same settings and that none failed, or any small piece of text
// (timings, barriers).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dualpipe/runtime/process_group.h"

namespace dualpipe::runtime {

// The ranks that exchange text through one store: this rank of `size`, and how long the wait for
// another rank's text may take. A PipelineGroup gives one (exchange_of); a tool can make one
// from connect_store() before any communicator exists.
struct StoreExchange {
  c10::intrusive_ptr<c10d::Store> store;
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
  // Keys this rank wrote in its latest exchanges, deleted once every rank has read them.
  std::shared_ptr<std::deque<std::string>> written_keys =
      std::make_shared<std::deque<std::string>>();
};

// The exchange over `group`'s store, ranks and timeout.
StoreExchange exchange_of(const PipelineGroup& group);

// Every rank calls this with the same `key` (unique per exchange, e.g. "step7/start") and its own
// `text`; returns every rank's text, by rank. Acts as a barrier. Costs each rank one set (no
// reply), size - 1 waits and gets and one delete; each wait takes at most the timeout, then
// throws std::runtime_error "rank 0: rank 1 did not reach 'step7/start' within 10 s (it failed,
// exited or is slower)". Keys are deleted two exchanges later, when every rank has read them.
std::vector<std::string> all_gather_text(const StoreExchange& exchange, const std::string& key,
                                         const std::string& text);
std::vector<std::string> all_gather_text(const PipelineGroup& group, const std::string& key,
                                         const std::string& text);

// A rank's last use of the store, after its last exchange: every rank but rank 0 (which hosts the
// store when torchrun's agent does not) marks itself done, and rank 0 waits until all have, at
// most the timeout, so that no rank loses the store in the middle of its last read. Never throws.
void leave_store(const StoreExchange& exchange) noexcept;

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

// One all_gather_text of the reports. `error` names each rank that failed (or gives the reason
// alone when every rank failed alike), or (when none failed) which ranks run which step, e.g.
// "ranks disagree on the step: ranks 0,1 run ...; rank 2 runs ...".
Agreement agree(const StoreExchange& exchange, const std::string& key, const RankReport& report);
Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report);

// Named values that every rank must share, e.g. every flag of a tool: {"--steps", "10"}, ...
using Settings = std::vector<std::pair<std::string, std::string>>;

// One all_gather_text of every rank's settings and failure ("" when none). Returns "" when no
// rank failed and all settings are equal; else one line, identical on every rank: the failures
// (as agree() names them), or the settings that differ, e.g. "ranks disagree on --steps (rank 0:
// 2; rank 1: 3)".
std::string agree_on_settings(const StoreExchange& exchange, const std::string& key,
                              const Settings& settings, const std::string& failure);

// 64-bit FNV-1a hash of `text`, reduced to 62 bits (a fingerprint helper).
uint64_t fingerprint_of(const std::string& text);

}  // namespace dualpipe::runtime
