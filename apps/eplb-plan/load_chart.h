// The --svg of eplb-plan: per-GPU load before and after the plan.
#pragma once

#include <string>
#include <vector>

namespace dualpipe::apps {

// An SVG bar chart: for each GPU, its load summed over layers before (grey) and after (blue), with
// the mean GPU load as a line. Both vectors have one entry per GPU.
std::string gpu_load_chart(const std::vector<double>& before, const std::vector<double>& after,
                           const std::string& before_name);

}  // namespace dualpipe::apps
