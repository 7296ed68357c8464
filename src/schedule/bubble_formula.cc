#include "dualpipe/schedule/bubble_formula.h"

namespace dualpipe::schedule {

std::optional<double> published_bubble(const std::string& name, int num_stages,
                                       const StageCosts& costs, int virtual_stages) {
  const double pp = num_stages;
  const double f = costs.forward;
  const double b = costs.backward;
  const double w = costs.weight;
  if (name == "1f1b" || name == "gpipe") return (pp - 1) * (f + b);
  if (name == "interleaved-1f1b") return (pp / virtual_stages - 1) * (f + b);
  if (name == "zb1p") return (pp - 1) * (f + b - 2 * w);
  if (name == "dualpipe" || name == "dualpipev")
    return (pp / 2 - 1) * (costs.overlapped + b - 3 * w);
  return std::nullopt;
}

std::string published_bubble_formula(const std::string& name) {
  if (name == "1f1b" || name == "gpipe") return "(PP-1)(F+B)";
  if (name == "interleaved-1f1b") return "(PP/V-1)(F+B)";
  if (name == "zb1p") return "(PP-1)(F+B-2W)";
  if (name == "dualpipe" || name == "dualpipev") return "(PP/2-1)(F&B+B-3W)";
  return "";
}

}  // namespace dualpipe::schedule
