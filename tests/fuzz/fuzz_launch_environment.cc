// Fuzz target: the torchrun environment reader. Each line "NAME=value" sets one variable (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*); the reader must return an
// environment whose rank lies inside the world and whose port is a TCP port, or throw
// std::invalid_argument.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dualpipe/runtime/launch_environment.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                           "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"}) {
    unsetenv(name);
  }
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos && equals > 0 && line.find('\0') == std::string::npos) {
      setenv(line.substr(0, equals).c_str(), line.substr(equals + 1).c_str(), 1);
    }
    start = end + 1;
  }
  try {
    const dualpipe::runtime::LaunchEnvironment env = dualpipe::runtime::read_launch_environment();
    if (env.rank < 0 || env.rank >= env.world_size || env.master_port < 1 ||
        env.master_port > 65535 || env.world_size > (1 << 20)) {
      std::abort();
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
