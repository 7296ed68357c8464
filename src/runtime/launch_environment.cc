#include "dualpipe/runtime/launch_environment.h"

#include <cerrno>
#include <cstdlib>
#include <numeric>
#include <stdexcept>

namespace dualpipe::runtime {
namespace {

// The integer in variable `name` (from min_value to max_value), or `fallback` when it is unset.
int read_int(const char* name, int fallback, int min_value, int max_value = 1'000'000'000) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || errno != 0 || value < min_value || value > max_value) {
    const std::string shown = std::string(text).substr(0, 40);
    throw std::invalid_argument(std::string("environment variable ") + name + "='" + shown +
                                "' is not an integer from " + std::to_string(min_value) + " to " +
                                std::to_string(max_value));
  }
  return static_cast<int>(value);
}

}  // namespace

std::vector<int> LaunchEnvironment::all_ranks() const {
  std::vector<int> ranks(static_cast<std::size_t>(world_size));
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

std::string LaunchEnvironment::store_address() const {
  return master_addr + ":" + std::to_string(master_port);
}

LaunchEnvironment read_launch_environment() {
  LaunchEnvironment env;
  env.rank = read_int("RANK", 0, 0);
  env.world_size = read_int("WORLD_SIZE", 1, 1, 1 << 20);
  env.local_rank = read_int("LOCAL_RANK", env.rank, 0);
  env.master_port = read_int("MASTER_PORT", 29500, 1, 65535);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    env.master_addr = addr;
  }
  if (const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); agent != nullptr) {
    env.use_agent_store = std::string(agent) == "True" || std::string(agent) == "1";
  }
  env.restart_count = read_int("TORCHELASTIC_RESTART_COUNT", 0, 0);
  if (env.rank >= env.world_size) {
    throw std::invalid_argument("RANK=" + std::to_string(env.rank) +
                                " is not below WORLD_SIZE=" + std::to_string(env.world_size));
  }
  return env;
}

}  // namespace dualpipe::runtime
