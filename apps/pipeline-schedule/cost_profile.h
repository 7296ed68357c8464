// Cost profiles: the YAML files (profiles/*.yaml) that give the simulator its durations.
#pragma once

#include <string>

#include "dualpipe/schedule/cost_model.h"

namespace dualpipe::apps {

// The largest duration a profile or a --cost-* flag may give, in time units: no sum of durations
// over a schedule of the largest allowed size (with slowdowns up to 1e6) can then overflow.
inline constexpr double kLargestDuration = 1e15;

// Parses a cost profile:
//   name: text                      (optional, ignored by the simulator)
//   time_unit: ms                   (optional, default "units")
//   stage: {forward: F, backward: B, weight: W, overlapped: FB}
//   stages: [{forward: ..., ...}, ...]         (optional, one entry per stage)
//   p2p: {latency: L, bandwidth: BYTES_PER_UNIT, message_bytes: BYTES}   (optional)
//   rank_slowdown: [1.0, 1.25, ...]            (optional, one factor per rank)
// `stage` needs forward and backward; weight defaults to 0 and overlapped to forward + backward.
// A `stages` entry takes missing fields from `stage`, except that a missing overlapped is the
// entry's forward + backward times the overlap ratio of `stage`. Unknown keys are errors.
// Throws std::invalid_argument "SOURCE:LINE:COLUMN: what was expected" for malformed YAML, wrong
// types, unknown keys, negative or non-finite numbers, durations above kLargestDuration (also a
// message's latency + message_bytes / bandwidth), slowdowns above 1e6, a time_unit longer than 32
// characters, or costs check_cost_model() rejects.
schedule::CostModel parse_cost_profile(const std::string& yaml_text, const std::string& source);

}  // namespace dualpipe::apps
