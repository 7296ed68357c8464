#include "dualpipe/eplb/aggregation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace dualpipe::eplb {
namespace {

const char* const kForms = "expected sum, mean, window:K (K >= 1) or ema:ALPHA (0 < ALPHA <= 1)";

// The number after "name:" in `text`, or throws.
double parse_argument(const std::string& text, std::size_t colon) {
  const std::string argument = text.substr(colon + 1);
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(argument, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (argument.empty() || used != argument.size() || !std::isfinite(value)) {
    throw std::invalid_argument("--aggregate '" + text + "': " + kForms);
  }
  return value;
}

// The steps [begin, end) of `num_steps` that `aggregation` combines up to end_step (all if < 0).
std::pair<int, int> aggregated_steps(int num_steps, const Aggregation& aggregation, int end_step) {
  const int end = end_step < 0 ? num_steps : std::min(end_step, num_steps);
  if (end <= 0) throw std::invalid_argument("no load steps to aggregate");
  const int begin =
      aggregation.kind == Aggregation::Kind::kWindow ? std::max(0, end - aggregation.window) : 0;
  return {begin, end};
}

}  // namespace

Aggregation parse_aggregation(const std::string& text) {
  Aggregation result;
  if (text == "sum") return result;
  if (text == "mean") {
    result.kind = Aggregation::Kind::kMean;
    return result;
  }
  const std::size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  if (colon != std::string::npos && name == "window") {
    const double window = parse_argument(text, colon);
    if (window >= 1 && window == std::floor(window) && window <= std::numeric_limits<int>::max()) {
      result.kind = Aggregation::Kind::kWindow;
      result.window = static_cast<int>(window);
      return result;
    }
  } else if (colon != std::string::npos && name == "ema") {
    const double alpha = parse_argument(text, colon);
    if (alpha > 0.0 && alpha <= 1.0) {
      result.kind = Aggregation::Kind::kEma;
      result.alpha = alpha;
      return result;
    }
  }
  throw std::invalid_argument("--aggregate '" + text + "': " + kForms);
}

std::string to_string(const Aggregation& aggregation) {
  switch (aggregation.kind) {
    case Aggregation::Kind::kSum: return "sum";
    case Aggregation::Kind::kMean: return "mean";
    case Aggregation::Kind::kWindow: return "window:" + std::to_string(aggregation.window);
    case Aggregation::Kind::kEma: {
      std::ostringstream out;
      out << "ema:" << aggregation.alpha;
      return out.str();
    }
  }
  return "sum";
}

LoadMatrix aggregate(const LoadSeries& series, const Aggregation& aggregation, int end_step) {
  const auto [begin, end] =
      aggregated_steps(static_cast<int>(series.size()), aggregation, end_step);
  // Every kind aggregates a single step to itself, exactly.
  if (end - begin == 1) return series[begin];
  Eigen::MatrixXd combined = Eigen::MatrixXd::Zero(series[0].rows(), series[0].cols());
  for (int step = begin; step < end; ++step) {
    const Eigen::MatrixXd loads = series[step].cast<double>();
    if (aggregation.kind == Aggregation::Kind::kEma) {
      combined = step == 0 ? loads : aggregation.alpha * loads + (1.0 - aggregation.alpha) * combined;
    } else {
      combined += loads;
    }
  }
  if (aggregation.kind == Aggregation::Kind::kMean || aggregation.kind == Aggregation::Kind::kWindow) {
    combined /= static_cast<double>(end - begin);
  }
  if (combined.maxCoeff() > std::numeric_limits<float>::max()) {
    throw std::invalid_argument("aggregated loads exceed the float32 range");
  }
  return combined.cast<float>();
}

LoadMatrix aggregate(LoadSeries&& series, const Aggregation& aggregation, int end_step) {
  const auto [begin, end] =
      aggregated_steps(static_cast<int>(series.size()), aggregation, end_step);
  if (end - begin == 1) return std::move(series[begin]);
  return aggregate(static_cast<const LoadSeries&>(series), aggregation, end_step);
}

}  // namespace dualpipe::eplb
