#include "dualpipe/eplb/plan_problem.h"

#include <unistd.h>

#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

namespace {

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

std::string gigabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return text;
}

}  // namespace

std::uint64_t plan_memory_bytes(int num_layers, int num_experts, const PlanParameters& p) {
  const auto replicas = static_cast<std::uint64_t>(p.replicas);
  return 16 * static_cast<std::uint64_t>(num_layers) * replicas +
         128 * (replicas + static_cast<std::uint64_t>(num_experts));
}

PlanProblem make_plan_problem(LoadMatrix loads, const PlanParameters& parameters) {
  validate_loads(loads);
  const int layers = static_cast<int>(loads.rows()), experts = static_cast<int>(loads.cols());
  validate_parameters(parameters, experts);
  const std::uint64_t needed = plan_memory_bytes(layers, experts, parameters);
  const std::uint64_t available = physical_memory_bytes();
  if (needed > available) {
    throw std::invalid_argument("--replicas (" + std::to_string(parameters.replicas) + ") for " +
                                std::to_string(layers) + " layers needs about " +
                                gigabytes(needed) + " of memory to plan; this machine has " +
                                gigabytes(available));
  }
  return PlanProblem(std::move(loads), parameters);
}

}  // namespace dualpipe::eplb
