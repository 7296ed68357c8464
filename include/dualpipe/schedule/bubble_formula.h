// Published bubble formulas of the pipeline schedules, to compare the simulator against.
#pragma once

#include <optional>
#include <string>

#include "dualpipe/schedule/cost_model.h"

namespace dualpipe::schedule {

// The per-device bubble the literature gives for schedule `name` with `num_stages` pipeline stages
// (PP) and stage costs F, B, W, F&B from `costs` (B is the full backward), in the costs' time unit:
// "1f1b" and "gpipe" (PP-1)(F+B); "interleaved-1f1b" (PP/V-1)(F+B) with V = `virtual_stages`
// (Megatron-LM's (P-1)(F+B) for P ranks, here per virtual stage); "zb1p" (PP-1)(F+B-2W);
// "dualpipe" and "dualpipev" (PP/2-1)(F&B+B-3W) (DualPipe's README). Nullopt for other names.
std::optional<double> published_bubble(const std::string& name, int num_stages,
                                       const StageCosts& costs, int virtual_stages = 1);

// The formula itself as text, e.g. "(PP/2-1)(F&B+B-3W)"; empty for names without one.
std::string published_bubble_formula(const std::string& name);

}  // namespace dualpipe::schedule
