#include "dualpipe/eplb/plan_parameters.h"

#include <stdexcept>
#include <string>

namespace dualpipe::eplb {
namespace {

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

std::string str(int value) { return std::to_string(value); }

}  // namespace

void validate_parameters(const PlanParameters& p, int num_experts) {
  require(num_experts > 0, "the loads have no experts");
  require(p.replicas > 0, "--replicas must be positive (got " + str(p.replicas) + ")");
  require(p.groups > 0, "--groups must be positive (got " + str(p.groups) + ")");
  require(p.nodes > 0, "--nodes must be positive (got " + str(p.nodes) + ")");
  require(p.gpus > 0, "--gpus must be positive (got " + str(p.gpus) + ")");
  require(num_experts % p.groups == 0, "--groups (" + str(p.groups) + ") must divide the " +
                                           str(num_experts) + " experts");
  require(p.gpus % p.nodes == 0,
          "--gpus (" + str(p.gpus) + ") must be a multiple of --nodes (" + str(p.nodes) + ")");
  require(p.replicas % p.gpus == 0,
          "--replicas (" + str(p.replicas) + ") must be a multiple of --gpus (" + str(p.gpus) + ")");
  require(p.replicas >= num_experts, "--replicas (" + str(p.replicas) +
                                         ") must be at least the number of experts (" +
                                         str(num_experts) + ")");
}

bool deepseek_is_hierarchical(const PlanParameters& p) { return p.groups % p.nodes == 0; }

bool keeps_groups_on_nodes(const PlanParameters& p) {
  return p.nodes > 1 && p.groups % p.nodes == 0;
}

}  // namespace dualpipe::eplb
